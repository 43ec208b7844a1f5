"""Call quality level (excellent / good / poor / lost) from link and page statistics.

Pure functions: the media engine measures (aiortc ``getStats()``: RTT, loss, jitter, bitrate;
the applicant page's ``stats`` message: width, height, fps, quality_limitation; the data-channel
heartbeat: seconds since the last ``pong``) and calls ``classify``. The UI shows the level and,
when it is ``poor``, the operator may refuse or suspend the session (AgID: video in colour,
sharp and fluid, clear audio).

Thresholds (a value that is not measured, ``None``, does not count):

=================  ===========  ===========  ==============
figure             excellent    good         poor below good
=================  ===========  ===========  ==============
RTT                ≤ 150 ms     ≤ 400 ms     > 400 ms
packet loss        ≤ 1 %        ≤ 5 %        > 5 %
jitter             ≤ 20 ms      ≤ 60 ms      > 60 ms
video bitrate      ≥ 1000 kbps  ≥ 300 kbps   < 300 kbps
frame height       ≥ 720 px     ≥ 480 px     < 480 px
frame rate         ≥ 24 fps     ≥ 15 fps     < 15 fps
limitation         none         any          —
=================  ===========  ===========  ==============

``lost``: no ``pong`` for 3 s or more (the heartbeat rule of docs/PROTOCOL.md), or loss ≥ 30 %,
or under 30 kbps of video (no picture to speak of). 1280×720 at 25 fps is the example quality of
ETSI TS 119 461, hence the "excellent" line; 15 fps is the least that still looks fluid.
``unknown``: nothing measured yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger(__name__)


class QualityLevel(StrEnum):
    EXCELLENT = "excellent"
    GOOD = "good"
    POOR = "poor"
    LOST = "lost"
    UNKNOWN = "unknown"


_RANK = {QualityLevel.LOST: 0, QualityLevel.POOR: 1, QualityLevel.GOOD: 2,
         QualityLevel.EXCELLENT: 3}


class QualityReason(StrEnum):
    NO_HEARTBEAT = "no_heartbeat"
    HIGH_LOSS = "high_loss"
    HIGH_RTT = "high_rtt"
    HIGH_JITTER = "high_jitter"
    LOW_BITRATE = "low_bitrate"
    LOW_RESOLUTION = "low_resolution"
    LOW_FRAME_RATE = "low_frame_rate"
    LIMITED = "limited"  # the sender reports cpu/bandwidth limitation


@dataclass(frozen=True, slots=True)
class Thresholds:
    lost_heartbeat_s: float = 3.0
    lost_loss: float = 0.30
    lost_kbps: float = 30.0
    good_rtt_ms: float = 400.0
    good_loss: float = 0.05
    good_jitter_ms: float = 60.0
    good_kbps: float = 300.0
    good_height: int = 480
    good_fps: float = 15.0
    excellent_rtt_ms: float = 150.0
    excellent_loss: float = 0.01
    excellent_jitter_ms: float = 20.0
    excellent_kbps: float = 1000.0
    excellent_height: int = 720
    excellent_fps: float = 24.0


DEFAULT_THRESHOLDS = Thresholds()
#: the engine says the media stopped: counted as this long without a heartbeat
LOST_AFTER_S = DEFAULT_THRESHOLDS.lost_heartbeat_s


@dataclass(frozen=True, slots=True)
class LinkStats:
    """One sample. ``loss`` is a fraction (0.02 = 2 %); ``kbps`` the received video bitrate."""

    rtt_ms: float | None = None
    loss: float | None = None
    jitter_ms: float | None = None
    kbps: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    quality_limitation: str | None = None  # "none" | "cpu" | "bandwidth" | "other"
    since_last_pong_s: float | None = None

    @property
    def measured(self) -> bool:
        return any(getattr(self, n) is not None for n in self.__slots__)


@dataclass(frozen=True, slots=True)
class QualityAssessment:
    level: QualityLevel
    reasons: tuple[QualityReason, ...]  # what kept the level below excellent
    stats: LinkStats

    def details(self) -> dict[str, object]:
        """Figures for a tooltip / the session events (no personal data)."""
        out: dict[str, object] = {"level": self.level.value,
                                  "reasons": [r.value for r in self.reasons]}
        for name in LinkStats.__slots__:
            value = getattr(self.stats, name)
            if value is not None:
                out[name] = value
        return out


def classify(stats: LinkStats, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> QualityAssessment:
    t = thresholds
    if not stats.measured:
        return QualityAssessment(QualityLevel.UNKNOWN, (), stats)
    lost: list[QualityReason] = []
    if stats.since_last_pong_s is not None and stats.since_last_pong_s >= t.lost_heartbeat_s:
        lost.append(QualityReason.NO_HEARTBEAT)
    if stats.loss is not None and stats.loss >= t.lost_loss:
        lost.append(QualityReason.HIGH_LOSS)
    if stats.kbps is not None and stats.kbps < t.lost_kbps:
        lost.append(QualityReason.LOW_BITRATE)
    if lost:
        return QualityAssessment(QualityLevel.LOST, tuple(lost), stats)

    # (reason, value, good limit, excellent limit, higher_is_better)
    checks: list[tuple[QualityReason, float | None, float, float, bool]] = [
        (QualityReason.HIGH_RTT, stats.rtt_ms, t.good_rtt_ms, t.excellent_rtt_ms, False),
        (QualityReason.HIGH_LOSS, stats.loss, t.good_loss, t.excellent_loss, False),
        (QualityReason.HIGH_JITTER, stats.jitter_ms, t.good_jitter_ms, t.excellent_jitter_ms,
         False),
        (QualityReason.LOW_BITRATE, stats.kbps, t.good_kbps, t.excellent_kbps, True),
        (QualityReason.LOW_RESOLUTION, None if stats.height is None else float(stats.height),
         t.good_height, t.excellent_height, True),
        (QualityReason.LOW_FRAME_RATE, stats.fps, t.good_fps, t.excellent_fps, True),
    ]
    poor: list[QualityReason] = []
    not_excellent: list[QualityReason] = []
    for reason, value, good, excellent, higher in checks:
        if value is None:
            continue
        if (value < good) if higher else (value > good):
            poor.append(reason)
        elif (value < excellent) if higher else (value > excellent):
            not_excellent.append(reason)
    if poor:
        return QualityAssessment(QualityLevel.POOR, tuple(poor + not_excellent), stats)
    limitation = (stats.quality_limitation or "none").lower()
    if limitation != "none":
        not_excellent.append(QualityReason.LIMITED)
    if not_excellent:
        return QualityAssessment(QualityLevel.GOOD, tuple(not_excellent), stats)
    return QualityAssessment(QualityLevel.EXCELLENT, (), stats)


class QualityTracker:
    """Hysteresis over successive samples (one every ~2 s): a worse level is shown at once,
    a better one only after ``upgrade_after`` consecutive samples at least that good, so the
    indicator does not flicker. Pure: feed it samples, read ``level``."""

    def __init__(self, upgrade_after: int = 3,
                 thresholds: Thresholds = DEFAULT_THRESHOLDS) -> None:
        self.upgrade_after = max(1, upgrade_after)
        self.thresholds = thresholds
        self.level = QualityLevel.UNKNOWN
        self.last: QualityAssessment | None = None
        self._better_streak = 0
        self._streak_floor = QualityLevel.EXCELLENT

    def update(self, stats: LinkStats) -> QualityAssessment:
        """Returns the assessment of this sample; ``self.level`` is the level to show."""
        assessment = classify(stats, self.thresholds)
        self.last = assessment
        new = assessment.level
        if new is QualityLevel.UNKNOWN:
            return assessment
        if self.level is QualityLevel.UNKNOWN or _RANK[new] < _RANK[self.level]:
            self.level = new
            self._better_streak = 0
        elif _RANK[new] > _RANK[self.level]:
            if self._better_streak == 0 or _RANK[new] < _RANK[self._streak_floor]:
                self._streak_floor = new
            self._better_streak += 1
            if self._better_streak >= self.upgrade_after:
                self.level = self._streak_floor  # the worst level seen during the streak
                self._better_streak = 0
        else:
            self._better_streak = 0
        return assessment
