"""The waiting room: who is waiting, in what order, and how long they may wait."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.config import DeskConfig
from server.store import IdRequest, Store
from server.validation import iso, today_bounds

logger = logging.getLogger(__name__)


@dataclass
class QueueView:
    waiting: list[IdRequest]
    appointments: list[IdRequest]
    now: datetime
    mean_session_s: int

    def position(self, req_id: str) -> int | None:
        for i, req in enumerate(self.waiting):
            if req.id == req_id:
                return i + 1
        return None

    def estimate(self, position: int, operators_online: int) -> int:
        return int(position * self.mean_session_s / max(1, operators_online))


def snapshot(store: Store, config: DeskConfig) -> QueueView:
    now = config.clock.now()
    start, end = today_bounds(now)
    return QueueView(waiting=store.waiting(now, config.appointment_grace),
                     appointments=store.appointments_between(start, end), now=now,
                     mean_session_s=store.mean_session_seconds(config.default_session_s))


def waiting_item(req: IdRequest, now: datetime, online: bool) -> dict[str, Any]:
    since = req.waiting_since or now
    return {"request_id": req.id, "product": req.product, "waiting_since": iso(since),
            "wait_seconds": max(0, int((now - since).total_seconds())),
            "appointment_at": iso(req.appointment_at), "online": online}


def appointment_item(req: IdRequest) -> dict[str, Any]:
    return {"request_id": req.id, "product": req.product,
            "appointment_at": iso(req.appointment_at), "state": req.state,
            "booking_code": req.booking_code}


def as_json(view: QueueView, online: set[str]) -> dict[str, Any]:
    return {
        "length": len(view.waiting),
        "waiting": [waiting_item(r, view.now, r.id in online) for r in view.waiting],
        "appointments_today": [appointment_item(r) for r in view.appointments],
    }
