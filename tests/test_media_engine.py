"""MediaEngine without a peer: lifecycle, errors for bad input, local media fallbacks, quality."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import av
import pytest

from media.api import CallState, EngineErrorCode, NullListener, QualityLevel
from media.engine import MediaEngine
from media.framestamp import read_frame
from media.local import LocalMedia, PlaceholderVideoTrack, TapTrack
from media.net import parse_json_message, rtc_configuration, ws_url
from media.quality import QualityMeter
from media.stills import StillError, StillErrorCode


class Events(NullListener):
    def __init__(self) -> None:
        self.errors: list[EngineErrorCode] = []
        self.states: list[CallState] = []

    def on_error(self, code: EngineErrorCode) -> None:
        self.errors.append(code)

    def on_call_state(self, state: CallState) -> None:
        self.states.append(state)


def test_start_stop_leaves_no_thread() -> None:
    before = set(threading.enumerate())
    engine = MediaEngine(camera=None, microphone=None)
    engine.start()
    assert engine.running
    assert any(t.name == "media-engine" for t in threading.enumerate())
    with pytest.raises(RuntimeError):
        engine.start()
    engine.stop(5)
    assert not engine.running
    assert [t for t in threading.enumerate() if t not in before] == []
    # calls after stop fail cleanly instead of hanging
    with pytest.raises(RuntimeError):
        engine.send_instruction("raise_right_hand").result(1)
    engine.stop(1)  # idempotent


def test_not_connected_errors() -> None:
    engine = MediaEngine(camera=None, microphone=None)
    engine.start()
    try:
        assert engine.call_state is CallState.IDLE
        assert engine.latest_remote_frame() is None
        with pytest.raises(StillError) as err:
            engine.request_still("document_front").result(5)
        assert err.value.code is StillErrorCode.NOT_CONNECTED
        with pytest.raises(StillError):
            engine.send_instruction("raise_right_hand").result(5)
        engine.set_mic_muted(True)
        engine.set_camera_enabled(False)
        assert engine.mic_muted and not engine.camera_enabled
    finally:
        engine.stop(5)


def test_unreachable_desk_and_bad_url() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    events = Events()
    engine = MediaEngine(events, camera=None, microphone=None)
    engine.start()
    try:
        with pytest.raises(ConnectionError):
            engine.start_call(f"http://127.0.0.1:{port}", "tok", "sid").result(15)
        assert EngineErrorCode.DESK_UNREACHABLE in events.errors
        assert engine.call_state is CallState.IDLE
        with pytest.raises(ValueError):
            engine.start_call("ftp://nowhere", "tok", "sid").result(5)
        with pytest.raises(ValueError):
            engine.start_call("http://127.0.0.1:1", "tok", "sid", ice_servers=[{}]).result(5)
    finally:
        engine.stop(5)


def test_missing_camera_gives_placeholder_and_error() -> None:
    errors: list[EngineErrorCode] = []

    async def scenario() -> tuple[Any, Any]:
        local = LocalMedia(camera="/dev/does-not-exist", microphone="nonexistent-mic",
                           microphone_format="alsa", report_error=errors.append)
        taps: list[tuple[str, Any]] = []
        audio, video = local.tracks(lambda k, f, t: taps.append((k, f)), lambda: True,
                                    lambda: False)
        vframe = await asyncio.wait_for(video.recv(), 5)
        aframe = await asyncio.wait_for(audio.recv(), 5)
        audio.stop()
        video.stop()
        await local.close()
        assert {k for k, _ in taps} == {"operator_video", "operator_audio"}
        return vframe, aframe

    vframe, aframe = asyncio.run(scenario())
    assert EngineErrorCode.CAMERA_UNAVAILABLE in errors
    assert EngineErrorCode.MICROPHONE_UNAVAILABLE in errors
    assert isinstance(vframe, av.VideoFrame) and vframe.width == 640
    assert isinstance(aframe, av.AudioFrame)
    assert not aframe.to_ndarray().any()  # muted mic: silence


def test_camera_disabled_sends_black() -> None:
    async def scenario() -> av.VideoFrame:
        from media.local import SourcePump

        pump = SourcePump(PlaceholderVideoTrack(), depth=2)
        pump.start()
        tap = TapTrack(pump, "operator_video", lambda k, f, t: None, lambda: False)
        frame = await asyncio.wait_for(tap.recv(), 5)
        tap.stop()
        await pump.close()
        return frame

    frame = asyncio.run(scenario())
    y = frame.to_ndarray(format="gray")
    assert y.max() <= 20  # black picture
    assert read_frame(frame) is None


def test_net_helpers() -> None:
    assert ws_url("http://127.0.0.1:8080", "/ws/operator") == "ws://127.0.0.1:8080/ws/operator"
    assert ws_url("https://desk.example/base/", "/ws/x") == "wss://desk.example/base/ws/x"
    with pytest.raises(ValueError):
        ws_url("desk.example", "/ws")
    assert rtc_configuration([]).iceServers == []  # explicit: no public STUN
    cfg = rtc_configuration(["stun:stun.example:3478",
                             {"urls": "turn:t.example", "username": "u", "credential": "p"}])
    assert cfg.iceServers is not None and len(cfg.iceServers) == 2
    assert parse_json_message("{bad") is None
    assert parse_json_message("[1,2]") is None
    assert parse_json_message('{"type": 3}') is None
    assert parse_json_message('{"type": "pong", "t": 1}') == {"type": "pong", "t": 1}


@dataclass
class _S:
    type: str
    kind: str = "video"
    packetsReceived: int = 0
    packetsLost: int = 0
    jitter: int = 0
    roundTripTime: float = 0.0
    bytesReceived: int = 0


def _stats(rx: int, lost: int, jitter: int, rtt: float, nbytes: int) -> dict[str, Any]:
    return {
        "in": _S("inbound-rtp", packetsReceived=rx, packetsLost=lost, jitter=jitter),
        "rr": _S("remote-inbound-rtp", roundTripTime=rtt),
        "tr": _S("transport", bytesReceived=nbytes),
    }


def test_quality_figures_and_lost() -> None:
    m = QualityMeter()
    m.update(_stats(0, 0, 0, 0.0, 0), now=0.0)
    m.update(_stats(100, 0, 900, 0.02, 250_000), now=1.0)
    m.page_stats({"type": "stats", "fps": 30, "width": 1280, "height": 720,
                  "quality_limitation": "none"})
    r = m.report()
    assert r.level is QualityLevel.MEASURED  # figures only: console.quality classifies
    assert (r.loss_pct, r.jitter_ms, r.rtt_ms, r.bitrate_kbps) == (0.0, 10.0, 20.0, 2000.0)
    assert (r.remote_width, r.remote_fps) == (1280, 30.0)
    m.update(_stats(197, 3, 900, 0.2, 500_000), now=2.0)  # 3 % loss, 200 ms
    assert m.report().loss_pct == 3.0 and m.report().level is QualityLevel.MEASURED
    m.update(_stats(287, 13, 900, 0.2, 750_000), now=3.0)  # 10 % loss
    assert m.report().loss_pct == 10.0
    m.update(_stats(287, 13, 900, 0.2, 750_000), now=4.0)  # nothing new for 1 s: not yet
    assert m.report().level is not QualityLevel.LOST
    m.update(_stats(287, 13, 900, 0.2, 750_000), now=5.0)  # 2 s: the media stopped
    assert m.report().level is QualityLevel.LOST
    assert m.report(link_lost=True).level is QualityLevel.LOST
    m2 = QualityMeter()
    m2.update(_stats(0, 0, 0, 0.0, 0), now=0.0)
    m2.update(_stats(0, 0, 0, 0.0, 0), now=1.0)  # not started yet: not "lost"
    assert m2.report().level is not QualityLevel.LOST
    m2.page_stats({"type": "stats", "fps": "bad", "quality_limitation": "cpu"})
    assert m2.report().remote_fps is None


def test_listener_exceptions_do_not_break_the_engine() -> None:
    class Broken(NullListener):
        def on_error(self, code: EngineErrorCode) -> None:
            raise RuntimeError("boom")

    engine = MediaEngine(Broken(), camera=None, microphone=None)
    engine.start()
    try:
        with pytest.raises(ConnectionError):
            engine.start_call("http://127.0.0.1:9", "t", "s").result(15)
        time.sleep(0.1)
        assert engine.running
    finally:
        engine.stop(5)


def test_bad_audio_channels() -> None:
    with pytest.raises(ValueError):
        MediaEngine(audio_channels=3)


def test_stop_from_the_engine_thread_is_refused() -> None:
    seen: list[BaseException] = []

    class Stopper(NullListener):
        def __init__(self) -> None:
            self.engine: MediaEngine | None = None

        def on_error(self, code: EngineErrorCode) -> None:
            try:
                assert self.engine is not None
                self.engine.stop(1)
            except RuntimeError as exc:
                seen.append(exc)

    listener = Stopper()
    engine = MediaEngine(listener, camera=None, microphone=None)
    listener.engine = engine
    engine.start()
    try:
        with pytest.raises(ConnectionError):
            engine.start_call("http://127.0.0.1:9", "t", "s").result(15)
        assert seen and engine.running
    finally:
        engine.stop(5)


def test_camera_through_pyav(tmp_path: Any) -> None:
    """A capture source opened with PyAV (here a .y4m file standing in for /dev/video0)."""
    from demo.applicant.scene import write_y4m

    clip = write_y4m(tmp_path / "cam.y4m", 800, 240, fps=10, seconds_per_step=0.5)
    before = set(threading.enumerate())
    errors: list[EngineErrorCode] = []

    async def scenario() -> list[Any]:
        local = LocalMedia(camera=str(clip), microphone=None, report_error=errors.append)
        got: list[Any] = []
        audio, video = local.tracks(lambda k, f, t: got.append((k, f)), lambda: True,
                                    lambda: True)
        frames = [await asyncio.wait_for(video.recv(), 5) for _ in range(3)]
        assert local.camera_ok and not local.microphone_ok
        audio.stop()
        video.stop()
        await local.close()
        return frames

    frames = asyncio.run(scenario())
    assert errors == []
    assert all((f.width, f.height) == (800, 240) for f in frames)
    time.sleep(0.2)
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()] == []


def test_synthetic_camera_at_the_asked_mode_or_its_own() -> None:
    """``camera="synthetic"``: FFmpeg's test picture at the size asked of a camera;
    ``synthetic:WxH@FPS`` fixes its own (benchmarks send an operator's camera with it)."""
    errors: list[EngineErrorCode] = []

    async def scenario(camera: str) -> list[Any]:
        local = LocalMedia(camera=camera, camera_size=(320, 180), camera_fps=30, microphone=None,
                           report_error=errors.append)
        audio, video = local.tracks(lambda k, f, t: None, lambda: True, lambda: True)
        frames = [await asyncio.wait_for(video.recv(), 5) for _ in range(3)]
        assert local.camera_ok
        audio.stop()
        video.stop()
        await local.close()
        return frames

    asked = asyncio.run(scenario("synthetic"))
    own = asyncio.run(scenario("synthetic:160x90@15"))
    assert errors == []
    assert all((f.width, f.height, f.format.name) == (320, 180, "yuv420p") for f in asked)
    assert all((f.width, f.height) == (160, 90) for f in own)
    assert asked[0].to_ndarray().std() > 10  # a picture, not a flat card
    step = float((own[1].pts - own[0].pts) * own[0].time_base)
    assert step == pytest.approx(1 / 15, abs=0.01)


def test_camera_failing_mid_call_falls_back_to_placeholder(tmp_path: Any) -> None:
    from demo.applicant.scene import write_y4m

    clip = write_y4m(tmp_path / "short.y4m", 800, 240, fps=10, seconds_per_step=0.1)  # 5 frames
    errors: list[EngineErrorCode] = []

    async def scenario() -> list[tuple[int, int]]:
        local = LocalMedia(camera=str(clip), microphone=None, report_error=errors.append)
        audio, video = local.tracks(lambda k, f, t: None, lambda: True, lambda: True)
        sizes = [(f.width, f.height) for f in
                 [await asyncio.wait_for(video.recv(), 5) for _ in range(8)]]
        audio.stop()
        video.stop()
        await local.close()
        return sizes

    sizes = asyncio.run(scenario())
    assert sizes[0] == (800, 240)
    assert sizes[-1] == (640, 360)  # the "camera non disponibile" card
    assert errors == [EngineErrorCode.CAMERA_UNAVAILABLE]


def test_the_operators_video_bitrate_is_capped() -> None:
    """aiortc's encoder follows the applicant's bandwidth estimate only up to the engine's cap
    (the operator's small picture gains nothing from more; it costs encoding time)."""
    from aiortc.codecs import h264, vpx

    before = (vpx.MAX_BITRATE, h264.MAX_BITRATE)
    try:
        MediaEngine(None, camera=None, microphone=None, send_max_kbps=600)
        encoder = vpx.Vp8Encoder()
        encoder.target_bitrate = 5_000_000  # what a generous estimate asks for
        assert encoder.target_bitrate == 600_000
        encoder.target_bitrate = 300_000
        assert encoder.target_bitrate == 300_000  # below the cap: followed
        capped = max(h264.MIN_BITRATE, 600_000)  # never below H.264's own floor
        assert capped == h264.MAX_BITRATE
    finally:
        vpx.MAX_BITRATE, h264.MAX_BITRATE = before
