"""The trainer's side of the console: the runs of many trainees in one table, scenarios to start
in the real console, and recorded sessions to replay.

* **Runs**: every report (``*.json``, written by ``training run`` or by a trainee's graded run)
  in a folder, one row each, with a summary; unreadable files are named, never fatal.
* **Scenarios**: a shipped scenario (or a pack folder) is registered at the desk the console is
  signed in to and played by the scenario peer (``demo.training_peer``); the trainee takes it from
  the queue and works the session as usual. When the decision is recorded the run is graded
  against the pack's answer key and its report is added to the runs folder. A human trainee
  names a finding through the decision's reason code (``data_mismatch`` covers the answer key's
  ``data_mismatch:<field>``).

``install_training_menu(main_window, controller)`` adds the Training menu (trainer role).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console import children, programs
from console.training import scenarios
from console.training.grading import GradeError, grade, load_report
from console.training.pack import PackError, ScenarioPack, load_pack

log = logging.getLogger(__name__)

COLUMNS = ("trainee", "scenario", "decision", "expected_decision", "correct",
           "missed_findings", "steps_skipped", "total_seconds")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def load_reports(folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The readable reports of a folder (sorted by name) and the names of unreadable ones."""
    reports: list[dict[str, Any]] = []
    bad: list[str] = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = load_report(path)
        except GradeError:
            bad.append(path.name)
            continue
        reports.append(data)
    return reports, bad


def human_run(pack: ScenarioPack, *, decision: str, reason_code: str,
              steps: list[dict[str, Any]], otp_verified: bool | None, trainee: str,
              started_at: str | None) -> dict[str, Any]:
    """A trainee's session as a run to grade: the reason code is the finding they name."""
    findings: list[str] = []
    if decision != "approved" and reason_code:
        findings = [f for f in pack.answer_key.findings if f.split(":")[0] == reason_code] \
            or [reason_code]
    return {"decision": decision, "reason_code": reason_code, "steps": steps,
            "otp": {"verified": otp_verified}, "findings": findings, "trainee": trainee,
            "started_at": started_at, "decided_at": _now()}


class ScenarioLaunch:
    """One scenario started at a desk: the request registered and the peer process running."""

    def __init__(self, pack: ScenarioPack, desk_url: str, script: Path | None = None) -> None:
        from console.training.requests import create_request

        self.pack = pack
        self.started_at = _now()
        created = create_request(desk_url, pack.request)
        self.request_id = str(created["id"])
        self.booking_code = str(created.get("booking_code", ""))
        argv = programs.argv("training-peer", "--desk", desk_url, "--pack", str(pack.root))
        if script is not None:
            argv += ["--script", str(script)]
        env = dict(os.environ, TRAINING_JOIN_TOKEN=str(created["join_token"]))
        # guarded (console.children): the peer ends with the console, however it ends
        self.proc = children.spawn(argv, name="training-peer", env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log.info("scenario %s started (peer pid %d)", pack.id, self.proc.pid)

    def stop(self) -> None:
        children.stop(self.proc)


class TrainingWindow(QMainWindow):
    def __init__(self, controller: Any = None, *, runs_folder: Path | None = None,
                 packs_folder: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingWindow")
        self.setWindowTitle(self.tr("Training"))
        self.c = controller
        data = Path(os.environ.get("RECOGNITION_CONSOLE_DATA_DIR", Path.home() / ".recognition"))
        self.runs_folder = runs_folder or data / "training-runs"
        self.packs_folder = packs_folder or data / "training-packs"
        self.launch: ScenarioLaunch | None = None
        self.reports: list[dict[str, Any]] = []
        tabs = QTabWidget(self)
        tabs.addTab(self._runs_tab(), self.tr("Runs"))
        tabs.addTab(self._scenarios_tab(), self.tr("Scenarios"))
        self.setCentralWidget(tabs)
        self.resize(1000, 600)
        if controller is not None:
            controller.decision_done.connect(self._decided)
        self.load_folder(self.runs_folder)

    # --- runs ---------------------------------------------------------------------------------
    def _runs_tab(self) -> QWidget:
        w = QWidget(self)
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        self.folder_edit = QLineEdit(str(self.runs_folder), w)
        browse = QPushButton(self.tr("Folder…"), w)
        browse.clicked.connect(self._browse)
        reload_button = QPushButton(self.tr("Reload"), w)
        reload_button.clicked.connect(lambda: self.load_folder(Path(self.folder_edit.text())))
        row.addWidget(QLabel(self.tr("Reports in"), w))
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        row.addWidget(reload_button)
        lay.addLayout(row)
        self.table = QTableWidget(0, len(COLUMNS), w)
        self.table.setObjectName("runsTable")
        self.table.setHorizontalHeaderLabels([
            self.tr("Trainee"), self.tr("Scenario"), self.tr("Decision"), self.tr("Expected"),
            self.tr("Correct"), self.tr("Missed findings"), self.tr("Skipped steps"),
            self.tr("Time (s)")])
        self.table.setSortingEnabled(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        lay.addWidget(self.table, 1)
        self.summary = QLabel("", w)
        self.summary.setObjectName("runsSummary")
        lay.addWidget(self.summary)
        return w

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Folder of reports"),
                                                  self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)
            self.load_folder(Path(folder))

    def load_folder(self, folder: Path) -> int:
        self.folder_edit.setText(str(folder))
        reports, bad = load_reports(folder) if folder.is_dir() else ([], [])
        self.reports = reports
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(reports))
        for r, rep in enumerate(reports):
            for col, key in enumerate(COLUMNS):
                value = rep.get(key)
                if key == "correct":
                    text = self.tr("yes") if value else self.tr("NO")
                elif isinstance(value, list):
                    text = ", ".join(str(v) for v in value) or "-"
                elif isinstance(value, float):
                    text = f"{value:.0f}"
                else:
                    text = "" if value is None else str(value)
                item = QTableWidgetItem(text)
                if key == "correct" and not value:
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(r, col, item)
        self.table.setSortingEnabled(True)
        right = sum(1 for rep in reports if rep.get("correct"))
        text = self.tr("%1 of %2 runs correct").replace("%1", str(right)).replace(
            "%2", str(len(reports)))
        if bad:
            text += " — " + self.tr("unreadable: %1").replace("%1", ", ".join(bad))
        self.summary.setText(text)
        return len(reports)

    # --- scenarios ----------------------------------------------------------------------------
    def _scenarios_tab(self) -> QWidget:
        w = QWidget(self)
        lay = QVBoxLayout(w)
        self.scenario_list = QListWidget(w)
        self.scenario_list.setObjectName("scenarioList")
        language = self.language()
        for sid in scenarios.SHIPPED:
            pack = scenarios.build(sid, self.packs_folder)
            item = QListWidgetItem(f"{sid} — {pack.title_in(language)}")
            item.setData(Qt.ItemDataRole.UserRole, sid)
            self.scenario_list.addItem(item)
        self.scenario_list.setCurrentRow(0)
        lay.addWidget(self.scenario_list, 1)
        row = QHBoxLayout()
        self.start_button = QPushButton(self.tr("Start in the console"), w)
        self.start_button.setObjectName("startScenario")
        self.start_button.clicked.connect(self._start_selected)
        self.open_pack_button = QPushButton(self.tr("Start a pack folder…"), w)
        self.open_pack_button.clicked.connect(self._start_pack_folder)
        self.replay_button = QPushButton(self.tr("Replay a recorded session…"), w)
        self.replay_button.clicked.connect(self._replay)
        for b in (self.start_button, self.open_pack_button, self.replay_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.scenario_status = QLabel("", w)
        self.scenario_status.setObjectName("scenarioStatus")
        self.scenario_status.setWordWrap(True)
        lay.addWidget(self.scenario_status)
        return w

    def language(self) -> str:
        value = self.c.settings.get("language") if self.c is not None else None
        return str(value) if value in ("it", "en") else "it"

    def desk_url(self) -> str:
        if self.c is None:
            return ""
        return str(self.c.settings.get("server_url") or "")

    def _start_selected(self) -> None:
        item = self.scenario_list.currentItem()
        if item is None:
            return
        sid = str(item.data(Qt.ItemDataRole.UserRole))
        try:
            folder = scenarios.generate(self.packs_folder, (sid,))[0]
            self.start_pack(load_pack(folder))
        except (PackError, OSError, ValueError) as exc:
            log.warning("scenario not started: %s", type(exc).__name__)
            self.scenario_status.setText(self.tr("The scenario could not be prepared."))

    def _start_pack_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Scenario pack"))
        if not folder:
            return
        try:
            self.start_pack(load_pack(folder))
        except PackError:
            self.scenario_status.setText(self.tr("This folder is not a scenario pack."))

    def start_pack(self, pack: ScenarioPack, desk_url: str | None = None) -> bool:
        url = desk_url or self.desk_url()
        if not url:
            self.scenario_status.setText(self.tr("Sign in to a desk service first."))
            return False
        if self.launch is not None:
            self.launch.stop()
        try:
            from console.resources import resource_path

            script = Path(resource_path("scripts", f"{pack.product}.json"))
            self.launch = ScenarioLaunch(pack, url, script if script.is_file() else None)
        except (RuntimeError, OSError, ValueError) as exc:
            log.warning("scenario not started: %s", exc)
            self.scenario_status.setText(self.tr("The desk service refused the scenario."))
            return False
        self.scenario_status.setText(
            self.tr("Scenario “%1” is joining the queue (booking code %2): take it from the "
                    "queue and work the session; the run is graded at the decision.")
            .replace("%1", pack.title_in(self.language()))
            .replace("%2", self.launch.booking_code))
        return True

    @Slot(str)
    def _decided(self, state: str) -> None:
        launch = self.launch
        c = self.c
        if launch is None or c is None or c.assignment is None:
            return
        if str(c.assignment.request.id) != launch.request_id:
            return
        session = c.session
        decision = getattr(getattr(session, "session", None), "decision", None)
        reason = getattr(getattr(decision, "reason_code", None), "value", "") or ""
        trainee = getattr(c.operator, "username", "") if c.operator is not None else ""
        run = human_run(launch.pack, decision=state, reason_code=str(reason),
                        steps=session.report_steps() if session is not None else [],
                        otp_verified=getattr(c, "otp_verified", None), trainee=trainee,
                        started_at=launch.started_at)
        self.write_grade(launch.pack, run)
        launch.stop()
        self.launch = None

    def write_grade(self, pack: ScenarioPack, run: dict[str, Any]) -> Path:
        g = grade(run, pack.answer_key, scenario=pack.id)
        self.runs_folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.runs_folder / f"{g.trainee or 'trainee'}-{pack.id}-{stamp}.json"
        path.write_text(json.dumps(g.to_json(), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        self.scenario_status.setText(
            self.tr("Run graded: %1.").replace(
                "%1", self.tr("correct") if g.correct else self.tr("wrong")))
        self.load_folder(self.runs_folder)
        return path

    def _replay(self) -> None:
        from ui.player.window import open_player

        folder = QFileDialog.getExistingDirectory(self, self.tr("Evidence package"))
        if folder:
            window = open_player(folder, None, getattr(getattr(self.c, "operator", None),
                                                       "username", ""), None)
            if window is not None:
                self._player = window
                window.show()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.launch is not None:
            self.launch.stop()
            self.launch = None
        super().closeEvent(event)


def install_training_menu(window: QMainWindow, controller: Any) -> QAction:
    """Add the Training menu to the console's main window (once)."""
    existing = getattr(window, "_training_action", None)
    if isinstance(existing, QAction):
        return existing
    menu = window.menuBar().addMenu(QCoreApplication.translate("TrainingWindow", "&Training"))
    action = QAction(
        QCoreApplication.translate("TrainingWindow", "Training runs and scenarios…"), window)

    def show() -> None:
        dlg = getattr(window, "_training_window", None)
        if dlg is None:
            dlg = TrainingWindow(controller)
            window._training_window = dlg  # type: ignore[attr-defined]
        dlg.show()
        dlg.raise_()

    action.triggered.connect(show)
    menu.addAction(action)
    window._training_action = action  # type: ignore[attr-defined]
    return action
