"""Sign-in window: server URL, user, password, TOTP code, "remember me"."""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import urlparse

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.messages import error_message

log = logging.getLogger(__name__)


class SignInWindow(QWidget):
    """Collects the credentials and asks the controller to sign in (off the GUI thread).

    ``submitted(url, user, password, totp, remember)`` is emitted on a valid form; the owner
    answers with :meth:`show_error` or closes the window on success.
    """

    submitted = Signal(str, str, str, str, bool)
    settings_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signInWindow")
        self.setWindowTitle(self.tr("Recognition console — sign in"))
        self.setMinimumWidth(540)

        brand = QLabel(self.tr("INFOCERT · RECOGNITION DESK"), self)
        brand.setObjectName("brand")
        title = QLabel(self.tr("Sign in"), self)
        title.setObjectName("title")
        subtitle = QLabel(self.tr("Operator access to the remote recognition desk."), self)
        subtitle.setObjectName("subtitle")

        self.url = QLineEdit(self)
        self.url.setObjectName("url")
        self.url.setPlaceholderText("https://desk.example.it")
        self.user = QLineEdit(self)
        self.user.setObjectName("user")
        self.user.setPlaceholderText(self.tr("user name"))
        self.password = QLineEdit(self)
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.totp = QLineEdit(self)
        self.totp.setObjectName("totp")
        self.totp.setPlaceholderText(self.tr("6 digits from the authenticator app"))
        self.totp.setMaxLength(6)
        self.totp.setValidator(QIntValidator(0, 999_999, self))
        self.remember = QCheckBox(self.tr("Remember me on this computer (system keyring)"), self)
        self.remember.setObjectName("remember")

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow(self.tr("Server"), self.url)
        form.addRow(self.tr("User"), self.user)
        form.addRow(self.tr("Password"), self.password)
        form.addRow(self.tr("Code (TOTP)"), self.totp)
        form.addRow("", self.remember)

        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.busy = QLabel(self.tr("Signing in…"), self)
        self.busy.setObjectName("hint")
        self.busy.hide()

        self.sign_in_button = QPushButton(self.tr("Sign in"), self)
        self.sign_in_button.setObjectName("primary")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self._submit)
        settings = QPushButton(self.tr("Settings…"), self)
        settings.clicked.connect(self.settings_requested)
        for edit in (self.url, self.user, self.password, self.totp):
            edit.returnPressed.connect(self._submit)

        buttons = QHBoxLayout()
        buttons.addWidget(settings)
        buttons.addStretch(1)
        buttons.addWidget(self.busy)
        buttons.addWidget(self.sign_in_button)

        card = QFrame(self)
        card.setObjectName("card")
        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 24, 28, 24)
        inner.setSpacing(10)
        inner.addWidget(brand)
        inner.addWidget(title)
        inner.addWidget(subtitle)
        inner.addSpacing(8)
        inner.addLayout(form)
        inner.addWidget(self.error)
        inner.addSpacing(4)
        inner.addLayout(buttons)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        outer.addWidget(card)

    # --- filling in ------------------------------------------------------------------------
    def prefill(self, url: str, user: str = "", password: str = "", remember: bool = False) -> None:
        self.url.setText(url)
        self.user.setText(user)
        self.password.setText(password)
        self.remember.setChecked(remember)
        (self.totp if user and password else self.user).setFocus()

    # --- outcome ---------------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.sign_in_button.setEnabled(not busy)
        for w in (self.url, self.user, self.password, self.totp, self.remember):
            w.setEnabled(not busy)

    def show_error(self, code: str, locked_until: datetime | None = None) -> None:
        self.set_busy(False)
        self.error.setText(error_message(code, locked_until=locked_until))
        self.error.setProperty("code", code)
        self.error.show()
        if code in ("invalid_totp",):
            self.totp.clear()
            self.totp.setFocus()
        elif code == "invalid_credentials":
            self.password.selectAll()
            self.password.setFocus()

    def error_code(self) -> str | None:
        if self.error.isHidden():
            return None
        value = self.error.property("code")
        return str(value) if value else None

    @Slot()
    def _submit(self) -> None:
        url = self.url.text().strip()
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            self.show_error("invalid_url")
            self.url.setFocus()
            return
        user = self.user.text().strip()
        password = self.password.text()
        totp = self.totp.text().strip()
        if not user or not password or len(totp) != 6:
            self.show_error("missing_fields")
            return
        self.error.hide()
        self.set_busy(True)
        log.info("sign-in requested")
        self.submitted.emit(url, user, password, totp, self.remember.isChecked())
