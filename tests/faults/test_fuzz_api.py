"""schemathesis over the whole OpenAPI document of a real desk service process (issue 13).

Every operation of ``/api/openapi.json`` is driven with schema-valid and schema-invalid data,
with the bearer token of a role that may call it (one role per kind of scope the role table,
``server.policy.RULES``, grants: supervisor or admin for "any", partner1 for "own point",
operatore1 for "own session", formatore1 for "anonymised"), and with real resource ids mixed
into the generated ones (a registered request, partner1's in-person request, operatore1's video
request, an open upload, a stored package, an enrolled workstation key, join tokens), so the
handlers behind the ownership checks are reached too. Checks: no 5xx, only documented status
codes, content types, headers and bodies matching their schemas. The service's log must hold
no traceback and no personal data afterwards.

Operations that would destroy the test's own tokens get accounts of their own, created for the
test: sign-out and one's own TOTP enrolment run with "fuzz-self" (a trainer), the refresh token
mixed into ``POST /auth/refresh`` is "fuzz-refresh"'s (refreshing ends the older tokens),
disabling, enabling and re-enrolling another account always target "fuzz-target" (never a demo
account), and moving the demo clock runs last, after which the fixture's clock is brought in
line. Wrong OTP codes suspend the request, so OTP verification, new join links and decisions run
late. ``test_resumable_upload_model`` drives an upload statefully (open, PUT chunks at right
and wrong offsets, too long or empty, complete) against a model; ``test_what_the_fuzzing_found``
keeps what it found as plain cases.

schemathesis' pytest plugin does not load under pytest 9: operations are driven here with their
hypothesis strategies. Budget: ``MAX_EXAMPLES`` per operation, role and generation mode
(61 operation × caller pairs, about 30 s on 2 cores; the whole file under a minute).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pyotp
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.policy import CREDENTIAL_ACTIONS, PUBLIC, ROUTES, RULES, Scope
from tests.fixtures.desk import DeskServer, start_desk_server

pytestmark = pytest.mark.timeout(600)

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
USERS = {"operator": "operatore1", "partner": "partner1", "trainer": "formatore1",
         "supervisor": "supervisore1", "admin": "admin1"}
#: which role stands for a scope when several roles hold it
_PREFERRED = ("supervisor", "admin", "partner", "operator", "trainer")
VICTIM_PASSWORD = "Fuzz-Victim-Password-1!"
#: operations run after all the others, in this order (they end sessions, revoke links...)
#: (wrong codes suspend the request: its own-session routes answer 409 from then on)
LATE = ("POST /api/v1/requests/{request_id}/otp/verify",
        "POST /api/v1/requests/{request_id}/join-link",
        "POST /api/v1/requests/{request_id}/decision", "DELETE /api/v1/evidence/{package_id}",
        "POST /api/v1/auth/logout", "POST /api/v1/dev/clock")


@dataclass
class Fixture:
    """The real resources the generated cases are pointed at now and then."""

    desk: DeskServer
    schema: Any
    request_ids: list[str] = field(default_factory=list)
    #: the requests a role may act on: operatore1's video call, partner1's in-person check
    own_requests: dict[str, list[str]] = field(default_factory=dict)
    booking_codes: list[str] = field(default_factory=list)
    join_tokens: list[str] = field(default_factory=list)
    upload_ids: list[str] = field(default_factory=list)
    package_ids: list[str] = field(default_factory=list)
    key_ids: list[str] = field(default_factory=list)
    self_id: int = 0  # "fuzz-self": sign-out and its own TOTP
    self_token: str = ""
    refresh_token: str = ""  # of "fuzz-refresh" (refreshing ends the older tokens)
    target_id: int = 0  # "fuzz-target": disabled, enabled, re-enrolled by the admin
    protected_ids: set[int] = field(default_factory=set)


def _create_account(desk: DeskServer, username: str, role: str) -> tuple[int, str]:
    """(id, TOTP secret) of a new account, created and enrolled by admin1."""
    r = desk.api("POST", "/operators", "admin1", json={
        "username": username, "display_name": username, "role": role,
        "password": VICTIM_PASSWORD})
    assert r.status_code == 201, r.text
    op_id = int(r.json()["id"])
    r = desk.api("POST", f"/operators/{op_id}/totp", "admin1")
    assert r.status_code == 201, r.text
    secret = pyotp.parse_uri(r.json()["otpauth_uri"]).secret
    return op_id, secret


def _upload(desk: DeskServer, username: str, request_id: str, data: bytes, *,
            complete: bool) -> dict[str, Any]:
    body = {"upload_key": f"fuzz-{uuid.uuid4()}", "request_id": request_id,
            "filename": "fuzz.sealed", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}
    opened = desk.api("POST", "/evidence/uploads", username, json=body)
    assert opened.status_code == 201, opened.text
    up: dict[str, Any] = opened.json()
    if complete:
        r = desk.api("PUT", f"/evidence/uploads/{up['upload_id']}", username,
                     params={"offset": 0}, data=data)
        assert r.status_code == 200, r.text
        done = desk.api("POST", f"/evidence/uploads/{up['upload_id']}/complete", username)
        assert done.status_code == 200, done.text
        up.update(done.json())
    return up


def prepare(desk: DeskServer) -> Fixture:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    # from_dict, not from_url: from_url leaves out the operation that serves the document
    doc = desk.http.get(f"{desk.base_url}/api/openapi.json", timeout=30).json()
    fx = Fixture(desk, schemathesis.openapi.from_dict(doc))
    registered = desk.create_request()
    in_person = desk.start_in_person("partner1")
    video = desk.start_video_session("operatore1")
    fx.own_requests = {"operator": [video["id"]], "partner": [in_person["id"]]}
    for req in (registered, in_person, video):
        fx.request_ids.append(req["id"])
        fx.booking_codes.append(req["booking_code"])
        fx.join_tokens.append(req["join_token"])
    fx.package_ids.append(_upload(desk, "partner1", in_person["id"], b"a fuzzed package",
                                  complete=True)["package_id"])
    fx.upload_ids.append(_upload(desk, "partner1", in_person["id"], bytes(64),
                                 complete=False)["upload_id"])
    raw = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    r = desk.api("POST", "/workstation-keys", "admin1", json={
        "workstation": "fuzz-ws", "public_key": base64.b64encode(raw).decode()})
    assert r.status_code == 201, r.text
    fx.key_ids.append(r.json()["key_id"])
    fx.protected_ids = {int(o["id"]) for o in desk.seed["operators"]}
    fx.self_id, secret = _create_account(desk, "fuzz-self", "trainer")
    fx.self_token = _login(desk, "fuzz-self", secret)["access_token"]
    refresh_id, secret = _create_account(desk, "fuzz-refresh", "trainer")
    fx.refresh_token = _login(desk, "fuzz-refresh", secret)["refresh_token"]
    fx.target_id, _secret = _create_account(desk, "fuzz-target", "operator")
    fx.protected_ids |= {fx.self_id, refresh_id}
    return fx


def _login(desk: DeskServer, username: str, secret: str) -> dict[str, Any]:
    r = desk.http.post(f"{desk.api_url}/auth/login", timeout=30, json={
        "username": username, "password": VICTIM_PASSWORD, "totp": pyotp.TOTP(secret).now()})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    desk = start_desk_server(tmp_path_factory.mktemp("desk-api-fuzz"))
    try:
        yield prepare(desk)
    finally:
        alive = desk.proc.poll() is None
        code = desk.stop()
        log = desk.log_path.read_text()
        assert alive and code == 0, log[-2000:]
        assert "Traceback" not in log and "internal error" not in log, log[-3000:]
        seed = desk.seed["requests"][0]["applicant"]
        assert seed["codice_fiscale"] not in log and seed["mobile"] not in log


# --- who calls what ------------------------------------------------------------------------

def _action(method: str, path: str) -> str:
    action = ROUTES[(method, path)]
    if action == "requests.find":
        return "requests.list_by_state"  # the booking-code variant: partners too, below
    return action


def callers(method: str, path: str) -> list[str | None]:
    """The roles to fuzz an operation with: one per scope the table grants (None: no token,
    for public and credential routes)."""
    action = _action(method, path)
    if action in PUBLIC or action in CREDENTIAL_ACTIONS:
        return [None]
    if (method, path) == ("GET", "/api/v1/requests"):
        return ["supervisor", "partner"]
    by_scope: dict[Scope, str] = {}
    for role in _PREFERRED:
        scope = RULES[action].get(role)
        if scope is not None and scope not in by_scope:
            by_scope[scope] = role
    if action in ("auth.logout", "operators.enrol_totp"):
        by_scope[Scope.SELF] = "fuzz-self"
    if action == "auth.logout":
        return ["fuzz-self"]
    return [by_scope[s] for s in sorted(by_scope)]


def _headers(fx: Fixture, role: str | None) -> dict[str, str]:
    if role is None:
        return {}
    if role == "fuzz-self":
        return {"Authorization": f"Bearer {fx.self_token}"}
    return fx.desk.headers(USERS[role])


def _retarget(fx: Fixture, case: Any, role: str | None, data: st.DataObject) -> None:
    """Point some cases at real resources; keep the accounts the test relies on out of reach."""
    params = case.path_parameters if isinstance(case.path_parameters, dict) else {}
    real: dict[str, list[Any]] = {
        "request_id": fx.own_requests.get(role or "", fx.request_ids),
        "upload_id": fx.upload_ids,
        "package_id": fx.package_ids, "key_id": fx.key_ids,
        "join_token": fx.join_tokens, "token": fx.join_tokens,
        "path": ["join.html", "js/app.js", "css/join.css", "a" * 300, "js/" + "b" * 256,
                 "..", ".hidden", "js/../join.html", "README.md"],
    }
    for name in list(params):
        if name in real and data.draw(st.integers(0, 3), label=f"real {name}"):
            params[name] = data.draw(st.sampled_from(real[name]), label=name)
    if "operator_id" in params:
        if role == "fuzz-self":
            params["operator_id"] = fx.self_id
        else:
            raw = str(params["operator_id"])
            unsafe = raw.isascii() and raw.strip().isdigit() and int(raw) in fx.protected_ids
            if unsafe or data.draw(st.booleans(), label="target"):
                params["operator_id"] = fx.target_id
    query = case.query if isinstance(case.query, dict) else None
    if query is not None:
        if "booking_code" in query and data.draw(st.booleans(), label="real booking code"):
            query["booking_code"] = data.draw(st.sampled_from(fx.booking_codes))
        if "request_id" in query and data.draw(st.booleans(), label="real request id"):
            query["request_id"] = data.draw(st.sampled_from(fx.request_ids))
        if "offset" in query and data.draw(st.booleans(), label="offset 0"):
            query["offset"] = 0  # the open upload has received nothing yet (or some bytes)
    body = case.body
    if isinstance(body, dict) and "request_id" in body and data.draw(st.booleans()):
        body["request_id"] = data.draw(st.sampled_from(fx.request_ids))
    if isinstance(body, dict) and "refresh_token" in body and data.draw(st.booleans()):
        body["refresh_token"] = fx.refresh_token


def _plan(fx: Fixture) -> list[tuple[Any, str | None]]:
    plan: list[tuple[Any, str | None]] = []
    for result in fx.schema.get_all_operations():
        operation = result.ok()
        for role in callers(operation.method.upper(), operation.path):
            plan.append((operation, role))

    def order(item: tuple[Any, str | None]) -> int:
        label = f"{item[0].method.upper()} {item[0].path}"
        return LATE.index(label) + 1 if label in LATE else 0

    return sorted(plan, key=order)  # stable: document order, the late ones last


def test_every_operation_conforms_to_the_document(api: Fixture) -> None:
    """Every operation, every kind of caller, positive and negative data: no 5xx, only what
    the document promises."""
    fx = api
    plan = _plan(fx)
    documented = {(op.method.upper(), op.path) for op, _role in plan}
    assert documented == set(ROUTES), "the document and the role table differ"
    failures: list[str] = []
    ran = 0
    for operation, role in plan:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(fx, operation, role, mode)
                ran += 1
            except hypothesis.errors.Unsatisfiable:
                continue  # no negative data for an operation without inputs
            except (Exception, BaseExceptionGroup) as exc:  # collect them all, fail once
                failures.append(f"{operation.label} as {role} [{mode.value}]: {str(exc)[:800]}")
        if operation.path == "/api/v1/dev/clock" and operation.method.upper() == "POST":
            _follow_the_clock(fx.desk)
    assert ran >= len(plan), (ran, len(plan))
    assert not failures, "\n\n".join(failures)


def _fuzz(fx: Fixture, operation: Any, role: str | None, mode: GenerationMode) -> None:
    headers = _headers(fx, role)

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        _retarget(fx, case, role, data)
        case.call_and_validate(base_url=fx.desk.base_url, headers=headers, checks=CHECKS,
                               timeout=30)

    run()


def _follow_the_clock(desk: DeskServer) -> None:
    """The fuzzing moved the demo clock: make the fixture's TOTP codes follow it."""
    from datetime import UTC, datetime, timedelta

    now = desk.api("GET", "/dev/clock").json()["now"]
    desk._clock_offset = datetime.fromisoformat(now.replace("Z", "+00:00")) - datetime.now(UTC)
    desk._clock_offset = max(desk._clock_offset, timedelta(0))
    desk._tokens.clear()


def test_the_service_still_answers(api: Fixture) -> None:
    desk = api.desk
    assert desk.api("GET", "/health").json()["status"] == "ok"
    got = desk.api("GET", f"/requests/{desk.seed_request()['id']}", "supervisore1")
    assert got.status_code == 200 and got.json()["applicant"]["codice_fiscale"]


def test_what_the_fuzzing_found(api: Fixture) -> None:
    """The 500s and the undocumented answers the fuzzing found, as plain cases."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    desk = api.desk
    # "²".isdigit() is True but int("²") fails: a 500 on the operator routes
    for sup in ("%C2%B2", "%D9%A1"):  # ², Arabic-Indic one
        r = desk.api("POST", f"/operators/{sup}/disable", "admin1")
        assert r.status_code == 404, r.text
    # a mobile number in Arabic-Indic digits passed r"\d" (now [0-9], as the document says)
    from tests.fixtures.desk import request_body

    body = request_body(7)
    body["applicant"]["mobile"] = "+393" + "٣" * 9
    r = desk.api("POST", "/requests", json=body)
    assert r.status_code == 422 and "applicant.mobile" in r.json()["fields"], r.text
    # re.match with "^…$" took a SHA-256 with a newline after it
    r = desk.api("POST", f"/requests/{api.own_requests['partner'][0]}/captures", "partner1",
                 json={"target": "face", "sha256": "a" * 64 + "\n"})
    assert r.status_code == 422 and r.json()["fields"] == {"sha256": "invalid_format"}, r.text
    # a time with an offset whose UTC is before year 1 (or after 9999): a 500 on astimezone
    for bad in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        r = desk.api("GET", "/evidence", "supervisore1", params={"date_from": bad})
        assert r.status_code == 422, r.text
    raw = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    r = desk.api("POST", "/workstation-keys", "admin1", json={
        "workstation": "fuzz-ws-2", "public_key": base64.b64encode(raw).decode(),
        "not_before": "9999-12-31T23:59:59-05:00"})
    assert r.status_code == 422, r.text
    r = desk.api("POST", "/workstation-keys", "admin1", json={
        "workstation": "fuzz-ws-2", "public_key": base64.b64encode(raw).decode()})
    assert r.status_code == 201, r.text
    # a year before 1000 was written "393-11-15T…" (strftime's %Y): not RFC 3339
    r = _checked(api, "POST", "/api/v1/workstation-keys/{key_id}/revoke", desk.api(
        "POST", f"/workstation-keys/{r.json()['key_id']}/revoke", "admin1",
        json={"revoked_at": "0393-11-15T16:34:44+05:42"}))
    assert r.status_code == 200 and r.json()["revoked_at"] == "0393-11-15T10:52:44Z", r.text


# --- stateful: one resumable upload against a model ------------------------------------------

_offsets = st.sampled_from(["received", "received", "received", "zero", "random"])


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(payload=st.binary(min_size=1, max_size=300), right_sha=st.booleans(),
       steps=st.lists(st.tuples(_offsets, st.integers(-3, 10**6), st.integers(0, 160)),
                      max_size=8),
       bad_offset=st.sampled_from(["-1", "abc", "1e3", "", " 1", "0x10", "9" * 16]))
def test_resumable_upload_model(upload_session: tuple[Fixture, str], payload: bytes,
                                right_sha: bool, steps: list[tuple[str, int, int]],
                                bad_offset: str) -> None:
    """Open an upload, PUT chunks at the right offset or a wrong one, too long or empty,
    complete it: every answer is what a model of the upload predicts, and conforms."""
    fx, request_id = upload_session
    desk = fx.desk
    data = f"{uuid.uuid4()}:".encode() + payload  # unique: packages are unique per content
    sha = hashlib.sha256(data if right_sha else data + b"x").hexdigest()
    opened = _checked(fx, "POST", "/api/v1/evidence/uploads", desk.api(
        "POST", "/evidence/uploads", "partner2", json={
            "upload_key": f"model-{uuid.uuid4()}", "request_id": request_id,
            "filename": "model.sealed", "size": len(data), "sha256": sha}))
    assert opened.status_code == 201, opened.text
    upload_id = opened.json()["upload_id"]
    path = f"/evidence/uploads/{upload_id}"
    put_op = "/api/v1/evidence/uploads/{upload_id}"
    received = 0

    def put(offset: str, chunk: bytes) -> requests.Response:
        return _checked(fx, "PUT", put_op, desk.api("PUT", path, "partner2",
                                                    params={"offset": offset}, data=chunk))

    r = put(bad_offset, data[:1])
    assert r.status_code == 422, r.text
    for kind, random_offset, length in steps:
        offset = {"received": received, "zero": 0, "random": random_offset}[kind]
        chunk = data[max(0, offset):max(0, offset) + length] if offset >= 0 else data[:length]
        if length > len(chunk):
            chunk += bytes(length - len(chunk))  # past the declared size
        r = put(str(offset), chunk)
        if offset < 0 or not chunk:
            assert r.status_code == 422, r.text
        elif offset != received:
            assert r.status_code == 409 and r.json()["received"] == received, r.text
        elif offset + len(chunk) > len(data):
            assert r.status_code == 422, r.text
        else:
            assert r.status_code == 200, r.text
            received += len(chunk)
            assert r.json()["received"] == received
    done = _checked(fx, "POST", "/api/v1/evidence/uploads/{upload_id}/complete",
                    desk.api("POST", f"{path}/complete", "partner2"))
    if received != len(data):
        assert done.status_code == 409, done.text
    elif not right_sha:
        assert done.status_code == 422 and done.json()["error"] == "sha256_mismatch", done.text
    else:
        assert done.status_code == 200 and done.json()["sha256"] == sha, done.text


def _checked(fx: Fixture, method: str, template: str, resp: requests.Response
             ) -> requests.Response:
    assert resp.status_code < 500, resp.text
    fx.schema[template][method].validate_response(resp)
    return resp


@pytest.fixture(scope="module")
def upload_session(api: Fixture) -> tuple[Fixture, str]:
    """A request in an in-person session of partner2 (partner1's is fuzzed meanwhile)."""
    return api, api.desk.start_in_person("partner2")["id"]


def test_an_offset_of_unicode_digits_is_a_422(desk_server: DeskServer) -> None:
    """(On a service of its own: the module's service must log no internal error.)"""
    req = desk_server.start_in_person("partner1")
    up = _upload(desk_server, "partner1", req["id"], b"xy", complete=False)
    r = desk_server.api("PUT", f"/evidence/uploads/{up['upload_id']}", "partner1",
                        params={"offset": "²"}, data=b"x")
    assert r.status_code == 422, r.text


# --- the /static/ files -----------------------------------------------------------------------

_STATIC_SEGMENTS = st.one_of(
    st.text(min_size=1, max_size=300), st.just("a" * 256), st.just("é" * 130),
    st.sampled_from(["..", ".", "%2e%2e", "%2F", "%00", "a%00b", "\\..\\", "~", "join.html",
                     "js", "app.js", ".git", "-", "_"]))


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(segments=st.lists(_STATIC_SEGMENTS, min_size=1, max_size=12))
def test_any_static_path_is_a_file_or_a_404(api: Fixture, segments: list[str]) -> None:
    """Too long for the filesystem, NUL bytes, encoded slashes, ``..``, hidden files: a 404
    (or 400 for what is not HTTP), never a 500, never a file outside server/static/."""
    from urllib.parse import quote

    desk = api.desk
    for raw in ("/".join(segments), "/".join(quote(s, safe="") for s in segments)):
        r = desk.http.get(f"{desk.base_url}/static/{raw}", timeout=30, allow_redirects=False)
        assert r.status_code in (200, 400, 404), (raw[:200], r.status_code, r.text[:200])
        if r.status_code == 200:
            assert b"class Store" not in r.content and b"PRIVATE KEY" not in r.content


def test_static_answers() -> None:
    """The handler on its own (no process): long names, NUL bytes, ``..`` give None."""
    from server.pages import STATIC_DIR, static_file_path

    assert static_file_path("join.html") == STATIC_DIR / "join.html"
    assert static_file_path("js/app.js") == STATIC_DIR / "js" / "app.js"
    for bad in ("a" * 300, "js/" + "b" * 256, "a\x00b", "..", "js/../join.html", ".hidden",
                "js", "", "/etc/passwd", "js//app.js", "js\\app.js", "../server/store.py",
                "a/" * 20 + "x"):
        assert static_file_path(bad) is None, bad
