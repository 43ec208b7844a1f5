"""The one gate every untrusted image passes before the console looks at its pixels.

Stills from the applicant's page (``media.stills``), files given to ``recognition-console
inspect`` (``console.checks.imagefile``), in-person camera/scan images
(``console.flows.inperson``) and the stills the operator's checks decode (``console.flows.checks``,
``console.training.findings``) all go through ``decode_image``. In order, without decoding a pixel
until the last step:

1. the encoded input is capped (``max_bytes``);
2. the magic picks the format (PNG, JPEG, WebP, BMP; anything else, or a format the caller does
   not take, is ``image_format``) and our own parser walks the container: PNG chunks (CRCs
   checked) up to IEND, JPEG markers and scans up to EOI, the WebP RIFF chunks, the BMP headers.
   A file that ends early is ``image_truncated``; bytes after the image's end (a polyglot: an
   image that is also a ZIP, a script...) are ``image_format``;
3. the size the header declares (IHDR, SOFn, VP8/VP8L/VP8X, BITMAPINFOHEADER) is checked against
   the limits (``image_too_large``) and, when the caller knows it, against the size the sender
   declared (``image_size_mismatch``);
4. Pillow opens the image lazily with that format's plugin only; its size and mode must agree
   with our parse (the decoder allocates exactly what was checked); 32-bit/float modes are
   refused;
5. Pillow decodes it through a reader that checks the deadline and the caller's cancel event at
   every block it reads, so a timeout or a cancel stops the work (``image_timeout``,
   ``image_cancelled``); the decoded size must equal the declared one; 16-bit samples are scaled
   to 8 bits, grey/palette/alpha/CMYK converted, the EXIF orientation applied.

The result is a BGR uint8 array (H, W, 3), C-contiguous and writable; every failure is one
``ImageGateError`` (a ``ValueError``) whose ``code`` is stable (the UI translates it) and whose
``detail`` is short English for logs: never image content, never a traceback.

Limits: ``ImageLimits`` (defaults 32 MiB encoded, 8192 px a side, 40 megapixels, 10 s per
decode); ``DEFAULT_LIMITS`` takes overrides from the environment
(``RECOGNITION_CONSOLE_IMAGE_MAX_BYTES``, ``_MAX_SIDE``, ``_MAX_PIXELS``, ``_TIMEOUT_S``); a caller
may pass its own ``ImageLimits``. Memory: the input, plus about 7 bytes per declared pixel while
decoding (Pillow's 4-byte RGB buffer and the 3-byte BGR result; a progressive JPEG's coefficient
buffer adds 6): 290 MB measured for an 8000x5000 PNG, 0.8 s on this 2-core machine.
"""

from __future__ import annotations

import io
import logging
import os
import re
import struct
import threading
import time
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

PNG: Final = "PNG"
JPEG: Final = "JPEG"
WEBP: Final = "WEBP"
BMP: Final = "BMP"
ALL_FORMATS: Final = frozenset({PNG, JPEG, WEBP, BMP})
#: what the applicant's page and the in-person cameras send
STILL_FORMATS: Final = frozenset({PNG, JPEG})
MIME_FORMATS: Final = {"image/png": PNG, "image/jpeg": JPEG, "image/webp": WEBP,
                       "image/bmp": BMP}

ENV_PREFIX: Final = "RECOGNITION_CONSOLE_IMAGE_"
MAX_CHUNKS: Final = 65_536  # PNG/WebP chunks, JPEG segments: a 32 MiB PNG in 8 KiB IDATs has 4096
MAX_SCANS: Final = 100  # progressive JPEGs have about 10; each scan costs a pass over the image

_PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC: Final = b"\xff\xd8\xff"
# PNG colour type -> allowed bit depths
_PNG_DEPTHS: Final = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
# SOF markers libjpeg-turbo decodes at 8 bits: baseline, extended, progressive, arithmetic
_JPEG_SOF_OK: Final = frozenset({0xC0, 0xC1, 0xC2, 0xC9, 0xCA})
_JPEG_SOF_ALL: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# in entropy-coded data 0xFF is followed by 0x00 (stuffing) or RST0-7; anything else is a marker
_JPEG_MARKER_IN_SCAN: Final = re.compile(rb"\xff(?![\x00\xd0-\xd7])")
_BMP_HEADERS: Final = frozenset({12, 40, 52, 56, 64, 108, 124})
_BMP_COMPRESSIONS: Final = frozenset({0, 1, 2, 3})  # RGB, RLE8, RLE4, BITFIELDS
# Pillow modes converted to RGB as they are; the 16-bit grey modes are scaled by hand
_MODES_TO_RGB: Final = frozenset({"1", "L", "LA", "La", "P", "PA", "RGBA", "RGBa", "RGBX",
                                  "CMYK", "YCbCr"})
_MODES_16: Final = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
# EXIF orientation -> numpy operation (the same as PIL.ImageOps.exif_transpose)
_ORIENT_KS: Final = {3: 2, 6: -1, 8: 1}  # np.rot90 k
_STRIP_BYTES: Final = 8 << 20  # converted to BGR this much of the decoded image at a time


class ImageErrorCode(StrEnum):
    EMPTY = "image_empty"
    TOO_LARGE = "image_too_large"
    FORMAT = "image_format"  # unknown/refused format, wrong magic, polyglot, odd pixel mode
    TRUNCATED = "image_truncated"
    UNREADABLE = "image_unreadable"  # damaged: bad CRC, bad markers, decoder error
    SIZE_MISMATCH = "image_size_mismatch"  # not the size the sender declared
    TIMEOUT = "image_timeout"
    CANCELLED = "image_cancelled"
    FILE_NOT_FOUND = "file_not_found"
    NOT_A_FILE = "not_a_file"
    FILE_UNREADABLE = "file_unreadable"


class ImageGateError(ValueError):
    """An image refused by the gate. ``code`` is stable, ``detail`` short English (no content)."""

    def __init__(self, code: ImageErrorCode, detail: str = "") -> None:
        super().__init__(f"{code.value}: {detail}" if detail else code.value)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 32 * 1024 * 1024
    max_side: int = 8192
    max_pixels: int = 40_000_000
    timeout_s: float = 10.0


@dataclass(frozen=True)
class ImageInfo:
    """What the header declares (before any EXIF orientation)."""

    format: str
    width: int
    height: int
    bit_depth: int


def limits_from_env(environ: Mapping[str, str] | None = None) -> ImageLimits:
    """The default limits with ``RECOGNITION_CONSOLE_IMAGE_*`` overrides (bad values ignored)."""
    env = os.environ if environ is None else environ
    base = ImageLimits()
    values: dict[str, float] = {}
    for name, kind in (("max_bytes", int), ("max_side", int), ("max_pixels", int),
                       ("timeout_s", float)):
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        try:
            value = kind(raw)
        except ValueError:
            value = 0
        if value > 0:
            values[name] = value
        else:
            log.warning("%s%s ignored: not a positive number", ENV_PREFIX, name.upper())
    return ImageLimits(
        max_bytes=int(values.get("max_bytes", base.max_bytes)),
        max_side=int(values.get("max_side", base.max_side)),
        max_pixels=int(values.get("max_pixels", base.max_pixels)),
        timeout_s=float(values.get("timeout_s", base.timeout_s)),
    )


DEFAULT_LIMITS: Final = limits_from_env()


def _err(code: ImageErrorCode, detail: str) -> ImageGateError:
    return ImageGateError(code, detail)


# --- header parsers (no pixel is decoded here) ----------------------------------------------


def _check_size(fmt: str, width: int, height: int, limits: ImageLimits) -> None:
    if width <= 0 or height <= 0:
        raise _err(ImageErrorCode.UNREADABLE, f"{fmt} header declares an empty image")
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise _err(ImageErrorCode.TOO_LARGE,
                   f"{fmt} declares {width}x{height} pixels (limits: {limits.max_side} a side, "
                   f"{limits.max_pixels} in all)")


def _png(data: bytes, limits: ImageLimits) -> ImageInfo:
    view = memoryview(data)
    n = len(data)
    pos = len(_PNG_MAGIC)
    info: ImageInfo | None = None
    seen_idat = False
    for count in range(MAX_CHUNKS + 1):
        if count == MAX_CHUNKS:
            raise _err(ImageErrorCode.FORMAT, "PNG with too many chunks")
        if pos + 12 > n:
            raise _err(ImageErrorCode.TRUNCATED, "PNG ends before IEND")
        length, kind = struct.unpack_from(">I4s", data, pos)
        if length > 0x7FFFFFFF or not kind.isalpha():
            raise _err(ImageErrorCode.UNREADABLE, "PNG chunk header damaged")
        end = pos + 12 + length
        if end > n:
            raise _err(ImageErrorCode.TRUNCATED, "PNG ends inside a chunk")
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(view[pos + 4 : end - 4]) != crc:
            raise _err(ImageErrorCode.UNREADABLE, "PNG chunk CRC mismatch")
        if info is None:
            if kind != b"IHDR" or length != 13:
                raise _err(ImageErrorCode.UNREADABLE, "PNG does not start with IHDR")
            width, height, depth, colour, comp, filt, lace = struct.unpack_from(
                ">IIBBBBB", data, pos + 8)
            if depth not in _PNG_DEPTHS.get(colour, ()) or comp or filt or lace > 1:
                raise _err(ImageErrorCode.UNREADABLE, "PNG IHDR has invalid values")
            _check_size(PNG, width, height, limits)
            info = ImageInfo(PNG, width, height, depth)
        elif kind == b"IHDR":
            raise _err(ImageErrorCode.UNREADABLE, "PNG with two IHDR chunks")
        elif kind == b"IDAT":
            seen_idat = True
        elif kind == b"IEND":
            if not seen_idat:
                raise _err(ImageErrorCode.UNREADABLE, "PNG without image data")
            if end != n:
                raise _err(ImageErrorCode.FORMAT, "data after the end of the PNG (polyglot)")
            return info
        pos = end
    raise AssertionError("unreachable")  # pragma: no cover


def _jpeg(data: bytes, limits: ImageLimits) -> ImageInfo:
    n = len(data)
    pos = 2  # after SOI
    info: ImageInfo | None = None
    scans = 0
    for count in range(MAX_CHUNKS + 1):
        if count == MAX_CHUNKS:
            raise _err(ImageErrorCode.FORMAT, "JPEG with too many segments")
        if pos >= n:
            raise _err(ImageErrorCode.TRUNCATED, "JPEG ends before EOI")
        if data[pos] != 0xFF:
            raise _err(ImageErrorCode.UNREADABLE, "JPEG marker expected")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            raise _err(ImageErrorCode.TRUNCATED, "JPEG ends before EOI")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            if info is None or scans == 0:
                raise _err(ImageErrorCode.UNREADABLE, "JPEG without image data")
            if pos != n:
                raise _err(ImageErrorCode.FORMAT, "data after the end of the JPEG (polyglot)")
            return info
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # RSTn, TEM: no length
            continue
        if marker in (0x00, 0xD8):
            raise _err(ImageErrorCode.UNREADABLE, "JPEG marker sequence damaged")
        if pos + 2 > n:
            raise _err(ImageErrorCode.TRUNCATED, "JPEG ends inside a segment")
        (length,) = struct.unpack_from(">H", data, pos)
        end = pos + length
        if length < 2:
            raise _err(ImageErrorCode.UNREADABLE, "JPEG segment length damaged")
        if end > n:
            raise _err(ImageErrorCode.TRUNCATED, "JPEG ends inside a segment")
        if marker in _JPEG_SOF_ALL:
            if info is not None:
                raise _err(ImageErrorCode.UNREADABLE, "JPEG with two frame headers")
            if length < 8:
                raise _err(ImageErrorCode.UNREADABLE, "JPEG frame header damaged")
            precision, height, width, components = struct.unpack_from(">BHHB", data, pos + 2)
            if marker not in _JPEG_SOF_OK or precision != 8:
                raise _err(ImageErrorCode.FORMAT, "JPEG coding not supported")
            if components not in (1, 3, 4) or length < 8 + 3 * components:
                raise _err(ImageErrorCode.UNREADABLE, "JPEG frame header damaged")
            _check_size(JPEG, width, height, limits)
            info = ImageInfo(JPEG, width, height, 8)
        elif marker == 0xDA:  # SOS: skip the entropy-coded data up to the next marker
            if info is None:
                raise _err(ImageErrorCode.UNREADABLE, "JPEG scan before the frame header")
            scans += 1
            if scans > MAX_SCANS:
                raise _err(ImageErrorCode.FORMAT, "JPEG with too many scans")
            found = _JPEG_MARKER_IN_SCAN.search(data, end)
            if found is None:
                raise _err(ImageErrorCode.TRUNCATED, "JPEG ends inside a scan")
            pos = found.start()
            continue
        pos = end
    raise AssertionError("unreachable")  # pragma: no cover


def _webp(data: bytes, limits: ImageLimits) -> ImageInfo:
    n = len(data)
    (riff,) = struct.unpack_from("<I", data, 4)
    total = riff + 8
    if total > n:
        raise _err(ImageErrorCode.TRUNCATED, "WebP ends early")
    if total < n:
        raise _err(ImageErrorCode.FORMAT, "data after the end of the WebP (polyglot)")
    pos = 12
    info: ImageInfo | None = None
    has_image = False
    for count in range(MAX_CHUNKS + 1):
        if pos == total:
            break
        if count == MAX_CHUNKS:
            raise _err(ImageErrorCode.FORMAT, "WebP with too many chunks")
        if pos + 8 > total:
            raise _err(ImageErrorCode.TRUNCATED, "WebP ends inside a chunk")
        kind, size = struct.unpack_from("<4sI", data, pos)
        body = pos + 8
        end = body + size + (size & 1)
        if end > total and body + size == total:
            end = total  # an odd last chunk without its pad byte
        if end > total:
            raise _err(ImageErrorCode.TRUNCATED, "WebP ends inside a chunk")
        if info is None:
            width = height = 0
            if kind == b"VP8 " and size >= 10:
                tag = data[body] | data[body + 1] << 8 | data[body + 2] << 16
                if tag & 1 or data[body + 3 : body + 6] != b"\x9d\x01\x2a":
                    raise _err(ImageErrorCode.UNREADABLE, "WebP VP8 header damaged")
                w16, h16 = struct.unpack_from("<HH", data, body + 6)
                width, height = w16 & 0x3FFF, h16 & 0x3FFF
            elif kind == b"VP8L" and size >= 5:
                (bits,) = struct.unpack_from("<I", data, body + 1)
                if data[body] != 0x2F or bits >> 29:
                    raise _err(ImageErrorCode.UNREADABLE, "WebP VP8L header damaged")
                width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            elif kind == b"VP8X" and size >= 10:
                width = 1 + int.from_bytes(data[body + 4 : body + 7], "little")
                height = 1 + int.from_bytes(data[body + 7 : body + 10], "little")
            else:
                raise _err(ImageErrorCode.UNREADABLE, "WebP without a known image header")
            _check_size(WEBP, width, height, limits)
            info = ImageInfo(WEBP, width, height, 8)
        has_image = has_image or kind in (b"VP8 ", b"VP8L", b"ANMF")
        pos = end
    if info is None or not has_image:
        raise _err(ImageErrorCode.UNREADABLE, "WebP without image data")
    return info


def _bmp(data: bytes, limits: ImageLimits) -> ImageInfo:
    n = len(data)
    if n < 26:
        raise _err(ImageErrorCode.TRUNCATED, "BMP ends inside its header")
    file_size, offset, header = struct.unpack_from("<I4xII", data, 2)
    if header not in _BMP_HEADERS:
        raise _err(ImageErrorCode.FORMAT, "BMP header version not supported")
    if n < 14 + header:
        raise _err(ImageErrorCode.TRUNCATED, "BMP ends inside its header")
    if header == 12:
        width, height, planes, bpp = struct.unpack_from("<HHHH", data, 18)
        compression = 0
    else:
        width, height, planes, bpp, compression = struct.unpack_from("<iiHHI", data, 18)
        height = abs(height)  # negative: top-down rows
    if planes != 1 or bpp not in (1, 2, 4, 8, 16, 24, 32):
        raise _err(ImageErrorCode.UNREADABLE, "BMP header has invalid values")
    if compression not in _BMP_COMPRESSIONS:
        raise _err(ImageErrorCode.FORMAT, "BMP compression not supported")
    _check_size(BMP, width, height, limits)
    if offset < 14 + header or offset > n:
        raise _err(ImageErrorCode.TRUNCATED if offset > n else ImageErrorCode.UNREADABLE,
                   "BMP pixel data offset out of the file")
    if compression in (0, 3):
        end = offset + (width * bpp + 31) // 32 * 4 * height
        if end > n:
            raise _err(ImageErrorCode.TRUNCATED, "BMP ends inside its pixel data")
        end = max(end, file_size if file_size <= n else 0)
    else:  # RLE: the file size field is all there is
        if file_size > n:
            raise _err(ImageErrorCode.TRUNCATED, "BMP ends early")
        end = file_size or n
    if n > end:
        raise _err(ImageErrorCode.FORMAT, "data after the end of the BMP (polyglot)")
    return ImageInfo(BMP, width, height, bpp)


def _cut_magic(data: bytes) -> bool:
    """True when the bytes are a proper prefix of one of the signatures."""
    if len(data) < len(_PNG_MAGIC) and _PNG_MAGIC.startswith(data):
        return True
    if len(data) < len(_JPEG_MAGIC) and _JPEG_MAGIC.startswith(data):
        return True
    if len(data) < 12 and b"RIFF".startswith(data[:4]) and b"WEBP".startswith(data[8:]):
        return True
    return data == b"B"


def _sniff(data: bytes) -> str:
    """The format the magic says; ``image_truncated`` for a cut magic, else ``image_format``."""
    if data.startswith(_PNG_MAGIC):
        return PNG
    if data.startswith(_JPEG_MAGIC):
        return JPEG
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"BM"):
        return BMP
    if _cut_magic(data):
        raise _err(ImageErrorCode.TRUNCATED, "file ends inside the image signature")
    raise _err(ImageErrorCode.FORMAT, "not a PNG, JPEG, WebP or BMP image")


_PARSERS: Final = {PNG: _png, JPEG: _jpeg, WEBP: _webp, BMP: _bmp}


def probe_image(data: bytes, *, limits: ImageLimits = DEFAULT_LIMITS,
                formats: Collection[str] = ALL_FORMATS) -> ImageInfo:
    """Format and declared size from the header and container walk; decodes no pixel."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _err(ImageErrorCode.FORMAT, "not image bytes")
    data = bytes(data)
    if not data:
        raise _err(ImageErrorCode.EMPTY, "no bytes")
    if len(data) > limits.max_bytes:
        raise _err(ImageErrorCode.TOO_LARGE, f"{len(data)} bytes (limit {limits.max_bytes})")
    fmt = _sniff(data)
    if fmt not in formats:
        raise _err(ImageErrorCode.FORMAT, f"{fmt} is not accepted here")
    try:
        return _PARSERS[fmt](data, limits)
    except ImageGateError:
        raise
    except (struct.error, IndexError, ValueError, OverflowError):  # a parser bug, not a crash
        raise _err(ImageErrorCode.UNREADABLE, f"{fmt} header damaged") from None


# --- decoding -------------------------------------------------------------------------------


class _GuardedReader(io.BytesIO):
    """The encoded bytes as a file whose every read checks the deadline and the cancel event:
    Pillow's decoders pull their input through ``read`` block by block."""

    def __init__(self, data: bytes, deadline: float, cancel: threading.Event | None) -> None:
        super().__init__(data)
        self.deadline = deadline
        self.cancel = cancel

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise _err(ImageErrorCode.CANCELLED, "decoding cancelled")
        if time.monotonic() > self.deadline:
            raise _err(ImageErrorCode.TIMEOUT, "decoding took too long")

    def read(self, size: int | None = -1, /) -> bytes:
        self.check()
        return super().read(size)


def _orient(img: np.ndarray, orientation: int) -> np.ndarray:
    if orientation in (2, 4, 5, 7):
        img = img[:, ::-1] if orientation in (2, 5, 7) else img[::-1]
        if orientation in (5, 7):
            img = np.rot90(img, 1 if orientation == 5 else -1)
    elif orientation in _ORIENT_KS:
        img = np.rot90(img, _ORIENT_KS[orientation])
    else:
        return img
    return np.ascontiguousarray(img)


def _exif_orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # a damaged EXIF block only loses the orientation
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _to_bgr(im: Image.Image, info: ImageInfo, reader: _GuardedReader) -> np.ndarray:
    """The decoded image as BGR, converted strip by strip into one preallocated array (no
    full-size intermediate copy; the deadline and the cancel event are checked per strip)."""
    h, w = info.height, info.width
    out = np.empty((h, w, 3), np.uint8)
    step = max(1, _STRIP_BYTES // (w * 4))
    for top in range(0, h, step):
        reader.check()
        bottom = min(h, top + step)
        strip = im.crop((0, top, w, bottom))
        if strip.mode in _MODES_16:
            grey = np.asarray(strip).astype(np.int64)
            g8 = (np.clip(grey, 0, 65535) >> 8).astype(np.uint8).reshape(bottom - top, w)
            out[top:bottom] = g8[:, :, None]
            continue
        rgb = strip if strip.mode == "RGB" else strip.convert("RGB")
        out[top:bottom] = np.frombuffer(rgb.tobytes("raw", "BGR"), np.uint8).reshape(
            bottom - top, w, 3)
    return out


def decode_image(
    data: bytes,
    *,
    limits: ImageLimits = DEFAULT_LIMITS,
    formats: Collection[str] = ALL_FORMATS,
    expect_size: tuple[int, int] | None = None,
    cancel: threading.Event | None = None,
    deadline: float | None = None,
    orient: bool = True,
) -> np.ndarray:
    """THE gate: checked header, bounded decode, BGR uint8 (H, W, 3) or ``ImageGateError``.

    ``formats``: what this caller takes (e.g. ``{"PNG"}`` for a still sent as image/png);
    ``expect_size``: (width, height) the sender declared; ``cancel``: an event that stops the
    decode at its next block; ``deadline``: a ``time.monotonic()`` instant (at most
    ``limits.timeout_s`` from now either way); ``orient``: apply the EXIF orientation.
    """
    start = time.monotonic()
    info = probe_image(data, limits=limits, formats=formats)
    if expect_size is not None and (info.width, info.height) != tuple(expect_size):
        raise _err(ImageErrorCode.SIZE_MISMATCH,
                   f"{info.format} is {info.width}x{info.height}, not the declared size")
    end = start + limits.timeout_s if deadline is None else min(deadline, start + limits.timeout_s)
    reader = _GuardedReader(bytes(data), end, cancel)
    try:
        reader.check()
        im = Image.open(reader, formats=[info.format])
        try:
            if im.size != (info.width, info.height) or im.format not in (info.format, "MPO"):
                raise _err(ImageErrorCode.FORMAT, "the image's headers disagree")
            if im.mode not in _MODES_TO_RGB and im.mode not in _MODES_16 and im.mode != "RGB":
                raise _err(ImageErrorCode.FORMAT, "pixel format not supported")
            im.load()
            reader.check()
            if im.size != (info.width, info.height):
                raise _err(ImageErrorCode.UNREADABLE, "decoded size differs from the header")
            orientation = _exif_orientation(im) if orient else 1
            img = _to_bgr(im, info, reader)
        finally:
            im.close()
        reader.check()
    except ImageGateError:
        raise
    except MemoryError:
        raise _err(ImageErrorCode.TOO_LARGE, "not enough memory to decode") from None
    except Image.DecompressionBombError:  # limits configured past Pillow's own
        raise _err(ImageErrorCode.TOO_LARGE, "over the decoder's own pixel limit") from None
    except Exception as exc:  # Pillow raises many types for damaged data
        truncated = "truncated" in str(exc).lower()
        raise _err(ImageErrorCode.TRUNCATED if truncated else ImageErrorCode.UNREADABLE,
                   f"decoder: {type(exc).__name__}") from None
    return _orient(img, orientation)


def check_pixels(img: np.ndarray, *, limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    """The gate for an image that comes already decoded (a camera frame, a scanner's buffer):
    uint8, grey (H, W) or colour (H, W, 3|4), within the limits; returns it unchanged."""
    arr = np.asarray(img)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (
            arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise _err(ImageErrorCode.FORMAT, "pixel format not supported")
    _check_size("array", int(arr.shape[1]), int(arr.shape[0]), limits)
    return arr


def load_image_file(
    path: str | os.PathLike[str],
    *,
    limits: ImageLimits = DEFAULT_LIMITS,
    formats: Collection[str] = ALL_FORMATS,
) -> np.ndarray:
    """Read an image file (never more than ``limits.max_bytes``) and pass it through the gate;
    also ``file_not_found``, ``not_a_file``, ``file_unreadable``."""
    p = Path(path)
    try:
        if not p.is_file():
            if not p.exists():
                raise _err(ImageErrorCode.FILE_NOT_FOUND, "no such file")
            raise _err(ImageErrorCode.NOT_A_FILE, "not a regular file")
        if p.stat().st_size > limits.max_bytes:
            raise _err(ImageErrorCode.TOO_LARGE, f"file over {limits.max_bytes} bytes")
        with p.open("rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise _err(ImageErrorCode.FILE_NOT_FOUND, "no such file") from None
    except PermissionError:
        raise _err(ImageErrorCode.FILE_UNREADABLE, "permission denied") from None
    except OSError as exc:
        raise _err(ImageErrorCode.FILE_UNREADABLE, exc.strerror or "read error") from None
    return decode_image(data, limits=limits, formats=formats)


__all__ = [
    "ALL_FORMATS",
    "DEFAULT_LIMITS",
    "MIME_FORMATS",
    "STILL_FORMATS",
    "ImageErrorCode",
    "ImageGateError",
    "ImageInfo",
    "ImageLimits",
    "check_pixels",
    "decode_image",
    "limits_from_env",
    "load_image_file",
    "probe_image",
]
