"""Still chunk protocol: split/assemble round trip and every malformed case gives StillError."""

from __future__ import annotations

import hashlib
import struct
import uuid

import cv2
import numpy as np
import pytest

from media.stills import (
    CHUNK_PAYLOAD,
    MAX_STILL_BYTES,
    StillAssembler,
    StillError,
    StillErrorCode,
    chunk_id,
    split_still,
)


def _png(w: int = 1280, h: int = 720) -> bytes:
    rng = np.random.default_rng(3)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)  # incompressible: many chunks
    ok, enc = cv2.imencode(".png", img)
    assert ok
    return enc.tobytes()


def _assemble(begin: dict, chunks: list[bytes], step: str = "document_front"):  # type: ignore[no-untyped-def]
    a = StillAssembler(begin["id"], step)
    a.begin(begin)
    for c in chunks:
        a.add_chunk(c)
    return a.finish()


def test_round_trip_many_chunks() -> None:
    data = _png()
    sid = str(uuid.uuid4())
    begin, chunks, end = split_still(sid, data, "image/png", 1280, 720)
    assert begin["chunks"] == len(chunks) > 10
    assert all(len(c) <= 20 + CHUNK_PAYLOAD for c in chunks)
    assert end == {"type": "still_end", "id": sid}
    assert chunk_id(chunks[0]) == sid
    # chunks may arrive in any order
    still = _assemble(begin, list(reversed(chunks)))
    assert still.data == data
    assert still.sha256 == hashlib.sha256(data).hexdigest()
    assert (still.width, still.height, still.mime, still.step) == (1280, 720, "image/png",
                                                                   "document_front")


def _case() -> tuple[dict, list[bytes]]:  # type: ignore[type-arg]
    begin, chunks, _ = split_still(str(uuid.uuid4()), _png(800, 600), "image/png", 800, 600)
    return begin, chunks


@pytest.mark.parametrize(
    "field,value",
    [("mime", "image/gif"), ("width", 0), ("height", -1), ("size", "12"), ("chunks", 0),
     ("sha256", "xyz"), ("sha256", "g" * 64), ("width", True), ("chunks", 10**9)],
)
def test_bad_begin(field: str, value: object) -> None:
    begin, _ = _case()
    begin[field] = value
    with pytest.raises(StillError) as err:
        StillAssembler(begin["id"], "x").begin(begin)
    assert err.value.code is StillErrorCode.MALFORMED


def test_too_large() -> None:
    begin, _ = _case()
    begin["size"] = MAX_STILL_BYTES + 1
    begin["chunks"] = MAX_STILL_BYTES // CHUNK_PAYLOAD + 1
    with pytest.raises(StillError) as err:
        StillAssembler(begin["id"], "x").begin(begin)
    assert err.value.code is StillErrorCode.TOO_LARGE


def test_bad_chunks() -> None:
    begin, chunks = _case()
    a = StillAssembler(begin["id"], "x")
    with pytest.raises(StillError):
        a.add_chunk(chunks[0])  # before still_begin
    a.begin(begin)
    with pytest.raises(StillError):
        a.begin(begin)  # twice
    a.add_chunk(chunks[0])
    with pytest.raises(StillError):
        a.add_chunk(chunks[0])  # duplicate
    bad_index = chunks[1][:16] + struct.pack(">I", 999) + chunks[1][20:]
    with pytest.raises(StillError):
        a.add_chunk(bad_index)
    with pytest.raises(StillError):
        a.add_chunk(b"short")
    with pytest.raises(StillError) as missing:
        a.finish()
    assert missing.value.code is StillErrorCode.MISSING_CHUNKS
    assert chunk_id(b"short") is None


def test_corrupted_payload_sha256() -> None:
    begin, chunks = _case()
    last = bytearray(chunks[-1])
    last[-1] ^= 0xFF
    with pytest.raises(StillError) as err:
        _assemble(begin, [*chunks[:-1], bytes(last)])
    assert err.value.code is StillErrorCode.SHA256_MISMATCH


def test_size_mismatch() -> None:
    begin, chunks = _case()
    begin["size"] -= 1
    with pytest.raises(StillError) as err:
        _assemble(begin, chunks)
    assert err.value.code is StillErrorCode.SIZE_MISMATCH


def test_undecodable_and_dimension_mismatch() -> None:
    junk = b"\x89PNG not really" * 10
    begin, chunks, _ = split_still(str(uuid.uuid4()), junk, "image/png", 10, 10)
    with pytest.raises(StillError) as err:
        _assemble(begin, chunks)
    assert err.value.code is StillErrorCode.UNDECODABLE
    begin, chunks, _ = split_still(str(uuid.uuid4()), _png(640, 480), "image/png", 1280, 720)
    with pytest.raises(StillError) as err2:
        _assemble(begin, chunks)
    assert err2.value.code is StillErrorCode.DIMENSION_MISMATCH
