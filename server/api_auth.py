"""Operator accounts: login with password + TOTP, token refresh, enrolment, disabling."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from aiohttp import web

from server import security
from server.context import DESK, Desk
from server.errors import ApiError, not_found
from server.store import Operator
from server.validation import ROLES, Fields, iso
from server.web_util import json_response, read_object, require

logger = logging.getLogger(__name__)

MIN_PASSWORD = 12


def operator_json(op: Operator) -> dict[str, Any]:
    return {"id": op.id, "username": op.username, "display_name": op.display_name,
            "role": op.role}


def _issue(desk: Desk, op: Operator, family: str | None = None) -> dict[str, Any]:
    access, refresh = security.new_token(), security.new_token()
    cfg = desk.config
    desk.store.issue_tokens(op.id, security.token_hash(access), security.token_hash(refresh),
                            cfg.clock.now(), cfg.access_token_ttl, cfg.refresh_token_ttl,
                            family)
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": int(cfg.access_token_ttl.total_seconds()),
            "operator": operator_json(op)}


def _locked(until: Any) -> ApiError:
    return ApiError(423, "account_locked", "too many failed attempts", locked_until=iso(until))


async def login(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    cfg = desk.config
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
    op = desk.store.operator_by_username(username)
    now = cfg.clock.now()
    if op is not None and op.locked_until is not None and op.locked_until > now:
        raise _locked(op.locked_until)
    encoded = op.password_hash if op is not None else security.dummy_password_hash()
    ok = await asyncio.to_thread(security.verify_password, password, encoded)
    if op is None or op.disabled:
        raise ApiError(401, "invalid_credentials")
    if not ok:
        until = desk.store.login_failure(op.id, "password", now, cfg.max_password_failures,
                                         cfg.lockout)
        logger.info("login: wrong password for operator %d", op.id)
        if until is not None:
            logger.warning("operator %d locked after wrong passwords", op.id)
            raise _locked(until)
        raise ApiError(401, "invalid_credentials")
    if op.totp_secret is None:
        raise ApiError(403, "totp_not_enrolled", "ask a supervisor to enrol a TOTP device")
    step = security.totp_match_step(op.totp_secret, totp.strip(), now, op.last_totp_step)
    if step is None or not desk.store.login_success(op.id, step):
        until = desk.store.login_failure(op.id, "totp", now, cfg.max_totp_failures, cfg.lockout)
        logger.info("login: wrong or reused TOTP for operator %d", op.id)
        if until is not None:
            logger.warning("operator %d locked after wrong TOTP codes", op.id)
            raise _locked(until)
        raise ApiError(401, "invalid_totp")
    logger.info("operator %d signed in", op.id)
    return json_response(_issue(desk, op))


async def refresh(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"refresh_token"})
    token = f.string(body, "refresh_token", "refresh_token", max_len=200)
    if f.errors or token is None:
        raise ApiError(422, "validation_failed", fields=f.errors)
    found = desk.store.consume_refresh(security.token_hash(token), desk.config.clock.now())
    if found is None:
        raise ApiError(401, "invalid_refresh_token")
    op, family = found
    return json_response(_issue(desk, op, family))


async def logout(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    require(request)
    desk.store.revoke_family(request["token_family"], desk.config.clock.now())
    return json_response({"logged_out": True})


async def me(request: web.Request) -> web.Response:
    op = require(request)
    sess = request.app[DESK].store.active_session_of_operator(op.id)
    return json_response({**operator_json(op), "active_session_id": sess.id if sess else None,
                          "active_request_id": sess.request_id if sess else None})


async def list_operators(request: web.Request) -> web.Response:
    require(request, "supervisor")
    desk = request.app[DESK]
    now = desk.config.clock.now()
    ops = [{**operator_json(o), "disabled": o.disabled, "totp_enrolled": o.totp_secret is not None,
            "locked_until": iso(o.locked_until) if o.locked_until and o.locked_until > now
            else None} for o in desk.store.list_operators()]
    return json_response({"operators": ops})


def validate_new_operator(body: dict[str, Any]) -> dict[str, str]:
    f = Fields()
    f.unknown(body, {"username", "display_name", "role", "password"})
    username = f.string(body, "username", "username", max_len=64, min_len=3,
                        pattern=re.compile(r"^[a-z0-9][a-z0-9._-]*$"))
    display = f.string(body, "display_name", "display_name", max_len=128)
    role = f.enum(body, "role", "role", ROLES)
    password = f.string(body, "password", "password", max_len=256, min_len=1)
    if password is not None and len(password) < MIN_PASSWORD:
        f.add("password", "too_short")
    if f.errors:
        raise ApiError(422, "validation_failed", fields=f.errors)
    assert username and display and role and password
    return {"username": username, "display_name": display, "role": role, "password": password}


async def create_operator(request: web.Request) -> web.Response:
    require(request, "supervisor")
    desk = request.app[DESK]
    v = validate_new_operator(await read_object(request))
    pw_hash = await asyncio.to_thread(security.hash_password, v["password"])
    op = desk.store.create_operator(v["username"], v["display_name"], v["role"], pw_hash,
                                    desk.config.clock.now())
    logger.info("operator %d created (role %s)", op.id, op.role)
    return json_response({**operator_json(op), "totp_enrolled": False}, 201)


def _op_id(request: web.Request) -> int:
    raw = request.match_info["operator_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise not_found("operator_not_found")
    return int(raw)


async def enrol_totp(request: web.Request) -> web.Response:
    me_ = require(request)
    op_id = _op_id(request)
    if me_.role != "supervisor" and me_.id != op_id:
        raise ApiError(403, "forbidden", "only supervisors enrol others")
    desk = request.app[DESK]
    op = desk.store.operator(op_id)
    if op is None:
        raise not_found("operator_not_found")
    secret = security.new_totp_secret()
    desk.store.set_totp_secret(op_id, secret)
    uri = security.totp_uri(secret, op.username)
    logger.info("operator %d: new TOTP enrolment", op_id)
    return json_response({"otpauth_uri": uri, "qr_svg": security.totp_qr_svg(uri)}, 201)


async def disable_operator(request: web.Request) -> web.Response:
    require(request, "supervisor")
    desk = request.app[DESK]
    op = desk.store.set_disabled(_op_id(request), True, desk.config.clock.now())
    await desk.hub.operator_disabled(op.id)
    logger.info("operator %d disabled", op.id)
    return json_response({**operator_json(op), "disabled": True})


async def enable_operator(request: web.Request) -> web.Response:
    require(request, "supervisor")
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
