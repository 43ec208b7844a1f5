"""Session window: the call, the script checklist, the OTP panel, the decision."""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ui.checks import DOCUMENT_TARGETS
from ui.controller import ConsoleController
from ui.decision_dialog import DecisionDialog
from ui.messages import error_message, product_label
from ui.supervisor_dialog import SupervisorDialog
from ui.widgets.checklist import ScriptChecklist
from ui.widgets.findings import FindingsPanel
from ui.widgets.otp import OtpPanel
from ui.widgets.quality import QualityIndicator
from ui.widgets.video import VideoView

log = logging.getLogger(__name__)

FRAME_INTERVAL_MS = 40  # fallback and own-camera preview; applicant frames come by signal


def read_stamp(frame: Any) -> int | None:
    try:
        from media.framestamp import read_frame
    except ImportError:
        return None
    try:
        return read_frame(frame)
    except Exception:
        return None


class SessionWindow(QWidget):
    decision_requested = Signal()
    finished = Signal()

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sessionWindow")
        self.c = controller
        # --- header ----------------------------------------------------------------------------
        self.applicant = QLabel(self)
        self.applicant.setObjectName("applicant")
        self.product = QLabel(self)
        self.product.setObjectName("subtitle")
        self.timer_label = QLabel("00:00", self)
        self.timer_label.setObjectName("timer")
        self.quality = QualityIndicator(self)
        self.call_status = QLabel(self)
        self.call_status.setObjectName("hint")
        header = QHBoxLayout()
        names = QVBoxLayout()
        names.addWidget(self.applicant)
        names.addWidget(self.product)
        header.addLayout(names)
        header.addStretch(1)
        header.addWidget(self.call_status)
        header.addSpacing(12)
        header.addWidget(self.quality)
        header.addSpacing(12)
        header.addWidget(self.timer_label)
        self.banner = QLabel(self)
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()

        # --- video ------------------------------------------------------------------------------
        self.remote = VideoView(self.tr("Waiting for the applicant's video…"), self)
        self.remote.setMinimumSize(640, 360)
        self.local = VideoView(self.tr("Your camera"), self)
        self.local.setFixedSize(192, 108)

        self.call_button = QPushButton(self.tr("Call"), self)
        self.call_button.setObjectName("primary")
        self.call_button.clicked.connect(self.start_call)
        self.mute_button = QPushButton(self.tr("Mute"), self)
        self.mute_button.setCheckable(True)
        self.mute_button.toggled.connect(self._mute)
        self.camera_button = QPushButton(self.tr("Camera off"), self)
        self.camera_button.setCheckable(True)
        self.camera_button.toggled.connect(self._camera)
        self.hangup_button = QPushButton(self.tr("Hang up"), self)
        self.hangup_button.setObjectName("danger")
        self.hangup_button.clicked.connect(self.hang_up)
        self.decision_button = QPushButton(self.tr("Decision…"), self)
        self.decision_button.setObjectName("approve")
        self.decision_button.setShortcut(QKeySequence("Ctrl+D"))
        self.decision_button.clicked.connect(self.open_decision)
        self.close_button = QPushButton(self.tr("Back to the queue"), self)
        self.close_button.setObjectName("closeSession")
        self.close_button.clicked.connect(self._close_session)
        self.close_button.hide()
        controls = QHBoxLayout()
        controls.addWidget(self.local)
        controls.addSpacing(8)
        controls.addWidget(self.call_button)
        controls.addWidget(self.mute_button)
        controls.addWidget(self.camera_button)
        controls.addStretch(1)
        controls.addWidget(self.hangup_button)
        controls.addWidget(self.decision_button)
        controls.addWidget(self.close_button)

        left = QWidget(self)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.remote, 3)
        lv.addLayout(controls)
        self.findings = FindingsPanel(self)
        lv.addWidget(self.findings, 2)
        self.supervisor_dialog: SupervisorDialog | None = None

        # --- script -----------------------------------------------------------------------------
        self.checklist = ScriptChecklist(self)
        self.say = QTextBrowser(self)
        self.say.setObjectName("sayText")
        self.say.setMaximumHeight(120)
        self.step_error = QLabel(self)
        self.step_error.setObjectName("hint")
        self.otp = OtpPanel(self)
        self.instruct_button = QPushButton(self.tr("Show the random action to the applicant"))
        self.instruct_button.clicked.connect(self._instruct)
        # the active liveness check of the face: random challenges on the applicant's screen
        self.liveness_button = QPushButton(self.tr("Check liveness (random challenges)"))
        self.liveness_button.clicked.connect(self.c.start_liveness)
        self.liveness_button.hide()
        right = QWidget(self)
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(QLabel(self.tr("Script"), self))
        rv.addWidget(self.checklist, 1)
        rv.addWidget(self.say)
        rv.addWidget(self.step_error)
        rv.addWidget(self.instruct_button)
        rv.addWidget(self.liveness_button)
        rv.addWidget(self.otp)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([860, 560])
        split.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)

        # --- wiring -----------------------------------------------------------------------------
        c = controller
        self.checklist.step_marked.connect(c.mark_step)
        self.checklist.capture_requested.connect(self.capture)
        self.checklist.tree.currentItemChanged.connect(self._current_changed)
        self.otp.send_requested.connect(c.send_otp)
        self.otp.verify_requested.connect(c.verify_otp)
        c.steps_changed.connect(self._steps_changed)
        c.step_refused.connect(self._step_refused)
        c.still_ready.connect(self._still_ready)
        c.still_failed.connect(self._still_failed)
        c.otp_sent.connect(self.otp.on_sent)
        c.otp_result.connect(self.otp.on_result)
        c.otp_failed.connect(self.otp.on_error)
        c.utterance_heard.connect(self.otp.on_heard)
        c.call_state_changed.connect(self._call_state)
        c.link_changed.connect(self._link_changed)
        c.quality_changed.connect(self.quality.set_level)
        c.engine_error.connect(self._engine_error)
        c.frame_ready.connect(self._paint_frame, Qt.ConnectionType.QueuedConnection)
        c.decision_failed.connect(lambda _code, _missing: self.decision_button.setEnabled(True))
        c.decision_done.connect(self._decided)
        c.decision_queued.connect(self._decided)
        self._wire_checks()
        self._first_steps = True
        self._outage_since: float | None = None  # time.time() the current outage started
        self._frame_timer = QTimer(self)
        self._frame_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._frame_timer.setInterval(FRAME_INTERVAL_MS)
        self._frame_timer.timeout.connect(self._paint_frame)
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)
        QShortcut(QKeySequence("Ctrl+M"), self, self.mute_button.toggle)
        self._set_in_call(False)

    # --- session -----------------------------------------------------------------------------
    def load(self, assignment: Any) -> None:
        request = assignment.request
        a = request.applicant
        self.applicant.setText(f"{a.given_names} {a.surname}")
        self.product.setText(
            product_label(request.product.value)
            + " · "
            + self.tr("session %1").replace("%1", assignment.session_id[:8])
        )
        self.timer_label.setText("00:00")
        self._outage_since = None
        self.banner.hide()
        self.remote.clear(self.tr('Press "Call" to start the video call.'))
        self.local.clear(self.tr("Your camera"))
        self._first_steps = True
        self.findings.clear()
        self._show_features(self.c.checks.features)
        self.otp.reset()
        self.decision_button.setEnabled(True)
        self.close_button.hide()
        self._set_in_call(False)

    def _values(self) -> dict[str, str]:
        assignment = self.c.assignment
        if assignment is None:
            return {}
        r = assignment.request
        a = r.applicant
        op = self.c.operator
        return {
            "operator_name": op.display_name if op else "",
            "applicant_name": f"{a.given_names} {a.surname}",
            "birth_date": a.birth_date.strftime("%d/%m/%Y") if a.birth_date else "",
            "birth_place": a.birth_place,
            "codice_fiscale": a.codice_fiscale,
            "mobile": a.mobile,
            "email": a.email,
            "product_name": product_label(r.product.value),
            "document_type": r.document.type.value.replace("_", " ") if r.document else "",
        }

    @Slot(object)
    def _steps_changed(self, steps: list[Any]) -> None:
        current = self.checklist.current_step_id()
        if self._first_steps:
            self.checklist.set_steps(steps)
            self._first_steps = False
            self.checklist.focus_list()
        else:
            for step in steps:
                self.checklist.update_step(step)
            if current:
                pass
        self._update_say()
        self._update_live_target()

    @Slot()
    def _current_changed(self) -> None:
        self._update_say()
        self.step_error.clear()
        self._update_live_target()

    def _update_say(self) -> None:
        session = self.c.session
        step_id = self.checklist.current_step_id()
        if session is None or step_id is None:
            self.say.clear()
            return
        text = session.step_text(step_id, self._values())
        hint = session.step_hint(step_id)
        html = f"<p>{_escape(text)}</p>"
        if hint:
            html += f"<p style='color:#5b6775'><i>{_escape(hint)}</i></p>"
        self.say.setHtml(html)
        kind = session.kind(step_id)
        self.instruct_button.setVisible(kind == "random_action")
        view = self.checklist.step(step_id)
        self.liveness_button.setVisible(view is not None and "face" in view.targets)

    @Slot(str, str)
    def _step_refused(self, step_id: str, code: str) -> None:
        messages = {
            "captures_missing": self.tr("Capture every still of this step first."),
            "otp_not_verified": self.tr("The SMS code is not verified yet."),
            "step_required": self.tr("A required step cannot be skipped."),
            "random_actions_pending": self.tr("Ask the random action first."),
        }
        self.step_error.setText(messages.get(code, error_message(code)))
        self.checklist.select_step(step_id)

    # --- call --------------------------------------------------------------------------------
    @Slot()
    def start_call(self) -> None:
        self.call_button.setEnabled(False)
        self.c.start_call()
        self._frame_timer.start()
        self._clock.start()

    @Slot()
    def hang_up(self) -> None:
        self.c.hang_up()

    @Slot(bool)
    def _mute(self, muted: bool) -> None:
        self.mute_button.setText(self.tr("Unmute") if muted else self.tr("Mute"))
        self.c.set_muted(muted)

    @Slot(bool)
    def _camera(self, off: bool) -> None:
        self.camera_button.setText(self.tr("Camera on") if off else self.tr("Camera off"))
        self.c.set_camera_enabled(not off)
        if off:
            self.local.clear(self.tr("Camera off"))

    def _set_in_call(self, in_call: bool) -> None:
        self.mute_button.setEnabled(in_call)
        self.camera_button.setEnabled(in_call)
        self.hangup_button.setEnabled(in_call)
        self.call_button.setEnabled(not in_call and self.c.call_state != "connecting")

    @Slot(str)
    def _call_state(self, state: str) -> None:
        labels = {
            "connecting": self.tr("Connecting…"),
            "connected": self.tr("Connected"),
            "reconnecting": self.tr("Reconnecting…"),
            "lost": self.tr("Connection lost"),
            "ended": self.tr("Call ended"),
        }
        if state.startswith("failed"):
            code = state.partition(":")[2] or "internal_error"
            self.call_status.setText(self.tr("Call failed"))
            self.banner.setText(error_message(code))
            self.banner.show()
            self.call_button.setEnabled(True)
            return
        self.call_status.setText(labels.get(state, state))
        if state == "connected":
            self.banner.hide()
            self._set_in_call(True)
        elif state in ("lost", "reconnecting"):
            self.banner.setText(
                self.tr("Connection lost. Waiting for the applicant: the call resumes by itself.")
            )
            self.banner.show()
            self.quality.set_level("lost")
        elif state == "ended":
            self._frame_timer.stop()
            self._clock.stop()
            self.remote.clear(self.tr("Call ended."))
            self.local.clear(self.tr("Your camera"))
            self._set_in_call(False)
            self.call_button.setEnabled(False)
        elif state == "connecting":
            self._set_in_call(False)
        if self._outage_since is not None and state != "ended":
            self._show_outage()

    @Slot(str, float)
    def _link_changed(self, phase: str, since: float) -> None:
        """An outage of the call's connection: shown from its start until it is over (the
        media engine reconnects by itself, with no attempt limit)."""
        if phase == "reconnecting":
            self._outage_since = since
            self._show_outage()
            return
        self._outage_since = None
        if phase == "revoked":
            self.call_status.setText(self.tr("Disconnected"))
            self.banner.setText(self.tr(
                "The desk service no longer accepts your sign-in: the call was ended. "
                "Sign in again."))
            self.banner.show()
        elif self.c.call_state and not self.c.call_state.startswith("failed"):
            self._call_state(self.c.call_state)  # connected again (or ended): as the call is

    def _show_outage(self) -> None:
        since = self._outage_since
        if since is None:
            return
        at = time.strftime("%H:%M:%S", time.localtime(since))
        self.call_status.setText(self.tr("Reconnecting since %1…").replace("%1", at))
        self.banner.setText(self.tr(
            "Connection interrupted at %1: the console reconnects by itself and the call "
            "resumes when the connection is back.").replace("%1", at))
        self.banner.show()

    @Slot(str)
    def _engine_error(self, code: str) -> None:
        messages = {
            "camera_unavailable": self.tr("No camera: the applicant sees a placeholder."),
            "microphone_unavailable": self.tr("No microphone: the applicant hears silence."),
            "applicant_offline": self.tr("The applicant is not connected yet."),
            "connect_timeout": self.tr("The media connection could not be established."),
            "desk_unreachable": error_message("server_unreachable"),
            "unauthorized": error_message("not_authenticated"),
        }
        text = messages.get(code)
        if text is None:
            log.info("media engine reported %s", code)
            return
        if code in ("camera_unavailable", "microphone_unavailable"):
            self.local.set_placeholder(text)
        else:
            self.banner.setText(text)
            self.banner.show()

    @Slot()
    def _paint_frame(self) -> None:
        frame, stamp = self.c.latest_frame()
        if frame is not None and self.remote.show_frame(frame):
            self.c.frame_shown(frame, stamp if stamp is not None else read_stamp(frame))
        local = self.c.latest_local_frame()
        if local is not None and not self.camera_button.isChecked():
            self.local.show_frame(local)

    @Slot()
    def _tick(self) -> None:
        seconds = int(self.c.call_seconds())
        m, s = divmod(seconds, 60)
        h, m = divmod(m, 60)
        self.timer_label.setText(f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}")

    # --- captures ----------------------------------------------------------------------------
    @Slot(str, str)
    def capture(self, step_id: str, target: str) -> None:
        self.checklist.set_capture_busy(step_id, target, True)
        self.c.capture(step_id, target)

    @Slot(str, str, object)
    def _still_ready(self, step_id: str, target: str, still: Any) -> None:
        pixmap = QPixmap()
        if not pixmap.loadFromData(still.data):
            self.checklist.capture_failed(step_id, target, self.tr("unreadable image"))
            return
        self.checklist.set_still(step_id, target, pixmap, still.width, still.height, still.size)
        self._update_live_target()

    @Slot(str, str, str)
    def _still_failed(self, step_id: str, target: str, code: str) -> None:
        self.checklist.capture_failed(step_id, target, error_message(code))

    @Slot()
    def _instruct(self) -> None:
        session = self.c.session
        if session is None:
            return
        for action in session.random_actions():
            self.c.send_instruction(action.code)

    # --- decision ----------------------------------------------------------------------------
    def decision_dialog(self) -> DecisionDialog:
        from ui.script_labels import step_title

        session = self.c.session
        missing: list[str] = []
        if session is not None:
            for step_id in session.missing_required():
                missing.append(step_id)
            codes = {s.step.id: s.step.code for s in session.session.steps}
            missing = [f"{m}. {step_title(codes.get(m, m))}" for m in missing]
        dialog = DecisionDialog(missing, self)
        liveness = self.c.liveness.verdict
        if self.c.checks.needs_second_look() and liveness in ("fail", "inconclusive"):
            text = self.tr("The liveness check did not pass: approving asks for a "
                           "supervisor's second look.")
            if missing:
                text = dialog.blocked.text() + "\n" + text
            dialog.blocked.setText(text)
            dialog.blocked.show()
        elif liveness is None and "liveness_not_passed" in self.c.checks.blockers():
            text = self.tr("Run the liveness check first (random challenges).")
            if missing:
                text = dialog.blocked.text() + "\n" + text
            dialog.blocked.setText(text)
            dialog.blocked.show()
        elif self.c.checks.needs_second_look():
            text = self.tr("The automated face comparison says different person: approving "
                           "asks for a supervisor's second look.")
            if missing:
                text = dialog.blocked.text() + "\n" + text
            dialog.blocked.setText(text)
            dialog.blocked.show()
        if self.c.injection_blocking():
            text = self.tr("Signs of a virtual or injected camera: approving asks for the "
                           "reason to go on, which is recorded.")
            if not dialog.blocked.isHidden():
                text = dialog.blocked.text() + "\n" + text
            dialog.blocked.setText(text)
            dialog.blocked.show()
        return dialog

    @Slot()
    def open_decision(self) -> None:
        dialog = self.decision_dialog()
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.submit_decision(dialog)

    def submit_decision(self, dialog: DecisionDialog) -> None:
        """Send what the dialog holds (the button path and the autopilot both end here).
        Approving against a "different person" face result first needs a supervisor's second
        look (ETSI TS 119 461); the decision goes out once the supervisor confirmed."""
        decision, reason, note = dialog.decision(), dialog.reason_code(), dialog.note_text()
        if decision == "approved" and self.c.injection_blocking() \
                and not self.override_injection():
            return
        if decision == "approved" and self.c.checks.needs_second_look():
            self.ask_second_look(lambda: self._send_decision(decision, reason, note))
            return
        self._send_decision(decision, reason, note)

    def override_injection(self) -> bool:
        """Ask the operator why the session may go on despite the injection signals."""
        reason, ok = QInputDialog.getText(
            self, self.tr("Camera injection suspected"),
            self.tr("The applicant's camera shows signs of a virtual or injected video. "
                    "Why can the approval go on? (recorded)"))
        return bool(ok and reason.strip()) and self.c.override_injection(reason)

    def _send_decision(self, decision: str, reason: str, note: str) -> None:
        self.decision_button.setEnabled(False)
        self.c.decide(decision, reason, note)

    def ask_second_look(self, then: Any) -> SupervisorDialog:
        """Open the supervisor dialog (window-modal, not blocking); ``then()`` on success."""
        dialog = SupervisorDialog(self.c.checks, self)
        dialog.accepted.connect(then)
        dialog.finished.connect(lambda _r: setattr(self, "supervisor_dialog", None))
        self.supervisor_dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def _decided(self, *_: object) -> None:
        self.decision_button.setEnabled(False)
        self.close_button.show()

    @Slot()
    def _close_session(self) -> None:
        if self.c.call_state in ("connected", "connecting", "lost", "reconnecting"):
            self.c.hang_up()
        self.close_button.hide()
        self.c.close_session()

    # --- automated checks -------------------------------------------------------------------
    def _wire_checks(self) -> None:
        checks, f = self.c.checks, self.findings
        checks.still_checked.connect(f.show_still)
        checks.still_check_failed.connect(f.show_still_failed)
        checks.face_checked.connect(f.show_face)
        checks.blockers_changed.connect(lambda b: f.set_blockers(b, checks.supervisor))
        self.c.injection_changed.connect(f.show_injection)
        self.c.liveness_changed.connect(self._liveness_changed)
        checks.live_hints.connect(f.show_hints)
        checks.auto_capture.connect(self._auto_capture)
        checks.features_changed.connect(self._show_features)
        checks.feature_updated.connect(f.update_feature)
        f.auto_capture_toggled.connect(checks.set_auto_capture)
        f.feature_ask.connect(checks.ask_feature)
        f.feature_capture.connect(checks.capture_feature)
        f.feature_verdict.connect(checks.set_feature_verdict)

    @Slot(object)
    def _liveness_changed(self, state: dict[str, Any]) -> None:
        self.findings.show_liveness(state)
        running = state.get("state") == "running"
        passed = (state.get("result") or {}).get("verdict") == "pass"
        self.liveness_button.setEnabled(not running and not passed)
        if state.get("error") == "not_connected":
            self.step_error.setText(self.tr("The liveness check needs the call connected."))

    @Slot(object)
    def _show_features(self, features: list[Any]) -> None:
        session = self.c.session
        language = session.language if session is not None else "it"
        self.findings.set_features(features, self.c.checks.instruction_text, language)

    def live_target(self) -> tuple[str | None, str | None]:
        """The current step and its first document still not captured yet."""
        step_id = self.checklist.current_step_id()
        view = self.checklist.step(step_id) if step_id else None
        if view is None or view.status == "passed":
            return None, None
        for target in view.targets:
            if target in DOCUMENT_TARGETS and not self.checklist.has_still(step_id or "", target):
                return step_id, target
        return None, None

    def _update_live_target(self) -> None:
        self.c.checks.set_live_target(*self.live_target())

    @Slot(str, str)
    def _auto_capture(self, step_id: str, target: str) -> None:
        """The live analysis found the document steady, sharp and free of glare."""
        cell = getattr(self.checklist, "_cells", {}).get(step_id)
        button = None if cell is None else cell.buttons.get(target)
        if button is None or not button.isEnabled() or self.checklist.has_still(step_id, target):
            return
        self.capture(step_id, target)

    def stop(self) -> None:
        self.c.checks.stop()
        self._frame_timer.stop()
        self._clock.stop()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
