"""The session window offscreen, on the real session workflow (no call: the call itself is
covered end to end by tests/test_demo_autopilot.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from console.flows.adapters import Workflow
from console.models import (
    Applicant,
    Assignment,
    DocumentType,
    IdentityDocument,
    Product,
    RecognitionRequest,
    RequestState,
)
from console.settings_store import SettingsStore
from ui.controller import ConsoleController, step_views
from ui.session_window import SessionWindow


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOGNITION_CONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("RECOGNITION_CONSOLE_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def window(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    applicant = Applicant(
        surname="ROSSI", given_names="MARIA", codice_fiscale="RSSMRA85D52H501P",
        birth_date=date(1985, 4, 12), birth_place="ROMA (H501)", sex="F",
        email="maria.rossi@example.test", mobile="+393331234567",
    )
    doc = IdentityDocument(DocumentType.IDENTITY_CARD, "CA00000AA", "COMUNE DI ROMA",
                           date(2031, 4, 12))
    request = RecognitionRequest("req-1", RequestState.IN_CALL, Product.SPID_PERSONAL,
                                 applicant, doc)
    assignment = Assignment("sess-1234abcd", request)
    controller = ConsoleController(SettingsStore())
    controller.assignment = assignment
    controller.session = Workflow.start(assignment, None, "it", tmp_path)
    w = SessionWindow(controller)
    qtbot.addWidget(w)
    w.load(assignment)
    controller.steps_changed.emit(step_views(controller.session))
    w.show()
    yield w
    w.stop()
    controller.shutdown()


def test_loads_applicant_script_and_operator_words(window: SessionWindow) -> None:
    assert window.applicant.text() == "MARIA ROSSI"
    assert len(window.checklist.steps()) == 13
    assert window.checklist.current_step_id() == "a"
    assert "registr" in window.say.toPlainText().lower()  # Italian reading script of step a
    assert not window.hangup_button.isEnabled()  # not in a call yet
    assert window.call_button.isEnabled()


def test_call_states_banner_and_controls(qtbot, window: SessionWindow) -> None:
    c = window.c
    c.call_state = "connected"
    c.call_state_changed.emit("connected")
    assert window.hangup_button.isEnabled() and window.mute_button.isEnabled()
    assert window.banner.isHidden()
    c.call_state_changed.emit("lost")
    assert window.banner.isVisible()
    assert window.quality.level == "lost"
    c.call_state_changed.emit("connected")
    assert window.banner.isHidden()
    c.quality_changed.emit("poor", {"rtt_ms": 420.0, "loss": 0.06})
    assert window.quality.level == "poor" and "RTT 420" in window.quality.toolTip()
    c.call_state_changed.emit("failed:media_unavailable")
    assert window.banner.isVisible() and window.call_button.isEnabled()


def test_required_steps_block_approval_then_back_to_queue(qtbot, window: SessionWindow) -> None:
    c = window.c
    dialog = window.decision_dialog()
    assert not dialog.approve_button.isEnabled()
    assert "a." in dialog.blocked.text()
    # a capture step refuses "passed" without its stills, and says why
    window.checklist.select_step("i")
    c.mark_step("i", "passed")
    assert window.step_error.text()
    assert window.checklist.step("i").status == "pending"
    c.decision_done.emit("suspended")
    assert window.close_button.isVisible() and not window.decision_button.isEnabled()
    with qtbot.waitSignal(c.session_closed):
        window.close_button.click()
