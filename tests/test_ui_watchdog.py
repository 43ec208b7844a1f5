"""The GUI-thread watchdog tells a wait on something else (blocking) from our own code running
(busy): the autopilot's report uses it to prove the GUI thread only paints."""

from __future__ import annotations

import threading
import time
from typing import Any

from PySide6.QtCore import QTimer

from ui.watchdog import GuiWatchdog


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(range(1000))


def test_watchdog_classifies_stalls(qtbot: Any) -> None:
    dog = GuiWatchdog(threshold_ms=50.0)
    dog.start()
    try:
        qtbot.wait(100)
        QTimer.singleShot(0, lambda: threading.Event().wait(0.3))  # a wait on another thread
        qtbot.wait(600)
        QTimer.singleShot(0, lambda: _spin(0.3))  # our own code, busy
        qtbot.wait(600)
    finally:
        dog.stop()
    report = dog.report()
    kinds = [s.kind for s in dog.stalls if s.duration_ms >= 200]
    assert "blocking" in kinds and "busy" in kinds, report
    assert report["max_ms"] >= 250 and len(report["blocking"]) >= 1
    assert any("threading.py" in f for f in report["blocking"][0]["frames"])
