"""JSON schemas of the WebSocket messages (docs/PROTOCOL.md); every inbound frame is checked."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

SDP_MAX = 64 * 1024

_SDP = {"type": "string", "minLength": 3, "maxLength": SDP_MAX, "pattern": "^v=0\\r?\\n"}
_UUID = {"type": "string", "pattern": "^[0-9a-fA-F-]{36}$"}


def _msg(type_: str, props: dict[str, Any] | None = None,
         required: tuple[str, ...] = ()) -> dict[str, Any]:
    properties = {"type": {"const": type_}, **(props or {})}
    return {"type": "object", "properties": properties, "required": ["type", *required],
            "additionalProperties": False}


APPLICANT_MESSAGES: dict[str, dict[str, Any]] = {
    "consent": _msg("consent", {"recording": {"type": "boolean"}, "terms": {"type": "boolean"}},
                    ("recording", "terms")),
    "answer": _msg("answer", {"sdp": _SDP}, ("sdp",)),
    "hangup": _msg("hangup", {"reason": {"type": "string", "maxLength": 64}}),
    "device_check": _msg("device_check", {
        "ok": {"type": "boolean"},
        "details": {"type": "object", "maxProperties": 32},
    }, ("ok",)),
}

OPERATOR_MESSAGES: dict[str, dict[str, Any]] = {
    "offer": _msg("offer", {"session_id": _UUID, "sdp": _SDP}, ("session_id", "sdp")),
    "hangup": _msg("hangup", {"session_id": _UUID}, ("session_id",)),
    "subscribe_queue": _msg("subscribe_queue"),
}

_ENVELOPE = Draft202012Validator({
    "type": "object",
    "properties": {"type": {"type": "string", "maxLength": 32}},
    "required": ["type"],
})

_VALIDATORS = {
    "applicant": {k: Draft202012Validator(v) for k, v in APPLICANT_MESSAGES.items()},
    "operator": {k: Draft202012Validator(v) for k, v in OPERATOR_MESSAGES.items()},
}


def check(role: str, message: Any) -> str | None:
    """None when ``message`` is valid for ``role``; else a short reason without any values."""
    err = next(iter(_ENVELOPE.iter_errors(message)), None)
    if err is not None:
        return "message must be an object with a string 'type'"
    validator = _VALIDATORS[role].get(message["type"])
    if validator is None:
        return "unknown message type"
    err = next(iter(sorted(validator.iter_errors(message), key=lambda e: list(e.path))), None)
    if err is None:
        return None
    where = "/".join(str(p) for p in err.absolute_path) or "message"
    return f"invalid {where}: {err.validator}"[:120]
