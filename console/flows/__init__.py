"""The console's session core: each kind of work as a plain-Python flow (no Qt).

- ``remote``: the operator's video identification (``RemoteFlow``), with ``checks`` (the
  automated checks beside the operator) and ``adapters`` (the session workflow over
  ``console.session``, the decision outbox, the media engine's glue, the evidence);
- ``inperson``: the partner's in-person check (``InPersonWorkflow``);
- ``tasks``: where a flow's code runs (an owner thread, workers); ``events``: how it reports.

Both flows walk a ``console.session.Session`` over a data-driven script, send decisions through
the durable outbox (``console.outbox``) and write one evidence schema
(``console.evidence.session.evidence_event``). The windows (``ui/``) render a flow's events and
forward clicks through a thin Qt bridge (``ui.controller``); no domain rule lives in ``ui/``.
"""
