"""The session player window: applicant and operator side by side, in sync, with audio.

Decoding runs on ``media.playback.PlaybackEngine``'s thread; its callbacks only emit queued
signals, so this window just paints (QVideoSink, YUV420P planes copied as the session window
does). Keys: Space play/pause, Left/Right one frame, +/- zoom on the applicant's video (a click
on it centres the zoom), Ctrl+M add an annotation at the current moment.
"""

from __future__ import annotations

import logging
import time

import av
import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from media.playback import Frames, PlaybackEngine, PlaybackError
from ui.audio import AudioPlayer
from ui.player.annotations import Annotation, AnnotationError, Annotations
from ui.player.source import PackageSource
from ui.player.timeline import TimelineWidget, mark_text
from ui.widgets.video import VideoView

log = logging.getLogger(__name__)

MAX_ZOOM = 8


class _PcmChunk:
    """What ui.audio.AudioPlayer.push takes: data, sample_rate, channels."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.sample_rate = 48_000
        self.channels = 1


def crop_zoom(frame: av.VideoFrame, zoom: float, centre: tuple[float, float]) -> av.VideoFrame:
    """The part of a yuv420p frame around ``centre`` (0..1 fractions) at ``zoom``x."""
    if zoom <= 1.0:
        return frame
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    w, h = frame.width, frame.height
    cw, ch = max(16, int(w / zoom)) & ~1, max(16, int(h / zoom)) & ~1
    x0 = int(min(max(0.0, centre[0] * w - cw / 2), w - cw)) & ~1
    y0 = int(min(max(0.0, centre[1] * h - ch / 2), h - ch)) & ~1
    planes = []
    for i, (px, py, pw, ph) in enumerate(((x0, y0, cw, ch),
                                          (x0 // 2, y0 // 2, cw // 2, ch // 2),
                                          (x0 // 2, y0 // 2, cw // 2, ch // 2))):
        plane = frame.planes[i]
        rows = plane.height
        arr = np.frombuffer(plane, np.uint8)[: rows * plane.line_size].reshape(
            rows, plane.line_size)
        planes.append(arr[py:py + ph, px:px + pw].reshape(-1))
    out = av.VideoFrame.from_ndarray(np.concatenate(planes).reshape(ch * 3 // 2, cw),
                                     format="yuv420p")
    out.pts = frame.pts
    out.time_base = frame.time_base
    return out


class _Bridge(QObject):
    """Playback-thread callbacks re-emitted as signals (queued onto the GUI thread)."""

    frames = Signal(object)
    audio = Signal(bytes)
    state = Signal(str)


class PlayerWindow(QMainWindow):
    position_changed = Signal(float)
    frames_shown = Signal(object)  # Frames, after painting

    def __init__(self, source: PackageSource, author: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playerWindow")
        self.source = source
        self.author = author
        self.setWindowTitle(self.tr("Session player — %1").replace("%1", source.given.name))
        self.zoom = 1.0
        self.zoom_centre = (0.5, 0.5)
        self.last_frames: Frames | None = None
        self.last_seek_ms: float | None = None
        self._seek_started: dict[int, float] = {}
        self._seek_id = 0
        self.playing = False
        self._closed = False
        self._build()
        try:
            self.annotations = Annotations.load(source.annotations_path, source.folder.name)
        except AnnotationError as exc:
            log.warning("annotations not loaded: %s", exc)
            self.annotations = Annotations(source.annotations_path, source.folder.name)
            self.annotations_error = True
        else:
            self.annotations_error = False
        self._refresh_annotations()
        self.audio = AudioPlayer(parent=self)
        self.bridge = _Bridge(self)
        self.bridge.frames.connect(self._on_frames, Qt.ConnectionType.QueuedConnection)
        self.bridge.audio.connect(self._on_audio, Qt.ConnectionType.QueuedConnection)
        self.bridge.state.connect(self._on_state, Qt.ConnectionType.QueuedConnection)
        self.engine = PlaybackEngine(
            source.recording, on_frames=self.bridge.frames.emit,
            on_audio=self.bridge.audio.emit, on_state=self.bridge.state.emit)
        self.timeline.set_content(self.engine.duration_s, source.marks)
        self.engine.start()
        self.audio.start()

    # --- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        videos = QSplitter(Qt.Orientation.Horizontal, central)
        self.applicant_view = VideoView(self.tr("Applicant"), videos)
        self.applicant_view.setObjectName("applicantVideo")
        self.operator_view = VideoView(self.tr("Operator"), videos)
        self.operator_view.setObjectName("operatorVideo")
        videos.addWidget(self.applicant_view)
        videos.addWidget(self.operator_view)
        videos.setStretchFactor(0, 3)
        videos.setStretchFactor(1, 2)
        self.applicant_view.installEventFilter(self)
        self.applicant_view.video.installEventFilter(self)
        outer.addWidget(videos, 1)

        controls = QHBoxLayout()
        self.play_button = QPushButton(self.tr("Play"), central)
        self.play_button.setObjectName("playButton")
        self.play_button.clicked.connect(self.toggle_play)
        self.back_button = QPushButton("◀|", central)
        self.back_button.setToolTip(self.tr("Previous frame (Left)"))
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.forward_button = QPushButton("|▶", central)
        self.forward_button.setToolTip(self.tr("Next frame (Right)"))
        self.forward_button.clicked.connect(lambda: self.step(1))
        self.position_label = QLabel("0:00.000", central)
        self.position_label.setObjectName("positionLabel")
        self.zoom_slider = QSlider(Qt.Orientation.Horizontal, central)
        self.zoom_slider.setRange(10, MAX_ZOOM * 10)
        self.zoom_slider.setValue(10)
        self.zoom_slider.setMaximumWidth(160)
        self.zoom_slider.setToolTip(self.tr("Zoom on the applicant's video (+/-)"))
        self.zoom_slider.valueChanged.connect(self._zoom_changed)
        for button in (self.back_button, self.play_button, self.forward_button):
            controls.addWidget(button)
        controls.addWidget(self.position_label)
        controls.addStretch(1)
        controls.addWidget(QLabel(self.tr("Zoom"), central))
        controls.addWidget(self.zoom_slider)
        outer.addLayout(controls)

        self.timeline = TimelineWidget(central)
        self.timeline.seek_requested.connect(self.seek)
        outer.addWidget(self.timeline)

        notes = QHBoxLayout()
        self.marks_list = QListWidget(central)
        self.marks_list.setObjectName("marksList")
        self.marks_list.itemActivated.connect(self._item_seek)
        self.marks_list.itemClicked.connect(self._item_seek)
        for m in self.source.marks:
            item = QListWidgetItem(f"{_clock(m.offset_s)}  {mark_text(self, m)}")
            item.setData(Qt.ItemDataRole.UserRole, m.offset_s)
            self.marks_list.addItem(item)
        self.annotation_list = QListWidget(central)
        self.annotation_list.setObjectName("annotationList")
        self.annotation_list.itemActivated.connect(self._item_seek)
        self.annotation_list.itemClicked.connect(self._item_seek)
        notes.addWidget(self.marks_list, 1)
        right = QVBoxLayout()
        right.addWidget(QLabel(self.tr("Trainer's notes (saved beside the package)"), central))
        right.addWidget(self.annotation_list, 1)
        add_row = QHBoxLayout()
        self.note_edit = QLineEdit(central)
        self.note_edit.setObjectName("noteEdit")
        self.note_edit.setPlaceholderText(self.tr("Note at the current moment"))
        self.note_edit.returnPressed.connect(self.add_annotation_from_edit)
        self.add_note_button = QPushButton(self.tr("Add note"), central)
        self.add_note_button.clicked.connect(self.add_annotation_from_edit)
        add_row.addWidget(self.note_edit, 1)
        add_row.addWidget(self.add_note_button)
        right.addLayout(add_row)
        self.status = QLabel("", central)
        self.status.setObjectName("playerStatus")
        right.addWidget(self.status)
        notes.addLayout(right, 1)
        outer.addLayout(notes)
        self.setCentralWidget(central)
        QShortcut(QKeySequence("Ctrl+M"), self, self.note_edit.setFocus)
        self.resize(1280, 820)

    # --- commands -----------------------------------------------------------------------------
    @Slot(float)
    def seek(self, seconds: float) -> None:
        self._seek_id += 1
        self._seek_started[self._seek_id] = time.perf_counter()
        self.engine.seek(seconds, self._seek_id)

    def step(self, frames: int) -> None:
        self.playing = False
        self.play_button.setText(self.tr("Play"))
        self.engine.step(frames)

    def toggle_play(self) -> None:
        if self.playing:
            self.engine.pause()
        else:
            self.engine.play()

    def set_zoom(self, zoom: float, centre: tuple[float, float] | None = None) -> None:
        self.zoom = min(float(MAX_ZOOM), max(1.0, zoom))
        if centre is not None:
            self.zoom_centre = centre
        self.zoom_slider.blockSignals(True)
        self.zoom_slider.setValue(int(self.zoom * 10))
        self.zoom_slider.blockSignals(False)
        self._repaint_applicant()

    def add_annotation(self, text: str, offset_s: float | None = None) -> Annotation:
        at = self.engine.position_s if offset_s is None else offset_s
        item = self.annotations.add(at, text, self.author)
        try:
            self.annotations.save()
        except OSError as exc:
            self.annotations.remove(item)
            self.status.setText(self.tr("The note could not be saved."))
            log.warning("annotations not saved (%s)", type(exc).__name__)
            raise
        self._refresh_annotations()
        self.status.setText(self.tr("Note saved."))
        return item

    def add_annotation_from_edit(self) -> None:
        text = self.note_edit.text().strip()
        if not text:
            return
        try:
            self.add_annotation(text)
        except OSError:
            return
        self.note_edit.clear()

    # --- slots --------------------------------------------------------------------------------
    @Slot(object)
    def _on_frames(self, frames: Frames) -> None:
        if self._closed:
            return
        self.last_frames = frames
        self._repaint_applicant()
        if frames.operator is not None:
            self.operator_view.show_frame(frames.operator)
        started = self._seek_started.pop(frames.request_id, None) if frames.request_id else None
        if started is not None:
            self.last_seek_ms = (time.perf_counter() - started) * 1000
            self._seek_started = {k: v for k, v in self._seek_started.items()
                                  if k > frames.request_id}
        self.position_label.setText(_clock(frames.position_s))
        self.timeline.set_position(frames.position_s)
        self.position_changed.emit(frames.position_s)
        self.frames_shown.emit(frames)

    def _repaint_applicant(self) -> None:
        frames = self.last_frames
        if frames is None or frames.applicant is None:
            return
        frame = crop_zoom(frames.applicant, self.zoom, self.zoom_centre)
        self.applicant_view.show_frame(frame)

    @Slot(bytes)
    def _on_audio(self, pcm: bytes) -> None:
        if self.playing and pcm:
            self.audio.push(_PcmChunk(pcm))

    @Slot(str)
    def _on_state(self, state: str) -> None:
        self.playing = state == "playing"
        self.play_button.setText(self.tr("Pause") if self.playing else self.tr("Play"))
        if state == "error":
            self.status.setText(self.tr("The recording cannot be played."))

    def _zoom_changed(self, value: int) -> None:
        self.zoom = value / 10.0
        self._repaint_applicant()

    def _item_seek(self, item: QListWidgetItem) -> None:
        value = item.data(Qt.ItemDataRole.UserRole)
        if value is not None:
            self.seek(float(value))

    def _refresh_annotations(self) -> None:
        self.annotation_list.clear()
        for a in self.annotations.items:
            item = QListWidgetItem(f"{_clock(a.offset_s)}  {a.text}")
            item.setData(Qt.ItemDataRole.UserRole, a.offset_s)
            self.annotation_list.addItem(item)
        self.timeline.set_annotations(self.annotations.items)

    # --- events -------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress and self.zoom > 1.0:
            widget = self.applicant_view
            pos = event.position()  # type: ignore[attr-defined]
            fx = min(1.0, max(0.0, pos.x() / max(1, widget.width())))
            fy = min(1.0, max(0.0, pos.y() / max(1, widget.height())))
            cx, cy = self.zoom_centre
            span = 1.0 / self.zoom  # the click is inside the zoomed view: move its centre
            self.set_zoom(self.zoom, (cx + (fx - 0.5) * span, cy + (fy - 0.5) * span))
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.note_edit.hasFocus():
            super().keyPressEvent(event)
            return
        key = event.key()
        if key == Qt.Key.Key_Left:
            self.step(-1)
        elif key == Qt.Key.Key_Right:
            self.step(1)
        elif key == Qt.Key.Key_Space:
            self.toggle_play()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.set_zoom(self.zoom * 1.5)
        elif key == Qt.Key.Key_Minus:
            self.set_zoom(self.zoom / 1.5)
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.engine.stop()
        self.audio.stop()
        self.source.close()


def _clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:06.3f}"


def open_player(path: str, key_file: str | None = None, author: str = "",
                parent: QWidget | None = None) -> PlayerWindow | None:
    """Open a package in a player window; a clear message (never a traceback) on failure."""
    from ui.player.source import SourceError, open_source

    title = QCoreApplication.translate("PlayerWindow", "Session player")
    try:
        source = open_source(path, key_file)
    except SourceError as exc:
        QMessageBox.warning(parent, title, source_error_text(exc.code))
        return None
    try:
        return PlayerWindow(source, author, parent)
    except PlaybackError:
        source.close()
        QMessageBox.warning(parent, title, source_error_text("no_recording"))
        return None


def source_error_text(code: str) -> str:
    texts = {
        "not_found": QCoreApplication.translate("PlayerWindow", "There is no such package."),
        "key_needed": QCoreApplication.translate(
            "PlayerWindow", "This package is sealed: the reviewer's key is needed."),
        "cannot_decrypt": QCoreApplication.translate(
            "PlayerWindow", "The package could not be decrypted with this key."),
        "not_a_package": QCoreApplication.translate(
            "PlayerWindow", "This is not an evidence package."),
        "no_recording": QCoreApplication.translate(
            "PlayerWindow", "The package has no playable recording."),
    }
    return texts.get(code, code)
