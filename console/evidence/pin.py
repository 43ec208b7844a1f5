"""The archive key pin: the console seals evidence only to the archive key it first trusted.

Evidence is sealed to the X25519 key the desk service publishes (``GET /api/v1/archive-key``).
Whoever can change that answer -- a compromised or impostor service, or a man in the middle --
could otherwise have every later package sealed to a key of their own. So the first key fetched
is pinned (trust on first use) in ``<data dir>/keys/archive_key_pin.json`` (mode 0600)::

    {"key_id": "…", "fingerprint": "<SHA-256 hex of the 32 raw public key bytes>",
     "pinned_at": "2026-11-23T10:00:00Z"}

and a later different key (other fingerprint or other key id) is refused
(:class:`ArchiveKeyChanged`, code ``evidence_archive_key_changed``): nothing is sealed to it and
the packages wait. When the archive key was rotated on purpose, an operator re-pins it
explicitly: ``recognition-console evidence archive-key --desk URL --repin`` (or
:func:`repin`). A pin file that cannot be read is an error too, never a reason to pin afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from console.evidence.errors import EvidenceKeyError
from console.evidence.keys import ArchivePublicKey

log = logging.getLogger(__name__)

PIN_FILE = "archive_key_pin.json"
REPIN_HINT = "recognition-console evidence archive-key --desk URL --repin"


class ArchiveKeyChanged(EvidenceKeyError):
    """The service publishes an archive key other than the pinned one."""

    code = "evidence_archive_key_changed"

    def __init__(self, pinned: ArchiveKeyPin, offered: ArchivePublicKey) -> None:
        super().__init__(
            f"the desk service offers archive key {offered.key_id or '?'} (fingerprint "
            f"{fingerprint(offered)[:16]}…) but this console is pinned to {pinned.key_id} "
            f"(fingerprint {pinned.fingerprint[:16]}…): nothing is sealed to the new key. If the "
            f"archive key was rotated on purpose, re-pin it: {REPIN_HINT}")
        self.pinned = pinned
        self.offered = offered


@dataclass(frozen=True)
class ArchiveKeyPin:
    key_id: str
    fingerprint: str
    pinned_at: str

    def matches(self, key: ArchivePublicKey) -> bool:
        return self.fingerprint == fingerprint(key) and self.key_id == key.key_id

    def to_json(self) -> dict[str, str]:
        return {"key_id": self.key_id, "fingerprint": self.fingerprint,
                "pinned_at": self.pinned_at}


def fingerprint(key: ArchivePublicKey) -> str:
    """SHA-256 hex digest of the 32 raw public key bytes."""
    return hashlib.sha256(key.public_key).hexdigest()


def pin_path(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / "keys" / PIN_FILE


def load_pin(data_dir: str | os.PathLike[str]) -> ArchiveKeyPin | None:
    """The pin, or None when nothing is pinned yet. Raises EvidenceKeyError when the file exists
    but is unreadable or malformed (it is not silently replaced)."""
    path = pin_path(data_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EvidenceKeyError(f"archive key pin {path} unreadable: {exc.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
        key_id, fp, at = data["key_id"], data["fingerprint"], data.get("pinned_at", "")
        if not (isinstance(key_id, str) and isinstance(fp, str) and isinstance(at, str)):
            raise TypeError
        if len(fp) != 64 or any(c not in "0123456789abcdef" for c in fp):
            raise ValueError
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise EvidenceKeyError(f"archive key pin {path} is malformed; fix or re-pin it "
                               f"({REPIN_HINT})") from None
    return ArchiveKeyPin(key_id, fp, at)


def _save(data_dir: str | os.PathLike[str], key: ArchivePublicKey) -> ArchiveKeyPin:
    path = pin_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(path.parent, 0o700)
    pin = ArchiveKeyPin(key.key_id, fingerprint(key),
                        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(pin.to_json(), fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return pin


def check_pin(data_dir: str | os.PathLike[str], key: ArchivePublicKey) -> ArchiveKeyPin:
    """Pin ``key`` when nothing is pinned yet; otherwise raise :class:`ArchiveKeyChanged` unless
    it is the pinned key. Returns the pin."""
    pin = load_pin(data_dir)
    if pin is None:
        pin = _save(data_dir, key)
        log.info("archive key %s pinned (fingerprint %s)", pin.key_id, pin.fingerprint[:16])
        return pin
    if not pin.matches(key):
        log.error("archive key changed: pinned %s, offered %s; refused", pin.key_id,
                  key.key_id or "?")
        raise ArchiveKeyChanged(pin, key)
    return pin


def repin(data_dir: str | os.PathLike[str], key: ArchivePublicKey) -> ArchiveKeyPin:
    """Replace the pin with ``key`` (an operator's explicit decision after a key rotation)."""
    try:
        old = load_pin(data_dir)
    except EvidenceKeyError:
        old = None
    pin = _save(data_dir, key)
    log.warning("archive key re-pinned: %s -> %s (fingerprint %s)",
                old.key_id if old else "none", pin.key_id, pin.fingerprint[:16])
    return pin
