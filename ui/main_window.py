"""The console's shell: sign-in window, then the main window (queue ↔ session)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QStackedWidget, QWidget

from ui.controller import ConsoleController
from ui.messages import error_message, missing_text
from ui.queue_view import QueueView
from ui.session_window import SessionWindow

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
        controller.evidence_ready.connect(self._evidence_ready)

    def set_operator(self, operator: Any) -> None:
        self.operator_label.setText(
            self.tr("Signed in: %1 (%2)")
            .replace("%1", operator.display_name)
            .replace("%2", operator.role.value)
        )
        if operator.role.value == "trainer":  # the trainer's side: runs, scenarios, replay
            from ui.training_window import install_training_menu

            install_training_menu(self, self.c)

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
    def _evidence_ready(self, path: str) -> None:
        if path:
            self.statusBar().showMessage(
                self.tr("Evidence package sealed: it is uploaded in the background and kept on "
                        "this computer until the desk service has it."), 10000)
        else:
            self.statusBar().showMessage(
                self.tr("The evidence package could not be completed: see the log."), 15000
            )

    @Slot(str, list)
    def _decision_failed(self, code: str, missing: list[str]) -> None:
        text = error_message(code)
        if missing:
            text += "\n\n" + missing_text(missing)
        QMessageBox.warning(self, self.tr("Decision not sent"), text)

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        self.close_requested.emit()
