"""Typed console settings, saved as JSON under the platform's config dir (platformdirs).

``load_settings()`` never fails: a missing file gives defaults; an unreadable or corrupt file is
moved aside (``settings.json.corrupt-<UTC time>``) and defaults are used; a field with a wrong
value falls back to its default. What happened is reported in ``LoadedSettings.issue`` (a code
the UI translates) so the operator can be told. Unknown keys are ignored (newer versions).

Environment overrides (tests, portable installs): ``RECOGNITION_CONSOLE_CONFIG_DIR`` and
``RECOGNITION_CONSOLE_DATA_DIR``. Passwords are never stored here (see console.credentials).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import platformdirs

from console.errors import InsecureUrl
from console.urls import require_secure_url

log = logging.getLogger(__name__)

APP_NAME = "recognition-console"
APP_AUTHOR = "InfoCert"
SETTINGS_FILENAME = "settings.json"
ENV_CONFIG_DIR = "RECOGNITION_CONSOLE_CONFIG_DIR"
ENV_DATA_DIR = "RECOGNITION_CONSOLE_DATA_DIR"
LANGUAGES = ("it", "en")


def config_dir() -> Path:
    override = os.environ.get(ENV_CONFIG_DIR)
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))


def default_data_dir() -> Path:
    override = os.environ.get(ENV_DATA_DIR)
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def default_settings_path() -> Path:
    return config_dir() / SETTINGS_FILENAME


@dataclass
class Settings:
    server_url: str = "https://127.0.0.1:8443"
    username: str = ""
    language: str = "it"
    camera_device_id: str = ""
    microphone_device_id: str = ""
    speaker_device_id: str = ""
    ca_bundle: str = ""  # PEM file or folder; "" = system trust store
    data_dir: str = field(default_factory=lambda: str(default_data_dir()))
    remember_me: bool = False
    _source: Path | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def ca_bundle_path(self) -> Path | None:
        return Path(self.ca_bundle).expanduser() if self.ca_bundle else None

    def validate(self) -> dict[str, str]:
        """Field → error code for values that are well-typed but unusable."""
        problems: dict[str, str] = {}
        url = self.server_url.strip()
        if not (url.startswith("https://") or url.startswith("http://")) or len(url) < 10:
            problems["server_url"] = "invalid_url"
        else:
            try:
                require_secure_url(url)
            except InsecureUrl:
                problems["server_url"] = "insecure_url"
        if self.language not in LANGUAGES:
            problems["language"] = "unsupported_language"
        if self.ca_bundle and not Path(self.ca_bundle).expanduser().exists():
            problems["ca_bundle"] = "not_found"
        if not self.data_dir:
            problems["data_dir"] = "required"
        return problems

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    @classmethod
    def load(cls, path: str | Path | None = None) -> Settings:
        """Shortcut for ``load_settings(path).settings`` (problems are logged); ``save()``
        without a path then writes back to the same file."""
        loaded = load_settings(path)
        loaded.settings._source = loaded.path
        return loaded.settings

    def save(self, path: str | Path | None = None) -> Path:
        target = path if path is not None else self._source
        saved = save_settings(self, target)
        self._source = saved
        return saved


class SettingsIssue(StrEnum):
    UNREADABLE = "settings_unreadable"  # I/O error
    CORRUPT = "settings_corrupt"  # not JSON / not an object: moved aside, defaults used
    INVALID_VALUES = "settings_invalid_values"  # some fields reset to defaults


@dataclass(frozen=True, slots=True)
class LoadedSettings:
    settings: Settings
    path: Path
    issue: SettingsIssue | None = None
    invalid_fields: tuple[str, ...] = ()
    backup_path: Path | None = None


def load_settings(path: str | Path | None = None) -> LoadedSettings:
    p = Path(path) if path is not None else default_settings_path()
    defaults = Settings()
    if not p.exists():
        return LoadedSettings(defaults, p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        log.warning("settings file unreadable (%s); using defaults", type(exc).__name__)
        return LoadedSettings(defaults, p, SettingsIssue.UNREADABLE)
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except (UnicodeDecodeError, ValueError):
        backup = _move_aside(p)
        log.warning("settings file corrupt; moved to %s, using defaults",
                    backup.name if backup else "(could not move)")
        return LoadedSettings(defaults, p, SettingsIssue.CORRUPT, backup_path=backup)
    values: dict[str, Any] = {}
    invalid: list[str] = []
    for f in fields(Settings):
        if f.name.startswith("_") or f.name not in data:
            continue
        value = data[f.name]
        expected = bool if f.type in ("bool", bool) else str
        if isinstance(value, expected):
            values[f.name] = value
        else:
            invalid.append(f.name)
    settings = replace(defaults, **values)
    if settings.language not in LANGUAGES:
        settings.language = defaults.language
        invalid.append("language")
    if invalid:
        log.warning("settings: invalid values reset to defaults: %s", ", ".join(invalid))
        return LoadedSettings(settings, p, SettingsIssue.INVALID_VALUES, tuple(invalid))
    return LoadedSettings(settings, p)


def save_settings(settings: Settings, path: str | Path | None = None) -> Path:
    """Atomic write (temporary file, fsync, rename). Raises OSError on failure."""
    p = Path(path) if path is not None else default_settings_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(settings.to_json(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def _move_aside(p: Path) -> Path | None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = p.with_name(f"{p.name}.corrupt-{stamp}")
    n = 1
    while backup.exists():
        backup = p.with_name(f"{p.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        os.replace(p, backup)
    except OSError:
        return None
    return backup
