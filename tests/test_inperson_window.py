"""The partner's in-person window (offscreen), through to a decision: a real desk service,
the virtual CNS read through pcscd + vpcd, the synthetic camera."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from console.client import DeskClient
from console.evidence.keys import WorkstationKey
from console.flows.inperson import Blocker, InPersonWorkflow, SyntheticCamera
from console.specimens import DEMO_PERSON
from ui.inperson_window import CAPTURE_TARGETS, InPersonWindow, blocker_text, card_error_text

TS_DIR = Path(__file__).resolve().parent.parent / "resources" / "translations"
OTHER = {
    "surname": "BIANCHI",
    "given_names": "LUCA",
    "codice_fiscale": "BNCLCU79P30F205G",
    "birth_date": "1979-09-30",
    "sex": "M",
}


@pytest.fixture(scope="module")
def partner(desk_server_shared: Any) -> DeskClient:
    desk = desk_server_shared
    client = DeskClient(desk.base_url)
    client.login("partner1", desk.operator("partner1")["password"], desk._fresh_code("partner1"))
    return client


@pytest.fixture
def booking(desk_server_shared: Any) -> dict[str, Any]:
    body = DEMO_PERSON.request()
    return desk_server_shared.create_request(applicant=body["applicant"], document=body["document"])


def make_window(qtbot: Any, partner: DeskClient, tmp_path: Path, reader: str) -> InPersonWindow:
    wf = InPersonWorkflow(
        partner,
        operator={"id": "p1", "username": "partner1", "role": "partner"},
        evidence_root=tmp_path / "evidence",
        workstation_key=WorkstationKey.load_or_create(tmp_path / "data"),
        work_dir=tmp_path,
    )
    window = InPersonWindow(wf, SyntheticCamera(), reader=reader, language="it")
    qtbot.addWidget(window)
    window.show()
    return window


def idle(qtbot: Any, window: InPersonWindow, timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: not window.busy, timeout=timeout)


def find(qtbot: Any, window: InPersonWindow, code: str) -> None:
    window.booking_edit.setText(code)
    qtbot.mouseClick(window.find_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.workflow.request is not None, timeout=20000)
    idle(qtbot, window)


def test_window_through_to_approval(
    qtbot: Any,
    partner: DeskClient,
    booking: dict[str, Any],
    virtual_card: Any,
    desk_server_shared: Any,
    tmp_path: Path,
) -> None:
    em = virtual_card(insert=False)
    window = make_window(qtbot, partner, tmp_path, em.reader_name)
    try:
        assert not window.approve_button.isEnabled()
        find(qtbot, window, booking["booking_code"])
        assert window.request_labels["codice_fiscale"].text() == "RSSMRA85D52H501P"
        # inserting the card reads it on its own (watcher → signal → worker)
        with qtbot.waitSignal(window.card_shown, timeout=20000):
            em.insert()
        idle(qtbot, window)
        assert window.card_labels["codice_fiscale"].text() == "RSSMRA85D52H501P"
        assert window.card_labels["card_number"].text() == "8038000012345678"
        assert window.checks_list.count() == 0  # nothing to report
        for target in CAPTURE_TARGETS:
            qtbot.mouseClick(window.capture_buttons[target], Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda t=target: t in window.workflow.stills, timeout=30000)
            idle(qtbot, window)
            assert not window.capture_views[target].pixmap().isNull()
        qtbot.mouseClick(window.form_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.workflow.form_pdf is not None, timeout=20000)
        idle(qtbot, window)
        assert window.form_label.text()
        blockers = [
            window.blockers_list.item(i).text() for i in range(window.blockers_list.count())
        ]
        assert blockers == [blocker_text(Blocker.STEPS_MISSING)]
        for step_id, (_label, button) in window.step_rows.items():
            if button.isVisible() and button.isEnabled():
                qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            assert window.workflow.session.step_state(step_id).done  # type: ignore[union-attr]
        assert window.approve_button.isEnabled()
        with qtbot.waitSignal(window.decided, timeout=20000) as blocker:
            qtbot.mouseClick(window.approve_button, Qt.MouseButton.LeftButton)
        assert blocker.args == ["approved"]
        resp = desk_server_shared.api("GET", f"/requests/{booking['id']}", username="supervisore1")
        assert resp.json()["state"] == "approved"
        assert not window.approve_button.isEnabled()
    finally:
        window.close()
    assert window._watcher is None


def test_window_mismatch_and_card_removed(
    qtbot: Any,
    partner: DeskClient,
    booking: dict[str, Any],
    virtual_card: Any,
    desk_server_shared: Any,
    tmp_path: Path,
) -> None:
    em = virtual_card(OTHER, insert=False, remove_after_apdus=5)
    window = make_window(qtbot, partner, tmp_path, em.reader_name)
    try:
        find(qtbot, window, booking["booking_code"])
        em.insert()
        expected = card_error_text("card_removed")
        qtbot.waitUntil(lambda: window.card_status.text() == expected, timeout=20000)
        idle(qtbot, window)
        assert window.card_labels["codice_fiscale"].text() == "—"  # nothing half-shown
        # the card goes in again, whole this time: it belongs to someone else
        em.card.profile.remove_after_apdus = None
        from tests.fixtures.pcsc import wait_card

        wait_card(em.reader_name, present=False)
        with qtbot.waitSignal(window.card_shown, timeout=20000):
            em.insert()
        idle(qtbot, window)
        assert window.card_labels["codice_fiscale"].text() == "BNCLCU79P30F205G"
        assert window.checks_list.count() >= 4
        assert not window.approve_button.isEnabled()
        blockers = [
            window.blockers_list.item(i).text() for i in range(window.blockers_list.count())
        ]
        assert blocker_text(Blocker.CARD_MISMATCH) in blockers
        window.reason_combo.setCurrentIndex(window.reason_combo.findData("data_mismatch"))
        with qtbot.waitSignal(window.decided, timeout=20000) as blocker:
            qtbot.mouseClick(window.reject_button, Qt.MouseButton.LeftButton)
        assert blocker.args == ["rejected"]
    finally:
        window.close()


@pytest.fixture
def italian(qapp: Any) -> Iterator[None]:
    """The compiled Italian translations installed (as ui.i18n does), removed afterwards."""
    from PySide6.QtCore import QCoreApplication, QTranslator

    translator = QTranslator()
    assert translator.load(str(TS_DIR / "console_it.qm"))
    QCoreApplication.installTranslator(translator)
    try:
        yield
    finally:
        QCoreApplication.removeTranslator(translator)


def test_every_string_has_its_italian(qtbot: Any, tmp_path: Path, italian: None) -> None:
    """The window's strings are in the project's one translation flow: it.json → .ts → .qm."""
    import ast
    import json
    import xml.etree.ElementTree as ET

    import ui.inperson_window as mod

    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        args = node.args
        if name == "tr" and args and isinstance(args[0], ast.Constant):
            found.add(("InPersonWindow", str(args[0].value)))
        elif name == "translate" and len(args) >= 2 and isinstance(args[1], ast.Constant):
            found.add((str(args[0].value), str(args[1].value)))  # type: ignore[attr-defined]
    assert len(found) > 60
    table = json.loads((TS_DIR / "it.json").read_text(encoding="utf-8"))
    missing = sorted(f"{c}|{s}" for c, s in found if f"{c}|{s}" not in table)
    assert not missing, missing
    ts: dict[tuple[str, str], str] = {}
    for ctx in ET.parse(TS_DIR / "console_it.ts").iter("context"):
        for message in ctx.iter("message"):
            tr = message.find("translation")
            if tr is not None and tr.get("type") is None:
                ts[(ctx.findtext("name") or "", message.findtext("source") or "")] = tr.text or ""
    for context, source in found:
        italian_text = table[f"{context}|{source}"]
        assert italian_text and source.count("%1") == italian_text.count("%1")
        assert ts.get((context, source)) == italian_text, (context, source)

    wf = InPersonWorkflow(object(), work_dir=tmp_path)  # type: ignore[arg-type]
    window = InPersonWindow(wf, SyntheticCamera(), watch_cards=False, language="it")
    qtbot.addWidget(window)
    assert window.windowTitle() == "Identificazione di persona"
    assert window.approve_button.text() == "Approva" and not window.approve_button.isEnabled()
    assert window.blockers_list.item(0).text() == "Cerca la pratica con il codice di prenotazione"
    assert card_error_text("card_removed").startswith("La tessera è stata estratta")
    window.close()


def test_english_without_the_italian_translator(qtbot: Any, tmp_path: Path) -> None:
    wf = InPersonWorkflow(object(), work_dir=tmp_path)  # type: ignore[arg-type]
    english = InPersonWindow(wf, SyntheticCamera(), watch_cards=False, language="en")
    qtbot.addWidget(english)
    assert english.windowTitle() == "In-person identification"
    assert english.blockers_list.item(0).text() == "Look the request up by its booking code"
    english.close()


def test_demo_window_reads_its_virtual_card(
    qtbot: Any,
    partner: DeskClient,
    booking: dict[str, Any],
    virtual_card: Any,
    tmp_path: Path,
    italian: None,
) -> None:
    from demo.inperson import open_demo
    from tests.fixtures.pcsc import wait_card

    virtual_card(slot=1, insert=False)  # take slot 1: open_demo inserts its own card there
    window = open_demo(partner, tmp_path, booking_code=booking["booking_code"], slot=1)
    qtbot.addWidget(window)
    try:
        wait_card("Virtual PCD 00 01", present=True)
        with qtbot.waitSignal(window.card_shown, timeout=30000):
            qtbot.mouseClick(window.find_button, Qt.MouseButton.LeftButton)
        idle(qtbot, window)
        assert window.card_status.text() == "Tessera letta: corrisponde alla pratica."
        qtbot.mouseClick(window.suspend_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.workflow.result is not None, timeout=20000)
    finally:
        window.close()
    wait_card("Virtual PCD 00 01", present=False)
