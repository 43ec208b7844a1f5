"""The ``challenge`` message of the control data channel (active liveness, docs/PROTOCOL.md).

console → applicant::

    {"type": "challenge", "id": "<uuid4>", "code": "turn_left", "seconds": 4.0,
     "index": 1, "count": 3}

The page shows the challenge's text with a countdown of ``seconds`` and answers
``{"type": "challenge_ack", "id": ...}`` when it is on screen, or ``{"type": "challenge_error",
"id": ... | null, "reason": "invalid_id" | "invalid_code" | "invalid_seconds" | "invalid_index"}``
when the message is not valid (and shows nothing). The console validates before sending: a bad
challenge raises :class:`ChallengeMessageError` (a ValueError) naming the field.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Any

CHALLENGE_CODES: frozenset[str] = frozenset(
    {"turn_left", "turn_right", "look_up", "blink", "move_closer"})
MIN_SECONDS = 1.0
MAX_SECONDS = 30.0
MAX_COUNT = 10
#: the reasons a page gives in ``challenge_error`` (server/static/js/challenge.js)
PAGE_REFUSALS: frozenset[str] = frozenset(
    {"invalid_id", "invalid_code", "invalid_seconds", "invalid_index"})
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class ChallengeMessageError(ValueError):
    """A challenge message is not valid; ``reason`` is the code the page would answer."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def challenge_message(code: str, seconds: float, challenge_id: str | None = None,
                      index: int = 1, count: int = 1) -> dict[str, Any]:
    """A valid challenge message, or ChallengeMessageError."""
    msg = {"type": "challenge", "id": challenge_id or str(uuid.uuid4()), "code": code,
           "seconds": seconds, "index": index, "count": count}
    return parse_challenge_message(msg)


def parse_challenge_message(msg: dict[str, Any]) -> dict[str, Any]:
    """The challenge's fields, normalised, or ChallengeMessageError (what the receiving side
    checks: the synthetic applicant uses it; the page has the same rules in call.js)."""
    cid = msg.get("id")
    if not isinstance(cid, str) or not _UUID_RE.match(cid):
        raise ChallengeMessageError("invalid_id", "id must be a lowercase UUID string")
    code = msg.get("code")
    if not isinstance(code, str) or code not in CHALLENGE_CODES:
        raise ChallengeMessageError(
            "invalid_code", f"code must be one of {', '.join(sorted(CHALLENGE_CODES))}")
    seconds = msg.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) \
            or not math.isfinite(seconds) or not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise ChallengeMessageError(
            "invalid_seconds", f"seconds must be a number from {MIN_SECONDS:g} to {MAX_SECONDS:g}")
    index, count = msg.get("index", 1), msg.get("count", 1)
    if any(isinstance(x, bool) or not isinstance(x, int) for x in (index, count)) \
            or not 1 <= count <= MAX_COUNT or not 1 <= index <= count:
        raise ChallengeMessageError(
            "invalid_index", f"index/count must be 1 <= index <= count <= {MAX_COUNT}")
    return {"type": "challenge", "id": cid, "code": code, "seconds": float(seconds),
            "index": index, "count": count}
