"""The console settings as the UI sees them (a thin dict view of console.settings)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

from console.settings import Settings, default_data_dir, load_settings, save_settings

log = logging.getLogger(__name__)


class SettingsStore:
    """The UI's dict view of ``console.settings.Settings`` (saved atomically as JSON).

    ``RECOGNITION_CONSOLE_CONFIG_DIR`` / ``RECOGNITION_CONSOLE_DATA_DIR`` move it elsewhere
    (tests point them at tmp_path).
    """

    KEYS: ClassVar[dict[str, str]] = {
        "language": "language",
        "camera": "camera_device_id",
        "microphone": "microphone_device_id",
        "speaker": "speaker_device_id",
        "server_url": "server_url",
        "ca_bundle": "ca_bundle",
        "last_user": "username",
        "remember": "remember_me",
    }

    def __init__(self, path: Path | None = None) -> None:
        loaded = load_settings(path)
        self.settings: Settings = loaded.settings
        self.path = loaded.path
        self.issue = loaded.issue

    @property
    def folder(self) -> Path:
        folder = self.settings.data_path
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def get(self, key: str) -> Any:
        return getattr(self.settings, self.KEYS.get(key, key), None)

    def values(self) -> dict[str, Any]:
        return {key: getattr(self.settings, attr) for key, attr in self.KEYS.items()}

    def update(self, **values: Any) -> None:
        for key, value in values.items():
            attr = self.KEYS.get(key)
            if attr is not None:
                setattr(self.settings, attr, value)
        self.save()

    def save(self) -> None:
        try:
            save_settings(self.settings, self.path)
        except OSError as exc:
            log.warning("settings not saved (%s)", type(exc).__name__)


def data_dir() -> Path:
    return default_data_dir()
