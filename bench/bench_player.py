"""Player benchmark: seek time on a long recording (target: a click on a mark lands in <= 200 ms
on a 15-minute recording).

    .venv/bin/python -m bench.bench_player [--minutes 15] [--size 1280x720] [--fps 25]
                                          [--recording PATH] [--seeks 60] [--json]

Generates (or reuses, with --recording, or the cached file from an earlier run) a recording of
``--minutes``: a ``--segment``-second piece is written by ``media.recorder.Recorder`` (the
session's own recorder: libx264 superfast, a keyframe at least every 2 s, four streams) from
synthetic stamped frames, then its packets are copied end to end (timestamps shifted, no
re-encoding) into one Matroska file of the full length, so the file, its cues and its GOPs
are those of a real long recording without encoding 15 minutes on a shared machine. Then:

* index: time to index the file at open (demux only, on the playback thread);
* seek: ``PlaybackEngine.seek(t)`` to the moment both videos' frames at ``t`` are decoded and
  handed to the GUI, for random positions and for the worst case (the frame just before a
  keyframe: ~2 s of frames to decode per stream); every landed frame is checked by its stamp;
* step: one frame forward / back.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench import report
from media import framestamp
from media.playback import Frames, PlaybackEngine, probe
from ui.player.testdata import synthetic_recording


def _frame_maker(size: tuple[int, int]):  # type: ignore[no-untyped-def]
    w, h = size
    rng = np.random.default_rng(1)
    base = {k: rng.integers(30, 200, (h // 8, w // 8, 3), dtype=np.uint8)
            .repeat(8, 0).repeat(8, 1) for k in ("applicant_video", "operator_video")}

    def make(kind: str, _i: int, t: float) -> np.ndarray:
        img = base[kind].copy()
        x = int((t * 200) % (w - 120))
        img[h // 2: h // 2 + 120, x:x + 120] = (220, 180, 40)
        framestamp.paint_bgr(img, round(t * 1000))
        return img

    return make


def _tile(segment: Path, out: Path, seg_s: float, total_s: float) -> None:
    """Copy the segment's packets again and again, shifted, into one file of total_s."""
    import av

    src = av.open(str(segment))
    dst = av.open(str(out), mode="w", format="matroska",
                  options={"cluster_time_limit": "1000"})
    streams = {}
    for s in src.streams:
        o = dst.add_stream_from_template(s)
        o.metadata["title"] = s.metadata.get("title", "")
        streams[s.index] = o
    reps = int(np.ceil(total_s / seg_s))
    for r in range(reps):
        src.seek(0)
        for packet in src.demux():
            if packet.dts is None:
                continue
            shift = round(r * seg_s / packet.time_base)
            packet.pts = (packet.pts or 0) + shift
            packet.dts = packet.dts + shift
            packet.stream = streams[packet.stream.index]
            dst.mux(packet)
    dst.close()
    src.close()


class _Probe:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.frames: Frames | None = None

    def __call__(self, frames: Frames) -> None:
        self.frames = frames
        self.event.set()

    def wait(self) -> Frames:
        if not self.event.wait(30):
            raise RuntimeError("no frame from the playback thread in 30 s")
        self.event.clear()
        assert self.frames is not None
        return self.frames


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="bench.bench_player")
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--recording", type=Path, help="use this recording instead")
    ap.add_argument("--seeks", type=int, default=60)
    ap.add_argument("--segment", type=float, default=60.0, help="seconds actually encoded")
    return report.add_json_argument(ap)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rep = report.start(__file__, args)
    written_s: float | None = None
    w, h = (int(v) for v in args.size.lower().split("x"))
    path = args.recording or Path(tempfile.gettempdir()) / (
        f"bench_player_{args.minutes:g}min_{w}x{h}_{args.fps}.mkv")
    if not path.exists():
        print(f"writing a {args.minutes:g}-minute {w}x{h}@{args.fps} recording to {path} ...",
              flush=True)
        t0 = time.perf_counter()
        tmp = path.with_suffix(".part.mkv")
        seg = path.with_suffix(".segment.mkv")
        synthetic_recording(seg, seconds=args.segment, fps=args.fps, size=(w, h),
                            marks=(), gap=None, frame_maker=_frame_maker((w, h)),
                            encoder_threads=2,
                            progress=lambda t: print(f"  {t:5.0f} s", end="\r", flush=True))
        seg.with_name(seg.stem + ".timeline.jsonl").unlink(missing_ok=True)
        _tile(seg, tmp, args.segment, args.minutes * 60)
        seg.unlink()
        tmp.replace(path)
        written_s = time.perf_counter() - t0
        print(f"\n  written in {written_s:.0f} s "
              f"({path.stat().st_size / 1e6:.0f} MB)")
    info = probe(path, index=True)
    app = info.videos["applicant_video"]
    print(f"recording: {info.duration_s / 60:.1f} min, {len(app.times)} applicant frames, "
          f"{len(app.key_times)} keyframes, longest keyframe interval "
          f"{max(b - a for a, b in zip(app.key_times, app.key_times[1:], strict=False)):.2f} s")
    print(f"index at open: {info.index_seconds * 1000:.0f} ms")
    probe_cb = _Probe()
    engine = PlaybackEngine(path, on_frames=probe_cb, info=info).start()
    probe_cb.wait()
    rng = random.Random(7)
    seg_len = args.segment if args.recording is None else info.duration_s
    frame_s = app.frame_duration
    random_ms: list[float] = []
    worst_ms: list[float] = []
    bad = 0

    def seek(t: float, out: list[float]) -> None:
        nonlocal bad
        t0 = time.perf_counter()
        engine.seek(t)
        frames = probe_cb.wait()
        out.append((time.perf_counter() - t0) * 1000)
        ms = framestamp.read_frame(frames.applicant) if frames.applicant is not None else None
        if ms is None or abs(ms / 1000 - t % seg_len) > frame_s + 1e-3:
            bad += 1

    for _ in range(args.seeks):
        seek(rng.uniform(0, info.duration_s - 1), random_ms)
    keys = app.key_times[1:]
    for _ in range(max(10, args.seeks // 3)):
        k = rng.choice(keys)
        seek(max(0.0, k - frame_s), worst_ms)  # last frame of a GOP: the longest decode
    step_ms: list[float] = []
    for d in (1, 1, 1, -1, -1, -1) * 5:
        t0 = time.perf_counter()
        engine.step(d)
        probe_cb.wait()
        step_ms.append((time.perf_counter() - t0) * 1000)
    engine.stop()
    for name, vals in (("seek, random position", random_ms),
                       ("seek, worst case (end of a GOP)", worst_ms),
                       ("frame step (+/-1)", step_ms)):
        print(f"{name:34} median {statistics.median(vals):6.1f} ms  p95 {_pct(vals, 0.95):6.1f}"
              f" ms  max {max(vals):6.1f} ms  (n={len(vals)})")
    print(f"frames landed off target: {bad}")
    figures: dict[str, object] = {
        "recording": str(path), "recording_written_s": written_s,
        "recording_min": info.duration_s / 60, "applicant_frames": len(app.times),
        "keyframes": len(app.key_times),
        "keyframe_interval_max_s": max(b - a for a, b in zip(app.key_times, app.key_times[1:],
                                                              strict=False)),
        "index_ms": info.index_seconds * 1000,
    }
    for key, vals in (("seek_random", random_ms), ("seek_worst", worst_ms),
                      ("frame_step", step_ms)):
        figures.update({f"{key}_median_ms": statistics.median(vals),
                        f"{key}_p95_ms": _pct(vals, 0.95), f"{key}_max_ms": max(vals),
                        f"{key}_n": len(vals)})
    rep.emit({**figures, "frames_off_target": bad, "target_seek_ms": 200})
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
