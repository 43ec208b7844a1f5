"""Sealing: the package archive encrypted to the archive's X25519 public key.

Format (all integers big-endian)::

    b"RCEVSEAL\\x01"                 magic + version
    u32 header length, header        canonical JSON (see below); authenticated as AAD
    repeated: u32 length, chunk      AES-256-GCM ciphertext+tag of <= chunk_size plaintext bytes

Key wrap: an ephemeral X25519 key agrees a secret with the archive key; HKDF-SHA256
(salt = ephemeral public || archive public, info = ``INFO``) derives a key-encryption key that
AES-GCM-wraps a random 256-bit content key. Each chunk's nonce is a random 7-byte prefix, a 4-byte
counter and a final-chunk flag byte, and the magic + header is the associated data of every chunk,
so chunks cannot be reordered, dropped, or the file truncated or extended without detection.
Encryption and decryption stream chunk by chunk: memory stays at about one chunk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import secrets
import struct
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from console.evidence.audit import canonical
from console.evidence.errors import PackageError, SealError
from console.evidence.keys import ArchivePublicKey, _raw_public, load_archive_private_key
from console.evidence.package import MANIFEST, write_tar

log = logging.getLogger(__name__)

MAGIC = b"RCEVSEAL\x01"
ALG = "X25519-HKDF-SHA256/AES-256-GCM-chunked"
INFO = b"recognition-console evidence seal v1"
DEFAULT_CHUNK = 1 << 20
MAX_CHUNK = 16 << 20
MAX_HEADER = 64 << 10


def is_sealed(path: str | os.PathLike[str]) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _kek(shared: bytes, eph_pub: bytes, recipient_pub: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub + recipient_pub,
                info=INFO).derive(shared)


def _nonce(prefix: bytes, counter: int, final: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if final else b"\x00")


@dataclass(frozen=True)
class SealedInfo:
    path: Path
    sha256: str  # of the sealed file (what the service receives)
    size: int
    package_id: str
    request_id: str
    key_id: str


class SealWriter:
    """Writable stream: plaintext in, sealed file out (one chunk buffered)."""

    def __init__(self, out: IO[bytes], recipient: ArchivePublicKey, *,
                 chunk_size: int = DEFAULT_CHUNK, meta: dict[str, Any] | None = None) -> None:
        if not 1024 <= chunk_size <= MAX_CHUNK:
            raise ValueError("chunk_size out of range")
        eph = X25519PrivateKey.generate()
        eph_pub = _raw_public(eph.public_key())
        shared = eph.exchange(X25519PublicKey.from_public_bytes(recipient.public_key))
        content_key = AESGCM.generate_key(bit_length=256)
        wrap_nonce = secrets.token_bytes(12)
        kek = _kek(shared, eph_pub, recipient.public_key)
        wrapped = AESGCM(kek).encrypt(wrap_nonce, content_key, recipient.key_id.encode())
        self._prefix = secrets.token_bytes(7)
        b64 = base64.b64encode
        header = {
            "alg": ALG,
            "key_id": recipient.key_id,
            "recipient_public_key": b64(recipient.public_key).decode(),
            "ephemeral_public_key": b64(eph_pub).decode(),
            "wrap_nonce": b64(wrap_nonce).decode(),
            "wrapped_key": b64(wrapped).decode(),
            "nonce_prefix": b64(self._prefix).decode(),
            "chunk_size": chunk_size,
            "content": "tar",
            **(meta or {}),
        }
        hbytes = canonical(header)
        self._aad = MAGIC + hbytes
        self._aes = AESGCM(content_key)
        self._out = out
        self._chunk = chunk_size
        self._buf = bytearray()
        self._counter = 0
        self._closed = False
        self.sha = hashlib.sha256()
        self.size = 0
        self._emit(MAGIC + struct.pack(">I", len(hbytes)) + hbytes)

    def _emit(self, data: bytes) -> None:
        self._out.write(data)
        self.sha.update(data)
        self.size += len(data)

    def _seal_chunk(self, data: bytes, final: bool) -> None:
        ct = self._aes.encrypt(_nonce(self._prefix, self._counter, final), data, self._aad)
        self._counter += 1
        self._emit(struct.pack(">I", len(ct)) + ct)

    def write(self, data: bytes) -> int:
        if self._closed:
            raise ValueError("sealed stream closed")
        self._buf += data
        while len(self._buf) > self._chunk:  # keep >= 1 byte back: the last chunk is "final"
            block = bytes(self._buf[: self._chunk])
            del self._buf[: self._chunk]
            self._seal_chunk(block, final=False)
        return len(data)

    def close(self) -> None:
        if not self._closed:
            self._seal_chunk(bytes(self._buf), final=True)
            self._buf.clear()
            self._closed = True


class SealedReader:
    """Readable stream of the plaintext of a sealed file; raises SealError on any tampering."""

    def __init__(self, path: str | os.PathLike[str], key: X25519PrivateKey) -> None:
        self.path = Path(path)
        self._fh = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        try:
            if self._fh.read(len(MAGIC)) != MAGIC:
                raise SealError(f"{self.path.name}: not a sealed evidence package")
            raw_len = self._fh.read(4)
            if len(raw_len) != 4:
                raise SealError(f"{self.path.name}: truncated header")
            (hlen,) = struct.unpack(">I", raw_len)
            if hlen > MAX_HEADER:
                raise SealError(f"{self.path.name}: header too large")
            hbytes = self._fh.read(hlen)
            try:
                header = json.loads(hbytes)
                eph_pub = base64.b64decode(header["ephemeral_public_key"], validate=True)
                wrap_nonce = base64.b64decode(header["wrap_nonce"], validate=True)
                wrapped = base64.b64decode(header["wrapped_key"], validate=True)
                self._prefix = base64.b64decode(header["nonce_prefix"], validate=True)
                key_id = str(header["key_id"])
                if header.get("alg") != ALG or len(self._prefix) != 7 or len(eph_pub) != 32:
                    raise ValueError("unsupported")
            except (ValueError, KeyError, TypeError, RecursionError, binascii.Error) as exc:
                raise SealError(f"{self.path.name}: header unreadable") from exc
            self.header: dict[str, Any] = header
            recipient = _raw_public(key.public_key())
            try:
                shared = key.exchange(X25519PublicKey.from_public_bytes(eph_pub))
                content_key = AESGCM(_kek(shared, eph_pub, recipient)).decrypt(
                    wrap_nonce, wrapped, key_id.encode())
                # the archive key is public: a crafted file may wrap a key of any length
                self._aes = AESGCM(content_key)
            except (InvalidTag, ValueError) as exc:
                raise SealError(f"{self.path.name}: wrong archive key, or the package key was "
                                "altered") from exc
            self._aad = MAGIC + hbytes
        except BaseException:
            self._fh.close()
            raise
        self._counter = 0
        self._buf = b""
        self._pos = 0
        self._done = False

    def _next_chunk(self) -> None:
        raw_len = self._fh.read(4)
        if len(raw_len) != 4:
            raise SealError(f"{self.path.name}: truncated (final chunk missing)")
        (n,) = struct.unpack(">I", raw_len)
        if n > MAX_CHUNK + 16:
            raise SealError(f"{self.path.name}: chunk {self._counter} has an impossible length")
        ct = self._fh.read(n)
        if len(ct) != n:
            raise SealError(f"{self.path.name}: truncated in chunk {self._counter}")
        for final in (False, True):
            try:
                pt = self._aes.decrypt(_nonce(self._prefix, self._counter, final), ct, self._aad)
            except InvalidTag:
                continue
            self._counter += 1
            self._buf, self._pos = pt, 0
            if final:
                self._done = True
                if self._fh.read(1):
                    raise SealError(f"{self.path.name}: data after the final chunk")
            return
        raise SealError(f"{self.path.name}: chunk {self._counter} altered")

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            if self._pos >= len(self._buf):
                if self._done:
                    break
                self._next_chunk()
                continue
            take = len(self._buf) - self._pos if size < 0 else min(size - len(out),
                                                                     len(self._buf) - self._pos)
            out += self._buf[self._pos : self._pos + take]
            self._pos += take
        return bytes(out)

    def drain(self) -> None:
        """Read (and authenticate) everything left."""
        while self.read(DEFAULT_CHUNK):
            pass

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> SealedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def seal(source: str | os.PathLike[str], recipient: ArchivePublicKey,
         out: str | os.PathLike[str] | None = None, *,
         chunk_size: int = DEFAULT_CHUNK) -> SealedInfo:
    """Seal a finalised package folder (tar streamed straight into the cipher, no plaintext
    archive on disk) or its ``.tar`` archive. Returns the sealed file's path, SHA-256, size."""
    src = Path(source)
    if src.is_dir():
        manifest_path = src / MANIFEST
        if not manifest_path.exists():
            raise PackageError(f"{src.name}: not finalised (no manifest.json)")
        manifest = json.loads(manifest_path.read_bytes())
    else:
        manifest = _manifest_from_tar(src)
    pid, rid = str(manifest["package_id"]), str(manifest["request_id"])
    target = Path(out) if out is not None else src.with_name(pid + ".sealed")
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "wb") as fh:
        writer = SealWriter(fh, recipient, chunk_size=chunk_size,
                            meta={"package_id": pid, "request_id": rid})
        if src.is_dir():
            write_tar(src, writer, stream=True)  # type: ignore[arg-type]
        else:
            with open(src, "rb") as tf:
                while block := tf.read(chunk_size):
                    writer.write(block)
        writer.close()
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    log.info("package %s sealed (%d bytes)", pid, writer.size)
    return SealedInfo(target, writer.sha.hexdigest(), writer.size, pid, rid, recipient.key_id)


def seal_file(source: str | os.PathLike[str], recipient: ArchivePublicKey,
              out: str | os.PathLike[str], *, package_id: str, request_id: str,
              content: str, limit: int | None = None,
              chunk_size: int = DEFAULT_CHUNK) -> SealedInfo:
    """Seal one file as it is now (the first ``limit`` bytes: a recording still being
    written), e.g. the recording uploaded before an approval. ``content`` names what it is."""
    src, target = Path(source), Path(out)
    tmp = target.with_name(target.name + ".tmp")
    remaining = src.stat().st_size if limit is None else limit
    with open(tmp, "wb") as fh, open(src, "rb") as data:
        writer = SealWriter(fh, recipient, chunk_size=chunk_size,
                            meta={"package_id": package_id, "request_id": request_id,
                                  "content": content})
        while remaining > 0 and (block := data.read(min(chunk_size, remaining))):
            writer.write(block)
            remaining -= len(block)
        writer.close()
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return SealedInfo(target, writer.sha.hexdigest(), writer.size, package_id, request_id,
                      recipient.key_id)


def _manifest_from_tar(path: Path) -> dict[str, Any]:
    try:
        with tarfile.open(path, "r:") as tar:
            for m in tar:
                if m.isfile() and m.name.endswith("/" + MANIFEST) and m.name.count("/") == 1:
                    fh = tar.extractfile(m)
                    if fh is not None:
                        data = json.loads(fh.read())
                        if isinstance(data, dict):
                            return data
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise PackageError(f"{path.name}: not a package archive") from exc
    raise PackageError(f"{path.name}: archive has no manifest")


def sealed_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The clear header of a sealed file (package and request ids, key id); no key needed."""
    with open(path, "rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise SealError(f"{Path(path).name}: not a sealed evidence package")
        raw = fh.read(4)
        if len(raw) != 4:
            raise SealError("truncated header")
        (n,) = struct.unpack(">I", raw)
        if n > MAX_HEADER:
            raise SealError("header too large")
        try:
            header = json.loads(fh.read(n))
        except (ValueError, RecursionError) as exc:
            raise SealError("header unreadable") from exc
    if not isinstance(header, dict):
        raise SealError("header unreadable")
    return header


def open_sealed(sealed: str | os.PathLike[str], key: X25519PrivateKey | str | os.PathLike[str],
                out_dir: str | os.PathLike[str]) -> Path:
    """Decrypt a sealed package into ``out_dir/<package_id>/`` and return that folder.

    Extraction is streamed (no plaintext tar on disk) and uses tarfile's ``data`` filter, so a
    crafted archive cannot write outside ``out_dir``. Raises SealError on a wrong key or tampering
    (a folder partly written before the damaged chunk is removed).
    """
    import shutil

    private = key if isinstance(key, X25519PrivateKey) else load_archive_private_key(key)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with SealedReader(sealed, private) as reader:
        pid = str(reader.header.get("package_id", ""))
        if not pid or "/" in pid or pid.startswith("."):
            raise SealError("sealed header has no valid package id")
        target = out / pid
        if target.exists():
            raise PackageError(f"{target} already exists")
        try:
            seen: set[str] = set()
            with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
                for member in tar:
                    if not member.name.startswith(pid + "/"):
                        raise SealError(f"archive member outside the package: {member.name!r}")
                    name = os.path.normpath(member.name)
                    if name in seen:  # a second copy would silently replace the first
                        raise SealError(f"archive member twice: {member.name!r}")
                    seen.add(name)
                    if not (member.isfile() or member.isdir()):
                        raise SealError(f"unexpected archive member (not a file): "
                                        f"{member.name!r}")
                    tar.extract(member, out, filter="data")
            reader.drain()
        except (SealError, tarfile.TarError, OSError) as exc:
            shutil.rmtree(target, ignore_errors=True)
            if isinstance(exc, SealError):
                raise
            raise SealError(f"sealed package damaged: {exc}") from exc
    return target
