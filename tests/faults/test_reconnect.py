"""Reconnection without a give-up (issue 13, "Hostile input and faults").

* The backoff schedule: 0.5 s doubling to a 15 s cap, ±20 % jitter, no attempt limit.
* The media engine's operator socket against a small in-process desk: reopened for as long as
  the call is open (more attempts than the old limit of 5), and given up at once when the desk
  refuses the sign-in (4401 closes do not loop for ever).
* End to end (slow): the real desk service, the console's media engine as the operator (REST
  and signalling through a relay that can be cut), the synthetic applicant in a call recorded by
  the session evidence. The operator's network is cut for 30 s: the engine notices, keeps
  retrying past 30 s, reconnects by itself when the network is back, the desk re-pairs the
  applicant, a new offer makes a new peer connection, frames flow again; the outage was
  reported (reconnecting since T, then connected) and the recording has a gap marker over it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from media.api import CallState, EngineErrorCode, LinkEvent, LinkPhase
from media.backoff import Backoff
from media.engine import MediaEngine

REPO = Path(__file__).resolve().parents[2]
OUTAGE_S = 30.0


class Events:
    """The engine's listener: remembers states, errors and link events with their times."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.states: list[tuple[float, CallState]] = []
        self.errors: list[EngineErrorCode] = []
        self.links: list[tuple[float, LinkEvent]] = []
        self.frames = 0

    def on_call_state(self, state: CallState) -> None:
        with self.lock:
            self.states.append((time.monotonic(), state))

    def on_quality(self, report: Any) -> None:
        pass

    def on_message(self, message: dict[str, Any]) -> None:
        pass

    def on_remote_frame(self) -> None:
        with self.lock:
            self.frames += 1

    def on_error(self, code: EngineErrorCode) -> None:
        with self.lock:
            self.errors.append(code)

    def on_link(self, event: LinkEvent) -> None:
        with self.lock:
            self.links.append((time.monotonic(), event))

    def link(self, phase: LinkPhase, after: float = 0.0) -> LinkEvent | None:
        with self.lock:
            return next((e for t, e in self.links if e.phase is phase and t >= after), None)

    def state_after(self, state: CallState, after: float) -> float | None:
        with self.lock:
            return next((t for t, s in self.states if s is state and t >= after), None)


def wait_for(cond: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---------------------------------------------------------------- the schedule -------------
def test_backoff_schedule_is_capped_jittered_and_unlimited() -> None:
    b = Backoff()
    assert (b.initial_s, b.factor, b.cap_s, b.jitter) == (0.5, 2.0, 15.0, 0.2)
    assert [b.base(n) for n in range(1, 9)] == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0]
    assert b.base(10_000) == 15.0  # no overflow, no end: attempt ten thousand still has a delay
    rng = random.Random(7)
    delays = [b.delay(n, rng) for n in range(1, 2001)]
    for n, d in enumerate(delays, start=1):
        assert 0.8 * b.base(n) <= d <= 1.2 * b.base(n)
    assert max(delays) <= b.longest_s == pytest.approx(18.0)
    capped = delays[10:]
    assert min(capped) < 13.0 and max(capped) > 17.0  # really spread over ±20 %
    assert len({round(d, 6) for d in capped}) > 1900  # consoles do not retry in step
    it = b.delays(random.Random(1))
    many = [next(it) for _ in range(500)]  # a generator that never runs out
    assert len(many) == 500 and all(12.0 <= d <= 18.0 for d in many[10:])
    # the time to the cap: 0.5 + 1 + 2 + 4 + 8 = 15.5 s, then a try every 15 s (±20 %)
    assert sum(b.base(n) for n in range(1, 6)) == 15.5
    with pytest.raises(ValueError):
        Backoff(initial_s=0)
    with pytest.raises(ValueError):
        Backoff(jitter=1.0)


# ---------------------------------------------------------------- a small desk ------------
class MiniDesk:
    """An operator socket endpoint in a thread: refuses connections while ``down`` (HTTP 503),
    closes with ``close_code`` right after the handshake when set, else stays open."""

    def __init__(self) -> None:
        self.down = False
        self.close_code: int | None = None
        self.attempts: list[float] = []
        self.opened = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._main, name="mini-desk", daemon=True)
        self._ready = threading.Event()
        self._sockets: set[web.WebSocketResponse] = set()

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        self.attempts.append(time.monotonic())
        if self.down:
            return web.Response(status=503)
        ws = web.WebSocketResponse(heartbeat=2.0)
        await ws.prepare(request)
        self.opened += 1
        if self.close_code is not None:
            await ws.close(code=self.close_code, message=b"unauthorized")
            return ws
        self._sockets.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            self._sockets.discard(ws)
        return ws

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        app = web.Application()
        app.router.add_get("/ws/operator", self._ws)
        self._runner = web.AppRunner(app)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def start(self) -> MiniDesk:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def drop_all(self) -> None:
        async def drop() -> None:
            for ws in list(self._sockets):
                await ws.close(code=1011, message=b"gone")

        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(drop(), self._loop).result(5)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def mini_desk() -> Iterator[MiniDesk]:
    desk = MiniDesk().start()
    yield desk
    desk.stop()


FAST = Backoff(initial_s=0.05, cap_s=0.2)


def test_socket_reopened_for_as_long_as_the_call_is_open(mini_desk: MiniDesk) -> None:
    events = Events()
    engine = MediaEngine(events, camera=None, microphone=None, backoff=FAST,
                         camera_size=(160, 90), camera_fps=5)
    engine.start()
    tokens: list[bool] = []

    def provider(refused: bool) -> str:
        tokens.append(refused)
        return "token-2"

    try:
        engine.start_call(mini_desk.url, "token-1", "sid", token_provider=provider).result(15)
        mini_desk.down = True
        dropped_at = time.monotonic()
        mini_desk.drop_all()
        # far more attempts than the old limit of 5 (given up 11.5 s in), and still going
        wait_for(lambda: len(mini_desk.attempts) >= 15, 15, "15 reconnection attempts")
        assert events.link(LinkPhase.RECONNECTING, dropped_at) is not None
        outage = engine.outage
        assert outage is not None and outage.phase is LinkPhase.RECONNECTING
        assert outage.attempt >= 15 and outage.reason == "signalling_lost"
        assert abs(outage.since - time.time()) < 30
        gaps = [b - a for a, b in zip(mini_desk.attempts, mini_desk.attempts[1:], strict=False)]
        assert max(gaps[3:]) < 0.2 * 1.2 + 0.5  # capped (plus the time an attempt takes)
        assert engine.call_state is not CallState.ENDED
        back_at = time.monotonic()
        mini_desk.down = False
        wait_for(lambda: events.link(LinkPhase.CONNECTED, back_at), 10, "connected again")
        done = events.link(LinkPhase.CONNECTED, back_at)
        assert done is not None and done.until is not None and done.since < done.until
        assert done.since == outage.since  # the same outage, from its start to its end
        assert done.duration_s is not None and done.duration_s > 0
        assert engine.outage is None
        assert tokens and not any(tokens)  # a fresh token each time, none refused
        # nothing else ends the call: the errors say what happened, not a give-up
        assert EngineErrorCode.UNAUTHORIZED not in events.errors
        engine.hang_up().result(10)
    finally:
        engine.stop(10)


def test_refused_sign_in_stops_the_retries(mini_desk: MiniDesk) -> None:
    """4401 after the handshake: the provider refreshes; refused again and again (3 times in a
    row) the engine stops, says unauthorized and ends the call. A provider that says the
    sign-in is gone (PermissionError) stops it at once."""
    events = Events()
    engine = MediaEngine(events, camera=None, microphone=None, backoff=FAST,
                         camera_size=(160, 90), camera_fps=5)
    engine.start()
    asked: list[bool] = []
    try:
        engine.start_call(mini_desk.url, "token-1", "sid",
                          token_provider=lambda refused: asked.append(refused) or "t").result(15)
        mini_desk.close_code = 4401
        mini_desk.drop_all()
        wait_for(lambda: engine.call_state is CallState.ENDED, 10, "the call ended")
        revoked = events.link(LinkPhase.REVOKED)
        assert revoked is not None and revoked.until is not None
        assert EngineErrorCode.UNAUTHORIZED in events.errors
        assert True in asked  # the refused token was refreshed before giving up
        attempts = len(mini_desk.attempts)
        time.sleep(1.0)
        assert len(mini_desk.attempts) == attempts  # and then no more attempts at all
        assert attempts <= 4

        # a provider that knows the sign-in is revoked: no attempt after it said so
        mini_desk.close_code = None
        events2 = Events()
        engine.set_listener(events2)

        def gone(refused: bool) -> str:
            raise PermissionError("signed out")

        engine.start_call(mini_desk.url, "token-1", "sid", token_provider=gone).result(15)
        before = len(mini_desk.attempts)
        mini_desk.drop_all()
        wait_for(lambda: engine.call_state is CallState.ENDED, 10, "the call ended (revoked)")
        assert events2.link(LinkPhase.REVOKED) is not None
        time.sleep(0.5)
        assert len(mini_desk.attempts) == before
    finally:
        engine.stop(10)


def test_signed_out_on_the_desk_stops_the_reconnection(desk_server_shared: Any) -> None:
    """The real desk: the sign-in is revoked on the service (signed out elsewhere) while the
    call is open. The socket closes 4401, the engine asks DeskClient.socket_token for a fresh
    token, the refresh is refused: no loop, the call ends, the console is told to sign in."""
    import requests

    from console.client import DeskClient

    desk = desk_server_shared
    started = desk.start_video_session("operatore1")
    lost: list[bool] = []
    client = DeskClient(desk.base_url, on_auth_lost=lambda: lost.append(True))
    client.login("operatore1", desk.operator("operatore1")["password"],
                 desk._fresh_code("operatore1"))
    # the engine's token provider: the token as it is while valid, refreshed when refused or
    # about to expire (a REST call: the desk API comes back with the socket)
    first = client.access_token()
    assert client.socket_token() == first
    second = client.socket_token(refused=True)
    assert second not in (first, "")
    assert client._tokens is not None
    client._tokens.expires_at = time.monotonic() + 30  # expires within the minute
    third = client.socket_token()
    assert third not in (first, second)
    assert client.socket_token() == third
    events = Events()
    engine = MediaEngine(events, camera=None, microphone=None, camera_size=(160, 90),
                         camera_fps=5)
    engine.start()
    try:
        engine.start_call(client.origin, client.access_token(), started["session_id"],
                          token_provider=client.socket_token).result(15)
        assert engine.call_state is not CallState.ENDED
        out = requests.post(f"{desk.api_url}/auth/logout", timeout=10,
                            headers={"Authorization": f"Bearer {client.access_token()}"})
        assert out.status_code in (200, 204), out.text
        wait_for(lambda: engine.call_state is CallState.ENDED, 15, "the call ended")
        revoked = events.link(LinkPhase.REVOKED)
        assert revoked is not None and revoked.reason == "signalling_lost"
        assert EngineErrorCode.UNAUTHORIZED in events.errors
        assert lost == [True]  # DeskClient.on_auth_lost: the UI asks for a new sign-in
        assert engine.outage is None
        with pytest.raises(PermissionError):
            client.socket_token()
    finally:
        engine.stop(10)
        client.close()


# ---------------------------------------------------------------- end to end --------------
def start_applicant(base_url: str, join_token: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SYNTHETIC_JOIN_TOKEN": join_token, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "demo.applicant", "--desk", base_url, "--width", "800",
           "--height", "450", "--fps", "15", "--flash-period", "0"]
    with log.open("ab") as fh:
        return subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=fh, stderr=fh)


@pytest.mark.slow
def test_network_cut_for_30_s_then_the_call_resumes(tmp_path: Path) -> None:
    from console.client import DeskClient
    from console.evidence.session import SessionEvidence
    from console.script import script_for
    from console.session import Session
    from tests.fixtures.desk import start_desk_server
    from tests.fixtures.netcut import NetCut

    desk = start_desk_server(tmp_path / "desk")
    net = NetCut(desk.port).start()
    applicant: subprocess.Popen[bytes] | None = None
    engine: MediaEngine | None = None
    client: DeskClient | None = None
    log = tmp_path / "applicant.log"
    try:
        rossi = desk.seed_request("ROSSI")
        applicant = start_applicant(desk.base_url, rossi["join_token"], log)
        wait_for(lambda: desk.api("GET", "/queue", username="operatore1").json()["length"] == 1,
                 60, "the applicant in the queue")

        # the operator: the console's REST client and media engine, both through the relay
        client = DeskClient(net.url)
        client.login("operatore1", desk.operator("operatore1")["password"],
                     desk._fresh_code("operatore1"))
        assignment = client.take_next()
        assert assignment is not None and assignment.request.id == rossi["id"]
        session = Session(assignment.request.id, script_for(assignment.request.product.value),
                          session_id=assignment.session_id)
        session.start()
        events = Events()
        engine = MediaEngine(events, camera=None, microphone=None, camera_size=(320, 180),
                             camera_fps=10)
        evidence = SessionEvidence(
            tmp_path / "console", session, operator=client.operator,
            product=assignment.request.product.value, engine=engine,
            recorder_options={"video_sizes": {"applicant_video": (640, 360),
                                              "operator_video": (320, 180)}, "fps": 15})
        engine.start()
        engine.start_call(client.origin, client.access_token(), assignment.session_id,
                          ice_servers=[], verify=client.verify,
                          token_provider=client.socket_token).result(15)
        wait_for(lambda: engine.call_state is CallState.CONNECTED, 40, "CONNECTED")
        wait_for(lambda: engine.frames_received >= 15, 30, "frames before the cut")
        first_generation = engine.peer_generation

        # --- the operator's network goes away for 30 s ---------------------------------------
        cut_at, cut_wall = time.monotonic(), time.time()
        net.cut()
        wait_for(lambda: events.link(LinkPhase.RECONNECTING, cut_at), 15, "reconnecting")
        first = events.link(LinkPhase.RECONNECTING, cut_at)
        assert first is not None
        assert cut_wall - 1 <= first.since <= cut_wall + 10  # "reconnecting since" ~ the cut
        wait_for(lambda: events.state_after(CallState.LOST, cut_at), 15, "the media path lost")
        time.sleep(max(0.0, cut_at + OUTAGE_S - time.monotonic()))

        # still retrying after 30 s: past the old limit (5 tries, given up ~11.5 s in)
        assert engine.outage is not None and engine.outage.since == first.since
        with events.lock:
            attempts = [e.attempt for _, e in events.links if e.phase is LinkPhase.RECONNECTING]
        assert max(attempts) >= 6, attempts
        assert [t for t in net.refused if t - cut_at > 15.0], net.refused  # tries hit the wire
        assert events.link(LinkPhase.CONNECTED, cut_at) is None
        assert engine.call_state is not CallState.ENDED

        # --- the network is back: reconnects by itself, new offer, media again ---------------
        back_at, back_wall = time.monotonic(), time.time()
        net.restore()
        frames_before = engine.frames_received
        wait_for(lambda: events.link(LinkPhase.CONNECTED, back_at), 45, "connected again")
        done = events.link(LinkPhase.CONNECTED, back_at)
        assert done is not None and done.until is not None
        assert done.since == first.since and done.until >= back_wall
        assert events.state_after(CallState.CONNECTED, back_at) is not None
        assert engine.peer_generation > first_generation  # a new RTCPeerConnection
        wait_for(lambda: engine.frames_received >= frames_before + 15, 30, "frames after")
        assert engine.latest_remote_frame() is not None
        # the desk kept the session the operator's: the new offer was relayed, not refused
        assert EngineErrorCode.NOT_YOUR_SESSION not in events.errors
        assert EngineErrorCode.UNKNOWN_SESSION not in events.errors
        assert EngineErrorCode.UNAUTHORIZED not in events.errors
        me = client.me()
        assert me.username == "operatore1"

        # --- the recording marks the gap -----------------------------------------------------
        rec = evidence.recorder
        assert rec is not None
        cut_s, back_s = rec.offset(cut_at), rec.offset(back_at)
        engine.hang_up().result(10)
        result = evidence.finish(None, upload=False)
        timeline = [json.loads(line) for line in
                    (result.folder / "recording.timeline.jsonl").read_text().splitlines()]
        gaps = [m for m in timeline if m.get("kind") == "gap" and m.get("label") == "connection"]
        assert len(gaps) == 1, gaps
        gap = gaps[0]["data"]
        assert gap["state"] == "restored" and gap["reason"] in ("link_lost", "signalling_lost")
        assert cut_s - 1 <= gap["from_s"] <= cut_s + 10, (gap, cut_s)
        assert gap["to_s"] >= back_s, (gap, back_s)
        assert gap["outage_s"] >= OUTAGE_S - 10
        # the applicant's video has its own media gap over the outage (recorder)
        media_gaps = [m["data"] for m in timeline
                      if m.get("kind") == "gap" and m.get("label") == "applicant_video"]
        assert any(g["from_s"] <= cut_s + 10 and g["to_s"] >= back_s for g in media_gaps)
        audit = [json.loads(line) for line in
                 (result.folder / "audit.jsonl").read_text().splitlines()]
        conn = [e["data"]["state"] for e in audit if e.get("event") == "connection"]
        assert conn == ["lost", "restored"], conn
    finally:
        if engine is not None:
            engine.stop(15)
        if client is not None:
            client.close()
        if applicant is not None and applicant.poll() is None:
            applicant.send_signal(signal.SIGTERM)
            try:
                applicant.wait(15)
            except subprocess.TimeoutExpired:
                applicant.kill()
                applicant.wait(5)
        net.stop()
        desk.stop()
    assert "Traceback" not in log.read_text(errors="replace")


# ---------------------------------------------------------------- what the operator sees ---
def test_session_window_shows_reconnecting_since_then_connected(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from console.flows.adapters import EngineEvents, Workflow
    from console.models import (
        Applicant,
        Assignment,
        DocumentType,
        IdentityDocument,
        Product,
        RecognitionRequest,
        RequestState,
    )
    from console.settings_store import SettingsStore
    from ui.controller import ConsoleController
    from ui.session_window import SessionWindow

    monkeypatch.setenv("RECOGNITION_CONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("RECOGNITION_CONSOLE_DATA_DIR", str(tmp_path / "data"))
    applicant = Applicant(surname="ROSSI", given_names="MARIA", codice_fiscale="RSSMRA85D52H501P",
                          birth_date=date(1985, 4, 12), birth_place="ROMA (H501)", sex="F",
                          email="maria.rossi@example.test", mobile="+393331234567")
    doc = IdentityDocument(DocumentType.IDENTITY_CARD, "CA00000AA", "COMUNE DI ROMA",
                           date(2031, 4, 12))
    request = RecognitionRequest("req-1", RequestState.IN_CALL, Product.SPID_PERSONAL,
                                 applicant, doc)
    assignment = Assignment("sess-1234abcd", request)
    c = ConsoleController(SettingsStore())
    c.assignment = assignment
    c.session = Workflow.start(assignment, None, "it", tmp_path)
    w = SessionWindow(c)
    qtbot.addWidget(w)
    w.load(assignment)
    w.show()
    engine_side = EngineEvents(c._engine_callback)  # what the media engine thread calls
    try:
        engine_side.on_call_state(CallState.CONNECTED)
        qtbot.waitUntil(lambda: c.call_state == "connected")
        mono = time.monotonic() - 42
        since = time.time() - 42
        at = time.strftime("%H:%M:%S", time.localtime(since))
        outage = LinkEvent(LinkPhase.RECONNECTING, since, mono, "signalling_lost", attempt=3,
                           next_retry_s=4.1)
        engine_side.on_link(outage)
        qtbot.waitUntil(lambda: c.outage_since is not None)
        assert c.outage_since == since
        assert w.call_status.text() == f"Reconnecting since {at}…"
        assert w.banner.isVisible() and at in w.banner.text()
        # the media path dies too meanwhile: the outage stays what is shown
        engine_side.on_call_state(CallState.LOST)
        qtbot.waitUntil(lambda: c.call_state == "lost")
        assert w.call_status.text() == f"Reconnecting since {at}…"
        engine_side.on_call_state(CallState.CONNECTED)
        engine_side.on_link(LinkEvent(LinkPhase.CONNECTED, since, mono, "signalling_lost",
                                      until=time.time(), until_mono=time.monotonic(),
                                      attempt=6))
        qtbot.waitUntil(lambda: c.outage_since is None and c.call_state == "connected")
        assert w.call_status.text() == "Connected"
        assert w.banner.isHidden()
        # the desk refused the sign-in: said so, no "reconnecting" left on screen
        engine_side.on_link(outage)
        engine_side.on_link(LinkEvent(LinkPhase.REVOKED, since, mono, "signalling_lost",
                                      until=time.time(), until_mono=time.monotonic()))
        engine_side.on_call_state(CallState.ENDED)
        qtbot.waitUntil(lambda: c.call_state == "ended")
        assert c.outage_since is None
        assert "since" not in w.call_status.text()
        assert w.banner.isVisible() and "sign" in w.banner.text().lower()
    finally:
        w.stop()
        c.shutdown()
