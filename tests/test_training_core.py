"""Training core: shipped scenario packs, pack validation, grading and the grade table."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from console.specimens import DEMO_PERSON
from console.training import scenarios
from console.training.grading import GradeError, grade, load_report, table
from console.training.pack import AnswerKey, PackError, load_pack

REQUIRED = tuple("abcdefghijklm")


def _run(decision: str, reason: str = "", findings: tuple[str, ...] = (),
         statuses: dict[str, str] | None = None, otp_verified: bool = True) -> dict:
    statuses = statuses or {}
    steps = []
    for i, sid in enumerate(REQUIRED):
        st = statuses.get(sid, "passed")
        steps.append({"id": sid, "status": st, "kind": "otp" if sid == "g" else "confirm",
                      "at": f"2026-11-23T10:00:{10 + 3 * i:02d}Z" if st != "pending" else None})
    return {"decision": decision, "reason_code": reason, "steps": steps,
            "findings": list(findings), "otp": {"verified": otp_verified},
            "started_at": "2026-11-23T10:00:00Z", "decided_at": "2026-11-23T10:01:00Z"}


def test_shipped_packs_roundtrip(tmp_path: Path) -> None:
    folders = scenarios.generate(tmp_path, today=date(2026, 11, 23))
    assert [f.name for f in folders] == list(scenarios.SHIPPED)
    packs = {f.name: load_pack(f) for f in folders}
    assert packs["clean"].answer_key == AnswerKey("approved", "ok", ())
    assert packs["expired-document"].applicant["person"]["expiry_date"] == "2025-03-01"
    assert packs["name-mismatch"].request["applicant"]["surname"] == "ROSSINI"
    assert packs["name-mismatch"].applicant["person"]["surname"] == "ROSSI"
    assert packs["face-mismatch"].applicant["person"]["face"] == "camera"
    assert packs["face-mismatch"].applicant["live_face"] == "astronaut"
    assert packs["third-person"].applicant["third_person"] == {"from_step": "i"}
    # the person written is the person read back
    person = scenarios.person_from_json(packs["clean"].applicant["person"])
    assert person == DEMO_PERSON


def test_unknown_scenario_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        scenarios.build("no-such", tmp_path)
    with pytest.raises(ValueError, match="unknown person field"):
        scenarios.person_from_json({"shoe_size": 42})


@pytest.mark.parametrize("content, message", [
    (None, "no scenario file"),
    ("{not json", "not valid JSON"),
    ("[]", "is not of type 'object'"),
    (json.dumps({"format": 1}), "is a required property"),
])
def test_bad_pack_files_give_clear_errors(tmp_path: Path, content: str | None,
                                          message: str) -> None:
    if content is not None:
        (tmp_path / "scenario.json").write_text(content)
    with pytest.raises(PackError, match=message):
        load_pack(tmp_path)


def test_clip_outside_pack_is_refused(tmp_path: Path) -> None:
    folder = scenarios.generate(tmp_path, ("clean",))[0]
    data = json.loads((folder / "scenario.json").read_text())
    data["clips"] = {"applicant": "../../etc/passwd"}
    (folder / "scenario.json").write_text(json.dumps(data))
    with pytest.raises(PackError, match="outside the pack"):
        load_pack(folder)
    data["clips"] = {"applicant": "clips/missing.mkv"}
    (folder / "scenario.json").write_text(json.dumps(data))
    with pytest.raises(PackError, match="missing"):
        load_pack(folder)


def test_grading_right_and_wrong() -> None:
    key = AnswerKey("rejected", "data_mismatch", ("data_mismatch:surname",))
    right = grade(_run("rejected", "data_mismatch", ("data_mismatch:surname",)), key,
                  scenario="name-mismatch", required_steps=REQUIRED)
    assert right.correct and right.decision_correct and not right.missed_findings
    assert right.total_seconds == 60.0
    assert right.time_per_step[0].seconds == 10.0 and right.time_per_step[1].seconds == 3.0

    wrong = grade(_run("approved"), key, scenario="name-mismatch", required_steps=REQUIRED)
    assert not wrong.correct and not wrong.decision_correct
    assert wrong.missed_findings == ["data_mismatch:surname"]

    wrong_reason = grade(_run("rejected", "poor_video", ("data_mismatch:surname",)), key,
                         scenario="name-mismatch")
    assert wrong_reason.decision_correct and not wrong_reason.reason_correct
    assert not wrong_reason.correct


def test_grading_clean_needs_every_step_and_a_real_otp() -> None:
    key = AnswerKey("approved", "ok", ())
    assert grade(_run("approved"), key, scenario="clean", required_steps=REQUIRED).correct
    skipped = grade(_run("approved", statuses={"j": "skipped"}), key, scenario="clean",
                    required_steps=REQUIRED)
    assert not skipped.correct and skipped.steps_skipped == ["j"]
    accepted_wrong_code = grade(_run("approved", otp_verified=False), key, scenario="clean",
                                required_steps=REQUIRED)
    assert accepted_wrong_code.wrong_code_accepted and not accepted_wrong_code.correct


def test_grading_refuses_incomplete_runs() -> None:
    key = AnswerKey("approved", "ok", ())
    with pytest.raises(GradeError, match="no decision"):
        grade({"steps": []}, key, scenario="clean")
    with pytest.raises(GradeError, match="no step list"):
        grade({"decision": "approved"}, key, scenario="clean")


def test_report_loading_and_table(tmp_path: Path) -> None:
    key = AnswerKey("approved", "ok", ())
    reports = []
    for name, run in (("anna", _run("approved")), ("bruno", _run("rejected", "poor_video"))):
        g = grade(run, key, scenario="clean", required_steps=REQUIRED).to_json()
        g["trainee"] = name
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(g))
        reports.append(load_report(path))
    text = table(reports)
    assert "anna" in text and "bruno" in text
    assert text.splitlines()[-1] == "1 of 2 runs correct"
    bad = tmp_path / "bad.json"
    bad.write_text('{"scenario": "clean"}')
    with pytest.raises(GradeError, match="no 'decision'"):
        load_report(bad)


def test_cli_list_generate_grade(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "console", "training", *args],
                              capture_output=True, text=True, timeout=60)

    listed = cli("list")
    assert listed.returncode == 0 and "face-mismatch" in listed.stdout
    gen = cli("generate", str(tmp_path / "packs"), "--only", "clean")
    assert gen.returncode == 0 and (tmp_path / "packs" / "clean" / "scenario.json").is_file()
    report = tmp_path / "r.json"
    g = grade(_run("approved"), AnswerKey("approved", "ok", ()), scenario="clean").to_json()
    report.write_text(json.dumps(g))
    graded = cli("grade", str(report))
    assert graded.returncode == 0 and "1 of 1 runs correct" in graded.stdout
    broken = cli("grade", str(tmp_path / "nope.json"))
    assert broken.returncode == 2 and "no such report" in broken.stderr
    assert "Traceback" not in broken.stderr
