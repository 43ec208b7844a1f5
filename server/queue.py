"""The waiting room: who is waiting, in what order, and how long they may wait."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.config import DeskConfig
from server.store import QueueEntry, Store
from server.validation import iso, today_bounds

logger = logging.getLogger(__name__)


@dataclass
class QueueView:
    waiting: list[QueueEntry]
    appointments: list[QueueEntry]
    now: datetime
    mean_session_s: int

    def position(self, req_id: str) -> int | None:
        if not hasattr(self, "_index"):
            self._index = {req.id: i + 1 for i, req in enumerate(self.waiting)}
        return self._index.get(req_id)

    def estimate(self, position: int, operators_online: int) -> int:
        return int(position * self.mean_session_s / max(1, operators_online))


_mean_cache: dict[int, tuple[float, int]] = {}
MEAN_CACHE_S = 30.0


def _mean_session(store: Store, config: DeskConfig) -> int:
    """Mean call duration, recomputed at most every 30 s (it moves slowly)."""
    now = time.monotonic()
    cached = _mean_cache.get(id(store))
    if cached is not None and now - cached[0] < MEAN_CACHE_S:
        return cached[1]
    value = store.mean_session_seconds(config.default_session_s)
    _mean_cache[id(store)] = (now, value)
    return value


def snapshot(store: Store, config: DeskConfig) -> QueueView:
    now = config.clock.now()
    start, end = today_bounds(now)
    return QueueView(waiting=store.waiting(now, config.appointment_grace),
                     appointments=store.appointments_between(start, end), now=now,
                     mean_session_s=_mean_session(store, config))


def waiting_item(req: QueueEntry, now: datetime, online: bool) -> dict[str, Any]:
    since = req.waiting_since or now
    return {"request_id": req.id, "product": req.product, "waiting_since": iso(since),
            "wait_seconds": max(0, int((now - since).total_seconds())),
            "appointment_at": iso(req.appointment_at), "online": online}


def appointment_item(req: QueueEntry) -> dict[str, Any]:
    return {"request_id": req.id, "product": req.product,
            "appointment_at": iso(req.appointment_at), "state": req.state,
            "booking_code": req.booking_code}


def as_json(view: QueueView, online: set[str]) -> dict[str, Any]:
    return {
        "length": len(view.waiting),
        "waiting": [waiting_item(r, view.now, r.id in online) for r in view.waiting],
        "appointments_today": [appointment_item(r) for r in view.appointments],
    }
