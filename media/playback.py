"""Playback of a session recording for the trainers' player: demux, decode, seek (no Qt).

A :class:`PlaybackEngine` owns a thread of its own and three PyAV containers on the recording
(one per video stream, one for the audio): every decode happens on that thread; the caller only
posts commands (:meth:`seek`, :meth:`step`, :meth:`play`, :meth:`pause`) and receives
callbacks from the playback thread (``on_frames``, ``on_audio``, ``on_state``) that must only
hand the data over (the Qt side re-emits them as queued signals).

Seeking: at open the packets of each video stream are indexed (demux only, no decode: the
timestamps of every frame and of every keyframe). A seek to ``t`` finds the frame shown at
``t`` (the last frame with pts <= t), seeks the container to the keyframe before it and decodes
forward to it. The recorder writes a keyframe at least every 2 s (``media.recorder``, gop_s <= 2),
so a seek decodes at most ~2 s of frames per stream.

Video gaps (lost connection) have no frames; the frame shown is the last one before the gap.
"""

from __future__ import annotations

import bisect
import concurrent.futures
import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

log = logging.getLogger(__name__)

VIDEO_KINDS = ("applicant_video", "operator_video")
AUDIO_KINDS = ("applicant_audio", "operator_audio")
AUDIO_RATE = 48_000
AUDIO_AHEAD_S = 0.25  # audio decoded ahead of the picture while playing


class PlaybackError(RuntimeError):
    """The recording cannot be played (missing, unreadable, no video stream)."""


@dataclass
class StreamIndex:
    """Every frame's pts (seconds) of one video stream, and which of them are keyframes."""

    kind: str
    index: int
    width: int
    height: int
    times: list[float] = field(default_factory=list)
    key_times: list[float] = field(default_factory=list)

    def frame_at(self, t: float) -> float | None:
        """The pts of the frame on screen at ``t`` (last frame with pts <= t; first frame
        before the start)."""
        if not self.times:
            return None
        i = bisect.bisect_right(self.times, t + 1e-6) - 1
        return self.times[max(0, i)]

    def neighbour(self, t: float, delta: int) -> float | None:
        """The pts ``delta`` frames from the frame shown at ``t``."""
        if not self.times:
            return None
        i = max(0, bisect.bisect_right(self.times, t + 1e-6) - 1)
        j = min(len(self.times) - 1, max(0, i + delta))
        return self.times[j]

    def key_before(self, t: float) -> float:
        if not self.key_times:
            return 0.0
        i = bisect.bisect_right(self.key_times, t + 1e-6) - 1
        return self.key_times[max(0, i)]

    @property
    def frame_duration(self) -> float:
        if len(self.times) < 2:
            return 0.04
        span = self.times[-1] - self.times[0]
        return span / (len(self.times) - 1) if span > 0 else 0.04


@dataclass
class RecordingInfo:
    path: Path
    duration_s: float
    videos: dict[str, StreamIndex]
    audio_kinds: list[str]
    index_seconds: float = 0.0


def _stream_kind(stream: Any, fallback: str) -> str:
    title = str(stream.metadata.get("title", "") or stream.metadata.get("TITLE", ""))
    return title if title else fallback


def probe(path: str | os.PathLike[str], index: bool = False) -> RecordingInfo:
    """Streams and duration of a recording; with ``index`` also every video frame's time and
    keyframe (demux only, no decoding: ~10 s for 15 minutes here, so the player does not
    index: FFmpeg's seek lands on the keyframe before through the Matroska cues)."""
    p = Path(path)
    if not p.is_file():
        raise PlaybackError(f"{p.name}: no such recording")
    t0 = time.perf_counter()
    try:
        container = av.open(str(p), mode="r")
    except (av.FFmpegError, OSError) as exc:
        raise PlaybackError(f"{p.name}: not a readable recording ({type(exc).__name__})") from exc
    try:
        videos: dict[str, StreamIndex] = {}
        by_index: dict[int, StreamIndex] = {}
        audio_kinds: list[str] = []
        for n, s in enumerate(container.streams.video):
            kind = _stream_kind(s, VIDEO_KINDS[n] if n < len(VIDEO_KINDS) else f"video{n}")
            idx = StreamIndex(kind, s.index, int(s.codec_context.width or 0),
                              int(s.codec_context.height or 0))
            videos[kind] = idx
            by_index[s.index] = idx
        for n, a in enumerate(container.streams.audio):
            audio_kinds.append(_stream_kind(a, AUDIO_KINDS[n] if n < len(AUDIO_KINDS)
                                            else f"audio{n}"))
        if not videos:
            raise PlaybackError(f"{p.name}: the recording has no video stream")
        end = 0.0
        streams = list(container.streams.video) if index else []
        try:
            for packet in (container.demux(*streams) if streams else ()):
                if packet.pts is None or packet.size == 0:
                    continue
                idx = by_index[packet.stream.index]
                t = float(packet.pts * packet.time_base)
                idx.times.append(t)
                if packet.is_keyframe:
                    idx.key_times.append(t)
                end = max(end, t + float((packet.duration or 0) * packet.time_base))
        except av.FFmpegError as exc:  # a torn end (crash): keep what was read
            log.warning("recording index stopped early (%s)", type(exc).__name__)
        for idx in videos.values():
            idx.times.sort()
            idx.key_times.sort()
        duration = end
        if container.duration:
            duration = max(duration, container.duration / av.time_base)
    finally:
        container.close()
    return RecordingInfo(p, duration, videos, audio_kinds, time.perf_counter() - t0)


class VideoDecoder:
    """One container positioned on one video stream: frame at time t, the next frame."""

    def __init__(self, path: Path, index: StreamIndex) -> None:
        self.index = index
        self.container = av.open(str(path), mode="r")
        stream: Any = self.container.streams[index.index]
        stream.thread_type = "AUTO"  # frame threads: faster seeks
        self.stream = stream
        self._frames: Any = None
        self.current: av.VideoFrame | None = None
        self.current_t: float | None = None
        self._pending: av.VideoFrame | None = None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()

    def _iter(self) -> Any:
        for packet in self.container.demux(self.stream):
            try:
                yield from packet.decode()
            except av.FFmpegError:
                log.debug("undecodable packet skipped")

    def _next(self) -> av.VideoFrame | None:
        if self._pending is not None:
            f, self._pending = self._pending, None
            return f
        if self._frames is None:
            self._frames = self._iter()
        try:
            return next(self._frames)  # type: ignore[no-any-return]
        except StopIteration:
            return None

    @staticmethod
    def _t(frame: av.VideoFrame) -> float:
        return float(frame.pts * frame.time_base) if frame.pts is not None else 0.0

    def seek(self, t: float) -> av.VideoFrame | None:
        """Decode and return the frame shown at ``t`` (from the keyframe before it)."""
        nxt = self.peek_time() if self.current_t is not None else None
        if (self.current_t is not None and self.current_t <= t + 1e-6
                and (nxt is None or t - nxt < 0.25)):
            return self.advance_to(t)  # a few frames forward: no seek needed
        for back in (0.0, 2.5, 10.0):
            self._seek_container(max(0.0, t - back))
            first = self.peek_time()
            if first is None or first <= t + 1e-6 or t - back <= 0.0:
                break  # the seek landed before t (or at the very start)
        self.advance_to(t)
        if self.current is None and self._pending is not None:  # t before the first frame
            self.current, self.current_t = self._pending, self._t(self._pending)
            self._pending = None
        return self.current

    def _seek_container(self, t: float) -> None:
        tb = self.stream.time_base
        self.container.seek(int(t / tb), stream=self.stream, backward=True, any_frame=False)
        self._frames = None
        self._pending = None
        self.current = None
        self.current_t = None

    def peek_time(self) -> float | None:
        """The time of the next frame (decoded ahead and kept), None at the end."""
        if self._pending is None:
            self._pending = self._next()
        return None if self._pending is None else self._t(self._pending)

    def previous_time(self) -> float | None:
        """A time that shows the frame before the current one."""
        return None if self.current_t is None else max(0.0, self.current_t - 1e-3)

    def advance_to(self, t: float) -> av.VideoFrame | None:
        """Decode forward to the last frame with pts <= t (stays put if already there)."""
        while True:
            frame = self._next()
            if frame is None:
                break
            ft = self._t(frame)
            if ft > t + 1e-6:
                self._pending = frame
                break
            self.current, self.current_t = frame, ft
        return self.current


class AudioDecoder:
    """Both audio streams of the recording decoded and mixed to mono s16 at 48 kHz."""

    def __init__(self, path: Path) -> None:
        self.container = av.open(str(path), mode="r")
        self.streams = list(self.container.streams.audio)
        self._resamplers = {s.index: av.AudioResampler(format="s16", layout="mono",
                                                       rate=AUDIO_RATE) for s in self.streams}
        self._frames: Any = None
        self._mix: dict[int, np.ndarray] = {}  # sample position -> int32 sums, by 20 ms slot
        self.position_s = 0.0  # audio handed out up to here

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()

    def seek(self, t: float) -> None:
        if not self.streams:
            return
        s = self.streams[0]
        with contextlib.suppress(av.FFmpegError):
            self.container.seek(int(max(0.0, t - 0.1) / s.time_base), stream=s, backward=True)
        self._frames = None
        self._mix.clear()
        self.position_s = t

    def _iter(self) -> Any:
        for packet in self.container.demux(*self.streams):
            try:
                for frame in packet.decode():
                    yield packet.stream.index, frame
            except av.FFmpegError:
                log.debug("undecodable audio packet skipped")

    def read_until(self, t: float) -> bytes:
        """Mixed PCM from the current position up to ``t`` (s16 mono 48 kHz)."""
        if not self.streams or t <= self.position_s:
            return b""
        if self._frames is None:
            self._frames = self._iter()
        start = round(self.position_s * AUDIO_RATE)
        end = round(t * AUDIO_RATE)
        out = np.zeros(end - start, dtype=np.int32)
        self._mix_into(out, start)
        # decode until every stream has passed `end` or the file ends
        seen_end: set[int] = set()
        while len(seen_end) < len(self.streams):
            try:
                sidx, frame = next(self._frames)
            except StopIteration:
                break
            if frame.pts is None:
                continue
            ft = float(frame.pts * frame.time_base)
            for res in self._resamplers[sidx].resample(frame):
                data = res.to_ndarray().reshape(-1).astype(np.int32)
                pos = round(ft * AUDIO_RATE)
                self._add(out, start, pos, data)
                ft += res.samples / AUDIO_RATE
            if ft * AUDIO_RATE >= end:
                seen_end.add(sidx)
        self.position_s = t
        return np.clip(out, -32768, 32767).astype(np.int16).tobytes()

    def _add(self, out: np.ndarray, start: int, pos: int, data: np.ndarray) -> None:
        end = start + out.size
        a, b = max(pos, start), min(pos + data.size, end)
        if b > a:
            out[a - start:b - start] += data[a - pos:b - pos]
        if pos + data.size > end:  # keep what lies beyond for the next read
            tail_from = max(end, pos)
            self._mix[tail_from] = data[tail_from - pos:]

    def _mix_into(self, out: np.ndarray, start: int) -> None:
        kept, self._mix = self._mix, {}
        for pos, data in kept.items():
            self._add(out, start, pos, data)


@dataclass
class Frames:
    """What the playback thread shows at one position."""

    position_s: float
    applicant: av.VideoFrame | None
    operator: av.VideoFrame | None
    applicant_t: float | None
    operator_t: float | None
    reason: str  # seek | step | play
    request_id: int = 0
    decode_ms: float = 0.0


class PlaybackEngine:
    """The player's decoding thread. All public methods may be called from any thread."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        on_frames: Callable[[Frames], None],
        on_audio: Callable[[bytes], None] | None = None,
        on_state: Callable[[str], None] | None = None,
        info: RecordingInfo | None = None,
    ) -> None:
        self.info = info or probe(path)
        self._on_frames = on_frames
        self._on_audio = on_audio
        self._on_state = on_state
        self._commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._position = 0.0
        self._playing = False
        self._lock = threading.Lock()
        self.error: str | None = None
        self.rate = 1.0
        self._pool = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="playback-seek")

    # ------------------------------------------------------------------ caller side
    @property
    def duration_s(self) -> float:
        return self.info.duration_s

    @property
    def position_s(self) -> float:
        with self._lock:
            return self._position

    @property
    def playing(self) -> bool:
        return self._playing

    def start(self) -> PlaybackEngine:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="playback", daemon=True)
            self._thread.start()
        return self

    def seek(self, t: float, request_id: int = 0) -> None:
        self._commands.put(("seek", (max(0.0, min(t, self.info.duration_s)), request_id)))

    def step(self, frames: int) -> None:
        self._commands.put(("step", frames))

    def play(self) -> None:
        self._commands.put(("play", None))

    def pause(self) -> None:
        self._commands.put(("pause", None))

    def stop(self, timeout: float = 5.0) -> None:
        self._commands.put(("quit", None))
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("playback thread did not stop in %.0f s", timeout)
            self._thread = None
        self._pool.shutdown(wait=True)

    # ------------------------------------------------------------------ playback thread
    def _state(self, state: str) -> None:
        if self._on_state is not None:
            self._on_state(state)

    def _run(self) -> None:
        decoders: dict[str, VideoDecoder] = {}
        audio: AudioDecoder | None = None
        try:
            for kind, idx in self.info.videos.items():
                decoders[kind] = VideoDecoder(self.info.path, idx)
            if self.info.audio_kinds:
                audio = AudioDecoder(self.info.path)
        except (av.FFmpegError, OSError) as exc:
            self.error = type(exc).__name__
            log.error("playback could not open the recording (%s)", self.error)
            self._state("error")
            for d in decoders.values():
                d.close()
            return
        try:
            self._loop(decoders, audio)
        except Exception as exc:  # never kill the process; report the state
            log.exception("playback failed")
            self.error = type(exc).__name__
            self._state("error")
        finally:
            for d in decoders.values():
                d.close()
            if audio is not None:
                audio.close()

    def _show(self, decoders: dict[str, VideoDecoder], t: float, reason: str,
              request_id: int = 0, seek: bool = True, emit: bool = True) -> None:
        t0 = time.perf_counter()
        shown: dict[str, av.VideoFrame | None] = {}
        if seek and len(decoders) > 1:
            # each stream has its own container: decode them side by side (FFmpeg releases
            # the GIL while it decodes), the seek costs the slower stream, not the sum
            futures = {kind: self._pool.submit(dec.seek, t) for kind, dec in decoders.items()}
            for kind, fut in futures.items():
                shown[kind] = fut.result()
        else:
            for kind, dec in decoders.items():
                shown[kind] = dec.seek(t) if seek else dec.advance_to(t)
        app = decoders.get("applicant_video")
        op = decoders.get("operator_video")
        with self._lock:
            self._position = t
        if not emit:
            return
        self._on_frames(Frames(
            position_s=t,
            applicant=shown.get("applicant_video"),
            operator=shown.get("operator_video"),
            applicant_t=app.current_t if app else None,
            operator_t=op.current_t if op else None,
            reason=reason, request_id=request_id,
            decode_ms=(time.perf_counter() - t0) * 1000))

    def _loop(self, decoders: dict[str, VideoDecoder], audio: AudioDecoder | None) -> None:
        main = decoders.get("applicant_video") or next(iter(decoders.values()))
        self._show(decoders, 0.0, "seek")
        clock_origin = 0.0  # monotonic time at position 0 while playing
        while True:
            timeout = None
            if self._playing:
                nxt = main.peek_time()
                if nxt is None:
                    self._playing = False
                    self._state("ended")
                    continue
                due = clock_origin + nxt / self.rate
                timeout = max(0.0, due - time.monotonic())
            try:
                cmd, arg = self._commands.get(timeout=timeout)
            except queue.Empty:
                cmd, arg = "tick", None
            if cmd == "quit":
                return
            if cmd == "seek":
                t, rid = arg
                # a burst of seeks (dragging): only the last one is decoded
                while True:
                    try:
                        c2, a2 = self._commands.get_nowait()
                    except queue.Empty:
                        break
                    if c2 == "seek":
                        t, rid = a2
                    else:
                        self._commands.put((c2, a2))
                        break
                self._show(decoders, t, "seek", rid)
                if audio is not None:
                    audio.seek(t)
                clock_origin = time.monotonic() - t / self.rate
            elif cmd == "step":
                self._playing = False
                target = None
                for _ in range(abs(int(arg))):
                    target = main.peek_time() if int(arg) > 0 else main.previous_time()
                    if target is None:
                        break
                    self._show(decoders, target, "step", seek=int(arg) < 0, emit=False)
                if target is not None:
                    self._show(decoders, target, "step", seek=False)
                    if audio is not None:
                        audio.seek(target)
                self._state("paused")
            elif cmd == "play":
                if not self._playing:
                    self._playing = True
                    clock_origin = time.monotonic() - self._position / self.rate
                    if audio is not None:
                        audio.seek(self._position)
                    self._state("playing")
            elif cmd == "pause":
                self._playing = False
                self._state("paused")
            elif cmd == "tick" and self._playing:
                nxt = main.peek_time()
                if nxt is None:
                    continue
                self._show(decoders, nxt, "play", seek=False)
                if audio is not None and self._on_audio is not None:
                    pcm = audio.read_until(min(self.info.duration_s, nxt + AUDIO_AHEAD_S))
                    if pcm:
                        self._on_audio(pcm)
