"""The supervisor's review desk (no Qt here): requests by state and the sealed evidence packages.

What a supervisor (or an admin) lands on after sign-in (:mod:`console.workspaces`): the
requests waiting for a second look (suspended ones first), the sessions in progress, and the
evidence packages stored on a day, each opened from the desk service. Every call blocks: the
window runs them on worker threads. What a role may read is the desk service's decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from console.errors import ProtocolError
from console.models import RecognitionRequest, RequestState

#: the states a supervisor looks at, the ones that need a person first
REVIEW_STATES: tuple[RequestState, ...] = (
    RequestState.SUSPENDED, RequestState.IN_CALL, RequestState.WAITING,
    RequestState.REJECTED, RequestState.APPROVED,
)


class Api(Protocol):
    def call(self, method: str, path: str, *,
             params: Mapping[str, str] | None = None) -> tuple[int, Any]: ...


@dataclass(frozen=True)
class PackageRow:
    """One stored evidence package, as the desk lists it."""

    package_id: str
    request_id: str
    product: str
    operator: str
    stored_at: str
    size: int

    @classmethod
    def from_json(cls, data: object) -> PackageRow:
        if not isinstance(data, Mapping):
            raise ProtocolError("evidence package: not an object")
        pid, rid = data.get("package_id"), data.get("request_id")
        size = data.get("size")
        if not isinstance(pid, str) or not isinstance(rid, str):
            raise ProtocolError("evidence package: no id")
        if isinstance(size, bool) or not isinstance(size, int):
            raise ProtocolError("evidence package: size is not a number")
        return cls(package_id=pid, request_id=rid, product=str(data.get("product") or ""),
                   operator=str(data.get("operator") or ""),
                   stored_at=str(data.get("stored_at") or ""), size=size)


class ReviewDesk:
    """Reads for the review window over a signed-in ``DeskClient``."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def requests_in(self, state: RequestState) -> list[RecognitionRequest]:
        _, data = self.api.call("GET", "/requests", params={"state": state.value})
        rows = data.get("requests") if isinstance(data, Mapping) else None
        if not isinstance(rows, list):
            raise ProtocolError("requests by state: no list")
        return [RecognitionRequest.from_json(r) for r in rows]

    def request(self, request_id: str) -> dict[str, Any]:
        """The request with its history and decision (the desk's JSON, for display)."""
        _, data = self.api.call("GET", f"/requests/{request_id}")
        if not isinstance(data, Mapping):
            raise ProtocolError("request: not an object")
        return dict(data)

    def packages_on(self, day: date) -> list[PackageRow]:
        _, data = self.api.call("GET", "/evidence", params={
            "date_from": day.isoformat(), "date_to": day.isoformat()})
        rows = data.get("packages") if isinstance(data, Mapping) else None
        if not isinstance(rows, list):
            raise ProtocolError("evidence search: no list")
        return [PackageRow.from_json(r) for r in rows]
