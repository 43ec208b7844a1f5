"""Operator accounts: login with password + TOTP, token refresh, enrolment, disabling."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import Any

from aiohttp import web

from server import security
from server.context import DESK, Desk
from server.errors import ApiError, not_found
from server.policy import caller, principal
from server.store import Operator
from server.validation import ROLES, Fields, iso
from server.web_util import json_response, read_object

logger = logging.getLogger(__name__)

MIN_PASSWORD = 12


def operator_json(op: Operator) -> dict[str, Any]:
    return {"id": op.id, "username": op.username, "display_name": op.display_name,
            "role": op.role, "point_id": op.point_id}


def _issue(desk: Desk, op: Operator, family: str | None = None,
           session_end: datetime | None = None) -> dict[str, Any]:
    """A token pair; a new sign-in (no ``family``) ends at now + ``session_max_age``, and its
    refreshed pairs keep that end (``session_end``)."""
    access, refresh = security.new_token(), security.new_token()
    cfg = desk.config
    now = cfg.clock.now()
    end = session_end or now + cfg.session_max_age
    access_end = desk.store.issue_tokens(op.id, security.token_hash(access),
                                         security.token_hash(refresh), now,
                                         cfg.access_token_ttl, cfg.refresh_token_ttl, family,
                                         end)
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": max(0, int((access_end - now).total_seconds())),
            "session_expires_at": iso(end), "operator": operator_json(op)}


def _locked(until: Any) -> ApiError:
    return ApiError(423, "account_locked", "too many failed attempts", locked_until=iso(until))


def _failure(desk: Desk, op_id: int, kind: str, now: datetime) -> ApiError:
    """Count a wrong password or TOTP code (atomically) and say what to answer."""
    cfg = desk.config
    limit = cfg.max_password_failures if kind == "password" else cfg.max_totp_failures
    until = desk.store.login_failure(op_id, kind, now, limit, cfg.lockout)
    logger.info("operator %d: wrong %s", op_id, "password" if kind == "password"
                else "or reused TOTP code")
    if until is not None:
        logger.info("operator %d: locked", op_id)
        return _locked(until)
    return ApiError(401, "invalid_credentials" if kind == "password" else "invalid_totp")


def _totp_secret(desk: Desk, op: Operator) -> str:
    """The base32 secret, opened with the configured key."""
    if op.totp_secret is None:
        raise ApiError(403, "totp_not_enrolled", "ask an administrator to enrol a TOTP device")
    try:
        return security.open_totp_secret(desk.totp_key, op.totp_secret, op.username)
    except ValueError:
        logger.error("operator %d: the stored TOTP secret does not open", op.id)
        raise ApiError(500, "totp_unreadable", "the TOTP secret cannot be read: ask an "
                       "administrator to enrol the device again") from None


async def _check_credentials(desk: Desk, op: Operator, password: str, totp: str) -> None:
    """Password then TOTP code of ``op`` (read just now), as at sign-in: 423 while locked, 401
    for a wrong value (counted towards the lockout). On success the code's time step is used
    up, in the same statement that re-checks the lock (a lock set meanwhile holds)."""
    now = desk.config.clock.now()
    if op.locked_until is not None and op.locked_until > now:
        raise _locked(op.locked_until)
    ok = await asyncio.to_thread(security.verify_password, password, op.password_hash)
    now = desk.config.clock.now()
    store = desk.store  # its calls run in its threads, never on the event loop
    if not ok:
        raise await store.call(_failure, desk, op.id, "password", now)
    step = security.totp_match_step(_totp_secret(desk, op), totp.strip(), now,
                                    op.last_totp_step)
    if step is None:
        raise await store.call(_failure, desk, op.id, "totp", now)
    signed_in, until = await store.call(store.login_success, op.id, step, now)
    if not signed_in:
        if until is not None:
            raise _locked(until)
        raise await store.call(_failure, desk, op.id, "totp", now)  # code used meanwhile


async def login(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"username", "password", "totp"})
    username = f.string(body, "username", "username", max_len=64)
    password = f.string(body, "password", "password", max_len=256)
    totp = body.get("totp")
    if totp is None:
        f.add("totp", "required")
    elif not isinstance(totp, str):
        f.add("totp", "invalid_type")
    if f.errors:
        raise ApiError(422, "validation_failed", fields=f.errors)
    assert username is not None and password is not None and isinstance(totp, str)
    op = await desk.store.call(desk.store.operator_by_username, username)
    if op is None or op.disabled:
        # the same scrypt work as a real account, so timing does not tell which names exist
        await asyncio.to_thread(security.verify_password, password,
                                security.dummy_password_hash())
        raise ApiError(401, "invalid_credentials")
    await _check_credentials(desk, op, password, totp)
    logger.info("operator %d signed in", op.id)
    return json_response(await desk.store.call(_issue, desk, op))


async def refresh(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"refresh_token"})
    token = f.string(body, "refresh_token", "refresh_token", max_len=200)
    if f.errors or token is None:
        raise ApiError(422, "validation_failed", fields=f.errors)
    got = await desk.store.call(desk.store.consume_refresh, security.token_hash(token),
                                desk.config.clock.now())
    if got.error in ("refresh_reused", "session_expired") and got.family is not None:
        await desk.hub.family_revoked(got.family)  # its sockets close too
    if got.error == "refresh_reused":
        logger.warning("a rotated refresh token was presented again: its sign-in is revoked")
    if got.error == "session_expired":
        raise ApiError(401, "session_expired", "the sign-in reached its maximum age: sign in "
                       "again")
    if got.operator is None or got.family is None:
        raise ApiError(401, "invalid_refresh_token")
    return json_response(_issue(desk, got.operator, got.family, got.session_expires_at))


async def logout(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    family = principal(request).token_family
    desk.store.revoke_family(family, desk.config.clock.now())
    await desk.hub.family_revoked(family)
    return json_response({"logged_out": True})


async def me(request: web.Request) -> web.Response:
    op = caller(request)
    sess = request.app[DESK].store.active_session_of_operator(op.id)
    return json_response({**operator_json(op), "active_session_id": sess.id if sess else None,
                          "active_request_id": sess.request_id if sess else None})


async def list_operators(request: web.Request) -> web.Response:
    caller(request)
    desk = request.app[DESK]
    now = desk.config.clock.now()
    ops = [{**operator_json(o), "disabled": o.disabled, "totp_enrolled": o.totp_secret is not None,
            "locked_until": iso(o.locked_until) if o.locked_until and o.locked_until > now
            else None} for o in desk.store.list_operators()]
    return json_response({"operators": ops})


def validate_new_operator(body: dict[str, Any]) -> dict[str, Any]:
    f = Fields()
    f.unknown(body, {"username", "display_name", "role", "password", "point_id"})
    username = f.string(body, "username", "username", max_len=64, min_len=3,
                        pattern=re.compile(r"^[a-z0-9][a-z0-9._-]*$"))
    display = f.string(body, "display_name", "display_name", max_len=128)
    role = f.enum(body, "role", "role", ROLES)
    password = f.string(body, "password", "password", max_len=256, min_len=1)
    if password is not None and len(password) < MIN_PASSWORD:
        f.add("password", "too_short")
    point = f.string(body, "point_id", "point_id", max_len=32, required=False,
                     pattern=re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$"))
    if role == "partner" and point is None and "point_id" not in f.errors:
        f.add("point_id", "required")
    if role not in (None, "partner") and point is not None:
        f.add("point_id", "only_for_partners")
    if f.errors:
        raise ApiError(422, "validation_failed", fields=f.errors)
    assert username and display and role and password
    return {"username": username, "display_name": display, "role": role, "password": password,
            "point_id": point}


async def create_operator(request: web.Request) -> web.Response:
    caller(request)
    desk = request.app[DESK]
    v = validate_new_operator(await read_object(request))
    pw_hash = await asyncio.to_thread(security.hash_password, v["password"])
    op = desk.store.create_operator(v["username"], v["display_name"], v["role"], pw_hash,
                                    desk.config.clock.now(), point_id=v["point_id"])
    logger.info("operator %d created (role %s)", op.id, op.role)
    return json_response({**operator_json(op), "totp_enrolled": False}, 201)


def _op_id(request: web.Request) -> int:
    raw = request.match_info["operator_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:  # "²".isdigit() too
        raise not_found("operator_not_found")
    return int(raw)


async def enrol_totp(request: web.Request) -> web.Response:
    """A new TOTP secret. For one's own account the body must carry the current password and a
    current code (``{"password", "totp"}``; wrong ones count towards the lockout), so a stolen
    access token alone cannot move the second factor to the thief's phone. An administrator
    enrolling another account needs neither; that account's sign-ins end (lost device)."""
    who = principal(request)
    op_id = _op_id(request)
    desk = request.app[DESK]
    op = desk.store.operator(op_id)
    if op is None:
        raise not_found("operator_not_found")
    own = op_id == who.operator.id
    if own:
        body = await read_object(request) if request.body_exists else {}
        f = Fields()
        f.unknown(body, {"password", "totp"})
        password = f.string(body, "password", "password", max_len=256)
        totp = f.string(body, "totp", "totp", max_len=16)
        if f.errors:
            raise ApiError(422, "validation_failed", fields=f.errors)
        assert password is not None and totp is not None
        await _check_credentials(desk, op, password, totp)
    secret = security.new_totp_secret()
    desk.store.set_totp_secret(op_id, security.seal_totp_secret(desk.totp_key, secret,
                                                                op.username))
    if not own:
        desk.store.revoke_operator_tokens(op_id, desk.config.clock.now())
        await desk.hub.operator_disabled(op_id, b"second factor enrolled again")
    uri = security.totp_uri(secret, op.username)
    logger.info("operator %d: new TOTP enrolment (%s)", op_id,
                "own, re-authenticated" if own else f"by operator {who.operator.id}")
    return json_response({"otpauth_uri": uri, "qr_svg": security.totp_qr_svg(uri)}, 201)


async def disable_operator(request: web.Request) -> web.Response:
    caller(request)
    desk = request.app[DESK]
    op = desk.store.set_disabled(_op_id(request), True, desk.config.clock.now())
    await desk.hub.operator_disabled(op.id)
    logger.info("operator %d disabled", op.id)
    return json_response({**operator_json(op), "disabled": True})


async def enable_operator(request: web.Request) -> web.Response:
    caller(request)
    desk = request.app[DESK]
    op = desk.store.set_disabled(_op_id(request), False, desk.config.clock.now())
    return json_response({**operator_json(op), "disabled": False})


def setup(app: web.Application, prefix: str) -> None:
    r = app.router
    r.add_post(f"{prefix}/auth/login", login)
    r.add_post(f"{prefix}/auth/refresh", refresh)
    r.add_post(f"{prefix}/auth/logout", logout)
    r.add_get(f"{prefix}/auth/me", me)
    r.add_get(f"{prefix}/operators", list_operators)
    r.add_post(f"{prefix}/operators", create_operator)
    r.add_post(f"{prefix}/operators/{{operator_id}}/totp", enrol_totp)
    r.add_post(f"{prefix}/operators/{{operator_id}}/disable", disable_operator)
    r.add_post(f"{prefix}/operators/{{operator_id}}/enable", enable_operator)
