"""Keys: the workstation's Ed25519 signing key and the archive's X25519 keys."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from console.evidence.errors import EvidenceKeyError

log = logging.getLogger(__name__)

WORKSTATION_KEY_FILE = "workstation_ed25519.pem"
#: a workstation's name at the desk service's key registry
WORKSTATION_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _raw_public(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_fingerprint(public_raw: bytes) -> str:
    """The key id of a workstation key: SHA-256 of its 32 raw public bytes, 64 hex digits.

    The desk service gives an enrolled key the same id (``POST /api/v1/workstation-keys``)."""
    return hashlib.sha256(public_raw).hexdigest()


def default_workstation_name() -> str:
    """This machine's host name, reduced to what the key registry accepts."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", socket.gethostname()).strip("-.")[:64]
    return name or "workstation"


@dataclass(frozen=True)
class WorkstationKey:
    """Ed25519 key of this workstation: generated once, kept under the data dir (mode 0600)."""

    private_key: Ed25519PrivateKey
    path: Path | None = None

    @classmethod
    def load_or_create(cls, data_dir: str | os.PathLike[str]) -> WorkstationKey:
        keys = Path(data_dir) / "keys"
        keys.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(keys, 0o700)
        path = keys / WORKSTATION_KEY_FILE
        if path.exists():
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except (ValueError, TypeError) as exc:
                raise EvidenceKeyError(f"workstation key {path.name} is unreadable") from exc
            if not isinstance(key, Ed25519PrivateKey):
                raise EvidenceKeyError(f"workstation key {path.name} is not an Ed25519 key")
            return cls(key, path)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        log.info("workstation signing key created")
        return cls(key, path)

    @property
    def public_raw(self) -> bytes:
        return _raw_public(self.private_key.public_key())

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()

    @property
    def workstation_id(self) -> str:
        """Stable id derived from the public key (first 16 hex digits of its SHA-256)."""
        return hashlib.sha256(self.public_raw).hexdigest()[:16]

    @property
    def key_id(self) -> str:
        """The key's id at the desk service's registry (:func:`key_fingerprint`)."""
        return key_fingerprint(self.public_raw)

    def identity(self) -> dict[str, str]:
        return {"id": self.workstation_id, "hostname": socket.gethostname(),
                "public_key": self.public_b64, "algorithm": "Ed25519"}

    def enrolment(self, workstation: str | None = None) -> dict[str, str]:
        """The public half in the enrolment format: the body of ``POST /api/v1/workstation-keys``
        (``workstation``, ``public_key`` = base64 of the 32 raw bytes) plus the ``key_id`` the
        service will answer. Never contains the private key."""
        name = workstation if workstation is not None else default_workstation_name()
        if not WORKSTATION_NAME.match(name):
            raise EvidenceKeyError("workstation name: 1-64 characters of A-Z a-z 0-9 . _ -")
        return {"workstation": name, "public_key": self.public_b64, "key_id": self.key_id,
                "algorithm": "Ed25519"}

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)


def verify_signature(public_raw: bytes, signature: bytes, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class ArchivePublicKey:
    """The archive's X25519 public key as published at GET /api/v1/archive-key."""

    key_id: str
    public_key: bytes

    def __post_init__(self) -> None:
        if len(self.public_key) != 32:
            raise EvidenceKeyError("archive public key must be 32 bytes")

    def to_json(self) -> dict[str, str]:
        return {"key_id": self.key_id, "algorithm": "X25519",
                "public_key": base64.b64encode(self.public_key).decode()}

    @classmethod
    def from_json(cls, data: object) -> ArchivePublicKey:
        if not isinstance(data, dict) or data.get("algorithm", "X25519") != "X25519":
            raise EvidenceKeyError("archive key: not an X25519 key description")
        try:
            raw = base64.b64decode(str(data.get("public_key", "")), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise EvidenceKeyError("archive key: public_key is not base64") from exc
        return cls(str(data.get("key_id", "")), raw)

    @classmethod
    def from_private(cls, key: X25519PrivateKey, key_id: str = "local") -> ArchivePublicKey:
        return cls(key_id, _raw_public(key.public_key()))


def generate_archive_key(path: str | os.PathLike[str], key_id: str = "local") -> ArchivePublicKey:
    """Create an X25519 archive key pair: private key PEM at ``path`` (0600); returns the public."""
    key = X25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return ArchivePublicKey.from_private(key, key_id)


def load_archive_private_key(path: str | os.PathLike[str]) -> X25519PrivateKey:
    """Read an archive private key: PEM (PKCS#8), raw 32 bytes, base64 text of them, or a JSON
    object with ``private_key`` (base64)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise EvidenceKeyError(f"cannot read key file {p.name}: {exc.strerror}") from exc
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise EvidenceKeyError(f"{p.name}: not a readable PEM private key") from exc
        if not isinstance(key, X25519PrivateKey):
            raise EvidenceKeyError(f"{p.name}: not an X25519 private key")
        return key
    if len(data) == 32:
        return X25519PrivateKey.from_private_bytes(data)
    text = data.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
            text = str(obj.get("private_key", "")) if isinstance(obj, dict) else ""
        except json.JSONDecodeError as exc:
            raise EvidenceKeyError(f"{p.name}: not valid JSON") from exc
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EvidenceKeyError(f"{p.name}: not a key file (PEM, raw or base64)") from exc
    if len(raw) != 32:
        raise EvidenceKeyError(f"{p.name}: an X25519 private key is 32 bytes")
    return X25519PrivateKey.from_private_bytes(raw)


def workstation_enrolment(data_dir: str | os.PathLike[str],
                          workstation: str | None = None) -> dict[str, str]:
    """The enrolment body of the workstation key kept under ``data_dir`` (created if absent)."""
    return WorkstationKey.load_or_create(data_dir).enrolment(workstation)
