"""The console's shell: sign-in window, then the main window (queue ↔ session)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QStackedWidget, QWidget

from ui.controller import ConsoleController
from ui.i18n import install_language
from ui.integration import SettingsStore
from ui.logview import LogView, log_handler
from ui.messages import error_message
from ui.queue_view import QueueView
from ui.session_window import SessionWindow
from ui.settings_dialog import SettingsDialog
from ui.signin import SignInWindow
from ui.tasks import shutdown_pool

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    close_requested = Signal()

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(self.tr("Recognition console"))
        self.resize(1440, 900)
        self.c = controller
        self.stack = QStackedWidget(self)
        self.queue = QueueView(self)
        self.session = SessionWindow(controller, self)
        self.stack.addWidget(self.queue)
        self.stack.addWidget(self.session)
        self.setCentralWidget(self.stack)
        self.operator_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.operator_label)

        menu = self.menuBar().addMenu(self.tr("&Console"))
        self.settings_action = QAction(self.tr("Settings…"), self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.log_action = QAction(self.tr("Log…"), self)
        self.log_action.setShortcut(QKeySequence("Ctrl+L"))
        self.quit_action = QAction(self.tr("Quit"), self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        for action in (self.settings_action, self.log_action, self.quit_action):
            menu.addAction(action)
        self.quit_action.triggered.connect(self.close_requested)

        self.queue.take_next_requested.connect(controller.take_next)
        self.queue.refresh_requested.connect(controller.refresh_queue)
        controller.queue_updated.connect(self._queue_updated)
        controller.queue_failed.connect(self.queue.show_message)
        controller.take_next_failed.connect(self.queue.show_message)
        controller.assignment_ready.connect(self._assignment)
        controller.session_closed.connect(self.show_queue)
        controller.decision_done.connect(self._decided)
        controller.decision_queued.connect(self._decision_queued)
        controller.decision_failed.connect(self._decision_failed)

    def set_operator(self, operator: Any) -> None:
        self.operator_label.setText(
            self.tr("Signed in: %1 (%2)")
            .replace("%1", operator.display_name)
            .replace("%2", operator.role.value)
        )

    @Slot(object)
    def _queue_updated(self, snapshot: Any) -> None:
        self.queue.set_queue(list(snapshot.waiting), len(snapshot.appointments_today))

    @Slot(object)
    def _assignment(self, assignment: Any) -> None:
        self.session.load(assignment)
        self.stack.setCurrentWidget(self.session)
        self.statusBar().showMessage(self.tr("Applicant assigned."), 5000)

    @Slot()
    def show_queue(self) -> None:
        self.session.stop()
        self.stack.setCurrentWidget(self.queue)

    @Slot(str)
    def _decided(self, state: str) -> None:
        self.statusBar().showMessage(self.tr("Decision recorded: %1").replace("%1", state), 8000)

    @Slot()
    def _decision_queued(self) -> None:
        self.statusBar().showMessage(
            self.tr("Desk service unreachable: the decision is kept and sent automatically later."),
            15000,
        )

    @Slot(str)
    def _decision_failed(self, code: str) -> None:
        QMessageBox.warning(self, self.tr("Decision not sent"), error_message(code))

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        self.close_requested.emit()


class ConsoleShell(QObject):
    """Owns the controller and the windows; the app and the demo both build one."""

    def __init__(self, settings: SettingsStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.controller = ConsoleController(settings, parent=self)
        self.sign_in = SignInWindow()
        self.main: MainWindow | None = None
        self._log_view: LogView | None = None
        self._shut = False
        self.sign_in.submitted.connect(self.controller.sign_in)
        self.sign_in.settings_requested.connect(self.open_settings)
        self.controller.signed_in.connect(self._signed_in)
        self.controller.sign_in_failed.connect(self.sign_in.show_error)
        self.controller.auth_lost.connect(self._auth_lost)

    # --- windows -----------------------------------------------------------------------------
    def show_sign_in(self, server: str | None = None, user: str | None = None) -> None:
        url = server or self.settings.get("server_url") or ""
        username = user or self.settings.get("last_user") or ""
        remember = bool(self.settings.get("remember"))
        password = self.controller.stored_password(url, username) if remember else ""
        self.sign_in.prefill(url, username, password, remember)
        self.sign_in.show()
        self.sign_in.raise_()

    @Slot(object)
    def _signed_in(self, operator: Any) -> None:
        self.sign_in.set_busy(False)
        self.sign_in.password.clear()
        self.sign_in.totp.clear()
        self.sign_in.hide()
        if self.main is None:
            self.main = MainWindow(self.controller)
            self.main.close_requested.connect(self.quit)
            self.main.settings_action.triggered.connect(self.open_settings)
            self.main.log_action.triggered.connect(self.open_log)
        self.main.set_operator(operator)
        self.main.show()
        self.controller.start_queue_polling()

    @Slot()
    def _auth_lost(self) -> None:
        log.info("authentication lost: back to sign-in")
        self.sign_in.show_error("not_authenticated")
        self.sign_in.show()

    @Slot()
    def open_settings(self) -> None:
        parent = self.main if self.main is not None and self.main.isVisible() else self.sign_in
        dialog = SettingsDialog(self.settings.values(), parent)
        if dialog.exec():
            values = dialog.values()
            language_changed = values.get("language") != self.settings.get("language")
            self.settings.update(**values)
            if language_changed:
                install_language(str(values["language"]))
            if not self.sign_in.url.text():
                self.sign_in.url.setText(str(values.get("server_url") or ""))

    @Slot()
    def open_log(self) -> None:
        handler = log_handler()
        if handler is None:
            return
        if self._log_view is None:
            self._log_view = LogView(handler, self.main)
        self._log_view.show()
        self._log_view.raise_()

    # --- shutdown ----------------------------------------------------------------------------
    @Slot()
    def quit(self) -> None:
        """Close peer connections and the media loop first, then leave the Qt event loop."""
        self.shutdown()
        QCoreApplication.quit()

    def shutdown(self) -> None:
        if self._shut:
            return
        self._shut = True
        log.info("shutting down")
        self.controller.shutdown()  # peer connections, media loop, outbox, HTTP
        shutdown_pool()  # worker threads
        for window in (self.main, self.sign_in, self._log_view):
            if window is not None:
                window.hide()
