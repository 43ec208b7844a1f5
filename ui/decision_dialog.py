"""Decision dialog: approve / reject / suspend, a reason code and a note."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ui.messages import REASON_CODES, reason_label

log = logging.getLogger(__name__)

DECISIONS = ("approved", "rejected", "suspended")
NOTE_MAX = 2000


class DecisionDialog(QDialog):
    """Asks for the decision. ``missing_required`` (titles) blocks "approve" and says why."""

    def __init__(
        self,
        missing_required: Sequence[str] = (),
        parent: QWidget | None = None,
        default: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("decisionDialog")
        self.setWindowTitle(self.tr("Decision"))
        self.setMinimumWidth(480)
        self.approve_button = QRadioButton(self.tr("Approve"), self)
        self.reject_button = QRadioButton(self.tr("Reject"), self)
        self.suspend_button = QRadioButton(
            self.tr("Suspend (the applicant can be called again)"), self
        )
        self._group = QButtonGroup(self)
        for i, button in enumerate((self.approve_button, self.reject_button, self.suspend_button)):
            self._group.addButton(button, i)
        choice = QHBoxLayout()
        for button in (self.approve_button, self.reject_button, self.suspend_button):
            choice.addWidget(button)
        choice.addStretch(1)

        self.blocked = QLabel(self)
        self.blocked.setObjectName("banner")
        self.blocked.setWordWrap(True)
        self.approve_button.setEnabled(not missing_required)
        if missing_required:
            self.blocked.setText(
                self.tr("Approval is blocked: required steps not passed: %1").replace(
                    "%1", ", ".join(missing_required)
                )
            )
        else:
            self.blocked.hide()

        self.reason = QComboBox(self)
        self.reason.setObjectName("reason")
        self.note = QPlainTextEdit(self)
        self.note.setObjectName("note")
        self.note.setPlaceholderText(
            self.tr("Note for the record (optional, required for 'Other')")
        )
        self.note.setFixedHeight(90)
        form = QFormLayout()
        form.addRow(self.tr("Reason"), self.reason)
        form.addRow(self.tr("Note"), self.note)

        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Send decision"))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setObjectName("primary")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Cancel"))
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Outcome of the recognition"), self))
        layout.addLayout(choice)
        layout.addWidget(self.blocked)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self._group.idToggled.connect(self._decision_changed)
        start = default if default in DECISIONS else None
        if start is None:
            start = "approved" if not missing_required else "suspended"
        self.set_decision(start)

    def set_decision(self, decision: str) -> None:
        button = {
            "approved": self.approve_button,
            "rejected": self.reject_button,
            "suspended": self.suspend_button,
        }[decision]
        if button.isEnabled():
            button.setChecked(True)
        self._decision_changed(self._group.checkedId(), True)

    def decision(self) -> str:
        return DECISIONS[max(0, self._group.checkedId())]

    def reason_code(self) -> str:
        return str(self.reason.currentData())

    def note_text(self) -> str:
        return self.note.toPlainText().strip()[:NOTE_MAX]

    def set_reason(self, code: str) -> None:
        index = self.reason.findData(code)
        if index >= 0:
            self.reason.setCurrentIndex(index)

    @Slot(int, bool)
    def _decision_changed(self, _id: int, checked: bool) -> None:
        if not checked:
            return
        current = self.reason.currentData()
        self.reason.clear()
        codes = (
            ("ok",)
            if self.decision() == "approved"
            else tuple(c for c in REASON_CODES if c != "ok")
        )
        for code in codes:
            self.reason.addItem(reason_label(code), code)
        if current is not None:
            self.set_reason(str(current))

    @Slot()
    def _accept(self) -> None:
        if self._group.checkedId() < 0:
            self.error.setText(self.tr("Choose an outcome."))
            self.error.show()
            return
        if self.reason_code() == "other" and not self.note_text():
            self.error.setText(self.tr("Explain the reason in the note."))
            self.error.show()
            return
        self.accept()
