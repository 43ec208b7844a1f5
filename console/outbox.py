"""Durable local outbox: work for the desk service that must not be lost (decisions, later
evidence uploads), kept in SQLite (WAL, synchronous=FULL) under the data dir.

- ``enqueue(kind, payload, idempotency_key)`` returns only after the row is committed to disk;
  enqueuing the same key again returns the existing item (never a second one).
- ``deliver_due()`` hands each due item to the handler registered for its kind. Success marks it
  ``done``; a transient failure (service unreachable, 5xx, 429, 507 the service's disk is full,
  signed out, TLS) schedules a retry with exponential backoff (at least the ``Retry-After`` of a
  429 or 507); a permanent one (validation, conflict, not found) marks it ``failed`` with the
  error code, kept for the operator (``retry_failed``) and never dropped.
- The attempt is committed *before* the handler runs. If the process dies between the send and the
  mark-done, the item is still pending at the next start and is sent again with the same
  idempotency key; the service answers the same result (it is idempotent by ``decision_id``).
- ``OutboxWorker`` runs ``deliver_due`` in one background thread, woken by ``enqueue``.

Logs carry kind, idempotency key and error codes only, never the payload.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from console.errors import (
    TRANSIENT_ERRORS,
    ConsoleError,
    DeskError,
    InsufficientStorage,
    OutboxError,
    ProtocolError,
    RateLimited,
)

log = logging.getLogger(__name__)

OUTBOX_FILENAME = "outbox.sqlite3"
Handler = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    kind: str
    idempotency_key: str
    payload: Mapping[str, Any] = field(repr=False)
    status: OutboxStatus
    attempts: int
    next_attempt_at: float  # epoch seconds
    created_at: float
    updated_at: float
    last_error: str | None
    result: Mapping[str, Any] | None = field(repr=False)

    @property
    def key(self) -> str:
        return self.idempotency_key


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before attempt n+1 = min(maximum, initial · factor^(n-1)), plus up to
    ``jitter`` × that at random (so that many consoles do not retry in step)."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 300.0
    jitter: float = 0.2

    def delay(self, attempts: int) -> float:
        base = min(self.maximum, self.initial * self.factor ** max(0, attempts - 1))
        return base * (1.0 + self.jitter * secrets.SystemRandom().random())


@dataclass(slots=True)
class DeliveryReport:
    delivered: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.delivered) + len(self.retrying) + len(self.failed)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_error TEXT,
    result TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, next_attempt_at);
"""


class Outbox:
    """The outbox file. Thread-safe; one instance per data dir per process."""

    def __init__(
        self,
        path: str | Path,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.backoff = backoff or Backoff()
        self._clock = clock
        self._lock = threading.RLock()
        self._handlers: dict[str, Handler] = {}
        self._in_flight: set[str] = set()
        self._listeners: list[Callable[[OutboxItem], None]] = []
        self._enqueue_hooks: list[Callable[[], None]] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                       timeout=10.0)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"cannot open the outbox at {self.path.name}: {exc}") from None

    @classmethod
    def in_data_dir(cls, data_dir: str | Path, **kwargs: Any) -> Outbox:
        return cls(Path(data_dir) / OUTBOX_FILENAME, **kwargs)

    def close(self) -> None:
        """Idempotent."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- registration --------------------------------------------------------------------

    def handles(self, kind: str) -> bool:
        """A handler is registered for ``kind``."""
        return kind in self._handlers

    def register(self, kind: str, handler: Handler) -> None:
        """The function that delivers items of ``kind``: gets the payload, returns a result
        (stored) or raises a ``DeskError``. Wakes the worker: queued items may now be due."""
        self._handlers[kind] = handler
        for hook in list(self._enqueue_hooks):
            hook()

    def add_listener(self, listener: Callable[[OutboxItem], None]) -> None:
        """Called (from the delivering thread) after an item is delivered or fails for good."""
        self._listeners.append(listener)

    def on_enqueue(self, hook: Callable[[], None]) -> None:
        self._enqueue_hooks.append(hook)

    # --- writing -------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def enqueue(self, kind: str, payload: Mapping[str, Any], idempotency_key: str) -> OutboxItem:
        """Store durably (committed and synced) and return the item. The same key again
        returns the stored item; the same key with a different payload is an error."""
        if not kind or not idempotency_key:
            raise OutboxError("kind and idempotency key are required")
        try:
            text = json.dumps(payload, sort_keys=True, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            raise OutboxError("payload is not JSON-serialisable") from None
        now = self._clock()
        try:
            with self._tx() as db:
                row = db.execute("SELECT * FROM outbox WHERE idempotency_key = ?",
                                 (idempotency_key,)).fetchone()
                if row is None:
                    db.execute(
                        "INSERT INTO outbox (kind, idempotency_key, payload, next_attempt_at,"
                        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (kind, idempotency_key, text, now, now, now),
                    )
                    row = db.execute("SELECT * FROM outbox WHERE idempotency_key = ?",
                                     (idempotency_key,)).fetchone()
                    created = True
                else:
                    created = False
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot write the outbox: {exc}") from None
        item = _item(row)
        if not created and (item.kind != kind or dict(item.payload) != json.loads(text)):
            raise OutboxError("idempotency key already used for different content",
                              code="key_reused")
        if created:
            log.info("outbox: queued %s %s", kind, idempotency_key)
            for hook in list(self._enqueue_hooks):
                hook()
        return item

    def put(self, kind: str, idempotency_key: str, payload: Mapping[str, Any]) -> OutboxItem:
        """``enqueue`` with the key before the payload."""
        return self.enqueue(kind, payload, idempotency_key)

    def flush(self, client: Any = None) -> dict[str, str]:
        """Deliver every pending item now (due or not). With ``client`` (a DeskClient) the
        decision handler is registered first. Returns key → service state for decisions
        delivered in this round."""
        if client is not None:
            self.register(DECISION_KIND, decision_handler(client))
        report = self.deliver_due(include_not_due=True)
        out: dict[str, str] = {}
        for key in report.delivered:
            item = self.get(key)
            if item is not None and item.result is not None and "state" in item.result:
                out[key] = str(item.result["state"])
        return out

    def retry_failed(self, idempotency_key: str) -> OutboxItem:
        """Put a failed item back in the queue (after the operator fixed the cause)."""
        now = self._clock()
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET status='pending', next_attempt_at=?, updated_at=?"
                " WHERE idempotency_key=? AND status='failed'",
                (now, now, idempotency_key),
            )
        item = self.get(idempotency_key)
        if item is None:
            raise OutboxError("no such item", code="not_found")
        for hook in list(self._enqueue_hooks):
            hook()
        return item

    # --- reading -------------------------------------------------------------------------

    def get(self, idempotency_key: str) -> OutboxItem | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM outbox WHERE idempotency_key = ?",
                                   (idempotency_key,)).fetchone()
        return None if row is None else _item(row)

    def items(self, status: OutboxStatus | None = None, kind: str | None = None
              ) -> list[OutboxItem]:
        sql, args = "SELECT * FROM outbox WHERE 1=1", []
        if status is not None:
            sql += " AND status = ?"
            args.append(OutboxStatus(status).value)
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [_item(r) for r in rows]

    def pending(self, kind: str | None = None) -> list[OutboxItem]:
        return self.items(OutboxStatus.PENDING, kind)

    def next_due_in(self) -> float | None:
        """Seconds until the next pending item that has a handler is due (0 if one is due
        now), None if none."""
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, MIN(next_attempt_at) FROM outbox WHERE status='pending'"
                " GROUP BY kind"
            ).fetchall()
        due = [float(r[1]) for r in rows if r[0] in self._handlers]
        if not due:
            return None
        return max(0.0, min(due) - self._clock())

    # --- delivering ----------------------------------------------------------------------

    def deliver_due(self, *, include_not_due: bool = False, limit: int = 50) -> DeliveryReport:
        """Try each due pending item once (oldest first). Never raises for a delivery failure."""
        report = DeliveryReport()
        now = self._clock()
        with self._lock:
            sql = "SELECT * FROM outbox WHERE status='pending'"
            args: list[Any] = []
            if not include_not_due:
                sql += " AND next_attempt_at <= ?"
                args.append(now)
            rows = self._db.execute(sql + " ORDER BY id LIMIT ?", [*args, limit]).fetchall()
            due = [_item(r) for r in rows if r["idempotency_key"] not in self._in_flight]
            self._in_flight.update(i.idempotency_key for i in due)
        try:
            for item in due:
                self._deliver_one(item, report)
        finally:
            with self._lock:
                self._in_flight.difference_update(i.idempotency_key for i in due)
        return report

    def deliver_key(self, idempotency_key: str) -> DeliveryReport:
        """Try this one pending item now (due or not), unless another thread is sending it;
        the rest of the queue is left to the worker. Never raises for a delivery failure."""
        report = DeliveryReport()
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM outbox WHERE status='pending' AND idempotency_key = ?",
                (idempotency_key,)).fetchone()
            if row is None or idempotency_key in self._in_flight:
                return report
            self._in_flight.add(idempotency_key)
        try:
            self._deliver_one(_item(row), report)
        finally:
            with self._lock:
                self._in_flight.discard(idempotency_key)
        return report

    def _deliver_one(self, item: OutboxItem, report: DeliveryReport) -> None:
        handler = self._handlers.get(item.kind)
        if handler is None:
            log.warning("outbox: no handler for kind %s; %s stays queued", item.kind,
                        item.idempotency_key)
            return
        attempts = item.attempts + 1
        # Record the attempt first: if we die during the send, the next start knows.
        with self._tx() as db:
            db.execute("UPDATE outbox SET attempts=?, updated_at=? WHERE id=?",
                       (attempts, self._clock(), item.id))
        try:
            result = handler(item.payload)
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise
            self._after_failure(item, attempts, exc, report)
            return
        try:
            result_text = json.dumps(dict(result or {}), default=str)
        except (TypeError, ValueError):
            result_text = "{}"
        now = self._clock()
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET status='done', result=?, last_error=NULL, updated_at=?"
                " WHERE id=?",
                (result_text, now, item.id),
            )
        log.info("outbox: delivered %s %s (attempt %d)", item.kind, item.idempotency_key,
                 attempts)
        report.delivered.append(item.idempotency_key)
        self._notify(item.idempotency_key)

    def _after_failure(self, item: OutboxItem, attempts: int, exc: Exception,
                       report: DeliveryReport) -> None:
        code = exc.code if isinstance(exc, ConsoleError) else type(exc).__name__
        permanent = isinstance(exc, OutboxError) or (
            isinstance(exc, DeskError) and not isinstance(exc, (*TRANSIENT_ERRORS, ProtocolError))
        )
        now = self._clock()
        if permanent:
            with self._tx() as db:
                db.execute(
                    "UPDATE outbox SET status='failed', last_error=?, updated_at=? WHERE id=?",
                    (code, now, item.id),
                )
            log.warning("outbox: %s %s failed for good (%s)", item.kind, item.idempotency_key,
                        code)
            report.failed.append(item.idempotency_key)
            self._notify(item.idempotency_key)
            return
        if not isinstance(exc, DeskError):
            log.error("outbox: handler for %s raised %s; will retry", item.kind,
                      type(exc).__name__)
        delay = self.backoff.delay(attempts)
        if isinstance(exc, RateLimited | InsufficientStorage) and exc.retry_after:
            delay = max(delay, exc.retry_after)  # a full disk at the service: not every second
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET last_error=?, next_attempt_at=?, updated_at=? WHERE id=?",
                (code, now + delay, now, item.id),
            )
        log.info("outbox: %s %s not delivered (%s), retry in %.1f s", item.kind,
                 item.idempotency_key, code, delay)
        report.retrying.append(item.idempotency_key)

    def _notify(self, key: str) -> None:
        item = self.get(key)
        if item is None:
            return
        for listener in list(self._listeners):
            try:
                listener(item)
            except Exception:
                log.exception("outbox listener failed")


def _item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        kind=row["kind"],
        idempotency_key=row["idempotency_key"],
        payload=json.loads(row["payload"]),
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_error=row["last_error"],
        result=None if row["result"] is None else json.loads(row["result"]),
    )


# --- decisions ------------------------------------------------------------------------------

DECISION_KIND = "decision"


def decision_handler(client: Any) -> Handler:
    """Handler for ``kind='decision'`` payloads (``SessionDecision.to_payload()``) through a
    ``DeskClient``. ``Conflict('already_decided')`` (another decision exists) is permanent."""

    def deliver(payload: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            result = client.decide(
                payload["request_id"],
                payload["decision_id"],
                payload["decision"],
                payload["reason_code"],
                payload.get("note", ""),
            )
        except KeyError as exc:
            raise OutboxError(f"decision payload lacks {exc.args[0]!r}") from None
        return {"state": result.state.value, "decided_at": result.decided_at.isoformat()}

    return deliver


def commit_decision(box: Outbox, record: Any) -> Mapping[str, Any] | None:
    """Commit a decision (``console.session.SessionDecision``) to the outbox, then try to
    deliver it at once. Returns the service's answer (``{"state", "decided_at"}``) when it was
    delivered, None when it stays queued (the worker retries it, same decision_id: never lost,
    never applied twice); raises ``ConsoleError`` when the service refused it for good. The
    remote and the in-person flows both send their decisions through here."""
    box.put(record.OUTBOX_KIND, record.decision_id, record.to_payload())
    box.deliver_key(record.decision_id)  # this decision only: a backlog is the worker's
    item = box.get(record.decision_id)
    if item is None:
        return None
    if item.status is OutboxStatus.FAILED:
        raise ConsoleError("decision refused", code=item.last_error or "outbox_error")
    if item.result and "state" in item.result:
        return item.result
    return None


# --- background worker ----------------------------------------------------------------------


class OutboxWorker:
    """One named daemon thread that delivers due items; ``wake()`` on enqueue (hooked
    automatically). ``stop()`` joins it: stop the worker before closing the outbox.
    ``poll_max`` caps the idle wait (seconds)."""

    def __init__(self, outbox: Outbox, *, poll_max: float = 30.0) -> None:
        self.outbox = outbox
        self.poll_max = poll_max
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        outbox.on_enqueue(self.wake)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            wait: float | None = self.poll_max
            try:
                self.outbox.deliver_due()
                wait = self.outbox.next_due_in()
            except Exception:  # e.g. the outbox was closed before stop(): keep the thread sane
                log.exception("outbox worker: delivery round failed")
            self._wake.wait(self.poll_max if wait is None else min(wait, self.poll_max))
