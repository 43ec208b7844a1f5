"""`recognition-console demo --in-person --autopilot`: a real desk service process, the virtual
CNS read through pcscd + vpcd, the synthetic camera and the partner's real window, offscreen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from demo import pcscd
from demo.pcscd import PcscdUnavailable, ensure_pcscd

ROOT = Path(__file__).resolve().parent.parent


def _run_demo(tmp_path: Path, *extra: str, timeout: float = 200) -> tuple[int, dict, str]:
    report = tmp_path / "out" / "report.json"
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", RECOGNITION_CONSOLE_THREAD_REPORT="1")
    proc = subprocess.run(
        [sys.executable, "-m", "console", "demo", "--in-person", "--autopilot", "--report",
         str(report), "--timeout", str(int(timeout - 40)), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return proc.returncode, data, proc.stderr


def test_in_person_autopilot_approves(pcscd_vpcd: tuple[str, ...], tmp_path: Path) -> None:
    from console.evidence.verify import verify

    rc, data, stderr = _run_demo(tmp_path)
    assert rc == 0, (data.get("error"), stderr[-3000:])
    assert data["mode"] == "in_person" and data["decision"] == "approved", data.get("error")
    assert (data["role"], data["window"]) == ("partner", "in_person")
    # the virtual card of the demo identity matches the seeded request on every field
    card = data["card"]
    assert card["read"] and card["matches_request"] and card["has_certificate"]
    assert card["problems"] == [] and card["error"] is None
    assert set(card["fields"].values()) == {"matches"}
    assert len(card["fields"]) == 6
    # every picture, the person's photo included, with its checks
    captures = {c["target"]: c for c in data["captures"]}
    assert set(captures) == {"document_front", "document_back", "health_card", "face",
                             "signed_form"}
    assert all(c["width"] > 0 and c["height"] > 0 for c in captures.values())
    assert captures["document_back"]["checks"]["mrz_valid"] is True
    assert set(captures["document_back"]["checks"]["mrz_fields"].values()) == {"match"}
    assert data["form_printed"] is True
    steps = {s["id"]: s for s in data["steps"]}
    assert all(s["status"] == "passed" for s in steps.values()), steps
    assert "face" in steps["identity_document"]["targets"]
    assert data["blockers_before_decision"] == []
    # the evidence package, kept next to the report, verifies and holds the person's photo
    evidence = Path(data["evidence"])
    assert evidence.is_file() and evidence.parent == tmp_path / "out"
    # against the demo workstation's key, written beside it from the local key
    from console.evidence.trust import TrustStore

    trust = TrustStore.load(data["evidence_trust"])
    assert verify(evidence, trust=trust).ok
    assert not verify(evidence).ok  # no trust store: refused (signed by unknown key)
    with tarfile.open(evidence) as tar:
        names = tar.getnames()
    assert any("face" in n for n in names), names
    assert data["evidence_files"] > 5
    phases = [p["phase"] for p in data["timeline"]]
    assert phases[0] == "look_up" and phases[-1] == "end" and "capture:face" in phases
    # no personal data in the report; ordered shutdown
    text = json.dumps(data)
    for personal in ("RSSMRA85D52H501P", "ROSSI", "MARIA", "1985-04-12", "12/04/1985"):
        assert personal not in text
    assert "RSSMRA85D52H501P" not in stderr
    assert "threads alive at exit: none" in stderr, stderr[-2000:]
    assert "Traceback" not in stderr


def test_demo_needs_report_for_autopilot() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "console", "demo", "--in-person", "--autopilot"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 2
    assert "--report" in proc.stderr


def test_no_pcscd_says_how_to_start_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not root and pcscd not answering: a one-line reason with the command to run."""
    pytest.importorskip("smartcard")
    if pcscd.find_pcscd() is None or not pcscd.vpcd_installed():
        pytest.skip("pcscd / vpcd not installed")
    monkeypatch.setattr(pcscd, "readers", lambda: None)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(PcscdUnavailable) as info:
        ensure_pcscd()
    assert "not running" in str(info.value) and "sudo pcscd" in str(info.value)


def test_missing_vpcd_readers_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("smartcard")
    if pcscd.find_pcscd() is None or not pcscd.vpcd_installed():
        pytest.skip("pcscd / vpcd not installed")
    monkeypatch.setattr(pcscd, "readers", lambda: ["Some USB reader 00 00"])
    monkeypatch.setattr(pcscd, "wait_readers", lambda timeout, wanted=(): ["Some USB reader 00 00"])
    with pytest.raises(PcscdUnavailable) as info:
        ensure_pcscd()
    assert "vpcd readers did not appear" in str(info.value)
