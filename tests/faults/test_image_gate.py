"""Hostile images against the one image gate (media.imagegate) and the places that call it.

Every image that enters the console (a still from the applicant's page, a file given to
``recognition-console inspect``, an in-person camera/scan image, the stills the checks decode)
goes through ``decode_image``. Over truncated, zero-byte, huge-header (decompression bombs:
a PNG whose IHDR says 20000x20000, its 16-bit variant, a JPEG whose SOF says 60000x60000...),
wrong-magic and polyglot files, each answer is a typed ``ImageGateError`` within 1 s, no other
exception escapes, and the process's peak memory grows by less than 200 MB.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import resource
import struct
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from media.imagegate import (
    ALL_FORMATS,
    BMP,
    DEFAULT_LIMITS,
    JPEG,
    PNG,
    WEBP,
    ImageErrorCode,
    ImageGateError,
    ImageLimits,
    decode_image,
    probe_image,
)
from media.stills import StillAssembler, StillError, StillErrorCode, split_still

ROOT = Path(__file__).resolve().parents[2]
TIME_LIMIT_S = 1.0
MEMORY_LIMIT_MB = 200
GATE = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- measuring -------------------------------------------------------------------------------


def _peak_mb() -> float:
    """The process's peak resident memory (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    # Linux: "5" resets VmHWM to the current RSS
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w",
                                            encoding="ascii") as fh:
        fh.write("5")


@contextlib.contextmanager
def bounded(seconds: float = TIME_LIMIT_S, megabytes: float = MEMORY_LIMIT_MB) -> Iterator[None]:
    """The block must end within ``seconds`` and raise the peak RSS by < ``megabytes``."""
    _reset_peak()
    before = _peak_mb()
    t0 = time.perf_counter()
    yield
    elapsed = time.perf_counter() - t0
    grown = _peak_mb() - before
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert grown < megabytes, f"peak memory grew by {grown:.0f} MB"


def gate_error(fn: Callable[[], object]) -> ImageGateError:
    """Run ``fn`` under the bounds; it must raise ImageGateError (anything else fails)."""
    with bounded():
        try:
            fn()
        except ImageGateError as exc:
            err = exc
        else:
            pytest.fail("the gate accepted a hostile image")
    assert isinstance(err.code, ImageErrorCode) and err.code.value
    assert "Traceback" not in str(err) and len(str(err)) < 300
    return err


# --- images ----------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def zeros_zlib(total: int, block: int = 1 << 20) -> bytes:
    """A zlib stream of ``total`` zero bytes, made in a fraction of a second: the compressed
    block after a full flush is the same every time, so it is repeated (adler32 fixed up)."""
    if total <= block:
        return zlib.compress(b"\0" * total, 9)
    c = zlib.compressobj(9)
    zeros = b"\0" * block
    head = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    piece = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    n, rest = divmod(total, block)
    tail = c.compress(b"\0" * rest) + c.flush()
    adler = 1
    for _ in range(n):
        adler = zlib.adler32(zeros, adler)
    adler = zlib.adler32(b"\0" * rest, adler)
    return head + piece * (n - 1) + tail[:-4] + struct.pack(">I", adler)


def png_bomb(width: int, height: int, depth: int = 8, full: bool = False) -> bytes:
    """An RGB PNG whose IHDR says width x height; ``full``: with all its (zero) pixel data, so
    that a decoder that believes the header really decodes it (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, 2, 0, 0, 0)
    row = 1 + width * 3 * depth // 8
    body = zeros_zlib(row * height) if full else zlib.compress(b"\0" * 65536, 9)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body)
            + _chunk(b"IEND", b""))


def _pil(fmt: str, img: np.ndarray, mode: str = "RGB", **kw: Any) -> bytes:
    out = io.BytesIO()
    Image.fromarray(img).convert(mode).save(out, fmt, **kw)
    return out.getvalue()


def _cv(ext: str, img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


_RNG = np.random.default_rng(7)
_PIXELS = _RNG.integers(0, 255, (24, 40, 3), dtype=np.uint8)
VALID: dict[str, bytes] = {
    "png": _cv(".png", _PIXELS),
    "png16": _cv(".png", _PIXELS.astype(np.uint16) * 257),
    "grey16": _cv(".png", _PIXELS[:, :, 0].astype(np.uint16) * 257),
    "palette": _pil("PNG", _PIXELS, "P"),
    "grey_alpha": _pil("PNG", _PIXELS, "LA"),
    "jpeg": _cv(".jpg", _PIXELS),
    "progressive": _pil("JPEG", _PIXELS, progressive=True),
    "webp": _cv(".webp", _PIXELS),
    "webp_lossless": _pil("WEBP", _PIXELS, lossless=True),
    "bmp": _cv(".bmp", _PIXELS),
}


def jpeg_with_size(width: int, height: int) -> bytes:
    """The valid JPEG with its SOF0 saying width x height."""
    data = bytearray(VALID["jpeg"])
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def webp_with_size(width: int, height: int) -> bytes:
    """A VP8X WebP whose canvas says width x height, around the small image's VP8 chunk."""
    inner = VALID["webp"][12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0" * 4 + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + inner
    return b"RIFF" + struct.pack("<I", len(body)) + body


def bmp_with_size(width: int, height: int) -> bytes:
    """A BITMAPINFOHEADER BMP that says width x height (and has a few bytes of pixels)."""
    header = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    pixels = b"\0" * 64
    return b"BM" + struct.pack("<IHHI", 14 + 40 + len(pixels), 0, 0, 54) + header + pixels


BOMBS: dict[str, bytes] = {
    "png_20000": png_bomb(20000, 20000),
    "png16_20000": png_bomb(20000, 20000, depth=16),
    "jpeg_60000": jpeg_with_size(60000, 60000),
    "webp_20000": webp_with_size(20000, 20000),
    "bmp_20000": bmp_with_size(20000, 20000),
    # 36 MP, complete: under the pixel limit and the old 12000 px side, over 8192 a side
    "png_12000x3000": png_bomb(12000, 3000, full=True),
    "png_8000x6000": png_bomb(8000, 6000),  # 48 MP: under the side limit, over the pixels
}


@pytest.fixture(scope="module")
def full_bomb() -> bytes:
    """A complete 20000x20000 RGB PNG of zeros: 1.2 MB that a trusting decoder spends 9 s and
    2.3 GB on (measured on this machine with cv2.imdecode)."""
    return png_bomb(20000, 20000, full=True)


# --- the gate's contract ---------------------------------------------------------------------


def test_valid_images_decode_to_bgr() -> None:
    for name, data in VALID.items():
        img = decode_image(data)
        assert img.shape == (24, 40, 3) and img.dtype == np.uint8, name
        assert img.flags.c_contiguous and img.flags.writeable, name
        ref = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert ref is not None and int(np.abs(img.astype(int) - ref.astype(int)).max()) <= 1, name
    # 16-bit samples are scaled, not clipped
    assert np.array_equal(decode_image(VALID["png16"]), _PIXELS)


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_declared_size_over_the_limits_is_refused_before_decoding(name: str) -> None:
    err = gate_error(lambda: decode_image(BOMBS[name]))
    assert err.code is ImageErrorCode.TOO_LARGE
    if not name.startswith("bmp"):  # otherwise well-formed: the size alone is refused
        assert probe_image(BOMBS[name], limits=ImageLimits(max_side=70000, max_pixels=4 << 30))


def test_complete_bomb_is_refused_fast(full_bomb: bytes) -> None:
    err = gate_error(lambda: decode_image(full_bomb))
    assert err.code is ImageErrorCode.TOO_LARGE


def test_limits_are_configurable() -> None:
    small = ImageLimits(max_side=32)
    assert gate_error(lambda: decode_image(VALID["png"], limits=small)).code \
        is ImageErrorCode.TOO_LARGE
    tiny = ImageLimits(max_bytes=100)
    assert gate_error(lambda: decode_image(VALID["png"], limits=tiny)).code \
        is ImageErrorCode.TOO_LARGE
    assert ImageLimits(32 * 1024 * 1024, 8192, 40_000_000, 10.0) == DEFAULT_LIMITS
    from media.imagegate import limits_from_env

    env = {"RECOGNITION_CONSOLE_IMAGE_MAX_SIDE": "4096",
           "RECOGNITION_CONSOLE_IMAGE_MAX_PIXELS": "nonsense"}
    assert limits_from_env(env) == ImageLimits(max_side=4096)


def test_a_decode_stops_at_its_deadline_or_when_cancelled() -> None:
    big = png_bomb(8000, 5000, full=True)  # within the limits: a real 0.8 s decode
    cancel = threading.Event()
    threading.Timer(0.05, cancel.set).start()
    err = gate_error(lambda: decode_image(big, cancel=cancel))
    assert err.code is ImageErrorCode.CANCELLED
    err = gate_error(lambda: decode_image(big, deadline=time.monotonic() + 0.05))
    assert err.code is ImageErrorCode.TIMEOUT


def test_sender_declared_size_and_format_must_match() -> None:
    err = gate_error(lambda: decode_image(VALID["png"], expect_size=(640, 480)))
    assert err.code is ImageErrorCode.SIZE_MISMATCH
    err = gate_error(lambda: decode_image(VALID["jpeg"], formats={PNG}))
    assert err.code is ImageErrorCode.FORMAT


# --- properties ------------------------------------------------------------------------------

_VALID_NAMES = st.sampled_from(sorted(VALID))
_FOREIGN = [b"GIF89a\x01\x00\x01\x00", b"II*\x00\x08\x00\x00\x00", b"%PDF-1.7\n",
            b"PK\x03\x04\x14\x00", b"<html><script>", b"\x00\x00\x00\x18ftypheic",
            b"RIFF\x10\x00\x00\x00WAVEfmt "]


@GATE
@given(name=_VALID_NAMES, data=st.data())
def test_truncated_images_are_image_truncated(name: str, data: st.DataObject) -> None:
    full = VALID[name]
    cut = data.draw(st.integers(0, len(full) - 1))
    err = gate_error(lambda: decode_image(full[:cut]))
    assert err.code is (ImageErrorCode.EMPTY if cut == 0 else ImageErrorCode.TRUNCATED)


@GATE
@given(fmt=st.sampled_from([PNG, PNG + "16", JPEG, WEBP, BMP]),
       width=st.integers(1, 65535), height=st.integers(1, 65535))
def test_huge_headers_are_image_too_large(fmt: str, width: int, height: int) -> None:
    over = max(width, height) > DEFAULT_LIMITS.max_side or width * height > \
        DEFAULT_LIMITS.max_pixels
    build = {PNG: lambda: png_bomb(width, height), PNG + "16": lambda: png_bomb(width, height, 16),
             JPEG: lambda: jpeg_with_size(width, height),
             WEBP: lambda: webp_with_size(width, height),
             BMP: lambda: bmp_with_size(width, height)}[fmt]
    image = build()
    if over:
        assert gate_error(lambda: decode_image(image)).code is ImageErrorCode.TOO_LARGE
        return
    with bounded():  # within the limits: the header passes; the data decides
        try:
            img = decode_image(image)
        except ImageGateError as exc:
            assert exc.code is not ImageErrorCode.TOO_LARGE
        else:
            assert img.shape == (height, width, 3)


@GATE
@given(name=_VALID_NAMES, flip=st.integers(1, 255), foreign=st.sampled_from(_FOREIGN),
       which=st.integers(0, 2))
def test_wrong_magic_is_image_format(name: str, flip: int, foreign: bytes, which: int) -> None:
    full = VALID[name]
    if which == 0:  # the signature damaged
        bad = bytes([full[0] ^ flip]) + full[1:]
        err = gate_error(lambda: decode_image(bad))
    elif which == 1:  # another format's header
        err = gate_error(lambda: decode_image(foreign + full))
    else:  # a real image, but not a format this caller takes
        fmt = probe_image(full).format
        err = gate_error(lambda: decode_image(full, formats=ALL_FORMATS - {fmt}))
    assert err.code is ImageErrorCode.FORMAT


@GATE
@given(name=_VALID_NAMES, suffix=st.binary(min_size=1, max_size=300)
       | st.sampled_from([b"PK\x05\x06" + b"\0" * 18, b"<script>alert(1)</script>", b"\0"]))
def test_polyglots_are_image_format(name: str, suffix: bytes) -> None:
    """Bytes after the image's end (a ZIP's directory, a script...) are refused."""
    full = VALID[name]
    err = gate_error(lambda: decode_image(full + suffix))
    assert err.code is ImageErrorCode.FORMAT


@GATE
@given(name=_VALID_NAMES, data=st.data())
def test_damaged_images_give_an_image_or_a_typed_error(name: str, data: st.DataObject) -> None:
    full = bytearray(VALID[name])
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(full) - 1))
        full[at] = data.draw(st.integers(0, 255))
    with bounded():
        try:
            img = decode_image(bytes(full))
        except ImageGateError as exc:
            assert isinstance(exc.code, ImageErrorCode)
            return
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert max(img.shape[:2]) <= DEFAULT_LIMITS.max_side


@GATE
@given(blob=st.binary(max_size=2048))
def test_random_bytes_give_a_typed_error(blob: bytes) -> None:
    with bounded(), contextlib.suppress(ImageGateError):
        decode_image(blob)


# --- the call sites refuse a bomb --------------------------------------------------------------


def _assemble(data: bytes, mime: str, width: int, height: int) -> StillAssembler:
    sid = str(uuid.uuid4())
    begin, chunks, _end = split_still(sid, data, mime, width, height)
    a = StillAssembler(sid, "document_front")
    a.begin(begin)
    for chunk in chunks:
        a.add_chunk(chunk)
    return a


def test_still_declaring_640x480_that_is_a_20000x20000_png(full_bomb: bytes) -> None:
    a = _assemble(full_bomb, "image/png", 640, 480)
    with bounded(), pytest.raises(StillError) as err:
        a.finish()
    assert err.value.code in (StillErrorCode.TOO_LARGE, StillErrorCode.DIMENSION_MISMATCH)


def test_still_sent_as_png_that_is_a_jpeg_is_refused() -> None:
    a = _assemble(VALID["jpeg"], "image/png", 40, 24)
    with bounded(), pytest.raises(StillError) as err:
        a.finish()
    assert err.value.code is StillErrorCode.UNDECODABLE


def test_a_still_check_stops_when_the_receiver_gives_up() -> None:
    big = png_bomb(8000, 5000, full=True)  # within the limits: a real 0.8 s decode
    a = _assemble(big, "image/png", 8000, 5000)
    threading.Timer(0.05, a.cancel.set).start()
    with bounded(), pytest.raises(StillError) as err:
        a.finish()
    assert err.value.code is StillErrorCode.CANCELLED


def test_engine_hang_up_fails_a_still_being_decoded_at_once() -> None:
    """still_end came, the check runs on a worker; a hang-up must fail the still now (it used
    to wait for the decode to end) and stop the worker's decode."""
    from media.engine import MediaEngine

    big = png_bomb(8000, 5000, full=True)
    engine = MediaEngine(camera=None, microphone=None)
    engine.start()

    async def scenario() -> tuple[str, float, bool]:
        sid = str(uuid.uuid4())
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        assembler = StillAssembler(sid, "document_front")
        engine._stills[sid] = (assembler, fut)
        begin, chunks, end = split_still(sid, big, "image/png", 8000, 5000)
        engine._on_still_message(begin)
        for chunk in chunks:
            engine._on_chunk(chunk)
        engine._on_still_message(end)
        await asyncio.sleep(0.05)  # the check has started on its worker
        t0 = time.perf_counter()
        engine._fail_stills(StillErrorCode.CANCELLED)
        try:
            await asyncio.wait_for(fut, 2.0)
        except StillError as exc:
            return exc.code.value, time.perf_counter() - t0, assembler.cancel.is_set()
        return "accepted", time.perf_counter() - t0, assembler.cancel.is_set()

    try:
        code, waited, cancelled = engine._submit(scenario()).result(10)
    finally:
        t0 = time.perf_counter()
        engine.stop(10)  # waits for the worker: the decode stopped at its next block
        stop_s = time.perf_counter() - t0
    assert code == "cancelled" and waited < 0.5 and cancelled
    assert stop_s < 5.0


def test_ui_checks_and_training_refuse_a_bomb(full_bomb: bytes) -> None:
    from console.flows.checks import decode_image as ui_decode
    from console.training.findings import decode_still

    gate_error(lambda: ui_decode(full_bomb))
    with bounded():
        assert decode_still(full_bomb) is None


def test_in_person_capture_refuses_a_bomb(full_bomb: bytes) -> None:
    from console.flows.inperson import InPersonError, _decode

    with bounded(), pytest.raises(InPersonError) as err:
        _decode(full_bomb)
    assert err.value.code == "invalid_image"


def test_evidence_package_refuses_a_bomb(full_bomb: bytes, tmp_path: Path) -> None:
    from console.evidence.keys import WorkstationKey
    from console.evidence.package import EvidencePackageBuilder, PackageError

    key = WorkstationKey.load_or_create(tmp_path)
    b = EvidencePackageBuilder.create(tmp_path / "w", key, request_id="r", product="cns",
                                      operator={"id": "o"})
    with bounded(), pytest.raises(PackageError, match="too large"):
        b.add_capture("document_front", full_bomb)


@pytest.mark.parametrize("name", ["full", "png16_20000", "jpeg_60000", "png_12000x3000",
                                  "png_8000x6000"])
def test_inspect_cli_refuses_a_bomb(name: str, full_bomb: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(full_bomb if name == "full" else BOMBS[name])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "console", "inspect", str(path), "--json",
                        "--no-faces"], capture_output=True, text=True, timeout=120, env=env,
                       cwd=ROOT)
    assert r.returncode == 1
    assert "Traceback" not in r.stdout + r.stderr
    row = json.loads(r.stdout)
    assert row["errors"][0]["code"] == "image_too_large" and row["errors"][0]["message"]
