"""Network quality indicator: excellent / good / poor / lost, with the figures as tooltip."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from ui.messages import quality_label

LEVELS = ("excellent", "good", "poor", "lost")


def classify(
    rtt_ms: float | None, loss: float | None, jitter_ms: float | None, kbps: float | None
) -> str:
    """A plain fallback rule when the core gives no level: lost is decided by the heartbeat."""
    rtt = rtt_ms or 0.0
    lo = loss or 0.0
    jit = jitter_ms or 0.0
    if rtt < 150 and lo < 0.01 and jit < 20 and (kbps is None or kbps >= 800):
        return "excellent"
    if rtt < 300 and lo < 0.03 and jit < 50 and (kbps is None or kbps >= 300):
        return "good"
    return "poor"


class QualityIndicator(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quality")
        self.level = "unknown"
        self.set_level("unknown")

    def set_level(self, level: str, details: dict[str, Any] | None = None) -> None:
        self.level = level
        self.setText("● " + self.tr("Network: %1").replace("%1", quality_label(level)))
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        if details:
            parts = []
            if details.get("rtt_ms") is not None:
                parts.append(f"RTT {details['rtt_ms']:.0f} ms")
            if details.get("loss") is not None:
                parts.append(self.tr("loss") + f" {100 * details['loss']:.1f} %")
            if details.get("jitter_ms") is not None:
                parts.append(f"jitter {details['jitter_ms']:.0f} ms")
            if details.get("kbps") is not None:
                parts.append(f"{details['kbps']:.0f} kbit/s")
            if details.get("width"):
                parts.append(
                    f"{details['width']}×{details['height']} @ {details.get('fps', 0):.0f}"
                )
            self.setToolTip(" · ".join(parts))
