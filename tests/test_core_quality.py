"""Quality classification: thresholds as documented in console/quality.py."""

from __future__ import annotations

import pytest

from console.quality import (
    DEFAULT_THRESHOLDS,
    LinkStats,
    QualityLevel,
    QualityReason,
    QualityTracker,
    classify,
)

EXCELLENT = LinkStats(rtt_ms=40, loss=0.0, jitter_ms=5, kbps=2500, width=1280, height=720,
                      fps=25, quality_limitation="none", since_last_pong_s=0.8)


def with_(**changes: object) -> LinkStats:
    values = {n: getattr(EXCELLENT, n) for n in LinkStats.__slots__}
    values.update(changes)
    return LinkStats(**values)  # type: ignore[arg-type]


def test_excellent() -> None:
    result = classify(EXCELLENT)
    assert result.level is QualityLevel.EXCELLENT and result.reasons == ()


def test_nothing_measured_is_unknown() -> None:
    assert classify(LinkStats()).level is QualityLevel.UNKNOWN


@pytest.mark.parametrize(
    ("changes", "level", "reason"),
    [
        ({"rtt_ms": 200}, QualityLevel.GOOD, QualityReason.HIGH_RTT),
        ({"rtt_ms": 401}, QualityLevel.POOR, QualityReason.HIGH_RTT),
        ({"loss": 0.02}, QualityLevel.GOOD, QualityReason.HIGH_LOSS),
        ({"loss": 0.08}, QualityLevel.POOR, QualityReason.HIGH_LOSS),
        ({"loss": 0.30}, QualityLevel.LOST, QualityReason.HIGH_LOSS),
        ({"jitter_ms": 30}, QualityLevel.GOOD, QualityReason.HIGH_JITTER),
        ({"jitter_ms": 61}, QualityLevel.POOR, QualityReason.HIGH_JITTER),
        ({"kbps": 600}, QualityLevel.GOOD, QualityReason.LOW_BITRATE),
        ({"kbps": 299}, QualityLevel.POOR, QualityReason.LOW_BITRATE),
        ({"kbps": 10}, QualityLevel.LOST, QualityReason.LOW_BITRATE),
        ({"width": 960, "height": 540}, QualityLevel.GOOD, QualityReason.LOW_RESOLUTION),
        ({"width": 640, "height": 360}, QualityLevel.POOR, QualityReason.LOW_RESOLUTION),
        ({"fps": 20}, QualityLevel.GOOD, QualityReason.LOW_FRAME_RATE),
        ({"fps": 4}, QualityLevel.POOR, QualityReason.LOW_FRAME_RATE),
        ({"quality_limitation": "bandwidth"}, QualityLevel.GOOD, QualityReason.LIMITED),
        ({"since_last_pong_s": 3.0}, QualityLevel.LOST, QualityReason.NO_HEARTBEAT),
    ],
)
def test_each_threshold(changes: dict[str, object], level: QualityLevel,
                        reason: QualityReason) -> None:
    result = classify(with_(**changes))
    assert result.level is level
    assert reason in result.reasons


def test_boundaries_are_inclusive_for_the_better_level() -> None:
    t = DEFAULT_THRESHOLDS
    at_good = with_(rtt_ms=t.good_rtt_ms, loss=t.good_loss, jitter_ms=t.good_jitter_ms,
                    kbps=t.good_kbps, height=t.good_height, fps=t.good_fps)
    assert classify(at_good).level is QualityLevel.GOOD
    at_excellent = with_(rtt_ms=t.excellent_rtt_ms, loss=t.excellent_loss,
                         jitter_ms=t.excellent_jitter_ms, kbps=t.excellent_kbps,
                         height=t.excellent_height, fps=t.excellent_fps)
    assert classify(at_excellent).level is QualityLevel.EXCELLENT


def test_partial_stats_use_what_is_there() -> None:
    assert classify(LinkStats(rtt_ms=30)).level is QualityLevel.EXCELLENT
    assert classify(LinkStats(fps=10)).level is QualityLevel.POOR
    details = classify(LinkStats(rtt_ms=500, fps=10)).details()
    assert details["level"] == "poor"
    assert details["reasons"] == ["high_rtt", "low_frame_rate"]
    assert details["rtt_ms"] == 500 and "loss" not in details


def test_tracker_downgrades_at_once_upgrades_after_a_streak() -> None:
    tracker = QualityTracker(upgrade_after=3)
    assert tracker.level is QualityLevel.UNKNOWN
    tracker.update(EXCELLENT)
    assert tracker.level is QualityLevel.EXCELLENT
    tracker.update(with_(fps=5))
    assert tracker.level is QualityLevel.POOR
    tracker.update(EXCELLENT)
    tracker.update(with_(rtt_ms=300))  # good
    assert tracker.level is QualityLevel.POOR
    tracker.update(EXCELLENT)
    assert tracker.level is QualityLevel.GOOD  # worst level of the streak
    tracker.update(with_(since_last_pong_s=4))
    assert tracker.level is QualityLevel.LOST
    tracker.update(LinkStats())  # no data: keep showing the last level
    assert tracker.level is QualityLevel.LOST


def test_the_engines_figures_are_classified_here_only() -> None:
    """The media engine measures (media.quality); the level the operator sees comes from this
    module's thresholds, through the flow's adapter."""
    from console.flows.adapters import quality_of
    from media.api import QualityLevel as MediaLevel
    from media.api import QualityReport

    good_link = dict(rtt_ms=20.0, jitter_ms=5.0, bitrate_kbps=2000.0, remote_width=1280,
                     remote_height=720, remote_fps=30.0, remote_limitation="none")
    level, details = quality_of(QualityReport(level=MediaLevel.MEASURED, loss_pct=0.0,
                                              **good_link))
    assert level == "excellent" and details["height"] == 720 and details["loss"] == 0.0
    level, details = quality_of(QualityReport(level=MediaLevel.MEASURED, loss_pct=10.0,
                                              **good_link))
    assert level == "poor" and "high_loss" in details["reasons"]
    level, _ = quality_of(QualityReport(level=MediaLevel.LOST, loss_pct=0.0, **good_link))
    assert level == "lost"
    assert quality_of(object()) == ("unknown", {})
