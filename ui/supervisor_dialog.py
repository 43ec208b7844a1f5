"""The supervisor's second look (ETSI TS 119 461: manual and automated face results disagree).

The supervisor signs in here with their own username, password and TOTP code; the console
checks it through a separate desk client on a worker (``SessionChecks.verify_supervisor``).
Only a confirmed second look clears the ``face_mismatch_unconfirmed`` blocker; the dialog is
accepted then, and the decision goes out.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.messages import error_message

log = logging.getLogger(__name__)


class SupervisorDialog(QDialog):
    def __init__(self, checks: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("supervisorDialog")
        self.setWindowTitle(self.tr("Supervisor's second look"))
        self.setMinimumWidth(420)
        self.checks = checks
        explain = QLabel(self.tr(
            "The automated comparison says the applicant's face and the document photo belong "
            "to different people. To approve, a supervisor must look at the call and the stills "
            "and confirm here with their own credentials."), self)
        explain.setWordWrap(True)
        self.user = QLineEdit(self)
        self.user.setObjectName("supervisorUser")
        self.password = QLineEdit(self)
        self.password.setObjectName("supervisorPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.totp = QLineEdit(self)
        self.totp.setObjectName("supervisorTotp")
        self.totp.setMaxLength(8)
        self.totp.setPlaceholderText(self.tr("6 digits"))
        form = QFormLayout()
        form.addRow(self.tr("Supervisor"), self.user)
        form.addRow(self.tr("Password"), self.password)
        form.addRow(self.tr("Authenticator code"), self.totp)
        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.confirm_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.confirm_button.setText(self.tr("Confirm and approve"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Cancel"))
        self.buttons.accepted.connect(self._confirm)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        checks.supervisor_done.connect(self._done)

    @Slot()
    def _confirm(self) -> None:
        user, password, totp = self.user.text().strip(), self.password.text(), self.totp.text()
        if not user or not password or not totp.strip():
            self._show_error(self.tr("Fill in the supervisor, the password and the code."))
            return
        self.confirm_button.setEnabled(False)
        self.error.hide()
        self.checks.verify_supervisor(user, password, totp)

    @Slot(bool, str)
    def _done(self, ok: bool, code: str) -> None:
        self.confirm_button.setEnabled(True)
        self.password.clear()
        self.totp.clear()
        if ok:
            self.accept()
            return
        messages = {
            "not_supervisor": self.tr("This account is not a supervisor."),
            "same_person": self.tr("The second look must be by another person."),
        }
        self._show_error(messages.get(code) or error_message(code))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def done(self, result: int) -> None:
        with contextlib.suppress(RuntimeError, TypeError):
            self.checks.supervisor_done.disconnect(self._done)
        super().done(result)
