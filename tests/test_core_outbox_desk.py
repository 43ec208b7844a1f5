"""The decision outbox against a real desk service process: the service goes down and comes
back, and the console dies between sending and marking the item done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import requests

from console.client import DeskClient
from console.models import RequestState
from console.outbox import DECISION_KIND, Backoff, Outbox, OutboxStatus, decision_handler
from console.script import load_builtin_script
from console.session import Session
from tests import test_core_helpers as helpers
from tests.test_core_helpers import PASSWORD, ROOT, DeskProcess

desk = helpers.desk
seeded_template = helpers.seeded_template


class Clock:
    def __init__(self) -> None:
        self.t = 1_900_000_000.0

    def __call__(self) -> float:
        return self.t


def in_call(desk: DeskProcess) -> tuple[DeskClient, str]:
    """Applicant consents, operator takes them: the request is in_call."""
    client = desk.login("operatore1")
    request = desk.seed["requests"][0]
    desk.consent(request["join_token"])
    assignment = client.take_next()
    assert assignment is not None and assignment.request.id == request["id"]
    return client, request["id"]


def decisions_on_service(desk: DeskProcess, client: DeskClient, request_id: str) -> dict:
    r = requests.get(f"{desk.url}/api/v1/requests/{request_id}",
                     headers={"Authorization": f"Bearer {client.access_token()}"}, timeout=5)
    r.raise_for_status()
    return r.json()


def test_service_down_kept_then_delivered_once(desk: DeskProcess, tmp_path: Path) -> None:
    client, request_id = in_call(desk)
    session = Session(request_id, load_builtin_script("spid_personal"))
    session.start()
    decision = session.reject("data_mismatch", "surname differs")
    clock = Clock()
    outbox = Outbox(tmp_path / "console" / "outbox.sqlite3", clock=clock,
                    backoff=Backoff(initial=5, jitter=0))
    outbox.register(DECISION_KIND, decision_handler(client))

    url = desk.url
    desk.stop()  # the desk service is gone
    try:
        requests.get(f"{url}/api/v1/health", timeout=2)
        raise AssertionError("the service still answers")
    except requests.ConnectionError:
        pass
    item = outbox.enqueue(decision.OUTBOX_KIND, decision.to_payload(), decision.decision_id)
    assert item.status is OutboxStatus.PENDING
    report = outbox.deliver_due()
    assert report.retrying == [decision.decision_id]
    kept = outbox.get(decision.decision_id)
    assert kept is not None and kept.status is OutboxStatus.PENDING
    assert kept.last_error == "server_unreachable" and kept.attempts == 1

    # the console restarts too: a new Outbox on the same file still has it
    outbox.close()
    outbox = Outbox(tmp_path / "console" / "outbox.sqlite3", clock=clock,
                    backoff=Backoff(initial=5, jitter=0))
    outbox.register(DECISION_KIND, decision_handler(client))
    assert [i.key for i in outbox.pending()] == [decision.decision_id]

    desk.start()  # same port, same data
    assert desk.url == url
    assert outbox.deliver_due().attempted == 0  # not due before the backoff
    clock.t += 5
    report = outbox.deliver_due()
    assert report.delivered == [decision.decision_id]
    done = outbox.get(decision.decision_id)
    assert done is not None and done.status is OutboxStatus.DONE
    assert done.result is not None and done.result["state"] == "rejected"
    clock.t += 3600
    assert outbox.deliver_due().attempted == 0  # delivered once, never again

    on_service = decisions_on_service(desk, client, request_id)
    assert on_service["state"] == RequestState.REJECTED.value
    assert on_service["decision"]["decision_id"] == decision.decision_id
    assert on_service["decision"]["reason_code"] == "data_mismatch"
    into_rejected = [h for h in on_service["history"] if h["to"] == "rejected"]
    assert len(into_rejected) == 1
    outbox.close()


CHILD = textwrap.dedent("""
    import os, sys
    from console.client import DeskClient
    from console.outbox import DECISION_KIND, Outbox, decision_handler

    url, totp, outbox_path, request_id, decision_id = sys.argv[1:6]
    client = DeskClient(url)
    client.login("operatore1", os.environ["DESK_PASSWORD"], totp)
    outbox = Outbox(outbox_path)
    send = decision_handler(client)

    def send_then_die(payload):
        result = send(payload)      # the service has recorded the decision...
        print("sent", flush=True)
        os._exit(17)                # ...and the console dies before marking it done

    outbox.register(DECISION_KIND, send_then_die)
    outbox.enqueue(DECISION_KIND, {"request_id": request_id, "decision_id": decision_id,
                                   "decision": "rejected", "reason_code": "data_mismatch",
                                   "note": ""},
                   decision_id)
    outbox.deliver_due()
    print("not reached", flush=True)
""")


def test_crash_between_send_and_mark_resends_idempotently(desk: DeskProcess,
                                                          tmp_path: Path) -> None:
    client, request_id = in_call(desk)
    decision_id = "6f1c2d4e-0b7a-4c55-9f0e-3a2b1c0d9e8f"
    outbox_path = tmp_path / "console" / "outbox.sqlite3"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, desk.url, desk.fresh_totp("operatore1"), str(outbox_path),
         request_id, decision_id],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DESK_PASSWORD": PASSWORD},
    )
    assert child.returncode == 17, child.stderr
    assert child.stdout.split() == ["sent"]
    first = decisions_on_service(desk, client, request_id)
    assert first["state"] == "rejected"
    decided_at = first["decision"]["decided_at"]

    outbox = Outbox(outbox_path)
    item = outbox.get(decision_id)
    assert item is not None and item.status is OutboxStatus.PENDING
    assert item.attempts == 1  # the attempt was recorded before the send
    delivered = outbox.flush(client)  # the same decision_id again
    assert delivered == {decision_id: "rejected"}
    done = outbox.get(decision_id)
    assert done is not None and done.status is OutboxStatus.DONE and done.attempts == 2
    assert done.result is not None

    after = decisions_on_service(desk, client, request_id)
    assert after["decision"]["decision_id"] == decision_id
    assert after["decision"]["decided_at"] == decided_at  # the service answered the same state
    assert len([h for h in after["history"] if h["to"] == "rejected"]) == 1
    assert json.loads(json.dumps(done.result))["state"] == "rejected"
    outbox.close()
