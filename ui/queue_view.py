"""Queue view: who is waiting, for how long, and "take next"."""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.messages import error_message, format_wait, product_label

log = logging.getLogger(__name__)


class QueueView(QWidget):
    """Shows a queue snapshot; wait times tick every second between two snapshots."""

    take_next_requested = Signal()
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queueView")
        title = QLabel(self.tr("Waiting applicants"), self)
        title.setObjectName("title")
        self.summary = QLabel(self)
        self.summary.setObjectName("subtitle")
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("queueTable")
        self.table.setHorizontalHeaderLabels(
            [self.tr("Product"), self.tr("Waiting since"), self.tr("Wait"), self.tr("Appointment")]
        )
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(self.table.focusPolicy().NoFocus)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.message = QLabel(self)
        self.message.setObjectName("hint")
        self.take_next_button = QPushButton(self.tr("Take next applicant"), self)
        self.take_next_button.setObjectName("primary")
        self.take_next_button.setShortcut("Ctrl+N")
        self.take_next_button.clicked.connect(self._take_next)
        refresh = QPushButton(self.tr("Refresh"), self)
        refresh.setShortcut("F5")
        refresh.clicked.connect(self.refresh_requested)

        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.summary)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(refresh)
        bottom.addWidget(self.take_next_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addLayout(head)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self._rows: list[tuple[float, Any]] = []  # (wait at snapshot, entry)
        self._snapshot_at = time.monotonic()
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update_waits)
        self._tick.start()
        self.set_queue([])

    def set_queue(self, entries: list[Any], appointments: int = 0) -> None:
        """``entries``: objects with ``product``, ``waiting_since``, ``wait_seconds``,
        ``appointment_at`` (console.models.QueueEntry)."""
        self._snapshot_at = time.monotonic()
        self._rows = [(float(getattr(e, "wait_seconds", 0) or 0), e) for e in entries]
        self.table.setRowCount(len(entries))
        for row, (_, e) in enumerate(self._rows):
            since = getattr(e, "waiting_since", None)
            appt = getattr(e, "appointment_at", None)
            values = [
                product_label(str(getattr(e, "product", ""))),
                since.astimezone().strftime("%H:%M:%S") if since else "—",
                "",
                appt.astimezone().strftime("%H:%M") if appt else "—",
            ]
            for col, text in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(text))
        n = len(entries)
        if n == 0:
            self.summary.setText(self.tr("Nobody waiting"))
        else:
            self.summary.setText(self.tr("%n waiting", "", n))
        if appointments:
            self.summary.setText(
                self.summary.text() + " · " + self.tr("%n appointments today", "", appointments)
            )
        self.take_next_button.setEnabled(n > 0)
        self._update_waits()

    def row_count(self) -> int:
        return self.table.rowCount()

    def show_message(self, code: str) -> None:
        self.message.setText(error_message(code))
        self.take_next_button.setEnabled(self.table.rowCount() > 0)

    def set_busy(self, busy: bool) -> None:
        self.take_next_button.setEnabled(not busy and self.table.rowCount() > 0)

    @Slot()
    def _take_next(self) -> None:
        self.message.clear()
        self.take_next_button.setEnabled(False)
        self.take_next_requested.emit()

    @Slot()
    def _update_waits(self) -> None:
        elapsed = time.monotonic() - self._snapshot_at
        for row, (wait, _) in enumerate(self._rows):
            item = self.table.item(row, 2)
            if item is not None:
                item.setText(format_wait(wait + elapsed))
