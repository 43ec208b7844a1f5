"""The sign-in window and the queue against a real desk service process (offscreen)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from ui.messages import error_message
from ui.settings_store import SettingsStore
from ui.shell import ConsoleShell
from ui.tasks import shutdown_pool


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOGNITION_CONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("RECOGNITION_CONSOLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # the test keyring file


@pytest.fixture
def shell(qtbot):  # type: ignore[no-untyped-def]
    s = ConsoleShell(SettingsStore())
    qtbot.addWidget(s.sign_in)
    yield s
    s.shutdown()
    shutdown_pool()


def _submit(qtbot, shell: ConsoleShell, url: str, user: str, password: str, totp: str,
            remember: bool = False) -> None:
    form = shell.sign_in
    form.prefill(url, user, password, remember)
    form.totp.setText(totp)
    form.sign_in_button.click()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sign_in_failures_each_have_their_message(qtbot, shell: ConsoleShell,
                                                  desk_server) -> None:
    shell.show_sign_in()
    form = shell.sign_in
    url = desk_server.base_url
    _submit(qtbot, shell, url, "operatore1", "not-the-password", desk_server.totp("operatore1"))
    qtbot.waitUntil(lambda: form.error_code() == "invalid_credentials", timeout=15000)
    assert form.error.text() == error_message("invalid_credentials")
    assert form.sign_in_button.isEnabled()

    password = desk_server.operator("operatore1")["password"]
    _submit(qtbot, shell, url, "operatore1", password, "000000")
    qtbot.waitUntil(lambda: form.error_code() == "invalid_totp", timeout=15000)

    _submit(qtbot, shell, f"http://127.0.0.1:{_free_port()}", "operatore1", password, "123456")
    qtbot.waitUntil(lambda: form.error_code() == "server_unreachable", timeout=15000)

    # HTTPS to a plain-HTTP service: the TLS handshake fails
    _submit(qtbot, shell, url.replace("http://", "https://"), "operatore1", password, "123456")
    qtbot.waitUntil(lambda: form.error_code() == "tls_error", timeout=15000)
    assert len({error_message(c) for c in ("invalid_credentials", "invalid_totp",
                                           "server_unreachable", "tls_error")}) == 4


def test_account_locked_says_until_when(qtbot, shell: ConsoleShell, desk_server) -> None:
    shell.show_sign_in()
    form = shell.sign_in
    for _ in range(6):
        _submit(qtbot, shell, desk_server.base_url, "supervisore1", "wrong-password-123",
                "123456")
        qtbot.waitUntil(lambda: form.sign_in_button.isEnabled(), timeout=15000)
        if form.error_code() == "account_locked":
            break
    assert form.error_code() == "account_locked"
    assert ":" in form.error.text()  # "…until HH:MM."


def test_sign_in_remember_me_and_queue(qtbot, shell: ConsoleShell, desk_server) -> None:
    shell.show_sign_in()
    password = desk_server.operator("operatore1")["password"]
    _submit(qtbot, shell, desk_server.base_url, "operatore1", password,
            desk_server._fresh_code("operatore1"), remember=True)
    qtbot.waitUntil(lambda: shell.main is not None and shell.main.isVisible(), timeout=20000)
    assert not shell.sign_in.isVisible()
    assert "Operatore" in shell.main.operator_label.text()
    queue = shell.main.queue
    qtbot.waitUntil(lambda: queue.summary.text() != "", timeout=10000)
    # nobody consented yet: "take next" says the queue is empty
    shell.controller.take_next()
    qtbot.waitUntil(lambda: queue.message.text() == error_message("queue_empty"),
                    timeout=10000)
    # the password was kept in the keyring, never in the settings file
    settings_text = SettingsStore().path.read_text(encoding="utf-8")
    assert password not in settings_text
    again = ConsoleShell(SettingsStore())
    qtbot.addWidget(again.sign_in)
    again.show_sign_in()
    assert again.sign_in.user.text() == "operatore1"
    assert again.sign_in.password.text() == password
    again.shutdown()
    QApplication.processEvents()
