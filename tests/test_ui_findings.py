"""The checks seeing with the operator in the session window (issue 5), offscreen, on the real
session workflow and the real check pipeline, with stills rendered by console.specimens.

The media engine is a small stand-in serving real yuv420p frames of the synthetic scene and
real PNG stills (the call itself runs end to end in tests/test_demo_autopilot.py); the
supervisor's second look signs in on a real desk service process."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from console import specimens as sp
from console.flows.adapters import Workflow
from console.flows.checks import FACE_BLOCKER
from console.models import (
    Applicant,
    Assignment,
    DocumentType,
    IdentityDocument,
    Operator,
    Product,
    RecognitionRequest,
    RequestState,
    Role,
)
from console.settings_store import SettingsStore
from media.api import RemoteFrame
from media.stills import Still
from ui.controller import ConsoleController, step_views
from ui.session_window import SessionWindow

TODAY = date(2026, 11, 23)


def _png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def _still(target: str, img: np.ndarray) -> Still:
    data = _png(img)
    h, w = img.shape[:2]
    return Still(id=target, step=target, mime="image/png", width=w, height=h, data=data,
                 sha256=hashlib.sha256(data).hexdigest())


def _scene(doc: np.ndarray) -> np.ndarray:
    img, _corners = sp.place_in_scene(doc)
    return img


def _live_face(name: sp.FaceName) -> np.ndarray:
    live = np.full((720, 1280, 3), 90, np.uint8)
    live[160:560, 490:790] = sp.face_portrait(name)
    return live


class FakeEngine:
    """Serves the latest frame (a new av.VideoFrame per call, as the decoder would) and
    answers still requests with PNG stills of the same scene."""

    def __init__(self, scene: np.ndarray) -> None:
        self.scene = scene
        self.seq = 0
        self.requested: list[str] = []
        self.instructions: list[str] = []

    def latest_remote_frame(self) -> RemoteFrame:
        self.seq += 1
        frame = av.VideoFrame.from_ndarray(self.scene, format="bgr24").reformat(
            format="yuv420p")
        return RemoteFrame(frame=frame, seq=self.seq, received_at=time.time(), stamp_ms=None)

    def request_still(self, step: str) -> Future[Still]:
        self.requested.append(step)
        fut: Future[Still] = Future()
        fut.set_result(_still(step, self.scene))
        return fut

    def send_instruction(self, code: str) -> None:
        self.instructions.append(code)

    def stop(self) -> None:
        pass


@dataclass
class Choice:
    """What the decision dialog holds (decision, reason, note)."""

    value: str
    reason: str

    def decision(self) -> str:
        return self.value

    def reason_code(self) -> str:
        return self.reason

    def note_text(self) -> str:
        return ""


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOGNITION_CONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("RECOGNITION_CONSOLE_DATA_DIR", str(tmp_path / "data"))


def _window(qtbot: Any, tmp_path: Path, surname: str = "ROSSI") -> SessionWindow:
    p = sp.DEMO_PERSON
    applicant = Applicant(
        surname=surname, given_names=p.given_names, codice_fiscale=p.codice_fiscale,
        birth_date=p.birth_date, birth_place="ROMA (H501)", sex=p.sex,
        email="maria.rossi@example.test", mobile="+393331234567",
    )
    doc = IdentityDocument(DocumentType.IDENTITY_CARD, p.document_number, p.issuer,
                           p.expiry_date)
    request = RecognitionRequest("req-1", RequestState.IN_CALL, Product.SPID_PERSONAL,
                                 applicant, doc)
    assignment = Assignment("sess-1234abcd", request)
    controller = ConsoleController(SettingsStore())
    controller.checks.today = TODAY
    controller.assignment = assignment
    controller.session = Workflow.start(assignment, None, "it", tmp_path)
    controller.checks.start_session()
    w = SessionWindow(controller)
    qtbot.addWidget(w)
    w.load(assignment)
    controller.steps_changed.emit(step_views(controller.session))
    w.show()
    return w


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[SessionWindow]:
    w = _window(qtbot, tmp_path)
    yield w
    w.stop()
    w.c.shutdown()


def _events(w: SessionWindow, name: str) -> list[dict[str, Any]]:
    out = []
    for e in w.c.session.session.events:  # type: ignore[union-attr]
        d = e.to_dict()
        if d.get("type") == "external" and d.get("name") == name:
            out.append(d.get("data", {}))
    return out


def _deliver(qtbot: Any, w: SessionWindow, step: str, target: str, img: np.ndarray) -> None:
    checks = w.c.checks
    still = _still(target, img)
    w.c.still_ready.emit(step, target, still)
    w.c.checks.on_still(step, target, still)  # what the flow does with a still it received
    qtbot.waitUntil(lambda: not checks.busy, timeout=30_000)


def test_mismatching_request_shows_surname_differs(qtbot: Any, tmp_path: Path) -> None:
    w = _window(qtbot, tmp_path, surname="VERDI")  # the card says ROSSI
    try:
        _deliver(qtbot, w, "i", "document_back", _scene(sp.render_cie_back(sp.DEMO_PERSON)))
        f = w.findings
        assert f.verdict("mrz.valid") == "valid"
        assert f.verdict("mrz.surname") == "differ"
        assert f.verdict_text("mrz.surname") == "differs"
        assert f.verdict("mrz.given_names") == "match"
        assert f.verdict("mrz.document_number") == "match"
        assert f.verdict("expired") == "not_expired"
        assert f.verdict("quality.sharpness") == "ok"
        assert w.c.checks.findings() == ["data_mismatch:surname"]
        # recorded in the session timeline: verdicts, not the values
        (event,) = _events(w, "document_check")
        assert event["target"] == "document_back" and event["mrz_valid"] is True
        assert "surname=differ" in event["mrz_fields"]
        assert "ROSSI" not in str(event) and "VERDI" not in str(event)
        # the health card: codice fiscale from the Code 39 barcode against the request
        _deliver(qtbot, w, "j", "health_card", _scene(sp.render_ts_back(sp.DEMO_PERSON)))
        assert f.verdict("cf.valid") == "valid"
        assert f.verdict("cf.value") == "match"
    finally:
        w.stop()
        w.c.shutdown()


def test_clean_stills_and_same_face(qtbot: Any, window: SessionWindow) -> None:
    w = window
    _deliver(qtbot, w, "i", "document_front", _scene(sp.render_cie_front(sp.DEMO_PERSON)))
    _deliver(qtbot, w, "i", "face", _live_face("astronaut"))
    qtbot.waitUntil(lambda: w.c.checks.face is not None, timeout=30_000)
    assert w.findings.verdict("face.decision") == "same"
    assert w.c.checks.findings() == []
    assert FACE_BLOCKER not in w.c.session.session.blockers  # type: ignore[union-attr]
    (event,) = _events(w, "face_check")
    assert event["decision"] == "same" and event["live_faces"] == 1


def test_different_face_blocks_approval_until_supervisor_second_look(
        qtbot: Any, tmp_path: Path, desk_server_shared: Any) -> None:
    from console.client import DeskClient

    desk = desk_server_shared
    w = _window(qtbot, tmp_path)
    c = w.c
    sent: list[tuple[str, str, str]] = []
    c.decide = lambda d, r, n: sent.append((d, r, n))  # type: ignore[method-assign,assignment]
    try:
        c.client = DeskClient(desk.base_url)
        op = desk.operator("operatore1")
        c.operator = Operator(op["id"], op["username"], op["display_name"], Role.OPERATOR)
        # a real video session of operatore1: the service records the supervisor's second look
        real = desk.start_video_session("operatore1")
        c.assignment = dataclasses.replace(
            c.assignment, request=dataclasses.replace(c.assignment.request, id=real["id"]))
        _deliver(qtbot, w, "i", "document_front", _scene(sp.render_cie_front(sp.DEMO_PERSON)))
        _deliver(qtbot, w, "i", "face", _live_face("camera"))  # someone else
        assert w.findings.verdict("face.decision") == "different"
        assert "face_mismatch" in c.checks.findings()
        core = c.session.session  # type: ignore[union-attr]
        assert FACE_BLOCKER in core.blockers
        assert w.findings.banner.isVisible()
        dialog = w.decision_dialog()
        assert not dialog.blocked.isHidden() and "supervisor" in dialog.blocked.text()
        # approving asks for the second look; nothing is sent meanwhile (the script's steps
        # are not walked here, so the dialog's choice is given directly)
        w.submit_decision(Choice("approved", "ok"))  # type: ignore[arg-type]
        second = w.supervisor_dialog
        assert second is not None and second.isVisible() and sent == []
        # an operator is not a supervisor
        second.user.setText("operatore1")
        second.password.setText(op["password"])
        second.totp.setText(desk._fresh_code("operatore1"))
        with qtbot.waitSignal(c.checks.supervisor_done, timeout=20_000):
            second.confirm_button.click()
        assert second.error.isVisible() and "supervisor" in second.error.text()
        assert FACE_BLOCKER in core.blockers and sent == []
        # the supervisor confirms: blocker cleared, who confirmed recorded, decision goes out
        sup = desk.operator("supervisore1")
        second.user.setText("supervisore1")
        second.password.setText(sup["password"])
        second.totp.setText(desk._fresh_code("supervisore1"))
        with qtbot.waitSignal(second.accepted, timeout=20_000):
            second.confirm_button.click()
        assert FACE_BLOCKER not in core.blockers
        assert sent == [("approved", "ok", "")]
        (event,) = _events(w, "face_mismatch_confirmed")
        assert event["supervisor"] == "supervisore1"
        looks = desk.sql("SELECT kind FROM request_events WHERE request_id = :r AND kind = "
                         "'second_look'", r=real["id"])
        assert len(looks) == 1  # recorded by the service, under the supervisor's sign-in
        assert "supervisore1" in w.findings.banner.text()
        # rejecting never needed the second look
        core.set_blocker(FACE_BLOCKER, True)
        w.submit_decision(Choice("rejected", "suspected_fraud"))  # type: ignore[arg-type]
        assert sent[-1][:2] == ("rejected", "suspected_fraud")
        assert w.supervisor_dialog is None
    finally:
        w.stop()
        c.shutdown()


def test_live_hints_then_auto_capture_once(qtbot: Any, window: SessionWindow) -> None:
    w, c = window, window.c
    engine = FakeEngine(_scene(sp.render_cie_front(sp.DEMO_PERSON)))
    c.engine = engine
    c.call_state = "connected"
    w.checklist.select_step("i")
    assert w.live_target() == ("i", "document_front")
    qtbot.waitUntil(lambda: w.checklist.has_still("i", "document_front"), timeout=20_000)
    w.findings.auto_capture.setChecked(False)  # switched off: nothing requested by itself
    assert c.checks.auto_capture_enabled is False
    assert engine.requested == ["document_front"]
    assert _events(w, "auto_capture_requested")[0]["target"] == "document_front"
    assert _events(w, "auto_capture")[0]["enabled"] is False
    # the hint follows the next document still of the step (the back), ready but not taken
    assert w.live_target() == ("i", "document_back")
    qtbot.waitUntil(lambda: w.findings.hint.text() == "Back: ready to capture", timeout=15_000)
    qtbot.wait(500)
    assert engine.requested == ["document_front"]
    assert not w.checklist.has_still("i", "document_back")
    # leaving the document step stops the live analysis
    w.checklist.select_step("k")
    assert w.live_target() == (None, None) and w.findings.hint.text() == ""


def test_a_far_document_gets_a_move_closer_hint(qtbot: Any, window: SessionWindow) -> None:
    w, c = window, window.c
    far, _ = sp.place_in_scene(sp.render_cie_front(sp.DEMO_PERSON),
                               replace(sp.SceneParams(), scale=0.2))
    engine = FakeEngine(far)
    c.engine = engine
    c.call_state = "connected"
    w.findings.auto_capture.setChecked(False)
    w.checklist.select_step("i")
    qtbot.waitUntil(lambda: w.findings.hint.text()
                    == "Closer: ask to bring the document nearer", timeout=10_000)
    assert engine.requested == []


def test_security_features_drawn_shown_and_recorded(qtbot: Any, window: SessionWindow) -> None:
    w, c = window, window.c
    f = w.findings
    ids = f.feature_ids()
    assert len(ids) >= 3 and f.features_box.isVisibleTo(w)
    feats = c.checks.features
    assert sum(1 for x in feats if x.optically_variable) >= 2
    (picked,) = _events(w, "security_features_picked")
    assert picked["features"] == ",".join(ids)
    engine = FakeEngine(_scene(sp.render_cie_front(sp.DEMO_PERSON)))
    c.engine = engine
    c.call_state = "connected"
    f.feature_button(ids[0], "ask").click()
    assert engine.instructions and engine.instructions[0] in ("tilt_document", "move_closer")
    with qtbot.waitSignal(c.checks.feature_updated, timeout=10_000):
        f.feature_button(ids[0], "capture").click()
    assert "1280×720" in f.feature_state_text(ids[0])
    f.feature_button(ids[0], "ok").click()
    f.feature_button(ids[1], "not_ok").click()
    verdicts = {e["feature"]: e["verdict"] for e in _events(w, "security_feature_verdict")}
    assert verdicts == {ids[0]: "ok", ids[1]: "not_ok"}
    (still,) = _events(w, "security_feature_still")
    assert still["feature"] == ids[0] and len(still["sha256"]) == 64


def test_a_broken_still_is_a_clear_finding_not_a_crash(qtbot: Any, window: SessionWindow) -> None:
    w = window
    broken = Still(id="x", step="document_back", mime="image/png", width=1280, height=720,
                   data=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, sha256="0" * 64)
    with qtbot.waitSignal(w.c.checks.still_check_failed, timeout=10_000):
        w.c.still_ready.emit("i", "document_back", broken)
        w.c.checks.on_still("i", "document_back", broken)
    assert not w.c.checks.busy
    root = w.findings.tree.topLevelItem(0)  # the only still checked
    assert root is not None and root.child(0) is not None
    assert root.child(0).text(1) == "the still is not a readable image"  # type: ignore[union-attr]
    (event,) = _events(w, "check_failed")
    assert event == {"target": "document_back", "code": "unreadable_image"}
    assert w.c.checks.findings() == []


def test_an_unsure_mrz_field_is_shown_as_unsure_with_its_readings(qtbot: Any) -> None:
    """Two readings fit the format and every check digit: the panel says "unsure" and shows
    both, never one of them as the value (console.checks.mrz confidence)."""
    from console.flows.checks import StillCheck
    from ui.widgets.findings import FindingsPanel, verdict_label

    panel = FindingsPanel()
    qtbot.addWidget(panel)
    check = StillCheck("document_back", card_found=True, mrz={
        "format": "TD1", "valid": False, "expired": False,
        "fields": {"surname": "match", "document_number": "unreadable"},
        "confidence": {"surname": "certain", "document_number": "unsure"},
        "candidates": {"document_number": ["CA00000AA", "CAO0000AA"]}})
    panel.show_still("document_back", check)
    row = panel._rows("mrz.document_number")[0]
    assert row.data(1, Qt.ItemDataRole.UserRole) == "unsure"
    assert "CA00000AA" in row.text(1) and "CAO0000AA" in row.text(1)
    assert panel._rows("mrz.surname")[0].text(1) == verdict_label("match")
    report = check.to_report()
    assert report["confidence"]["document_number"] == "unsure"
    assert "CA00000AA" not in str(report)  # readings are for the screen, not the report
