"""The demo end to end: a real desk service process, the synthetic applicant (or headless
Chromium) and the console's real windows driven by the autopilot, offscreen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from demo.autopilot import DEMO_INJECTION_OVERRIDE

ROOT = Path(__file__).resolve().parent.parent


def _run_demo(tmp_path: Path, *extra: str, timeout: float = 280) -> tuple[int, dict, str]:
    report = tmp_path / "report.json"
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", RECOGNITION_CONSOLE_THREAD_REPORT="1")
    proc = subprocess.run(
        [sys.executable, "-m", "console", "demo", "--autopilot", "--report", str(report),
         "--timeout", str(int(timeout - 40)), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return proc.returncode, data, proc.stderr


def _check_report(data: dict) -> None:
    assert data["decision"] == "approved", data.get("error")
    assert (data["role"], data["window"]) == ("operator", "video_session")
    assert data["otp"]["verified"] is True
    steps = {s["id"]: s for s in data["steps"]}
    assert list(steps) == list("abcdefghijklm")
    assert all(s["status"] == "passed" and s["at"] for s in steps.values())
    assert data["video"]["frames_received"] > 0
    assert data["video"]["width"] > 0 and data["video"]["height"] > 0
    targets = {s["step"] for s in data["stills"]}
    assert {"document_front", "document_back", "health_card"} <= targets
    assert all(s["width"] > 0 and s["height"] > 0 for s in data["stills"])
    assert all(s["transfer_ms"] > 0 and s["size"] > 0 for s in data["stills"])
    # the evidence package (recording, stills, events) was sealed and kept next to the report
    assert data["evidence"] and Path(data["evidence"]).is_file()
    assert Path(data["evidence"]).stat().st_size > 100_000
    # the automated checks' findings and per-still results come with the report
    assert isinstance(data["findings"], list) and data["checks"]
    # the GUI thread only painted: no stall over 50 ms while it waited on the network, the
    # disk, SQLite, a child process or another thread (a busy machine's stalls are allowed)
    watchdog = data["gui_watchdog"]
    assert watchdog["watched_s"] > 5 and watchdog["threshold_ms"] == 50
    assert watchdog["blocking"] == [], watchdog["blocking"]


def test_autopilot_with_synthetic_applicant_exits_clean(tmp_path: Path) -> None:
    rc, data, stderr = _run_demo(tmp_path)
    assert rc == 0, stderr[-3000:]
    _check_report(data)
    assert data["video"]["width"] == 1280 and data["video"]["height"] == 720
    assert data["stills"][0]["width"] == 1280
    # the synthetic applicant stamps its frames: latency is measured where frames are shown
    assert data["latency_ms"]["p50"] is not None and data["latency_ms"]["p95"] is not None
    assert data["latency_ms"]["p50"] <= data["latency_ms"]["p95"]
    # ordered shutdown: exit 0 and no thread left behind
    assert "threads alive at exit: none" in stderr, stderr[-2000:]
    assert "Traceback" not in stderr
    # the checks saw with the operator: the MRZ of the clean demo card matches the request,
    # the codice fiscale barcode too, the face on the card is the applicant's; nothing found
    checks = {c["target"]: c for c in data["checks"]}
    back = checks["document_back"]
    assert back["mrz_valid"] is True and back["expired"] is False
    assert back["fields"] and set(back["fields"].values()) == {"match"}
    assert checks["health_card"]["codice_fiscale"]["fields"]["value"] == "match"
    assert checks["face"]["face"]["decision"] == "same"
    assert data["findings"] == []
    # the synthetic applicant answered the random challenges live: liveness passed
    liveness = data["liveness"]
    assert liveness["verdict"] == "pass", liveness
    assert 2 <= len(liveness["challenges"]) <= 3
    assert all(c["verdict"] == "pass" for c in liveness["challenges"])
    features = data["security_features"]
    assert len(features) >= 3 and sum(f["optically_variable"] for f in features) >= 2
    # each feature judged on a still, with its movement marked as a clip of the recording
    for feature in features:
        assert feature["verdict"] == "ok" and feature["still"] is True
        assert feature["clip"]["to_s"] > feature["clip"]["from_s"] >= 0
    # the synthetic applicant is no camera at all: its stills are drawn without sensor noise
    # (a weak signal: not suspected on its own), it sways like a person (no repeats)
    injection = data["injection"]
    assert injection["suspected"] is False and injection["override"] is None
    assert [(s["code"], s["weight"]) for s in injection["signals"]] == [
        ("sensor_noise_absent", "weak")]


@pytest.mark.chromium
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_autopilot_with_headless_chromium(tmp_path: Path) -> None:
    """The real applicant page in headless Chromium, its camera the demo's canvas drawing the
    synthetic scene live (demo.canvas_camera): it answers the random challenges, so liveness
    passes and the session is approved; the canvas camera's label is flagged as a virtual camera
    and the autopilot overrides that with its recorded reason."""
    rc, data, stderr = _run_demo(tmp_path, "--applicant", "chromium")
    assert rc == 0, (data.get("error"), data.get("liveness"), stderr[-3000:])
    _check_report(data)
    assert data["applicant"] == "chromium"
    # the canvas is 1280x720 (the call's encoder may scale down when the CPU is short; the
    # stills come from the camera itself)
    assert all((s["width"], s["height"]) == (1280, 720) for s in data["stills"])
    liveness = data["liveness"]
    assert liveness["verdict"] == "pass", liveness
    assert 2 <= len(liveness["challenges"]) <= 3
    assert all(c["verdict"] == "pass" for c in liveness["challenges"])
    # each still shows the step it was asked for (the canvas holds the card up first)
    checks = {c["target"]: c for c in data["checks"]}
    assert checks["document_back"]["mrz_valid"] is True
    assert checks["health_card"]["codice_fiscale"]["valid"] is True
    assert checks["face"]["face"]["decision"] == "same"
    injection = data["injection"]
    assert injection["suspected"] is True
    assert {"code": "virtual_camera_name", "detail": "Recognition demo canvas camera",
            "weight": "strong"} in injection["signals"]
    assert "frames_identical" not in [s["code"] for s in injection["signals"]]
    assert injection["override"]["reason"] == DEMO_INJECTION_OVERRIDE
    assert "threads alive at exit: none" in stderr, stderr[-2000:]


def _write_photo_y4m(path: Path, frames: int = 2) -> Path:
    """A still photograph of the synthetic applicant's face as a .y4m: the same picture in
    every frame (Chromium's fake camera loops it)."""
    from demo.applicant.scene import SceneRenderer, Step

    renderer = SceneRenderer(1280, 720)
    picture = renderer.i420(Step.FACE).tobytes()
    with path.open("wb") as fh:
        fh.write(b"YUV4MPEG2 W1280 H720 F15:1 Ip A1:1 C420\n")
        for _ in range(frames):
            fh.write(b"FRAME\n" + picture)
    return path


@pytest.mark.chromium
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_autopilot_chromium_camera_clip_of_a_photo_fails_liveness(tmp_path: Path) -> None:
    """`--camera-clip` of a still photograph: Chromium's fake camera plays it instead of the
    canvas; a photo cannot answer a challenge, so liveness fails and the autopilot rejects."""
    clip = _write_photo_y4m(tmp_path / "photo.y4m")
    rc, data, stderr = _run_demo(tmp_path, "--applicant", "chromium", "--camera-clip", str(clip))
    assert rc != 0  # the autopilot did not reach an approval
    assert data["applicant"] == "chromium"
    assert (data["role"], data["window"]) == ("operator", "video_session")
    assert data["video"]["frames_received"] > 0 and data["stills"]
    liveness = data["liveness"]
    assert liveness["verdict"] == "fail", liveness
    assert all(c["verdict"] != "pass" for c in liveness["challenges"])
    assert data["decision"] == "rejected"
    # the file-backed fake camera is flagged (its label is the clip's path)
    injection = data["injection"]
    assert injection["suspected"] is True
    assert {"code": "virtual_camera_name", "detail": "Chromium file-backed fake device",
            "weight": "strong"} in injection["signals"]
    assert data["evidence"] and Path(data["evidence"]).is_file()
    assert "threads alive at exit: none" in stderr, stderr[-2000:]
