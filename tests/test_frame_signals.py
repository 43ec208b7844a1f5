"""Injection signals measured on the video and the stills: the sender's clock
(media.frame_signals.ClockGrid), pictures that come back (RepeatDetector, through the engine's
frame check), sensor noise (console.injection.sensor_noise), and how weak and strong signals
combine in the monitor."""

from __future__ import annotations

import random
from typing import Any, cast

import av
import cv2
import numpy as np
import pytest

from console.injection import (
    EXACT_CLOCK_FRAMES,
    NOISE_FLOOR,
    REPEAT_S,
    InjectionMonitor,
    sensor_noise,
)
from console.liveness import ChallengePlan
from demo.applicant.offline import (
    GenuineRenderer,
    Lighting,
    LoopAttack,
    answer_timeline,
    plan_windows,
)
from demo.applicant.scene import SceneRenderer, Step
from media.api import FrameCheck, NullListener
from media.engine import FRAME_CHECK_INTERVAL_S, MediaEngine, _Peer
from media.frame_signals import ClockGrid, RepeatDetector, thumbnail

# --- the sender's clock ----------------------------------------------------------------------


def test_a_synthetic_clock_is_an_exact_grid_across_drops_and_the_wrap() -> None:
    grid = ClockGrid()
    pts = (1 << 32) - 50 * 3000  # wraps after 50 frames
    for k in range(400):
        if k % 37 == 5:  # a frame lost on the way: the grid holds
            pts += 3000
        grid.add(pts % (1 << 32))
        pts += 3000
    assert grid.run >= 399 >= EXACT_CLOCK_FRAMES
    # a 29.97 fps generator rounds 3003.003 ticks: still one grid to the tick
    grid = ClockGrid()
    for k in range(300):
        grid.add(int(k * 90_000 / 29.97))
    assert grid.run == 299


def test_a_browser_camera_clock_is_not_an_exact_grid() -> None:
    # libwebrtc stamps frames from the capture time in whole ms (x 90): 33 / 34 ms at 30 fps
    rng = np.random.default_rng(1)
    grid = ClockGrid()
    t0 = 12_345.678
    for k in range(600):
        capture_ms = t0 + k * 1000.0 / 30.0 + float(rng.normal(0.0, 0.3))
        grid.add(int(capture_ms) * 90)
    assert grid.longest < 10
    # the documented limit (why the signal is weak): 25 fps with a steady clock is 40 ms exact
    grid = ClockGrid()
    for k in range(300):
        grid.add(int(t0 + k * 40.0 + float(rng.normal(0.0, 0.05))) * 90)
    assert grid.longest >= EXACT_CLOCK_FRAMES


def test_repeated_timestamps_and_jumps_break_the_run() -> None:
    grid = ClockGrid()
    for k in range(100):
        grid.add(k * 3000)
    grid.add(99 * 3000)  # the same timestamp again
    assert grid.run == 0
    grid.add(500_000_000)  # a jump of hours
    assert grid.run == 0
    grid.add(None)


# --- pictures that come back -----------------------------------------------------------------


def _yuv(bgr: np.ndarray) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(bgr, format="bgr24").reformat(format="yuv420p")


def _genuine(seed: int) -> GenuineRenderer:
    rng = random.Random(seed)
    plan = ChallengePlan.random(rng=rng)
    timeline = answer_timeline(plan_windows(plan, 4.0), rng)
    return GenuineRenderer(timeline, seed=seed, lighting=Lighting.random(rng))


def _longest_repeat(frame: Any, seconds: float, phase: float = 0.0) -> RepeatDetector:
    detector = RepeatDetector(FRAME_CHECK_INTERVAL_S)
    for i in range(int(seconds / FRAME_CHECK_INTERVAL_S)):
        t = i * FRAME_CHECK_INTERVAL_S
        detector.add(t, thumbnail(_yuv(frame(t + phase))))
    return detector


@pytest.mark.parametrize("seed,length", [(0, 3.0), (1, 6.5)])
def test_a_looped_clip_is_found_and_the_live_scene_is_not(seed: int, length: float) -> None:
    loop = LoopAttack(_genuine(seed), start=2.0, length=length)
    found = _longest_repeat(loop.frame, 24.0, phase=0.37)
    assert found.longest_s >= REPEAT_S
    assert found.lag_s == pytest.approx(length, abs=0.6)
    live = _longest_repeat(_genuine(seed + 10).frame, 40.0)
    assert live.longest_s < REPEAT_S


def test_a_still_scene_neither_counts_nor_breaks_a_run() -> None:
    detector = RepeatDetector(FRAME_CHECK_INTERVAL_S)
    still = thumbnail(_yuv(SceneRenderer().bgr(Step.FACE)))
    assert still is not None
    for i in range(40):  # 10 s of the same picture: no movement, no repeat
        detector.add(i * FRAME_CHECK_INTERVAL_S, still)
    assert detector.longest_s == 0.0
    detector.add(11.0, None)  # a black frame ends any run
    assert detector.streak_s == 0.0


def test_the_engine_reports_a_loop_and_the_monitor_raises_it() -> None:
    checks: list[FrameCheck] = []

    class Events(NullListener):
        def on_frame_check(self, check: FrameCheck) -> None:
            checks.append(check)

    engine = MediaEngine(Events(), camera=None, microphone=None)
    peer = _Peer(cast(Any, None), cast(Any, None), 1)
    loop = LoopAttack(_genuine(3), start=1.0, length=4.0)
    for i in range(int(16 / FRAME_CHECK_INTERVAL_S)):
        t = i * FRAME_CHECK_INTERVAL_S
        engine._check_frame(peer, _yuv(loop.frame(t)), 100.0 + t)
    assert checks and checks[-1].repeat_s >= REPEAT_S
    monitor = InjectionMonitor()
    last = checks[-1]
    new = monitor.frames(last.identical_s, last.exact_clock_frames, last.repeat_s,
                         last.repeat_lag_s)
    assert [s.code for s in new] == ["frames_repeating"]
    assert monitor.suspected and monitor.blocking


# --- sensor noise ----------------------------------------------------------------------------


def _jpeg(img: np.ndarray) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR))


def test_sensor_noise_tells_a_drawn_picture_from_a_camera() -> None:
    drawn = SceneRenderer(1280, 720).bgr(Step.FACE)
    assert sensor_noise(_jpeg(drawn)) < NOISE_FLOOR / 2
    rng = np.random.default_rng(0)
    for sigma in (1.0, 3.0):
        noisy = np.clip(drawn + rng.normal(0.0, sigma, drawn.shape[:2])[..., None], 0, 255)
        measured = sensor_noise(_jpeg(noisy.astype(np.uint8)))
        assert measured > NOISE_FLOOR
    with pytest.raises(ValueError):
        sensor_noise(np.zeros((4, 4), np.uint8))


def test_clean_stills_raise_a_weak_signal_after_two() -> None:
    monitor = InjectionMonitor()
    assert monitor.still_noise(0.03) == []  # one clean still is not enough
    assert [s.code for s in monitor.still_noise(0.05)] == ["sensor_noise_absent"]
    assert not monitor.suspected and not monitor.blocking  # weak: not on its own
    noisy = InjectionMonitor()
    noisy.still_noise(0.03)
    assert noisy.still_noise(1.2) == []  # one still with noise: a camera's
    assert noisy.still_noise(float("nan")) == []


# --- weak and strong -------------------------------------------------------------------------


def test_two_weak_signals_suspect_and_a_strong_one_alone_does() -> None:
    monitor = InjectionMonitor()
    monitor.frames(0.0, exact_clock_frames=EXACT_CLOCK_FRAMES)
    result = monitor.result()
    assert result["signals"][0]["weight"] == "weak" and result["suspected"] is False
    monitor.still_noise(0.0)
    monitor.still_noise(0.0)
    assert monitor.suspected and monitor.blocking
    monitor.override("known rig")
    assert not monitor.blocking

    strong = InjectionMonitor()
    strong.camera("OBS Virtual Camera")
    strong.override("a test")
    # a weak signal after the override does not block again on its own...
    strong.frames(0.0, exact_clock_frames=EXACT_CLOCK_FRAMES)
    assert strong.suspected and not strong.blocking
    # ...a second weak one does (two weak signals nobody has looked at)
    strong.still_noise(0.0)
    strong.still_noise(0.0)
    assert strong.blocking
    assert {s["code"]: s["weight"] for s in strong.result()["signals"]} == {
        "virtual_camera_name": "strong", "frame_clock_exact": "weak",
        "sensor_noise_absent": "weak"}
