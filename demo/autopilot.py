"""The demo autopilot: runs a whole SPID session through the real windows, unattended.

It presses the same buttons and keys an operator would (sign-in button, "take next", "call",
Space on each checklist step, the capture buttons, "send code", the code field, the decision
dialog, "hang up"), so the path it tests is the UI's own. A QTimer ticks the state machine;
nothing blocks the GUI thread. At the end it writes the JSON report and quits with status 0
(1 when something did not happen in time).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtTest import QTest

log = logging.getLogger(__name__)

TICK_MS = 100
MIN_FRAMES = 60
STEP_TIMEOUT_S = 45.0
#: how long the applicant moves the document for a security feature before its still (s)
FEATURE_MOVEMENT_S = 1.5
OTP_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
# the demo's Chromium applicant plays a file through Chromium's fake camera: flagged as an
# injection signal, as it should be; the autopilot overrides it with this recorded reason
DEMO_INJECTION_OVERRIDE = "demo applicant: Chromium with the demo's synthetic camera"


def thread_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds used so far by each thread of this process, by native id, with its name:
    the Python thread's where there is one (GUI, media-engine, recorder...), else the system's
    (Qt's, Mesa's, codec threads). Linux only (/proc); empty elsewhere."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    out: dict[int, tuple[str, float]] = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="utf-8",
                      errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue  # the thread ended
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        native = int(tid)
        out[native] = (names.get(native, comm), (int(fields[11]) + int(fields[12])) / tick)
    return out


def threads_cores(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]],
                  wall: float) -> dict[str, float]:
    """Cores per thread name between two ``thread_cpu()`` snapshots (threads of the same name
    added up), busiest first, those under 0.005 core left out."""
    cores: dict[str, float] = {}
    for native, (name, seconds) in after.items():
        used = seconds - before.get(native, (name, 0.0))[1]
        cores[name] = cores.get(name, 0.0) + used / max(wall, 1e-9)
    return {name: round(c, 3) for name, c in sorted(cores.items(), key=lambda kv: -kv[1])
            if c >= 0.005}


class Autopilot(QObject):
    def __init__(
        self, shell: Any, env: Any, report: Path, timeout_s: float = 240.0, hold_s: float = 0.0
    ) -> None:
        super().__init__(shell)
        self.shell = shell
        self.c = shell.controller
        self.env = env
        self.report_path = Path(report)
        self.deadline = time.monotonic() + timeout_s
        self.exit_status = 1
        self.error: str | None = None
        self.phase = "sign_in"
        self.phase_since = time.monotonic()
        self.step_ids: list[str] = []
        self.step_index = 0
        self.substate = ""
        self.targets: list[str] = []
        self.decision_state: str | None = None
        self.call_ended = False
        self.otp_code_typed = False
        self.evidence: str | None = None
        self.timeline: list[dict[str, Any]] = []
        self.hold_s = hold_s
        self.cpu: dict[str, Any] | None = None
        self.watchdog: Any = None  # ui.watchdog.GuiWatchdog, from start()
        self._feature_index = 0
        self._hold_start: tuple[float, float, int] | None = None
        self._hold_decoded = 0
        self._hold_threads: dict[int, tuple[str, float]] = {}
        self._hold_recording: int | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.c.decision_done.connect(self._decided)
        self.c.decision_failed.connect(
            lambda code, missing: self._fail(f"decision failed: {code} {' '.join(missing)}"))
        self.c.decision_queued.connect(lambda: self._fail("decision left in the outbox"))
        self.c.sign_in_failed.connect(lambda code, _u: self._fail(f"sign-in failed: {code}"))
        self.c.call_state_changed.connect(self._call_state)

    # --- driving --------------------------------------------------------------------------------
    def start(self) -> None:
        from ui.watchdog import GuiWatchdog

        # every GUI-thread stall over 50 ms during the session, with what the thread was doing
        self.watchdog = GuiWatchdog(threshold_ms=50.0, parent=self)
        self.watchdog.start()
        self._timer.start()

    def screenshot(self, name: str, widget: Any = None) -> None:
        """With RECOGNITION_DEMO_SCREENSHOTS=<folder>, save what is on screen (docs, review)."""
        folder = os.environ.get("RECOGNITION_DEMO_SCREENSHOTS")
        if not folder:
            return
        from PySide6.QtGui import QGuiApplication

        target = widget or self.window
        if target is None:
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        screen = QGuiApplication.primaryScreen()
        pixmap = screen.grabWindow(int(target.winId())) if screen is not None else None
        if pixmap is None or pixmap.isNull():
            pixmap = target.grab()
        pixmap.save(str(Path(folder) / f"{name}.png"))

    def _go(self, phase: str) -> None:
        log.info("autopilot: %s", phase)
        self.timeline.append({"phase": phase, "t": round(time.monotonic() - self.phase_since, 2)})
        self.phase = phase
        self.phase_since = time.monotonic()

    def _fail(self, why: str) -> None:
        if self.phase in ("done", "failed"):
            return
        log.error("autopilot failed in %s: %s", self.phase, why)
        self.error = f"{self.phase}: {why}"
        with contextlib.suppress(Exception):
            self.env.log_children()
        self._finish(ok=False)

    def _tick(self) -> None:
        if time.monotonic() > self.deadline:
            self._fail("timed out")
            return
        handler: Callable[[], None] | None = getattr(self, f"_phase_{self.phase}", None)
        if handler is None:
            return
        try:
            handler()
        except Exception as exc:  # report, never hang
            log.exception("autopilot error")
            self._fail(f"{type(exc).__name__}: {exc}")

    @property
    def window(self) -> Any:
        return self.shell.main

    # --- phases -------------------------------------------------------------------------------
    def _phase_sign_in(self) -> None:
        form = self.shell.sign_in
        form.totp.setText(self.env.totp_now())
        self.screenshot("1-sign-in", form)
        form.sign_in_button.click()
        self._go("wait_signed_in")

    def _phase_wait_signed_in(self) -> None:
        if self.c.operator is not None and self.window is not None:
            self._go("queue")

    def _phase_queue(self) -> None:
        queue = self.window.queue
        if queue.row_count() >= 1 and queue.take_next_button.isEnabled():
            self.screenshot("2-queue")
            queue.take_next_button.click()
            self._go("wait_assignment")
        elif time.monotonic() - self.phase_since > 60:
            self._fail("the applicant never reached the queue")

    def _phase_wait_assignment(self) -> None:
        if self.c.session is not None:
            self.step_ids = [v.id for v in self.c.session.steps()]
            self.window.session.call_button.click()
            self._go("wait_call")
        elif time.monotonic() - self.phase_since > 15:
            self._go("queue")  # "take next" found nobody: back to the queue

    def _phase_wait_call(self) -> None:
        if self.c.call_state == "connected" and self.c.stats.frames_received >= MIN_FRAMES:
            if self.watchdog is not None:
                # the session's GUI stalls from here (sign-in's one-off model load is reported
                # apart: face_models_load_s)
                self.watchdog.restart()
            self.step_index = 0
            self.substate = ""
            self._go("hold" if self.hold_s > 0 else "steps")
        elif self.c.call_state.startswith("failed"):
            self._fail("call failed")

    def _phase_hold(self) -> None:
        """Stay in the call, measuring this process's CPU time (all its threads)."""
        now = (time.monotonic(), time.process_time(), self.c.stats.frames_received)
        decoded = int(getattr(self.c.engine, "frames_received", 0) or 0)
        if self._hold_start is None:
            self._hold_start = now
            self._hold_decoded = decoded
            self._hold_threads = thread_cpu()
            self._hold_recording = self._recording_size()
            return
        wall = now[0] - self._hold_start[0]
        if wall < self.hold_s:
            return
        cpu = now[1] - self._hold_start[1]
        self.cpu = {
            "seconds": round(wall, 2),
            "cores": round(cpu / wall, 3),
            "frames_shown_per_s": round((now[2] - self._hold_start[2]) / wall, 1),
            "frames_decoded_per_s": round((decoded - self._hold_decoded) / wall, 1),
            "recording": self.c._evidence_state == "recording",
            "threads": threads_cores(self._hold_threads, thread_cpu(), wall),
            "recorder": self._recorder_figures(wall),
        }
        log.info("autopilot: console CPU during the call %.2f cores", cpu / wall)
        self._go("steps")

    def _recorder(self) -> Any:
        return getattr(getattr(self.c, "_evidence", None), "recorder", None)

    def _recording_size(self) -> int | None:
        rec = self._recorder()
        try:
            return None if rec is None else int(rec.path.stat().st_size)
        except OSError:
            return None

    def _recorder_figures(self, wall: float) -> dict[str, Any] | None:
        """How the evidence recorder kept the applicant's video during the hold, and how fast
        the recording grew (every stream, MB a minute)."""
        rec = self._recorder()
        if rec is None:
            return None
        stats = rec.stats()
        size, before = self._recording_size(), self._hold_recording
        return {
            "applicant_video": ("as received" if getattr(rec, "wants_encoded_video", False)
                                else "encoded"),
            "copied": stats.get("copied"),
            "reencoded": stats.get("reencoded"),
            "awaiting_keyframe": stats.get("awaiting_keyframe"),
            "over_budget": stats.get("over_budget"),
            "mb_per_min": (None if size is None or before is None or wall <= 0
                           else round((size - before) / 1e6 / wall * 60, 2)),
        }

    def _phase_steps(self) -> None:
        if self.step_index >= len(self.step_ids):
            self.substate = ""
            self._feature_index = 0
            self._go("features")
            return
        session_window = self.window.session
        checklist = session_window.checklist
        step_id = self.step_ids[self.step_index]
        view = checklist.step(step_id)
        if view is None:
            self._fail(f"step {step_id} not in the checklist")
            return
        if view.status == "passed":
            if step_id in ("g", "j"):
                self.screenshot(f"3-session-after-{step_id}")
            self.step_index += 1
            self.substate = ""
            self.phase_since = time.monotonic()
            return
        if time.monotonic() - self.phase_since > STEP_TIMEOUT_S:
            why = self.substate or "no progress"
            if self.c.call_state != "connected":
                why += f"; call {self.c.call_state} and not recovered"
            self._fail(f"step {step_id} did not pass ({why})")
            return
        if self.substate == "":
            checklist.select_step(step_id)
            checklist.focus_list()
            kind = self.c.session.kind(step_id)
            if view.targets:
                self.targets = list(view.targets)
                self.substate = "capture"
            elif kind == "otp":
                session_window.otp.send_button.click()
                self.substate = "otp_wait"
                self.otp_code_typed = False
            elif kind == "random_action":
                session_window.instruct_button.click()
                self.substate = "press"
            else:
                self.substate = "press"
        if self.substate == "liveness":
            liveness = self.c.liveness
            if liveness.running or liveness.verdict is None:
                return
            self.phase_since = time.monotonic()  # the challenges took their time: not a stall
            self.substate = "capture"
            return
        if self.substate == "capture":
            if not self.targets:
                self.substate = "press"
            elif self.targets[0] == "face" and self.c.liveness.verdict is None \
                    and "liveness_not_passed" in self.c.checks.blockers():
                # the face step: the random challenges first, on the applicant's screen
                if session_window.liveness_button.isEnabled():
                    session_window.liveness_button.click()
                    self.substate = "liveness"
            else:
                target = self.targets[0]
                if checklist.has_still(step_id, target):
                    self.targets.pop(0)
                else:
                    button = checklist._cells[step_id].buttons[target]
                    if button.isEnabled():
                        button.click()
            return
        if self.substate == "otp_wait":
            heard = self.c.last_otp_heard or ""
            if not heard and hasattr(self.env, "heard"):
                heard = self.env.heard() or ""
            match = OTP_RE.search(heard)
            otp = session_window.otp
            if match and otp.code.isEnabled() and not self.otp_code_typed:
                otp.code.setText(match.group(1))
                otp.verify_button.click()
                self.otp_code_typed = True
            return
        if self.substate == "press":
            checklist.select_step(step_id)
            QTest.keyClick(checklist.tree, Qt.Key.Key_Space)
            self.substate = "pressed"
            return
        if self.substate == "pressed" and view.status != "passed":
            self.substate = "press"  # e.g. the still was still landing: press again

    def _phase_features(self) -> None:
        """The security features drawn for this session (ETSI TS 119 461: ≥ 3, ≥ 2 optically
        variable): the instruction goes to the applicant's screen, the document moves for a
        moment, a still of it is kept and the feature is judged; the recording from the
        instruction to the verdict is the feature's marked clip."""
        checks = self.c.checks
        features = list(checks.features)
        if self._feature_index >= len(features):
            self._go("decide")
            return
        feature = features[self._feature_index]
        waited = time.monotonic() - self.phase_since
        if self.substate == "":
            checks.ask_feature(feature.id)
            self.substate = "asked"
            self.phase_since = time.monotonic()
        elif self.substate == "asked" and waited >= FEATURE_MOVEMENT_S:
            checks.capture_feature(feature.id)
            self.substate = "capturing"
            self.phase_since = time.monotonic()
        elif self.substate == "capturing":
            state = checks.feature_state.get(feature.id, {})
            if state.get("still") is not None:
                checks.set_feature_verdict(feature.id, True)
                self._feature_index += 1
                self.substate = ""
                self.phase_since = time.monotonic()
            elif waited > STEP_TIMEOUT_S:
                self._fail(f"no still of the security feature {feature.id}")

    def _phase_decide(self) -> None:
        checks = getattr(self.c, "checks", None)
        if checks is not None and checks.busy and time.monotonic() - self.phase_since < 60:
            return  # the still and face checks are still running: decide on their findings
        session_window = self.window.session
        if self._injection_refused():
            return
        liveness = self.c.liveness.verdict
        if liveness != "pass" and self.c.liveness.supervisor is None:
            # not the applicant's live face answering: never approved (ETSI TS 119 461)
            dialog = session_window.decision_dialog()
            dialog.set_decision("rejected")
            dialog.set_reason("suspected_fraud")
            dialog.note.setPlainText(f"autopilot: liveness {liveness}")
            session_window.submit_decision(dialog)
            self._go("wait_decision")
            return
        dialog = session_window.decision_dialog()
        dialog.set_decision("approved")
        if not dialog.approve_button.isChecked():
            self._fail("approval blocked: " + dialog.blocked.text())
            return
        session_window.submit_decision(dialog)
        self._go("wait_decision")

    def _injection_refused(self) -> bool:
        """A suspected injection: the demo's Chromium applicant is overridden with a recorded
        reason; anything else fails the run with the signals (True: the run has failed)."""
        if not self.c.injection_blocking():
            return False
        if getattr(self.env, "applicant_kind", "synthetic") != "chromium":
            self._fail("approval blocked: injection suspected "
                       + ",".join(s.code for s in self.c.injection.signals))
            return True
        if not self.c.override_injection(DEMO_INJECTION_OVERRIDE):
            self._fail("the injection override was refused")
            return True
        return False

    def _decided(self, state: str) -> None:
        self.decision_state = state

    def _phase_wait_decision(self) -> None:
        if self.decision_state is not None:
            self.screenshot("4-decided")
            self.window.session.hangup_button.click()
            self._go("wait_hangup")

    def _call_state(self, state: str) -> None:
        if state == "ended":
            self.call_ended = True

    def _phase_wait_hangup(self) -> None:
        if self.call_ended:
            self._go("evidence")

    def _phase_evidence(self) -> None:
        """Hang-up after the decision seals and uploads the evidence on a worker thread."""
        if self.c._evidence_state == "done":
            self.evidence = self._keep_evidence(self.c.evidence_path)
            self._finish(ok=True)
        elif time.monotonic() - self.phase_since > 90:
            self._fail("the evidence package was not finished")

    def _keep_evidence(self, path: str | None) -> str | None:
        """The demo's data folder is temporary: keep the sealed package next to the report."""
        if not path or not Path(path).is_file():
            return path
        target = self.report_path.parent / Path(path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        return str(target)

    # --- report -------------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        c = self.c
        session = c.session
        steps = session.report_steps() if session is not None else []
        return {
            "role": "operator",
            "window": "video_session",
            "decision": self.decision_state,
            "otp": {"verified": bool(c.otp_verified)},
            "steps": steps,
            "video": {
                "frames_received": c.stats.frames_received,
                "frames_decoded": int(getattr(c.engine, "frames_received", 0) or 0),
                "width": c.stats.width,
                "height": c.stats.height,
            },
            "stills": [
                {"step": s["step"], "script_step": s["script_step"], "width": s["width"],
                 "height": s["height"], "size": s["size"], "mime": s.get("mime", ""),
                 "transfer_ms": s.get("transfer_ms")}
                for s in c.stats.stills
            ],
            "latency_ms": c.stats.latency(),
            "injection": c.injection.result(),
            "liveness": c.liveness.report() or {"verdict": None, "challenges": []},
            "findings": c.checks.findings() if hasattr(c, "checks") else [],
            "checks": c.checks.report() if hasattr(c, "checks") else [],
            "security_features": c.checks.features_report() if hasattr(c, "checks") else [],
            "evidence": self.evidence,
            "cpu": self.cpu,
            "gui_watchdog": self.watchdog.report() if self.watchdog is not None else None,
            "face_models_load_s": getattr(c, "models_load_s", None),
            "applicant": getattr(self.env, "applicant_kind", "synthetic"),
            "duration_s": round(c.call_seconds(), 1),
            "error": self.error,
        }

    def _finish(self, ok: bool) -> None:
        self._timer.stop()
        if self.watchdog is not None:
            self.watchdog.stop()
        self.phase = "done" if ok else "failed"
        data = self.report()
        self.report_path.parent.mkdir(parents=True, exist_ok=True)
        self.report_path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        complete = ok and data["decision"] == "approved" and data["otp"]["verified"]
        self.exit_status = 0 if complete else 1
        log.info("autopilot %s; report at %s", "finished" if complete else "FAILED",
                 self.report_path)
        QTimer.singleShot(0, self.shell.quit)
        QCoreApplication.processEvents()


class WorkspaceAutopilot(QObject):
    """``demo --role trainer|supervisor --autopilot``: sign in through the sign-in window, wait
    for the workspace the shell opens, write ``{"role", "window", "signed_in", "error"}`` to the
    report and quit (exit status 0 when the role's window opened)."""

    def __init__(self, shell: Any, role: str, report: Path, timeout_s: float = 60.0) -> None:
        super().__init__(shell)
        self.shell = shell
        self.role = role
        self.report_path = Path(report)
        self.deadline = time.monotonic() + timeout_s
        self.exit_status = 1
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        QTimer.singleShot(0, self.shell.sign_in.sign_in_button.click)
        self._timer.start()

    def _tick(self) -> None:
        shell = self.shell
        window = shell.main if shell.main is not None else shell.other
        if shell.workspace is not None and window is not None and window.isVisible():
            self._finish(str(shell.workspace.value), None)
        elif time.monotonic() > self.deadline:
            self._finish(None, shell.sign_in.error_code() or "timeout")

    def _finish(self, window: str | None, error: str | None) -> None:
        self._timer.stop()
        from console.workspaces import workspace_for

        ok = window is not None and window == workspace_for(self.role).value
        report = {"role": self.role, "window": window, "signed_in": window is not None,
                  "error": error if ok or error else "wrong_window"}
        self.report_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
        self.exit_status = 0 if ok else 1
        log.info("workspace autopilot: %s -> %s", self.role, window)
        QTimer.singleShot(0, self.shell.quit)
