"""End-to-end call on loopback: MediaEngine (this process) <-> synthetic applicant (a separate
process, `python -m demo.applicant`) through a real desk service process (desk_server).

One long scenario (to start the desk and the peers once): connect, frames with stamps, stills
(exact pixels, sha256, malformed and timed-out ones), instruction, stats/quality, sinks, drop
detection by the heartbeat when the media path dies (the desk socket staying up), the
applicant process killed, reconnection with a new peer connection when it comes back, hang-up,
stop() leaving no thread behind.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from demo.applicant.scene import Hand, SceneRenderer, Step
from media.api import CallState, EngineErrorCode, PcmChunk, QualityLevel, QualityReport
from media.engine import MediaEngine
from media.stills import StillError, StillErrorCode

REPO = Path(__file__).resolve().parents[1]


class Recorder:
    """Listener + sinks that remember what the engine reported (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.states: list[tuple[float, CallState]] = []
        self.errors: list[EngineErrorCode] = []
        self.messages: list[dict[str, Any]] = []
        self.quality: list[QualityReport] = []
        self.frames = 0
        self.pcm: list[PcmChunk] = []
        self.sink_kinds: dict[str, int] = {}

    def on_call_state(self, state: CallState) -> None:
        with self.lock:
            self.states.append((time.monotonic(), state))

    def on_quality(self, report: QualityReport) -> None:
        with self.lock:
            self.quality.append(report)

    def on_message(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.messages.append(message)

    def on_remote_frame(self) -> None:
        with self.lock:
            self.frames += 1

    def on_error(self, code: EngineErrorCode) -> None:
        with self.lock:
            self.errors.append(code)

    def audio(self, chunk: PcmChunk) -> None:
        with self.lock:
            if len(self.pcm) < 50:
                self.pcm.append(chunk)

    def sink(self, kind: str, frame: Any, ts: float) -> None:
        with self.lock:
            self.sink_kinds[kind] = self.sink_kinds.get(kind, 0) + 1

    @property
    def state(self) -> CallState | None:
        with self.lock:
            return self.states[-1][1] if self.states else None

    def state_time(self, state: CallState, after: float = 0.0) -> float | None:
        with self.lock:
            return next((t for t, s in self.states if s is state and t >= after), None)


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def start_applicant(base_url: str, join_token: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SYNTHETIC_JOIN_TOKEN": join_token, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "demo.applicant", "--desk", base_url,
           "--width", "1280", "--height", "720", "--fps", "15", "--flash-period", "0"]
    with log.open("ab") as fh:
        return subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=fh, stderr=fh)


@pytest.fixture
def applicant_procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(10)


def test_loopback_call_through_desk(desk_server: Any, tmp_path: Path,
                                    applicant_procs: list[subprocess.Popen[bytes]]) -> None:
    desk = desk_server
    rossi = desk.seed_request("ROSSI")
    log = tmp_path / "applicant.log"
    applicant_procs.append(start_applicant(desk.base_url, rossi["join_token"], log))

    # the applicant gives consent and waits in the queue
    wait_for(lambda: desk.api("GET", "/queue", username="operatore1").json()["length"] == 1,
             60, "the applicant in the queue")
    resp = desk.api("POST", "/queue/next", username="operatore1")
    assert resp.status_code == 200, resp.text
    session_id = resp.json()["session_id"]

    threads_before = set(threading.enumerate())
    rec = Recorder()
    engine = MediaEngine(rec, camera=None, microphone=None)
    engine.set_audio_sink(rec.audio)
    engine.add_media_sink(rec.sink)
    engine.start()
    try:
        engine.start_call(desk.base_url, desk.token("operatore1"), session_id,
                          ice_servers=[]).result(15)

        # --- connects, frames flow, stamps decode -------------------------------------------
        wait_for(lambda: rec.state is CallState.CONNECTED, 30, "CONNECTED")
        wait_for(lambda: rec.frames >= 20, 30, "20 remote frames")
        latest = engine.latest_remote_frame()
        assert latest is not None
        assert (latest.frame.width, latest.frame.height) == (1280, 720)
        assert latest.frame.format.name == "yuv420p"
        assert latest.stamp_ms is not None
        # the stamp is the sender's wall clock: decoded right, it is close to ours
        assert abs(time.time() * 1000 - latest.stamp_ms) < 60_000
        assert latest.latency_ms is not None and latest.latency_ms > 0

        # --- a still of the document front: exact pixels, sha256 ----------------------------
        still = engine.request_still("document_front").result(45)
        assert (still.width, still.height) == (1280, 720)
        assert still.mime == "image/png"
        assert hashlib.sha256(still.data).hexdigest() == still.sha256
        decoded = cv2.imdecode(np.frombuffer(still.data, np.uint8), cv2.IMREAD_COLOR)
        renderer = SceneRenderer(1280, 720)
        assert np.array_equal(decoded, renderer.bgr(Step.ID_FRONT, Hand.NONE))

        # --- an instruction is followed: the next still shows the raised hand ---------------
        engine.send_instruction("raise_right_hand").result(5)
        time.sleep(0.3)
        hand = engine.request_still("").result(45)
        hand_img = cv2.imdecode(np.frombuffer(hand.data, np.uint8), cv2.IMREAD_COLOR)
        assert np.array_equal(hand_img, renderer.bgr(Step.ID_FRONT, Hand.RIGHT))

        # --- a corrupted still gives a clear error, an unanswered one a timeout -------------
        engine.send_instruction("test:corrupt_next_still").result(5)
        with pytest.raises(StillError) as bad:
            engine.request_still("document_back").result(45)
        assert bad.value.code is StillErrorCode.SHA256_MISMATCH
        engine.send_instruction("test:ignore_next_still").result(5)
        with pytest.raises(StillError) as late:
            engine.request_still("document_back", timeout=3).result(10)
        assert late.value.code is StillErrorCode.TIMEOUT

        # --- malformed control messages: reported once, ignored, the call goes on ----------
        engine.send_instruction("test:send_garbage").result(5)
        wait_for(lambda: EngineErrorCode.MALFORMED_MESSAGE in rec.errors, 10, "malformed")
        assert rec.errors.count(EngineErrorCode.MALFORMED_MESSAGE) == 1
        assert engine.request_still("face").result(45).width == 1280
        assert rec.state is CallState.CONNECTED

        # --- page stats, quality, audio, sinks ----------------------------------------------
        wait_for(lambda: any(m.get("type") == "stats" for m in rec.messages), 10, "page stats")
        stats = next(m for m in rec.messages if m.get("type") == "stats")
        assert (stats["width"], stats["height"]) == (1280, 720)
        wait_for(lambda: any(q.remote_fps is not None for q in rec.quality), 10, "quality")
        lost_reports = sum(q.level is QualityLevel.LOST for q in rec.quality)
        assert lost_reports <= len(rec.quality) // 5  # a loaded CI box may stall a moment
        assert any(q.bitrate_kbps for q in rec.quality)
        wait_for(lambda: len(rec.pcm) >= 5, 10, "applicant audio")
        assert all(c.sample_rate == 48_000 and c.channels == 1 for c in rec.pcm)
        assert any(np.frombuffer(c.data, np.int16).any() for c in rec.pcm)  # not silence
        for kind in ("applicant_video", "applicant_audio", "operator_video", "operator_audio"):
            assert rec.sink_kinds.get(kind, 0) > 0, kind

        # --- OTP: the applicant reads the SMS from the demo outbox and says the code --------
        assert rossi["applicant"]["mobile"] == "+393331234567"
        sent = desk.api("POST", f"/requests/{rossi['id']}/otp", username="operatore1")
        assert sent.status_code == 201, sent.text
        wait_for(lambda: any(m.get("type") == "utterance" for m in rec.messages), 20,
                 "the OTP read back")
        said = next(m["text"] for m in rec.messages if m.get("type") == "utterance")
        sms = desk.sms_outbox("+393331234567")
        assert said in sms[-1]["body"]
        check = desk.api("POST", f"/requests/{rossi['id']}/otp/verify", username="operatore1",
                         json={"code": said})
        assert check.status_code == 200 and check.json()["verified"] is True

        first_generation = engine.peer_generation
        seq_before = engine.frames_received

        # --- a network blip: media and control stop while both desk sockets stay up. The
        # engine notices within 5 s and, as the applicant never left the desk, offers a new peer
        # connection by itself; the applicant answers it and frames flow again -----------------
        blip_at = time.monotonic()
        engine.send_instruction("test:drop_link").result(5)
        wait_for(lambda: rec.state_time(CallState.LOST, blip_at) is not None, 10, "LOST (blip)")
        blip_lost = rec.state_time(CallState.LOST, blip_at)
        assert blip_lost is not None and blip_lost - blip_at <= 5.0, blip_lost - blip_at
        wait_for(lambda: rec.state_time(CallState.CONNECTED, blip_lost) is not None, 30,
                 "CONNECTED after the blip")
        assert engine.peer_generation > first_generation
        wait_for(lambda: engine.frames_received >= seq_before + 10, 30, "frames after the blip")
        first_generation = engine.peer_generation
        seq_before = engine.frames_received

        # --- the media path dies while the desk socket stays up (UDP blocked): our own
        # heartbeat finds it within 5 s (the desk has nothing to report) --------------------
        frozen_at = time.monotonic()
        engine.send_instruction("test:freeze_media").result(5)
        wait_for(lambda: rec.state_time(CallState.LOST, frozen_at) is not None, 10, "LOST")
        lost_at = rec.state_time(CallState.LOST, frozen_at)
        assert lost_at is not None and lost_at - frozen_at <= 5.0, lost_at - frozen_at
        assert engine.latest_remote_frame() is None
        assert applicant_procs[0].poll() is None  # still there, socket open

        # --- then the applicant process dies for good -------------------------------------
        applicant_procs[0].send_signal(signal.SIGKILL)
        applicant_procs[0].wait(10)

        # --- it comes back: a new peer connection, frames flow again ------------------------
        back_at = time.monotonic()
        applicant_procs.append(start_applicant(desk.base_url, rossi["join_token"], log))
        wait_for(lambda: rec.state_time(CallState.CONNECTED, back_at) is not None, 60,
                 "CONNECTED again")
        assert rec.state_time(CallState.RECONNECTING, back_at) is not None
        assert engine.peer_generation > first_generation
        wait_for(lambda: engine.frames_received >= seq_before + 10, 30, "frames after rejoin")
        again = engine.latest_remote_frame()
        assert again is not None and again.stamp_ms is not None

        engine.hang_up().result(10)
        assert rec.state is CallState.ENDED
    finally:
        engine.stop(15)

    # --- stop() leaves no thread behind -------------------------------------------------------
    leftover = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    assert leftover == [], [t.name for t in leftover]
    assert not engine.running
    assert "Traceback" not in log.read_text(errors="replace")
    # the applicant exits cleanly on SIGTERM
    last = applicant_procs[-1]
    last.send_signal(signal.SIGTERM)
    try:
        status = last.wait(15)
    except subprocess.TimeoutExpired:
        last.send_signal(signal.SIGUSR1)  # faulthandler: dump its stacks into the log
        time.sleep(1)
        tail = log.read_text(errors="replace")[-8000:]
        raise AssertionError("applicant did not exit:\n" + tail) from None
    assert status == 0


def test_wrong_token_reports_unauthorized(desk_server_shared: Any) -> None:
    rec = Recorder()
    engine = MediaEngine(rec, camera=None, microphone=None)
    engine.start()
    try:
        engine.start_call(desk_server_shared.base_url, "not-a-token",
                          "00000000-0000-0000-0000-000000000000").result(15)
        wait_for(lambda: EngineErrorCode.UNAUTHORIZED in rec.errors, 15, "unauthorized")
        wait_for(lambda: rec.state is CallState.ENDED, 15, "ENDED")
    finally:
        engine.stop(10)
    assert not engine.running
