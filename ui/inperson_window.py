"""The partner's window for the in-person check (AgID art. 7): booking code → card → stills →
signed form → script → decision. Drives ``console.flows.inperson.InPersonWorkflow``; every slow call
(desk service, card, camera, PDF) runs on a worker thread, card events come from a
``cardreader.pcsc.CardWatcher`` re-emitted as a signal, so slots always run on the GUI thread."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cardreader.crosscheck import CheckCode
from cardreader.errors import CardError, CardErrorCode
from cardreader.pcsc import CardEvent, CardEventKind, CardWatcher
from console.errors import ConsoleError
from console.flows.inperson import (
    FACE,
    Blocker,
    Camera,
    InPersonError,
    InPersonWorkflow,
    StillCheck,
)
from console.script import StepKind
from ui.messages import (
    error_message,
    missing_text,
    product_label,
    reason_label,
    step_status_label,
)
from ui.script_labels import step_title, target_label
from ui.tasks import run_task

log = logging.getLogger(__name__)

CAPTURE_TARGETS = ("document_front", "document_back", "health_card", FACE, "signed_form")
REJECT_REASONS = (
    "data_mismatch",
    "document_expired",
    "document_damaged",
    "applicant_refused",
    "suspected_fraud",
    "face_mismatch",
    "other",
)


class _CardBridge(QObject):
    """Re-emits the watcher's events (its own thread) as a signal (queued to the GUI thread)."""

    card_event = Signal(object)


def card_error_text(code: str) -> str:
    """Translated sentence for a ``cardreader`` error code."""
    texts = {
        CardErrorCode.NO_SERVICE: QCoreApplication.translate(
            "InPerson",
            "The smart-card service (pcscd) is not running. Start it with "
            "'sudo systemctl start pcscd' (or 'sudo pcscd').",
        ),
        CardErrorCode.NO_READER: QCoreApplication.translate(
            "InPerson", "No card reader is connected."
        ),
        CardErrorCode.READER_NOT_FOUND: QCoreApplication.translate(
            "InPerson", "The card reader is not connected."
        ),
        CardErrorCode.READER_REMOVED: QCoreApplication.translate(
            "InPerson", "The card reader was unplugged."
        ),
        CardErrorCode.NO_CARD: QCoreApplication.translate(
            "InPerson", "Insert the Tessera Sanitaria in the reader."
        ),
        CardErrorCode.CARD_REMOVED: QCoreApplication.translate(
            "InPerson", "The card was removed while being read: nothing was kept. Insert it again."
        ),
        CardErrorCode.CARD_UNRESPONSIVE: QCoreApplication.translate(
            "InPerson", "The card does not answer. Check that it is inserted the right way."
        ),
        CardErrorCode.NOT_CNS: QCoreApplication.translate(
            "InPerson", "This card is not a Tessera Sanitaria / CNS."
        ),
        CardErrorCode.ACCESS_DENIED: QCoreApplication.translate(
            "InPerson", "The card refuses to be read without a PIN."
        ),
        CardErrorCode.MALFORMED_PERSONAL_DATA: QCoreApplication.translate(
            "InPerson", "The personal data on the card are unreadable (malformed file)."
        ),
        CardErrorCode.MALFORMED_CARD_NUMBER: QCoreApplication.translate(
            "InPerson", "The card number on the card is unreadable."
        ),
        CardErrorCode.MALFORMED_CERTIFICATE: QCoreApplication.translate(
            "InPerson", "The certificate on the card is unreadable (malformed)."
        ),
    }
    try:
        return texts[CardErrorCode(code)]
    except (ValueError, KeyError):
        return QCoreApplication.translate("InPerson", "The card could not be read.")


def check_text(code: CheckCode) -> str:
    return {
        CheckCode.CF_CARD_VS_REQUEST: QCoreApplication.translate(
            "InPerson", "Codice fiscale differs from the request"
        ),
        CheckCode.CF_CERTIFICATE_VS_CARD: QCoreApplication.translate(
            "InPerson", "Codice fiscale in the certificate differs from the card data"
        ),
        CheckCode.CARD_NUMBER_CERTIFICATE_VS_CARD: QCoreApplication.translate(
            "InPerson", "Card number in the certificate differs from the card"
        ),
        CheckCode.SURNAME: QCoreApplication.translate(
            "InPerson", "Surname differs from the request"
        ),
        CheckCode.GIVEN_NAMES: QCoreApplication.translate(
            "InPerson", "Given names differ from the request"
        ),
        CheckCode.BIRTH_DATE: QCoreApplication.translate(
            "InPerson", "Date of birth differs from the request"
        ),
        CheckCode.CARD_EXPIRED: QCoreApplication.translate("InPerson", "The card is expired"),
        CheckCode.CERTIFICATE_EXPIRED: QCoreApplication.translate(
            "InPerson", "The CNS certificate is expired"
        ),
        CheckCode.NO_CERTIFICATE: QCoreApplication.translate(
            "InPerson",
            "This Tessera Sanitaria carries no CNS certificate (the data are still checked)",
        ),
    }[code]


def blocker_text(b: Blocker) -> str:
    return {
        Blocker.NO_REQUEST: QCoreApplication.translate(
            "InPerson", "Look the request up by its booking code"
        ),
        Blocker.CARD_NOT_READ: QCoreApplication.translate("InPerson", "Read the Tessera Sanitaria"),
        Blocker.CARD_MISMATCH: QCoreApplication.translate(
            "InPerson", "The card does not match the request"
        ),
        Blocker.CARD_EXPIRED: QCoreApplication.translate(
            "InPerson", "The Tessera Sanitaria is expired"
        ),
        Blocker.DOCUMENT_EXPIRED: QCoreApplication.translate(
            "InPerson", "The identity document is expired"
        ),
        Blocker.MRZ_MISMATCH: QCoreApplication.translate(
            "InPerson", "The document's MRZ does not match the request"
        ),
        Blocker.FACE_MISSING: QCoreApplication.translate(
            "InPerson", "Take the photo of the person"
        ),
        Blocker.STEPS_MISSING: QCoreApplication.translate("InPerson", "Complete the script steps"),
        Blocker.DECIDED: QCoreApplication.translate("InPerson", "Already decided"),
    }[b]


def inperson_error_text(code: str) -> str:
    texts = {
        "booking_not_found": QCoreApplication.translate(
            "InPerson", "No request has this booking code."
        ),
        "request_closed": QCoreApplication.translate(
            "InPerson", "This request is already decided."
        ),
        "request_open": QCoreApplication.translate("InPerson", "Finish the current request first."),
        "no_request": QCoreApplication.translate("InPerson", "Look the request up first."),
        "card_not_read": QCoreApplication.translate(
            "InPerson", "Read the Tessera Sanitaria first."
        ),
        "card_mismatch": QCoreApplication.translate(
            "InPerson", "The card does not match the request."
        ),
        "document_expired": QCoreApplication.translate(
            "InPerson", "The identity document is expired."
        ),
        "invalid_image": QCoreApplication.translate(
            "InPerson", "The picture is not usable; take it again."
        ),
        "unknown_target": QCoreApplication.translate("InPerson", "Unknown picture kind."),
        "camera_unavailable": QCoreApplication.translate(
            "InPerson", "The camera is not available."
        ),
        "approval_blocked": QCoreApplication.translate(
            "InPerson", "Approval is blocked: see the list of what is missing."
        ),
    }
    return texts.get(code) or error_message(code)


def _thumb(img: np.ndarray, width: int = 160) -> QPixmap:
    h, w = img.shape[:2]
    small = cv2.resize(img, (width, max(1, int(h * width / w))))
    rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB) if small.ndim == 3 else small
    rgb = np.ascontiguousarray(rgb)
    fmt = QImage.Format.Format_RGB888 if rgb.ndim == 3 else QImage.Format.Format_Grayscale8
    qimg = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], fmt)
    return QPixmap.fromImage(qimg.copy())


class InPersonWindow(QMainWindow):
    """The partner's in-person check, through to a decision."""

    decided = Signal(str)  # the decision value, once the desk service accepted it
    card_shown = Signal()  # card fields are on screen (benchmarks / tests)
    busy_changed = Signal(bool)
    workflow_changed = Signal(str)  # re-emitted from the workflow's listener (any thread)
    stopped = Signal()  # the window closed: card watcher stopped

    def __init__(
        self,
        workflow: InPersonWorkflow,
        camera: Camera,
        *,
        reader: str | None = None,
        watch_cards: bool = True,
        language: str = "it",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workflow = workflow
        self.camera = camera
        self.reader = reader
        self.language = language
        self._busy = 0
        self._reading = False
        self.setWindowTitle(self.tr("In-person identification"))
        self._build()
        self._bridge = _CardBridge(self)
        self._bridge.card_event.connect(self._on_card_event)
        self._watcher: CardWatcher | None = None
        if watch_cards:
            self._watcher = CardWatcher(self._bridge.card_event.emit)
            self._watcher.start()
        self.workflow_changed.connect(lambda _what: self._refresh())
        workflow.listeners.append(self.workflow_changed.emit)
        self._refresh()

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)

        top = QHBoxLayout()
        self.booking_edit = QLineEdit()
        self.booking_edit.setPlaceholderText(self.tr("Booking code"))
        self.booking_edit.returnPressed.connect(self.look_up)
        self.find_button = QPushButton(self.tr("Find request"))
        self.find_button.clicked.connect(self.look_up)
        top.addWidget(QLabel(self.tr("Booking code:")))
        top.addWidget(self.booking_edit, 1)
        top.addWidget(self.find_button)
        outer.addLayout(top)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("inpersonMessage")
        outer.addWidget(self.message)

        grid = QGridLayout()
        outer.addLayout(grid, 1)

        req_box = QGroupBox(self.tr("Request"))
        self.request_form = QFormLayout(req_box)
        self.request_labels: dict[str, QLabel] = {}
        for key, label in (
            ("product", self.tr("Service")),
            ("name", self.tr("Applicant")),
            ("codice_fiscale", self.tr("Codice fiscale")),
            ("birth_date", self.tr("Date of birth")),
            ("document", self.tr("Document")),
        ):
            value = QLabel("—")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.request_labels[key] = value
            self.request_form.addRow(label, value)
        grid.addWidget(req_box, 0, 0)

        card_box = QGroupBox(self.tr("Tessera Sanitaria / CNS"))
        card_layout = QVBoxLayout(card_box)
        self.card_status = QLabel(self.tr("Insert the Tessera Sanitaria in the reader."))
        self.card_status.setWordWrap(True)
        card_layout.addWidget(self.card_status)
        card_form = QFormLayout()
        self.card_labels: dict[str, QLabel] = {}
        for key, label in (
            ("card_number", self.tr("Card number")),
            ("name", self.tr("Holder")),
            ("codice_fiscale", self.tr("Codice fiscale")),
            ("birth_date", self.tr("Date of birth")),
            ("expiry_date", self.tr("Expiry")),
            ("certificate", self.tr("CNS certificate")),
        ):
            value = QLabel("—")
            self.card_labels[key] = value
            card_form.addRow(label, value)
        card_layout.addLayout(card_form)
        self.checks_list = QListWidget()
        self.checks_list.setMaximumHeight(110)
        card_layout.addWidget(self.checks_list)
        self.read_button = QPushButton(self.tr("Read card"))
        self.read_button.clicked.connect(self.read_card)
        card_layout.addWidget(self.read_button)
        grid.addWidget(card_box, 0, 1)

        cap_box = QGroupBox(self.tr("Pictures"))
        cap_layout = QGridLayout(cap_box)
        self.capture_buttons: dict[str, QPushButton] = {}
        self.capture_views: dict[str, QLabel] = {}
        for i, target in enumerate(CAPTURE_TARGETS):
            button = QPushButton(target_label(target))
            button.clicked.connect(lambda _=False, t=target: self.capture(t))
            view = QLabel(self.tr("not taken"))
            view.setMinimumSize(160, 100)
            view.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.capture_buttons[target] = button
            self.capture_views[target] = view
            cap_layout.addWidget(button, 0, i)
            cap_layout.addWidget(view, 1, i)
        self.form_button = QPushButton(self.tr("Print the request form (PDF)"))
        self.form_button.clicked.connect(self.print_form)
        self.form_label = QLabel()
        cap_layout.addWidget(self.form_button, 2, 0, 1, 2)
        cap_layout.addWidget(self.form_label, 2, 2, 1, 3)
        grid.addWidget(cap_box, 1, 0, 1, 2)

        steps_box = QGroupBox(self.tr("Script (AgID art. 7)"))
        steps_layout = QVBoxLayout(steps_box)
        self.steps_area = QScrollArea()
        self.steps_area.setWidgetResizable(True)
        self.steps_widget = QWidget()
        self.steps_layout = QVBoxLayout(self.steps_widget)
        self.steps_area.setWidget(self.steps_widget)
        steps_layout.addWidget(self.steps_area)
        self.step_rows: dict[str, tuple[QLabel, QPushButton]] = {}
        grid.addWidget(steps_box, 2, 0)

        dec_box = QGroupBox(self.tr("Decision"))
        dec_layout = QVBoxLayout(dec_box)
        self.blockers_list = QListWidget()
        self.blockers_list.setMaximumHeight(120)
        dec_layout.addWidget(QLabel(self.tr("Still missing for approval:")))
        dec_layout.addWidget(self.blockers_list)
        self.approve_button = QPushButton(self.tr("Approve"))
        self.approve_button.clicked.connect(self.approve)
        dec_layout.addWidget(self.approve_button)
        row = QHBoxLayout()
        self.reason_combo = QComboBox()
        for code in REJECT_REASONS:
            self.reason_combo.addItem(reason_label(code), code)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText(self.tr("Note"))
        row.addWidget(self.reason_combo)
        row.addWidget(self.note_edit, 1)
        dec_layout.addLayout(row)
        row2 = QHBoxLayout()
        self.reject_button = QPushButton(self.tr("Reject"))
        self.reject_button.clicked.connect(lambda: self.decide("rejected"))
        self.suspend_button = QPushButton(self.tr("Suspend"))
        self.suspend_button.clicked.connect(lambda: self.decide("suspended"))
        row2.addWidget(self.reject_button)
        row2.addWidget(self.suspend_button)
        dec_layout.addLayout(row2)
        self.decision_label = QLabel()
        dec_layout.addWidget(self.decision_label)
        grid.addWidget(dec_box, 2, 1)

        self.setCentralWidget(central)
        self.resize(1100, 860)

    # ---------------------------------------------------------------- helpers
    def _run(self, fn: Any, done: Any) -> None:
        self._set_busy(+1)

        def ok(result: object) -> None:
            self._set_busy(-1)
            done(result)

        def failed(exc: BaseException) -> None:
            self._set_busy(-1)
            self._show_error(exc)

        run_task(fn, ok, failed, parent=self)

    def _set_busy(self, delta: int) -> None:
        was = self._busy > 0
        self._busy += delta
        if was != (self._busy > 0):
            self.busy_changed.emit(self._busy > 0)
        self._refresh()

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def _show_error(self, exc: BaseException) -> None:
        if isinstance(exc, CardError):
            self.card_status.setText(card_error_text(exc.code.value))
            self._clear_card()
        elif isinstance(exc, InPersonError):
            self.message.setText(inperson_error_text(exc.code))
        elif isinstance(exc, ConsoleError):
            missing = list(getattr(exc, "missing", ()))
            text = error_message(exc.code)
            self.message.setText(text + "\n" + missing_text(missing) if missing else text)
        else:
            log.error("in-person action failed: %s", type(exc).__name__)
            self.message.setText(self.tr("Unexpected error; the action was not completed."))
        self._refresh()

    # ---------------------------------------------------------------- actions
    def look_up(self) -> None:
        code = self.booking_edit.text().strip()
        if not code:
            self.message.setText(self.tr("Type the booking code."))
            return
        self.message.setText(self.tr("Looking the request up…"))
        self._run(lambda: self.workflow.look_up(code), self._request_loaded)

    def _request_loaded(self, _req: object) -> None:
        req = self.workflow.request
        if req is None:
            return
        a = req.applicant
        self.message.setText(self.tr("Request found. Read the card and take the pictures."))
        self.request_labels["product"].setText(product_label(req.product.value))
        self.request_labels["name"].setText(f"{a.surname} {a.given_names}")
        self.request_labels["codice_fiscale"].setText(a.codice_fiscale)
        self.request_labels["birth_date"].setText(
            a.birth_date.strftime("%d/%m/%Y") if a.birth_date else "—"
        )
        doc = req.document
        self.request_labels["document"].setText(
            f"{doc.number} ({doc.expiry_date.strftime('%d/%m/%Y') if doc.expiry_date else '—'})"
            if doc
            else "—"
        )
        self._build_steps()
        self._clear_card()
        self.card_status.setText(self.tr("Insert the Tessera Sanitaria in the reader."))
        for target in CAPTURE_TARGETS:
            self.capture_views[target].setText(self.tr("not taken"))
            self.capture_views[target].setPixmap(QPixmap())
        self.form_label.clear()
        self.decision_label.clear()
        if self._card_present_atr is not None:
            self.read_card()
        self._refresh()

    _card_present_atr: bytes | None = None

    def read_card(self) -> None:
        if self.workflow.request is None or self._reading:
            return
        self._reading = True
        self.card_status.setText(self.tr("Reading the card…"))
        self._clear_card()

        def done(_outcome: object) -> None:
            self._reading = False
            self._show_card()

        def fn() -> object:
            try:
                return self.workflow.read_card(self.reader)
            finally:
                self._reading = False

        self._run(fn, done)

    def capture(self, target: str) -> None:
        def fn() -> tuple[np.ndarray, StillCheck]:
            img = self.camera.grab(target)
            return img, self.workflow.capture(target, img)

        def done(result: object) -> None:
            assert isinstance(result, tuple)
            img: np.ndarray = result[0]
            check: StillCheck = result[1]
            view = self.capture_views[target]
            view.setPixmap(_thumb(img))
            notes = []
            if check.quality:
                notes.append(self.tr("poor picture: take it again"))
            if check.document_found is False:
                notes.append(self.tr("no document found"))
            if check.mrz_valid is False:
                notes.append(self.tr("MRZ check digits wrong"))
            if check.mrz_mismatch:
                notes.append(self.tr("MRZ differs from the request"))
            view.setToolTip("; ".join(notes) or self.tr("ok"))
            self._refresh()

        self._run(fn, done)

    def print_form(self) -> None:
        self._run(
            lambda: self.workflow.print_form(language=self.language),
            lambda path: self.form_label.setText(
                self.tr("Form saved: %1").replace("%1", str(path))
            ),
        )

    def confirm_step(self, step_id: str) -> None:
        try:
            self.workflow.confirm(step_id)
        except ConsoleError as exc:
            self._show_error(exc)
        self._refresh()

    def approve(self) -> None:
        self._run(lambda: self.workflow.approve(), self._decided)

    def decide(self, decision: str) -> None:
        reason = str(self.reason_combo.currentData())
        note = self.note_edit.text()
        if decision == "rejected":
            self._run(lambda: self.workflow.reject(reason, note), self._decided)
        else:
            self._run(lambda: self.workflow.suspend(reason, note), self._decided)

    def _decided(self, result: object) -> None:
        state = getattr(getattr(result, "state", None), "value", "")
        self.decision_label.setText(self.tr("Decision recorded: %1").replace("%1", state))
        if self.workflow.decision_queued:
            self.decision_label.setText(self.tr(
                "Decision kept (%1): it will be sent when the desk service answers."
            ).replace("%1", state))
        self.message.setText(self.tr("Done. Type the next booking code."))
        self._refresh()
        self.decided.emit(state)

    # ---------------------------------------------------------------- card events
    def _on_card_event(self, ev: object) -> None:
        if not isinstance(ev, CardEvent):
            return
        if self.reader is not None and ev.reader and ev.reader != self.reader:
            return
        if ev.kind == CardEventKind.INSERTED:
            self._card_present_atr = ev.atr
            session = self.workflow.session
            if self.workflow.request is not None and session is not None and not session.is_closed:
                self.read_card()  # a new card replaces the one read before (e.g. the wrong one)
            elif self.workflow.request is None:
                self.card_status.setText(self.tr("Card inserted. Look the request up first."))
        elif ev.kind == CardEventKind.REMOVED:
            self._card_present_atr = None
            if self._reading:
                self.card_status.setText(card_error_text(CardErrorCode.CARD_REMOVED.value))
        elif ev.kind == CardEventKind.ERROR and ev.error is not None:
            self.card_status.setText(card_error_text(ev.error.code.value))
        elif ev.kind == CardEventKind.READERS_CHANGED and not ev.readers:
            self.card_status.setText(card_error_text(CardErrorCode.NO_READER.value))

    def _clear_card(self) -> None:
        for label in self.card_labels.values():
            label.setText("—")
        self.checks_list.clear()

    def _show_card(self) -> None:
        outcome = self.workflow.card
        if outcome is None:
            return
        card = outcome.card
        p = card.personal
        self.card_labels["card_number"].setText(card.card_number)
        self.card_labels["name"].setText(f"{p.surname} {p.given_names}")
        self.card_labels["codice_fiscale"].setText(p.codice_fiscale)
        self.card_labels["birth_date"].setText(p.birth_date.strftime("%d/%m/%Y"))
        self.card_labels["expiry_date"].setText(p.expiry_date.strftime("%d/%m/%Y"))
        self.card_labels["certificate"].setText(
            self.tr("present") if card.has_certificate else self.tr("absent")
        )
        self.checks_list.clear()
        for code in outcome.check.problems:
            item = QListWidgetItem(
                ("✗ " if code in outcome.check.blocking else "ℹ ") + check_text(code)
            )
            self.checks_list.addItem(item)
        if outcome.ok:
            self.card_status.setText(self.tr("Card read: it matches the request."))
        else:
            self.card_status.setText(self.tr("Card read: it does NOT match the request."))
        self._refresh()
        self.card_shown.emit()

    # ---------------------------------------------------------------- script and state
    def _build_steps(self) -> None:
        while self.steps_layout.count():
            item = self.steps_layout.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self.step_rows = {}
        session = self.workflow.session
        req = self.workflow.request
        if session is None or req is None:
            return
        a = req.applicant
        values = {
            "applicant_name": f"{a.given_names} {a.surname}",
            "codice_fiscale": a.codice_fiscale,
            "mobile": a.mobile,
            "email": a.email,
            "product_name": product_label(req.product.value),
        }
        for state in session.steps:
            row = QWidget()
            lay = QHBoxLayout(row)
            lay.setContentsMargins(0, 0, 0, 0)
            text = QLabel(
                f"<b>{step_title(state.step.code)}</b><br>{state.step.say(self.language, values)}"
            )
            text.setWordWrap(True)
            button = QPushButton(self.tr("Confirm"))
            button.setVisible(state.step.kind is not StepKind.CAPTURE)
            button.clicked.connect(lambda _=False, s=state.step.id: self.confirm_step(s))
            lay.addWidget(text, 1)
            lay.addWidget(button)
            self.steps_layout.addWidget(row)
            self.step_rows[state.step.id] = (text, button)
        self.steps_layout.addStretch(1)

    def _refresh(self) -> None:
        wf = self.workflow
        has_request = wf.request is not None
        closed = wf.session is not None and wf.session.is_closed
        idle = not self.busy
        self.find_button.setEnabled(idle and (not has_request or closed))
        self.read_button.setEnabled(idle and has_request and not closed)
        for button in self.capture_buttons.values():
            button.setEnabled(idle and has_request and not closed)
        self.form_button.setEnabled(idle and has_request and not closed)
        self.approve_button.setEnabled(idle and has_request and wf.can_approve)
        self.reject_button.setEnabled(idle and has_request and not closed)
        self.suspend_button.setEnabled(idle and has_request and not closed)
        if wf.session is not None:
            for step_id, (_text, button) in self.step_rows.items():
                state = wf.session.step_state(step_id)
                button.setEnabled(idle and not state.done and not closed)
                button.setText(
                    self.tr("Confirm") if not state.done else step_status_label(state.status.value)
                )
        self.blockers_list.clear()
        for b in wf.blockers():
            if b is Blocker.DECIDED:
                continue
            self.blockers_list.addItem(blocker_text(b))

    def closeEvent(self, event: Any) -> None:
        self.stop()
        super().closeEvent(event)

    def stop(self) -> None:
        """Stop the card watcher (also done on close)."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if self.workflow_changed.emit in self.workflow.listeners:
            self.workflow.listeners.remove(self.workflow_changed.emit)
        self.stopped.emit()


def open_for_partner(
    client: Any,
    data_root: Path,
    *,
    operator: dict[str, Any] | None = None,
    language: str = "it",
) -> InPersonWindow:
    """The partner's workspace after sign-in (``ui.shell``): the workstation's camera and card
    reader, evidence sealed with this workstation's key under ``data_root`` and queued in the
    durable outbox for upload (``console.evidence.upload.Uploader``)."""
    from console.evidence.keys import WorkstationKey
    from console.evidence.upload import Uploader
    from console.flows.inperson import WorkstationCamera
    from console.outbox import Outbox, OutboxWorker

    outbox = Outbox.in_data_dir(data_root)  # decisions and evidence, delivered with retries
    wf = InPersonWorkflow(
        client,
        operator=operator,
        evidence_root=data_root / "evidence",
        workstation_key=WorkstationKey.load_or_create(data_root),
        work_dir=data_root / "in-person",
        uploader=Uploader(client, data_root, outbox=outbox),
        outbox=outbox,
    )
    worker = OutboxWorker(outbox, poll_max=5.0)
    worker.start()
    window = InPersonWindow(wf, WorkstationCamera(), language=language)

    def stop_outbox() -> None:
        if worker.running:
            worker.stop(timeout=2.0)
            outbox.close()

    window.stopped.connect(stop_outbox)
    return window
