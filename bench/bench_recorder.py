"""Recorder benchmark: CPU seconds per minute of a 720p call, real-time factor, MB per minute.

    .venv/bin/python -m bench.bench_recorder [--seconds 30] [--size 1280x720]
        [--operator-size 640x360] [--fps 25] [--preset veryfast] [--no-quality] [--json]

Feeds a synthetic call -- the applicant's 720p video and the operator's video (real photos,
moving like a head and a hand, with camera noise, already in yuv420p as aiortc delivers them)
and two 48 kHz audio streams (speech-like modulated noise) -- into ``media.recorder.Recorder``
as fast as it accepts (without drops), then reports:

* recorder CPU: CPU seconds of the recorder thread (encode + mux) per minute of call;
* real-time factor: recorder CPU time / media duration (the share of one core it needs), and
  wall time to record / media duration (< 1 = faster than real time; depends on machine load);
* MB per minute of the Matroska file for the four streams (target <= 15 MB/min at 720p);
* the recorded applicant video's PSNR and SSIM (luma) against the frames fed in: the
  evidence's picture quality, to compare encoder settings (``--preset``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from bench import report


def make_frames(w: int, h: int, n: int, seed: int) -> list[av.VideoFrame]:
    from skimage import data, transform

    rng = np.random.default_rng(seed)
    base = data.astronaut() if seed == 0 else data.coffee()
    big = (transform.resize(base, (h + 64, w + 64), anti_aliasing=True) * 255).astype(np.uint8)
    frames = []
    for i in range(n):
        dx = int(16 + 12 * np.sin(i / 9))
        dy = int(16 + 8 * np.cos(i / 13))
        img = big[dy : dy + h, dx : dx + w].astype(np.int16)
        img += rng.normal(0, 3, img.shape).astype(np.int16)  # webcam sensor noise
        # a "hand" moving across the picture
        x = int((i * 17) % max(1, w - 120))
        img[h // 2 : h // 2 + 160, x : x + 120] = (190, 150, 130)
        rgb = np.clip(img, 0, 255).astype(np.uint8)
        frames.append(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p"))
    return frames


def applicant_quality(path: Path, fed: list[av.VideoFrame]) -> dict[str, float] | None:
    """PSNR and SSIM of the luma of the recorded applicant video against the frames fed in
    (the i-th frame written is ``fed[i % len(fed)]``: no frame is dropped in this bench).
    SSIM on every 10th frame (skimage, slow)."""
    from skimage.metrics import structural_similarity

    psnr: list[float] = []
    ssim: list[float] = []
    with av.open(str(path)) as c:
        stream = next(s for s in c.streams.video if s.metadata.get("title") == "applicant_video")
        for i, frame in enumerate(c.decode(stream)):
            got = frame.to_ndarray(format="gray").astype(np.float64)
            want = fed[i % len(fed)].to_ndarray(format="gray").astype(np.float64)
            mse = float(((got - want) ** 2).mean())
            psnr.append(99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse))
            if i % 10 == 0:
                ssim.append(float(structural_similarity(got, want, data_range=255.0)))
    if not psnr:
        return None
    return {"frames": len(psnr), "psnr_y_db": round(float(np.mean(psnr)), 2),
            "ssim_y": round(float(np.mean(ssim)), 4)}


def make_audio(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * 48000)
    t = np.arange(n) / 48000
    envelope = (np.sin(2 * np.pi * 3.0 * t) > 0.2) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.3 * t))
    voice = np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 360 * t) + rng.normal(0, 0.3, n)
    return (voice * envelope * 6000).astype(np.int16)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--size", default="1280x720", help="applicant video")
    ap.add_argument("--operator-size", default="640x360",
                    help="operator video (the recorder's default is 640x360)")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--threads", type=int, default=1, help="x264 threads per video stream")
    ap.add_argument("--preset", default=None,
                    help="libx264 preset of both streams (default: the recorder's, "
                         "media.recorder.X264_PRESETS)")
    ap.add_argument("--no-quality", dest="quality", action="store_false",
                    help="skip the applicant video's PSNR/SSIM against what was fed in")
    return report.add_json_argument(ap)


def main(argv: list[str] | None = None) -> None:
    from media.recorder import X264_PRESETS, Recorder

    args = build_parser().parse_args(argv)
    rep = report.start(__file__, args)
    w, h = (int(v) for v in args.size.split("x"))
    ow, oh = (int(v) for v in args.operator_size.split("x"))
    fps = args.fps
    n_frames = int(args.seconds * fps)
    print(f"preparing {args.seconds:.0f} s of a {w}x{h}@{fps} call (not timed)...")
    app_frames = make_frames(w, h, 75, 0)
    op_frames = make_frames(ow, oh, 75, 1)
    app_audio = make_audio(args.seconds, 2)
    op_audio = make_audio(args.seconds, 3) // 2
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.mkv"
        preset = args.preset or "/".join(X264_PRESETS[k] for k in ("applicant_video",
                                                                   "operator_video"))
        rec = Recorder(path, video_sizes={"applicant_video": (w, h), "operator_video": (ow, oh)},
                       fps=fps, start_ts=0.0, queue_size=64, encoder_threads=args.threads,
                       x264_preset=args.preset)
        cpu0 = os.times()
        wall0 = time.perf_counter()
        rec.start()
        chunk = 960
        a_idx = 0
        for i in range(n_frames):
            t = i / fps
            while rec._queue.qsize() > 48:  # no drops: wait for the recorder
                time.sleep(0.001)
            rec.submit("applicant_video", app_frames[i % len(app_frames)], t)
            rec.submit("operator_video", op_frames[i % len(op_frames)], t)
            while a_idx * chunk / 48000 < t + 1 / fps and (a_idx + 1) * chunk <= len(app_audio):
                ts = a_idx * chunk / 48000
                rec.submit("applicant_audio", app_audio[a_idx * chunk:(a_idx + 1) * chunk], ts)
                rec.submit("operator_audio", op_audio[a_idx * chunk:(a_idx + 1) * chunk], ts)
                a_idx += 1
        stats = rec.stop()
        wall = time.perf_counter() - wall0
        cpu1 = os.times()
        size = path.stat().st_size
        with av.open(str(path)) as c:
            per_stream = {s.metadata.get("title", str(s.index)): 0 for s in c.streams}
            for p in c.demux():
                if p.size:
                    per_stream[p.stream.metadata.get("title", str(p.stream.index))] += p.size
        quality = applicant_quality(path, app_frames) if args.quality else None
    minutes = args.seconds / 60
    proc_cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    print(f"media: {args.seconds:.0f} s, H.264 applicant {w}x{h} + operator {ow}x{oh} @{fps} "
          f"(libx264 {preset}, crf 28, "
          f"maxrate 850k, GOP <= 2 s) + 2 x Opus 48 kHz mono 32 kb/s")
    print(f"dropped frames: {sum(stats['dropped'].values())}")
    print(f"recorder thread CPU: {stats['encode_cpu_s']:.1f} s "
          f"= {stats['encode_cpu_s'] / minutes:.1f} CPU-s per minute of call")
    print(f"process CPU (incl. feeding): {proc_cpu:.1f} s = {proc_cpu / minutes:.1f} CPU-s/min")
    print(f"real-time factor, CPU: {stats['encode_cpu_s'] / args.seconds:.2f} "
          f"(recorder CPU s per s of call = share of one core it needs)")
    print(f"real-time factor, wall: {wall / args.seconds:.2f} ({wall:.1f} s; 1 = exactly real "
          f"time, lower is faster; load average during the run "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"file: {size / 1e6:.2f} MB = {size / 1e6 / minutes:.2f} MB per minute "
          f"(target <= 15 MB/min)")
    for name, b in per_stream.items():
        print(f"  {name}: {b / 1e6 / minutes:.2f} MB/min")
    if quality is not None:
        print(f"applicant video against what was fed in: PSNR-Y {quality['psnr_y_db']:.2f} dB, "
              f"SSIM-Y {quality['ssim_y']:.4f} ({quality['frames']} frames)")
    rep.emit({
        "x264_preset": preset,
        "applicant_quality": quality,
        "media_s": args.seconds,
        "dropped_frames": sum(stats["dropped"].values()),
        "recorder_cpu_s": stats["encode_cpu_s"],
        "recorder_cpu_s_per_min": stats["encode_cpu_s"] / minutes,
        "process_cpu_s": proc_cpu,
        "process_cpu_s_per_min": proc_cpu / minutes,
        "realtime_factor_cpu": stats["encode_cpu_s"] / args.seconds,
        "realtime_factor_wall": wall / args.seconds,
        "wall_s": wall,
        "file_mb": size / 1e6,
        "file_mb_per_min": size / 1e6 / minutes,
        "target_file_mb_per_min": 15,
        "stream_mb_per_min": {name: b / 1e6 / minutes for name, b in per_stream.items()},
    })


if __name__ == "__main__":
    main()
