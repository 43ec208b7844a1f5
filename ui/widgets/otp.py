"""OTP panel: send the SMS code, type what the applicant reads back, attempts left."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.messages import error_message

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class OtpPanel(QGroupBox):
    send_requested = Signal()
    verify_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("otpPanel")
        self.setTitle(self.tr("SMS code"))
        self.send_button = QPushButton(self.tr("Send code"), self)
        self.send_button.setObjectName("sendOtp")
        self.send_button.clicked.connect(self._send)
        self.code = QLineEdit(self)
        self.code.setObjectName("otpCode")
        self.code.setPlaceholderText(self.tr("code read by the applicant"))
        self.code.setMaxLength(6)
        self.code.setValidator(
            QRegularExpressionValidator(r"[0-9]{0,6}", self)  # type: ignore[call-overload]
        )
        self.code.setEnabled(False)
        self.code.returnPressed.connect(self._verify)
        self.verify_button = QPushButton(self.tr("Verify"), self)
        self.verify_button.setObjectName("verifyOtp")
        self.verify_button.setEnabled(False)
        self.verify_button.clicked.connect(self._verify)
        self.status = QLabel(self.tr("Not sent yet."), self)
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.heard = QLabel(self)
        self.heard.setObjectName("hint")
        self.heard.hide()

        row = QHBoxLayout()
        row.addWidget(self.send_button)
        row.addWidget(self.code, 1)
        row.addWidget(self.verify_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.heard)
        self.attempts_left = MAX_ATTEMPTS
        self.verified = False
        self.exhausted = False

    def reset(self) -> None:
        self.attempts_left = MAX_ATTEMPTS
        self.verified = False
        self.exhausted = False
        self.send_button.setText(self.tr("Send code"))
        self.send_button.setEnabled(True)
        self.code.clear()
        self.code.setEnabled(False)
        self.verify_button.setEnabled(False)
        self.status.setText(self.tr("Not sent yet."))
        self.heard.hide()

    # --- from the controller -----------------------------------------------------------------
    def on_sent(self, attempts_left: int) -> None:
        self.attempts_left = attempts_left
        self.send_button.setText(self.tr("Send again"))
        self.send_button.setEnabled(True)
        self.code.setEnabled(True)
        self.verify_button.setEnabled(True)
        self.code.setFocus()
        self.status.setText(
            self.tr("Code sent. Attempts left: %1").replace("%1", str(attempts_left))
        )

    def on_result(self, verified: bool, attempts_left: int, exhausted: bool) -> None:
        self.attempts_left = attempts_left
        self.verified = verified
        self.exhausted = exhausted
        self.code.clear()
        if verified:
            self.status.setText(self.tr("Code verified."))
            self._lock()
        elif exhausted or attempts_left <= 0:
            self.status.setText(self.tr("Wrong code: no attempts left. The step is failed."))
            self._lock()
        else:
            self.status.setText(
                self.tr("Wrong code. Attempts left: %1").replace("%1", str(attempts_left))
            )
            self.verify_button.setEnabled(True)
            self.code.setEnabled(True)
            self.code.setFocus()

    def on_error(self, code: str) -> None:
        self.status.setText(error_message(code))
        self.send_button.setEnabled(not (self.verified or self.exhausted))
        can_type = self.send_button.text() != self.tr("Send code")
        self.verify_button.setEnabled(can_type and not (self.verified or self.exhausted))
        self.code.setEnabled(can_type and not (self.verified or self.exhausted))

    def on_heard(self, text: str) -> None:
        """What the applicant said (synthetic applicant's utterance); shown, never logged."""
        self.heard.setText(self.tr("Applicant said: %1").replace("%1", text))
        self.heard.show()

    def _lock(self) -> None:
        self.send_button.setEnabled(False)
        self.code.setEnabled(False)
        self.verify_button.setEnabled(False)

    # --- user ----------------------------------------------------------------------------------
    @Slot()
    def _send(self) -> None:
        self.send_button.setEnabled(False)
        self.status.setText(self.tr("Sending…"))
        self.send_requested.emit()

    @Slot()
    def _verify(self) -> None:
        code = self.code.text().strip()
        if len(code) != 6:
            self.status.setText(self.tr("The code has 6 digits."))
            return
        self.verify_button.setEnabled(False)
        self.code.setEnabled(False)
        self.status.setText(self.tr("Checking…"))
        self.verify_requested.emit(code)
