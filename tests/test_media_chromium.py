"""MediaEngine against the real applicant page in headless Chromium (fake 1280x720 camera),
through a real desk service process: the product's own path, browser on the other side."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from console.injection import InjectionMonitor
from media.api import (
    CallState,
    CameraInfo,
    EngineErrorCode,
    NullListener,
    PcmChunk,
    QualityReport,
)
from media.engine import MediaEngine
from media.recorder import Recorder
from tests.fixtures.chromium import CAMERA_HEIGHT, CAMERA_WIDTH

pytestmark = pytest.mark.chromium


class Events(NullListener):
    def __init__(self) -> None:
        self.states: list[CallState] = []
        self.errors: list[EngineErrorCode] = []
        self.messages: list[dict[str, Any]] = []
        self.quality: list[QualityReport] = []
        self.cameras: list[CameraInfo] = []
        self.frames = 0

    def on_call_state(self, state: CallState) -> None:
        self.states.append(state)

    def on_error(self, code: EngineErrorCode) -> None:
        self.errors.append(code)

    def on_message(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    def on_quality(self, report: QualityReport) -> None:
        self.quality.append(report)

    def on_remote_frame(self) -> None:
        self.frames += 1

    def on_camera(self, info: CameraInfo) -> None:
        self.cameras.append(info)


async def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_engine_with_browser_applicant(desk_server: Any, applicant_browser: Any,
                                             tmp_path: Path) -> None:
    desk = desk_server
    rossi = desk.seed_request("ROSSI")
    page = await applicant_browser.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    await page.goto(rossi["join_url"])
    await page.click("#btn-start")
    await page.click("#btn-check-run")
    await page.wait_for_selector("#btn-check-continue:not([disabled])", timeout=30000)
    await page.click("#btn-check-continue")
    await page.check("#consent-recording")
    await page.check("#consent-terms")
    await page.click("#btn-consent")
    await page.wait_for_selector("#view-waiting:not([hidden])")

    resp = await asyncio.to_thread(desk.api, "POST", "/queue/next", "operatore1")
    assert resp.status_code == 200, resp.text
    session_id = resp.json()["session_id"]
    token = await asyncio.to_thread(desk.token, "operatore1")

    before = set(threading.enumerate())
    events = Events()
    engine = MediaEngine(events, camera=None, microphone=None, audio_channels=2)
    pcm: list[PcmChunk] = []
    engine.set_audio_sink(lambda c: pcm.append(c) if len(pcm) < 20 else None)
    # the evidence's recorder keeps Chromium's VP8 as received, across the page's reload
    recorder = Recorder(tmp_path / "call.mkv", copy_received_video=True).start()
    engine.add_media_sink(recorder)
    engine.start()
    try:
        await asyncio.wrap_future(engine.start_call(desk.base_url, token, session_id, []))
        await wait_for(lambda: engine.call_state is CallState.CONNECTED, 30, "CONNECTED")
        await page.wait_for_function(
            "() => document.getElementById('call-status').dataset.state === 'connected'")
        await wait_for(lambda: events.frames >= 15, 30, "the browser's video")
        # the page reports its camera when the control channel opens: Chromium's fake camera
        # (a file played as the camera) is flagged as an injection signal
        await wait_for(lambda: bool(events.cameras), 10, "the page's camera report")
        camera = events.cameras[0]
        assert (camera.width, camera.height) == (CAMERA_WIDTH, CAMERA_HEIGHT)
        assert camera.frame_rate and camera.max_width and camera.max_width >= CAMERA_WIDTH
        monitor = InjectionMonitor()
        monitor.camera(camera.label, camera.width, camera.height, camera.frame_rate)
        assert monitor.suspected
        assert [s["code"] for s in monitor.result()["signals"]] == ["virtual_camera_name"]
        latest = engine.latest_remote_frame()
        assert latest is not None and latest.frame.format.name == "yuv420p"
        assert latest.stamp_ms is None  # a browser camera carries no stamp
        # the browser's audio, resampled for QAudioSink (stereo asked here)
        await wait_for(lambda: len(pcm) >= 5, 15, "the browser's audio")
        assert all(c.sample_rate == 48_000 and c.channels == 2 for c in pcm)
        assert all(len(c.data) == c.samples * 4 for c in pcm)
        # the operator's placeholder picture reaches the page
        await page.wait_for_function(
            "() => document.getElementById('remote-video').videoWidth === 640", timeout=20000)

        # a full-resolution still from the browser (the call video may be smaller)
        still = await asyncio.wrap_future(engine.request_still("document_front", timeout=30))
        assert (still.width, still.height) == (CAMERA_WIDTH, CAMERA_HEIGHT)
        assert hashlib.sha256(still.data).hexdigest() == still.sha256
        img = cv2.imdecode(np.frombuffer(still.data, np.uint8), cv2.IMREAD_COLOR)
        assert img.shape == (CAMERA_HEIGHT, CAMERA_WIDTH, 3)
        assert still.mime == "image/jpeg"

        # the console decodes the call video at 960x540 or more (the page's bitrate floor in the
        # offer, call.js; it used to be 320x180-640x360 for tens of seconds): 1280x720 when
        # Chromium has the CPU, but the page keeps "balanced" degradation (frame rate for the
        # liveness check), so on this loaded 2-core machine 960x540 happens too
        def remote_size() -> tuple[int, int]:
            frame = engine.latest_remote_frame()
            return (0, 0) if frame is None else (frame.frame.width, frame.frame.height)

        await wait_for(lambda: remote_size() >= (960, 540), 20,
                       "960x540 or more call video at the console")

        # once the call runs, the page lowers its ceiling to what the evidence keeps as sent
        # (call.js VIDEO_SETTLED_KBPS, media.recorder.RECEIVED_VIDEO_MAX_KBPS), and the size
        # chosen at the start stays
        await page.wait_for_function("() => window.recognitionPage.videoMaxKbps === 1500",
                                     timeout=20000)
        await asyncio.sleep(2)
        await wait_for(lambda: remote_size() >= (960, 540), 20, "the size after the ceiling")

        # the page's stats feed the quality report; instructions are shown
        await wait_for(lambda: any(q.remote_fps for q in events.quality), 15, "page stats")
        await asyncio.wrap_future(engine.send_instruction("raise_right_hand"))
        await page.wait_for_selector("#instruction:not([hidden])")

        # the applicant reloads the page: link lost, then a new peer connection
        generation = engine.peer_generation
        await page.reload()
        await wait_for(lambda: CallState.LOST in events.states, 10, "LOST after the reload")
        await wait_for(lambda: engine.peer_generation > generation
                       and engine.call_state is CallState.CONNECTED, 45, "CONNECTED again")
        frames = engine.frames_received
        await wait_for(lambda: engine.frames_received > frames + 10, 30, "video after rejoin")

        await asyncio.wrap_future(engine.hang_up())
        assert engine.call_state is CallState.ENDED
    finally:
        await asyncio.to_thread(engine.stop, 15)
        stats = recorder.stop()  # (drains a few frames: a moment on the test's loop)
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()] == []
    assert not page_errors, page_errors

    # Chromium's frames are in the evidence unchanged, with a keyframe at least every ~2 s
    # (it answers the keyframe requests); a stretch without them is bridged, never a hole
    assert stats["copied"] >= 30, stats
    assert stats["reencoded"] <= stats["copied"] // 5, stats
    with av.open(str(recorder.path)) as c:
        stream = next(s for s in c.streams.video if s.metadata.get("title") == "applicant_video")
        assert stream.codec_context.name == "vp8"
        packets = [(float(p.pts * p.time_base), p.is_keyframe) for p in c.demux(stream)
                   if p.size and p.pts is not None]
    keys = [t for t, key in packets if key]
    assert len(keys) >= 2, keys
    spans = [b - a for a, b in itertools.pairwise(keys)]
    assert sorted(spans)[len(spans) // 2] <= 2.5, keys  # the median keyframe distance
    with av.open(str(recorder.path)) as c:
        stream = next(s for s in c.streams.video if s.metadata.get("title") == "applicant_video")
        decoded = sum(1 for _ in c.decode(stream))
    assert decoded >= len(packets) - 2
