"""`recognition-console inspect IMAGE... [--json] [--request FILE] [--face LIVE_IMAGE]`.

Prints one result per image (a JSON object per line with --json).  Exit status: 0 when every
image was read, 1 when at least one could not be (the reason is in its `errors`), 2 for a bad
request file or live-face image.  Personal data goes to stdout only, never to the log.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path

logger = logging.getLogger(__name__)

_REQUEST_MAX_BYTES = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG/JPEG/WebP/BMP files")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--request", metavar="FILE",
                        help="request JSON (PROTOCOL.md POST /requests shape) to compare with")
    parser.add_argument("--face", metavar="LIVE_IMAGE",
                        help="a live frame whose face is compared with the document photo")
    parser.add_argument("--engine", choices=("template", "tesseract"), default="template",
                        help="MRZ OCR engine (default: template)")
    parser.add_argument("--no-faces", action="store_true", help="skip face detection")
    parser.add_argument("--today", metavar="YYYY-MM-DD", help="date for expiry checks")


def _error(code: str, message: str) -> dict[str, object]:
    return {"quality": None, "card": None, "mrz": None, "codice_fiscale": None,
            "faces": {"count": 0, "boxes": []}, "errors": [{"code": code, "message": message}]}


def _load_request(path: str) -> dict[str, object]:
    p = Path(path)
    if p.stat().st_size > _REQUEST_MAX_BYTES:
        raise ValueError("request file too large")
    data = json.loads(p.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("request is not a JSON object")
    return data


def _print_human(name: str, out: dict[str, object]) -> None:
    print(f"== {name}")
    for key in ("quality", "card", "mrz", "codice_fiscale", "faces", "face_match", "errors"):
        if key in out:
            print(f"  {key}: {json.dumps(out[key], ensure_ascii=False)}")


def run(args: argparse.Namespace) -> int:
    from console.checks.imagefile import ImageError, load_image

    request = None
    if args.request:
        try:
            request = _load_request(args.request)
        except (OSError, ValueError) as exc:
            print(f"recognition-console inspect: cannot use the request file: {exc}",
                  file=sys.stderr)
            return 2
    today = None
    if args.today:
        try:
            today = date.fromisoformat(args.today)
        except ValueError:
            print("recognition-console inspect: --today must be YYYY-MM-DD", file=sys.stderr)
            return 2
    live = None
    if args.face:
        try:
            live = load_image(args.face)
        except ImageError as exc:
            print(f"recognition-console inspect: cannot use the live image: {exc.code.value}: "
                  f"{exc.detail}", file=sys.stderr)
            return 2
    from console.checks.pipeline import inspect_image

    status = 0
    for name in args.images:
        try:
            img = load_image(name)
        except ImageError as exc:
            out = _error(exc.code.value, exc.detail or exc.code.value)
            status = 1
        else:
            try:
                out = inspect_image(img, request, today, engine=args.engine,
                                    detect_faces=not args.no_faces, live_face=live).to_json()
            except Exception as exc:  # last line of defence: a clear message, no traceback
                logger.exception("inspection failed")
                out = _error("internal_error", type(exc).__name__)
                status = 1
        out = {"file": name, **out}
        if args.json:
            print(json.dumps(out, ensure_ascii=False), flush=True)
        else:
            _print_human(name, out)
    return status
