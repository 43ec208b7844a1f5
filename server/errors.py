"""The one error type handlers raise; the middleware turns it into the JSON error body."""

from __future__ import annotations

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
