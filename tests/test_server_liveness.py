"""The service's liveness rule (ETSI TS 119 461 v2) against a real desk service: a video
session is approved only after a passed liveness check, or after a supervisor's own second look
on a check that did not pass (four eyes); the operator cannot give it to themself, and a report
the service cannot read is refused without changing anything."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.fixtures.desk import DeskServer

OP = "operatore1"


def _decide(desk: DeskServer, req_id: str) -> Any:
    return desk.api("POST", f"/requests/{req_id}/decision", OP, json={
        "decision_id": str(uuid.uuid4()), "decision": "approved", "reason_code": "ok"})


def _liveness(desk: DeskServer, req_id: str, verdict: str, user: str = OP) -> Any:
    return desk.api("POST", f"/requests/{req_id}/liveness", user, json={
        "verdict": verdict, "challenges": ["turn_right", "look_up", "blink"], "score": 0.5})


def _ready_but_liveness(desk: DeskServer) -> dict[str, Any]:
    """A video session with everything an approval needs except what liveness decides."""
    req = desk.start_video_session(OP)
    desk.make_approvable(req["id"])  # this reports a passed check, like the console does...
    assert _liveness(desk, req["id"], "fail").status_code == 201  # ...then a failed one
    return req


def test_a_failed_check_blocks_until_a_supervisors_second_look(desk_server: DeskServer) -> None:
    desk = desk_server
    req = _ready_but_liveness(desk)
    r = _decide(desk, req["id"])
    assert r.status_code == 409 and r.json()["missing"] == ["liveness_passed_or_second_look"]
    # the operator cannot look a second time at their own session
    r = desk.api("POST", f"/requests/{req['id']}/second-look", OP, json={"subject": "liveness"})
    assert r.status_code == 403
    # a second look on the faces is not one on liveness
    r = desk.api("POST", f"/requests/{req['id']}/second-look", "supervisore1",
                 json={"subject": "face_mismatch"})
    assert r.status_code == 201, r.text
    assert _decide(desk, req["id"]).status_code == 409
    r = desk.api("POST", f"/requests/{req['id']}/second-look", "supervisore1",
                 json={"subject": "liveness"})
    assert r.status_code == 201, r.text
    rows = desk.sql("SELECT kind FROM request_events WHERE request_id = :r ORDER BY id",
                    r=req["id"])
    assert [k for (k,) in rows if k in ("liveness", "second_look")] == [
        "liveness", "liveness", "second_look", "second_look"]
    r = _decide(desk, req["id"])
    assert r.status_code == 200, r.text


def test_a_later_check_counts_and_a_new_failure_needs_a_new_look(desk_server: DeskServer) -> None:
    desk = desk_server
    req = _ready_but_liveness(desk)
    assert desk.api("POST", f"/requests/{req['id']}/second-look", "supervisore1",
                    json={"subject": "liveness"}).status_code == 201
    assert _liveness(desk, req["id"], "inconclusive").status_code == 201  # after the look
    r = _decide(desk, req["id"])
    assert r.status_code == 409 and r.json()["missing"] == ["liveness_passed_or_second_look"]
    assert _liveness(desk, req["id"], "pass").status_code == 201
    assert _decide(desk, req["id"]).status_code == 200


@pytest.mark.parametrize("body", [
    {"verdict": "maybe", "challenges": ["blink"]},
    {"verdict": "pass", "challenges": []},
    {"verdict": "pass", "challenges": ["wink"]},
    {"verdict": "pass", "challenges": "blink"},
    {"verdict": "pass", "challenges": ["blink"], "score": 7},
    {"verdict": "pass", "challenges": ["blink"], "extra": 1},
])
def test_malformed_reports_are_refused(desk_server: DeskServer, body: dict[str, Any]) -> None:
    desk = desk_server
    req = desk.start_video_session(OP)
    r = desk.api("POST", f"/requests/{req['id']}/liveness", OP, json=body)
    assert r.status_code == 422 and r.json()["error"] == "validation_failed"
    rows = desk.sql("SELECT kind FROM request_events WHERE request_id = :r AND kind = "
                    "'liveness'", r=req["id"])
    assert rows == []


def test_only_the_sessions_operator_reports_and_only_supervisors_look(
    desk_server: DeskServer,
) -> None:
    desk = desk_server
    req = desk.start_video_session(OP)
    assert _liveness(desk, req["id"], "pass", user="operatore2").status_code == 403
    assert _liveness(desk, req["id"], "pass", user="partner1").status_code == 403
    for user in ("operatore2", "partner1", "formatore1", "admin1"):
        r = desk.api("POST", f"/requests/{req['id']}/second-look", user,
                     json={"subject": "liveness"})
        assert r.status_code == 403, (user, r.text)
