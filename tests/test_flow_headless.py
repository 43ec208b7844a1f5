"""The remote flow without Qt: the session core signs in, takes the applicant, runs the call
with the media engine, captures and checks a still, and decides through the outbox, driven
from a plain thread (``ThreadRunner``) against a real desk service and the synthetic
applicant. The windows are only one way of driving it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from console.flows.remote import RemoteFlow
from console.flows.tasks import ThreadRunner
from console.settings_store import SettingsStore
from media.engine import MediaEngine
from tests.test_media_call import REPO, applicant_procs, start_applicant, wait_for

__all__ = ["applicant_procs"]


class Events:
    """Every event the flow emits, in order (listener: any thread)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, tuple[Any, ...]]] = []
        self.cond = threading.Condition()

    def __call__(self, name: str, args: tuple[Any, ...]) -> None:
        with self.cond:
            self.items.append((name, args))
            self.cond.notify_all()

    def wait(self, name: str, timeout: float = 60.0, where: Any = None) -> tuple[Any, ...]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for n, args in self.items:
                    if n == name and (where is None or where(args)):
                        return args
                left = deadline - time.monotonic()
                if left <= 0:
                    names = [n for n, _ in self.items][-30:]
                    raise AssertionError(f"no {name} event in {timeout} s; last: {names}")
                self.cond.wait(left)


def test_the_session_core_imports_no_qt() -> None:
    code = ("import sys, console.flows.remote, console.flows.inperson, console.flows.checks; "
            "sys.exit(1 if any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules) "
            "else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=120).returncode == 0


def test_remote_flow_runs_a_session_without_qt(
    desk_server: Any, tmp_path: Path, applicant_procs: list[subprocess.Popen[bytes]]
) -> None:
    desk = desk_server
    rossi = desk.seed_request("ROSSI")
    applicant_procs.append(start_applicant(desk.base_url, rossi["join_token"],
                                           tmp_path / "applicant.log"))
    wait_for(lambda: desk.api("GET", "/queue", username="operatore1").json()["length"] == 1,
             60, "the applicant in the queue")

    settings = SettingsStore()
    runner = ThreadRunner("flow-test")
    flow = RemoteFlow(settings, runner,
                      engine_factory=lambda listener, **_kw: MediaEngine(listener, camera=None,
                                                                         microphone=None))
    events = Events()
    flow.add_listener(events)
    try:
        password = desk.operator("operatore1")["password"]
        runner.call(lambda: flow.sign_in(desk.base_url, "operatore1", password,
                                         desk._fresh_code("operatore1"), False))
        (operator,) = events.wait("signed_in")
        assert operator.username == "operatore1"

        runner.call(flow.take_next)
        (assignment,) = events.wait("assignment_ready")
        assert assignment.request.id == rossi["id"]
        (steps,) = events.wait("steps_changed")
        back = next(s for s in steps if "document_back" in s.targets)

        runner.call(flow.start_call)
        events.wait("call_state_changed", where=lambda a: a[0] == "connected")

        runner.call(lambda: flow.capture(back.id, "document_back"))
        _, target, still = events.wait("still_ready", timeout=60)
        assert target == "document_back" and still.width >= 640
        target, check = events.wait("still_checked", timeout=90)
        assert target == "document_back"
        assert check.mrz is not None and check.mrz["valid"] is True
        assert check.mrz["fields"]["surname"] == "match"

        # an approval the service would refuse (steps, OTP, recording) is not recorded
        runner.call(lambda: flow.decide("approved", "ok", ""))
        code, missing = events.wait("decision_failed", timeout=60)
        assert code and isinstance(missing, list)
        assert runner.call(lambda: flow.session.session.decision) is None

        runner.call(lambda: flow.decide("rejected", "document_damaged", ""))
        (state,) = events.wait("decision_done", timeout=60)
        assert state == "rejected"
        resp = desk.api("GET", f"/requests/{rossi['id']}", username="supervisore1")
        assert resp.json()["state"] == "rejected"

        runner.call(flow.hang_up)
        runner.call(flow.close_session)
        events.wait("session_closed")
        (path,) = events.wait("evidence_ready", timeout=120)
        assert path and Path(path).exists()
    finally:
        runner.call(flow.shutdown, timeout=60)
        runner.close()
