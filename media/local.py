"""The operator's local media: camera and microphone through PyAV when present, otherwise a
clear placeholder picture ("camera non disponibile") and silence, never a crash.

Each peer connection gets fresh `TapTrack`s over the same sources: they apply mute/disable
and hand every frame sent to the media sinks (the evidence recorder)."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import os
import stat
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

from media.api import EngineErrorCode
from media.pacing import VIDEO_TIME_BASE, FramePacer

logger = logging.getLogger(__name__)

AUDIO_RATE = 48_000
AUDIO_SAMPLES = 960  # 20 ms

SinkFanout = Callable[[str, Any, float], None]

#: ``camera="synthetic"``: a camera for benchmarks and demos on machines without one -- FFmpeg's
#: moving test picture (lavfi ``testsrc2``) with sensor-like noise, at the size and rate asked of a
#: camera; ``synthetic:WxH@FPS`` fixes its own (what a camera opened at that mode would send).
#: About 0.5 ms of CPU per 1280x720 frame, less than decoding a real camera's MJPEG.
SYNTHETIC_CAMERA = "synthetic"


def render_card(width: int, height: int, text: str) -> np.ndarray:
    """A dark card with a camera icon and `text`, as I420 (height*3/2, width)."""
    img = np.full((height, width, 3), (48, 40, 36), dtype=np.uint8)
    cx, cy = width // 2, height // 2 - height // 10
    s = max(8, height // 9)
    cv2.rectangle(img, (cx - 2 * s, cy - s), (cx + s, cy + s), (200, 200, 200), 3, cv2.LINE_AA)
    pts = np.array([[cx + s, cy - s // 2], [cx + 2 * s, cy - s], [cx + 2 * s, cy + s],
                    [cx + s, cy + s // 2]], dtype=np.int32)
    cv2.polylines(img, [pts], True, (200, 200, 200), 3, cv2.LINE_AA)
    cv2.line(img, (cx - 2 * s - 10, cy + s + 10), (cx + 2 * s + 10, cy - s - 10), (80, 80, 230), 4,
             cv2.LINE_AA)
    scale = height / 420
    size, _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    org = ((width - size[0]) // 2, cy + 2 * s + size[1] + 10)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), 2, cv2.LINE_AA)
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420))


class PlaceholderVideoTrack(MediaStreamTrack):
    """A still card at a low frame rate (cheap to encode): shown when there is no camera."""

    kind = "video"

    def __init__(self, text: str = "camera non disponibile", width: int = 640,
                 height: int = 360, fps: int = 10) -> None:
        super().__init__()
        self._buf = render_card(width, height, text)
        self._pacer = FramePacer(fps, resync_s=None)

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._pacer.wait()
        frame = VideoFrame.from_ndarray(self._buf, format="yuv420p")
        frame.pts = self._pacer.pts_of_frame()
        frame.time_base = VIDEO_TIME_BASE
        return frame


class SilenceTrack(MediaStreamTrack):
    """48 kHz mono silence in 20 ms frames."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._start: float | None = None
        self._ts = 0

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        else:
            self._ts += AUDIO_SAMPLES
            wait = self._start + self._ts / AUDIO_RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        return silent_frame(AUDIO_SAMPLES, "mono", self._ts, AUDIO_RATE)


def silent_frame(samples: int, layout: str, pts: int | None, rate: int) -> AudioFrame:
    frame = AudioFrame(format="s16", layout=layout, samples=samples)
    for p in frame.planes:
        p.update(bytes(p.buffer_size))
    frame.pts = pts
    frame.sample_rate = rate
    frame.time_base = fractions.Fraction(1, rate)
    return frame


_BLACK: dict[tuple[int, int], np.ndarray] = {}


def black_frame(width: int, height: int) -> VideoFrame:
    key = (width, height)
    if key not in _BLACK:
        buf = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
        buf[:height] = 16
        _BLACK[key] = buf
    return VideoFrame.from_ndarray(_BLACK[key], format="yuv420p")


class SourcePump:
    """Reads a source continuously (a camera must be drained even between peer connections)
    and copies each frame to the small queues of its subscribers (oldest dropped when full)."""

    def __init__(self, source: MediaStreamTrack, depth: int,
                 fallback: Callable[[], MediaStreamTrack] | None = None) -> None:
        self.source = source
        self._depth = depth
        self._fallback = fallback
        self._subs: set[asyncio.Queue[Any]] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        frame: Any = None
        try:
            while True:
                try:
                    frame = await self.source.recv()
                except MediaStreamError:
                    logger.warning("local %s source ended", self.source.kind)
                    if self._fallback is None:
                        raise
                    # a camera unplugged or failing mid-call: carry on with the placeholder
                    self.source.stop()
                    self.source = self._fallback()
                    self._fallback = None
                    continue
                self._push(frame)
        except MediaStreamError:
            pass
        finally:
            self._push(None)

    def _push(self, frame: Any) -> None:
        for q in list(self._subs):
            if q.full():
                q.get_nowait()
            q.put_nowait(frame)

    def subscribe(self) -> asyncio.Queue[Any]:
        q: asyncio.Queue[Any] = asyncio.Queue(maxsize=self._depth)
        self._subs.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[Any]) -> None:
        self._subs.discard(q)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self.source.stop()


class TapTrack(MediaStreamTrack):
    """One peer connection's view of a local source: replaces frames while muted/disabled and
    feeds the media sinks. Stopping it (when its peer connection closes) leaves the source
    running."""

    def __init__(self, pump: SourcePump, tap_kind: str, fanout: SinkFanout,
                 enabled: Callable[[], bool]) -> None:
        super().__init__()
        self.kind = pump.source.kind
        self._pump = pump
        self._queue = pump.subscribe()
        self._tap_kind = tap_kind
        self._fanout = fanout
        self._enabled = enabled

    async def recv(self) -> Any:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._queue.get()
        if frame is None:
            self.stop()
            raise MediaStreamError
        if not self._enabled():
            if isinstance(frame, VideoFrame):
                out = black_frame(frame.width, frame.height)
                out.pts, out.time_base = frame.pts, frame.time_base
                frame = out
            elif isinstance(frame, AudioFrame):
                frame = silent_frame(frame.samples, frame.layout.name, frame.pts,
                                     frame.sample_rate)
        self._fanout(self._tap_kind, frame, time.monotonic())
        return frame

    def stop(self) -> None:
        self._pump.unsubscribe(self._queue)
        super().stop()


_CAPTURE_FORMATS = ("v4l2", "video4linux2", "avfoundation", "dshow")


def _is_char_device(path: str) -> bool:
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


class LocalMedia:
    """Opens the camera and the microphone once; hands out tap tracks per peer connection.

    camera: a device ("/dev/video0"), "auto" (the first /dev/video* if any), "synthetic" (see
    ``SYNTHETIC_CAMERA``), or None (no camera).
    microphone: a PyAV input ("default" with microphone_format "pulse" or "alsa"), "auto",
    or None (silence).
    """

    def __init__(
        self,
        camera: str | None = "auto",
        camera_format: str | None = None,
        camera_size: tuple[int, int] = (1280, 720),
        camera_fps: int = 30,
        microphone: str | None = "auto",
        microphone_format: str | None = None,
        report_error: Callable[[EngineErrorCode], None] | None = None,
    ) -> None:
        self._camera = camera
        self._camera_format = camera_format
        self._camera_size = camera_size
        self._camera_fps = camera_fps
        self._microphone = microphone
        self._microphone_format = microphone_format
        self._report = report_error or (lambda code: None)
        self._players: list[MediaPlayer] = []
        self.video_pump: SourcePump | None = None
        self.audio_pump: SourcePump | None = None
        self.camera_ok = False
        self.microphone_ok = False

    def open(self) -> None:
        """Open the devices (call on the engine's loop)."""
        if self.video_pump is None:
            self.video_pump = SourcePump(self._open_camera(), depth=2,
                                         fallback=self._camera_lost)
            self.video_pump.start()
        if self.audio_pump is None:
            self.audio_pump = SourcePump(self._open_microphone(), depth=10,
                                         fallback=self._microphone_lost)
            self.audio_pump.start()

    def _camera_lost(self) -> MediaStreamTrack:
        self.camera_ok = False
        self._report(EngineErrorCode.CAMERA_UNAVAILABLE)
        return PlaceholderVideoTrack()

    def _microphone_lost(self) -> MediaStreamTrack:
        self.microphone_ok = False
        self._report(EngineErrorCode.MICROPHONE_UNAVAILABLE)
        return SilenceTrack()

    def _synthetic_camera(self, spec: str) -> MediaStreamTrack:
        w, h = self._camera_size
        fps: float = self._camera_fps
        mode = spec[len(SYNTHETIC_CAMERA) + 1:]
        if mode:
            size, _, rate = mode.partition("@")
            try:
                sw, sh = (int(v) for v in size.lower().split("x"))
                w, h = sw, sh
                fps = float(rate) if rate else fps
            except ValueError:
                logger.warning("synthetic camera mode %r not understood: %dx%d@%g used", mode,
                               w, h, fps)
        graph = f"testsrc2=size={w}x{h}:rate={fps:g},noise=alls=6:allf=t"
        player = MediaPlayer(graph, format="lavfi")
        if player.video is None:  # pragma: no cover - lavfi always has a video stream
            raise RuntimeError("synthetic camera without video")
        self._players.append(player)
        self.camera_ok = True
        logger.info("synthetic camera %dx%d at %g fps", w, h, fps)
        return player.video

    def _open_camera(self) -> MediaStreamTrack:
        device = self._camera
        if device is not None and (device == SYNTHETIC_CAMERA
                                   or device.startswith(SYNTHETIC_CAMERA + ":")):
            try:
                return self._synthetic_camera(device)
            except Exception as exc:  # an FFmpeg without lavfi
                logger.warning("synthetic camera unavailable (%s): placeholder sent",
                               type(exc).__name__)
                self._report(EngineErrorCode.CAMERA_UNAVAILABLE)
                return PlaceholderVideoTrack()
        if device == "auto":
            candidates = sorted(
                f"/dev/{n}" for n in os.listdir("/dev") if n.startswith("video")
            ) if os.path.isdir("/dev") else []
            device = next((c for c in candidates if _is_char_device(c)), None)
            if device is None:
                logger.info("no camera found: sending the placeholder picture")
                self._report(EngineErrorCode.CAMERA_UNAVAILABLE)
                return PlaceholderVideoTrack()
        if device is None:
            return PlaceholderVideoTrack()
        w, h = self._camera_size
        fmt = self._camera_format or ("v4l2" if device.startswith("/dev/") else None)
        options: dict[str, str] = {}
        if fmt in _CAPTURE_FORMATS:  # capture devices take a size and rate; files must not
            options = {"video_size": f"{w}x{h}", "framerate": str(self._camera_fps)}
        try:
            player = MediaPlayer(device, format=fmt, options=options)
        except Exception as exc:  # PyAV raises various errors for missing/busy devices
            logger.warning("camera %s unavailable (%s): placeholder sent", device,
                           type(exc).__name__)
            self._report(EngineErrorCode.CAMERA_UNAVAILABLE)
            return PlaceholderVideoTrack()
        if player.video is None:
            self._report(EngineErrorCode.CAMERA_UNAVAILABLE)
            return PlaceholderVideoTrack()
        self._players.append(player)
        self.camera_ok = True
        logger.info("camera %s opened", device)
        return player.video

    def _open_microphone(self) -> MediaStreamTrack:
        if self._microphone is None:
            return SilenceTrack()
        tries: list[tuple[str, str | None]]
        if self._microphone == "auto":
            tries = [("default", "pulse"), ("default", "alsa")]
        else:
            tries = [(self._microphone, self._microphone_format)]
        for device, fmt in tries:
            try:
                player = MediaPlayer(device, format=fmt)
            except Exception as exc:
                logger.debug("microphone %s/%s: %s", device, fmt, type(exc).__name__)
                continue
            if player.audio is not None:
                self._players.append(player)
                self.microphone_ok = True
                logger.info("microphone opened (%s)", fmt or "default format")
                return player.audio
        logger.info("no microphone: sending silence")
        self._report(EngineErrorCode.MICROPHONE_UNAVAILABLE)
        return SilenceTrack()

    def tracks(self, fanout: SinkFanout, camera_enabled: Callable[[], bool],
               mic_enabled: Callable[[], bool]) -> tuple[TapTrack, TapTrack]:
        self.open()
        assert self.audio_pump is not None and self.video_pump is not None
        return (
            TapTrack(self.audio_pump, "operator_audio", fanout, mic_enabled),
            TapTrack(self.video_pump, "operator_video", fanout, camera_enabled),
        )

    async def close(self) -> None:
        for pump in (self.video_pump, self.audio_pump):
            if pump is not None:
                await pump.close()
        self.video_pump = self.audio_pump = None
        self._players.clear()
