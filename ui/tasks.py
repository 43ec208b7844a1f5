"""Run blocking calls (network, disk) off the GUI thread and get the answer back as a signal.

The GUI thread only paints: every desk-service request goes through :func:`run_task`, which
runs the callable on the console's own worker threads and delivers ``done(result)`` or
``failed(exception)`` on the GUI thread (queued connections, since the emitting object lives
in the GUI thread while ``emit`` happens in the pool thread).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

log = logging.getLogger(__name__)

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
MAX_WORKERS = 4


def pool() -> ThreadPoolExecutor:
    """The console's worker threads (named ``console-worker_N``), created on first use."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="console-worker")
        return _POOL


class TaskSignals(QObject):
    done = Signal(object)
    failed = Signal(object)


def _run(fn: Callable[[], Any], signals: TaskSignals) -> None:
    try:
        result = fn()
    except BaseException as exc:  # every failure is reported, never lost
        log.debug("background task failed: %s", type(exc).__name__)
        signals.failed.emit(exc)
    else:
        signals.done.emit(result)


_IN_FLIGHT: set[TaskSignals] = set()


def run_task(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_failed: Callable[[BaseException], None] | None = None,
    parent: QObject | None = None,
) -> TaskSignals:
    """Run ``fn()`` on a worker thread; ``on_done``/``on_failed`` then run on the GUI thread."""
    signals = TaskSignals(parent)
    _IN_FLIGHT.add(signals)

    def _release(*_: object) -> None:
        _IN_FLIGHT.discard(signals)

    if on_done is not None:
        signals.done.connect(on_done)
    if on_failed is not None:
        signals.failed.connect(on_failed)
    signals.done.connect(_release)
    signals.failed.connect(_release)
    try:
        pool().submit(_run, fn, signals)
    except RuntimeError:  # the pool is shut down: the console is closing
        _IN_FLIGHT.discard(signals)
        log.debug("task refused: the console is shutting down")
    return signals


def shutdown_pool(timeout_s: float = 10.0) -> bool:
    """Wait for running tasks and join the worker threads (part of the shutdown order)."""
    global _POOL
    with _POOL_LOCK:
        executor, _POOL = _POOL, None
    if executor is None:
        return True
    executor.shutdown(wait=True, cancel_futures=True)
    return True


class _Poster(QObject):
    posted = Signal(object)

    @Slot(object)
    def _call(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:
            log.exception("posted callback failed")


class _QtTimer:
    def __init__(self, timer: QTimer) -> None:
        self._timer: QTimer | None = timer

    def cancel(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()
            timer.deleteLater()


class QtRunner:
    """``console.flows.tasks.Runner`` with the GUI thread as the owner: work on the console's
    worker pool (:func:`run_task`), outcomes, posts and timers on the GUI thread."""

    def __init__(self, parent: QObject) -> None:
        self._parent = parent
        self._poster = _Poster(parent)
        self._poster.posted.connect(self._poster._call, Qt.ConnectionType.QueuedConnection)

    def run(self, work: Callable[[], Any], done: Callable[[Any], None] | None = None,
            failed: Callable[[BaseException], None] | None = None) -> None:
        run_task(work, done, failed, self._parent)

    def post(self, fn: Callable[[], None]) -> None:
        try:
            self._poster.posted.emit(fn)
        except RuntimeError:  # the parent is deleted: the console is closing
            log.debug("post refused: the console is closing")

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> _QtTimer:
        timer = QTimer(self._parent)
        timer.setSingleShot(True)
        handle = _QtTimer(timer)

        def fire() -> None:
            handle.cancel()
            fn()

        timer.timeout.connect(fire)
        timer.start(max(0, round(delay_s * 1000)))
        return handle
