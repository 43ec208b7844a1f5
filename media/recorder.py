"""Session recorder: one crash-safe Matroska file with four synchronised streams.

Design (see docs in the module's report and issue 4):

* ``Recorder(path, ...)`` owns a thread of its own. Producers (the media engine's loop thread,
  the GUI) only call :meth:`Recorder.submit` (or call the recorder itself, which is the sink
  signature ``sink(kind, frame, monotonic_ts)``): it puts the item on a bounded queue with
  ``put_nowait`` and, when the queue is full, drops the item and counts it. Nothing blocks the
  caller; nothing is encoded outside the recorder thread.
* Streams, in this order: ``applicant_video``, ``operator_video`` (H.264, libx264 ``superfast``,
  yuv420p, keyframe forced at least every 2 s), ``applicant_audio``, ``operator_audio`` (Opus,
  48 kHz mono). All streams are placed on one monotonic clock (``start_ts`` = 0 in the file):
  a frame stamped ``ts`` goes at ``ts - start_ts``. Arrival stamps only ever come late (jitter
  buffer, a busy loop), so a video frame that carries its sender timestamp (aiortc's pts) is
  placed at sender time + the least delay of the last ~2 s, and audio -- whose time is its sample
  count -- follows the least-delayed arrivals of the last ~1 s (silence inserted or samples trimmed
  when that drifts by more than 20 ms). Stalls and bursts therefore do not shift lip-sync.
* Crash safety: Matroska with ``cluster_time_limit=1000`` and ``flush_packets=1``; after a
  ``kill -9`` everything but (about) the last second plays. x264 runs without B-frames and with a
  short lookahead so the encoder does not hold back more than a few frames.
* Gaps (lost connection): video gaps are left as gaps -- no frame is written, a player holds the
  last picture (Matroska allows variable frame timing), and the next frame is a keyframe because
  more than 2 s have passed. Audio gaps are filled with silence so that audio time always equals
  sample count (keeps lip-sync after the gap). Each gap longer than ``gap_threshold_s`` is written
  as a ``gap`` marker to the timeline; callers may also mark ``connection_lost`` /
  ``connection_restored`` themselves with :meth:`Recorder.mark`.
* The applicant's video as received (``copy_received_video=True``, what the session evidence
  uses): the applicant stream is VP8 and takes the media engine's whole received frames
  (media.encoded, kind ``applicant_video_encoded``) as they are -- no second encode, the
  applicant's pixels exactly as the operator's decoder got them. A received frame is written
  when its decoded twin (same sender timestamp) arrives: only what the live decoder could
  decode goes in, never a hostile or damaged payload it refused. After a loss or a frame that
  did not decode, the file waits for the next keyframe (the engine asks the sender for one
  about every 2 s); meanwhile the decoded frames are encoded with libvpx, from a keyframe of
  the recorder's own, so the stream has no hole the live call did not have. Without received
  frames (another codec, no tap) every decoded frame is encoded that way; so are the frames of
  a sender above ``RECEIVED_VIDEO_MAX_KBPS`` (bounded evidence size) or without a keyframe for
  ``RECEIVED_KEYFRAME_MAX_S`` (bounded seeks), until it is back in line.
* Markers (script steps, captures, OTP events, decision, gaps) are appended to a sidecar
  JSON-lines timeline as they happen (flushed and fsynced: crash-safe) and written as Matroska
  chapters when the recording is closed normally.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from media.encoded import ENCODED_KIND, RTP_VIDEO_RATE, EncodedVideo

log = logging.getLogger(__name__)

VIDEO_KINDS = ("applicant_video", "operator_video")
AUDIO_KINDS = ("applicant_audio", "operator_audio")
KINDS = VIDEO_KINDS + AUDIO_KINDS

MKV_OPTIONS = {"cluster_time_limit": "1000", "flush_packets": "1"}
#: libx264's preset. ``superfast`` rather than ``veryfast``: 35-40 % less encoding CPU at the same
#: CRF, and no loss of picture quality -- on bench_recorder's 720p content PSNR-Y 39.7 dB and
#: SSIM 0.960 against 38.5 dB and 0.953 -- for about a third more bits (395 -> 527 kbps at 720p,
#: far below the bitrate cap). README, Performance.
X264_PRESET = "superfast"
#: The operator's own camera (640x360, "who spoke and what they did") with ``ultrafast``: 0.64
#: against 2.05 ms a frame for 0.5 dB less PSNR-Y at the same bitrate (noisy 360p15 test
#: picture: 35.65 against 36.12 dB, 924 kbps both), 0.02 core of a call. README, Performance.
X264_PRESETS: dict[str, str] = {"applicant_video": X264_PRESET, "operator_video": "ultrafast"}
#: libvpx for the applicant's stream when it is kept as received, for the decoded frames that
#: could not be (realtime, fastest; a fallback, rarely used)
VP8_OPTIONS = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0",
               "auto-alt-ref": "0", "error-resilient": "0"}
#: The most of the applicant's video kept as received, averaged over RECEIVED_WINDOW_S: above
#: it (a browser sending more than the page asks, a hostile one filling the archive) the
#: recorder encodes the decoded frames at ``video_maxrate_kbps`` until the stream is back
#: under 80 % of it. The page asks for at most 1500 kbps once the call runs (call.js), so the
#: evidence keeps the four streams near 15 MB a minute (README, Performance).
RECEIVED_VIDEO_MAX_KBPS = 2000
RECEIVED_WINDOW_S = 4.0
#: A sender that answers no keyframe request would leave the player decoding from the call's
#: first frame at every seek: past this long without one, the received frames are encoded
#: again (a keyframe every ``gop_s``) until the sender's next keyframe.
RECEIVED_KEYFRAME_MAX_S = 5.0
#: received frames waiting for their decoded twin (the decoder is a few ms behind; on
#: overflow the oldest is given up)
PENDING_MAX = 64
#: The applicant is what the evidence is about: 720p (ETSI TS 119 461's example quality). The
#: operator's own camera is recorded at 360p: it only has to show who spoke and what they did,
#: and it saves ~40 % of the recorder's CPU on a 2-core workstation. Both are configurable.
DEFAULT_VIDEO_SIZES: dict[str, tuple[int, int]] = {
    "applicant_video": (1280, 720), "operator_video": (640, 360)}
AUDIO_RATE = 48_000
OPUS_FRAME = 960  # 20 ms at 48 kHz
MS = Fraction(1, 1000)
AUDIO_JUMP_S = 1.0  # an audio stamp this far from the sample clock is a gap, not a stall
DRIFT_WINDOW = 50  # audio frames (~1 s at 20 ms) over which small drifts are judged
VIDEO_OFFSET_WINDOW = 50  # video frames (~2 s) over which the least delay is taken
CLOCK_RESET_S = 1.0  # a sender clock that jumps more than this is a new clock (new connection)


#: a keyframe "long ago": the next frame encoded is forced to be one
_NO_KEY = -(10**9)


def _stream_of(kind: str) -> str:
    """The stream a sink kind is written to (received frames: the applicant's video)."""
    return "applicant_video" if kind == ENCODED_KIND else kind


class RecorderError(RuntimeError):
    """The recorder could not be started or failed while writing."""


@dataclass
class RecorderStats:
    """Counters for one recording (read with :meth:`Recorder.stats`)."""

    submitted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    written: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    late: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    bad: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    silence_samples: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(AUDIO_KINDS, 0)
    )
    trimmed_samples: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(AUDIO_KINDS, 0)
    )
    encode_cpu_s: float = 0.0
    gaps: int = 0
    copied: int = 0  # applicant frames kept as received
    awaiting_keyframe: int = 0  # received frames not kept: after a loss, before a keyframe
    over_budget: int = 0  # received frames not kept: the stream above RECEIVED_VIDEO_MAX_KBPS
    reencoded: int = 0  # decoded applicant frames encoded because their twin was not kept

    def as_dict(self) -> dict[str, Any]:
        return {
            "submitted": dict(self.submitted),
            "dropped": dict(self.dropped),
            "written": dict(self.written),
            "late": dict(self.late),
            "bad": dict(self.bad),
            "silence_samples": dict(self.silence_samples),
            "trimmed_samples": dict(self.trimmed_samples),
            "encode_cpu_s": round(self.encode_cpu_s, 3),
            "gaps": self.gaps,
            "copied": self.copied,
            "awaiting_keyframe": self.awaiting_keyframe,
            "over_budget": self.over_budget,
            "reencoded": self.reencoded,
        }


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Timeline:
    """Append-only JSON-lines sidecar; each line is flushed and fsynced as it is written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for appends

    def append(self, entry: Mapping[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        with self._lock:
            if self._fh.closed:
                log.warning("timeline closed; marker dropped")
                return
            self._fh.write(line + "\n")
            self._fh.flush()
            with contextlib.suppress(OSError):
                os.fsync(self._fh.fileno())

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        """Read a timeline, skipping a torn last line left by a crash."""
        out: list[dict[str, Any]] = []
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return out
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                log.warning("timeline %s: unreadable line skipped", path.name)
                continue
            if isinstance(obj, dict):
                out.append(obj)
        return out


class _VideoTrack:
    def __init__(
        self, container: av.container.OutputContainer, size: tuple[int, int], fps: int,
        crf: int, maxrate_kbps: int, gop_s: float, threads: int, preset: str = X264_PRESET,
        copy_received: bool = False,
    ) -> None:
        width, height = size
        gop = {"g": str(max(1, int(fps * gop_s))),
               "keyint_min": str(max(1, int(fps * gop_s) // 2))}
        if copy_received:
            self.stream = container.add_stream("libvpx", rate=fps, options={**VP8_OPTIONS, **gop})
            self.stream.bit_rate = maxrate_kbps * 1000
        else:
            self.stream = container.add_stream(
                "libx264",
                rate=fps,
                options={
                    "preset": preset,
                    "crf": str(crf),
                    "maxrate": f"{maxrate_kbps}k",
                    "bufsize": f"{maxrate_kbps * 2}k",
                    **gop,
                    "bf": "0",
                    "rc-lookahead": "5",
                    "forced-idr": "1",
                },
            )
        self.stream.width = width
        self.stream.height = height
        self.stream.pix_fmt = "yuv420p"
        self.stream.codec_context.time_base = MS
        self.stream.codec_context.thread_count = threads
        self.stream.time_base = MS
        self.size = size
        self.gop_ms = int(gop_s * 1000)
        self.last_pts = -1
        self.last_key_pts = _NO_KEY
        self.last_ts: float | None = None
        self.offsets: deque[float] = deque(maxlen=VIDEO_OFFSET_WINDOW)  # arrival - media time
        self.copy_received = copy_received
        # the last frame written was a received one and every received frame since its
        # keyframe is in the file: the next contiguous one can follow it
        self.copying = False
        #: received frames (sender pts -> frame, arrival) waiting for their decoded twin
        self.pending: dict[int, tuple[EncodedVideo, float]] = {}
        self.received: deque[tuple[float, int]] = deque()  # (arrival, bytes) in the window
        self.received_bytes = 0
        self.over_budget = False
        self.copied_key_pts = 0  # sender pts of the last keyframe kept as received


def _copy_frame(frame: av.VideoFrame) -> av.VideoFrame:
    """A new yuv420p frame with ``frame``'s pixels (plane by plane, one copy: a quarter of the
    time of ``to_ndarray`` + ``from_ndarray``)."""
    copy = av.VideoFrame(frame.width, frame.height, "yuv420p")
    if all(a.line_size == b.line_size and a.buffer_size == b.buffer_size
           for a, b in zip(copy.planes, frame.planes, strict=True)):
        for dst, src in zip(copy.planes, frame.planes, strict=True):
            np.copyto(np.frombuffer(dst, np.uint8), np.frombuffer(src, np.uint8))
        return copy
    return av.VideoFrame.from_ndarray(frame.to_ndarray(), format="yuv420p")


class _AudioTrack:
    def __init__(self, container: av.container.OutputContainer, bitrate_kbps: int) -> None:
        self.stream = container.add_stream("libopus", rate=AUDIO_RATE)
        self.stream.layout = "mono"
        self.stream.format = "s16"
        self.stream.bit_rate = bitrate_kbps * 1000
        self.stream.time_base = Fraction(1, AUDIO_RATE)
        self.stream.codec_context.time_base = Fraction(1, AUDIO_RATE)
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        self.fifo = av.AudioFifo()
        self.samples_in = 0  # samples pushed into the fifo (incl. silence) = next sample's pts
        self.drift: deque[int] = deque(maxlen=DRIFT_WINDOW)  # recent (expected - samples_in)
        self.samples_out = 0  # samples encoded


Sink = Callable[[str, Any, float], None]


class Recorder:
    """Records the four streams of a session into one Matroska file on a thread of its own.

    Parameters
    ----------
    path: the ``.mkv`` file to write; the timeline goes to ``<path stem>.timeline.jsonl``.
    video_sizes: encoded size per video kind (frames are scaled to it in the recorder thread).
    fps: nominal frame rate (used for the GOP length in frames; timing itself is variable).
    start_ts: the monotonic time that becomes 0 in the file (default: when :meth:`start` runs).
    queue_size: bound of the input queue; on overflow the item is dropped and counted.
    x264_preset: libx264's preset for both video streams (default: ``X264_PRESETS``, each its
        own).
    copy_received_video: keep the applicant's video as received (VP8, media.encoded) instead
        of encoding the decoded frames again; the stream is then VP8.
    received_video_max_kbps: above this the received video is encoded again, at
        ``video_maxrate_kbps`` (default ``RECEIVED_VIDEO_MAX_KBPS``).
    clock: the monotonic clock the producers stamp with (default ``time.monotonic``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        video_sizes: Mapping[str, tuple[int, int]] | None = None,
        fps: int = 25,
        crf: int = 28,
        video_maxrate_kbps: int = 850,
        audio_bitrate_kbps: int = 32,
        gop_s: float = 2.0,
        start_ts: float | None = None,
        queue_size: int = 256,
        gap_threshold_s: float = 1.0,
        max_audio_drift_s: float = 0.02,
        encoder_threads: int = 1,
        x264_preset: str | None = None,
        timeline_path: str | os.PathLike[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        copy_received_video: bool = False,
        received_video_max_kbps: int = RECEIVED_VIDEO_MAX_KBPS,
    ) -> None:
        if gop_s > 2.0:
            raise ValueError("gop_s must be <= 2 s (the trainers' player seeks by keyframe)")
        self.path = Path(path)
        self.timeline_path = (
            Path(timeline_path)
            if timeline_path is not None
            else self.path.with_name(self.path.stem + ".timeline.jsonl")
        )
        sizes = dict(DEFAULT_VIDEO_SIZES)
        if video_sizes:
            sizes.update(video_sizes)
        self._sizes = sizes
        self._fps = fps
        self._crf = crf
        self._maxrate = video_maxrate_kbps
        self._audio_kbps = audio_bitrate_kbps
        self._gop_s = gop_s
        self._threads = encoder_threads
        self._presets = ({kind: x264_preset for kind in VIDEO_KINDS} if x264_preset
                         else dict(X264_PRESETS))
        self._gap_threshold = gap_threshold_s
        self._max_drift = max_audio_drift_s
        self._metadata = dict(metadata or {})
        self._clock = clock
        #: the media engine passes the applicant's received frames to a sink that says so
        self.wants_encoded_video = copy_received_video
        self._received_max_kbps = received_video_max_kbps
        self.start_ts: float | None = start_ts
        self._queue: queue.Queue[tuple[str, Any, float]] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stats = RecorderStats()
        self._stats_lock = threading.Lock()
        self._markers: list[dict[str, Any]] = []
        self._markers_lock = threading.Lock()
        self._timeline: Timeline | None = None
        self._error: BaseException | None = None
        self._started = threading.Event()
        self._closed = False

    # ------------------------------------------------------------------ producer side
    def submit(self, kind: str, frame: Any, ts: float | None = None) -> bool:
        """Queue a frame for recording; never blocks. Returns False if it was dropped.
        Received frames (``ENCODED_KIND``) are taken only when ``wants_encoded_video``; they
        count in the applicant stream's drops, not in its submitted (decoded) frames."""
        received = kind == ENCODED_KIND
        if received and not self.wants_encoded_video:
            return False
        if not received and kind not in KINDS:
            log.warning("recorder: unknown stream kind %r ignored", kind)
            return False
        if self._stop.is_set() or self._thread is None:
            return False
        stamp = self._clock() if ts is None else ts
        if not received:
            with self._stats_lock:
                self._stats.submitted[kind] += 1
        try:
            self._queue.put_nowait((kind, frame, stamp))
        except queue.Full:
            with self._stats_lock:
                self._stats.dropped[_stream_of(kind)] += 1
            return False
        return True

    def __call__(self, kind: str, frame: Any, ts: float) -> None:
        """Sink signature for ``MediaEngine.add_media_sink``: enqueue only."""
        self.submit(kind, frame, ts)

    def offset(self, ts: float | None = None) -> float:
        """Seconds since the start of the recording for monotonic time ``ts`` (default: now)."""
        if self.start_ts is None:
            return 0.0
        return max(0.0, (self._clock() if ts is None else ts) - self.start_ts)

    def mark(
        self, kind: str, label: str, data: Mapping[str, Any] | None = None,
        ts: float | None = None,
    ) -> dict[str, Any]:
        """Record a marker (script step, capture, OTP event, decision, gap...).

        It is appended to the sidecar timeline at once and becomes a chapter at close.
        Callable from any thread. Returns the marker written (with its ``offset_s``).
        """
        stamp = self._clock() if ts is None else ts
        entry: dict[str, Any] = {
            "type": "marker",
            "kind": kind,
            "label": label,
            "offset_s": round(self.offset(stamp), 3),
            "wall": _utc_now(),
        }
        if data:
            entry["data"] = dict(data)
        with self._markers_lock:
            self._markers.append(entry)
        if self._timeline is not None:
            self._timeline.append(entry)
        return entry

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            return self._stats.as_dict()

    @property
    def markers(self) -> list[dict[str, Any]]:
        with self._markers_lock:
            return list(self._markers)

    @property
    def error(self) -> BaseException | None:
        return self._error

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Recorder:
        if self._thread is not None:
            raise RecorderError("already started")
        if self.start_ts is None:
            self.start_ts = self._clock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._timeline = Timeline(self.timeline_path)
        self._timeline.append(
            {
                "type": "start",
                "wall": _utc_now(),
                "file": self.path.name,
                "streams": list(KINDS),
                "video_sizes": {k: list(v) for k, v in self._sizes.items()},
                "applicant_video": ("as received (VP8)" if self.wants_encoded_video
                                    else "encoded by the recorder"),
                "gop_s": self._gop_s,
                "video_gaps": "not filled: no frames written during a gap",
                "audio_gaps": "filled with silence",
            }
        )
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()
        self._started.wait(10)
        if self._error is not None:
            raise RecorderError(str(self._error)) from self._error
        return self

    def stop(self, timeout: float = 30.0) -> dict[str, Any]:
        """Drain the queue, flush the encoders, write chapters and close the file."""
        if self._closed:
            return self.stats()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("recorder thread did not finish in %.0f s", timeout)
        self._closed = True
        stats = self.stats()
        if self._timeline is not None:
            self._timeline.append({"type": "end", "wall": _utc_now(), "stats": stats,
                                   "duration_s": round(self._duration_s, 3)})
            self._timeline.close()
        return stats

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ recorder thread
    _duration_s = 0.0

    def _run(self) -> None:
        try:
            container = av.open(str(self.path), mode="w", format="matroska",
                                options=dict(MKV_OPTIONS))
            for key, value in self._metadata.items():
                container.metadata[key] = value
            videos = {
                kind: _VideoTrack(container, self._sizes[kind], self._fps, self._crf,
                                  self._maxrate, self._gop_s, self._threads, self._presets[kind],
                                  copy_received=(self.wants_encoded_video
                                                 and kind == "applicant_video"))
                for kind in VIDEO_KINDS
            }
            audios = {kind: _AudioTrack(container, self._audio_kbps) for kind in AUDIO_KINDS}
            all_streams: list[tuple[str, Any]] = [(k, t.stream) for k, t in videos.items()]
            all_streams += [(k, a.stream) for k, a in audios.items()]
            for kind, stream in all_streams:
                stream.metadata["title"] = kind
                stream.metadata["language"] = "ita"
        except Exception as exc:  # reported to start()
            log.exception("recorder could not open its output")
            self._error = exc
            self._started.set()
            return
        self._started.set()
        cpu = 0.0
        try:
            while True:
                try:
                    kind, frame, ts = self._queue.get(timeout=0.1)
                except queue.Empty:
                    if self._stop.is_set():
                        break
                    continue
                t = time.thread_time()
                try:
                    if kind == ENCODED_KIND:
                        self._hold_received(videos["applicant_video"], frame, ts)
                    elif kind in videos:
                        self._write_video(container, kind, videos[kind], frame, ts)
                    else:
                        self._write_audio(container, kind, audios[kind], frame, ts)
                except (ValueError, TypeError, av.FFmpegError) as exc:
                    kind = _stream_of(kind)
                    with self._stats_lock:
                        self._stats.bad[kind] += 1
                        n = self._stats.bad[kind]
                    if n <= 3 or n % 1000 == 0:  # do not flood the log at 25 fps
                        log.warning("recorder: bad %s frame skipped (%s, %d so far)", kind,
                                    type(exc).__name__, n)
                cpu += time.thread_time() - t
                with self._stats_lock:
                    self._stats.encode_cpu_s = cpu
            t = time.thread_time()
            for track in audios.values():
                self._flush_audio(container, track)
            for _kind, stream in all_streams:
                for packet in stream.encode(None):
                    container.mux(packet)
            with self._markers_lock:
                markers = list(self._markers)
            self._duration_s = max(
                [v.last_pts / 1000 for v in videos.values()]
                + [a.samples_out / AUDIO_RATE for a in audios.values()]
                + [0.0]
            )
            self._write_chapters(container, markers)
            container.close()
            cpu += time.thread_time() - t
            with self._stats_lock:
                self._stats.encode_cpu_s = cpu
        except Exception as exc:  # kept for stop()/error
            log.exception("recorder failed")
            self._error = exc
            with contextlib.suppress(Exception):
                container.close()

    def _write_chapters(self, container: av.container.OutputContainer,
                        markers: list[dict[str, Any]]) -> None:
        if not markers:
            return
        # FFmpeg's Matroska reader keeps a chapter only if it starts after the previous one
        # (except at 0), so markers in the same millisecond would vanish from the chapter list:
        # starts are made strictly increasing (+1 ms each); the sidecar timeline keeps the
        # exact offsets.
        starts: list[int] = []
        ordered = sorted(markers, key=lambda m: m["offset_s"])
        for m in ordered:
            start = int(m["offset_s"] * 1000)
            if starts and start <= starts[-1]:
                start = starts[-1] + 1
            starts.append(start)
        end_ms = max(int(self._duration_s * 1000) + 1, starts[-1] + 1)
        chapters = []
        for i, m in enumerate(ordered):
            start = starts[i]
            nxt = starts[i + 1] if i + 1 < len(ordered) else end_ms
            chapters.append({
                "id": i + 1,
                "start": start,
                "end": max(start + 1, nxt),
                "time_base": MS,
                "metadata": {"title": f"{m['kind']}:{m['label']}"},
            })
        try:
            container.set_chapters(chapters)  # type: ignore[arg-type]
        except Exception as exc:  # chapters are optional
            log.warning("chapters not written (%s); the timeline has the markers", exc)

    def _gap(self, kind: str, last_ts: float, ts: float) -> None:
        with self._stats_lock:
            self._stats.gaps += 1
        assert self.start_ts is not None
        self.mark("gap", kind, {"from_s": round(last_ts - self.start_ts, 3),
                                "to_s": round(ts - self.start_ts, 3)}, ts=last_ts)

    def _hold_received(self, track: _VideoTrack, frame: Any, ts: float) -> None:
        """Keep a received frame until the live decoder's twin shows it decoded."""
        if not isinstance(frame, EncodedVideo) or frame.codec != "vp8" or not frame.data:
            raise TypeError("a received frame must be a VP8 EncodedVideo")
        self._measure_received(track, len(frame.data), ts)
        stale = [p for p in track.pending if p >= frame.pts]
        for pts in stale:  # a new sender clock (a new peer connection): the old one is over
            del track.pending[pts]
        if stale or len(track.pending) >= PENDING_MAX:
            if track.pending and not stale:
                del track.pending[next(iter(track.pending))]
            track.copying = False
        track.pending[frame.pts] = (frame, ts)

    def _measure_received(self, track: _VideoTrack, size: int, ts: float) -> None:
        """The received stream's bitrate over the last RECEIVED_WINDOW_S, against the cap."""
        track.received.append((ts, size))
        track.received_bytes += size
        while track.received and track.received[0][0] < ts - RECEIVED_WINDOW_S:
            track.received_bytes -= track.received.popleft()[1]
        if track.received[0][0] > ts - RECEIVED_WINDOW_S / 2:
            return  # not enough of a window yet to judge
        kbps = track.received_bytes * 8 / RECEIVED_WINDOW_S / 1000
        cap = self._received_max_kbps
        if not track.over_budget and kbps > cap:
            track.over_budget = True
            log.warning("recorder: the applicant's video arrives at %.0f kbps, over the %d kbps "
                        "kept as received: encoding it at %d kbps", kbps, cap, self._maxrate)
        elif track.over_budget and kbps < cap * 0.8:
            track.over_budget = False
            log.info("recorder: the applicant's video is back to %.0f kbps: kept as received "
                     "from its next keyframe", kbps)

    def _take_received(self, track: _VideoTrack, twin: av.VideoFrame) -> tuple[
            EncodedVideo, float] | None:
        """The received frame of a decoded one when it can be written as it came: the live
        decoder decoded it (its twin is here) and the decoder that plays the file back has
        every frame it refers to (a keyframe, or contiguous after frames all in the file)."""
        if twin.pts is None:
            return None
        held = track.pending.pop(twin.pts, None)
        for pts in [p for p in track.pending if p < twin.pts]:
            del track.pending[pts]  # never decoded (or its twin dropped): not in the file
            track.copying = False
        if held is None:
            return None
        frame = held[0]
        if track.over_budget:
            with self._stats_lock:
                self._stats.over_budget += 1
            return None
        recent_key = frame.pts - track.copied_key_pts <= RECEIVED_KEYFRAME_MAX_S * RTP_VIDEO_RATE
        if frame.keyframe or (track.copying and frame.contiguous and recent_key):
            return held
        with self._stats_lock:
            self._stats.awaiting_keyframe += 1
        return None

    def _copy_video(self, container: av.container.OutputContainer, track: _VideoTrack,
                    frame: EncodedVideo, ts: float) -> bool:
        """Write a received frame as it came; False when its time is too far out of order."""
        assert self.start_ts is not None
        pts = self._place_pts(track, frame.seconds, ts)
        if pts is None:
            return False
        if track.last_ts is not None and ts - track.last_ts > self._gap_threshold:
            self._gap("applicant_video", track.last_ts, ts)
        packet = av.Packet(frame.data)
        packet.stream = track.stream
        packet.pts = packet.dts = pts
        packet.time_base = MS
        packet.is_keyframe = frame.keyframe
        container.mux(packet)
        if frame.keyframe:
            track.last_key_pts = pts
            track.copied_key_pts = frame.pts
        track.copying = True
        track.last_pts = pts
        track.last_ts = ts
        with self._stats_lock:
            self._stats.written["applicant_video"] += 1
            self._stats.copied += 1
        return True

    def _place_pts(self, track: _VideoTrack, media_t: float | None, ts: float) -> int | None:
        """The file's pts (ms) for a video frame of sender time ``media_t`` that arrived at
        ``ts``; None when it is too far out of order to keep.

        A frame with a sender timestamp (aiortc sets pts/time_base from RTP) is placed at its
        sender time plus the *least* delay seen over the last ~2 s, so a frame held up by the
        jitter buffer or a busy loop keeps its true position (the audio does the same with its
        sample clock). A frame without one (``media_t`` None) is placed at its arrival.
        """
        assert self.start_ts is not None
        at = ts
        if media_t is not None:
            off = ts - media_t
            if track.offsets and off - min(track.offsets) > CLOCK_RESET_S:
                track.offsets.clear()  # a new sender clock (new peer connection), a long stall
            track.offsets.append(off)
            at = media_t + min(track.offsets)
        pts = round((at - self.start_ts) * 1000)
        if pts <= track.last_pts:
            if pts < track.last_pts - 200:
                return None  # far out of order: drop rather than disturb timing
            pts = track.last_pts + 1
        return pts

    def _write_video(self, container: av.container.OutputContainer, kind: str,
                     track: _VideoTrack, frame: Any, ts: float) -> None:
        assert self.start_ts is not None
        if track.copy_received and isinstance(frame, av.VideoFrame):
            held = self._take_received(track, frame)
            if held is not None:
                if not self._copy_video(container, track, *held):
                    with self._stats_lock:
                        self._stats.late[kind] += 1
                return  # in the file as it was received
            if track.copying:  # the received stream broke off: encode from a keyframe on
                track.copying = False
                track.last_key_pts = _NO_KEY
            with self._stats_lock:
                self._stats.reencoded += 1
        if isinstance(frame, np.ndarray):
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                raise ValueError("video ndarray must be HxWx3 uint8 (rgb24)")
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
        elif isinstance(frame, av.VideoFrame):
            vf = frame
        else:
            raise TypeError("video frame must be av.VideoFrame or ndarray")
        placed = self._place_pts(track, self._media_time(frame), ts)
        if placed is None:
            with self._stats_lock:
                self._stats.late[kind] += 1
            return
        pts = placed
        if track.last_ts is not None and ts - track.last_ts > self._gap_threshold:
            self._gap(kind, track.last_ts, ts)
        w, h = track.size
        if vf.width != w or vf.height != h or vf.format.name != "yuv420p":
            vf = vf.reformat(width=w, height=h, format="yuv420p")
        if vf is frame:  # never touch the engine's frame (aiortc may still encode/send it)
            vf = _copy_frame(frame)
        vf.pts = pts
        vf.time_base = MS
        # force a keyframe when waiting for the next frame would exceed the GOP (<= 2 s)
        if pts - track.last_key_pts >= track.gop_ms - 1000 / self._fps:
            vf.pict_type = av.video.frame.PictureType.I
            track.last_key_pts = pts
        else:
            vf.pict_type = av.video.frame.PictureType.NONE
        for packet in track.stream.encode(vf):
            if packet.is_keyframe and packet.pts is not None:
                track.last_key_pts = max(track.last_key_pts, packet.pts)
            container.mux(packet)
        track.last_pts = pts
        track.last_ts = ts
        with self._stats_lock:
            self._stats.written[kind] += 1

    @staticmethod
    def _media_time(frame: Any) -> float | None:
        """A video frame's sender time in seconds (aiortc's pts), None without one."""
        if not isinstance(frame, av.VideoFrame) or frame.pts is None or not frame.time_base:
            return None
        return float(frame.pts * frame.time_base)

    def _write_audio(self, container: av.container.OutputContainer, kind: str,
                     track: _AudioTrack, frame: Any, ts: float) -> None:
        assert self.start_ts is not None
        if isinstance(frame, np.ndarray):
            arr = frame
            if arr.dtype != np.int16:
                raise ValueError("audio ndarray must be int16 at 48 kHz")
            if arr.ndim == 1:
                arr = arr.reshape(1, -1)
            if arr.ndim != 2 or arr.shape[0] not in (1, 2):
                raise ValueError("audio ndarray must be (samples,) or (channels, samples)")
            layout = "mono" if arr.shape[0] == 1 else "stereo"
            if layout == "stereo":
                arr = arr.T.reshape(1, -1)  # packed s16 interleaved
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr), format="s16",
                                            layout=layout)
            af.sample_rate = AUDIO_RATE
        elif isinstance(frame, av.AudioFrame):
            af = frame
        else:
            raise TypeError("audio frame must be av.AudioFrame or ndarray")
        # Audio time = sample count. Arrival stamps only ever come *late* (network, jitter
        # buffer, a busy loop), so the sample clock follows the least-delayed arrivals: the
        # minimum of (stamp - sample clock) over the last ~1 s. When that minimum leaves
        # +-max_drift, silence is inserted or samples are trimmed by exactly that much. A stall
        # of the loop (late frames, then a burst) leaves the minimum alone. A jump of more than
        # AUDIO_JUMP_S is a real gap (lost connection) and the stream's start: filled at once.
        expected = round((ts - self.start_ts) * AUDIO_RATE)
        drift = expected - track.samples_in
        jump = AUDIO_JUMP_S * AUDIO_RATE
        limit = self._max_drift * AUDIO_RATE
        fill = trim = 0
        if drift > jump or (track.samples_in == 0 and drift > 0):
            if drift > self._gap_threshold * AUDIO_RATE and track.samples_in > 0:
                self._gap(kind, self.start_ts + track.samples_in / AUDIO_RATE, ts)
            fill = drift
            track.drift.clear()
        elif drift < -jump:
            with self._stats_lock:
                self._stats.late[kind] += 1
            return  # far ahead of the clock: drop to re-sync
        else:
            track.drift.append(drift)
            if len(track.drift) >= DRIFT_WINDOW // 2:
                lo = min(track.drift)
                if lo > limit:  # even the earliest arrivals are behind: insert silence
                    fill = lo
                elif lo < -limit:  # placed later than the earliest arrivals: trim samples
                    trim = min(-lo, af.samples)
                if fill or trim:
                    shift = fill - trim
                    track.drift = deque((d - shift for d in track.drift), maxlen=DRIFT_WINDOW)
        if fill > 0:
            self._push_silence(track, fill)
            with self._stats_lock:
                self._stats.silence_samples[kind] += fill
        if trim:
            with self._stats_lock:
                self._stats.trimmed_samples[kind] += trim
        for out in track.resampler.resample(af):
            if out is frame or trim:  # copy: never touch the engine's frame
                data = out.to_ndarray().reshape(1, -1)[:, trim:]
                trim = max(0, trim - out.samples)
                if data.shape[1] == 0:
                    continue
                out = av.AudioFrame.from_ndarray(np.ascontiguousarray(data, dtype=np.int16),
                                                 format="s16",
                                                 layout="mono")
                out.sample_rate = AUDIO_RATE
            out.pts = None
            track.fifo.write(out)
            track.samples_in += out.samples
        self._drain_audio(container, track, final=False)
        with self._stats_lock:
            self._stats.written[kind] += 1

    @staticmethod
    def _push_silence(track: _AudioTrack, samples: int) -> None:
        while samples > 0:
            n = min(samples, AUDIO_RATE)
            silent = av.AudioFrame.from_ndarray(np.zeros((1, n), dtype=np.int16),
                                                format="s16", layout="mono")
            silent.sample_rate = AUDIO_RATE
            track.fifo.write(silent)
            track.samples_in += n
            samples -= n

    @staticmethod
    def _drain_audio(container: av.container.OutputContainer, track: _AudioTrack,
                     final: bool) -> None:
        while track.fifo.samples >= OPUS_FRAME or (final and track.fifo.samples > 0):
            chunk = track.fifo.read(OPUS_FRAME, partial=final)
            if chunk is None:
                break
            if chunk.samples < OPUS_FRAME:  # pad the last frame: the encoder wants 20 ms
                pad = np.zeros((1, OPUS_FRAME), dtype=np.int16)
                pad[0, : chunk.samples] = chunk.to_ndarray().reshape(-1)[: chunk.samples]
                chunk = av.AudioFrame.from_ndarray(pad, format="s16", layout="mono")
                chunk.sample_rate = AUDIO_RATE
            chunk.pts = track.samples_out
            chunk.time_base = Fraction(1, AUDIO_RATE)
            track.samples_out += chunk.samples
            for packet in track.stream.encode(chunk):
                container.mux(packet)

    def _flush_audio(self, container: av.container.OutputContainer, track: _AudioTrack) -> None:
        for out in track.resampler.resample(None):
            out.pts = None
            track.fifo.write(out)
        self._drain_audio(container, track, final=True)
