"""The console's shell: the sign-in window first, then the main window (queue ↔ session).

Start-up is kept light: only the sign-in window's modules are imported before it is shown; the
controller (HTTP client, session workflow) and the main window are imported on the next
event-loop turns, while the operator types.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from console.settings_store import SettingsStore
from ui.i18n import install_language
from ui.signin import SignInWindow

if TYPE_CHECKING:
    from ui.controller import ConsoleController
    from ui.logview import LogView
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)


class ConsoleShell(QObject):
    """Owns the controller and the windows; the app and the demo both build one."""

    #: the workspace's window, once sign-in opened it (the main window for an operator)
    workspace_opened = Signal(object)

    def __init__(self, settings: SettingsStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._controller: ConsoleController | None = None
        self.sign_in = SignInWindow()
        self.main: MainWindow | None = None
        #: the workspace opened after sign-in, and its window when it is not the main window
        self.workspace: Any = None
        self.other: Any = None
        self._log_view: LogView | None = None
        self._shut = False
        #: how the partner's in-person window is opened: ``(client, operator, language) ->
        #: window``; None is the workstation's own camera and reader (the demo gives its
        #: synthetic camera and virtual card here, and still signs in through this window)
        self.in_person_opener: Callable[[Any, dict[str, Any], str], Any] | None = None
        self.sign_in.submitted.connect(self._submit)
        self.sign_in.settings_requested.connect(self.open_settings)

    @property
    def controller(self) -> ConsoleController:
        """Created on first use (or by the warm-up right after the sign-in window shows)."""
        if self._controller is None:
            from ui.controller import ConsoleController

            c = ConsoleController(self.settings, parent=self)
            c.signed_in.connect(self._signed_in)
            c.sign_in_failed.connect(self.sign_in.show_error)
            c.auth_lost.connect(self._auth_lost)
            self._controller = c
        return self._controller

    def warm_up(self) -> None:
        """Import the rest of the console once the sign-in window is on screen."""
        QTimer.singleShot(30, lambda: self.controller)
        QTimer.singleShot(60, self._import_main)

    @staticmethod
    def _import_main() -> None:
        import ui.main_window  # noqa: F401 - loads the queue and session windows early

    @Slot(str, str, str, str, bool)
    def _submit(self, url: str, user: str, password: str, totp: str, remember: bool) -> None:
        self.controller.sign_in(url, user, password, totp, remember)

    # --- windows -----------------------------------------------------------------------------
    def show_sign_in(self, server: str | None = None, user: str | None = None) -> None:
        url = server or self.settings.get("server_url") or ""
        username = user or self.settings.get("last_user") or ""
        remember = bool(self.settings.get("remember"))
        password = ""
        if remember:
            from console.flows.adapters import stored_password

            password = stored_password(url, username)
        self.sign_in.prefill(url, username, password, remember)
        self.sign_in.show()
        self.sign_in.raise_()

    @Slot(object)
    def _signed_in(self, operator: Any) -> None:
        """Open the signed-in role's workspace (console.workspaces: one table says which)."""
        from console.workspaces import Workspace, workspace_for

        self.sign_in.set_busy(False)
        self.sign_in.password.clear()
        self.sign_in.totp.clear()
        self.sign_in.hide()
        try:
            self.workspace = workspace_for(operator.role)
        except (KeyError, ValueError):
            log.warning("signed in with a role this console has no workspace for")
            self.sign_in.show_error("forbidden")
            self.sign_in.show()
            return
        log.info("workspace: %s", self.workspace.value)
        if self.workspace is Workspace.VIDEO_SESSION:
            self._open_video_session(operator)
        else:
            self._open_other(self.workspace, operator)

    def _open_other(self, workspace: Any, operator: Any) -> None:
        from console.workspaces import Workspace

        if self.other is not None:
            self.other.show()
            self.other.raise_()
            return
        client = self.controller.client
        assert client is not None
        window: Any
        if workspace is Workspace.IN_PERSON:
            from console.settings_store import data_dir
            from ui.i18n import current_language
            from ui.inperson_window import open_for_partner

            me = {"id": operator.id, "username": operator.username,
                  "display_name": operator.display_name, "role": operator.role.value}
            if self.in_person_opener is not None:
                window = self.in_person_opener(client, me, current_language())
            else:
                window = open_for_partner(client, data_dir(), operator=me,
                                          language=current_language())
            window.stopped.connect(self.quit)
        elif workspace is Workspace.TRAINER:
            from ui.training_window import TrainingWindow

            window = TrainingWindow(self.controller)
        else:
            from console.review import ReviewDesk
            from ui.review_window import ReviewWindow

            window = ReviewWindow(ReviewDesk(client))
            window.close_requested.connect(self.quit)
            window.load_requests()
        self.other = window
        window.show()
        window.raise_()
        self.workspace_opened.emit(window)

    def _open_video_session(self, operator: Any) -> None:
        if self.main is None:
            from ui.main_window import MainWindow

            self.main = MainWindow(self.controller)
            self.main.close_requested.connect(self.quit)
            self.main.settings_action.triggered.connect(self.open_settings)
            self.main.log_action.triggered.connect(self.open_log)
        self.main.set_operator(operator)
        self.main.show()
        self.controller.start_queue_polling()
        self.workspace_opened.emit(self.main)


    @Slot()
    def _auth_lost(self) -> None:
        log.info("authentication lost: back to sign-in")
        self.sign_in.show_error("not_authenticated")
        self.sign_in.show()

    @Slot()
    def open_settings(self) -> None:
        from ui.settings_dialog import SettingsDialog

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
        from ui.logview import LogView, log_handler

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
        if self._controller is not None:
            self._controller.shutdown()  # peer connections, media loop, outbox, HTTP
        from ui.tasks import shutdown_pool

        shutdown_pool()  # worker threads
        for window in (self.main, self.other, self.sign_in, self._log_view):
            if window is not None:
                window.hide()
