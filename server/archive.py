"""The archive key: evidence is encrypted by the console to this X25519 public key.

In production the private key is held by the archive's custodian and the service is given only
the public half (``--archive-public-key FILE`` or ``RECOGNITION_DESK_ARCHIVE_PUBLIC_KEY_FILE``,
PEM; :func:`load_public_key`), the same file for every instance. In demo mode and on the
embedded single-host database the service makes a *demo* key pair in its data dir at first start
(``archive-demo-private.key``, PKCS#8 PEM, mode 0600; :func:`load_or_create`), which the replay
tools open.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from server.files import write_private

logger = logging.getLogger(__name__)

PRIVATE_NAME = "archive-demo-private.key"
PUBLIC_NAME = "archive-public.key"


@dataclass(frozen=True)
class ArchiveKey:
    key_id: str
    public_raw: bytes

    def as_json(self) -> dict[str, str]:
        return {"key_id": self.key_id, "algorithm": "X25519",
                "public_key": base64.b64encode(self.public_raw).decode("ascii")}


def _raw(pub: X25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _archive_key(pub: X25519PublicKey) -> ArchiveKey:
    raw = _raw(pub)
    return ArchiveKey(key_id=hashlib.sha256(raw).hexdigest()[:16], public_raw=raw)


def load_public_key(path: Path) -> ArchiveKey:
    """The configured archive public key: an X25519 public key in PEM (SubjectPublicKeyInfo,
    e.g. ``openssl pkey -in archive-private.pem -pubout``). OSError, or ValueError saying why
    the file is not one."""
    data = path.read_bytes()
    try:
        pub = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("not a PEM public key") from None
    if not isinstance(pub, X25519PublicKey):
        raise ValueError("not an X25519 public key")
    return _archive_key(pub)


def load_or_create(data_dir: Path) -> ArchiveKey:
    """The data dir's key (demo mode, the embedded single-host database): its public key, or the
    public half of its demo private key, or a new demo key pair (with a warning)."""
    pub_path = data_dir / PUBLIC_NAME
    priv_path = data_dir / PRIVATE_NAME
    if pub_path.exists():
        pub = serialization.load_pem_public_key(pub_path.read_bytes())
        if not isinstance(pub, X25519PublicKey):
            raise ValueError(f"{pub_path} is not an X25519 public key")
    elif priv_path.exists():
        priv = serialization.load_pem_private_key(priv_path.read_bytes(), password=None)
        if not isinstance(priv, X25519PrivateKey):
            raise ValueError(f"{priv_path} is not an X25519 private key")
        pub = priv.public_key()
    else:
        priv = X25519PrivateKey.generate()
        pem = priv.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
        fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        pub = priv.public_key()
        logger.warning("created a DEMO archive key pair in the data dir; not for production: "
                       "give the archive's public key with --archive-public-key")
    if not pub_path.exists():
        write_private(pub_path, pub.public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo))
    return _archive_key(pub)


def load_private(path: Path) -> X25519PrivateKey:
    """Load the archive private key: PKCS#8 PEM or 32 raw bytes."""
    data = path.read_bytes()
    if len(data) == 32:
        return X25519PrivateKey.from_private_bytes(data)
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, X25519PrivateKey):
        raise ValueError("not an X25519 private key")
    return key
