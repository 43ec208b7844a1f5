"""The trust store: which workstation keys may sign evidence packages, and when.

A package carries its own public key (``manifest.json`` names it, ``workstation_key.pub`` holds
it), so a valid signature alone proves nothing: anyone can re-sign an altered package with a
fresh key. A signature counts only when its key is in a trust store the verifier was given --
a file (``evidence verify --trust FILE``) or the desk service's registry
(``GET /api/v1/workstation-keys``, ``evidence verify --desk URL``), which can be pinned to a file.

Format (JSON, UTF-8), the same as the desk service answers::

    {"format": "recognition-desk/workstation-keys", "version": 1,
     "generated_at": "2026-11-23T10:00:00Z",
     "keys": [{"key_id": "<64 hex digits: SHA-256 of the 32 raw public key bytes>",
               "algorithm": "Ed25519",
               "public_key": "<base64 of the 32 raw public key bytes>",
               "workstation": "ws-roma-01",
               "not_before": "2026-01-01T00:00:00Z" | null,
               "not_after": "2027-01-01T00:00:00Z" | null,
               "revoked_at": null}]}

A bare JSON list of key objects is read as well. Times are ISO 8601 with an explicit offset.
A key signs validly at time *t* (the manifest's ``created_at``) when ``not_before <= t <=
not_after`` and it was not revoked at or before *t*.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.evidence.errors import EvidenceKeyError
from console.evidence.keys import WORKSTATION_NAME, WorkstationKey, key_fingerprint

TRUST_FORMAT = "recognition-desk/workstation-keys"
TRUST_VERSION = 1
TRUST_PATH = "/workstation-keys"  # under /api/v1 of the desk service
MAX_TRUST_FILE = 4 << 20


def parse_time(value: object) -> datetime | None:
    """ISO 8601 with an offset (``Z`` or ``+01:00``) in UTC; None when absent or malformed."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40 or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)


def format_time(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time_field(data: Mapping[str, Any], name: str, where: str) -> datetime | None:
    raw = data.get(name)
    if raw is None:
        return None
    parsed = parse_time(raw)
    if parsed is None:
        raise EvidenceKeyError(f"trust store: {where}: {name} is not an ISO 8601 time with an "
                               "offset")
    return parsed


@dataclass(frozen=True)
class TrustedKey:
    """One workstation key of a trust store (public half only)."""

    key_id: str
    public_key: bytes
    workstation: str
    not_before: datetime | None = None
    not_after: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def from_json(cls, data: object, where: str = "key") -> TrustedKey:
        if not isinstance(data, Mapping):
            raise EvidenceKeyError(f"trust store: {where} is not an object")
        if data.get("algorithm", "Ed25519") != "Ed25519":
            raise EvidenceKeyError(f"trust store: {where}: only Ed25519 keys are supported")
        raw_b64 = data.get("public_key")
        try:
            raw = base64.b64decode(str(raw_b64), validate=True) if raw_b64 else b""
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise EvidenceKeyError(f"trust store: {where}: public_key must be the base64 of "
                                   "32 raw Ed25519 bytes")
        key_id = key_fingerprint(raw)
        given = data.get("key_id")
        if given is not None and str(given).lower() != key_id:
            raise EvidenceKeyError(f"trust store: {where}: key_id {str(given)[:64]} is not the "
                                   "SHA-256 of its public key")
        name = data.get("workstation", "")
        if not isinstance(name, str) or not WORKSTATION_NAME.match(name):
            raise EvidenceKeyError(f"trust store: {where}: workstation must be 1-64 characters"
                                   " of A-Z a-z 0-9 . _ -")
        key = cls(key_id, raw, name, _time_field(data, "not_before", where),
                  _time_field(data, "not_after", where), _time_field(data, "revoked_at", where))
        if key.not_before and key.not_after and key.not_after < key.not_before:
            raise EvidenceKeyError(f"trust store: {where}: not_after is before not_before")
        return key

    def to_json(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "algorithm": "Ed25519",
                "public_key": base64.b64encode(self.public_key).decode(),
                "workstation": self.workstation, "not_before": format_time(self.not_before),
                "not_after": format_time(self.not_after),
                "revoked_at": format_time(self.revoked_at)}

    def problem_at(self, signed_at: datetime | None) -> str | None:
        """Why this key may not have signed at ``signed_at``; None when it may."""
        who = f"key {self.key_id} (workstation {self.workstation})"
        if signed_at is None:
            return f"signed by {who}, but the manifest has no valid signing time (created_at)"
        when = format_time(signed_at)
        if self.revoked_at is not None and self.revoked_at <= signed_at:
            return (f"signed by revoked {who}: revoked at {format_time(self.revoked_at)}, "
                    f"before the package was signed ({when})")
        if self.not_before is not None and signed_at < self.not_before:
            return (f"signed by {who} at {when}, before its validity begins "
                    f"(not_before {format_time(self.not_before)})")
        if self.not_after is not None and signed_at > self.not_after:
            return (f"signed by {who} at {when}, after its validity ended "
                    f"(not_after {format_time(self.not_after)})")
        return None


@dataclass(frozen=True)
class TrustStore:
    """The workstation keys a verifier trusts; ``source`` says where they came from."""

    keys: tuple[TrustedKey, ...]
    source: str = "trust store"

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for k in self.keys:
            if k.key_id in seen:
                raise EvidenceKeyError(f"trust store: key {k.key_id} is listed twice")
            seen.add(k.key_id)

    def find(self, public_raw: bytes) -> TrustedKey | None:
        for k in self.keys:
            if k.public_key == public_raw:
                return k
        return None

    def check(self, public_raw: bytes, signed_at: datetime | None) -> str | None:
        """Why a signature by ``public_raw`` made at ``signed_at`` is not trusted; None if it
        is."""
        key = self.find(public_raw)
        if key is None:
            return f"signed by unknown key {key_fingerprint(public_raw)} (not in {self.source})"
        return key.problem_at(signed_at)

    # --- building -----------------------------------------------------------------------
    @classmethod
    def from_json(cls, data: object, source: str = "trust store") -> TrustStore:
        if isinstance(data, Mapping):
            if data.get("format", TRUST_FORMAT) != TRUST_FORMAT:
                raise EvidenceKeyError("trust store: unknown format (expected "
                                       f"{TRUST_FORMAT!r})")
            items = data.get("keys")
        else:
            items = data
        if not isinstance(items, list):
            raise EvidenceKeyError("trust store: expected a list of keys")
        keys = tuple(TrustedKey.from_json(item, f"key #{i + 1}") for i, item in enumerate(items))
        return cls(keys, source)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrustStore:
        p = Path(path)
        try:
            with open(p, "rb") as fh:
                raw = fh.read(MAX_TRUST_FILE + 1)
        except OSError as exc:
            raise EvidenceKeyError(f"cannot read trust store {p.name}: "
                                   f"{exc.strerror or exc}") from exc
        if len(raw) > MAX_TRUST_FILE:
            raise EvidenceKeyError(f"trust store {p.name} is too large")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise EvidenceKeyError(f"trust store {p.name} is not valid JSON") from exc
        return cls.from_json(data, source=f"trust store {p.name}")

    @classmethod
    def of_keys(cls, keys: Iterable[WorkstationKey | bytes], *, workstation: str = "local",
                source: str = "local trust store") -> TrustStore:
        """A store trusting the given keys without time limits (the demo, tests, and
        ``--trusted-key``): built from the local key, never from the package."""
        out = []
        for k in keys:
            raw = k.public_raw if isinstance(k, WorkstationKey) else bytes(k)
            if len(raw) != 32:
                raise EvidenceKeyError("an Ed25519 public key is 32 bytes")
            out.append(TrustedKey(key_fingerprint(raw), raw, workstation))
        return cls(tuple(out), source)

    def to_json(self) -> dict[str, Any]:
        return {"format": TRUST_FORMAT, "version": TRUST_VERSION,
                "generated_at": format_time(datetime.now(UTC)),
                "keys": [k.to_json() for k in self.keys]}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the store as JSON (atomically): a pinned copy for later, offline checks."""
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.to_json(), fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
        return p


def fetch_trust_store(api: Any) -> TrustStore:
    """The desk service's registry (``GET /api/v1/workstation-keys``) through a client with
    ``call(method, path) -> (status, json)`` (``TokenApi``, ``DeskClient``)."""
    _, data = api.call("GET", TRUST_PATH)
    base = str(getattr(api, "api", "") or "the desk service")
    return TrustStore.from_json(data, source=f"the key registry of {base}")
