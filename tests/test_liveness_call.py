"""Active liveness end to end on loopback: a real desk service process, the synthetic applicant
process (`python -m demo.applicant`) and the console's MediaEngine in this process. The engine
sends each challenge of a random plan on the control channel when its window opens; the frames
it decodes go through a LivenessFeeder (a media sink, analysis on its own thread) into the
LivenessCheck. The live synthetic applicant answers and passes; the same applicant playing a
photograph of itself (`--camera-clip still.png`) acknowledges every challenge and fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest

from console.liveness import (
    ChallengePlan,
    LivenessCheck,
    LivenessFeeder,
    LivenessResult,
    load_models,
)
from demo.applicant.scene import SceneRenderer
from media.api import CallState
from media.challenge import ChallengeMessageError
from media.engine import MediaEngine
from tests.test_media_call import Recorder, wait_for

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow  # two calls of about 20 s each


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def start_applicant(base_url: str, join_token: str, log: Path,
                    *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SYNTHETIC_JOIN_TOKEN": join_token, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "demo.applicant", "--desk", base_url, "--width", "1280",
           "--height", "720", "--fps", "15", "--flash-period", "0", "--audio", "silence",
           "--no-otp", *extra]
    with log.open("ab") as fh:
        return subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=fh, stderr=fh)


def liveness_call(desk: Any, surname: str, log: Path, procs: list[subprocess.Popen[bytes]],
                  *applicant_args: str) -> tuple[LivenessResult, Recorder]:
    req = desk.seed_request(surname)
    procs.append(start_applicant(desk.base_url, req["join_token"], log, *applicant_args))
    wait_for(lambda: desk.api("GET", "/queue", username="operatore1").json()["length"] >= 1,
             60, "the applicant in the queue")
    resp = desk.api("POST", "/queue/next", username="operatore1")
    assert resp.status_code == 200, resp.text
    session_id = resp.json()["session_id"]
    rec = Recorder()
    engine = MediaEngine(rec, camera=None, microphone=None)
    plan = ChallengePlan.random(count=3)
    check = LivenessCheck(plan, analysis_fps=8.0)
    feeder = LivenessFeeder(check)
    engine.start()
    try:
        engine.start_call(desk.base_url, desk.token("operatore1"), session_id,
                          ice_servers=[]).result(15)
        wait_for(lambda: rec.state is CallState.CONNECTED, 30, "CONNECTED")
        wait_for(lambda: rec.frames >= 10, 30, "frames")
        # what the session core does: frames into the check, challenges out when due
        engine.add_media_sink(feeder.sink)
        check.start(time.monotonic())
        deadline = time.monotonic() + plan.duration_s + 20
        while not check.done(time.monotonic()):
            assert time.monotonic() < deadline, "the plan never finished"
            for c in check.to_announce(time.monotonic()):
                engine.send_challenge(c.code, c.seconds, c.id, *check.position(c.id)).result(5)
            time.sleep(0.05)
        feeder.stop()
        result = check.result(time.monotonic())
        # the page acknowledged every challenge
        wait_for(lambda: sum(m.get("type") == "challenge_ack" for m in rec.messages)
                 == len(plan.challenges), 5, "challenge acks")
        acked = {m["id"] for m in rec.messages if m.get("type") == "challenge_ack"}
        assert acked == {c.id for c in plan.challenges}
        # an invalid challenge is refused before it is sent
        with pytest.raises(ChallengeMessageError, match="invalid_seconds"):
            engine.send_challenge("blink", 0)
        engine.hang_up().result(10)
    finally:
        feeder.stop()
        engine.stop()
    return result, rec


def test_live_applicant_passes_and_a_photo_fails(desk_server: Any, tmp_path: Path,
                                                 procs: list[subprocess.Popen[bytes]]) -> None:
    load_models()
    live, _ = liveness_call(desk_server, "ROSSI", tmp_path / "live.log", procs)
    print("live applicant:", json.dumps(live.to_json()))  # shown when the test fails
    assert live.verdict == "pass", live.to_json()
    assert live.frames_with_face >= 0.9 * live.frames_analysed
    assert all(c.latency_ms is not None and c.latency_ms >= 300 for c in live.challenges)

    # the applicant's own photograph played as the camera: acknowledged, never answered
    photo = tmp_path / "still.png"
    cv2.imwrite(str(photo), SceneRenderer(1280, 720).bgr())
    desk_server.end_open_session("operatore1")
    still, _ = liveness_call(desk_server, "BIANCHI", tmp_path / "still.log", procs,
                             "--camera-clip", str(photo))
    print("photo:", json.dumps(still.to_json()))
    assert still.verdict == "fail", still.to_json()
    assert still.frames_with_face >= 0.9 * still.frames_analysed
    assert all(c.reason == "not_performed" for c in still.challenges), still.to_json()
