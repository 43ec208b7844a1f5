"""Identification requests: registration, links, queue, sessions, OTP, e-mail, decisions."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import datetime
from typing import Any

from aiohttp import web

from server import security
from server.config import CAPTURE_TARGETS
from server.context import DESK, Desk
from server.errors import STORAGE_CODES, ApiError, not_found, storage_refusal
from server.policy import Scope, caller, principal
from server.public_url import service_base_url
from server.sms import SendError
from server.store import ApprovalRules, CallSession, Decision, IdRequest, Transition
from server.validation import (
    DECISIONS,
    REASON_CODES,
    Fields,
    is_uuid,
    iso,
    validate_new_request,
)
from server.web_util import json_response, read_object

logger = logging.getLogger(__name__)

_SIX_DIGITS = re.compile(r"^[0-9]{6}$")


def base_url(request: web.Request) -> str:
    """Links sent to applicants: the configured public URL, never the request's Host header
    (``server.public_url``)."""
    return service_base_url(request, request.app[DESK].config.public_base_url)


def request_json(req: IdRequest) -> dict[str, Any]:
    return {
        "id": req.id, "state": req.state, "product": req.product,
        "applicant": {
            "surname": req.surname, "given_names": req.given_names,
            "codice_fiscale": req.codice_fiscale, "birth_date": req.birth_date.isoformat(),
            "birth_place": req.birth_place, "sex": req.sex, "email": req.email,
            "mobile": req.mobile,
        },
        "document": {"type": req.doc_type, "number": req.doc_number, "issuer": req.doc_issuer,
                     "expiry_date": req.doc_expiry.isoformat()},
        "appointment_at": iso(req.appointment_at), "booking_code": req.booking_code,
        "created_at": iso(req.created_at), "updated_at": iso(req.updated_at),
        "waiting_since": iso(req.waiting_since),
        "email_confirmed_at": iso(req.email_confirmed_at),
    }


def history_json(rows: list[Transition]) -> list[dict[str, Any]]:
    return [{"from": t.from_state, "to": t.to_state, "at": iso(t.at), "actor": t.actor,
             "reason": t.reason} for t in rows]


def decision_json(d: Decision) -> dict[str, Any]:
    return {"decision_id": d.decision_id, "decision": d.decision, "reason_code": d.reason_code,
            "note": d.note, "decided_at": iso(d.decided_at), "session_id": d.session_id,
            "operator_id": d.operator_id}


def join_expiry(desk: Desk, req_appointment: datetime | None) -> datetime:
    now = desk.config.clock.now()
    expires = now + desk.config.join_link_ttl
    if req_appointment is not None:
        expires = max(expires, req_appointment + desk.config.join_link_ttl)
    return expires


def link_json(request: web.Request, token: str, expires: datetime) -> dict[str, Any]:
    return {"join_url": f"{base_url(request)}/join/{token}", "join_token": token,
            "join_expires_at": iso(expires)}


def create_request_record(desk: Desk, values: dict[str, Any]) -> tuple[IdRequest, str, datetime]:
    """Store a validated request with a fresh join token; used by the API and by ``seed``."""
    token = security.new_token()
    expires = join_expiry(desk, values.get("appointment_at"))
    req = desk.store.create_request(values, desk.config.clock.now(), security.new_booking_code,
                                    security.token_hash(token), expires)
    return req, token, expires


async def create_request(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    body = await read_object(request)
    values, errors = validate_new_request(body, desk.config.clock.now())
    if values is None:
        raise ApiError(422, "validation_failed", "invalid fields", fields=errors)
    req, token, expires = await desk.store.call(create_request_record, desk, values)
    logger.info("request %s registered (product %s)", req.id, req.product)
    desk.hub.queue_changed()
    return json_response({"id": req.id, "state": req.state, "booking_code": req.booking_code,
                          **link_json(request, token, expires)}, 201)


def _req_id(request: web.Request) -> str:
    raw = request.match_info["request_id"]
    if not is_uuid(raw):
        raise not_found("request_not_found")
    return raw.lower()


async def get_request(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    req, history, decision, sess = await desk.store.call(desk.store.request_details,
                                                         _req_id(request))
    return json_response({
        **request_json(req), "history": history_json(history),
        "decision": decision_json(decision) if decision else None,
        "session_id": sess.id if sess and sess.ended_at is None else None,
        "applicant_online": desk.hub.applicant_online(req.id),
    })


async def find_requests(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    code = request.query.get("booking_code")
    state = request.query.get("state")
    if code is not None:
        norm = security.normalise_booking_code(code)
        if len(norm) != security.BOOKING_LENGTH:
            raise ApiError(422, "validation_failed", fields={"booking_code": "invalid_format"})
        rows = desk.store.find_requests(booking_code=norm)
    elif state is not None:
        if state not in ("registered", "waiting", "in_call", "approved", "rejected",
                         "suspended"):
            raise ApiError(422, "validation_failed", fields={"state": "invalid_value"})
        rows = desk.store.find_requests(state=state)
    else:
        raise ApiError(422, "validation_failed", fields={"booking_code": "required"})
    return json_response({"requests": [request_json(r) for r in rows]})


async def new_join_link(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    req_id = _req_id(request)
    current = desk.store.request(req_id)
    if current is None:
        raise not_found("request_not_found")
    token = security.new_token()
    expires = join_expiry(desk, current.appointment_at)
    desk.store.new_join_link(req_id, security.token_hash(token), desk.config.clock.now(),
                             expires)
    # a revoked link must not keep a live connection
    await desk.hub.close_applicant(req_id, 4401, b"join link replaced")
    logger.info("request %s: new join link", req_id)
    return json_response(link_json(request, token, expires), 201)


def session_json(sess: CallSession, req: IdRequest, online: bool) -> dict[str, Any]:
    return {"session_id": sess.id, "channel": sess.channel, "started_at": iso(sess.started_at),
            "applicant_online": online, "request": request_json(req)}


async def get_queue(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    await desk.hub.fresh_snapshot()
    return web.Response(text=desk.hub.queue_json(), content_type="application/json")


async def next_in_queue(request: web.Request) -> web.StreamResponse:
    op = caller(request)
    desk = request.app[DESK]
    if await desk.store.call(desk.store.active_session_of_operator, op.id) is not None:
        raise ApiError(409, "session_in_progress", "decide the current session first")
    view = await desk.hub.fresh_snapshot()
    online = desk.hub.online_requests()
    due = [r.id for r in view.waiting]
    # applicants with the page open come first; among them the choice is random
    pool = [r for r in due if r in online] or due
    started = await desk.store.call(desk.store.start_session, op, pool,
                                    desk.config.clock.now())
    if started is None:
        return web.Response(status=204)
    sess, req = started
    logger.info("operator %d drew request %s (pool of %d)", op.id, req.id, len(pool))
    is_online = await desk.hub.session_started(sess, req, op)
    return json_response(session_json(sess, req, is_online))


async def start_in_person(request: web.Request) -> web.Response:
    op = caller(request)
    desk = request.app[DESK]
    if not op.point_id:
        raise ApiError(403, "no_point", "this partner account belongs to no InfoCert Point")
    req_id = _req_id(request)
    req = desk.store.request(req_id)
    if req is None:
        raise not_found("request_not_found")
    if req.state not in ("registered", "waiting", "suspended"):
        raise ApiError(409, "illegal_transition", f"{req.state} -> in_call", state=req.state)
    started = desk.store.start_session(op, [req_id], desk.config.clock.now(),
                                       channel="in_person")
    if started is None:
        raise ApiError(409, "illegal_transition", "the request changed state", state=req.state)
    sess, req = started
    desk.hub.queue_changed()
    return json_response(session_json(sess, req, False), 201)


async def decide(request: web.Request) -> web.Response:
    op = caller(request)
    desk = request.app[DESK]
    req_id = _req_id(request)
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"decision_id", "decision", "reason_code", "note"})
    decision_id = body.get("decision_id")
    if decision_id is None:
        f.add("decision_id", "required")
    elif not is_uuid(decision_id):
        f.add("decision_id", "invalid_format")
    decision = f.enum(body, "decision", "decision", DECISIONS)
    reason = f.enum(body, "reason_code", "reason_code", REASON_CODES)
    note = f.string(body, "note", "note", max_len=2000, min_len=0, required=False) or ""
    if decision == "approved" and reason not in (None, "ok"):
        f.add("reason_code", "invalid_value")
    if decision in ("rejected", "suspended") and reason == "ok":
        f.add("reason_code", "invalid_value")
    if f.errors:
        raise ApiError(422, "validation_failed", fields=f.errors)
    assert decision is not None and reason is not None
    row, created = await desk.store.call(
        desk.store.decide, str(decision_id).lower(), req_id, op, decision, reason, note,
        desk.config.clock.now(), may_override=principal(request).scope is not Scope.OWN_SESSION,
        rules=approval_rules(desk))
    if created:
        logger.info("request %s decided %s (%s) by operator %d", req_id, decision, reason, op.id)
        await desk.hub.request_ended(req_id, row.decision)
    return json_response({"state": row.decision, "decided_at": iso(row.decided_at),
                          "decision_id": row.decision_id})


async def approval_check(request: web.Request) -> web.Response:
    """What the service still has to record before it accepts an approval (the console asks
    before it sends one, and shows the list)."""
    desk = request.app[DESK]
    missing = await desk.store.call(desk.store.approval_readiness, _req_id(request),
                                    approval_rules(desk))
    return json_response({"ready": not missing, "missing": missing})


# --- OTP by SMS -----------------------------------------------------------------------------

def approval_rules(desk: Desk) -> ApprovalRules:
    cfg = desk.config
    return ApprovalRules(captures=cfg.required_captures,
                         email_products=cfg.email_required_products)


def _open_session(desk: Desk, req_id: str) -> CallSession:
    """The request's open video session (the policy already checked it is the caller's)."""
    req = desk.store.request(req_id)
    if req is None:
        raise not_found("request_not_found")
    if req.state != "in_call":
        raise ApiError(409, "not_in_call", "codes are sent during the call", state=req.state)
    sess = desk.store.active_session_of_request(req_id)
    if sess is None:
        raise ApiError(409, "not_in_call", "no session is open", state=req.state)
    return sess


async def send_otp(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    cfg = desk.config
    req_id = _req_id(request)
    sess = await desk.store.call(_open_session, desk, req_id)
    req = await desk.store.call(desk.store.request, req_id)
    assert req is not None
    code = security.new_otp_code()
    salt = secrets.token_bytes(16)
    code_hash = await asyncio.to_thread(security.otp_hash, code, salt, desk.pepper)
    now = cfg.clock.now()
    otp = await desk.store.call(desk.store.reserve_otp, req.id, sess.id, code_hash, salt.hex(),
                                now, cfg.otp_ttl, cfg.otp_resend_after, cfg.otp_max_codes)
    body = (f"InfoCert: il tuo codice di verifica è {code}. "
            f"Valido {int(cfg.otp_ttl.total_seconds() // 60)} minuti. Non condividerlo.")
    try:
        await desk.sms.send(req.mobile, body, iso(now) or "")
    except SendError as exc:
        desk.store.otp_send_failed(otp.id, exc.code, cfg.clock.now())
        if exc.code in STORAGE_CODES:  # the demo outbox's disk: 507, not a gateway fault
            raise storage_refusal(exc.code, reason="sms_failed") from exc
        raise ApiError(502, "sms_failed", "the SMS could not be sent", reason=exc.code) from exc
    del code, body
    desk.store.activate_otp(otp.id, cfg.clock.now())
    logger.info("request %s: OTP %s sent", req.id, otp.id)
    fresh = desk.store.request(req.id)
    wrong = fresh.otp_wrong if fresh else 0
    return json_response({"otp_id": otp.id, "expires_at": iso(otp.expires_at),
                          "attempts_left": min(cfg.otp_attempts, cfg.otp_max_wrong - wrong),
                          "codes_left": max(0, cfg.otp_max_codes - (fresh.otp_codes
                                                                    if fresh else 0)),
                          "resend_after": iso(now + cfg.otp_resend_after)}, 201)


async def verify_otp(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    cfg = desk.config
    req_id = _req_id(request)
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"code"})
    code = f.string(body, "code", "code", max_len=6, min_len=6, pattern=_SIX_DIGITS)
    if f.errors or code is None:
        raise ApiError(422, "validation_failed", fields=f.errors)
    sess = await desk.store.call(_open_session, desk, req_id)
    otp = await desk.store.call(desk.store.current_otp, req_id)
    if otp is None or otp.session_id != sess.id:
        raise ApiError(404, "no_otp", "no code was sent in this session")
    now = cfg.clock.now()

    def answer(verified: bool, used: int, wrong: int, expired: bool = False,
               suspended: bool = False) -> web.Response:
        left = max(0, min(cfg.otp_attempts - used, cfg.otp_max_wrong - wrong))
        return json_response({"verified": verified, "attempts_left": 0 if verified else left,
                              "exhausted": (not verified) and left == 0, "expired": expired,
                              "suspended": suspended})

    req = desk.store.request(req_id)
    wrong_before = req.otp_wrong if req else cfg.otp_max_wrong
    if otp.verified_at is not None:
        return answer(True, otp.attempts_used, wrong_before)
    if otp.expires_at <= now:
        return answer(False, otp.attempts_used, wrong_before, expired=True)
    ok = await asyncio.to_thread(security.otp_matches, code, bytes.fromhex(otp.salt),
                                 desk.pepper, otp.code_hash)
    counted = await desk.store.call(desk.store.otp_attempt, otp.id, ok, cfg.otp_attempts,
                                    cfg.otp_max_wrong, now)
    if counted is None:  # no guess left, or a concurrent guess used the last one
        fresh = desk.store.current_otp(req_id)
        req = desk.store.request(req_id)
        return answer(bool(fresh and fresh.verified_at), cfg.otp_attempts,
                      req.otp_wrong if req else cfg.otp_max_wrong)
    updated, wrong, suspended = counted
    logger.info("request %s: OTP attempt %s", req_id, "ok" if ok else "wrong")
    if suspended:
        logger.warning("request %s suspended: too many wrong codes", req_id)
        await desk.hub.request_ended(req_id, "suspended")
    return answer(ok, updated.attempts_used, wrong, suspended=suspended)


# --- what the service records during a session ----------------------------------------------

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
INPERSON_CHECKS = ("card_read", "document_check", "signed_form")


def _sha_field(f: Fields, body: dict[str, Any], required: bool) -> str | None:
    sha = body.get("sha256")
    if sha is None:
        if required:
            f.add("sha256", "required")
        return None
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):  # match: "…\n" too
        f.add("sha256", "invalid_format")
        return None
    return sha


async def record_capture(request: web.Request) -> web.Response:
    """A still the console captured: target and SHA-256 (the image stays in the package)."""
    desk = request.app[DESK]
    req_id = _req_id(request)
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"target", "sha256", "size"})
    target = f.enum(body, "target", "target", CAPTURE_TARGETS)
    sha = _sha_field(f, body, required=True)
    size = body.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int)
                             or not 0 < size <= 64 * 1024 * 1024):
        f.add("size", "out_of_range")
    if f.errors:
        raise ApiError(422, "validation_failed", fields=f.errors)
    sess = desk.store.record_session_fact(req_id, "capture",
                                          {"target": target, "sha256": sha, "size": size},
                                          desk.config.clock.now())
    return json_response({"recorded": True, "session_id": sess.id, "target": target}, 201)


async def record_inperson_check(request: web.Request) -> web.Response:
    """The partner's card read, document checks or signed form, with their outcome."""
    desk = request.app[DESK]
    req_id = _req_id(request)
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"check", "result", "sha256"})
    check = f.enum(body, "check", "check", INPERSON_CHECKS)
    result = f.enum(body, "result", "result", ("ok", "failed"))
    sha = _sha_field(f, body, required=False)
    if f.errors:
        raise ApiError(422, "validation_failed", fields=f.errors)
    sess = desk.store.active_session_of_request(req_id)
    if sess is None or sess.channel != "in_person":
        raise ApiError(409, "not_in_person", "no in-person check is open on this request")
    desk.store.record_session_fact(req_id, "inperson_check",
                                   {"check": check, "result": result, "sha256": sha},
                                   desk.config.clock.now())
    return json_response({"recorded": True, "session_id": sess.id, "check": check}, 201)


# --- active liveness and the supervisor's second look (ETSI TS 119 461 v2) -------------------

LIVENESS_VERDICTS = ("pass", "fail", "inconclusive")
LIVENESS_CHALLENGES = ("turn_left", "turn_right", "look_up", "blink", "move_closer")
SECOND_LOOK_SUBJECTS = ("liveness", "face_mismatch")


async def record_liveness(request: web.Request) -> web.Response:
    """The operator's console reports a liveness check of the open video session: its verdict
    and the challenges it drew (codes only). An approval needs the latest to be ``pass``, or a
    supervisor's second look after it."""
    desk = request.app[DESK]
    req_id = _req_id(request)
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"verdict", "challenges", "score"})
    verdict = f.enum(body, "verdict", "verdict", LIVENESS_VERDICTS)
    challenges = body.get("challenges")
    if (not isinstance(challenges, list) or not 1 <= len(challenges) <= 5
            or any(c not in LIVENESS_CHALLENGES for c in challenges)):
        f.add("challenges", "invalid")
    score = body.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)
                              or not 0.0 <= float(score) <= 1.0):
        f.add("score", "out_of_range")
    if f.errors:
        raise ApiError(422, "validation_failed", fields=f.errors)
    sess = desk.store.active_session_of_request(req_id)
    if sess is None or sess.channel == "in_person":
        raise ApiError(409, "not_video_session", "no video session is open on this request")
    desk.store.record_session_fact(req_id, "liveness",
                                   {"verdict": verdict, "challenges": list(challenges or []),
                                    "score": score}, desk.config.clock.now())
    logger.info("request %s: liveness %s reported", req_id, verdict)
    return json_response({"recorded": True, "session_id": sess.id, "verdict": verdict}, 201)


async def record_second_look(request: web.Request) -> web.Response:
    """A supervisor confirms, with their own sign-in, that a session may be approved although
    liveness did not pass or the faces were found different (four eyes). The supervisor is
    never the session's operator."""
    desk = request.app[DESK]
    req_id = _req_id(request)
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"subject"})
    subject = f.enum(body, "subject", "subject", SECOND_LOOK_SUBJECTS)
    if f.errors:
        raise ApiError(422, "validation_failed", fields=f.errors)
    me = caller(request)
    sess = desk.store.active_session_of_request(req_id)
    if sess is None or sess.channel == "in_person":
        raise ApiError(409, "not_video_session", "no video session is open on this request")
    if sess.operator_id == me.id:
        raise ApiError(403, "same_person", "the second look is someone else's")
    desk.store.record_session_fact(req_id, "second_look",
                                   {"subject": subject, "supervisor_id": me.id},
                                   desk.config.clock.now())
    logger.info("request %s: second look (%s) by a supervisor", req_id, subject)
    return json_response({"recorded": True, "session_id": sess.id, "subject": subject}, 201)


# --- e-mail verification --------------------------------------------------------------------

async def send_email_verification(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    cfg = desk.config
    req = desk.store.request(_req_id(request))
    if req is None:
        raise not_found("request_not_found")
    if req.state in ("approved", "rejected"):
        raise ApiError(409, "request_closed", state=req.state)
    token = security.new_token()
    now = cfg.clock.now()
    ev = desk.store.create_email_verification(req.id, security.token_hash(token), now,
                                              cfg.email_link_ttl)
    link = f"{base_url(request)}/verify-email/{token}"
    body = ("Gentile cliente,\n\nper confermare il tuo indirizzo e-mail apri questo link:\n"
            f"{link}\n\nSe non hai richiesto un'identità digitale ignora questo messaggio.\n\n"
            "InfoCert")
    try:
        await desk.email.send(req.email, "Conferma il tuo indirizzo e-mail", body, iso(now) or "")
    except SendError as exc:
        desk.store.discard_email_verification(ev.id)
        if exc.code in STORAGE_CODES:
            raise storage_refusal(exc.code, reason="email_failed") from exc
        raise ApiError(502, "email_failed", "the e-mail could not be sent",
                       reason=exc.code) from exc
    logger.info("request %s: e-mail verification sent", req.id)
    return json_response({"sent_at": iso(now), "expires_at": iso(ev.expires_at),
                          "confirmed": False}, 201)


async def email_verification_status(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    req_id = _req_id(request)
    if desk.store.request(req_id) is None:
        raise not_found("request_not_found")
    ev = desk.store.email_verification(req_id)
    if ev is None:
        raise ApiError(404, "no_email_verification")
    return json_response({"sent_at": iso(ev.sent_at), "confirmed": ev.confirmed_at is not None,
                          "confirmed_at": iso(ev.confirmed_at)})


def setup(app: web.Application, prefix: str) -> None:
    r = app.router
    r.add_post(f"{prefix}/requests", create_request)
    r.add_get(f"{prefix}/requests", find_requests)
    r.add_get(f"{prefix}/requests/{{request_id}}", get_request)
    r.add_post(f"{prefix}/requests/{{request_id}}/join-link", new_join_link)
    r.add_post(f"{prefix}/requests/{{request_id}}/in-person", start_in_person)
    r.add_post(f"{prefix}/requests/{{request_id}}/decision", decide)
    r.add_get(f"{prefix}/requests/{{request_id}}/approval-check", approval_check)
    r.add_post(f"{prefix}/requests/{{request_id}}/captures", record_capture)
    r.add_post(f"{prefix}/requests/{{request_id}}/in-person-checks", record_inperson_check)
    r.add_post(f"{prefix}/requests/{{request_id}}/liveness", record_liveness)
    r.add_post(f"{prefix}/requests/{{request_id}}/second-look", record_second_look)
    r.add_post(f"{prefix}/requests/{{request_id}}/otp", send_otp)
    r.add_post(f"{prefix}/requests/{{request_id}}/otp/verify", verify_otp)
    r.add_post(f"{prefix}/requests/{{request_id}}/email-verification", send_email_verification)
    r.add_get(f"{prefix}/requests/{{request_id}}/email-verification", email_verification_status)
    r.add_get(f"{prefix}/queue", get_queue)
    r.add_post(f"{prefix}/queue/next", next_in_queue)
