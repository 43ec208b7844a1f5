"""Frame stamp: a 48-bit millisecond timestamp painted into a video frame.

Layout (docs/PROTOCOL.md, "Frame stamp"): at the top-left corner, a 16-px white start
marker followed by 48 blocks of 16x16 pixels, most significant bit first; a white block is
a 1, a black block a 0. The stamp covers 784x16 pixels. Blocks are aligned on the 16x16
macroblock grid, so VP8/H.264 keep them intact even at low bitrates.

Reading samples only the centre of each block in the luma plane: about 20 us per frame.
"""

from __future__ import annotations

import logging

import av
import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

BLOCK = 16
BITS = 48
MARKER = 16
STAMP_WIDTH = MARKER + BITS * BLOCK  # 784
STAMP_HEIGHT = BLOCK
MAX_VALUE = (1 << BITS) - 1

WHITE = 255
BLACK = 0
# a sample is trusted only when it is clearly black or clearly white
_LOW = 80
_HIGH = 176
# inner part of each block that is sampled (avoids the blurred edges)
_INNER0 = 4
_INNER1 = 12

_WEIGHTS = np.array([1 << (BITS - 1 - i) for i in range(BITS)], dtype=np.uint64)

U8Array = npt.NDArray[np.uint8]


def _bits(ms: int) -> list[int]:
    if not 0 <= ms <= MAX_VALUE:
        raise ValueError(f"stamp value out of range: {ms}")
    return [(ms >> (BITS - 1 - i)) & 1 for i in range(BITS)]


def _check_size(width: int, height: int) -> None:
    if width < STAMP_WIDTH or height < STAMP_HEIGHT:
        raise ValueError(
            f"frame {width}x{height} too small for the stamp ({STAMP_WIDTH}x{STAMP_HEIGHT})"
        )


def paint_plane(luma: U8Array, ms: int) -> None:
    """Paint the stamp into a single 8-bit plane (luma or grey image), in place."""
    h, w = luma.shape[:2]
    _check_size(w, h)
    luma[0:BLOCK, 0:MARKER] = WHITE
    row = np.repeat(np.array(_bits(ms), dtype=np.uint8) * WHITE, BLOCK)
    luma[0:BLOCK, MARKER:STAMP_WIDTH] = row[np.newaxis, :]


def paint_bgr(image: U8Array, ms: int) -> None:
    """Paint the stamp into an (H, W, 3) BGR/RGB image, in place."""
    if image.ndim != 3 or image.dtype != np.uint8:
        raise ValueError("expected an (H, W, C) uint8 image")
    h, w = image.shape[:2]
    _check_size(w, h)
    image[0:BLOCK, 0:MARKER, :] = WHITE
    row = np.repeat(np.array(_bits(ms), dtype=np.uint8) * WHITE, BLOCK)
    image[0:BLOCK, MARKER:STAMP_WIDTH, :] = row[np.newaxis, :, np.newaxis]


def paint_i420(buffer: U8Array, width: int, height: int, ms: int) -> None:
    """Paint the stamp into a contiguous I420 buffer of shape (height * 3 // 2, width).

    This is the layout `av.VideoFrame.from_ndarray(buffer, format="yuv420p")` takes. The
    chroma under the stamp is set to neutral grey so the blocks stay black/white.
    """
    if buffer.shape != (height * 3 // 2, width):
        raise ValueError("buffer is not an I420 image of the given size")
    paint_plane(buffer[:height], ms)
    # U and V planes follow the luma: each is (height/2) x (width/2), stored as rows of width
    chroma = buffer[height:].reshape(-1)
    cw, ch = width // 2, height // 2
    u = chroma[: cw * ch].reshape(ch, cw)
    v = chroma[cw * ch : 2 * cw * ch].reshape(ch, cw)
    u[0 : BLOCK // 2, 0 : STAMP_WIDTH // 2] = 128
    v[0 : BLOCK // 2, 0 : STAMP_WIDTH // 2] = 128


def read_plane(luma: U8Array) -> int | None:
    """Read the stamp from an 8-bit plane whose first 16 rows are at least 784 wide.

    Returns None when the frame carries no (readable) stamp.
    """
    if luma.shape[0] < STAMP_HEIGHT or luma.shape[1] < STAMP_WIDTH:
        return None
    band = luma[_INNER0:_INNER1, :STAMP_WIDTH].reshape(_INNER1 - _INNER0, 1 + BITS, BLOCK)
    samples = band[:, :, _INNER0:_INNER1].mean(axis=(0, 2))
    if samples[0] < _HIGH:
        return None
    values = samples[1:]
    if np.any((values > _LOW) & (values < _HIGH)):
        return None
    bits = (values >= _HIGH).astype(np.uint64)
    return int((bits * _WEIGHTS).sum())


def read_bgr(image: U8Array) -> int | None:
    """Read the stamp from a BGR/RGB image (uses its first channel)."""
    if image.ndim != 3:
        return None
    return read_plane(image[:STAMP_HEIGHT, :, 1])


def read_frame(frame: av.VideoFrame) -> int | None:
    """Read the stamp from a decoded frame without converting the whole picture.

    Works on planar YUV formats (yuv420p, the decoder's output) by looking at the luma plane
    only; other formats fall back to a conversion.
    """
    if frame.width < STAMP_WIDTH or frame.height < STAMP_HEIGHT:
        return None
    fmt = frame.format.name
    if fmt in ("yuv420p", "yuvj420p", "yuv422p", "yuv444p", "nv12", "gray"):
        plane = frame.planes[0]
        stride = plane.line_size
        raw = np.frombuffer(memoryview(plane), dtype=np.uint8, count=stride * STAMP_HEIGHT)
        return read_plane(raw.reshape(STAMP_HEIGHT, stride))
    bgr: U8Array = np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
    return read_bgr(bgr)
