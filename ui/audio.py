"""The applicant's voice on the operator's speaker through QAudioSink.

The media engine calls :meth:`AudioPlayer.push` on its own thread with s16 PCM chunks; they are
only appended to a bounded deque there. A GUI-thread timer writes them to the sink's device.
Without an output device the chunks are dropped (silence, no crash).
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import Any

from PySide6.QtCore import QIODevice, QObject, QTimer, Slot
from PySide6.QtMultimedia import QAudio, QAudioDevice, QAudioFormat, QAudioSink, QMediaDevices

log = logging.getLogger(__name__)

MAX_BUFFERED_CHUNKS = 50  # ~1 s at 20 ms chunks: older audio is dropped, latency stays low


class AudioPlayer(QObject):
    def __init__(self, device_id: str = "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._chunks: collections.deque[bytes] = collections.deque(maxlen=MAX_BUFFERED_CHUNKS)
        self._lock = threading.Lock()
        self._sink: QAudioSink | None = None
        self._io: QIODevice | None = None
        self._format: tuple[int, int] | None = None
        self._device = self._pick_device(device_id)
        self.chunks_played = 0
        self._timer = QTimer(self)
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._drain)

    @staticmethod
    def _pick_device(device_id: str) -> QAudioDevice | None:
        outputs = QMediaDevices.audioOutputs()
        for dev in outputs:
            if bytes(dev.id().data()).decode("utf-8", "replace") == device_id:
                return dev
        default = QMediaDevices.defaultAudioOutput()
        if default.isNull():
            log.info("no audio output device: the applicant's audio is not played")
            return None
        return default

    @property
    def available(self) -> bool:
        return self._device is not None

    def push(self, chunk: Any) -> None:
        """Engine thread: keep the chunk (bounded), never touch Qt objects here."""
        if self._device is None:
            return
        with self._lock:
            self._format = (int(chunk.sample_rate), int(chunk.channels))
            self._chunks.append(bytes(chunk.data))

    def start(self) -> None:
        if self._device is not None:
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        if self._sink is not None:
            self._sink.stop()
            self._sink = None
            self._io = None
        with self._lock:
            self._chunks.clear()

    def _open(self, rate: int, channels: int) -> None:
        fmt = QAudioFormat()
        fmt.setSampleRate(rate)
        fmt.setChannelCount(channels)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        assert self._device is not None
        if not self._device.isFormatSupported(fmt):
            log.warning("the speaker does not take %d Hz x%d s16: audio not played", rate,
                        channels)
            self._device = None
            return
        self._sink = QAudioSink(self._device, fmt, self)
        self._io = self._sink.start()

    @Slot()
    def _drain(self) -> None:
        with self._lock:
            chunks = list(self._chunks)
            self._chunks.clear()
            fmt = self._format
        if not chunks or fmt is None or self._device is None:
            return
        if self._sink is None:
            self._open(*fmt)
            if self._sink is None:
                return
        assert self._io is not None
        if self._sink.state() == QAudio.State.StoppedState:
            return
        for data in chunks:
            self._io.write(data)
            self.chunks_played += 1
