"""A headless training run: a scenario pack played as the remote applicant of an ordinary
session in the real console, driven by the autopilot, graded against the pack's answer key.

``run_scenario(pack, report=..., force_decision=..., trainee=...)``:

1. a demo desk service (``demo.launcher.DemoEnvironment``: a real ``recognition-desk serve --demo``
   process on loopback) holding the pack's request (``POST /requests`` with the pack's data);
2. the pack's applicant as the remote peer (``demo.training_peer``: the synthetic applicant showing
   the pack's documents, face and third person) joining with that request's link;
3. the real console windows, signed in, walked through the whole script by ``demo.autopilot``;
   the stills it captures go through the console's automated checks
   (``console.training.findings``), whose findings decide (reject with the matching reason code, or
   approve) -- unless ``force_decision`` says otherwise;
4. ``console.training.grading.grade`` against the answer key; the report (JSON) has the grade
   plus ``findings``, the checks' details and the autopilot's run.

Returns 0 when the run reached a decision and the report was written, 1 otherwise (the grade
itself -- right or wrong -- is in the report).
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.training.grading import grade
from console.training.pack import ScenarioPack
from console.training.requests import create_request

log = logging.getLogger(__name__)

FORCED = {"approve": "approved", "reject": "rejected"}
NEEDED_STILLS = ("document_front", "document_back", "face")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _script(product: str) -> dict[str, Any]:
    from console.resources import resource_path

    path = Path(resource_path("scripts", f"{product}.json"))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


class TrainingChecks:
    """Collects the session's stills (GUI thread) and runs the checks on a worker thread."""

    def __init__(self, pack: ScenarioPack, force: str | None) -> None:
        self.pack = pack
        self.force = FORCED.get(force or "")
        self.stills: dict[str, Any] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="training")
        self._future: concurrent.futures.Future[tuple[list[str], dict[str, Any]]] | None = None
        self.findings: list[str] = []
        self.details: dict[str, Any] = {}
        self.error: str | None = None

    def on_still(self, _step_id: str, target: str, still: Any) -> None:
        from console.training.findings import decode_still

        img = decode_still(bytes(getattr(still, "data", b"")))
        if img is None:
            log.warning("training: still %s could not be decoded", target)
            return
        self.stills[target] = img

    def decide(self) -> tuple[str, str] | None:
        """The autopilot's decision hook: None while the checks run."""
        from console.training.findings import decision_for, findings_from_stills

        if self._future is None:
            stills = dict(self.stills)
            self._future = self._pool.submit(findings_from_stills, stills, self.pack.request)
            return None
        if not self._future.done():
            return None
        try:
            self.findings, self.details = self._future.result()
        except Exception as exc:  # a failing check leaves no finding, and says so
            log.exception("training checks failed")
            self.error = type(exc).__name__
            self.findings, self.details = [], {"error": self.error}
        missing = [t for t in NEEDED_STILLS if t not in self.stills]
        if missing:
            self.details["missing_stills"] = missing
        decision, reason = decision_for(self.findings)
        if self.force is not None and self.force != decision:
            decision = self.force
            reason = "ok" if decision == "approved" else (
                self.pack.answer_key.reason_code
                if self.pack.answer_key.expected_decision == "rejected" else "other")
        return decision, reason

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def run_scenario(pack: ScenarioPack, report: Path, force_decision: str | None = None,
                 trainee: str = "autopilot", timeout_s: float = 300.0) -> int:
    from console import children, programs
    from demo.launcher import DEMO_OPERATOR, DEMO_PASSWORD, Child, DemoEnvironment
    from ui.app import create_qapp, exec_app, report_threads, setup_logging

    report = Path(report)
    setup_logging(os.environ.get("RECOGNITION_TRAINING_LOG_LEVEL", "INFO"))
    children.install_exit_handlers()  # SIGTERM/SIGHUP unwind through env.close()
    env = DemoEnvironment()
    os.environ["RECOGNITION_CONSOLE_CONFIG_DIR"] = str(env.folder / "console-config")
    os.environ["RECOGNITION_CONSOLE_DATA_DIR"] = str(env.folder / "console-data")
    app = create_qapp()
    checks = TrainingChecks(pack, force_decision)
    started_at = _now()
    try:
        try:
            env.start_desk()
            created = create_request(env.url, pack.request)
            script_path = env.folder / "script.json"
            script = _script(pack.product)
            script_path.write_text(json.dumps(script), encoding="utf-8")
            child_env = dict(os.environ, TRAINING_JOIN_TOKEN=str(created["join_token"]))
            peer = Child.spawn(
                "applicant",
                programs.argv("training-peer", "--desk", env.url, "--pack", str(pack.root),
                              "--script", str(script_path)),
                env=child_env, echo_stderr=env.echo)
            env.children.append(peer)
        except Exception as exc:
            log.error("training run could not start: %s", exc)
            print(f"training run: {exc}", file=sys.stderr)
            return 1
        from console.settings_store import SettingsStore
        from ui.i18n import install_language
        from ui.shell import ConsoleShell

        settings = SettingsStore()
        install_language("en")
        settings.update(server_url=env.url, last_user=DEMO_OPERATOR, language="en")
        shell = ConsoleShell(settings)
        shell.show_sign_in(server=env.url, user=DEMO_OPERATOR)
        shell.sign_in.password.setText(DEMO_PASSWORD)
        shell.sign_in.totp.setText(env.totp_now())
        shell.controller.still_ready.connect(checks.on_still)
        run_report = env.folder / "autopilot.json"
        pilot = _training_pilot(shell, env, run_report, timeout_s, checks)
        pilot.start()
        t0 = time.monotonic()
        exec_app(app, shell)
        run: dict[str, Any] = json.loads(run_report.read_text(encoding="utf-8")) \
            if run_report.exists() else {}
        decided_at = _now()
    finally:
        checks.close()
        env.close()
        report_threads()
    if not run.get("decision"):
        _write(report, {"scenario": pack.id, "trainee": trainee, "decision": None,
                        "expected_decision": pack.answer_key.expected_decision,
                        "correct": False, "findings": checks.findings,
                        "error": run.get("error") or "no decision reached"})
        return 1
    taken = pilot.decision_taken or (str(run["decision"]), "ok")
    run.update(trainee=trainee, reason_code=taken[1], findings=checks.findings,
               started_at=started_at, decided_at=decided_at)
    required = tuple(s["id"] for s in _script(pack.product).get("steps", [])
                     if s.get("required", True))
    g = grade(run, pack.answer_key, scenario=pack.id, required_steps=required)
    out = g.to_json()
    out.update(
        forced_decision=force_decision,
        supervisor_second_look=pilot.second_look,
        request_adjusted=created.get("request_adjusted", []),
        checks=checks.details,
        duration_s=round(time.monotonic() - t0, 1),
        run={k: run.get(k) for k in ("otp", "stills", "video", "duration_s", "error")},
    )
    _write(report, out)
    log.info("training run %s: decision %s (expected %s), %s", pack.id, g.decision,
             g.expected_decision, "correct" if g.correct else "WRONG")
    return 0


def _training_pilot(shell: Any, env: Any, report: Path, timeout_s: float,
                    checks: TrainingChecks) -> Any:
    """The demo autopilot, deciding with the automated checks (or the forced decision)."""
    from demo.autopilot import Autopilot

    class TrainingPilot(Autopilot):
        decision_taken: tuple[str, str] | None = None
        second_look = False

        def _phase_decide(self) -> None:
            chosen = checks.decide()
            if chosen is None:
                return  # the checks are still running: ask again on the next tick
            session_window = self.window.session
            dialog = session_window.decision_dialog()
            dialog.set_decision(chosen[0])
            if chosen[0] == "approved" and self._injection_refused():
                return  # failed with the signals rather than waiting for ever
            if chosen[0] == "approved" and not dialog.approve_button.isChecked():
                self._fail("approval blocked: " + dialog.blocked.text())
                return
            dialog.set_reason(chosen[1])
            if chosen[1] == "other":
                dialog.note.setPlainText("training run")
            self.decision_taken = (dialog.decision(), dialog.reason_code())
            session_window.submit_decision(dialog)
            second_look = getattr(session_window, "supervisor_dialog", None)
            if second_look is not None:
                # approving against a "different person" face result needs a supervisor's
                # second look (ETSI TS 119 461); in a training run the trainer is that
                # supervisor, and the report says the approval went through a second look
                sup = self.env.operator("supervisore1")
                second_look.user.setText(sup["username"])
                second_look.password.setText(sup["password"])
                second_look.totp.setText(self.env.totp_now("supervisore1"))
                second_look.confirm_button.click()
                self.second_look = True
            self._go("wait_decision")

    return TrainingPilot(shell, env, report, timeout_s=timeout_s)


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
