"""The queue view follows the desk service's pushes (console.queue_feed) against a real desk
service process: a new applicant appears without any polling; a refused sign-in stops the feed;
a vanished service is retried."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import aiohttp

from console.client import DeskClient
from console.models import QueueSnapshot
from console.queue_feed import QueueFeed
from tests.fixtures.desk import DeskServer


def _wait(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _consent(desk: DeskServer, join_token: str, hold: threading.Event) -> threading.Thread:
    """An applicant page that gives consent and stays until ``hold`` is set."""

    async def run() -> None:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{desk.ws_url}/ws/applicant/{join_token}",
                                       origin=desk.base_url)
            await ws.send_json({"type": "consent", "recording": True, "terms": True})
            while not hold.is_set():
                await asyncio.sleep(0.05)
            await ws.close()

    t = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    t.start()
    return t


def test_the_feed_shows_a_new_applicant_and_stops_when_signed_out(desk_server: DeskServer
                                                                  ) -> None:
    client = DeskClient(desk_server.base_url)
    client.login("operatore1", desk_server.operator("operatore1")["password"],
                 desk_server._fresh_code("operatore1"))
    snapshots: list[QueueSnapshot] = []
    states: list[str] = []
    feed = QueueFeed(client.origin, lambda refused: client.socket_token(refused=refused),
                     snapshots.append, states.append)
    feed.start()
    hold = threading.Event()
    try:
        _wait(lambda: feed.state == "live" and snapshots, 10, "the first pushed snapshot")
        req = desk_server.create_request()
        applicant = _consent(desk_server, req["join_token"], hold)

        def shown() -> bool:
            return any(w.request_id == req["id"] for s in snapshots[-3:] for w in s.waiting)

        t0 = time.monotonic()
        _wait(shown, 10, "the new applicant in a pushed snapshot")
        assert time.monotonic() - t0 < 5  # pushed, not found by a poll
        # signed out elsewhere: the socket is refused, the refresh too: the feed stops
        client.logout()
        _wait(lambda: feed.state == "signed_out", 15, "signed_out")
        assert "live" in states
        hold.set()
        applicant.join(5)
    finally:
        hold.set()
        feed.stop()
        client.close()


def test_the_feed_retries_while_the_service_is_away(tmp_path: Any) -> None:
    from tests.fixtures.desk import start_desk_server

    desk = start_desk_server(tmp_path / "desk")
    client = DeskClient(desk.base_url)
    client.login("operatore1", desk.operator("operatore1")["password"],
                 desk._fresh_code("operatore1"))
    feed = QueueFeed(client.origin, lambda refused: client.socket_token(refused=refused),
                     lambda _s: None)
    feed.start()
    try:
        _wait(lambda: feed.state == "live", 10, "live")
        desk.stop()
        _wait(lambda: feed.state == "reconnecting", 10, "reconnecting")
        time.sleep(1.5)
        assert feed.state == "reconnecting"  # no give-up, no crash
    finally:
        feed.stop()
        client.close()


class _HeldRunner:
    """A flow's host that runs work at once but hands its answers back only when told, and
    queues what other threads post: the test picks the order in which they reach the flow."""

    def __init__(self) -> None:
        self.answers: list[tuple[Any, Any]] = []
        self.posted: list[Any] = []
        self.lock = threading.Lock()

    def run(self, work: Any, done: Any = None, failed: Any = None) -> None:
        result = work()
        if done is not None:
            self.answers.append((done, result))

    def post(self, fn: Any) -> None:
        with self.lock:
            self.posted.append(fn)

    def call_later(self, delay_s: float, fn: Any) -> Any:
        return threading.Timer(3600, lambda: None)  # never started: cancel() is a no-op

    def drain_posted(self) -> None:
        with self.lock:
            posted, self.posted = self.posted, []
        for fn in posted:
            fn()


def test_a_rest_answer_older_than_the_feed_does_not_hide_an_applicant(
        desk_server: DeskServer) -> None:
    """The sign-in reads the waiting room once by REST while the feed connects. When that
    answer comes back after the feed's newer snapshot, it must not replace it: the service
    does not re-send an unchanged waiting room, so the applicant would stay hidden."""
    from console.flows.remote import RemoteFlow
    from console.settings_store import SettingsStore

    client = DeskClient(desk_server.base_url)
    client.login("operatore1", desk_server.operator("operatore1")["password"],
                 desk_server._fresh_code("operatore1"))
    runner = _HeldRunner()
    flow = RemoteFlow(SettingsStore(), runner)
    shown: list[QueueSnapshot] = []
    flow.add_listener(lambda name, args: shown.append(args[0]) if name == "queue_updated"
                      else None)
    flow.client = client
    hold = threading.Event()
    applicant = None
    try:
        flow.start_queue_polling()  # the REST read ran: its answer (nobody waiting) is held
        assert len(runner.answers) == 1
        _wait(lambda: runner.posted, 10, "the feed's first snapshot")
        req = desk_server.create_request()
        applicant = _consent(desk_server, req["join_token"], hold)

        def feed_has_applicant() -> bool:
            runner.drain_posted()
            return bool(shown) and any(w.request_id == req["id"] for w in shown[-1].waiting)

        _wait(feed_has_applicant, 10, "the applicant in the feed's snapshot")
        done, stale = runner.answers.pop()
        assert not any(w.request_id == req["id"] for w in stale.waiting)
        done(stale)  # the REST answer arrives last
        assert any(w.request_id == req["id"] for w in shown[-1].waiting)
        # without a feed snapshot in between, a REST answer is shown as before
        flow._queue_feed.state = "reconnecting"  # type: ignore[union-attr]
        flow.refresh_queue()
        done, fresh = runner.answers.pop()
        done(fresh)
        assert shown[-1] is fresh
    finally:
        hold.set()
        flow.stop_queue_polling()
        if applicant is not None:
            applicant.join(5)
        client.close()
