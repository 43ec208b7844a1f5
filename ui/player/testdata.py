"""Synthetic recordings for the player's tests and benchmark (no Qt here).

``synthetic_recording`` drives the real ``media.recorder.Recorder`` with generated frames on a
fake monotonic clock (so it runs faster than real time): both video streams carry the frame
stamp of ``media.framestamp`` holding the frame's own time in the recording (ms), so a test can
read back from the pixels which moment a shown frame is. Markers are written like the session
writes them (script steps, captures, OTP, decision, a connection gap).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from media import framestamp
from media.recorder import Recorder

log = logging.getLogger(__name__)

DEFAULT_MARKS: tuple[tuple[float, str, str], ...] = (
    (1.3, "step", "a"), (2.6, "capture", "document_front"), (4.1, "otp", "sent"),
    (5.55, "otp", "verified"), (7.2, "step", "g"), (8.9, "decision", "approved"),
)

FrameMaker = Callable[[str, int, float], np.ndarray]


def stamped_frame(kind: str, width: int, height: int, t: float) -> np.ndarray:
    """An RGB frame with a moving bar and the stamp ``t`` (ms) in its top-left corner."""
    img = np.full((height, width, 3), 40 if kind == "applicant_video" else 90, np.uint8)
    x = int((t * 120) % max(1, width - 40))
    img[height // 3: height // 3 + 60, x:x + 40] = (200, 160, 60)
    framestamp.paint_bgr(img, round(t * 1000))
    return img


def feed(
    rec: Recorder,
    now: list[float],
    *,
    seconds: float,
    fps: int,
    size: tuple[int, int],
    gap: tuple[float, float] | None = None,
    frame_maker: FrameMaker | None = None,
    audio: bool = True,
    on_time: Callable[[float], None] | None = None,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Feed ``seconds`` of generated frames to a started recorder whose clock reads ``now[0]``
    (``start_ts`` = ``now[0]`` at the call); ``on_time(t)`` runs before each frame."""
    origin = now[0]
    n_frames = int(seconds * fps)
    samples_per_frame = 48_000 // fps
    t_audio = 0
    for i in range(n_frames):
        t = i / fps
        now[0] = origin + t
        if on_time is not None:
            on_time(t)
        in_gap = gap is not None and gap[0] <= t < gap[1]
        if not in_gap:
            for kind in ("applicant_video", "operator_video"):
                frame = (frame_maker(kind, i, t) if frame_maker is not None
                         else stamped_frame(kind, size[0], size[1], t))
                _put(rec, kind, frame, origin + t)
        if audio:
            tt = (t_audio + np.arange(samples_per_frame)) / 48_000
            tone = (3000 * np.sin(2 * np.pi * 440 * tt)).astype(np.int16)
            for kind in ("applicant_audio", "operator_audio"):
                _put(rec, kind, tone, origin + t)
            t_audio += samples_per_frame
        if progress is not None and i % (fps * 10) == 0:
            progress(t)
    now[0] = origin + seconds


def _marker_feeder(marks: Sequence[tuple[float, str, str]],
                   put: Callable[[float, str, str], None]) -> Callable[[float], None]:
    pending = sorted(marks)

    def on_time(t: float) -> None:
        while pending and pending[0][0] <= t:
            put(*pending.pop(0))

    return on_time


def synthetic_recording(
    path: Path,
    *,
    seconds: float = 10.0,
    fps: int = 25,
    size: tuple[int, int] = (800, 448),
    marks: Sequence[tuple[float, str, str]] = DEFAULT_MARKS,
    gap: tuple[float, float] | None = (6.0, 7.2),
    frame_maker: FrameMaker | None = None,
    audio: bool = True,
    progress: Callable[[float], None] | None = None,
    encoder_threads: int = 1,
) -> Path:
    """Write a four-stream recording (and its timeline) at ``path``; returns the path."""
    now = [1000.0]
    rec = Recorder(path, video_sizes={"applicant_video": size, "operator_video": size},
                   fps=fps, start_ts=1000.0, clock=lambda: now[0], queue_size=64,
                   encoder_threads=encoder_threads)
    rec.start()

    def put(off: float, kind: str, label: str) -> None:
        rec.mark(kind, label, ts=1000.0 + off)

    try:
        feed(rec, now, seconds=seconds, fps=fps, size=size, gap=gap, frame_maker=frame_maker,
             audio=audio, on_time=_marker_feeder(marks, put), progress=progress)
    finally:
        rec.stop(timeout=600)
    return path


def synthetic_package(
    root: Path,
    key: Any,
    *,
    seconds: float = 10.0,
    fps: int = 10,
    size: tuple[int, int] = (800, 448),
    marks: Sequence[tuple[float, str, str]] = DEFAULT_MARKS,
    gap: tuple[float, float] | None = (6.0, 7.2),
    frame_maker: FrameMaker | None = None,
    request_id: str = "00000000-0000-4000-8000-000000000001",
) -> Path:
    """A finalised, signed evidence package whose recording is generated; returns its folder.

    Marks are made through the package builder (steps, captures, OTP, decision) so they land
    in the audit log and in the recording's timeline exactly as in a session."""
    from console.evidence import EvidencePackageBuilder

    builder = EvidencePackageBuilder.create(
        root, key, request_id=request_id, product="spid_personal",
        operator={"id": "op-1", "username": "operatore1", "display_name": "Operatore",
                  "role": "operator"}, script_id="spid_personal")
    now = [1000.0]
    builder.start_recording(video_sizes={"applicant_video": size, "operator_video": size},
                            fps=fps, start_ts=1000.0, clock=lambda: now[0], queue_size=64)
    rec = builder.recorder
    assert rec is not None
    capture = np.full((120, 160, 3), 200, np.uint8)

    def put(_off: float, kind: str, label: str) -> None:
        if kind == "step":
            builder.record_step(label, passed=True)
        elif kind == "capture":
            builder.add_capture(label, capture)
        elif kind == "otp":
            builder.otp_event(label)
        elif kind == "decision":
            builder.record_decision(label, "ok")
        else:
            builder.event(kind, {"label": label}, marker=(kind, label))

    feed(rec, now, seconds=seconds, fps=fps, size=size, gap=gap, frame_maker=frame_maker,
         on_time=_marker_feeder(marks, put))
    return builder.finalize()


def _put(rec: Recorder, kind: str, frame: Any, ts: float) -> None:
    """Submit without dropping: wait while the recorder's bounded queue is full."""
    import time

    while not rec.submit(kind, frame, ts):
        if rec.error is not None:
            raise RuntimeError(f"recorder failed: {rec.error}")
        rec._stats.dropped[kind] = 0
        time.sleep(0.002)
