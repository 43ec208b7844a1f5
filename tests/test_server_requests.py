"""Identification requests: validation with field errors, booking codes, state machine,
decisions (idempotent), in-person checks. Against a real desk service process."""

from __future__ import annotations

import copy
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from server.validation import check_codice_fiscale
from tests.fixtures.desk import DeskServer, request_body


def test_codice_fiscale_check_and_omocodia() -> None:
    assert check_codice_fiscale("RSSMRA85D52H501P") is None
    assert check_codice_fiscale("RSSMRA85D52H501Q") == "invalid_check_char"
    # omocodia: the last digit 1 → M, check character recomputed
    assert check_codice_fiscale("RSSMRA85D52H50MH") is None
    # a letter left of a digit is not a valid omocode
    assert check_codice_fiscale("RSSMRA85D52HM01P") == "invalid_format"
    assert check_codice_fiscale("RSSMRA85Z52H501P") == "invalid_format"  # no month Z
    assert check_codice_fiscale("RSSMRA85D92H501P") == "invalid_format"  # day 92


def test_demo_request_is_seeded_with_the_protocol_identity(desk_server_shared: DeskServer
                                                           ) -> None:
    desk = desk_server_shared
    maria = desk.seed_request("ROSSI")
    r = desk.api("GET", f"/requests/{maria['id']}", "supervisore1")
    assert r.status_code == 200
    body = r.json()
    assert body["applicant"] == {
        "surname": "ROSSI", "given_names": "MARIA", "codice_fiscale": "RSSMRA85D52H501P",
        "birth_date": "1985-04-12", "birth_place": "ROMA (H501)", "sex": "F",
        "email": "maria.rossi@example.test", "mobile": "+393331234567"}
    assert body["document"] == {"type": "identity_card", "number": "CA00000AA",
                                "issuer": "COMUNE DI ROMA", "expiry_date": "2031-04-12"}
    assert body["product"] == "spid_personal"
    assert body["history"][0]["to"] == "registered"


def test_create_request_and_find_it_by_booking_code(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    created = desk.create_request()
    assert created["state"] == "registered"
    code = created["booking_code"]
    assert len(code) == 8 and not set(code) & set("01OILZ2S5B8G6")
    assert created["join_url"] == f"{desk.base_url}/join/{created['join_token']}"
    assert created["join_expires_at"].endswith("Z")
    spaced = f"{code[:4].lower()}-{code[4:]}"  # read over the phone, typed loosely
    r = desk.api("GET", "/requests", "partner1", params={"booking_code": spaced})
    assert r.status_code == 200
    assert [x["id"] for x in r.json()["requests"]] == [created["id"]]
    r = desk.api("GET", "/requests", "partner1", params={"booking_code": "ACDEFHJK"})
    assert r.json()["requests"] == []
    r = desk.api("GET", "/requests", "partner1", params={"booking_code": "x"})
    assert r.status_code == 422 and r.json()["fields"] == {"booking_code": "invalid_format"}
    assert desk.api("GET", f"/requests/{created['id']}").status_code == 401
    assert desk.api("GET", f"/requests/{created['id']}", "formatore1").status_code == 403


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = out
    for p in parents:
        node = node[p]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return out


_DELETE = object()


@pytest.mark.parametrize("path,value,field,code", [
    ("applicant.codice_fiscale", "RSSMRA85D52H501X", "applicant.codice_fiscale",
     "invalid_check_char"),
    ("applicant.codice_fiscale", "RSSMRA85D5", "applicant.codice_fiscale", "too_short"),
    ("applicant.codice_fiscale", "RSSMRA85D52H501P", "applicant.codice_fiscale",
     "mismatch_birth_date"),
    ("applicant.email", "maria@@example", "applicant.email", "invalid_format"),
    ("applicant.email", "maria.example.test", "applicant.email", "invalid_format"),
    ("applicant.mobile", "+33612345678", "applicant.mobile", "invalid_format"),
    ("applicant.mobile", "+390612345678", "applicant.mobile", "invalid_format"),
    ("applicant.birth_date", "1985-02-30", "applicant.birth_date", "invalid_format"),
    ("applicant.birth_date", "2999-01-01", "applicant.birth_date", "in_future"),
    ("applicant.sex", "X", "applicant.sex", "invalid_value"),
    ("applicant.surname", "", "applicant.surname", "required"),
    ("applicant.surname", "R0SSI", "applicant.surname", "invalid_format"),
    ("applicant.surname", 42, "applicant.surname", "invalid_type"),
    ("applicant.given_names", _DELETE, "applicant.given_names", "required"),
    ("applicant.nickname", "Mary", "applicant.nickname", "unknown_field"),
    ("product", "spid_for_pets", "product", "invalid_value"),
    ("document.type", "library_card", "document.type", "invalid_value"),
    ("document.expiry_date", "2001-01-01", "document.expiry_date", "expired"),
    ("document.number", "??", "document.number", "invalid_format"),
    ("document", "CA00000AA", "document", "invalid_type"),
    ("appointment_at", "tomorrow at ten", "appointment_at", "invalid_format"),
    ("appointment_at", "2001-01-01T10:00:00Z", "appointment_at", "in_past"),
    ("appointment_at", "2030-01-01T10:00:00", "appointment_at", "invalid_format"),
])
def test_invalid_fields_get_field_errors(desk_server_shared: DeskServer, path: str, value: Any,
                                         field: str, code: str) -> None:
    desk = desk_server_shared
    body = _with(request_body(7), path, value)
    r = desk.api("POST", "/requests", json=body)
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["error"] == "validation_failed"
    assert err["fields"][field] == code


def test_many_errors_are_reported_together_and_nothing_is_stored(desk_server_shared: DeskServer
                                                                 ) -> None:
    desk = desk_server_shared
    before = desk.api("GET", "/requests", "supervisore1", params={"state": "registered"}).json()
    r = desk.api("POST", "/requests", json={"applicant": {"email": "x"}, "product": 3})
    assert r.status_code == 422
    fields = r.json()["fields"]
    assert {"applicant.surname", "applicant.email", "product", "document"} <= set(fields)
    for raw in (b"{", b"[]", b"null", b"\xff\xfe", b""):
        r = desk.api("POST", "/requests", data=raw,
                     headers={"Content-Type": "application/json"})
        assert r.status_code == 400, raw
        assert r.json()["error"] == "invalid_json"
    r = desk.api("POST", "/requests", data=b'{"a": "' + b"x" * 300_000 + b'"}')
    assert r.status_code == 413
    after = desk.api("GET", "/requests", "supervisore1", params={"state": "registered"}).json()
    assert len(after["requests"]) == len(before["requests"])


def test_appointment_time_with_offset_is_stored_in_utc(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    day = (date.today() + timedelta(days=30)).isoformat()
    created = desk.create_request(appointment_at=f"{day}T10:30:00+02:00")
    r = desk.api("GET", f"/requests/{created['id']}", "supervisore1")
    assert r.json()["appointment_at"] == f"{day}T08:30:00Z"
    r = desk.api("POST", "/requests", json=request_body(appointment_at="2099-06-01T10:30:00Z"))
    assert r.json()["fields"] == {"appointment_at": "out_of_range"}


def _decision(desk: DeskServer, req_id: str, username: str, decision: str, reason: str,
              decision_id: str | None = None, **extra: Any) -> Any:
    return desk.api("POST", f"/requests/{req_id}/decision", username, json={
        "decision_id": decision_id or str(uuid.uuid4()), "decision": decision,
        "reason_code": reason, **extra})


def test_decisions_are_idempotent_and_final(desk_server: DeskServer) -> None:
    desk = desk_server
    partner = "partner1"
    req = desk.create_request()
    # no session yet: nothing to decide, and not the partner's request
    r = _decision(desk, req["id"], partner, "rejected", "other")
    assert r.status_code == 403 and r.json()["error"] == "not_your_point"
    r = _decision(desk, req["id"], "supervisore1", "rejected", "other")
    assert r.status_code == 409 and r.json()["error"] == "no_active_session"
    r = desk.api("POST", f"/requests/{req['id']}/in-person", partner)
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "in_person"
    # the request is in a call: a second in-person start is an illegal transition
    again = desk.api("POST", f"/requests/{req['id']}/in-person", partner)
    assert again.status_code == 409 and again.json()["error"] == "illegal_transition"
    # an operator, or a partner of another InfoCert Point, may not decide it
    r = _decision(desk, req["id"], "operatore1", "rejected", "other")
    assert r.status_code == 403 and r.json()["error"] == "not_your_session"
    r = _decision(desk, req["id"], "partner2", "rejected", "other")
    assert r.status_code == 403 and r.json()["error"] == "not_your_point"
    bad = _decision(desk, req["id"], partner, "approved", "suspected_fraud")
    assert bad.status_code == 422 and bad.json()["fields"] == {"reason_code": "invalid_value"}
    did = str(uuid.uuid4())
    first = _decision(desk, req["id"], partner, "rejected", "document_expired", did,
                      note="scaduto")
    assert first.status_code == 200
    second = _decision(desk, req["id"], partner, "rejected", "document_expired", did,
                       note="scaduto")
    assert second.status_code == 200 and second.json() == first.json()
    other = _decision(desk, req["id"], partner, "approved", "ok")
    assert other.status_code == 409 and other.json()["error"] == "already_decided"
    details = desk.api("GET", f"/requests/{req['id']}", "supervisore1").json()
    assert details["state"] == "rejected"
    assert details["decision"]["reason_code"] == "document_expired"
    assert details["history"][-1] == {**details["history"][-1], "from": "in_call",
                                      "to": "rejected", "actor": "operator:partner1"}
    # the join link is dead once decided
    assert desk.http.get(req["join_url"], timeout=10).status_code == 410
    r = desk.api("POST", f"/requests/{req['id']}/join-link", "supervisore1")
    assert r.status_code == 409 and r.json()["error"] == "request_closed"


@pytest.mark.parametrize("body,field", [
    ({"decision": "approved", "reason_code": "ok"}, "decision_id"),
    ({"decision_id": "not-a-uuid", "decision": "approved", "reason_code": "ok"}, "decision_id"),
    ({"decision_id": str(uuid.uuid4()), "decision": "maybe", "reason_code": "ok"}, "decision"),
    ({"decision_id": str(uuid.uuid4()), "decision": "rejected", "reason_code": "vibes"},
     "reason_code"),
])
def test_decision_fields_are_validated(desk_server_shared: DeskServer, body: dict,
                                       field: str) -> None:
    desk = desk_server_shared
    req = desk.seed_request("ROMANO")
    r = desk.api("POST", f"/requests/{req['id']}/decision", "supervisore1", json=body)
    assert r.status_code == 422 and field in r.json()["fields"]


def test_unknown_ids_are_404_not_500(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    for path in (f"/requests/{uuid.uuid4()}", "/requests/not-a-uuid",
                 f"/requests/{uuid.uuid4()}/email-verification"):
        r = desk.api("GET", path, "supervisore1")
        assert r.status_code == 404, path
        assert r.json()["error"].endswith("not_found")
    r = desk.api("POST", "/operators/99999/disable", "admin1")
    assert r.status_code == 404
    r = desk.api("GET", "/no/such/route", "supervisore1")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = desk.api("DELETE", "/queue", "supervisore1")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
