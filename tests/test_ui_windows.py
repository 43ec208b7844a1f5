"""pytest-qt tests of the console's windows, offscreen, without a desk service."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap

from console.errors import ConsoleError
from console.flows.adapters import SettingsStore, Workflow
from console.models import (
    Applicant,
    Assignment,
    DocumentType,
    IdentityDocument,
    Product,
    QueueEntry,
    RecognitionRequest,
    RequestState,
)
from ui.controller import step_views
from ui.decision_dialog import DecisionDialog
from ui.logview import LogView, install_log_handler
from ui.messages import error_message
from ui.queue_view import QueueView
from ui.settings_dialog import SettingsDialog
from ui.signin import SignInWindow
from ui.widgets.checklist import ScriptChecklist
from ui.widgets.otp import OtpPanel
from ui.widgets.video import VideoView, fit_size, frame_to_image


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOGNITION_CONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("RECOGNITION_CONSOLE_DATA_DIR", str(tmp_path / "data"))


def _assignment() -> Assignment:
    applicant = Applicant(
        surname="ROSSI", given_names="MARIA", codice_fiscale="RSSMRA85D52H501P",
        birth_date=date(1985, 4, 12), birth_place="ROMA (H501)", sex="F",
        email="maria.rossi@example.test", mobile="+393331234567",
    )
    doc = IdentityDocument(type=DocumentType.IDENTITY_CARD, number="CA00000AA",
                           issuer="COMUNE DI ROMA", expiry_date=date(2031, 4, 12))
    request = RecognitionRequest(id="req-1", state=RequestState.IN_CALL,
                                 product=Product.SPID_PERSONAL, applicant=applicant, document=doc)
    return Assignment(session_id="sess-0001", request=request)


# --- sign-in ----------------------------------------------------------------------------------
def test_sign_in_validates_before_submitting(qtbot) -> None:
    w = SignInWindow()
    qtbot.addWidget(w)
    w.show()
    submitted: list[tuple] = []
    w.submitted.connect(lambda *a: submitted.append(a))
    w.prefill("not a url", "operatore1", "secret")
    w.sign_in_button.click()
    assert w.error_code() == "invalid_url"
    w.url.setText("http://127.0.0.1:9")
    w.totp.setText("12")
    w.sign_in_button.click()
    assert w.error_code() == "missing_fields"
    assert submitted == []
    w.totp.setText("123456")
    with qtbot.waitSignal(w.submitted) as blocker:
        qtbot.keyClick(w.totp, Qt.Key.Key_Return)
    assert blocker.args == ["http://127.0.0.1:9", "operatore1", "secret", "123456", False]
    assert not w.sign_in_button.isEnabled()  # busy until the controller answers


def test_each_sign_in_failure_has_its_own_message(qtbot) -> None:
    codes = ["invalid_credentials", "invalid_totp", "account_locked", "server_unreachable",
             "tls_error"]
    texts = {code: error_message(code) for code in codes}
    assert len(set(texts.values())) == len(codes)
    until = datetime.now(UTC) + timedelta(minutes=15)
    locked = error_message("account_locked", locked_until=until)
    assert until.astimezone().strftime("%H:%M") in locked
    w = SignInWindow()
    qtbot.addWidget(w)
    w.show_error("invalid_totp")
    assert w.error.isVisible() or not w.isVisible()
    assert w.error.text() == texts["invalid_totp"]
    assert w.sign_in_button.isEnabled()


# --- queue --------------------------------------------------------------------------------------
def test_queue_view_shows_entries_and_wait_times(qtbot) -> None:
    view = QueueView()
    qtbot.addWidget(view)
    assert not view.take_next_button.isEnabled()
    now = datetime.now(UTC)
    entries = [
        QueueEntry("r1", Product.SPID_PERSONAL, now - timedelta(seconds=75), 75.0, None),
        QueueEntry("r2", Product.CNS, now - timedelta(seconds=5), 5.0, None),
    ]
    view.set_queue(entries)
    assert view.row_count() == 2
    minutes, seconds = view.table.item(0, 2).text().split(":")
    assert 75 <= int(minutes) * 60 + int(seconds) < 90
    assert view.take_next_button.isEnabled()
    with qtbot.waitSignal(view.take_next_requested):
        view.take_next_button.click()
    view.show_message("queue_empty")
    assert view.message.text() == error_message("queue_empty")


# --- checklist with the real session workflow ----------------------------------------------------
def test_checklist_keyboard_walk_and_required_steps(qtbot, tmp_path: Path) -> None:
    flow = Workflow.start(_assignment(), None, "en", tmp_path)
    checklist = ScriptChecklist()
    qtbot.addWidget(checklist)
    checklist.show()
    checklist.set_steps(step_views(flow))

    def marked(step_id: str, status: str) -> None:
        with contextlib.suppress(ConsoleError):
            flow.mark(step_id, status)
        for view in step_views(flow):
            checklist.update_step(view)

    checklist.step_marked.connect(marked)
    checklist.focus_list()
    assert checklist.current_step_id() == "a"
    qtbot.keyClick(checklist.tree, Qt.Key.Key_Space)
    assert checklist.step("a").status == "passed"
    assert checklist.step("a").at is not None
    assert checklist.current_step_id() == "b"
    qtbot.keyClick(checklist.tree, Qt.Key.Key_F)
    assert checklist.step("b").status == "failed"
    qtbot.keyClick(checklist.tree, Qt.Key.Key_Up)
    assert checklist.current_step_id() == "b"
    qtbot.keyClick(checklist.tree, Qt.Key.Key_Backspace)
    assert checklist.step("b").status == "pending"
    qtbot.keyClick(checklist.tree, Qt.Key.Key_S)  # required: cannot be skipped
    assert checklist.step("b").status == "pending"
    qtbot.keyClick(checklist.tree, Qt.Key.Key_Down)
    assert checklist.current_step_id() == "c"
    # a capture step cannot pass without its stills; C asks for the first missing one
    checklist.select_step("i")
    with qtbot.waitSignal(checklist.capture_requested) as blocker:
        qtbot.keyClick(checklist.tree, Qt.Key.Key_C)
    assert blocker.args == ["i", "document_front"]
    qtbot.keyClick(checklist.tree, Qt.Key.Key_Return)
    assert checklist.step("i").status == "pending"
    pix = QPixmap(320, 200)
    pix.fill(Qt.GlobalColor.gray)
    checklist.set_still("i", "document_front", pix, 3264, 2448, 812_000)
    assert checklist.has_still("i", "document_front")
    assert "3264×2448" in checklist._cells["i"].sizes["document_front"].text()
    # random action is drawn per session and shown
    assert checklist.step("l").detail
    assert "b" in flow.missing_required()


# --- decision ------------------------------------------------------------------------------------
def test_decision_dialog_blocks_approval_when_required_missing(qtbot) -> None:
    dialog = DecisionDialog(["g. SMS code"])
    qtbot.addWidget(dialog)
    assert not dialog.approve_button.isEnabled()
    assert dialog.decision() == "suspended"
    assert "g. SMS code" in dialog.blocked.text()
    dialog.set_decision("rejected")
    dialog.set_reason("other")
    dialog._accept()
    assert dialog.error.text()  # "other" needs a note
    dialog.note.setPlainText("applicant left")
    with qtbot.waitSignal(dialog.accepted):
        dialog._accept()
    assert (dialog.decision(), dialog.reason_code(), dialog.note_text()) == (
        "rejected", "other", "applicant left")


def test_decision_dialog_approve_only_with_ok(qtbot) -> None:
    dialog = DecisionDialog([])
    qtbot.addWidget(dialog)
    assert dialog.approve_button.isChecked()
    assert [dialog.reason.itemData(i) for i in range(dialog.reason.count())] == ["ok"]


# --- OTP panel -----------------------------------------------------------------------------------
def test_otp_panel_attempts_and_exhaustion(qtbot) -> None:
    panel = OtpPanel()
    qtbot.addWidget(panel)
    assert not panel.code.isEnabled()
    with qtbot.waitSignal(panel.send_requested):
        panel.send_button.click()
    panel.on_sent(3)
    assert panel.code.isEnabled()
    panel.code.setText("123456")
    with qtbot.waitSignal(panel.verify_requested) as blocker:
        panel.verify_button.click()
    assert blocker.args == ["123456"]
    panel.on_result(False, 2, False)
    assert "2" in panel.status.text() and panel.code.isEnabled()
    panel.on_result(False, 0, True)
    assert not panel.code.isEnabled() and not panel.send_button.isEnabled()


# --- settings ------------------------------------------------------------------------------------
def test_settings_dialog_round_trip_and_store(qtbot, tmp_path: Path) -> None:
    store = SettingsStore()
    assert str(store.path).startswith(str(tmp_path))
    dialog = SettingsDialog(store.values())
    qtbot.addWidget(dialog)
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    dialog.server_url.setText("ftp://x")
    dialog._accept()
    assert dialog.error.isVisibleTo(dialog)
    dialog.server_url.setText("https://desk.example.it")
    with qtbot.waitSignal(dialog.accepted):
        dialog._accept()
    store.update(**dialog.values())
    again = SettingsStore()
    assert again.get("language") == "en"
    assert again.get("server_url") == "https://desk.example.it"
    # no camera on this machine: the combo says so, and the value is the default
    assert dialog.values()["camera"] == ""


# --- video ---------------------------------------------------------------------------------------
def test_video_view_paints_yuv_frames_at_its_size(qtbot) -> None:
    view = VideoView("no video")
    qtbot.addWidget(view)
    view.resize(640, 480)  # wider frame: black bars above and below
    view.show()
    qtbot.waitExposed(view)
    rgb = np.zeros((720, 1280, 3), dtype=np.uint8)
    rgb[:, :640] = (255, 0, 0)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    converted = frame_to_image(frame, 320, 180)
    assert converted is not None and converted[0].width() == 320
    assert converted[0].pixelColor(10, 90).red() > 200
    assert view.show_frame(frame)
    assert not view.show_frame(frame)  # the same frame is not shown twice
    assert view.frames_shown == 1 and view.last_size == (1280, 720)
    image = view.video.grab().toImage()
    ratio = image.devicePixelRatio()
    y = round(240 * ratio)
    left, right = image.pixelColor(round(100 * ratio), y), image.pixelColor(round(500 * ratio), y)
    assert left.red() > 200 and left.blue() < 60 and right.red() < 60
    bar = image.pixelColor(round(320 * ratio), round(10 * ratio))
    assert (bar.red(), bar.green(), bar.blue()) == (0, 0, 0)
    # converted once, at the widget's size, not the frame's; repaints reuse the image
    conversions = view.video.conversions
    view.video.grab()
    assert view.video.conversions == conversions
    assert view.video._image.width() == fit_size(1280, 720, round(640 * ratio),
                                                 round(480 * ratio))[0]


# --- log view ------------------------------------------------------------------------------------
def test_log_view_shows_records(qtbot) -> None:
    handler = install_log_handler(logging.INFO)
    view = LogView(handler)
    qtbot.addWidget(view)
    logging.getLogger("ui.test").warning("a visible line %d", 42)
    qtbot.waitUntil(lambda: "a visible line 42" in view.text.toPlainText())
