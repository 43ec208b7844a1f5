"""Full-resolution stills over the `control` data channel (docs/PROTOCOL.md).

Sender side: `split_still` gives the `still_begin` message, the binary chunks and `still_end`.
Receiver side: `StillAssembler` checks every message and chunk, and `finish()` returns a
`Still` whose size, sha256 and decoded dimensions match what the sender declared, or raises
`StillError` with a code the UI translates. The image goes through the gate of
`media.imagegate` (header checked against the declared size and the limits before any pixel is
decoded; the decode stops when `cancel` is set).
"""

from __future__ import annotations

import hashlib
import logging
import math
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from media import imagegate
from media.imagegate import ImageErrorCode, ImageGateError

logger = logging.getLogger(__name__)

CHUNK_PAYLOAD = 60_000
HEADER_SIZE = 20  # 16 bytes uuid + 4 bytes big-endian index
MAX_STILL_BYTES = imagegate.DEFAULT_LIMITS.max_bytes  # 32 MiB unless configured
MAX_DIMENSION = imagegate.DEFAULT_LIMITS.max_side  # 8192 unless configured
MIME_TYPES = ("image/png", "image/jpeg")
_HEX = frozenset("0123456789abcdefABCDEF")


class StillErrorCode(StrEnum):
    TIMEOUT = "timeout"
    NOT_CONNECTED = "not_connected"
    LINK_LOST = "link_lost"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    MISSING_CHUNKS = "missing_chunks"
    SIZE_MISMATCH = "size_mismatch"
    SHA256_MISMATCH = "sha256_mismatch"
    UNDECODABLE = "undecodable"
    DIMENSION_MISMATCH = "dimension_mismatch"
    REMOTE_ERROR = "remote_error"
    CANCELLED = "cancelled"


class StillError(Exception):
    """A still could not be obtained; `code` says why, `reason` carries the peer's reason."""

    def __init__(self, code: StillErrorCode, reason: str = "") -> None:
        super().__init__(f"{code.value}{': ' + reason if reason else ''}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Still:
    id: str
    step: str
    mime: str
    width: int
    height: int
    data: bytes
    sha256: str
    received_at: float = field(default_factory=time.time)

    @property
    def size(self) -> int:
        return len(self.data)


def split_still(
    still_id: str, data: bytes, mime: str, width: int, height: int
) -> tuple[dict[str, Any], list[bytes], dict[str, Any]]:
    """The messages that carry one image: still_begin, binary chunks, still_end."""
    raw_id = uuid.UUID(still_id).bytes
    chunks = [
        raw_id + struct.pack(">I", i) + data[off : off + CHUNK_PAYLOAD]
        for i, off in enumerate(range(0, len(data), CHUNK_PAYLOAD))
    ]
    begin = {
        "type": "still_begin",
        "id": still_id,
        "mime": mime,
        "width": width,
        "height": height,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "chunks": len(chunks),
    }
    return begin, chunks, {"type": "still_end", "id": still_id}


def chunk_id(chunk: bytes) -> str | None:
    """The still id a binary chunk belongs to, or None if it is too short to carry one."""
    if len(chunk) < HEADER_SIZE:
        return None
    return str(uuid.UUID(bytes=bytes(chunk[:16])))


def _int_field(msg: dict[str, Any], name: str, lo: int, hi: int) -> int:
    value = msg.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise StillError(StillErrorCode.MALFORMED, f"bad {name}")
    return value


class StillAssembler:
    """Collects one still: `begin()` with still_begin, `add_chunk()` per binary message,
    `finish()` at still_end."""

    def __init__(self, still_id: str, step: str) -> None:
        self.id = still_id
        self.step = step
        self.begun = False
        self.mime = ""
        self.width = 0
        self.height = 0
        self.size = 0
        self.sha256 = ""
        self.count = 0
        #: set by the receiver when nobody waits for this still any more (timeout, hang-up):
        #: ``finish()`` then stops at its next step, the decode at its next block
        self.cancel = threading.Event()
        self._chunks: dict[int, bytes | memoryview] = {}
        self._received = 0

    def begin(self, msg: dict[str, Any]) -> None:
        if self.begun:
            raise StillError(StillErrorCode.MALFORMED, "duplicate still_begin")
        mime = msg.get("mime")
        if mime not in MIME_TYPES:
            raise StillError(StillErrorCode.MALFORMED, "bad mime")
        self.width = _int_field(msg, "width", 1, MAX_DIMENSION)
        self.height = _int_field(msg, "height", 1, MAX_DIMENSION)
        self.size = _int_field(msg, "size", 1, 1 << 62)
        if self.size > MAX_STILL_BYTES:
            raise StillError(StillErrorCode.TOO_LARGE)
        self.count = _int_field(msg, "chunks", 1, 1 << 31)
        if self.count > self.size or self.count < math.ceil(self.size / CHUNK_PAYLOAD):
            raise StillError(StillErrorCode.MALFORMED, "chunk count inconsistent with size")
        sha = msg.get("sha256")
        # 64 hex digits exactly (int(sha, 16) also took "0x…", "+…", "_" and spaces)
        if not isinstance(sha, str) or len(sha) != 64 or not _HEX.issuperset(sha):
            raise StillError(StillErrorCode.MALFORMED, "bad sha256")
        self.mime = str(mime)
        self.sha256 = sha.lower()
        self.begun = True

    def add_chunk(self, chunk: bytes) -> None:
        if not self.begun:
            raise StillError(StillErrorCode.MALFORMED, "chunk before still_begin")
        if len(chunk) < HEADER_SIZE + 1 or len(chunk) > HEADER_SIZE + CHUNK_PAYLOAD:
            raise StillError(StillErrorCode.MALFORMED, "bad chunk length")
        (index,) = struct.unpack(">I", bytes(chunk[16:20]))
        if index >= self.count:
            raise StillError(StillErrorCode.MALFORMED, "chunk index out of range")
        if index in self._chunks:
            raise StillError(StillErrorCode.MALFORMED, "duplicate chunk")
        # a view into the message (aiortc hands over immutable bytes): no copy per chunk, the
        # one copy is the join in finish()
        payload = (memoryview(chunk)[HEADER_SIZE:] if isinstance(chunk, bytes)
                   else bytes(chunk[HEADER_SIZE:]))
        self._received += len(payload)
        if self._received > self.size:
            raise StillError(StillErrorCode.SIZE_MISMATCH)
        self._chunks[index] = payload

    @property
    def progress(self) -> float:
        return self._received / self.size if self.size else 0.0

    def finish(self) -> Still:
        """Check and decode; costs an image decode, so run it off the event loop."""
        if self.cancel.is_set():
            raise StillError(StillErrorCode.CANCELLED)
        if not self.begun:
            raise StillError(StillErrorCode.MALFORMED, "still_end before still_begin")
        if len(self._chunks) != self.count:
            raise StillError(StillErrorCode.MISSING_CHUNKS)
        data = b"".join(self._chunks[i] for i in range(self.count))
        if len(data) != self.size:
            raise StillError(StillErrorCode.SIZE_MISMATCH)
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise StillError(StillErrorCode.SHA256_MISMATCH)
        width, height = check_image(data, self.mime, self.width, self.height, self.cancel)
        return Still(
            id=self.id,
            step=self.step,
            mime=self.mime,
            width=width,
            height=height,
            data=data,
            sha256=digest,
        )


_GATE_CODES = {
    ImageErrorCode.TOO_LARGE: StillErrorCode.TOO_LARGE,
    ImageErrorCode.SIZE_MISMATCH: StillErrorCode.DIMENSION_MISMATCH,
    ImageErrorCode.TIMEOUT: StillErrorCode.TIMEOUT,
    ImageErrorCode.CANCELLED: StillErrorCode.CANCELLED,
}


def check_image(data: bytes, mime: str, width: int, height: int,
                cancel: threading.Event | None = None) -> tuple[int, int]:
    """The still through the image gate: its magic must be the declared MIME type, its header
    the declared size (refused before decoding), and it must decode in full (proves it is a
    valid picture). Returns (width, height); raises StillError (the gate's code as reason)."""
    fmt = imagegate.MIME_FORMATS.get(mime)
    try:
        if fmt is None:
            raise ImageGateError(ImageErrorCode.FORMAT, "MIME type not accepted")
        imagegate.decode_image(data, formats={fmt}, expect_size=(width, height),
                               cancel=cancel, orient=False)
    except ImageGateError as exc:
        code = _GATE_CODES.get(exc.code, StillErrorCode.UNDECODABLE)
        logger.info("still refused by the image gate: %s (%s)", exc.code.value, exc.detail)
        raise StillError(code, exc.code.value) from None
    return width, height
