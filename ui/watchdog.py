"""A watchdog of the GUI thread: every stall of its event loop longer than a threshold, with what
the thread was doing.

A ``QTimer`` on the GUI thread beats every ``interval_ms``; a plain monitor thread watches the
beats. When none has come for ``threshold_ms`` the monitor samples the GUI thread's Python stack
(``sys._current_frames``) a few times while the stall lasts; when the beats come back the stall
is recorded with its duration and the frames seen.

A stall is **blocking** when the GUI thread was seen inside code that waits on something else:
network (requests, urllib3, sockets, TLS), files the evidence and the outbox fsync, SQLite,
child processes, or a wait on another thread (``Future.result``, ``Event.wait``, ``join``).
Those are the stalls the design forbids (the GUI thread paints and nothing else); a stall with
no such frame is a busy machine taking the CPU away from us, which a benchmark measures
(``bench.bench_console_cpu --hog``), not a test.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

#: path fragments of code that blocks the thread running it
BLOCKING_MARKERS = (
    "/requests/", "/urllib3/", "/socket.py", "/ssl.py", "/http/client.py", "/sqlite3/",
    "/subprocess.py", "/concurrent/futures/_base.py", "/threading.py", "/selectors.py",
    "/console/evidence/", "/console/outbox.py", "/console/client.py", "/media/recorder.py",
    "/console/evidence/package.py",
)
#: frames of this module are never the cause
_IGNORED = ("/ui/watchdog.py",)
#: the frames of starting a thread (``Thread.start`` waits until the new thread runs)
_THREAD_START = ("/threading.py", "/concurrent/futures/thread.py")


@dataclass
class Stall:
    start: float  # time.monotonic()
    duration_ms: float
    frames: list[str] = field(default_factory=list)  # "path:line function", innermost last

    @property
    def kind(self) -> str:
        """``blocking`` (waiting on I/O or another thread), ``thread_start`` (only waiting for a
        new thread to be scheduled: the OS's, under load) or ``busy`` (running our code)."""
        hits = [f for f in self.frames if not any(i in f for i in _IGNORED)
                and any(m in f for m in BLOCKING_MARKERS)]
        if not hits:
            return "busy"
        only_threads = all(any(t in f for t in _THREAD_START) for f in hits)
        if only_threads and any("/threading.py" in f and f.endswith(" start") for f in hits):
            return "thread_start"
        return "blocking"

    @property
    def blocking(self) -> bool:
        return self.kind == "blocking"

    def to_json(self) -> dict[str, Any]:
        return {"duration_ms": round(self.duration_ms, 1), "kind": self.kind,
                "frames": self.frames[-12:]}


class GuiWatchdog(QObject):
    """Start it on the GUI thread; read :meth:`report` at the end."""

    def __init__(self, threshold_ms: float = 50.0, interval_ms: int = 10,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold_s = threshold_ms / 1000.0
        self.stalls: list[Stall] = []
        self.beats = 0
        self._gui_ident = threading.get_ident()
        self._last_beat = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)
        self._monitor = threading.Thread(target=self._watch, name="gui-watchdog", daemon=True)
        self._started_at: float | None = None

    def start(self) -> None:
        self._gui_ident = threading.get_ident()
        self._last_beat = time.monotonic()
        self._started_at = self._last_beat
        self._timer.start()
        self._monitor.start()

    def restart(self) -> None:
        """Forget what was seen so far and watch from now (e.g. from a call's start)."""
        self.stalls = []
        self._started_at = time.monotonic()

    def stop(self) -> None:
        self._timer.stop()
        self._stop.set()
        if self._monitor.is_alive():
            self._monitor.join(2.0)

    def _beat(self) -> None:
        with self._lock:
            self._last_beat = time.monotonic()
            self.beats += 1

    def _sample(self) -> list[str]:
        frame = sys._current_frames().get(self._gui_ident)
        if frame is None:
            return []
        return [f"{fs.filename}:{fs.lineno} {fs.name}"
                for fs in traceback.extract_stack(frame, limit=40)]

    def _watch(self) -> None:
        current: Stall | None = None
        seen: dict[str, None] = {}
        while not self._stop.wait(0.005):
            with self._lock:
                last = self._last_beat
            now = time.monotonic()
            if now - last > self.threshold_s:
                if current is None:
                    current = Stall(start=last, duration_ms=0.0)
                    seen = {}
                if len(seen) < 80:  # a few samples while it lasts: every distinct frame
                    for f in self._sample():
                        seen.setdefault(f, None)
            elif current is not None:
                current.duration_ms = (last - current.start) * 1000.0
                current.frames = list(seen)
                self.stalls.append(current)
                if current.blocking:
                    log.warning("GUI thread blocked for %.0f ms", current.duration_ms)
                current = None

    def report(self) -> dict[str, Any]:
        """``{"threshold_ms", "watched_s", "stalls", "max_ms", "thread_starts", "blocking": [...],
        "longest": [...]}``."""
        stalls = list(self.stalls)
        blocking = [s.to_json() for s in stalls if s.blocking]
        longest = sorted(stalls, key=lambda s: s.duration_ms, reverse=True)[:5]
        return {
            "threshold_ms": round(self.threshold_s * 1000.0),
            "watched_s": None if self._started_at is None
            else round(time.monotonic() - self._started_at, 1),
            "stalls": len(stalls),
            "max_ms": round(max((s.duration_ms for s in stalls), default=0.0), 1),
            "thread_starts": sum(1 for s in stalls if s.kind == "thread_start"),
            "blocking": blocking,
            "longest": [s.to_json() for s in longest],
        }
