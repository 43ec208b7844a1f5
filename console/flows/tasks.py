"""Where a flow's code runs: one owner thread for its state, worker threads for blocking calls.

A flow (``console.flows.remote``, ``console.flows.inperson``) never blocks its caller and never
touches its state from two threads: blocking work (REST calls, waiting for a still, image
checks, evidence sealing) runs on a bounded worker pool, and its outcome (``done(result)`` or
``failed(exc)``) is delivered back on the flow's owner thread, where the state changes and the
events are emitted. Who owns the flow is the host's choice:

- :class:`ThreadRunner` (here, no Qt): the flow gets a thread of its own; used by headless
  drivers, the benchmarks and the tests;
- ``ui.tasks.QtRunner``: the owner is the GUI thread, so a window can read a flow's state
  directly between events (the flow only does bookkeeping there; anything slow is work).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: worker threads per runner: REST calls, still waits and checks never queue behind each other
MAX_WORKERS = 4

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Runner(Protocol):
    """The two things a flow asks of its host."""

    def run(self, work: Callable[[], Any], done: Done | None = None,
            failed: Failed | None = None) -> None:
        """``work()`` on a worker thread; then ``done``/``failed`` on the owner thread."""

    def post(self, fn: Callable[[], None]) -> None:
        """``fn()`` on the owner thread (from any thread), in the order posted."""

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Cancellable:
        """``fn()`` on the owner thread after ``delay_s`` seconds, unless cancelled."""


class _Timer:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ThreadRunner:
    """A flow's own owner thread (a queue of callables and timers) plus a worker pool."""

    def __init__(self, name: str = "flow", workers: int = MAX_WORKERS) -> None:
        self.name = name
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._timers: list[tuple[float, int, _Timer, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=f"{name}-worker")
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=f"{name}-owner", daemon=True)
        self._thread.start()

    @property
    def owner(self) -> threading.Thread:
        return self._thread

    def on_owner_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def post(self, fn: Callable[[], None]) -> None:
        if not self._closed:
            self._queue.put(fn)

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Cancellable:
        timer = _Timer()
        with self._lock:
            heapq.heappush(self._timers, (time.monotonic() + max(0.0, delay_s),
                                          next(self._seq), timer, fn))
        self._queue.put(_wake)  # the loop recomputes its wait
        return timer

    def run(self, work: Callable[[], Any], done: Done | None = None,
            failed: Failed | None = None) -> None:
        def job() -> None:
            try:
                result = work()
            except BaseException as exc:  # every failure is reported, never lost
                log.debug("%s: background work failed: %s", self.name, type(exc).__name__)
                if failed is not None:
                    error = exc
                    self.post(lambda: failed(error))
                return
            if done is not None:
                self.post(lambda: done(result))

        try:
            self._pool.submit(job)
        except RuntimeError:  # shut down: the flow is closing
            log.debug("%s: work refused, shutting down", self.name)

    def call(self, fn: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Run ``fn()`` on the owner thread and wait for its result (for drivers and tests;
        never from the owner thread itself)."""
        if self.on_owner_thread():
            return fn()
        box: dict[str, Any] = {}
        ready = threading.Event()

        def task() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:
                box["error"] = exc
            ready.set()

        self.post(task)
        if not ready.wait(timeout):
            raise TimeoutError(f"{self.name}: the owner thread did not answer in {timeout} s")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def _due(self) -> float | None:
        """Run the timers that are due; the seconds until the next one (None: none)."""
        while True:
            with self._lock:
                if not self._timers:
                    return None
                at, _, timer, fn = self._timers[0]
                now = time.monotonic()
                if at > now:
                    return at - now
                heapq.heappop(self._timers)
            if not timer.cancelled:
                _safe(fn)

    def _loop(self) -> None:
        while True:
            wait = self._due()
            try:
                fn = self._queue.get(timeout=wait)
            except queue.Empty:
                continue
            if fn is None:
                return
            _safe(fn)

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued, stop the owner thread and the workers."""
        if self._closed:
            return
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._closed = True
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)


def _wake() -> None:
    return None


def _safe(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception:
        log.exception("flow callback failed")
