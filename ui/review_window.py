"""The supervisor's window: requests by state, one request's history, the day's evidence.

It renders :class:`console.review.ReviewDesk` (every desk call on a worker thread) and holds no
rule of its own: what a supervisor may read is the desk service's decision.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.models import RecognitionRequest, RequestState
from console.review import REVIEW_STATES, PackageRow, ReviewDesk
from ui.messages import error_message
from ui.tasks import run_task

log = logging.getLogger(__name__)


class ReviewWindow(QMainWindow):
    close_requested = Signal()
    #: emitted after each load (tests, benchmarks): what was loaded
    loaded = Signal(str)

    def __init__(self, desk: ReviewDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewWindow")
        self.setWindowTitle(self.tr("Recognition console — review"))
        self.desk = desk
        self.requests: list[RecognitionRequest] = []
        self.packages: list[PackageRow] = []
        tabs = QTabWidget(self)
        tabs.addTab(self._requests_tab(), self.tr("Requests"))
        tabs.addTab(self._evidence_tab(), self.tr("Evidence"))
        self.setCentralWidget(tabs)
        self.status = QLabel(self)
        self.statusBar().addWidget(self.status, 1)
        self.resize(1000, 640)

    # --- requests ---------------------------------------------------------------------------
    def _requests_tab(self) -> QWidget:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        top = QHBoxLayout()
        self.state_box = QComboBox(tab)
        self.state_box.setObjectName("reviewState")
        names = {RequestState.SUSPENDED: self.tr("Suspended"),
                 RequestState.IN_CALL: self.tr("In call"),
                 RequestState.WAITING: self.tr("Waiting"),
                 RequestState.REJECTED: self.tr("Rejected"),
                 RequestState.APPROVED: self.tr("Approved")}
        for state in REVIEW_STATES:
            self.state_box.addItem(names[state], state.value)
        self.state_box.currentIndexChanged.connect(lambda _i: self.load_requests())
        refresh = QPushButton(self.tr("Refresh"), tab)
        refresh.clicked.connect(self.load_requests)
        top.addWidget(QLabel(self.tr("State:"), tab))
        top.addWidget(self.state_box)
        top.addStretch(1)
        top.addWidget(refresh)
        layout.addLayout(top)
        split = QSplitter(tab)
        self.request_table = QTableWidget(0, 4, split)
        self.request_table.setObjectName("reviewRequests")
        self.request_table.setHorizontalHeaderLabels(
            [self.tr("Applicant"), self.tr("Service"), self.tr("Booking code"),
             self.tr("Registered")])
        self.request_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.request_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.request_table.itemSelectionChanged.connect(self._request_selected)
        self.detail = QPlainTextEdit(split)
        self.detail.setReadOnly(True)
        self.detail.setObjectName("reviewDetail")
        layout.addWidget(split, 1)
        return tab

    def load_requests(self) -> None:
        state = RequestState(str(self.state_box.currentData()))
        self.status.setText(self.tr("Loading…"))
        run_task(lambda: self.desk.requests_in(state), self._show_requests, self._failed, self)

    def _show_requests(self, rows: list[RecognitionRequest]) -> None:
        self.requests = rows
        self.request_table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            name = f"{r.applicant.surname} {r.applicant.given_names}".strip()
            values = (name, r.product.value, r.booking_code or "—",
                      r.created_at.strftime("%d/%m/%Y %H:%M") if r.created_at else "—")
            for j, text in enumerate(values):
                self.request_table.setItem(i, j, QTableWidgetItem(text))
        self.status.setText(self.tr("%n request(s)", "", len(rows)))
        self.loaded.emit("requests")

    def _request_selected(self) -> None:
        rows = self.request_table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.requests):
            return
        req_id = self.requests[rows[0].row()].id
        run_task(lambda: self.desk.request(req_id), self._show_detail, self._failed, self)

    def _show_detail(self, data: dict[str, Any]) -> None:
        self.detail.setPlainText(json.dumps(data, indent=2, ensure_ascii=False))
        self.loaded.emit("detail")

    # --- evidence ---------------------------------------------------------------------------
    def _evidence_tab(self) -> QWidget:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        top = QHBoxLayout()
        self.day = QDateEdit(QDate.currentDate(), tab)
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("dd/MM/yyyy")
        search = QPushButton(self.tr("Search"), tab)
        search.clicked.connect(self.load_packages)
        top.addWidget(QLabel(self.tr("Stored on:"), tab))
        top.addWidget(self.day)
        top.addStretch(1)
        top.addWidget(search)
        layout.addLayout(top)
        self.package_table = QTableWidget(0, 4, tab)
        self.package_table.setObjectName("reviewPackages")
        self.package_table.setHorizontalHeaderLabels(
            [self.tr("Stored"), self.tr("Service"), self.tr("Operator"), self.tr("Size")])
        self.package_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.package_table, 1)
        return tab

    def load_packages(self) -> None:
        q = self.day.date()
        day = date(q.year(), q.month(), q.day())
        run_task(lambda: self.desk.packages_on(day), self._show_packages, self._failed, self)

    def _show_packages(self, rows: list[PackageRow]) -> None:
        self.packages = rows
        self.package_table.setRowCount(len(rows))
        for i, p in enumerate(rows):
            for j, text in enumerate((p.stored_at, p.product, p.operator,
                                      f"{p.size / 1e6:.1f} MB")):
                self.package_table.setItem(i, j, QTableWidgetItem(text))
        self.status.setText(self.tr("%n package(s)", "", len(rows)))
        self.loaded.emit("packages")

    # --- common -----------------------------------------------------------------------------
    def _failed(self, exc: BaseException) -> None:
        code = str(getattr(exc, "code", "") or type(exc).__name__)
        log.info("review: a desk call failed (%s)", code)
        self.status.setText(error_message(code))

    def closeEvent(self, event: Any) -> None:
        self.close_requested.emit()
        super().closeEvent(event)
