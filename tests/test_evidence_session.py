"""Session-level evidence: a real console.session.Session mirrored live into a package."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import cv2
import numpy as np

from console.evidence import TrustStore, WorkstationKey, verify
from console.evidence.session import SessionEvidence, active_for, build_session_package
from console.models import OtpSent, OtpVerification
from console.script import script_for
from console.session import Session
from tests.test_evidence_package import pdf_text

OPERATOR = {"id": "7", "username": "operatore1", "display_name": "Operatore Uno",
            "role": "operator"}


def _trust(data_dir: Path) -> TrustStore:
    """The workstation key the session evidence signed with (under its data dir)."""
    return TrustStore.of_keys([WorkstationKey.load_or_create(data_dir)])


def _still(path: Path, colour: int) -> tuple[str, int, int]:
    img = np.full((300, 480, 3), colour, np.uint8)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    path.write_bytes(buf.tobytes())
    return hashlib.sha256(buf.tobytes()).hexdigest(), 480, 300


def _run_session(session: Session, tmp: Path) -> None:
    for step in "abcdef":
        session.pass_step(step)
    session.otp_sent(OtpSent(otp_id="otp-9", expires_at=datetime.now(UTC) + timedelta(minutes=5),
                             attempts_left=3, resend_after=None))
    session.otp_checked(OtpVerification(verified=False, attempts_left=2, exhausted=False))
    session.otp_checked(OtpVerification(verified=True, attempts_left=2, exhausted=False))
    session.pass_step("h")
    for i, target in enumerate(("document_front", "document_back", "face")):
        sha, w, h = _still(tmp / f"{target}.png", 60 + 40 * i)
        session.attach_capture("i", target, width=w, height=h, sha256=sha,
                               path=tmp / f"{target}.png", mime="image/png")
    session.pass_step("i")
    session.record("link_lost", reason="no_pong")
    session.record("applicant_joined")
    session.reject("document_expired", "expiry date passed")


def test_live_session_evidence_with_recording(tmp_path: Path) -> None:
    session = Session("5f0c1d7e-8b6a-4a53-9d1e-3c2b1a0f9e8d", script_for("spid_personal"))
    ev = SessionEvidence(tmp_path, session, operator=OPERATOR,
                         recorder_options={"video_sizes": {"applicant_video": (160, 90),
                                                           "operator_video": (160, 90)}})
    session.start()
    assert active_for(session.session_id) is ev
    rec = ev.recorder
    assert rec is not None and rec.start_ts is not None
    for i in range(25):  # what the engine's sink would hand over
        rec("applicant_video", np.zeros((90, 160, 3), np.uint8), rec.start_ts + i / 25)
    _run_session(session, tmp_path)
    ev.record_checks("document_front", quality={"sharpness": 0.8}, checks={"mrz": "ok"})
    result = ev.finish(None)  # no service: finalised, waits in the work folder
    assert active_for(session.session_id) is None
    assert not result.queued and result.folder.is_dir()
    assert result.folder.parent == tmp_path / "evidence" / "work"
    check = verify(result.folder, trust=_trust(tmp_path))
    assert check.ok, check.problems
    transcript = json.loads((result.folder / "transcript.json").read_text())
    steps = [(s["step"], s["agid"], s["title"], s["passed"]) for s in transcript["steps"]]
    assert steps[0] == ("a", "a", "consent_recording", True)
    assert ("g", "g", "otp", True) in steps and ("i", "i", "identity_document", True) in steps
    otp = json.loads((result.folder / "otp_events.json").read_text())["otp"]
    assert [o["action"] for o in otp] == ["sent", "failed", "verified"]
    decision = json.loads((result.folder / "decision.json").read_text())["decision"]
    assert (decision["decision"], decision["reason_code"]) == ("rejected", "document_expired")
    caps = json.loads((result.folder / "captures.json").read_text())["captures"]
    assert [c["step"] for c in caps] == ["document_front", "document_back", "face"]
    for c in caps:  # the stills are copied into the package, byte for byte
        assert c["sha256"] == c["checks"]["sha256_reported"]
    conn = transcript["connection"]
    assert [c["state"] for c in conn] == ["lost", "restored"]
    text = pdf_text(result.folder / "report.pdf")
    assert "[PASS] a (AgID a) - consent_recording" in text
    assert "REJECTED - reason document_expired" in text
    assert "sharpness=0.8" in text and "mrz=ok" in text
    with av.open(str(result.folder / "recording.mkv")) as c:
        assert len(c.streams) == 4
        titles = [ch["metadata"]["title"] for ch in c.chapters()]
    assert "decision:rejected" in titles and "otp:verified" in titles


def test_build_session_package_after_the_fact(tmp_path: Path) -> None:
    session = Session("0b9b2c4e-1111-4c3a-9d1e-3c2b1a0f9e8d", script_for("spid_personal"))
    session.start()
    _run_session(session, tmp_path)
    path = build_session_package(session=session, client=None, data_dir=tmp_path)
    assert path is not None and path.is_dir()
    result = verify(path, trust=_trust(tmp_path))
    assert result.ok
    audit = [json.loads(x) for x in (path / "audit.jsonl").read_text().splitlines()]
    # events keep the session's own offsets when there was no recording
    steps = [e for e in audit if e["event"] == "step"]
    assert steps and all(isinstance(e["offset_s"], float) for e in steps)
    assert not (path / "recording.mkv").exists()
