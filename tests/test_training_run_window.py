"""The trainer's window: the runs of many trainees in one table, a scenario started at a real
desk service (the scenario peer joins the queue for the trainee), a trainee's run graded."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from console.training import scenarios
from console.training.grading import grade
from console.training.pack import load_pack
from tests.fixtures.desk import DeskServer
from ui.training_window import TrainingWindow, human_run, install_training_menu, load_reports

STEPS = [{"id": s, "status": "passed", "at": f"2026-11-23T10:00:{i:02d}Z", "kind": "confirm"}
         for i, s in enumerate("abcdefghijklm", start=1)]


def _report(folder: Path, trainee: str, sid: str, decision: str, reason: str) -> None:
    pack = scenarios.build(sid, folder / "packs")
    run = human_run(pack, decision=decision, reason_code=reason, steps=STEPS,
                    otp_verified=True, trainee=trainee, started_at="2026-11-23T10:00:00Z")
    g = grade(run, pack.answer_key, scenario=sid)
    (folder / f"{trainee}-{sid}.json").write_text(json.dumps(g.to_json()), encoding="utf-8")


def test_runs_of_many_trainees_in_one_table(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runs = tmp_path / "runs"
    runs.mkdir()
    _report(runs, "anna", "name-mismatch", "rejected", "data_mismatch")  # right
    _report(runs, "bruno", "name-mismatch", "approved", "ok")  # missed the mismatch
    _report(runs, "carla", "clean", "approved", "ok")  # right
    (runs / "broken.json").write_text("{not json", encoding="utf-8")
    reports, bad = load_reports(runs)
    assert len(reports) == 3 and bad == ["broken.json"]
    assert [r["correct"] for r in reports] == [True, False, True]
    assert reports[1]["missed_findings"] == ["data_mismatch:surname"]
    window = TrainingWindow(runs_folder=runs, packs_folder=tmp_path / "packs")
    qtbot.addWidget(window)
    assert window.table.rowCount() == 3
    assert "2 of 3" in window.summary.text() and "broken.json" in window.summary.text()
    trainees = sorted(window.table.item(r, 0).text() for r in range(3))
    assert trainees == ["anna", "bruno", "carla"]
    window.close()


def test_training_menu_for_the_trainer(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMainWindow

    main = QMainWindow()
    qtbot.addWidget(main)
    action = install_training_menu(main, None)
    assert install_training_menu(main, None) is action  # once
    action.trigger()
    assert main._training_window.isVisible()  # type: ignore[attr-defined]
    main._training_window.close()  # type: ignore[attr-defined]


def test_scenario_started_at_the_desk_joins_the_queue_and_is_graded(
        qtbot, tmp_path: Path, desk_server: DeskServer) -> None:  # type: ignore[no-untyped-def]
    window = TrainingWindow(runs_folder=tmp_path / "runs", packs_folder=tmp_path / "packs")
    qtbot.addWidget(window)
    pack = load_pack(scenarios.generate(tmp_path / "packs", ("name-mismatch",))[0])
    assert window.start_pack(pack, desk_url=desk_server.base_url)
    launch = window.launch
    assert launch is not None and launch.booking_code in window.scenario_status.text()
    try:
        deadline = time.monotonic() + 60
        state = ""
        while time.monotonic() < deadline:
            resp = desk_server.api("GET", f"/requests/{launch.request_id}", "supervisore1")
            assert resp.status_code == 200
            state = resp.json()["state"]
            if state == "waiting":
                break
            time.sleep(0.5)
        assert state == "waiting", "the scenario peer did not reach the queue"
        body = resp.json()
        assert body["applicant"]["surname"] == "ROSSINI"  # the pack's request, not the seed
        # the trainee rejects for the mismatch: graded right, report in the runs folder
        run = human_run(pack, decision="rejected", reason_code="data_mismatch", steps=STEPS,
                        otp_verified=True, trainee="trainee1", started_at=launch.started_at)
        path = window.write_grade(pack, run)
        assert json.loads(path.read_text(encoding="utf-8"))["correct"] is True
        assert window.table.rowCount() == 1
    finally:
        window.close()
    assert launch.proc.poll() is not None  # the peer process is ended with the window


@pytest.mark.parametrize("decision,reason,correct", [
    ("rejected", "data_mismatch", True), ("rejected", "face_mismatch", False),
    ("approved", "ok", False)])
def test_human_run_grading(decision: str, reason: str, correct: bool, tmp_path: Path) -> None:
    pack = scenarios.build("name-mismatch", tmp_path)
    run = human_run(pack, decision=decision, reason_code=reason, steps=STEPS,
                    otp_verified=True, trainee="t", started_at=None)
    assert grade(run, pack.answer_key, scenario=pack.id).correct is correct


def test_console_main_window_has_the_training_menu_for_trainers_only(
        qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from console.models import Operator, Role
    from console.settings_store import SettingsStore
    from ui.controller import ConsoleController
    from ui.main_window import MainWindow

    monkeypatch.setenv("RECOGNITION_CONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("RECOGNITION_CONSOLE_DATA_DIR", str(tmp_path / "data"))
    controller = ConsoleController(SettingsStore())
    try:
        for role, expected in ((Role.OPERATOR, False), (Role.TRAINER, True)):
            main = MainWindow(controller)
            qtbot.addWidget(main)
            main.set_operator(Operator("id-1", "formatore1", "Formatore", role))
            menus = [a.text() for a in main.menuBar().actions()]
            assert any("Training" in m or "Formazione" in m for m in menus) is expected, menus
    finally:
        controller.shutdown()
