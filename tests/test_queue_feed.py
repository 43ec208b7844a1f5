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
