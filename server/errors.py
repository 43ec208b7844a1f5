"""The one error type handlers raise; the middleware turns it into the JSON error body."""

from __future__ import annotations

import errno
import sqlite3
from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str = "",
                 fields: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message or code.replace("_", " ")
        self.fields = fields
        self.extra = extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.fields:
            out["fields"] = self.fields
        out.update(self.extra)
        return out


def not_found(what: str = "not_found") -> ApiError:
    return ApiError(404, what, "not found")


def conflict(code: str, message: str = "", **extra: Any) -> ApiError:
    return ApiError(409, code, message, **extra)


# --- storage that refuses writes -------------------------------------------------------------

#: errno values of a write refused for lack of room (a full disk, a user's quota)
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: errno values of a write refused by a file system mounted read-only
READ_ONLY_ERRNOS = frozenset({errno.EROFS})
#: the two codes of a 507 answer
STORAGE_CODES = ("insufficient_storage", "read_only_storage")
#: seconds the client is asked to wait before it sends again (``Retry-After``)
STORAGE_RETRY_AFTER = 30
_SQLITE_READONLY, _SQLITE_FULL = 8, 13  # primary result codes (sqlite3.h)
_MESSAGES = {
    "insufficient_storage": "the desk service's disk is full: nothing was stored, send it "
                            "again later",
    "read_only_storage": "the desk service's storage is read-only: nothing was stored, send "
                         "it again later",
}


def storage_refusal(code: str, **extra: Any) -> ApiError:
    """507 ``insufficient_storage`` or ``read_only_storage``: the write was refused and nothing
    of it was kept (``extra``: e.g. ``received``, what is durably stored of an upload)."""
    extra.setdefault("retry_after", STORAGE_RETRY_AFTER)
    return ApiError(507, code, _MESSAGES[code], **extra)


def storage_code(exc: BaseException) -> str | None:
    """``insufficient_storage`` / ``read_only_storage`` when ``exc`` (or what it wraps:
    SQLAlchemy's ``orig``, ``__cause__``) is a write refused by a full or read-only disk:
    ``OSError`` ENOSPC/EDQUOT/EROFS, SQLite's SQLITE_FULL/SQLITE_READONLY. Else None."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError):
            if cur.errno in FULL_ERRNOS:
                return "insufficient_storage"
            if cur.errno in READ_ONLY_ERRNOS:
                return "read_only_storage"
        if isinstance(cur, sqlite3.Error):
            primary = (getattr(cur, "sqlite_errorcode", None) or 0) & 0xFF
            text = str(cur).lower()
            if primary == _SQLITE_FULL or "database or disk is full" in text:
                return "insufficient_storage"
            if primary == _SQLITE_READONLY or "readonly database" in text:
                return "read_only_storage"
        orig = getattr(cur, "orig", None)
        cur = orig if isinstance(orig, BaseException) else cur.__cause__
    return None


def storage_error(exc: BaseException, **extra: Any) -> ApiError | None:
    """The 507 for ``exc`` when it is a write refused by the disk (:func:`storage_code`)."""
    code = storage_code(exc)
    return None if code is None else storage_refusal(code, **extra)
