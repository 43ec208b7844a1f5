"""The in-person decision goes through the durable outbox, as the remote one does: a desk outage
at the moment the partner decides loses nothing, and the evidence has the remote session's
schema (step entries with ``title``, ``status``, ``reason_code``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests

from console.evidence.keys import WorkstationKey
from console.flows.inperson import InPersonWorkflow
from console.models import ReasonCode
from console.outbox import Outbox, OutboxStatus, OutboxWorker
from console.specimens import DEMO_PERSON
from tests import test_core_helpers as helpers
from tests.test_core_helpers import DeskProcess

desk = helpers.desk
seeded_template = helpers.seeded_template


def _booking(desk: DeskProcess) -> dict[str, Any]:
    resp = requests.post(f"{desk.url}/api/v1/requests", json=DEMO_PERSON.request(), timeout=10)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


def _state(desk: DeskProcess, request_id: str) -> str:
    client = desk.login("supervisore1")
    try:
        _, data = client.call("GET", f"/requests/{request_id}", expected=(200,))
    finally:
        client.close()
    return str(data["state"])


def test_decision_kept_through_a_desk_outage_then_delivered_once(
    desk: DeskProcess, tmp_path: Path
) -> None:
    partner = desk.login("partner1")
    booking = _booking(desk)
    outbox = Outbox(tmp_path / "data" / "outbox.sqlite3")
    wf = InPersonWorkflow(
        partner, outbox=outbox,
        operator={"id": "p1", "username": "partner1", "role": "partner"},
        evidence_root=tmp_path / "evidence",
        workstation_key=WorkstationKey.load_or_create(tmp_path / "data"),
        work_dir=tmp_path / "work",
    )
    request = wf.look_up(booking["booking_code"])
    first_step = wf.script.steps[0].id
    wf.fail(first_step, ReasonCode.DOCUMENT_DAMAGED, "torn")

    desk.stop()  # the desk service goes away just as the partner decides
    result = wf.reject(ReasonCode.DOCUMENT_DAMAGED, "the document is torn")
    assert wf.decision_queued and wf.decision_pending
    assert result.state.value == "rejected"
    assert wf.decision is not None
    item = outbox.get(wf.decision.decision_id)
    assert item is not None and item.status is OutboxStatus.PENDING
    assert item.last_error == "server_unreachable"

    # the evidence is written as the remote session's: one schema
    assert wf.package is not None and wf.package.finalized
    audit = [json.loads(line) for line in
             (wf.package.folder / "audit.jsonl").read_text().splitlines()]
    steps = [e for e in audit if e.get("event") == "step"]
    assert steps, audit
    step = steps[0]["data"]
    assert step["step"] == first_step and step["status"] == "failed"
    assert step["reason_code"] == "document_damaged" and step["title"]
    assert "reason" not in step
    decision = json.loads((wf.package.folder / "decision.json").read_text())
    decision = decision.get("decision", decision)
    assert decision["decision"] == "rejected" and decision["reason_code"] == "document_damaged"

    desk.start()  # back on the same port and data
    worker = OutboxWorker(outbox, poll_max=0.2)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while wf.decision_pending and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert _state(desk, request.id) == "rejected"
    delivered = outbox.get(wf.decision.decision_id)
    assert delivered is not None and delivered.status is OutboxStatus.DONE
    # sending the same decision again changes nothing (same decision_id)
    assert wf.resend_decision().state.value == "rejected"
    outbox.close()
    partner.close()
