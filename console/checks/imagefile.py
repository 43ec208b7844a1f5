"""Image files for ``recognition-console inspect``: every file goes through the image gate
(``media.imagegate``): size cap before reading, header checked (format, declared size) before any
pixel is decoded, bounded decode; PNG, JPEG, WebP or BMP."""

from __future__ import annotations

import os

import numpy as np

from media.imagegate import (
    ALL_FORMATS,
    DEFAULT_LIMITS,
    ImageErrorCode,
    ImageGateError,
    ImageLimits,
    load_image_file,
)
from media.imagegate import decode_image as _gate_decode

#: the gate's error; ``code`` is stable (image_empty, image_too_large, image_format,
#: image_truncated, image_unreadable, file_not_found, not_a_file, file_unreadable...)
ImageError = ImageGateError


def decode_image(data: bytes, limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Image bytes to BGR uint8; raises ImageError."""
    return _gate_decode(data, limits=limits, formats=ALL_FORMATS)


def load_image(path: str | os.PathLike[str], limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Read and decode an image file; raises ImageError."""
    return load_image_file(path, limits=limits, formats=ALL_FORMATS)


__all__ = ["ImageError", "ImageErrorCode", "decode_image", "load_image"]
