"""The demo: a product feature (``recognition-console demo``, the README's first command) and the
training runs' engine, kept apart from the product's packages.

Qt-free parts: ``applicant/`` (the synthetic applicant, a real aiortc peer on the real protocol),
``training_peer`` (a scenario pack played as the applicant), ``virtual_card`` (a vpcd virtual
CNS) with its CLI, ``pcscd`` (finding or starting pcscd with the vpcd driver). Window drivers
(Qt): ``launcher`` (the local desk service, its seed and the console signed in), ``inperson``,
``browser`` (headless Chromium as the applicant), ``autopilot``, ``training_run``.

Layers (import-linter): demo -> ui -> console -> media | cardreader; nothing below imports it.
"""
