"""Settings (JSON under platformdirs, tolerant of corrupt files) and keyring credentials."""

from __future__ import annotations

import json
from pathlib import Path

import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyrings.alt.file import PlaintextKeyring

from console import credentials as cred_module
from console.credentials import SERVICE_NAME, Credentials
from console.errors import CredentialsUnavailable
from console.settings import (
    Settings,
    SettingsIssue,
    default_settings_path,
    load_settings,
    save_settings,
)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOGNITION_CONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("RECOGNITION_CONSOLE_DATA_DIR", str(tmp_path / "data"))


def test_defaults_when_missing(tmp_path: Path) -> None:
    loaded = load_settings()
    assert loaded.issue is None
    assert loaded.path == tmp_path / "config" / "settings.json"
    assert loaded.settings.language == "it"
    assert loaded.settings.data_path == tmp_path / "data"
    assert not loaded.path.exists()


def test_round_trip(tmp_path: Path) -> None:
    s = Settings(server_url="https://desk.example:8443", username="operatore1", language="en",
                 camera_device_id="cam-2", microphone_device_id="mic-1",
                 ca_bundle=str(tmp_path), remember_me=True)
    path = save_settings(s)
    assert path == default_settings_path()
    on_disk = json.loads(path.read_text("utf-8"))
    assert on_disk["username"] == "operatore1" and "_source" not in on_disk
    assert "password" not in json.dumps(on_disk)
    loaded = load_settings()
    assert loaded.issue is None
    assert loaded.settings == s
    assert s.validate() == {}
    leftovers = [p.name for p in path.parent.iterdir() if p.name != "settings.json"]
    assert leftovers == []


def test_load_and_save_shortcuts(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "settings.json"
    s = Settings.load(target)
    s.language = "en"
    s.save()
    assert Settings.load(target).language == "en"
    assert not default_settings_path().exists()


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00", b"[1, 2, 3]", b""])
def test_corrupt_file_backed_up_and_defaults_used(content: bytes) -> None:
    path = default_settings_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    loaded = load_settings()
    assert loaded.issue is SettingsIssue.CORRUPT
    assert loaded.settings == Settings()
    assert loaded.backup_path is not None and loaded.backup_path.read_bytes() == content
    assert loaded.backup_path.name.startswith("settings.json.corrupt-")
    assert not path.exists()
    # a second corrupt file gets its own backup, the first is kept
    path.write_bytes(content)
    again = load_settings()
    assert again.backup_path != loaded.backup_path and loaded.backup_path.exists()


def test_invalid_values_reset_individually() -> None:
    path = default_settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"server_url": "https://ok.example", "language": "de",
                                "remember_me": "yes", "username": 42,
                                "future_option": 1}), encoding="utf-8")
    loaded = load_settings()
    assert loaded.issue is SettingsIssue.INVALID_VALUES
    assert set(loaded.invalid_fields) == {"language", "remember_me", "username"}
    assert loaded.settings.server_url == "https://ok.example"
    assert loaded.settings.language == "it" and loaded.settings.remember_me is False


def test_validate_reports_unusable_values(tmp_path: Path) -> None:
    s = Settings(server_url="ftp://x", language="fr", ca_bundle=str(tmp_path / "none.pem"))
    assert s.validate() == {"server_url": "invalid_url", "language": "unsupported_language",
                            "ca_bundle": "not_found"}


def test_unreadable_file() -> None:
    path = default_settings_path()
    path.mkdir(parents=True)  # a folder where the file should be: reading fails with OSError
    loaded = load_settings()
    assert loaded.issue is SettingsIssue.UNREADABLE and loaded.settings == Settings()
    assert path.is_dir()  # nothing was moved or deleted


# --- credentials --------------------------------------------------------------------------


@pytest.fixture
def file_keyring(tmp_path: Path) -> PlaintextKeyring:
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")
    return backend


def test_remember_me_password_in_keyring(file_keyring: PlaintextKeyring, tmp_path: Path) -> None:
    creds = Credentials(file_keyring)
    assert creds.available()
    url = "https://desk.example:8443"
    assert creds.lookup(url, "operatore1") is None
    creds.store(url, "operatore1", "Demo-Operatore-2026!")
    assert creds.lookup(url, "operatore1") == "Demo-Operatore-2026!"
    assert creds.lookup(url + "/api/v1", "operatore1") == "Demo-Operatore-2026!"  # same origin
    assert creds.lookup("https://other.example", "operatore1") is None
    assert creds.lookup(url, "operatore2") is None
    assert file_keyring.get_password(SERVICE_NAME, "operatore1@https://desk.example:8443") \
        == "Demo-Operatore-2026!"
    creds.forget(url, "operatore1")
    creds.forget(url, "operatore1")  # no error the second time
    assert creds.lookup(url, "operatore1") is None
    with pytest.raises(ValueError):
        creds.store(url, "operatore1", "")
    # the settings file never holds the password
    save_settings(Settings(username="operatore1", remember_me=True))
    assert "Demo-Operatore" not in default_settings_path().read_text("utf-8")


class BrokenKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("no backend")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringError("no backend")


def test_no_usable_keyring_is_a_clear_error() -> None:
    creds = Credentials(BrokenKeyring())
    with pytest.raises(CredentialsUnavailable) as info:
        creds.store("https://x.example", "u", "p")
    assert info.value.code == "keyring_unavailable"
    assert creds.lookup("https://x.example", "u") is None
    creds.forget("https://x.example", "u")


def test_module_shortcuts_use_default_keyring(file_keyring: PlaintextKeyring,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: file_keyring)
    cred_module.save_password("https://d.example", "u", "secret")
    assert cred_module.load_password("https://d.example", "u") == "secret"
    cred_module.delete_password("https://d.example", "u")
    assert cred_module.load_password("https://d.example", "u") is None
