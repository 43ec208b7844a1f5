"""Script checklist: the ordered steps of the session, walked with the keyboard.

Keys: Up/Down move, Space or Enter = passed, F = failed, S = skipped (optional steps only),
Backspace = back to "to do", C = capture a still (document steps).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.messages import step_status_label
from ui.script_labels import target_label

log = logging.getLogger(__name__)

THUMB_HEIGHT = 45

_COLORS = {
    "passed": "#1e8e3e",
    "failed": "#c5221f",
    "skipped": "#5b6775",
    "pending": "#1d2733",
}
_MARKS = {"passed": "✔", "failed": "✖", "skipped": "–", "pending": "○"}


@dataclass(slots=True)
class StepView:
    """What the checklist shows of one script step (built by the controller from the core)."""

    id: str
    title: str
    required: bool
    status: str = "pending"  # pending | passed | failed | skipped
    at: datetime | None = None
    targets: tuple[str, ...] = ()  # capture step: one "capture still" button per target
    otp: bool = False  # the SMS code step (driven by the OTP panel)
    detail: str = ""  # e.g. the random action drawn for this session


def _wrap(text: str, font: QFont, width: int) -> str:
    """Greedy word wrap of ``text`` to ``width`` pixels in ``font``."""
    if width <= 40:
        return text
    metrics = QFontMetrics(font)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and metrics.horizontalAdvance(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return "\n".join(lines)


class _CaptureCell(QWidget):
    """One capture button per target (front, back, face…) with the thumbnail and its size."""

    def __init__(self, step_id: str, targets: tuple[str, ...], owner: ScriptChecklist) -> None:
        super().__init__()
        self.buttons: dict[str, QPushButton] = {}
        self.thumbs: dict[str, QLabel] = {}
        self.sizes: dict[str, QLabel] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(28, 2, 2, 6)
        layout.setSpacing(6)
        for target in targets:
            button = QPushButton(target_label(target), self)
            button.setObjectName(f"capture_{target}")
            button.setToolTip(
                QCoreApplication.translate(
                    "ScriptChecklist", "Ask the applicant's camera for a full-resolution still"
                )
            )
            button.clicked.connect(
                lambda _=False, t=target: owner.capture_requested.emit(step_id, t)
            )
            thumb = QLabel(self)
            thumb.setFixedSize(THUMB_HEIGHT * 16 // 9, THUMB_HEIGHT)
            thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
            size = QLabel(" \n ", self)  # two lines reserved: "W×H" and the file size
            size.setObjectName("hint")
            box = QVBoxLayout()
            box.setSpacing(1)
            box.addWidget(button)
            box.addWidget(thumb)
            box.addWidget(size)
            layout.addLayout(box)
            self.buttons[target] = button
            self.thumbs[target] = thumb
            self.sizes[target] = size
        layout.addStretch(1)


class ScriptChecklist(QWidget):
    step_marked = Signal(str, str)  # step id, status
    capture_requested = Signal(str, str)  # step id, target

    COL_MARK, COL_TITLE, COL_TIME = range(3)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scriptChecklist")
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("checklist")
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["", self.tr("Step"), self.tr("Time")])
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(0)
        self.tree.setItemsExpandable(False)
        self.tree.setUniformRowHeights(False)
        self.tree.setWordWrap(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(self.COL_MARK, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.COL_TITLE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(self.COL_TIME, QHeaderView.ResizeMode.ResizeToContents)
        # long titles wrap (by hand: QTreeView does not re-measure wrapped rows on resize).
        # Re-wrapping changes row heights; were the scroll bar to come and go with them, the
        # title column would shrink and grow for ever (seen: a teardown spinning in _rewrap):
        # the scroll bar stays, and re-wrapping runs once per settled title width.
        self.tree.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self._wrapped_width = -1
        self._rewrap_timer = QTimer(self)
        self._rewrap_timer.setSingleShot(True)
        self._rewrap_timer.setInterval(0)
        self._rewrap_timer.timeout.connect(self._rewrap)
        header.sectionResized.connect(self._title_resized)
        self.tree.installEventFilter(self)
        self.hint = QLabel(
            self.tr("↑/↓ move · Space/Enter passed · F failed · S skip · C capture"), self
        )
        self.hint.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.hint)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._steps: dict[str, StepView] = {}
        self._cells: dict[str, _CaptureCell] = {}
        self._rows: dict[str, QTreeWidgetItem] = {}

    # --- model -------------------------------------------------------------------------------
    def set_steps(self, steps: list[StepView]) -> None:
        self.tree.clear()
        self._items.clear()
        self._steps.clear()
        self._cells.clear()
        self._rows.clear()
        for step in steps:
            item = QTreeWidgetItem(self.tree)
            item.setData(self.COL_MARK, Qt.ItemDataRole.UserRole, step.id)
            self._items[step.id] = item
            self._steps[step.id] = step
            if step.targets:
                # the stills sit right under their step, on a row of their own
                row = QTreeWidgetItem(item)
                self._rows[step.id] = row
                row.setFlags(Qt.ItemFlag.ItemIsEnabled)
                row.setFirstColumnSpanned(True)
                cell = _CaptureCell(step.id, step.targets, self)
                cell.setFixedHeight(cell.sizeHint().height())
                row.setSizeHint(0, QSize(cell.sizeHint().width(), cell.sizeHint().height()))
                self._cells[step.id] = cell
                self.tree.setItemWidget(row, 0, cell)
                item.setExpanded(True)
            self.update_step(step)
        if steps:
            self.tree.setCurrentItem(self._items[steps[0].id])

    def update_step(self, step: StepView) -> None:
        item = self._items.get(step.id)
        if item is None:
            return
        self._steps[step.id] = step
        title = step.title + ("" if step.required else "  " + self.tr("(optional)"))
        font = QFont(self.tree.font())  # the style sheet's font, as painted
        font.setBold(step.required)
        item.setFont(self.COL_TITLE, font)
        width = self.tree.header().sectionSize(self.COL_TITLE) - 28
        text = _wrap(title, font, width)
        if step.detail:
            text += "\n" + _wrap("→ " + step.detail, font, width)
        item.setText(self.COL_MARK, _MARKS.get(step.status, "?"))
        item.setToolTip(self.COL_MARK, step_status_label(step.status))
        item.setText(self.COL_TITLE, text)
        item.setToolTip(self.COL_TITLE, title)
        item.setText(self.COL_TIME, step.at.astimezone().strftime("%H:%M:%S") if step.at else "")
        brush = QBrush(QColor(_COLORS.get(step.status, "#1d2733")))
        item.setForeground(self.COL_MARK, brush)
        if step.status != "pending":
            item.setForeground(self.COL_TITLE, brush)
        else:
            item.setForeground(self.COL_TITLE, QBrush(QColor(_COLORS["pending"])))

    @Slot(int, int, int)
    def _title_resized(self, index: int, _old: int, _new: int) -> None:
        if index == self.COL_TITLE:
            self._rewrap_timer.start()

    @Slot()
    def _rewrap(self) -> None:
        width = self.tree.header().sectionSize(self.COL_TITLE)
        if width == self._wrapped_width:
            return
        self._wrapped_width = width
        for step in list(self._steps.values()):
            self.update_step(step)

    def step(self, step_id: str) -> StepView | None:
        return self._steps.get(step_id)

    def steps(self) -> list[StepView]:
        return list(self._steps.values())

    def set_still(
        self, step_id: str, target: str, image: QPixmap, width: int, height: int, size: int
    ) -> None:
        cell = self._cells.get(step_id)
        if cell is None or target not in cell.buttons:
            return
        cell.thumbs[target].setPixmap(
            image.scaledToHeight(THUMB_HEIGHT, Qt.TransformationMode.SmoothTransformation)
        )
        cell.sizes[target].setText(f"{width}×{height}\n{size / 1024:.0f} KiB")
        cell.buttons[target].setEnabled(True)

    def set_capture_busy(self, step_id: str, target: str, busy: bool) -> None:
        cell = self._cells.get(step_id)
        if cell is not None and target in cell.buttons:
            cell.buttons[target].setEnabled(not busy)
            if busy:
                cell.sizes[target].setText(self.tr("waiting…"))

    def capture_failed(self, step_id: str, target: str, message: str) -> None:
        cell = self._cells.get(step_id)
        if cell is not None and target in cell.buttons:
            cell.buttons[target].setEnabled(True)
            cell.sizes[target].setText(message)

    def has_still(self, step_id: str, target: str) -> bool:
        cell = self._cells.get(step_id)
        return bool(
            cell
            and target in cell.thumbs
            and cell.thumbs[target].pixmap() is not None
            and not cell.thumbs[target].pixmap().isNull()
        )

    def current_step_id(self) -> str | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        return str(item.data(self.COL_MARK, Qt.ItemDataRole.UserRole))

    def select_step(self, step_id: str) -> None:
        item = self._items.get(step_id)
        if item is not None:
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)

    def focus_list(self) -> None:
        self.tree.setFocus()

    # --- keyboard ----------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.tree and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            return self._key(event)
        return super().eventFilter(watched, event)

    def _key(self, event: QKeyEvent) -> bool:
        step_id = self.current_step_id()
        if step_id is None:
            return False
        key = event.key()
        if key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._mark(step_id, "passed")
            return True
        if key == Qt.Key.Key_F:
            self._mark(step_id, "failed")
            return True
        if key == Qt.Key.Key_S:
            step = self._steps.get(step_id)
            if step is not None and not step.required:
                self._mark(step_id, "skipped")
            return True
        if key == Qt.Key.Key_Backspace:
            self._mark(step_id, "pending", advance=False)
            return True
        if key == Qt.Key.Key_C:
            step = self._steps.get(step_id)
            if step is not None and step.targets:
                pending = [t for t in step.targets if not self.has_still(step_id, t)]
                self.capture_requested.emit(step_id, (pending or list(step.targets))[0])
            return True
        return False

    @Slot()
    def _mark(self, step_id: str, status: str, advance: bool = True) -> None:
        self.step_marked.emit(step_id, status)
        if advance:
            index = self.tree.indexOfTopLevelItem(self._items[step_id])
            below = self.tree.topLevelItem(index + 1)
            if below is not None:
                self.tree.setCurrentItem(below)
