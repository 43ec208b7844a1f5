"""The player's timeline: a bar with the session's marks; a click on a mark jumps there."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.player.annotations import Annotation
from ui.player.source import Mark

log = logging.getLogger(__name__)

COLOURS = {
    "step": "#2f6fb3", "capture": "#2e8b57", "otp": "#b8860b", "email": "#8a6d3b",
    "connection": "#c0392b", "gap": "#c0392b", "note": "#7f8c8d", "decision": "#6a1b9a",
    "annotation": "#e67e22",
}
HIT_PX = 6  # a click this close to a mark lands on the mark
MARGIN = 8


class TimelineWidget(QWidget):
    """Emits ``seek_requested(seconds)`` on a click (snapped to the nearest mark)."""

    seek_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playerTimeline")
        self.setMinimumHeight(56)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.duration_s = 1.0
        self.position_s = 0.0
        self.marks: list[Mark] = []
        self.annotations: list[Annotation] = []

    def sizeHint(self) -> QSize:
        return QSize(800, 56)

    def set_content(self, duration_s: float, marks: Sequence[Mark]) -> None:
        self.duration_s = max(0.001, duration_s)
        self.marks = list(marks)
        self.update()

    def set_annotations(self, items: Sequence[Annotation]) -> None:
        self.annotations = list(items)
        self.update()

    def set_position(self, seconds: float) -> None:
        self.position_s = seconds
        self.update()

    # --- geometry -----------------------------------------------------------------------------
    def x_for(self, seconds: float) -> float:
        width = max(1, self.width() - 2 * MARGIN)
        return MARGIN + width * min(1.0, max(0.0, seconds / self.duration_s))

    def seconds_for(self, x: float) -> float:
        width = max(1, self.width() - 2 * MARGIN)
        return min(self.duration_s, max(0.0, (x - MARGIN) / width * self.duration_s))

    def mark_near(self, x: float) -> float | None:
        best: tuple[float, float] | None = None
        times = [m.offset_s for m in self.marks] + [a.offset_s for a in self.annotations]
        for t in times:
            d = abs(self.x_for(t) - x)
            if d <= HIT_PX and (best is None or d < best[0]):
                best = (d, t)
        return None if best is None else best[1]

    # --- events -------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        x = event.position().x()
        snapped = self.mark_near(x)
        self.seek_requested.emit(snapped if snapped is not None else self.seconds_for(x))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        tip = ""
        for m in self.marks:
            if abs(self.x_for(m.offset_s) - x) <= HIT_PX:
                tip = f"{m.offset_s:.2f} s  {mark_text(self, m)}"
                break
        else:
            for a in self.annotations:
                if abs(self.x_for(a.offset_s) - x) <= HIT_PX:
                    tip = f"{a.offset_s:.2f} s  {a.text}"
                    break
        self.setToolTip(tip)
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self.seconds_for(x))

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        h = self.height()
        bar = QRectF(MARGIN, h * 0.45, self.width() - 2 * MARGIN, h * 0.2)
        p.fillRect(bar, QColor("#d0d4d8"))
        for m in self.marks:
            colour = QColor(COLOURS.get(m.kind, "#555555"))
            x = self.x_for(m.offset_s)
            if m.kind == "gap" and m.end_s is not None:
                p.fillRect(QRectF(x, bar.top(), max(2.0, self.x_for(m.end_s) - x),
                                  bar.height()), colour)
                continue
            p.setPen(QPen(colour, 3 if m.kind == "decision" else 2))
            p.drawLine(QPointF(x, h * 0.15), QPointF(x, h * 0.75))
        p.setPen(QPen(QColor(COLOURS["annotation"]), 2))
        for a in self.annotations:
            x = self.x_for(a.offset_s)
            p.drawEllipse(QPointF(x, h * 0.85), 4, 4)
        x = self.x_for(self.position_s)
        p.setPen(QPen(QColor("#111111"), 2))
        p.drawLine(QPointF(x, 0), QPointF(x, h))
        p.end()


def mark_text(widget: QWidget, mark: Mark) -> str:
    """A mark as the trainer reads it (translated kind + the step, target or action)."""
    kinds = {
        "step": QCoreApplication.translate("TimelineWidget", "Step"),
        "capture": QCoreApplication.translate("TimelineWidget", "Capture"),
        "otp": QCoreApplication.translate("TimelineWidget", "OTP"),
        "email": QCoreApplication.translate("TimelineWidget", "E-mail"),
        "connection": QCoreApplication.translate("TimelineWidget", "Connection"),
        "gap": QCoreApplication.translate("TimelineWidget", "Gap"),
        "note": QCoreApplication.translate("TimelineWidget", "Note"),
        "decision": QCoreApplication.translate("TimelineWidget", "Decision"),
    }
    return f"{kinds.get(mark.kind, mark.kind)}: {mark.label}"
