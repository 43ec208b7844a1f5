"""The registry of workstation signing keys: the trust store of evidence packages.

A console signs each evidence package's manifest with its workstation's Ed25519 key. A verifier
trusts that signature only when the key is enrolled here, was valid when the package was signed,
and was not revoked by then (``recognition-console evidence verify --desk URL``).

* ``POST /api/v1/workstation-keys`` (administrators): enrol ``{workstation, public_key,
  not_before?, not_after?}``; ``public_key`` is the base64 of the 32 raw Ed25519 public key
  bytes (what ``recognition-console evidence key --public`` prints; its ``--json`` body is
  accepted as is: ``key_id`` and ``algorithm`` are then checked). 201 with the key.
* ``GET /api/v1/workstation-keys`` (every signed-in role): the trust store, public keys only,
  revoked keys included (older packages are judged by them).
* ``POST /api/v1/workstation-keys/{key_id}/revoke`` (administrators): revoke now, or from an
  earlier ``revoked_at`` (the time the key was compromised); a revocation is never undone.

``key_id`` is the SHA-256 hex digest (64 digits) of the 32 raw public key bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from typing import Any

from aiohttp import web

from server.context import DESK
from server.errors import ApiError, not_found
from server.policy import caller
from server.store import WorkstationKey
from server.validation import Fields, iso, parse_datetime
from server.web_util import json_response, read_object

logger = logging.getLogger(__name__)

TRUST_FORMAT = "recognition-desk/workstation-keys"
TRUST_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_KEY_ID = re.compile(r"^[0-9a-f]{64}$")
_B64 = re.compile(r"^[A-Za-z0-9+/]{43}=$")  # 32 bytes, canonical padding


def key_id_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def key_json(row: WorkstationKey) -> dict[str, Any]:
    return {"key_id": row.key_id, "algorithm": "Ed25519", "public_key": row.public_key,
            "workstation": row.workstation, "not_before": iso(row.not_before),
            "not_after": iso(row.not_after), "revoked_at": iso(row.revoked_at),
            "enrolled_at": iso(row.enrolled_at)}


def _public_key(f: Fields, body: dict[str, Any]) -> bytes | None:
    value = body.get("public_key")
    if value is None:
        f.add("public_key", "required")
        return None
    if not isinstance(value, str):
        f.add("public_key", "invalid_type")
        return None
    if not _B64.match(value.strip()):
        f.add("public_key", "invalid_format")  # not base64 of exactly 32 bytes
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        f.add("public_key", "invalid_format")
        return None
    if raw == bytes(32):
        f.add("public_key", "invalid_key")
        return None
    return raw


def _time(f: Fields, body: dict[str, Any], name: str) -> Any:
    value = body.get(name)
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        f.add(name, "invalid_format")
    return parsed


async def enrol(request: web.Request) -> web.Response:
    op = caller(request)  # policy: workstation_keys.enrol
    desk = request.app[DESK]
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"workstation", "public_key", "not_before", "not_after", "key_id",
                     "algorithm"})
    name = f.string(body, "workstation", "workstation", max_len=64, pattern=_NAME)
    raw = _public_key(f, body)
    not_before = _time(f, body, "not_before")
    not_after = _time(f, body, "not_after")
    if not_before is not None and not_after is not None and not_after <= not_before:
        f.add("not_after", "not_after_not_before")
    if body.get("algorithm", "Ed25519") != "Ed25519":
        f.add("algorithm", "unsupported")
    key_id = key_id_of(raw) if raw is not None else None
    given = body.get("key_id")
    if given is not None and key_id is not None and given != key_id:
        f.add("key_id", "does_not_match_public_key")
    if f.errors:
        raise ApiError(422, "validation_failed", fields=f.errors)
    assert name is not None and raw is not None and key_id is not None
    row = desk.store.enrol_workstation_key(key_id, base64.b64encode(raw).decode(), name,
                                           not_before, not_after, desk.config.clock.now(),
                                           op.id)
    logger.info("workstation key %s enrolled for workstation %s by operator %d", key_id[:16],
                name, op.id)
    return json_response(key_json(row), 201)


async def trust_store(request: web.Request) -> web.Response:
    caller(request)  # policy: workstation_keys.list
    desk = request.app[DESK]
    keys = [key_json(k) for k in desk.store.workstation_keys()]
    return json_response({"format": TRUST_FORMAT, "version": TRUST_VERSION,
                          "generated_at": iso(desk.config.clock.now()), "keys": keys})


async def revoke(request: web.Request) -> web.Response:
    op = caller(request)  # policy: workstation_keys.revoke
    desk = request.app[DESK]
    key_id = request.match_info["key_id"].lower()
    if not _KEY_ID.match(key_id):
        raise not_found("key_not_found")
    now = desk.config.clock.now()
    at = now
    if request.can_read_body:
        body = await read_object(request)
        f = Fields()
        f.unknown(body, {"revoked_at"})
        given = _time(f, body, "revoked_at")
        if given is not None and given > now:
            f.add("revoked_at", "in_the_future")
        if f.errors:
            raise ApiError(422, "validation_failed", fields=f.errors)
        at = given or now
    row = desk.store.revoke_workstation_key(key_id, at, op.id)
    logger.info("workstation key %s revoked from %s by operator %d", key_id[:16],
                iso(row.revoked_at), op.id)
    return json_response(key_json(row))


def setup(app: web.Application, prefix: str) -> None:
    r = app.router
    r.add_post(f"{prefix}/workstation-keys", enrol)
    r.add_get(f"{prefix}/workstation-keys", trust_store)
    r.add_post(f"{prefix}/workstation-keys/{{key_id}}/revoke", revoke)
