"""The sign-in window and the queue against a real desk service process (offscreen)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from console.settings_store import SettingsStore
from ui.messages import error_message
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


@pytest.mark.parametrize(("username", "workspace", "window"), [
    ("operatore1", "video_session", "MainWindow"),
    ("partner1", "in_person", "InPersonWindow"),
    ("formatore1", "trainer", "TrainingWindow"),
    ("supervisore1", "review", "ReviewWindow"),
])
def test_each_role_lands_on_its_workspace(qtbot, shell: ConsoleShell, desk_server,
                                          username: str, workspace: str, window: str) -> None:
    """Sign-in through the real window with each seeded account: the role's window opens and
    no other (the table is console.workspaces; the desk decides what each may do)."""
    shell.show_sign_in()
    password = desk_server.operator(username)["password"]
    _submit(qtbot, shell, desk_server.base_url, username, password,
            desk_server._fresh_code(username))
    qtbot.waitUntil(lambda: shell.workspace is not None, timeout=20000)
    assert shell.workspace.value == workspace
    opened = shell.main if workspace == "video_session" else shell.other
    assert opened is not None and type(opened).__name__ == window
    qtbot.waitUntil(opened.isVisible, timeout=5000)
    assert not shell.sign_in.isVisible()
    if workspace != "video_session":
        assert shell.main is None  # the operator's queue never opens for another role
    if workspace == "review":  # the supervisor's first view loads from the desk
        qtbot.waitUntil(lambda: opened.status.text() != "", timeout=10000)
        opened.load_packages()
    if workspace == "in_person":
        opened.close()


def test_review_desk_reads_what_a_supervisor_may(desk_server) -> None:
    from console.client import DeskClient
    from console.errors import Forbidden
    from console.models import RequestState
    from console.review import ReviewDesk

    desk_server.start_video_session("operatore1")
    client = DeskClient(desk_server.base_url)
    client.login("supervisore1", desk_server.operator("supervisore1")["password"],
                 desk_server._fresh_code("supervisore1"))
    review = ReviewDesk(client)
    in_call = review.requests_in(RequestState.IN_CALL)
    assert in_call and all(r.state is RequestState.IN_CALL for r in in_call)
    detail = review.request(in_call[0].id)
    assert detail["id"] == in_call[0].id and "history" in detail
    from datetime import date

    assert isinstance(review.packages_on(date.today()), list)
    client.close()
    # an operator's account cannot use the review desk: the service refuses, not the console
    op = DeskClient(desk_server.base_url)
    op.login("operatore1", desk_server.operator("operatore1")["password"],
             desk_server._fresh_code("operatore1"))
    with pytest.raises(Forbidden):
        ReviewDesk(op).requests_in(RequestState.SUSPENDED)
    op.close()
