"""Call quality figures from aiortc's getStats() plus the page's own `stats` messages.

The engine measures; ``console.quality`` classifies (excellent / good / poor / lost). The only
verdict made here is "the media stopped" (no packets for 2 s, or the link is down)."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from media.api import QualityLevel, QualityReport

logger = logging.getLogger(__name__)

PAGE_STATS_MAX_AGE_S = 6.0


def _num(value: Any) -> float | None:
    """A finite number from the page's stats, or None (the page may send 1e999, NaN or an
    integer of 400 digits: no float, or no int() of it)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class QualityMeter:
    """Feed it stats reports and page messages; `report()` gives the current picture."""

    def __init__(self) -> None:
        self._prev: tuple[float, int, int, int] | None = None  # t, received, lost, bytes
        self.rtt_ms: float | None = None
        self.loss_pct: float | None = None
        self.jitter_ms: float | None = None
        self.bitrate_kbps: float | None = None
        self._page: dict[str, Any] = {}
        self._page_at = 0.0
        self.stalled = False
        self._silent_since: float | None = None

    def update(self, stats: Any, now: float | None = None) -> None:
        """`stats`: the RTCStatsReport of RTCPeerConnection.getStats()."""
        now = time.monotonic() if now is None else now
        received = lost = bytes_rx = 0
        rtts: list[float] = []
        jitter: float | None = None
        for s in stats.values():
            kind = getattr(s, "type", "")
            if kind == "inbound-rtp":
                received += int(s.packetsReceived)
                lost += max(0, int(s.packetsLost))
                if s.kind == "video":
                    jitter = s.jitter / 90.0  # 90 kHz RTP clock -> ms
            elif kind == "remote-inbound-rtp" and s.roundTripTime:
                rtts.append(float(s.roundTripTime) * 1000.0)
            elif kind == "transport":
                bytes_rx += int(s.bytesReceived)
        self.rtt_ms = round(max(rtts), 1) if rtts else self.rtt_ms
        self.jitter_ms = round(jitter, 1) if jitter is not None else None
        if self._prev is not None:
            t0, rx0, lost0, b0 = self._prev
            dt = max(1e-3, now - t0)
            d_rx, d_lost = received - rx0, lost - lost0
            expected = d_rx + max(0, d_lost)
            self.loss_pct = round(100.0 * max(0, d_lost) / expected, 2) if expected > 0 else None
            self.bitrate_kbps = round((bytes_rx - b0) * 8 / dt / 1000.0, 1)
            # nothing new for 2 s although packets had been flowing: the media stopped
            if d_rx <= 0 and rx0 > 0:
                self._silent_since = t0 if self._silent_since is None else self._silent_since
            else:
                self._silent_since = None
            self.stalled = self._silent_since is not None and now - self._silent_since >= 2.0
        self._prev = (now, received, lost, bytes_rx)

    def page_stats(self, msg: dict[str, Any]) -> None:
        self._page = msg
        self._page_at = time.monotonic()

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def report(self, link_lost: bool = False) -> QualityReport:
        page = self._page if time.monotonic() - self._page_at < PAGE_STATS_MAX_AGE_S else {}
        fps = _num(page.get("fps"))
        width = _num(page.get("width"))
        height = _num(page.get("height"))
        limitation = page.get("quality_limitation")
        limitation = limitation if isinstance(limitation, str) else None
        level = self._level(link_lost)
        return QualityReport(
            level=level,
            rtt_ms=self.rtt_ms,
            loss_pct=self.loss_pct,
            jitter_ms=self.jitter_ms,
            bitrate_kbps=self.bitrate_kbps,
            remote_width=int(width) if width is not None else None,
            remote_height=int(height) if height is not None else None,
            remote_fps=fps,
            remote_rtt_ms=_num(page.get("rtt_ms")),
            remote_limitation=limitation,
        )

    def _level(self, link_lost: bool) -> QualityLevel:
        """LOST when the media stopped; otherwise the figures speak (console.quality)."""
        if link_lost or self.stalled:
            return QualityLevel.LOST
        return QualityLevel.MEASURED
