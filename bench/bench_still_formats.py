"""Which format for the applicant's stills: the checks' results and the size per format.

    .venv/bin/python -m bench.bench_still_formats [--size 1920x1080] [--noise 8] [--json]

The synthetic applicant (demo.applicant.scene) at --size, every step of its script (face,
identity card front/back, health card front/back), with sensor-like luma noise of ±--noise
(what a camera gives; a clean rendering flatters every codec). Each frame is encoded as PNG
(the reference: lossless), JPEG q95 and q90 (4:2:0, as Chromium's canvas encoder) and WebP
lossless, decoded again through media.imagegate, and run through the console's checks
(console.checks.pipeline.inspect_image: MRZ reading, faces). Printed per format: total bytes,
encode ms, and whether the MRZ fields, their validity and the face count agree with PNG's.
The page (server/static/js/still.js) sends the format chosen from these figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import report  # noqa: E402
from console.checks.pipeline import inspect_image  # noqa: E402
from demo.applicant.scene import SCRIPT, SceneRenderer  # noqa: E402
from media import imagegate  # noqa: E402

FORMATS: dict[str, tuple[str, list[int]]] = {
    "png": (".png", [cv2.IMWRITE_PNG_COMPRESSION, 6]),
    "jpeg_q95": (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95]),
    "jpeg_q90": (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 90]),
    "webp_lossless": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),
}


def summary(img: np.ndarray) -> dict[str, Any]:
    res = inspect_image(img, detect_faces=True)
    j = res.to_json()
    mrz = j["mrz"]
    return {
        "mrz_fields": None if not isinstance(mrz, dict) else mrz["fields"],
        "mrz_valid": None if not isinstance(mrz, dict) else mrz["valid"],
        "faces": len(res.faces),
    }


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--noise", type=int, default=8)
    return report.add_json_argument(ap)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rep = report.start(__file__, args)
    width, height = (int(v) for v in args.size.lower().split("x"))
    scene = SceneRenderer(width, height)
    rng = np.random.default_rng(7)
    totals: dict[str, dict[str, Any]] = {
        k: {"bytes": 0, "encode_ms": 0.0, "agree": 0, "steps": 0} for k in FORMATS}
    per_step: list[dict[str, Any]] = []
    for step in SCRIPT:
        frame = scene.bgr(step)
        if args.noise:
            jitter = rng.integers(-args.noise, args.noise + 1, frame.shape[:2], dtype=np.int16)
            frame = np.clip(frame.astype(np.int16) + jitter[..., None], 0, 255).astype(np.uint8)
        ref: dict[str, Any] | None = None
        row: dict[str, Any] = {"step": step.value}
        for name, (ext, params) in FORMATS.items():
            t = time.perf_counter()
            ok, buf = cv2.imencode(ext, frame, params)
            enc_ms = (time.perf_counter() - t) * 1000
            assert ok
            data = buf.tobytes()
            decoded = imagegate.decode_image(data)
            got = summary(decoded)
            if ref is None:
                ref = got
            agree = got == ref
            totals[name]["bytes"] += len(data)
            totals[name]["encode_ms"] += enc_ms
            totals[name]["agree"] += int(agree)
            totals[name]["steps"] += 1
            row[name] = {"bytes": len(data), "encode_ms": round(enc_ms, 1), "agree": agree,
                         **got}
        per_step.append(row)
        print(f"{step.value:<9}", "  ".join(
            f"{n} {row[n]['bytes'] / 1024:6.0f} KiB {'=' if row[n]['agree'] else 'DIFFERS'}"
            f" (mrz valid {row[n]['mrz_valid']}, faces {row[n]['faces']})" for n in FORMATS))
    print(f"\n{width}x{height}, noise ±{args.noise}, {len(SCRIPT)} steps:")
    for name, t in totals.items():
        print(f"  {name:<14} {t['bytes'] / 1024 / t['steps']:7.0f} KiB mean"
              f"  encode {t['encode_ms'] / t['steps']:6.1f} ms mean (OpenCV)"
              f"  same checks as PNG on {t['agree']}/{t['steps']}")
    rep.emit({"size": f"{width}x{height}", "noise": args.noise, "totals": totals,
              "steps": per_step})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
