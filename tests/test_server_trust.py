"""Decisions the service can stand behind, and SMS codes that cannot be brute-forced.

Against a real desk service process: the service itself must have recorded consent, a verified
code of this session, the captures and the recording before it accepts an approval; codes are
capped per request, wrong guesses are capped across all codes, history is append-only.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.fixtures.desk import DeskServer, start_desk_server

OP = "operatore1"
TARGETS = ("document_front", "document_back", "face", "health_card")


def _decide(desk: DeskServer, req_id: str, decision: str = "approved", reason: str = "ok",
            username: str = OP) -> Any:
    return desk.api("POST", f"/requests/{req_id}/decision", username, json={
        "decision_id": str(uuid.uuid4()), "decision": decision, "reason_code": reason})


def _send(desk: DeskServer, req: dict[str, Any]) -> Any:
    return desk.api("POST", f"/requests/{req['id']}/otp", OP)


def _mobile(desk: DeskServer, req: dict[str, Any]) -> str:
    return str(desk.api("GET", f"/requests/{req['id']}", OP).json()["applicant"]["mobile"])


def _last_code(desk: DeskServer, req: dict[str, Any]) -> str:
    body = desk.sms_outbox(_mobile(desk, req))[-1]["body"]
    found = re.search(r"\b(\d{6})\b", body)
    assert found
    return found.group(1)


def _verify(desk: DeskServer, req: dict[str, Any], code: str) -> Any:
    return desk.api("POST", f"/requests/{req['id']}/otp/verify", OP, json={"code": code})


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _events(desk: DeskServer, req_id: str) -> list[tuple[int, str]]:
    return [(int(r[0]), str(r[1])) for r in desk.sql(
        "SELECT id, kind FROM request_events WHERE request_id = :r ORDER BY id", r=req_id)]


def _record_everything(desk: DeskServer, req: dict[str, Any], username: str = OP) -> None:
    desk.record_captures_and_recording(req["id"], username, TARGETS)


def test_approval_needs_what_the_service_recorded(desk_server: DeskServer) -> None:
    desk = desk_server
    req = desk.start_video_session(OP)
    r = _decide(desk, req["id"])
    assert r.status_code == 409 and r.json()["error"] == "approval_refused"
    assert set(r.json()["missing"]) == {"otp_verified", "recording_uploaded", "liveness_check",
                                        *(f"capture:{t}" for t in TARGETS)}
    # the SMS code: sent and verified in this session
    assert _send(desk, req).status_code == 201
    assert _verify(desk, req, _last_code(desk, req)).json()["verified"] is True
    r = _decide(desk, req["id"])
    assert r.status_code == 409 and "otp_verified" not in r.json()["missing"]
    # captures alone are not enough: the recording must be stored at the service
    for target in TARGETS:
        desk.api("POST", f"/requests/{req['id']}/captures", OP, json={
            "target": target, "sha256": "ab" * 32})
    r = _decide(desk, req["id"])
    assert r.status_code == 409
    assert r.json()["missing"] == ["liveness_check", "recording_uploaded"]
    # a package upload is no recording
    _record_everything(desk, req)
    r = _decide(desk, req["id"])
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved"
    # rejecting and suspending need nothing recorded
    other = desk.start_video_session(OP)
    assert _decide(desk, other["id"], "rejected", "document_expired").status_code == 200


def test_a_code_verified_in_another_session_does_not_count(desk_server: DeskServer) -> None:
    desk = desk_server
    req = desk.start_video_session(OP)
    assert _send(desk, req).status_code == 201
    assert _verify(desk, req, _last_code(desk, req)).json()["verified"] is True
    _record_everything(desk, req)
    assert _decide(desk, req["id"], "suspended", "connection_lost").status_code == 200
    # the applicant comes back: a new session, a new code is needed
    r = desk.api("POST", f"/requests/{req['id']}/in-person", "partner1")
    assert r.status_code == 201
    r = _decide(desk, req["id"], username="partner1")
    assert r.status_code == 409
    assert set(r.json()["missing"]) == {"card_read_or_document_check", "signed_form"}


def test_in_person_approval_needs_card_or_documents_and_signed_form(desk_server: DeskServer
                                                                     ) -> None:
    desk = desk_server
    req = desk.start_in_person("partner1")
    path = f"/requests/{req['id']}/in-person-checks"
    r = desk.api("POST", path, "partner1", json={"check": "card_read", "result": "failed"})
    assert r.status_code == 201
    r = _decide(desk, req["id"], username="partner1")
    assert set(r.json()["missing"]) == {"card_read_or_document_check", "signed_form"}
    assert desk.api("POST", path, "partner1", json={"check": "card_read", "result": "ok"}
                    ).status_code == 201
    r = _decide(desk, req["id"], username="partner1")
    assert r.status_code == 409 and r.json()["missing"] == ["signed_form"]
    bad = desk.api("POST", path, "partner1", json={"check": "vibes", "result": "ok"})
    assert bad.status_code == 422 and bad.json()["fields"] == {"check": "invalid_value"}
    assert desk.api("POST", path, "partner2", json={"check": "signed_form", "result": "ok"}
                    ).status_code == 403
    assert desk.api("POST", path, "partner1", json={"check": "signed_form", "result": "ok",
                                                    "sha256": "cd" * 32}).status_code == 201
    assert _decide(desk, req["id"], username="partner1").status_code == 200


def test_email_confirmation_when_the_product_needs_it(tmp_path: Any) -> None:
    desk = start_desk_server(tmp_path / "desk", "--require-email", "spid_personal")
    try:
        req = desk.start_video_session(OP)
        assert _send(desk, req).status_code == 201
        assert _verify(desk, req, _last_code(desk, req)).json()["verified"] is True
        _record_everything(desk, req)
        r = _decide(desk, req["id"])
        assert r.status_code == 409 and r.json()["missing"] == ["email_confirmed"]
        assert desk.api("POST", f"/requests/{req['id']}/email-verification", OP
                        ).status_code == 201
        email = desk.api("GET", f"/requests/{req['id']}", OP).json()["applicant"]["email"]
        link = re.search(r"https?://\S+/verify-email/\S+", desk.email_outbox(email)[-1]["body"])
        assert link
        assert desk.http.get(link.group(0), timeout=10).status_code == 200
        assert _decide(desk, req["id"]).status_code == 200
    finally:
        desk.stop()


def test_codes_per_request_are_capped(desk_server: DeskServer) -> None:
    desk = desk_server
    req = desk.start_video_session(OP)
    for i in range(5):
        r = _send(desk, req)
        assert r.status_code == 201, (i, r.text)
        assert r.json()["codes_left"] == 4 - i
        desk.advance_clock(31)
    r = _send(desk, req)
    assert r.status_code == 429 and r.json()["error"] == "otp_codes_exhausted"
    assert len(desk.sms_outbox(_mobile(desk, req))) == 5


def test_wrong_guesses_are_capped_across_codes(desk_server: DeskServer) -> None:
    desk = desk_server
    req = desk.start_video_session(OP)
    results = []
    for _ in range(3):  # a fresh code after each wrong guess does not reset the count
        assert _send(desk, req).status_code == 201
        results.append(_verify(desk, req, _wrong(_last_code(desk, req))).json())
        desk.advance_clock(31)
    assert [r["attempts_left"] for r in results] == [2, 1, 0]
    assert results[-1]["suspended"] is True
    details = desk.api("GET", f"/requests/{req['id']}", "supervisore1").json()
    assert details["state"] == "suspended"
    assert details["history"][-1]["reason"] == "otp_failed"
    assert _send(desk, req).status_code == 409


def test_a_failed_resend_keeps_the_valid_code_and_history(tmp_path: Any) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    fail = threading.Event()
    codes: list[str] = []

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            import json

            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if fail.is_set():
                self.send_response(500)
            else:
                found = re.search(r"\b(\d{6})\b", json.dumps(body))
                if found:
                    codes.append(found.group(1))
                self.send_response(202)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    desk = start_desk_server(tmp_path / "desk", "--sms-gateway-url", url)
    try:
        req = desk.start_video_session(OP)
        assert _send(desk, req).status_code == 201
        before = _events(desk, req["id"])
        fail.set()
        desk.advance_clock(31)
        r = _send(desk, req)
        assert r.status_code == 502
        after = _events(desk, req["id"])
        # append-only: nothing rewritten, the failure added
        assert after[:len(before)] == before
        assert [k for _, k in after[len(before):]] == ["otp_send_failed"]
        # the code the applicant holds still works
        assert _verify(desk, req, codes[0]).json()["verified"] is True
        # and a verified code cannot be superseded by a new one
        fail.clear()
        desk.advance_clock(31)
        r = _send(desk, req)
        assert r.status_code == 409 and r.json()["error"] == "otp_already_verified"
    finally:
        desk.stop()
        server.shutdown()
