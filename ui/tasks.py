"""Run blocking calls (network, disk) off the GUI thread and get the answer back as a signal.

The GUI thread only paints: every desk-service request goes through :func:`run_task`, which
runs the callable on the console's own :class:`QThreadPool` and delivers ``done(result)`` or
``failed(exception)`` on the GUI thread (queued connections, since the emitting object lives
in the GUI thread while ``emit`` happens in the pool thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

_POOL: QThreadPool | None = None


def pool() -> QThreadPool:
    global _POOL
    if _POOL is None:
        _POOL = QThreadPool()
        _POOL.setObjectName("console-workers")
        _POOL.setMaxThreadCount(4)
        _POOL.setExpiryTimeout(10_000)
    return _POOL


class TaskSignals(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: TaskSignals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._signals = signals

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:
            log.debug("background task failed: %s", type(exc).__name__)
            self._signals.failed.emit(exc)
        else:
            self._signals.done.emit(result)


_IN_FLIGHT: set[TaskSignals] = set()


def run_task(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_failed: Callable[[BaseException], None] | None = None,
    parent: QObject | None = None,
) -> TaskSignals:
    """Run ``fn()`` in the worker pool; ``on_done``/``on_failed`` then run on the GUI thread."""
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
    pool().start(_Runnable(fn, signals))
    return signals


def shutdown_pool(timeout_ms: int = 10_000) -> bool:
    """Wait for running tasks and let the pool's threads exit (part of the shutdown order)."""
    if _POOL is None:
        return True
    _POOL.clear()
    ok = _POOL.waitForDone(timeout_ms)
    if not ok:
        log.warning("worker pool still busy after %d ms", timeout_ms)
    return ok
