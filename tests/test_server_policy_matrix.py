"""Every route of the OpenAPI document × every role × own/other's resource, against a real service.

The expectation comes from the role table (server/policy.py RULES): a caller the table does not
grant is refused by the policy (401 without a token, 403 otherwise, with a policy error code), and a
caller it grants is never refused by the policy (whatever the handler then answers: 200, 409, 422…).
Bodies are probes that fail validation after authorisation, so the walk changes (almost) nothing.
On top, hand-written properties that must hold whatever the table says: a trainer never reads live
personal data, booking codes or the queue; an operator never reads another operator's applicant.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.policy import CREDENTIAL_ACTIONS, PUBLIC, ROUTES, RULES, Scope
from tests.fixtures.desk import DeskServer, start_desk_server

CALLERS = ("anonymous", "operatore1", "operatore2", "partner1", "partner2", "formatore1",
           "supervisore1", "admin1")
POLICY_CODES = {"unauthorized", "forbidden", "not_your_session", "not_your_point",
                "not_your_upload"}
#: routes the walk does not call, and why (each is tested elsewhere)
SKIPPED = {
    ("POST", "/api/v1/auth/logout"): "revokes the caller's tokens: tests/test_server_auth.py",
}


@dataclass
class World:
    desk: DeskServer
    video: dict[str, Any]       # a video session of operatore1
    inperson: dict[str, Any]    # an in-person check of partner1 (IC-ROMA-0001)
    upload_op: str              # opened by operatore1 on ``video``
    upload_partner: str         # opened by partner1 on ``inperson``
    package: str                # stored from partner1's upload
    dummy_operator: int
    dummy_key: str
    ids: dict[str, int]
    points: dict[str, str | None]


def _open_upload(desk: DeskServer, username: str, req_id: str, data: bytes) -> dict[str, Any]:
    body = {"upload_key": f"matrix-{uuid.uuid4()}", "request_id": req_id, "filename": "e.rcp",
            "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    r = desk.api("POST", "/evidence/uploads", username, json=body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    desk = start_desk_server(tmp_path_factory.mktemp("matrix"))
    try:
        video = desk.start_video_session("operatore1")
        inperson = desk.start_in_person("partner1")
        up_op = _open_upload(desk, "operatore1", video["id"], b"operator evidence")["upload_id"]
        data = b"partner evidence"
        up = _open_upload(desk, "partner1", inperson["id"], data)
        r = desk.api("PUT", f"/evidence/uploads/{up['upload_id']}", "partner1",
                     params={"offset": 0}, data=data)
        assert r.status_code == 200, r.text
        pkg = desk.api("POST", f"/evidence/uploads/{up['upload_id']}/complete", "partner1")
        assert pkg.status_code == 200, pkg.text
        # a second partner upload stays open for the chunk/complete routes
        up_partner = _open_upload(desk, "partner1", inperson["id"], b"more")["upload_id"]
        dummy = desk.api("POST", "/operators", "admin1", json={
            "username": "matrix.dummy", "display_name": "Dummy", "role": "operator",
            "password": "Una-Password-Lunga-1"})
        assert dummy.status_code == 201, dummy.text
        raw = Ed25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        key = desk.api("POST", "/workstation-keys", "admin1", json={
            "workstation": "matrix-ws", "public_key": base64.b64encode(raw).decode()})
        assert key.status_code == 201, key.text
        ids = {o["username"]: o["id"] for o in desk.seed["operators"]}
        points = {o["username"]: o.get("point_id") for o in desk.seed["operators"]}
        yield World(desk, video, inperson, up_op, up_partner, pkg.json()["package_id"],
                    dummy.json()["id"], key.json()["key_id"], ids, points)
    finally:
        desk.stop()


def _documented_routes() -> list[tuple[str, str]]:
    from server.openapi import openapi_document

    doc = openapi_document(demo=True)
    out = []
    for path, item in doc["paths"].items():
        for method in item:
            if path.startswith("/api/v1/") and not path.startswith("/api/v1/dev/"):
                out.append((method.upper(), path))
    return sorted(out)


@dataclass(frozen=True)
class Case:
    path: str
    params: dict[str, str]
    body: Any
    #: who the resource belongs to: ("session", username) | ("point", point) |
    #: ("upload", username) | ("self", operator id) | None (no owner: a collection)
    owner: tuple[str, Any] | None
    action: str


def _cases(w: World, method: str, template: str) -> list[Case]:
    action = ROUTES[(method, template)]
    probe: Any = {"__probe__": True} if method in ("POST", "PUT") else None
    variants: list[tuple[str, tuple[str, Any] | None, dict[str, str]]] = [(template, None, {})]
    if "{request_id}" in template:
        variants = [
            (template.replace("{request_id}", w.video["id"]), ("session", "operatore1"), {}),
            (template.replace("{request_id}", w.inperson["id"]),
             ("point", w.points["partner1"]), {}),
        ]
    elif "{upload_id}" in template:
        variants = [
            (template.replace("{upload_id}", w.upload_op), ("upload", "operatore1"), {}),
            (template.replace("{upload_id}", w.upload_partner), ("upload", "partner1"), {}),
        ]
    elif "{package_id}" in template:
        variants = [(template.replace("{package_id}", w.package), None, {})]
    elif "{key_id}" in template:
        variants = [(template.replace("{key_id}", w.dummy_key), None, {})]
    elif "{operator_id}" in template:
        variants = [(template.replace("{operator_id}", str(w.dummy_operator)),
                     ("self", w.dummy_operator), {})]
    cases = []
    for path, owner, params in variants:
        body = probe
        if method == "PUT":
            params, body = {"offset": "0"}, b"x"
        cases.append(Case(path, params, body, owner, action))
    if action == "requests.find":
        cases = [Case(template, {"booking_code": w.video["booking_code"]}, None, None,
                      "requests.find_by_booking_code"),
                 Case(template, {"state": "in_call"}, None, None, "requests.list_by_state")]
    if action == "evidence.open_upload":
        cases = [Case(template, {}, {"upload_key": f"m-{uuid.uuid4()}", "request_id": rid,
                                     "filename": "e.rcp", "size": 4, "sha256": "0" * 64},
                      owner, action)
                 for rid, owner in ((w.video["id"], ("session", "operatore1")),
                                    (w.inperson["id"], ("point", w.points["partner1"])))]
    return cases


def _granted(w: World, caller: str, case: Case) -> bool:
    if case.action in PUBLIC or case.action in CREDENTIAL_ACTIONS:
        return True
    if caller == "anonymous":
        return False
    role = next(o["role"] for o in w.desk.seed["operators"] if o["username"] == caller)
    scope = RULES[case.action].get(role)
    if scope is None:
        return False
    if scope in (Scope.ANY, Scope.ANONYMISED):
        return True
    owner = case.owner
    if owner is None:
        return True
    kind, who = owner
    if scope is Scope.OWN_SESSION:
        return kind == "session" and who == caller
    if scope is Scope.OWN_POINT:
        return kind == "point" and who == w.points[caller]
    if scope is Scope.OWN_UPLOAD:
        return kind == "upload" and who == caller
    if scope is Scope.SELF:
        return kind == "self" and who == w.ids[caller]
    raise AssertionError(scope)


def _call(w: World, caller: str, method: str, case: Case) -> Any:
    username = None if caller == "anonymous" else caller
    kwargs: dict[str, Any] = {"params": case.params}
    if isinstance(case.body, bytes):
        kwargs["data"] = case.body
    elif case.body is not None:
        kwargs["json"] = case.body
    return w.desk.api(method, case.path.removeprefix("/api/v1"), username, **kwargs)


def _denied_by_policy(resp: Any) -> bool:
    if resp.status_code not in (401, 403):
        return False
    try:
        return resp.json().get("error") in POLICY_CODES
    except ValueError:
        return False


ROUTE_IDS = [f"{m} {p}" for m, p in _documented_routes()]


def test_every_documented_route_has_an_action() -> None:
    missing = [(m, p) for m, p in _documented_routes() if (m, p) not in ROUTES]
    assert missing == []
    for action in set(ROUTES.values()) - PUBLIC - CREDENTIAL_ACTIONS - {"requests.find"}:
        assert action in RULES, action


@pytest.mark.parametrize("route", ROUTE_IDS)
def test_route_follows_the_role_table(world: World, route: str) -> None:
    method, template = route.split(" ", 1)
    if (method, template) in SKIPPED:
        pytest.skip(SKIPPED[(method, template)])
    problems = []
    for case in _cases(world, method, template):
        for caller in CALLERS:
            resp = _call(world, caller, method, case)
            granted = _granted(world, caller, case)
            denied = _denied_by_policy(resp)
            if resp.status_code >= 500:
                problems.append(f"{caller} {case.path}: {resp.status_code}")
            elif granted and denied:
                problems.append(f"{caller} {case.path}: refused {resp.status_code} {resp.text}")
            elif not granted and not denied:
                problems.append(f"{caller} {case.path}: NOT refused "
                                f"({resp.status_code} {resp.text[:120]})")
            elif not granted and caller == "anonymous" and resp.status_code != 401:
                problems.append(f"anonymous {case.path}: {resp.status_code}, expected 401")
    assert problems == []


def test_no_one_reads_another_s_applicant(world: World) -> None:
    """The attacker's view: a second operator, a partner elsewhere, a trainer, an admin."""
    desk, video, inperson = world.desk, world.video, world.inperson
    cf_video = desk.api("GET", f"/requests/{video['id']}", "supervisore1").json()
    cf = cf_video["applicant"]["codice_fiscale"]
    for caller in ("operatore2", "partner1", "partner2", "formatore1", "admin1"):
        r = desk.api("GET", f"/requests/{video['id']}", caller)
        assert r.status_code in (403, 404) and cf not in r.text, caller
    for caller in ("operatore1", "operatore2", "partner2", "formatore1", "admin1"):
        r = desk.api("GET", f"/requests/{inperson['id']}", caller)
        assert r.status_code in (403, 404), caller
    # the owner does read it
    assert desk.api("GET", f"/requests/{video['id']}", "operatore1").status_code == 200
    assert desk.api("GET", f"/requests/{inperson['id']}", "partner1").status_code == 200
    # a trainer never sees the queue (booking codes) nor live requests
    for path in ("/queue", f"/requests?booking_code={video['booking_code']}",
                 "/requests?state=in_call"):
        r = desk.api("GET", path, "formatore1")
        assert r.status_code == 403 and video["booking_code"] not in r.text, path
    # another operator can neither send codes to, burn the attempts of, nor throw out A's
    # applicant, nor open evidence on A's request
    sms_before = len(desk.sms_outbox(cf_video["applicant"]["mobile"]))
    for path, body in ((f"/requests/{video['id']}/otp", None),
                       (f"/requests/{video['id']}/otp/verify", {"code": "123456"}),
                       (f"/requests/{video['id']}/join-link", None),
                       (f"/requests/{video['id']}/decision",
                        {"decision_id": str(uuid.uuid4()), "decision": "rejected",
                         "reason_code": "other"})):
        r = desk.api("POST", path, "operatore2", json=body)
        assert r.status_code == 403 and r.json()["error"] == "not_your_session", path
    r = desk.api("POST", "/evidence/uploads", "operatore2", json={
        "upload_key": f"x-{uuid.uuid4()}", "request_id": video["id"], "filename": "e.rcp",
        "size": 3, "sha256": "0" * 64})
    assert r.status_code == 403
    r = desk.api("PUT", f"/evidence/uploads/{world.upload_op}", "operatore2",
                 params={"offset": 0}, data=b"x")
    assert r.status_code == 403 and r.json()["error"] == "not_your_upload"
    # none of the attempts above sent a code
    assert len(desk.sms_outbox(cf_video["applicant"]["mobile"])) == sms_before


def test_route_table_is_the_documented_one() -> None:
    """docs/SECURITY.md and docs/PROTOCOL.md print the role table generated from the code;
    they must agree with it."""
    from server.policy import table_markdown

    for name in ("SECURITY.md", "PROTOCOL.md"):
        doc = (Path(__file__).resolve().parents[1] / "docs" / name).read_text("utf-8")
        assert table_markdown().strip() in doc, name


async def _ws_messages(desk: DeskServer, username: str, messages: list[dict[str, Any]],
                       wait_s: float = 1.5) -> list[dict[str, Any]]:
    import asyncio

    import aiohttp

    token = await asyncio.to_thread(desk.token, username)
    got: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"{desk.ws_url}/ws/operator",
                                   headers={"Authorization": f"Bearer {token}"})
        for m in messages:
            await ws.send_json(m)
        loop = asyncio.get_running_loop()
        end = loop.time() + wait_s
        while (left := end - loop.time()) > 0:
            try:
                msg = await ws.receive(timeout=left)
            except TimeoutError:
                break
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            got.append(msg.json())
        await ws.close()
    return got


async def test_websocket_messages_follow_the_role_table(world: World) -> None:
    """Queue events only to roles that may see the queue; signalling only on one's session."""
    desk = world.desk
    for username in ("formatore1", "partner1", "admin1"):
        got = await _ws_messages(desk, username, [{"type": "subscribe_queue"}])
        assert [m["type"] for m in got] == ["error"], (username, got)
        assert got[0]["code"] == "forbidden"
    got = await _ws_messages(desk, "supervisore1", [{"type": "subscribe_queue"}])
    assert got and got[0]["type"] == "queue"
    offer = {"type": "offer", "session_id": world.video["session_id"],
             "sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}
    got = await _ws_messages(desk, "operatore2", [offer])
    assert got and got[0]["code"] == "not_your_session", got
    got = await _ws_messages(desk, "formatore1", [offer])
    assert got and got[0]["code"] == "forbidden", got
