"""What the desk service must have recorded before it accepts an approval, sent by the console.

The service, not the console, decides whether an approval may stand (server/store.py
``approval_missing``): consent, a verified SMS code of this session, the required captures and the
session's recording, or for an in-person check the card read or document checks and the signed
form. The console tells it what it did, just before the decision, from a worker thread:

* :func:`report_captures` — each still of the session: target and SHA-256 (the image itself
  travels sealed in the evidence package);
* :func:`report_inperson_checks` — the partner's card read, document checks and signed form;
* :func:`report_liveness` — the video session's active liveness check (verdict, challenge
  codes); after one that did not pass, :func:`second_look` is the supervisor's own confirmation
  (four eyes), sent with the supervisor's sign-in;
* the recording, through ``SessionEvidence.upload_recording``;

then :func:`check_approval` asks the service what is still missing, so an approval that would be
refused is never queued in the decision outbox (the operator sees the list and can act on it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from console.errors import ApprovalRefused, ProtocolError

log = logging.getLogger(__name__)


class DeskCalls(Protocol):
    def call(self, method: str, path: str, *, json: Any = ...,
             expected: tuple[int, ...] = ...) -> tuple[int, Any]: ...


def _capture_body(target: str, sha256: str, path: Path | None) -> dict[str, Any]:
    body: dict[str, Any] = {"target": target, "sha256": sha256}
    if path is not None and path.is_file():
        body["size"] = path.stat().st_size
    return body


def report_captures(client: DeskCalls, request_id: str, captures: Iterable[Any]) -> int:
    """POST every capture (``console.session.Capture``) to ``/requests/{id}/captures``."""
    sent = 0
    for cap in captures:
        target = str(getattr(cap.target, "value", cap.target))
        client.call("POST", f"/requests/{request_id}/captures",
                    json=_capture_body(target, str(cap.sha256), Path(str(cap.path))),
                    expected=(201,))
        sent += 1
    log.info("reported %d captures to the desk service", sent)
    return sent


def report_inperson_checks(client: DeskCalls, request_id: str,
                           checks: Iterable[tuple[str, bool, str | None]]) -> int:
    """POST each (check, passed, sha256) to ``/requests/{id}/in-person-checks``."""
    sent = 0
    for check, passed, sha in checks:
        body: dict[str, Any] = {"check": check, "result": "ok" if passed else "failed"}
        if sha:
            body["sha256"] = sha
        client.call("POST", f"/requests/{request_id}/in-person-checks", json=body,
                    expected=(201,))
        sent += 1
    return sent


def report_liveness(client: DeskCalls, request_id: str, report: dict[str, Any] | None) -> bool:
    """The latest liveness check of the session (None: none was run, nothing is sent)."""
    if not report or report.get("verdict") not in ("pass", "fail", "inconclusive"):
        return False
    codes = [str(c.get("code")) for c in report.get("challenges") or [] if c.get("code")]
    body: dict[str, Any] = {"verdict": report["verdict"], "challenges": codes[:5]}
    score = report.get("score")
    if isinstance(score, int | float) and 0.0 <= float(score) <= 1.0:
        body["score"] = round(float(score), 3)
    client.call("POST", f"/requests/{request_id}/liveness", json=body, expected=(201,))
    return True


def second_look(client: DeskCalls, request_id: str, subject: str) -> None:
    """A supervisor's second look (``subject``: ``liveness`` or ``face_mismatch``), sent with
    the supervisor's own client."""
    client.call("POST", f"/requests/{request_id}/second-look", json={"subject": subject},
                expected=(201,))


def check_approval(client: DeskCalls, request_id: str) -> None:
    """Raise :class:`ApprovalRefused` (with ``missing``) unless the service would accept an
    approval of the request's open session now."""
    _status, body = client.call("GET", f"/requests/{request_id}/approval-check")
    if not isinstance(body, dict) or not isinstance(body.get("missing"), list):
        raise ProtocolError("approval-check: unexpected answer")
    missing = [str(m)[:40] for m in body["missing"][:20]]
    if missing:
        log.warning("the desk service would refuse the approval; missing: %s",
                    ", ".join(missing))
        raise ApprovalRefused("approval not ready", missing=missing)
