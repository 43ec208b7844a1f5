"""The OpenAPI 3.1 description served at ``/api/openapi.json``: data, kept next to the routes.

``tests/test_server_openapi.py`` checks that every route of the router is here and back.
"""

from __future__ import annotations

import copy
from typing import Any

from server.config import CAPTURE_TARGETS, PRODUCTS
from server.validation import DECISIONS, DOCUMENT_TYPES, REASON_CODES, ROLES

API = "/api/v1"
STATES = ["registered", "waiting", "in_call", "approved", "rejected", "suspended"]

_ERRORS = {
    400: "Body is not valid JSON or not an object",
    401: "Missing, invalid or expired credentials",
    403: "The role may not do this",
    404: "Not found",
    409: "Conflicts with the current state",
    410: "Gone",
    413: "Body too large",
    422: "Validation failed; `fields` maps each field to an error code",
    423: "Account locked; `locked_until` says until when",
    429: "Too many requests (`rate_limited`, `limit` names the rule) or too soon; "
         "`retry_after` seconds, also as the `Retry-After` header",
    502: "The SMS/e-mail gateway failed; nothing was stored",
    503: "Try again",
    507: "The service's disk is full (`insufficient_storage`) or read-only "
         "(`read_only_storage`): nothing of the write was kept; `retry_after` seconds, also as "
         "the `Retry-After` header (an upload chunk: `received` is what is on disk)",
}

DT = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
NDT = {"type": ["string", "null"], "format": "date-time"}
UUID = {"type": "string", "format": "uuid"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(props: dict[str, Any], required: list[str] | None = None,
        additional: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    if not additional:
        out["additionalProperties"] = False
    return out


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def op(summary: str, tag: str, ok: dict[int, Any], errors: tuple[int, ...] = (),
       body: dict[str, Any] | None = None, auth: bool = True,
       params: list[dict[str, Any]] | None = None, op_id: str = "") -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, schema in ok.items():
        if schema is None:
            responses[str(status)] = {"description": "No content"}
        elif isinstance(schema, dict) and "content" in schema:
            responses[str(status)] = {"description": "OK", **schema}
        else:
            responses[str(status)] = {"description": "OK", **_json(schema)}
    for status in errors:
        responses[str(status)] = {"description": _ERRORS[status], **_json(ref("Error"))}
    out: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses,
                           "operationId": op_id or summary.lower().replace(" ", "_")}
    if auth:
        out["security"] = [{"bearerAuth": []}]
    else:
        out["security"] = []
    if body is not None:
        out["requestBody"] = {"required": True, **(body if "content" in body else _json(body))}
    if params:
        out["parameters"] = params
    return out


def optional_body(operation: dict[str, Any]) -> dict[str, Any]:
    operation["requestBody"]["required"] = False
    return operation


def path_param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def query(name: str, schema: dict[str, Any] | None = None, required: bool = False
          ) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required,
            "schema": schema or {"type": "string"}}


SCHEMAS: dict[str, Any] = {
    "Error": obj({"error": {"type": "string"}, "message": {"type": "string"},
                  "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                  "locked_until": {"type": "string"}, "retry_after": {"type": "integer"}},
                 ["error", "message"]),
    "Operator": obj({"id": {"type": "integer"}, "username": {"type": "string"},
                     "display_name": {"type": "string"}, "role": {"enum": list(ROLES)}},
                    ["id", "username", "display_name", "role"]),
    "TokenPair": obj({"access_token": {"type": "string"}, "refresh_token": {"type": "string"},
                      "token_type": {"const": "Bearer"}, "expires_in": {"type": "integer"},
                      "session_expires_at": DT, "operator": ref("Operator")},
                     ["access_token", "refresh_token", "expires_in", "operator"]),
    "Applicant": obj({
        "surname": {"type": "string", "minLength": 1, "maxLength": 100},
        "given_names": {"type": "string", "minLength": 1, "maxLength": 100},
        "codice_fiscale": {"type": "string", "pattern": "^[A-Za-z0-9]{16}$"},
        "birth_date": DATE,
        "birth_place": {"type": "string", "minLength": 1, "maxLength": 100},
        "sex": {"enum": ["M", "F"]},
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "mobile": {"type": "string", "pattern": "^\\+393[0-9]{8,9}$"},
    }, ["surname", "given_names", "codice_fiscale", "birth_date", "birth_place", "sex", "email",
        "mobile"], additional=False),
    "Document": obj({
        "type": {"enum": list(DOCUMENT_TYPES)},
        "number": {"type": "string", "pattern": "^[A-Z0-9]{5,20}$"},
        "issuer": {"type": "string", "minLength": 1, "maxLength": 100},
        "expiry_date": DATE,
    }, ["type", "number", "issuer", "expiry_date"], additional=False),
    "NewRequest": obj({"applicant": ref("Applicant"), "product": {"enum": list(PRODUCTS)},
                       "document": ref("Document"), "appointment_at": DT},
                      ["applicant", "product", "document"], additional=False),
    "JoinLink": obj({"join_url": {"type": "string"}, "join_token": {"type": "string"},
                     "join_expires_at": DT}, ["join_url", "join_token", "join_expires_at"]),
    "Created": {"allOf": [ref("JoinLink"), obj({
        "id": UUID, "state": {"enum": STATES}, "booking_code": {"type": "string"}},
        ["id", "state", "booking_code"])]},
    "Request": obj({
        "id": UUID, "state": {"enum": STATES}, "product": {"enum": list(PRODUCTS)},
        "applicant": obj({}), "document": obj({}), "appointment_at": NDT,
        "booking_code": {"type": "string"}, "created_at": DT, "updated_at": DT,
        "waiting_since": NDT, "email_confirmed_at": NDT,
    }, ["id", "state", "product", "applicant", "document", "booking_code"]),
    "RequestDetails": {"allOf": [ref("Request"), obj({
        "history": {"type": "array", "items": obj({
            "from": {"type": "string"}, "to": {"type": "string"}, "at": DT,
            "actor": {"type": "string"}, "reason": {"type": "string"}})},
        "decision": {"oneOf": [{"type": "null"}, obj({"decision_id": UUID,
                                                      "decision": {"enum": list(DECISIONS)},
                                                      "reason_code": {"type": "string"}})]},
        "session_id": {"type": ["string", "null"]},
        "applicant_online": {"type": "boolean"}})]},
    "Session": obj({"session_id": UUID, "channel": {"enum": ["video", "in_person"]},
                    "started_at": DT, "applicant_online": {"type": "boolean"},
                    "request": ref("Request")},
                   ["session_id", "request", "applicant_online"]),
    "Queue": obj({
        "length": {"type": "integer"},
        "waiting": {"type": "array", "items": obj({
            "request_id": UUID, "product": {"type": "string"}, "waiting_since": DT,
            "wait_seconds": {"type": "integer"}, "appointment_at": NDT,
            "online": {"type": "boolean"}})},
        "appointments_today": {"type": "array", "items": obj({
            "request_id": UUID, "product": {"type": "string"}, "appointment_at": DT,
            "state": {"enum": STATES}, "booking_code": {"type": "string"}})},
    }, ["length", "waiting", "appointments_today"]),
    "Decision": obj({"decision_id": UUID, "decision": {"enum": list(DECISIONS)},
                     "reason_code": {"enum": list(REASON_CODES)},
                     "note": {"type": "string", "maxLength": 2000}},
                    ["decision_id", "decision", "reason_code"], additional=False),
    "Package": obj({"package_id": UUID, "request_id": UUID, "filename": {"type": "string"},
                    "size": {"type": "integer"}, "sha256": {"type": "string"},
                    "stored_at": DT, "retention_until": DT,
                    "codice_fiscale": {"type": "string"}, "product": {"type": "string"},
                    "operator": {"type": "string"}},
                   ["package_id", "request_id", "sha256", "retention_until"]),
    # the evidence trust store (server/api_workstations.py); key_id = SHA-256 hex of the raw key
    "WorkstationKey": obj({
        "key_id": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "algorithm": {"const": "Ed25519"},
        "public_key": {"type": "string", "contentEncoding": "base64",
                       "description": "the 32 raw Ed25519 public key bytes"},
        "workstation": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
        "not_before": NDT, "not_after": NDT, "revoked_at": NDT, "enrolled_at": DT},
        ["key_id", "algorithm", "public_key", "workstation", "not_before", "not_after",
         "revoked_at"]),
    "TrustStore": obj({"format": {"const": "recognition-desk/workstation-keys"},
                       "version": {"const": 1}, "generated_at": DT,
                       "keys": {"type": "array", "items": ref("WorkstationKey")}},
                      ["format", "version", "keys"]),
}

_STAFF_ERR = (401, 403, 404)


def _paths(demo: bool) -> dict[str, Any]:
    rid = [path_param("request_id", UUID)]
    oid = [path_param("operator_id", {"type": "integer"})]
    uid = [path_param("upload_id", UUID)]
    pid = [path_param("package_id", UUID)]
    ok_op = obj({"id": {"type": "integer"}, "username": {"type": "string"},
                 "role": {"type": "string"}, "disabled": {"type": "boolean"}})
    html = {"content": {"text/html": {"schema": {"type": "string"}}}}
    html_410 = {"description": "Link not valid or expired",
                "content": {"text/html": {"schema": {"type": "string"}}}}
    paths: dict[str, Any] = {
        "/api/openapi.json": {"get": op("This document", "meta", {200: obj({})}, auth=False,
                                        op_id="openapi")},
        "/healthz": {"get": op("Liveness: the process answers", "meta", {200: obj({
            "status": {"const": "ok"}}, ["status"])}, auth=False, op_id="healthz")},
        "/readyz": {"get": op("Readiness: database and event bus reachable", "meta", {
            200: obj({"status": {"const": "ready"}, "database": {"type": "boolean"},
                      "bus": {"type": "boolean"}}, ["status", "database", "bus"]),
            503: obj({"status": {"const": "not_ready"}, "database": {"type": "boolean"},
                      "bus": {"type": "boolean"}}, ["status", "database", "bus"])},
            auth=False, op_id="readyz")},
        f"{API}/health": {"get": op("Health", "meta", {200: obj({
            "status": {"const": "ok"}, "time": DT, "demo": {"type": "boolean"}},
            ["status", "time"])}, auth=False)},
        f"{API}/auth/login": {"post": op(
            "Login", "auth", {200: ref("TokenPair")}, (400, 401, 403, 413, 422, 423, 429),
            body=obj({"username": {"type": "string"}, "password": {"type": "string"},
                      "totp": {"type": "string", "pattern": "^[0-9]{6}$"}},
                     ["username", "password", "totp"], additional=False), auth=False)},
        f"{API}/auth/refresh": {"post": op(
            "Refresh", "auth", {200: ref("TokenPair")}, (400, 401, 413, 422),
            body=obj({"refresh_token": {"type": "string"}}, ["refresh_token"],
                     additional=False), auth=False)},
        f"{API}/auth/logout": {"post": op("Logout", "auth", {200: obj({
            "logged_out": {"type": "boolean"}})}, (401,))},
        f"{API}/auth/me": {"get": op("Who am I", "auth", {200: {"allOf": [ref("Operator"), obj({
            "active_session_id": {"type": ["string", "null"]},
            "active_request_id": {"type": ["string", "null"]}})]}}, (401,))},
        f"{API}/operators": {
            "get": op("List operators", "operators", {200: obj({
                "operators": {"type": "array", "items": ref("Operator")}})}, (401, 403)),
            "post": op("Create operator", "operators", {201: ref("Operator")},
                       (400, 401, 403, 409, 413, 422), body=obj({
                           "username": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$"},
                           "display_name": {"type": "string"},
                           "role": {"enum": list(ROLES)},
                           "password": {"type": "string", "minLength": 12}},
                           ["username", "display_name", "role", "password"],
                           additional=False)),
        },
        f"{API}/operators/{{operator_id}}/totp": {"post": optional_body(op(
            "Enrol TOTP", "operators", {201: obj({"otpauth_uri": {"type": "string"},
                                                  "qr_svg": {"type": "string"}},
                                                 ["otpauth_uri", "qr_svg"])},
            (400, *_STAFF_ERR, 413, 422, 423), params=oid,
            body=obj({"password": {"type": "string"}, "totp": {"type": "string"}},
                     additional=False)) | {"description": (
                "For one's own account the body must carry the current password and a current "
                "code (wrong ones count towards the lockout); an administrator enrolling "
                "another account sends none, and that account's sign-ins end.")})},
        f"{API}/operators/{{operator_id}}/disable": {"post": op(
            "Disable operator", "operators", {200: ok_op}, _STAFF_ERR, params=oid)},
        f"{API}/operators/{{operator_id}}/enable": {"post": op(
            "Enable operator", "operators", {200: ok_op}, _STAFF_ERR, params=oid)},
        f"{API}/requests": {
            "post": op("Register request", "requests", {201: ref("Created")},
                       (400, 413, 422, 429, 503), body=ref("NewRequest"), auth=False),
            "get": op("Find requests", "requests", {200: obj({
                "requests": {"type": "array", "items": ref("Request")}})}, (401, 403, 422),
                params=[query("booking_code"), query("state", {"enum": STATES})]),
        },
        f"{API}/requests/{{request_id}}": {"get": op(
            "Get request", "requests", {200: ref("RequestDetails")}, _STAFF_ERR, params=rid)},
        f"{API}/requests/{{request_id}}/join-link": {"post": op(
            "New join link", "requests", {201: ref("JoinLink")}, (*_STAFF_ERR, 409),
            params=rid)},
        f"{API}/requests/{{request_id}}/in-person": {"post": op(
            "Start in-person check", "requests", {201: ref("Session")}, (*_STAFF_ERR, 409),
            params=rid)},
        f"{API}/requests/{{request_id}}/decision": {"post": op(
            "Decide", "requests", {200: obj({"state": {"enum": list(DECISIONS)},
                                             "decided_at": DT, "decision_id": UUID},
                                            ["state", "decided_at"])},
            (400, *_STAFF_ERR, 409, 413, 422, 507), body=ref("Decision"), params=rid)},
        f"{API}/requests/{{request_id}}/otp": {"post": op(
            "Send OTP", "otp", {201: obj({"otp_id": UUID, "expires_at": DT,
                                          "attempts_left": {"type": "integer"},
                                          "resend_after": DT},
                                         ["otp_id", "expires_at", "attempts_left",
                                          "resend_after"])},
            (*_STAFF_ERR, 409, 429, 502), params=rid)},
        f"{API}/requests/{{request_id}}/otp/verify": {"post": op(
            "Verify OTP", "otp", {200: obj({"verified": {"type": "boolean"},
                                            "attempts_left": {"type": "integer"},
                                            "exhausted": {"type": "boolean"},
                                            "expired": {"type": "boolean"}},
                                           ["verified", "attempts_left", "exhausted"])},
            (400, *_STAFF_ERR, 409, 413, 422, 429),
            body=obj({"code": {"type": "string", "pattern": "^[0-9]{6}$"}}, ["code"],
                     additional=False), params=rid)},
        f"{API}/requests/{{request_id}}/approval-check": {"get": op(
            "What an approval still needs", "requests", {200: obj({
                "ready": {"type": "boolean"},
                "missing": {"type": "array", "items": {"type": "string"}}},
                ["ready", "missing"])},
            (*_STAFF_ERR, 409), params=rid)},
        f"{API}/requests/{{request_id}}/captures": {"post": op(
            "Record a capture of the open session", "requests", {201: obj({
                "recorded": {"type": "boolean"}, "session_id": UUID,
                "target": {"enum": list(CAPTURE_TARGETS)}})},
            (400, *_STAFF_ERR, 409, 413, 422),
            body=obj({"target": {"enum": list(CAPTURE_TARGETS)},
                      "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                      "size": {"type": "integer", "minimum": 1}}, ["target", "sha256"],
                     additional=False), params=rid)},
        f"{API}/requests/{{request_id}}/in-person-checks": {"post": op(
            "Record an in-person check (card read, document checks, signed form)", "requests",
            {201: obj({"recorded": {"type": "boolean"}, "session_id": UUID,
                       "check": {"enum": ["card_read", "document_check", "signed_form"]}})},
            (400, *_STAFF_ERR, 409, 413, 422),
            body=obj({"check": {"enum": ["card_read", "document_check", "signed_form"]},
                      "result": {"enum": ["ok", "failed"]},
                      "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
                     ["check", "result"], additional=False), params=rid)},
        f"{API}/requests/{{request_id}}/liveness": {"post": op(
            "Record the active liveness check of the open video session", "requests",
            {201: obj({"recorded": {"type": "boolean"}, "session_id": UUID,
                       "verdict": {"enum": ["pass", "fail", "inconclusive"]}})},
            (400, *_STAFF_ERR, 409, 413, 422),
            body=obj({"verdict": {"enum": ["pass", "fail", "inconclusive"]},
                      "challenges": {"type": "array", "minItems": 1, "maxItems": 5,
                                     "items": {"enum": ["turn_left", "turn_right", "look_up",
                                                        "blink", "move_closer"]}},
                      "score": {"type": "number", "minimum": 0, "maximum": 1}},
                     ["verdict", "challenges"], additional=False), params=rid)},
        f"{API}/requests/{{request_id}}/second-look": {"post": op(
            "A supervisor's second look (four eyes) after liveness or the faces held up",
            "requests",
            {201: obj({"recorded": {"type": "boolean"}, "session_id": UUID,
                       "subject": {"enum": ["liveness", "face_mismatch"]}})},
            (400, *_STAFF_ERR, 409, 413, 422),
            body=obj({"subject": {"enum": ["liveness", "face_mismatch"]}}, ["subject"],
                     additional=False), params=rid)},
        f"{API}/requests/{{request_id}}/email-verification": {
            "post": op("Send e-mail verification", "otp", {201: obj({
                "sent_at": DT, "expires_at": DT, "confirmed": {"type": "boolean"}})},
                (*_STAFF_ERR, 409, 502), params=rid),
            "get": op("E-mail verification status", "otp", {200: obj({
                "sent_at": DT, "confirmed": {"type": "boolean"}, "confirmed_at": NDT},
                ["sent_at", "confirmed", "confirmed_at"])}, _STAFF_ERR, params=rid),
        },
        f"{API}/queue": {"get": op("Queue", "queue", {200: ref("Queue")}, (401, 403))},
        f"{API}/queue/next": {"post": op(
            "Next applicant (random among waiting and due)", "queue",
            {200: ref("Session"), 204: None}, (401, 403, 409), op_id="queue_next")},
        f"{API}/workstation-keys": {
            "post": op("Enrol a workstation signing key", "workstation-keys",
                       {201: ref("WorkstationKey")}, (400, 401, 403, 409, 413, 422),
                       body=obj({
                           "workstation": {"type": "string",
                                           "pattern": "^[A-Za-z0-9._-]{1,64}$"},
                           "public_key": {"type": "string", "contentEncoding": "base64",
                                          "description": "the 32 raw Ed25519 public key "
                                                         "bytes"},
                           "not_before": DT, "not_after": DT,
                           "key_id": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                                      "description": "optional: checked against the key"},
                           "algorithm": {"const": "Ed25519"}},
                           ["workstation", "public_key"], additional=False),
                       op_id="enrol_workstation_key"),
            "get": op("Workstation keys (the evidence trust store)", "workstation-keys",
                      {200: ref("TrustStore")}, (401, 403), op_id="workstation_keys"),
        },
        f"{API}/workstation-keys/{{key_id}}/revoke": {"post": op(
            "Revoke a workstation signing key", "workstation-keys",
            {200: ref("WorkstationKey")}, (400, *_STAFF_ERR, 413, 422),
            body={"required": False, **_json(obj({"revoked_at": DT}, additional=False))},
            params=[path_param("key_id", {"type": "string", "pattern": "^[0-9a-f]{64}$"})],
            op_id="revoke_workstation_key")},
        f"{API}/archive-key": {"get": op("Archive key", "evidence", {200: obj({
            "key_id": {"type": "string"}, "algorithm": {"const": "X25519"},
            "public_key": {"type": "string", "contentEncoding": "base64"}},
            ["key_id", "algorithm", "public_key"])}, auth=False)},
        f"{API}/evidence/uploads": {"post": op(
            "Open or resume upload", "evidence",
            {200: obj({"upload_id": UUID, "received": {"type": "integer"},
                       "complete": {"type": "boolean"}}, ["upload_id", "received"]),
             201: obj({"upload_id": UUID, "received": {"type": "integer"},
                       "complete": {"type": "boolean"}}, ["upload_id", "received"])},
            (400, *_STAFF_ERR, 409, 413, 422, 503, 507),
            body=obj({"upload_key": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,128}$"},
                      "kind": {"enum": ["package", "recording"]},
                      "request_id": UUID, "filename": {"type": "string"},
                      "size": {"type": "integer", "minimum": 1},
                      "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
                     ["upload_key", "request_id", "filename", "size", "sha256"],
                     additional=False))},
        f"{API}/evidence/uploads/{{upload_id}}": {"put": op(
            "Upload chunk", "evidence", {200: obj({"received": {"type": "integer"}},
                                                  ["received"])},
            (*_STAFF_ERR, 409, 413, 422, 503, 507),
            body={"content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}},
            params=[*uid, query("offset", {"type": "integer", "minimum": 0}, True)])},
        f"{API}/evidence/uploads/{{upload_id}}/complete": {"post": op(
            "Complete upload", "evidence", {200: ref("Package")},
            (*_STAFF_ERR, 409, 422, 503, 507),
            params=uid)},
        f"{API}/evidence": {"get": op(
            "Search evidence", "evidence", {200: obj({"packages": {
                "type": "array", "items": ref("Package")}}, ["packages"])}, (401, 403, 422),
            params=[query("request_id"), query("codice_fiscale"), query("operator"),
                    query("date_from"), query("date_to")])},
        f"{API}/evidence/{{package_id}}": {
            "get": op("Evidence package", "evidence", {200: ref("Package")}, _STAFF_ERR,
                      params=pid),
            "delete": op("Delete package after retention", "evidence", {200: obj({
                "package_id": UUID, "deleted": {"type": "boolean"}})},
                (*_STAFF_ERR, 409, 422), params=[*pid, query("reason")]),
        },
        f"{API}/evidence/{{package_id}}/content": {"get": op(
            "Download package (access logged)", "evidence",
            {200: {"content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}}},
            (*_STAFF_ERR, 410, 422, 503), params=[*pid, query("reason", required=True)])},
        f"{API}/evidence/{{package_id}}/access": {"post": op(
            "Log an access made elsewhere", "evidence", {201: obj({
                "access_id": {"type": "integer"}, "at": DT})},
            (400, *_STAFF_ERR, 413, 422),
            body=obj({"action": {"type": "string", "pattern": "^[a-z][a-z_]{1,31}$"},
                      "reason": {"type": "string", "minLength": 3, "maxLength": 500}},
                     ["action", "reason"], additional=False), params=pid)},
        "/ws/operator": {"get": {
            "summary": "Operator WebSocket (see docs/PROTOCOL.md)", "tags": ["websocket"],
            "operationId": "ws_operator", "security": [{"bearerAuth": []}],
            "responses": {"101": {"description": "Switching protocols"},
                          "400": {"description": "Not a WebSocket handshake"},
                          "403": {"description": "Origin not allowed", **_json(ref("Error"))}}}},
        "/ws/applicant/{join_token}": {"get": {
            "summary": "Applicant WebSocket (see docs/PROTOCOL.md)", "tags": ["websocket"],
            "operationId": "ws_applicant", "security": [],
            "parameters": [path_param("join_token")],
            "responses": {"101": {"description": "Switching protocols"},
                          "400": {"description": "Not a WebSocket handshake"},
                          "403": {"description": "Origin not allowed", **_json(ref("Error"))}}}},
        "/join/{token}": {"get": {
            "summary": "Applicant page", "tags": ["pages"], "operationId": "join_page",
            "security": [], "parameters": [path_param("token")],
            "responses": {"200": {"description": "The page", **html}, "410": html_410}}},
        "/verify-email/{token}": {"get": {
            "summary": "Confirm an e-mail address", "tags": ["pages"],
            "operationId": "verify_email", "security": [], "parameters": [path_param("token")],
            "responses": {"200": {"description": "Confirmed", **html}, "410": html_410}}},
        "/static/{path}": {"get": {
            "summary": "Static files of the applicant page", "tags": ["pages"],
            "operationId": "static", "security": [], "parameters": [path_param("path")],
            "responses": {"200": {"description": "A file"},
                          "400": {"description": "Not a valid HTTP path"},
                          "404": {"description": "No such file (also any name that is not a "
                                                 "plain file name of the folder)"}}}},
    }
    if demo:
        outbox = obj({"messages": {"type": "array", "items": obj({
            "to": {"type": "string"}, "body": {"type": "string"}, "sent_at": DT})}},
            ["messages"])
        clock = obj({"now": DT, "offset_seconds": {"type": "integer"}}, ["now"])
        paths.update({
            f"{API}/dev/outbox/sms": {"get": op("SMS outbox (demo)", "dev", {200: outbox},
                                                auth=False, params=[query("mobile")])},
            f"{API}/dev/outbox/email": {"get": op("E-mail outbox (demo)", "dev", {200: outbox},
                                                  auth=False, params=[query("to")])},
            f"{API}/dev/clock": {
                "get": op("Service clock (demo)", "dev", {200: clock}, auth=False,
                          op_id="get_clock"),
                "post": op("Advance the clock (demo)", "dev", {200: clock}, (400, 413, 422),
                           body=obj({"advance_seconds": {"type": "number", "minimum": 0}},
                                    ["advance_seconds"], additional=False), auth=False,
                           op_id="advance_clock"),
            },
        })
    return paths


def openapi_document(demo: bool = False) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Recognition desk service", "version": "1.0.0",
                 "description": "Desk service of the recognition console. WebSocket and "
                                "data-channel messages: docs/PROTOCOL.md."},
        "paths": _paths(demo),
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
