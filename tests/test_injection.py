"""Injection signals: the monitor's table and rules (console.injection), the approval blocker and
its override (console.session), and the engine's side (the page's `camera` message, frame
checks)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

import av
import numpy as np
import pytest

from console.errors import ApprovalBlocked, SessionError
from console.injection import BLOCKER, FRAMES_IDENTICAL_S, InjectionMonitor, virtual_camera
from console.session import Session
from media.api import CameraInfo, EngineErrorCode, FrameCheck, NullListener
from media.engine import MediaEngine, _Peer, luma_digest, parse_camera_message
from tests.test_core_session import FakeClock, clock, make, run_spid_to_the_end

__all__ = ["clock"]  # the fixture, shared with the session tests

# --- the names table -------------------------------------------------------------------------


@pytest.mark.parametrize("label", [
    "fake_device_0",  # Chromium --use-fake-device-for-media-stream
    "/tmp/pytest-1/camera0/scene-1280x720.y4m",  # Chromium --use-file-for-fake-video-capture
    "OBS Virtual Camera",
    "OBS-Camera",
    "ManyCam Virtual Webcam",
    "Dummy video device (0x0000)",  # v4l2loopback
    "v4l2loopback",
    "XSplit VCam",
    "Snap Camera",
    "SplitCam Video Driver",
    "e2eSoft VCam",
    "CamTwist",
    "Unity Video Capture",
    "My Virtual Cam",
])
def test_known_virtual_cameras_are_flagged(label: str) -> None:
    assert virtual_camera(label) is not None
    assert virtual_camera(label.upper()) is not None  # case-insensitive


@pytest.mark.parametrize("label", [
    "Integrated Camera (04f2:b6d9)",
    "HD Pro Webcam C920 (046d:082d)",
    "FaceTime HD Camera",
    "USB2.0 HD UVC WebCam",
    "Logitech BRIO",
    "camera2 1, facing front",
    "",
])
def test_ordinary_cameras_are_not_flagged(label: str) -> None:
    assert virtual_camera(label) is None
    monitor = InjectionMonitor()
    assert monitor.camera(label, 1280, 720, 30.0) == []
    assert monitor.result() == {"suspected": False, "signals": [], "override": None}


def test_chromium_fake_camera_is_flagged() -> None:
    monitor = InjectionMonitor()
    new = monitor.camera("fake_device_0", 1280, 720, 20.0)
    assert [s.code for s in new] == ["virtual_camera_name"]
    result = monitor.result()
    assert result["suspected"] is True and monitor.blocking
    assert result["signals"] == [{"code": "virtual_camera_name",
                                  "detail": "Chromium fake device", "weight": "strong"}]
    # reported again (a rejoin): the signal is not repeated
    assert monitor.camera("fake_device_0", 1280, 720, 20.0) == []


def test_file_backed_fake_camera_detail_never_holds_the_path() -> None:
    monitor = InjectionMonitor()
    monitor.camera("/home/mario.rossi/clip.y4m", 640, 360, 30.0)
    assert "rossi" not in json.dumps(monitor.result())


# --- settings changes and frozen pictures ------------------------------------------------------


def test_camera_settings_change_mid_call() -> None:
    monitor = InjectionMonitor()
    assert monitor.camera("Integrated Camera (04f2:b6d9)", 1280, 720, 30.0) == []
    assert monitor.camera("Integrated Camera (04f2:b6d9)", 1280, 720, 29.97) == []  # rounding
    assert monitor.camera("Integrated Camera (04f2:b6d9)", 1281, 720, 30.0) == []
    new = monitor.camera("Integrated Camera (04f2:b6d9)", 640, 480, 15.0)
    assert [(s.code, s.detail) for s in new] == [
        ("camera_settings_changed", "1280x720@30 -> 640x480@15")]
    assert monitor.suspected


def test_another_camera_mid_call() -> None:
    monitor = InjectionMonitor()
    monitor.camera("Integrated Camera (04f2:b6d9)", 1280, 720, 30.0)
    new = monitor.camera("HD Pro Webcam C920", 1280, 720, 30.0)
    assert [(s.code, s.detail) for s in new] == [("camera_settings_changed",
                                                  "camera label changed")]


def test_frozen_picture() -> None:
    monitor = InjectionMonitor()
    assert monitor.frames(0.0) == []
    assert monitor.frames(FRAMES_IDENTICAL_S - 0.5) == []
    assert monitor.frames(float("nan")) == []
    assert [s.code for s in monitor.frames(FRAMES_IDENTICAL_S)] == ["frames_identical"]


def test_override_covers_the_signals_seen_so_far() -> None:
    monitor = InjectionMonitor()
    monitor.camera("fake_device_0", 1280, 720, 20.0)
    with pytest.raises(ValueError):
        monitor.override("  ")
    monitor.override("demo applicant")
    assert monitor.suspected and not monitor.blocking
    assert monitor.result()["override"] == {"reason": "demo applicant",
                                            "signals": ["virtual_camera_name"]}
    monitor.frames(60.0)  # a new signal blocks again
    assert monitor.blocking


# --- the approval rule in the session --------------------------------------------------------


def test_suspected_injection_refuses_approval_until_overridden_with_a_reason(
        clock: FakeClock, tmp_path: Path) -> None:
    session, _events = make(clock)
    run_spid_to_the_end(session, tmp_path)  # every required step passed: only the blocker left
    session.set_blocker(BLOCKER, True, source="injection")
    with pytest.raises(ApprovalBlocked) as refused:
        session.approve()
    assert refused.value.blockers == (BLOCKER,)
    with pytest.raises(SessionError) as no_reason:
        session.override_blocker(BLOCKER, "   ")
    assert no_reason.value.code == "reason_required"
    session.override_blocker(BLOCKER, "demo applicant: Chromium fake camera",
                             signals=["virtual_camera_name"])
    event = session.events[-1].to_dict()
    assert event["type"] == "blocker_overridden"
    assert event["reason"] == "demo applicant: Chromium fake camera"
    assert event["signals"] == ["virtual_camera_name"]
    assert session.snapshot()["overrides"] == [{
        "code": BLOCKER, "reason": "demo applicant: Chromium fake camera",
        "signals": ["virtual_camera_name"]}]
    assert session.approve().decision.value == "approved"


def test_a_face_mismatch_cannot_be_overridden(clock: FakeClock) -> None:
    session: Session = make(clock)[0]
    session.set_blocker("face_mismatch_unconfirmed", True)
    with pytest.raises(SessionError) as refused:
        session.override_blocker("face_mismatch_unconfirmed", "I am sure")
    assert refused.value.code == "not_overridable"
    with pytest.raises(SessionError) as nothing:
        session.override_blocker(BLOCKER, "nothing to override")
    assert nothing.value.code == "not_blocked"


# --- the engine: the page's camera message ---------------------------------------------------


class _Events(NullListener):
    def __init__(self) -> None:
        self.cameras: list[CameraInfo] = []
        self.checks: list[FrameCheck] = []
        self.errors: list[EngineErrorCode] = []
        self.messages: list[dict[str, Any]] = []

    def on_camera(self, info: CameraInfo) -> None:
        self.cameras.append(info)

    def on_frame_check(self, check: FrameCheck) -> None:
        self.checks.append(check)

    def on_error(self, code: EngineErrorCode) -> None:
        self.errors.append(code)

    def on_message(self, message: dict[str, Any]) -> None:
        self.messages.append(message)


CHROMIUM_CAMERA = {
    "type": "camera", "label": "fake_device_0",
    "settings": {"width": 1280, "height": 720, "frameRate": 20, "aspectRatio": 1.7777777777777777,
                 "resizeMode": "none", "deviceId": "abc", "groupId": "def"},
    "capabilities": {"width": {"max": 3840, "min": 1}, "height": {"max": 2160},
                     "frameRate": {"max": 20}, "deviceId": "abc"},
}


def test_camera_message_reaches_the_listener() -> None:
    events = _Events()
    engine = MediaEngine(events, camera=None, microphone=None)
    peer = _Peer(cast(Any, None), cast(Any, None), 3)
    engine._on_dc_message(peer, json.dumps(CHROMIUM_CAMERA))
    assert events.cameras == [CameraInfo(
        label="fake_device_0", width=1280, height=720, frame_rate=20.0, aspect_ratio=1.778,
        resize_mode="none", facing_mode=None, max_width=3840, max_height=2160,
        max_frame_rate=20.0, generation=3)]
    assert events.messages == [] and events.errors == []


@pytest.mark.parametrize("junk", [
    {"type": "camera", "label": 7},
    {"type": "camera", "label": "x", "settings": [1, 2]},
    {"type": "camera", "label": "x", "capabilities": "lots"},
])
def test_junk_camera_messages_are_ignored_and_reported_once(junk: dict[str, Any]) -> None:
    events = _Events()
    engine = MediaEngine(events, camera=None, microphone=None)
    peer = _Peer(cast(Any, None), cast(Any, None), 1)
    for _ in range(3):
        engine._on_dc_message(peer, json.dumps(junk))
    assert events.cameras == []
    assert events.errors == [EngineErrorCode.MALFORMED_MESSAGE]


def test_camera_values_are_bounded() -> None:
    info = parse_camera_message({
        "type": "camera", "label": "\x1b[31mcam\u202e" + "x" * 500,
        "settings": {"width": 1e308 * 10, "height": True, "frameRate": -5, "aspectRatio": "wide",
                     "facingMode": "user" * 100, "resizeMode": None},
        "capabilities": {"width": {"max": 99999}, "height": 720, "frameRate": {"max": 60.5}},
        "extra": {"deep": [1, 2, 3]},
    })
    assert info is not None
    assert info.label.startswith("[31mcam") and len(info.label) == 128
    assert (info.width, info.height, info.frame_rate, info.aspect_ratio) == (None,) * 4
    assert info.facing_mode is not None and len(info.facing_mode) == 32
    assert (info.max_width, info.max_height, info.max_frame_rate) == (None, None, 60.5)
    assert parse_camera_message({"type": "camera"}) == CameraInfo(label="")


def test_a_flood_of_camera_messages_is_capped() -> None:
    events = _Events()
    engine = MediaEngine(events, camera=None, microphone=None)
    peer = _Peer(cast(Any, None), cast(Any, None), 1)
    for _ in range(200):
        engine._on_dc_message(peer, json.dumps(CHROMIUM_CAMERA))
    assert 1 <= len(events.cameras) <= 32


# --- the engine: frame checks ----------------------------------------------------------------


def _frame(seed: int, width: int = 1280, height: int = 720) -> av.VideoFrame:
    rng = np.random.default_rng(seed)
    return av.VideoFrame.from_ndarray(
        rng.integers(0, 255, (height * 3 // 2, width), dtype=np.uint8), format="yuv420p")


def test_luma_digest_is_cheap_and_ignores_uniform_pictures() -> None:
    frame = _frame(1)
    assert luma_digest(frame) == luma_digest(_frame(1))
    assert luma_digest(frame) != luma_digest(_frame(2))
    black = av.VideoFrame.from_ndarray(np.zeros((1080, 1280), np.uint8), format="yuv420p")
    assert luma_digest(black) is None
    start = time.perf_counter()
    for _ in range(100):
        luma_digest(frame)
    assert (time.perf_counter() - start) / 100 < 0.001  # < 1 ms a check at 720p


def test_frame_check_measures_how_long_the_picture_stayed_the_same() -> None:
    events = _Events()
    engine = MediaEngine(events, camera=None, microphone=None)
    peer = _Peer(cast(Any, None), cast(Any, None), 1)
    still = _frame(7)
    for i in range(30):  # 7.5 s of the same picture, sampled every 0.25 s
        engine._check_frame(peer, still, 100.0 + i * 0.25)
    assert events.checks and events.checks[-1].identical_s >= FRAMES_IDENTICAL_S
    engine._check_frame(peer, _frame(8), 110.0)
    engine._check_frame(peer, _frame(9), 111.0)
    assert events.checks[-1].identical_s == 0.0
    monitor = InjectionMonitor()
    assert [s.code for c in events.checks for s in monitor.frames(c.identical_s)] == [
        "frames_identical"]


# --- shown and recorded: the session window --------------------------------------------------


def test_signal_is_shown_recorded_and_blocks_until_overridden(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    from tests.test_ui_findings import _window

    monkeypatch.setenv("RECOGNITION_CONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("RECOGNITION_CONSOLE_DATA_DIR", str(tmp_path / "data"))
    w = _window(qtbot, tmp_path)
    try:
        c = w.c
        c._on_engine_event("camera", CameraInfo(label="fake_device_0", width=1280, height=720,
                                                frame_rate=20.0))
        assert c.injection_blocking()
        assert w.findings.verdict("injection.virtual_camera_name") == "not_ok"
        assert w.findings.verdict_text("injection.virtual_camera_name") == "Chromium fake device"
        assert c.session is not None
        core = c.session.session
        recorded = [e.to_dict() for e in core.events if e.to_dict().get("name") ==
                    "injection_signal"]
        assert [e["data"] for e in recorded] == [{"code": "virtual_camera_name",
                                                  "detail": "Chromium fake device"}]
        assert "injection_suspected" in core.blockers
        # the operator is asked for a reason: none given, nothing lifted
        monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", True))
        assert not w.override_injection() and c.injection_blocking()
        monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("known test rig", True))
        assert w.override_injection() and not c.injection_blocking()
        assert core.events[-1].to_dict()["reason"] == "known test rig"
        assert c.injection.result()["override"]["reason"] == "known test rig"
        # a frozen picture afterwards is a new signal: approval is blocked again
        c._on_engine_event("frame_check", FrameCheck(identical_s=FRAMES_IDENTICAL_S + 1,
                                                     samples=40))
        assert c.injection_blocking()
        assert w.findings.verdict("injection.frames_identical") == "not_ok"
    finally:
        w.stop()
        w.c.shutdown()
