"""The console core wired together as the UI does it, against a real desk service: take the
next applicant, run the 13 AgID steps (real SMS code and e-mail link), approve, deliver the
decision through the outbox worker."""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

import pytest
import requests

from console.approval import check_approval, report_captures, report_liveness
from console.client import DeskClient
from console.errors import ApprovalRefused
from console.models import RequestState
from console.outbox import (
    DECISION_KIND,
    Backoff,
    Outbox,
    OutboxItem,
    OutboxWorker,
    decision_handler,
)
from console.script import StepKind, script_for
from console.session import Session, SessionEvent, StepStatus
from tests.fixtures.desk import DeskServer, upload_recording
from tests.test_core_helpers import PASSWORD, consent


def test_spid_session_end_to_end(desk_server: DeskServer, tmp_path: Path) -> None:
    server = desk_server
    client = DeskClient(server.base_url)
    client.login("operatore1", PASSWORD, server._fresh_code("operatore1"))
    seeded = server.seed_request("ROSSI")
    consent(server.ws_url, seeded["join_token"])
    assignment = client.take_next()
    assert assignment is not None
    request = assignment.request

    events: list[SessionEvent] = []
    session = Session(request.id, script_for(request.product), session_id=assignment.session_id,
                      listeners=[events.append])
    session.start()
    values = {"operator_name": client.operator.display_name if client.operator else "",
              "applicant_name": f"{request.applicant.given_names} {request.applicant.surname}"}
    assert "Operatore Uno" in session.script.step("b").say("it", values)

    while session.current.status is StepStatus.PENDING:
        step = session.current.step
        if step.kind is StepKind.OTP:
            session.otp_sent(client.send_otp(request.id))
            session.email_sent(client.send_email_verification(request.id))
            body = server.sms_outbox(request.applicant.mobile)[-1]["body"]
            code = re.search(r"\b(\d{6})\b", body)
            assert code is not None
            mail = server.email_outbox(request.applicant.email)[-1]["body"]
            link = re.search(r"https?://\S+/verify-email/\S+", mail)
            assert link is not None
            requests.get(link.group(0), timeout=10).raise_for_status()
            session.email_status(client.email_status(request.id))
            session.otp_checked(client.verify_otp(request.id, code.group(1)))
            continue
        if step.kind is StepKind.CAPTURE:
            for target in step.targets:
                data = f"still {target.value}".encode()
                path = tmp_path / f"{step.id}-{target.value}.png"
                path.write_bytes(data)
                session.attach_capture(step.id, target, width=1920, height=1080,
                                       sha256=hashlib.sha256(data).hexdigest(), path=path)
        if step.kind is StepKind.RANDOM_ACTION:
            for action in session.random_actions:
                session.confirm_random_action(action.code)
        session.pass_step()

    assert session.email.confirmed and session.otp.verified
    # what the service must hold before it accepts the approval, sent by the console's code
    with pytest.raises(ApprovalRefused) as early:
        check_approval(client, request.id)
    assert "otp_verified" not in early.value.missing and "consent" not in early.value.missing
    assert report_captures(client, request.id, session.captures) == len(session.captures)
    with pytest.raises(ApprovalRefused) as no_recording:
        check_approval(client, request.id)
    assert no_recording.value.missing == ("liveness_check", "recording_uploaded")
    assert report_liveness(client, request.id, {"verdict": "pass", "score": 1.0, "challenges": [
        {"code": "look_up"}, {"code": "blink"}]})
    upload_recording(client, request.id, tmp_path / "evidence")
    check_approval(client, request.id)
    decision = session.approve()

    outbox = Outbox.in_data_dir(tmp_path / "data", backoff=Backoff(initial=0.1, jitter=0))
    outbox.register(DECISION_KIND, decision_handler(client))
    delivered = threading.Event()
    results: list[OutboxItem] = []

    def on_item(item: OutboxItem) -> None:
        results.append(item)
        delivered.set()

    outbox.add_listener(on_item)
    worker = OutboxWorker(outbox, poll_max=1.0)
    worker.start()
    try:
        outbox.enqueue(decision.OUTBOX_KIND, decision.to_payload(), decision.decision_id)
        assert delivered.wait(30)
    finally:
        worker.stop()
        outbox.close()
    assert results[0].result is not None and results[0].result["state"] == "approved"
    assert client.get_request(request.id).state is RequestState.APPROVED
    types = [e.type for e in events]
    assert types.count("otp_sent") == 1 and "email_confirmed" in types
    assert types[-1] == "session_decided"
    client.logout()
