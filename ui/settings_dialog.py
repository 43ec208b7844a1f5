"""Settings dialog: language, camera and microphone, server URL, CA bundle."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from PySide6.QtCore import Slot
from PySide6.QtMultimedia import QMediaDevices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.i18n import LANGUAGES

log = logging.getLogger(__name__)


def _device_id(device: Any) -> str:
    return bytes(device.id().data()).decode("utf-8", "replace")


class SettingsDialog(QDialog):
    """Edits a plain dict: ``language``, ``camera``, ``microphone``, ``speaker``,
    ``server_url``, ``ca_bundle`` (device values are QMediaDevices ids, "" = system default)."""

    def __init__(self, values: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(520)
        self._initial = dict(values)

        self.language = QComboBox(self)
        self.language.setObjectName("language")
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self._select(self.language, values.get("language", "it"))

        self.camera = QComboBox(self)
        self.camera.setObjectName("camera")
        self.microphone = QComboBox(self)
        self.microphone.setObjectName("microphone")
        self.speaker = QComboBox(self)
        self.speaker.setObjectName("speaker")
        self._fill_devices(values)

        self.server_url = QLineEdit(str(values.get("server_url") or ""), self)
        self.server_url.setObjectName("serverUrl")
        self.ca_bundle = QLineEdit(str(values.get("ca_bundle") or ""), self)
        self.ca_bundle.setObjectName("caBundle")
        self.ca_bundle.setPlaceholderText(self.tr("system certificates"))
        browse = QPushButton(self.tr("Browse…"), self)
        browse.clicked.connect(self._browse)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_bundle, 1)
        ca_row.addWidget(browse)

        general = QGroupBox(self.tr("General"), self)
        f1 = QFormLayout(general)
        f1.addRow(self.tr("Language"), self.language)
        self.restart_hint = QLabel(self.tr("The language changes for windows opened from now on."))
        self.restart_hint.setObjectName("hint")
        f1.addRow("", self.restart_hint)
        devices = QGroupBox(self.tr("Devices"), self)
        f2 = QFormLayout(devices)
        f2.addRow(self.tr("Camera"), self.camera)
        f2.addRow(self.tr("Microphone"), self.microphone)
        f2.addRow(self.tr("Speaker"), self.speaker)
        server = QGroupBox(self.tr("Desk service"), self)
        f3 = QFormLayout(server)
        f3.addRow(self.tr("Server URL"), self.server_url)
        f3.addRow(self.tr("CA bundle (PEM)"), ca_row)

        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("Save"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Cancel"))
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(general)
        layout.addWidget(devices)
        layout.addWidget(server)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    @staticmethod
    def _select(combo: QComboBox, data: Any) -> None:
        index = combo.findData(data)
        combo.setCurrentIndex(max(0, index))

    def _fill_devices(self, values: dict[str, Any]) -> None:
        default = self.tr("System default")
        cameras = QMediaDevices.videoInputs()
        mics = QMediaDevices.audioInputs()
        speakers = QMediaDevices.audioOutputs()
        for combo, devices, key, none_text in (
            (self.camera, cameras, "camera", self.tr("No camera found: a placeholder is sent")),
            (self.microphone, mics, "microphone", self.tr("No microphone found: silence is sent")),
            (self.speaker, speakers, "speaker", self.tr("No speaker found")),
        ):
            if devices:
                combo.addItem(default, "")
                for dev in devices:
                    combo.addItem(dev.description(), _device_id(dev))
            else:
                combo.addItem(none_text, "")
                combo.setEnabled(False)
            self._select(combo, values.get(key) or "")

    @Slot()
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("CA bundle"), "", self.tr("Certificates (*.pem *.crt);;All files (*)")
        )
        if path:
            self.ca_bundle.setText(path)

    @Slot()
    def _accept(self) -> None:
        url = self.server_url.text().strip()
        if url:
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                self.error.setText(self.tr("The server address is not a valid http(s) URL."))
                self.error.show()
                return
        ca = self.ca_bundle.text().strip()
        if ca and not Path(ca).exists():
            self.error.setText(self.tr("The CA bundle file does not exist."))
            self.error.show()
            return
        self.accept()

    def values(self) -> dict[str, Any]:
        out = dict(self._initial)
        out.update(
            language=str(self.language.currentData()),
            camera=str(self.camera.currentData() or ""),
            microphone=str(self.microphone.currentData() or ""),
            speaker=str(self.speaker.currentData() or ""),
            server_url=self.server_url.text().strip(),
            ca_bundle=self.ca_bundle.text().strip(),
        )
        return out
