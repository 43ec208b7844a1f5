"""Media tracks of the synthetic applicant: the scene video (with the frame stamp) and a
generated audio track. Both take their time from `time.time()`, so a white flash on the video
and a beep on the audio happen in the same wall-clock window (A/V sync tests)."""

from __future__ import annotations

import asyncio
import fractions
import logging
import math
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import av
import av.container
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

from demo.applicant.scene import (
    SWAY_PX,
    Gesture,
    SceneRenderer,
    Step,
    flash_active,
    sway_at,
    sway_track,
)
from media import framestamp
from media.pacing import VIDEO_TIME_BASE, FramePacer

logger = logging.getLogger(__name__)

AUDIO_RATE = 48_000
AUDIO_PTIME = 0.020
AUDIO_SAMPLES = int(AUDIO_RATE * AUDIO_PTIME)


@dataclass
class SceneState:
    """What the person is doing; changed by the peer logic, read by the video track."""

    step: Step = Step.FACE
    gesture: Gesture = Gesture.NONE
    gesture_until: float = 0.0
    nod_until: float = 0.0
    flash_period: float = 4.0
    flash_duration: float = 0.1
    stamp: bool = True
    motion: bool = True  # hand-held camera sway (gives the encoder realistic work)
    frozen: bool = False  # test: media and control fall silent (UDP blocked, socket alive)
    frames_sent: int = 0
    _fps_window: list[float] = field(default_factory=list)

    def current_gesture(self, now: float) -> Gesture:
        if now < self.nod_until:  # nodding: head down / up every 0.4 s
            return Gesture.LOOK_DOWN if int((self.nod_until - now) / 0.4) % 2 else Gesture.NONE
        if self.gesture is not Gesture.NONE and now >= self.gesture_until:
            self.gesture = Gesture.NONE
        return self.gesture

    def perform(self, gesture: Gesture, seconds: float = 5.0, nod: bool = False) -> None:
        """Start a gesture for `seconds` (a nod: two head movements in 1.6 s)."""
        now = time.time()
        if nod:
            self.nod_until = now + 1.6
            return
        self.gesture = gesture
        self.gesture_until = now + seconds

    # first version's names
    def current_hand(self, now: float) -> Gesture:
        return self.current_gesture(now)

    def raise_hand(self, hand: Gesture, seconds: float = 5.0) -> None:
        self.perform(hand, seconds)

    def count_frame(self, now: float) -> None:
        self.frames_sent += 1
        self._fps_window.append(now)
        cutoff = now - 2.0
        while self._fps_window and self._fps_window[0] < cutoff:
            self._fps_window.pop(0)

    def measured_fps(self) -> float:
        w = self._fps_window
        if len(w) < 2:
            return 0.0
        return (len(w) - 1) / max(1e-6, w[-1] - w[0])


class SyntheticVideoTrack(MediaStreamTrack):
    """The scene at `fps`, I420, stamped with the wall-clock send time in ms."""

    kind = "video"

    def __init__(self, renderer: SceneRenderer, state: SceneState, fps: int = 30) -> None:
        super().__init__()
        self._renderer = renderer
        self._state = state
        self._pacer = FramePacer(max(1, fps))
        self._sway = sway_track(secrets.randbits(31))

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        while self._state.frozen:
            await asyncio.sleep(0.1)
        n = await self._pacer.wait()
        now = time.time()
        st = self._state
        r = self._renderer
        flash = flash_active(now, st.flash_period, st.flash_duration)
        sway = (0, 0)
        if st.motion:  # a person's sway: smooth and random, never a loop
            sx, sy = sway_at(self._sway, now - self._pacer.origin)
            sway = (round(SWAY_PX[0] * sx), round(SWAY_PX[1] * sy))
        buf = r.video_frame(st.step, st.current_gesture(now), n, flash, sway)
        if st.stamp:
            framestamp.paint_i420(buf, r.width, r.height, int(now * 1000))
        frame = VideoFrame.from_ndarray(buf, format="yuv420p")
        frame.pts = self._pacer.pts_at(now)  # the capture clock, as a camera's
        frame.time_base = VIDEO_TIME_BASE
        st.count_frame(now)
        return frame


class SyntheticAudioTrack(MediaStreamTrack):
    """48 kHz mono s16 in 20 ms frames: speech-like voiced sound with pauses ('speech'),
    a steady 440 Hz tone ('tone') or silence; plus a 1 kHz beep inside each flash window."""

    kind = "audio"

    def __init__(self, state: SceneState, mode: str = "speech") -> None:
        super().__init__()
        if mode not in ("speech", "tone", "silence"):
            raise ValueError(f"unknown audio mode {mode!r}")
        self._state = state
        self._mode = mode
        self._start: float | None = None
        self._epoch = 0.0
        self._ts = 0
        self._rng = np.random.default_rng(1)

    def samples(self, t: np.ndarray) -> np.ndarray:
        """Float samples in [-1, 1] at absolute wall-clock times `t` (seconds)."""
        rel = t - self._epoch
        out = np.zeros_like(t)
        if self._mode == "speech":
            talking = (rel % 3.1) < 2.3
            syllables = 0.5 * (1.0 - np.cos(2 * math.pi * 3.7 * rel)) ** 1.5
            # f0 = 175 + 25 sin(2 pi 0.7 t): integrate for a continuous phase
            phase = 2 * math.pi * (175.0 * rel - (25.0 / (2 * math.pi * 0.7))
                                   * np.cos(2 * math.pi * 0.7 * rel))
            voiced = sum(np.sin(k * phase) / k for k in range(1, 7))
            out += 0.18 * voiced * syllables * talking
            out += 0.01 * self._rng.standard_normal(t.shape)
        elif self._mode == "tone":
            out += 0.2 * np.sin(2 * math.pi * 440.0 * rel)
        st = self._state
        if st.flash_period > 0:
            beep = (t % st.flash_period) < st.flash_duration
            if beep.any():
                out = np.where(beep, 0.5 * np.sin(2 * math.pi * 1000.0 * rel), out)
        return np.clip(out, -1.0, 1.0)

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        while self._state.frozen:
            await asyncio.sleep(0.1)
        if self._start is None:
            self._start = time.time()
            self._epoch = math.floor(self._start / 1000.0) * 1000.0
            self._ts = 0
        else:
            self._ts += AUDIO_SAMPLES
            wait = self._start + self._ts / AUDIO_RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -0.5:
                self._start = time.time() - self._ts / AUDIO_RATE
        t = self._start + (self._ts + np.arange(AUDIO_SAMPLES)) / AUDIO_RATE
        pcm = (self.samples(t) * 32767).astype(np.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._ts
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame


_PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class ClipSource:
    """Frames of a video file (anything PyAV opens: y4m, mp4, mkv…; looped) or of a picture
    file (the same frame for ever), as I420 buffers of width × height."""

    def __init__(self, path: str, width: int, height: int) -> None:
        self.path = path
        self.width = width
        self.height = height
        self.fps = 0.0  # 0: a picture
        self._still: np.ndarray | None = None
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[VideoFrame] | None = None
        if path.lower().endswith(_PICTURE_SUFFIXES):
            import cv2

            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f"cannot read the picture {path}")
            img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
            self._still = np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420))
        else:
            self._open()

    def _open(self) -> None:
        if self._container is not None:
            self._container.close()
        try:
            self._container = av.open(self.path)
        except (av.FFmpegError, OSError) as exc:
            raise ValueError(f"cannot open the clip {self.path}: {exc}") from None
        stream = self._container.streams.video[0]
        self.fps = float(stream.average_rate or stream.guessed_rate or 25)
        self._frames = self._container.decode(stream)

    def next_i420(self) -> np.ndarray:
        if self._still is not None:
            return self._still.copy()
        for attempt in range(2):
            assert self._frames is not None
            frame = next(self._frames, None)
            if frame is not None:
                out = frame.reformat(width=self.width, height=self.height, format="yuv420p")
                return np.ascontiguousarray(out.to_ndarray())
            if attempt == 0:
                self._open()  # loop
        raise ValueError(f"no video frames in {self.path}")

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


class ClipVideoTrack(MediaStreamTrack):
    """A file played as the camera (a replay or a photo: what an attacker injects), at the
    clip's own frame rate (`fps` for a picture), stamped like the live scene."""

    kind = "video"

    def __init__(self, path: str, width: int, height: int, state: SceneState,
                 fps: int = 30) -> None:
        super().__init__()
        self._source = ClipSource(path, width, height)
        self._state = state
        self._pacer = FramePacer(self._source.fps or float(max(1, fps)))

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._pacer.wait()
        buf = await asyncio.get_running_loop().run_in_executor(None, self._source.next_i420)
        now = time.time()
        if self._state.stamp:
            framestamp.paint_i420(buf, self._source.width, self._source.height, int(now * 1000))
        frame = VideoFrame.from_ndarray(buf, format="yuv420p")
        frame.pts = self._pacer.pts_at(now)
        frame.time_base = VIDEO_TIME_BASE
        self._state.count_frame(now)
        return frame

    def stop(self) -> None:
        super().stop()
        self._source.close()
