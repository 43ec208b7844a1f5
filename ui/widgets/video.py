"""Video on screen: each new decoded frame converted once, straight to the widget's size, and
painted by QPainter (the raster paint engine).

The conversion (libswscale through PyAV's ``reformat``: scale and YUV→RGB in one pass into a
32-bit image) runs once per new frame, or when the widget's size changes, and only when Qt
paints the widget (a hidden view converts nothing); other repaints reuse the image. It costs
about 0.8 ms for a 1280×720 frame shown at 800×450 and 0.2–0.4 ms for the 192×108 preview.

It replaced QVideoWidget (QVideoSink + QVideoFrame), whose OpenGL rendering ran in software
(Mesa llvmpipe) wherever there is no GPU driver — Xvfb, virtual desktops and most VDI
workstations: 9.4 ms of CPU per frame shown against 4.0 ms here, both views at 30 fps
(``bench.bench_console_cpu``; README, Performance).

The frame comes from the media engine's "latest frame" slot (overwritten, never queued); this
module never touches the engine's loop.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

log = logging.getLogger(__name__)

#: the byte order of QImage.Format_RGB32 (0xffRRGGBB in a native-endian 32-bit word)
RGB32_PIXEL_FORMAT = "bgra" if sys.byteorder == "little" else "argb"
_BACKGROUND = QColor(0, 0, 0)


def fit_size(frame_w: int, frame_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest size with the frame's aspect ratio that fits the box (at least 1×1)."""
    if frame_w <= 0 or frame_h <= 0 or box_w <= 0 or box_h <= 0:
        return 0, 0
    scale = min(box_w / frame_w, box_h / frame_h)
    return max(1, round(frame_w * scale)), max(1, round(frame_h * scale))


def frame_to_image(frame: Any, width: int, height: int) -> tuple[QImage, Any] | None:
    """``frame`` (an ``av.VideoFrame`` of any pixel format) scaled to ``width``×``height`` and
    converted to RGB in one libswscale pass, as a QImage (Format_RGB32) over the converted
    frame's memory, which is returned with it: keep it alive as long as the image."""
    if width <= 0 or height <= 0 or int(frame.width) <= 0 or int(frame.height) <= 0:
        return None
    rgb = frame.reformat(width=width, height=height, format=RGB32_PIXEL_FORMAT)
    plane = rgb.planes[0]
    image = QImage(plane, width, height, int(plane.line_size), QImage.Format.Format_RGB32)
    return image, rgb


class VideoSurface(QWidget):
    """Paints the latest frame, letterboxed (aspect ratio kept) on black."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # every pixel is painted
        self._frame: Any = None
        self._image: QImage | None = None
        self._pixels: Any = None  # the converted frame the image points into
        self._serial = 0  # counts the frames set
        self._key: tuple[int, int, int] | None = None  # (serial, width, height) converted
        self.conversions = 0

    def set_frame(self, frame: Any) -> None:
        self._frame = frame
        self._serial += 1
        self.update()

    def clear(self) -> None:
        self._frame = None
        self._image = self._pixels = self._key = None
        self.update()

    def _converted(self) -> tuple[QImage | None, int, int]:
        """The image for the current frame at the widget's size (device pixels)."""
        frame = self._frame
        if frame is None:
            return None, 0, 0
        ratio = self.devicePixelRatioF()
        width, height = fit_size(int(frame.width), int(frame.height),
                                 round(self.width() * ratio), round(self.height() * ratio))
        key = (self._serial, width, height)
        if key != self._key:
            self._image = self._pixels = self._key = None
            try:
                converted = frame_to_image(frame, width, height)
            except Exception:  # never let a bad frame break painting
                log.debug("video frame not converted", exc_info=True)
                converted = None
            if converted is None:
                return None, 0, 0
            self._image, self._pixels = converted
            self._image.setDevicePixelRatio(ratio)
            self._key = key
            self.conversions += 1
        return self._image, width, height

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            image, width, height = self._converted()
            area = self.rect()
            if image is None:
                painter.fillRect(area, _BACKGROUND)
                return
            ratio = image.devicePixelRatio()
            w, h = round(width / ratio), round(height / ratio)
            target = QRect((area.width() - w) // 2, (area.height() - h) // 2, w, h)
            # the bars around the picture, then the picture itself (no scaling here)
            top = QRect(0, 0, area.width(), target.top())
            bottom = QRect(0, target.bottom() + 1, area.width(),
                           area.height() - target.bottom() - 1)
            left = QRect(0, target.top(), target.left(), h)
            right = QRect(target.right() + 1, target.top(), area.width() - target.right() - 1, h)
            for bar in (top, bottom, left, right):
                if bar.width() > 0 and bar.height() > 0:
                    painter.fillRect(bar, _BACKGROUND)
            painter.drawImage(target.topLeft(), image)
        finally:
            painter.end()


class VideoView(QWidget):
    """A video surface with a placeholder shown when there is no picture."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoFrame")
        self.video = VideoSurface(self)
        self.placeholder = QLabel(placeholder, self)
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(self.placeholder)
        self._stack.addWidget(self.video)
        self.frames_shown = 0
        self.last_size: tuple[int, int] | None = None
        self._last_frame: Any = None

    def set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self._stack.setCurrentWidget(self.placeholder)

    def show_frame(self, frame: Any) -> bool:
        """Hand one decoded frame to the screen (painted, and converted, at the next paint).
        Returns False for no frame or the frame already shown."""
        if frame is None or frame is self._last_frame:
            return False
        width, height = int(frame.width), int(frame.height)
        if width <= 0 or height <= 0:
            return False
        self._last_frame = frame
        if self._stack.currentWidget() is not self.video:
            self._stack.setCurrentWidget(self.video)
        self.video.set_frame(frame)
        self.frames_shown += 1
        self.last_size = (width, height)
        return True

    def clear(self, placeholder: str | None = None) -> None:
        self._last_frame = None
        self.video.clear()
        if placeholder is not None:
            self.set_placeholder(placeholder)
        else:
            self._stack.setCurrentWidget(self.placeholder)
