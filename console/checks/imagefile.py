"""Safe image loading: size and format checked from the header before any pixel is decoded."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 MP: a phone photo is 12–50 MP; decompression bombs are larger
MAX_SIDE = 12_000
_FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "BMP", "TIFF"}


class ImageError(Exception):
    """A file that is not a usable image. `code` is stable; the UI translates it."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def decode_image(data: bytes) -> np.ndarray:
    """Decode image bytes to BGR uint8; raises ImageError (empty_file, not_an_image, too_large,
    truncated)."""
    if not data:
        raise ImageError("empty_file", "the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError("too_large", f"{len(data)} bytes (limit {MAX_FILE_BYTES})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt, (w, h) = probe.format, probe.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageError("too_large", "image dimensions over the limit") from exc
    except Exception as exc:  # PIL raises many types for garbage input
        raise ImageError("not_an_image", "unrecognised image format") from exc
    if fmt not in _FORMATS:
        raise ImageError("not_an_image", f"unsupported format {fmt}")
    if w <= 0 or h <= 0 or w * h > MAX_PIXELS or max(w, h) > MAX_SIDE:
        raise ImageError("too_large", f"{w}x{h} pixels (limit {MAX_PIXELS} pixels)")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()  # full decode: raises on truncated or corrupt data
            rgb = np.asarray(im.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError("truncated", "image data ends early or is corrupt") from exc
    return np.ascontiguousarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def load_image(path: str | Path) -> np.ndarray:
    """Read and decode an image file; raises ImageError (also file_not_found, unreadable)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise ImageError("not_a_file", "not a regular file")
        if size > MAX_FILE_BYTES:
            raise ImageError("too_large", f"{size} bytes (limit {MAX_FILE_BYTES})")
        data = p.read_bytes()
    except FileNotFoundError as exc:
        raise ImageError("file_not_found", "no such file") from exc
    except IsADirectoryError as exc:
        raise ImageError("not_a_file", "is a directory") from exc
    except PermissionError as exc:
        raise ImageError("unreadable", "permission denied") from exc
    except OSError as exc:
        raise ImageError("unreadable", exc.strerror or "read error") from exc
    return decode_image(data)
