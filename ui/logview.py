"""In-app log view: a logging handler that forwards records to a Qt signal, and its window."""

from __future__ import annotations

import contextlib
import logging
from collections import deque

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _Bridge(QObject):
    record = Signal(int, str)


class QtLogHandler(logging.Handler):
    """Keeps the last lines in memory and re-emits each formatted record as a Qt signal.

    ``emit`` may run on any thread (media loop, workers); the signal is delivered to the log
    view on the GUI thread through a queued connection.
    """

    def __init__(self, capacity: int = 2000) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
        self.lines: deque[tuple[int, str]] = deque(maxlen=capacity)
        self.bridge = _Bridge()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.lines.append((record.levelno, text))
        with contextlib.suppress(RuntimeError):  # bridge deleted at shutdown
            self.bridge.record.emit(record.levelno, text)


_HANDLER: QtLogHandler | None = None


def install_log_handler(level: int = logging.INFO) -> QtLogHandler:
    global _HANDLER
    root = logging.getLogger()
    if _HANDLER is None:
        _HANDLER = QtLogHandler()
        root.addHandler(_HANDLER)
    _HANDLER.setLevel(level)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    return _HANDLER


def log_handler() -> QtLogHandler | None:
    return _HANDLER


def remove_log_handler() -> None:
    global _HANDLER
    if _HANDLER is not None:
        logging.getLogger().removeHandler(_HANDLER)
        _HANDLER = None


class LogView(QDialog):
    """A read-only window on the console's own log (no personal data is ever logged)."""

    def __init__(self, handler: QtLogHandler, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logView")
        self.setWindowTitle(self.tr("Console log"))
        self.resize(900, 480)
        self._handler = handler
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(5000)
        font: QFont = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.text.setFont(font)
        self.level = QComboBox(self)
        for name, value in (
            (self.tr("Debug"), logging.DEBUG),
            (self.tr("Information"), logging.INFO),
            (self.tr("Warnings"), logging.WARNING),
            (self.tr("Errors"), logging.ERROR),
        ):
            self.level.addItem(name, value)
        self.level.setCurrentIndex(1)
        self.level.currentIndexChanged.connect(self._reload)
        clear = QPushButton(self.tr("Clear"), self)
        clear.clicked.connect(self._clear)
        close = QPushButton(self.tr("Close"), self)
        close.clicked.connect(self.close)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Show:"), self))
        top.addWidget(self.level)
        top.addStretch(1)
        top.addWidget(clear)
        top.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.text)
        handler.bridge.record.connect(self._append, Qt.ConnectionType.QueuedConnection)
        self._reload()

    def _min_level(self) -> int:
        return int(self.level.currentData())

    @Slot()
    def _reload(self) -> None:
        self.text.setPlainText(
            "\n".join(t for lvl, t in list(self._handler.lines) if lvl >= self._min_level())
        )

    @Slot()
    def _clear(self) -> None:
        self._handler.lines.clear()
        self.text.clear()

    @Slot(int, str)
    def _append(self, level: int, text: str) -> None:
        if level >= self._min_level():
            self.text.appendPlainText(text)
