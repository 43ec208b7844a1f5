"""Training runs: the shipped scenarios played as the remote applicant of a real session
(desk service process, the scenario peer on aiortc, the console's windows driven by the
autopilot, offscreen), decided by the automated checks and graded.

Each full run takes 1-2 minutes on the CI machine, so CI runs one mismatch scenario decided
by the checks and one forced wrong decision; the other scenarios' full runs are marked slow.
The automated checks themselves are tested for all five scenarios on the pictures the scenario
peer sends (no call): that part is fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.training import scenarios
from console.training.grading import table
from console.training.pack import load_pack

ROOT = Path(__file__).resolve().parent.parent


class _Run:
    """A `recognition-console training run` subprocess (started now, awaited later)."""

    def __init__(self, folder: Path, scenario: str, *extra: str) -> None:
        self.report = folder / f"{scenario}.json"
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
                   RECOGNITION_CONSOLE_THREAD_REPORT="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console", "training", "run", scenario, "--autopilot",
             "--report", str(self.report), "--trainee", "t-" + scenario, *extra],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def result(self, timeout: float = 270) -> tuple[int, dict, str]:
        # under the suite's 300 s per test: a run that hangs is killed here, not orphaned
        try:
            _out, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _out, stderr = self.proc.communicate()
        data = json.loads(self.report.read_text(encoding="utf-8")) \
            if self.report.exists() else {}
        return self.proc.returncode, data, stderr


def _run(tmp_path: Path, scenario: str, *extra: str) -> tuple[int, dict, str]:
    return _Run(tmp_path, scenario, *extra).result()


@pytest.fixture(scope="module")
def ci_runs(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The two CI runs, started together (each mostly waits on the call: ~1.5 min each)."""
    folder = tmp_path_factory.mktemp("training-runs")
    runs = {"name-mismatch": _Run(folder, "name-mismatch"),
            "forced": _Run(folder, "clean", "--force-decision", "reject")}
    yield runs
    for run in runs.values():
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.communicate()


def _check_automated(rc: int, data: dict, stderr: str, scenario: str) -> None:
    assert rc == 0, stderr[-3000:]
    key = scenarios.build(scenario, Path(".")).answer_key
    assert data["scenario"] == scenario
    assert data["decision"] == key.expected_decision, (data.get("findings"), data.get("checks"))
    assert data["expected_decision"] == key.expected_decision
    assert data["correct"] is True, data
    assert data["reason_code"] == key.reason_code
    for finding in key.findings:
        assert any(f == finding or f.startswith(finding + ":") for f in data["findings"])
    assert data["missed_findings"] == [] and data["steps_skipped"] == []
    assert data["time_per_step"] and data["total_seconds"] > 0
    assert "threads alive at exit: none" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("scenario", [
    "expired-document", "face-mismatch", "third-person",
    pytest.param("clean", marks=pytest.mark.slow),  # CI: covered by the full runs below
    pytest.param("name-mismatch", marks=pytest.mark.slow)])
def test_automated_checks_find_what_each_scenario_hides(scenario: str, tmp_path: Path) -> None:
    """The pictures the scenario peer sends, through the checks the training run uses."""
    from console.training.findings import decision_for, findings_from_stills
    from demo.applicant.scene import Step
    from demo.training_peer import ScenarioRenderer, third_person_targets
    from demo.training_run import _script

    pack = load_pack(scenarios.generate(tmp_path, (scenario,))[0])
    renderer = ScenarioRenderer(1280, 720, pack.applicant)
    targets = third_person_targets(pack.applicant, _script(pack.product))
    if scenario == "third-person":
        assert "face" in targets  # the face still of step i shows the second person
    stills = {"document_front": renderer.bgr(Step.ID_FRONT)}
    renderer.set_third_person("document_front" in targets)
    stills["document_back"] = renderer.bgr(Step.ID_BACK)
    stills["face"] = renderer.bgr(Step.FACE)
    findings, details = findings_from_stills(stills, pack.request)
    assert decision_for(findings) == (pack.answer_key.expected_decision,
                                      pack.answer_key.reason_code), details
    assert set(findings) >= set(pack.answer_key.findings)


def test_name_mismatch_run_is_rejected_by_the_checks(ci_runs: dict) -> None:
    rc, data, stderr = ci_runs["name-mismatch"].result()
    _check_automated(rc, data, stderr, "name-mismatch")
    assert "data_mismatch:surname" in data["findings"]
    assert data["checks"]["mrz"]["fields"]["surname"] == "differ"


def test_forced_wrong_decision_is_graded_wrong(ci_runs: dict) -> None:
    run = ci_runs["forced"]
    rc, data, stderr = run.result()
    assert rc == 0, stderr[-3000:]
    assert data["decision"] == "rejected" and data["expected_decision"] == "approved"
    assert data["correct"] is False and data["decision_correct"] is False
    assert data["forced_decision"] == "reject"
    assert data["findings"] == []  # the checks found nothing: the decision was forced
    # the grade table reads the report
    out = subprocess.run([sys.executable, "-m", "console", "training", "grade",
                          str(run.report)], capture_output=True, text=True,
                         cwd=ROOT, timeout=60, check=False)
    assert out.returncode == 0 and "t-clean" in out.stdout and "NO" in out.stdout
    assert "0 of 1 runs correct" in table([data])


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["clean", "expired-document", "face-mismatch",
                                      "third-person"])
def test_shipped_scenario_run_reaches_the_expected_decision(scenario: str,
                                                            tmp_path: Path) -> None:
    rc, data, stderr = _run(tmp_path, scenario)
    _check_automated(rc, data, stderr, scenario)


@pytest.mark.slow
def test_forced_approval_against_a_different_face_needs_the_second_look(
        tmp_path: Path) -> None:
    """ETSI TS 119 461: approving against a "different person" result takes a supervisor's
    second look; the run still ends, and forcing the approval is graded wrong."""
    rc, data, stderr = _run(tmp_path, "face-mismatch", "--force-decision", "approve")
    assert rc == 0, stderr[-3000:]
    assert data["decision"] == "approved" and data["expected_decision"] == "rejected"
    assert data["supervisor_second_look"] is True
    assert "face_mismatch" in data["findings"]
    assert data["correct"] is False


def test_pack_clips_play_as_the_camera_and_give_the_stills(tmp_path: Path) -> None:
    """A pack with recorded clips: the whole applicant, and a clip for one scene."""
    import dataclasses

    import av
    import cv2
    import numpy as np

    from console.training.pack import write_pack
    from demo.applicant.scene import Step
    from demo.training_peer import ScenarioRenderer

    base = scenarios.build("clean", tmp_path)
    (base.root / "clips").mkdir(parents=True)

    def clip(name: str, grey: int) -> Path:
        path = base.root / "clips" / f"{name}.mkv"
        with av.open(str(path), mode="w") as out:
            stream = out.add_stream("libx264", rate=10)
            stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
            for i in range(5):
                frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), grey, np.uint8),
                                                   format="rgb24")
                frame.pts = i
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        return path

    pack = dataclasses.replace(base, clips={"applicant": clip("applicant", 100),
                                            "document_front": clip("document_front", 200)})
    write_pack(pack)
    loaded = load_pack(pack.root)
    assert set(loaded.clips) == {"applicant", "document_front"}
    r = ScenarioRenderer(800, 448, loaded.applicant, loaded.clips)
    for step, grey in ((Step.FACE, 100), (Step.ID_FRONT, 200), (Step.ID_BACK, 100)):
        for n in range(7):  # loops past the clip's 5 frames
            buf = r.video_frame(step, None, n, False)
            assert buf.shape == (448 * 3 // 2, 800)
            luma = 16 + grey * 219 / 255  # limited-range Y of that grey
            assert abs(float(buf[:448].mean()) - luma) < 4
        still = cv2.imdecode(np.frombuffer(r.png(step), np.uint8), cv2.IMREAD_GRAYSCALE)
        assert still.shape == (448, 800) and abs(float(still.mean()) - grey) < 8
