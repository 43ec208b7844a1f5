"""The desk service's log lines: plain text for a terminal, JSON lines for a log pipeline.

Every line written while a request is handled carries that request's id (``request_id``): the
``X-Request-Id`` the load balancer sent when it is a sane token (nginx: ``$request_id``), else a
fresh one; the response sends it back in ``X-Request-Id``, so one request can be followed from
the proxy's log through every instance's. Store calls made in the store's threads keep it
(``Store.call`` copies the context).

What goes into a message is the caller's business and the rule holds everywhere: no personal
data, no codes, no tokens (route templates, ids and error codes only). The JSON formatter adds
nothing from the request but its id.

``recognition-desk --log-format json`` (or ``RECOGNITION_DESK_LOG_FORMAT=json``) turns JSON on.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

#: the id of the request being handled in this task (None outside a request)
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
HEADER = "X-Request-Id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def request_id_for(incoming: str | None) -> str:
    """The proxy's id when it is a plain token of 8–64 characters, else a new one (a client
    cannot put text of its choosing into the log through it)."""
    if incoming is not None and _SANE.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) for both formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ms), level, logger, message, request_id (when in a
    request), exception (type and traceback text, when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid and rid != "-":
            out["request_id"] = rid
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """The root logger on stderr, in ``fmt`` (``text`` or ``json``), with request ids."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, str(level).upper(), logging.INFO))
