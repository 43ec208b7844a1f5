"""Outbox behaviour on its own (the end-to-end tests against a real desk service are in
test_core_outbox_desk.py)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from console.errors import (
    Conflict,
    OutboxError,
    RateLimited,
    ServerError,
    ServerUnreachable,
    ValidationError,
)
from console.outbox import Backoff, Outbox, OutboxItem, OutboxStatus, OutboxWorker


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


class Recorder:
    """A handler that fails with the queued exceptions first, then records the payloads."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.delivered: list[Mapping[str, Any]] = []
        self.calls = 0

    def __call__(self, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(dict(payload))
        return {"state": "ok", "n": len(self.delivered)}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path: Path, clock: Clock) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "data" / "outbox.sqlite3", clock=clock,
                 backoff=Backoff(initial=2, factor=2, maximum=60, jitter=0))
    yield box
    box.close()


def test_enqueue_is_durable_and_survives_reopen(tmp_path: Path, outbox: Outbox) -> None:
    item = outbox.enqueue("decision", {"request_id": "r1", "note": "è ok"}, "key-1")
    assert item.status is OutboxStatus.PENDING and item.attempts == 0
    # another connection (another process would see the same) reads it at once
    with sqlite3.connect(outbox.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT kind, idempotency_key FROM outbox").fetchall() == [
            ("decision", "key-1")]
    outbox.close()
    reopened = Outbox(outbox.path)
    try:
        again = reopened.get("key-1")
        assert again is not None and again.payload == {"request_id": "r1", "note": "è ok"}
        assert [i.key for i in reopened.pending()] == ["key-1"]
    finally:
        reopened.close()


def test_same_key_is_never_queued_twice(outbox: Outbox) -> None:
    first = outbox.enqueue("decision", {"a": 1}, "k")
    second = outbox.put("decision", "k", {"a": 1})
    assert first.id == second.id
    assert len(outbox.items()) == 1
    with pytest.raises(OutboxError) as info:
        outbox.enqueue("decision", {"a": 2}, "k")
    assert info.value.code == "key_reused"
    with pytest.raises(OutboxError):
        outbox.enqueue("decision", {"bad": object()}, "k2")
    with pytest.raises(OutboxError):
        outbox.enqueue("", {}, "k3")


def test_delivery_retries_with_backoff(outbox: Outbox, clock: Clock) -> None:
    handler = Recorder(ServerUnreachable("down"), ServerError("503", status=503))
    outbox.register("decision", handler)
    delivered: list[OutboxItem] = []
    outbox.add_listener(delivered.append)
    outbox.enqueue("decision", {"n": 1}, "k")

    report = outbox.deliver_due()
    assert report.retrying == ["k"]
    item = outbox.get("k")
    assert item is not None and item.attempts == 1 and item.last_error == "server_unreachable"
    assert item.next_attempt_at == clock.t + 2
    assert outbox.next_due_in() == 2
    assert outbox.deliver_due().attempted == 0  # not due yet

    clock.t += 2
    assert outbox.deliver_due().retrying == ["k"]
    item = outbox.get("k")
    assert item is not None and item.attempts == 2 and item.next_attempt_at == clock.t + 4

    clock.t += 4
    assert outbox.deliver_due().delivered == ["k"]
    item = outbox.get("k")
    assert item is not None and item.status is OutboxStatus.DONE
    assert item.result == {"state": "ok", "n": 1} and item.last_error is None
    assert handler.delivered == [{"n": 1}] and handler.calls == 3
    assert [i.status for i in delivered] == [OutboxStatus.DONE]
    assert outbox.next_due_in() is None
    clock.t += 1000
    assert outbox.deliver_due().attempted == 0  # done items are never sent again


def test_rate_limit_waits_at_least_retry_after(outbox: Outbox, clock: Clock) -> None:
    outbox.register("decision", Recorder(RateLimited("slow down", retry_after=30)))
    outbox.enqueue("decision", {}, "k")
    outbox.deliver_due()
    item = outbox.get("k")
    assert item is not None and item.next_attempt_at == clock.t + 30


def test_permanent_failure_is_kept_not_dropped(outbox: Outbox, clock: Clock) -> None:
    handler = Recorder(Conflict("x", code="already_decided", status=409))
    outbox.register("decision", handler)
    outbox.enqueue("decision", {"n": 1}, "k")
    assert outbox.deliver_due().failed == ["k"]
    item = outbox.get("k")
    assert item is not None and item.status is OutboxStatus.FAILED
    assert item.last_error == "already_decided"
    clock.t += 10_000
    assert outbox.deliver_due().attempted == 0
    outbox.retry_failed("k")
    assert outbox.deliver_due().delivered == ["k"]
    # a validation error is permanent too
    outbox.register("other", Recorder(ValidationError("bad", fields={"note": "too_long"})))
    outbox.enqueue("other", {}, "k2")
    assert outbox.deliver_due().failed == ["k2"]


def test_unexpected_handler_error_is_retried(outbox: Outbox, caplog: pytest.LogCaptureFixture
                                             ) -> None:
    outbox.register("decision", Recorder(RuntimeError("bug")))
    outbox.enqueue("decision", {"secret_note": "RSSMRA85D52H501P"}, "k")
    assert outbox.deliver_due().retrying == ["k"]
    assert "RSSMRA" not in caplog.text  # payloads never reach the log


def test_items_without_handler_wait(outbox: Outbox) -> None:
    outbox.enqueue("evidence_upload", {"file": "x"}, "u1")
    report = outbox.deliver_due()
    assert report.attempted == 0
    item = outbox.get("u1")
    assert item is not None and item.status is OutboxStatus.PENDING and item.attempts == 0
    assert outbox.next_due_in() is None  # a worker must not spin on it
    outbox.register("decision", Recorder())
    assert outbox.next_due_in() is None
    outbox.register("evidence_upload", Recorder())
    assert outbox.next_due_in() == 0


def test_worker_delivers_on_enqueue(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", backoff=Backoff(initial=0.05, jitter=0))
    done = threading.Event()
    box.register("decision", Recorder(ServerUnreachable("down")))
    box.add_listener(lambda item: done.set())
    worker = OutboxWorker(box, poll_max=0.5)
    worker.start()
    try:
        assert worker.running
        box.enqueue("decision", {"n": 1}, "k")
        assert done.wait(10)
        item = box.get("k")
        assert item is not None and item.status is OutboxStatus.DONE and item.attempts == 2
    finally:
        worker.stop()
        box.close()
    assert not worker.running
    assert not any(t.name == "outbox-sender" for t in threading.enumerate())


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutboxError, match="cannot open the outbox"):
        Outbox(blocker / "sub" / "outbox.sqlite3")


def test_commit_decision_sends_that_decision_and_leaves_the_backlog_to_the_worker(
        outbox: Outbox) -> None:
    from types import SimpleNamespace

    from console.errors import ConsoleError
    from console.outbox import commit_decision

    backlog, decisions = Recorder(), Recorder()
    outbox.register("evidence", backlog)
    outbox.register("decision", decisions)
    for i in range(5):  # queued during an outage
        outbox.put("evidence", f"backlog-{i}", {"n": i})
    record = SimpleNamespace(OUTBOX_KIND="decision", decision_id="d-1",
                             to_payload=lambda: {"request_id": "r"})
    assert commit_decision(outbox, record) == {"state": "ok", "n": 1}
    assert decisions.calls == 1 and backlog.calls == 0  # the operator waits for one send only
    assert len(outbox.pending("evidence")) == 5
    # refused for good: a clear error, and the decision stays in the outbox, failed, not lost
    refused = SimpleNamespace(OUTBOX_KIND="decision", decision_id="d-2",
                              to_payload=lambda: {"request_id": "r2"})
    decisions.failures.append(ValidationError("bad", code="invalid_reason"))
    with pytest.raises(ConsoleError):
        commit_decision(outbox, refused)
    item = outbox.get("d-2")
    assert item is not None and item.status is OutboxStatus.FAILED
