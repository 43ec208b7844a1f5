"""WebSocket signalling and the waiting room against a real desk service process."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from tests.fixtures.desk import DeskServer

pytestmark = pytest.mark.timeout(120)

SDP_OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
SDP_ANSWER = "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


class Peer:
    """A WebSocket peer that reads all the time (so it answers the service's pings, like a
    browser) and lets the test wait for a message of a given type."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []
        self.inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._pump = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await self.inbox.put(json.loads(msg.data))
            else:
                break
        await self.inbox.put(None)  # closed

    def freeze(self) -> None:
        """Stop reading: the process hangs, pings go unanswered."""
        self._pump.cancel()

    async def expect(self, type_: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for msg in self.seen:
            if msg["type"] == type_ and all(msg.get(k) == v for k, v in match.items()):
                self.seen.remove(msg)
                return msg
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {type_} {match} within {timeout}s; seen {self.seen}")
            try:
                data = await asyncio.wait_for(self.inbox.get(), left)
            except TimeoutError:
                continue
            if data is None:
                await self.inbox.put(None)
                raise AssertionError(f"socket ended ({self.ws.close_code}) waiting for {type_}")
            if data["type"] == type_ and all(data.get(k) == v for k, v in match.items()):
                return data
            self.seen.append(data)

    async def send(self, data: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(data))

    async def closed_with(self, timeout: float = 5.0) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = await asyncio.wait_for(self.inbox.get(), deadline - time.monotonic())
            except TimeoutError:
                break
            if data is None:
                return self.ws.close_code
            self.seen.append(data)
        raise AssertionError("socket not closed")


async def applicant(http: aiohttp.ClientSession, desk: DeskServer, join_token: str,
                    consent: bool = True) -> Peer:
    ws = await http.ws_connect(f"{desk.ws_url}/ws/applicant/{join_token}",
                               origin=desk.base_url)
    peer = Peer(ws)
    welcome = await peer.expect("welcome")
    assert welcome["language"] == "it"
    if consent:
        await peer.send({"type": "consent", "recording": True, "terms": True})
        await peer.expect("queue")
    return peer


async def operator(http: aiohttp.ClientSession, desk: DeskServer, username: str = "operatore1"
                   ) -> Peer:
    ws = await http.ws_connect(f"{desk.ws_url}/ws/operator",
                               headers={"Authorization": f"Bearer {desk.token(username)}"})
    return Peer(ws)


def api(desk: DeskServer, method: str, path: str, username: str | None = "operatore1",
        **kw: Any) -> Any:
    return asyncio.to_thread(desk.api, method, path, username, **kw)


async def decide(desk: DeskServer, req_id: str, decision: str, reason: str,
                 username: str = "operatore1") -> Any:
    return await api(desk, "POST", f"/requests/{req_id}/decision", username, json={
        "decision_id": str(uuid.uuid4()), "decision": decision, "reason_code": reason})


async def test_full_signalling_round(desk_server: DeskServer) -> None:
    desk = desk_server
    maria = desk.seed_request("ROSSI")
    async with aiohttp.ClientSession() as http:
        op = await operator(http, desk)
        await op.send({"type": "subscribe_queue"})
        first_queue = await op.expect("queue")
        assert first_queue["length"] == 0
        app = await applicant(http, desk, maria["join_token"])
        q = await op.expect("queue", length=1)
        assert q["waiting"][0]["request_id"] == maria["id"] and q["waiting"][0]["online"]
        assert "surname" not in json.dumps(q)  # no personal data in the queue feed
        r = await api(desk, "POST", "/queue/next")
        assert r.status_code == 200
        session = r.json()
        assert session["request"]["id"] == maria["id"] and session["applicant_online"]
        sid = session["session_id"]
        assigned = await app.expect("operator_assigned")
        assert assigned["operator"] == "Operatore Uno"
        await op.expect("applicant_joined", session_id=sid)
        await op.send({"type": "offer", "session_id": sid, "sdp": SDP_OFFER})
        offer = await app.expect("offer")
        assert offer["sdp"] == SDP_OFFER
        await app.send({"type": "answer", "sdp": SDP_ANSWER})
        answer = await op.expect("answer", session_id=sid)
        assert answer["sdp"] == SDP_ANSWER
        # the applicant drops and comes back: the operator hears both
        await app.ws.close()
        await op.expect("peer_left", session_id=sid, role="applicant")
        app2 = await applicant(http, desk, maria["join_token"], consent=False)
        await op.expect("applicant_joined", session_id=sid)
        await app2.expect("operator_assigned")
        # an approval needs what the service has not recorded here (tests/test_server_trust.py);
        # a rejection ends the call the same way
        r = await decide(desk, maria["id"], "approved", "ok")
        assert r.status_code == 409 and r.json()["error"] == "approval_refused"
        r = await decide(desk, maria["id"], "rejected", "document_expired")
        assert r.status_code == 200
        ended = await app2.expect("ended")
        assert ended["state"] == "rejected"
        assert await app2.closed_with() == 1000
        await op.ws.close()
    # the link died with the decision
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"{desk.ws_url}/ws/applicant/{maria['join_token']}",
                                   origin=desk.base_url)
        assert await Peer(ws).closed_with() == 4401


async def test_dead_applicant_is_noticed_within_5_seconds(desk_server_shared: DeskServer
                                                          ) -> None:
    desk = desk_server_shared
    req = desk.create_request()
    desk.end_open_session("operatore2")
    async with aiohttp.ClientSession() as http:
        op = await operator(http, desk, "operatore2")
        app = await applicant(http, desk, req["join_token"])
        r = await api(desk, "POST", "/queue/next", "operatore2")
        assert r.status_code == 200, r.text
        sid = r.json()["session_id"]
        await op.expect("applicant_joined", session_id=sid)
        # the applicant's process freezes: it stops reading, so pings go unanswered
        app.freeze()
        frozen_at = time.monotonic()
        msg = await op.expect("peer_left", timeout=8.0, session_id=sid)
        elapsed = time.monotonic() - frozen_at
        assert msg["role"] == "applicant"
        assert elapsed < 5.0, f"peer_left after {elapsed:.1f}s"
        del app
        r = await decide(desk, req["id"], "suspended", "connection_lost", "operatore2")
        assert r.status_code == 200


async def test_operator_leaving_is_told_to_the_applicant(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    req = desk.create_request()
    desk.end_open_session("operatore2")
    async with aiohttp.ClientSession() as http:
        op = await operator(http, desk, "operatore2")
        app = await applicant(http, desk, req["join_token"])
        r = await api(desk, "POST", "/queue/next", "operatore2")
        sid = r.json()["session_id"]
        await op.send({"type": "hangup", "session_id": sid})
        assert (await app.expect("peer_left"))["role"] == "operator"
        await op.ws.close()
        assert (await app.expect("peer_left"))["role"] == "operator"
        r = await decide(desk, req["id"], "suspended", "connection_lost", "operatore2")
        assert r.status_code == 200
        assert (await app.expect("ended"))["state"] == "suspended"
        # suspended → waiting again when the applicant consents anew
        await app.send({"type": "consent", "recording": True, "terms": True})
        await app.expect("queue")
        details = await api(desk, "GET", f"/requests/{req['id']}", "operatore2")
        assert details.json()["state"] == "waiting"
        hist = [(h["from"], h["to"]) for h in details.json()["history"]]
        assert hist[-3:] == [("waiting", "in_call"), ("in_call", "suspended"),
                             ("suspended", "waiting")]
        await app.ws.close()


async def test_random_assignment_reaches_every_applicant(desk_server: DeskServer) -> None:
    """With 3 applicants waiting, 30 draws (each put back) must not always pick the same."""
    desk = desk_server
    reqs = [desk.create_request(n) for n in range(3)]
    counts: Counter[str] = Counter()
    async with aiohttp.ClientSession() as http:
        peers = {r["id"]: await applicant(http, desk, r["join_token"]) for r in reqs}
        for _ in range(30):
            r = await api(desk, "POST", "/queue/next")
            assert r.status_code == 200, r.text
            chosen = r.json()["request"]["id"]
            counts[chosen] += 1
            assert (await decide(desk, chosen, "suspended", "other")).status_code == 200
            await peers[chosen].send({"type": "consent", "recording": True, "terms": True})
            await peers[chosen].expect("ended")
            await asyncio.sleep(0.01)
            for _ in range(50):  # wait until the server has it waiting again
                q = (await api(desk, "GET", "/queue")).json()
                if q["length"] == 3:
                    break
                await asyncio.sleep(0.05)
        for p in peers.values():
            await p.ws.close()
    # P(all 30 on one of 3) = 3 * (1/3)^30 ≈ 1.6e-14; each applicant expected 10 times
    assert len(counts) >= 2, counts
    assert all(c <= 25 for c in counts.values()), counts


async def test_waiting_room_positions_are_sent_and_updated(desk_server: DeskServer) -> None:
    desk = desk_server
    reqs = [desk.create_request(10 + n) for n in range(3)]
    async with aiohttp.ClientSession() as http:
        peers = []
        for r in reqs:
            peers.append(await applicant(http, desk, r["join_token"], consent=False))
            await peers[-1].send({"type": "consent", "recording": True, "terms": True})
            await asyncio.sleep(0.05)  # distinct waiting_since: a stable order
        last = [await p.expect("queue") for p in peers]
        # the server may coalesce; read until the last known position settles
        await asyncio.sleep(0.3)
        for i, p in enumerate(peers):
            for m in p.seen:
                if m["type"] == "queue":
                    last[i] = m
            p.seen = [m for m in p.seen if m["type"] != "queue"]
        assert [m["position"] for m in last] == [1, 2, 3]
        assert last[2]["estimated_wait_s"] >= last[0]["estimated_wait_s"] > 0
        q = (await api(desk, "GET", "/queue")).json()
        assert [w["request_id"] for w in q["waiting"]] == [r["id"] for r in reqs]
        r = await api(desk, "POST", "/queue/next")
        gone = r.json()["request"]["id"]
        gone_at = [r_["id"] for r_ in reqs].index(gone)
        # those behind the one drawn move up by one and are told so
        for i in range(gone_at + 1, 3):
            await peers[i].expect("queue", position=i)
        await peers[gone_at].expect("operator_assigned")
        for p in peers:
            await p.ws.close()


async def test_appointments_are_listed_and_not_drawn_before_due(desk_server: DeskServer
                                                                ) -> None:
    desk = desk_server
    # independent of the hour the test runs at: on the service's clock, a day whose 08:00 is
    # ahead (tomorrow's), then an appointment at 10:00 of that day
    now = desk.server_now()
    morning = (now + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    desk.advance_clock((morning - now).total_seconds())
    appt = morning + timedelta(hours=2)
    seeded = desk.create_request(appointment_at=appt.isoformat())
    q = desk.api("GET", "/queue", "operatore1").json()
    assert seeded["id"] in [a["request_id"] for a in q["appointments_today"]]
    listed = next(a for a in q["appointments_today"] if a["request_id"] == seeded["id"])
    assert listed["booking_code"] == seeded["booking_code"]
    async with aiohttp.ClientSession() as http:
        early = await applicant(http, desk, seeded["join_token"])
        # waiting, but the appointment is not due: nobody to draw
        r = await api(desk, "POST", "/queue/next")
        assert r.status_code == 204
        desk.advance_clock(2 * 3600 + 60)
        r = await api(desk, "POST", "/queue/next")
        assert r.status_code == 200 and r.json()["request"]["id"] == seeded["id"]
        await early.ws.close()


async def test_origin_is_checked(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    req = desk.create_request()
    async with aiohttp.ClientSession() as http:
        for path in (f"/ws/applicant/{req['join_token']}", "/ws/operator"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as err:
                await http.ws_connect(f"{desk.ws_url}{path}",
                                      headers={"Origin": "https://evil.example"})
            assert err.value.status == 403
        ok = await http.ws_connect(f"{desk.ws_url}/ws/applicant/{req['join_token']}",
                                   headers={"Origin": desk.base_url})
        assert (await Peer(ok).expect("welcome"))["state"] == "registered"
        await ok.close()


@pytest.mark.parametrize("frame", [
    "not json",
    "[1, 2, 3]",
    '{"no_type": 1}',
    '{"type": "launch_missiles"}',
    '{"type": "answer", "sdp": "hello"}',
    '{"type": "answer"}',
    '{"type": "consent", "recording": "yes", "terms": true}',
    '{"type": "answer", "sdp": "v=0\\r\\n' + "a" * 70000 + '"}',
    "bytes",
])
async def test_malformed_applicant_frames_close_4400(desk_server_shared: DeskServer,
                                                     frame: str) -> None:
    desk = desk_server_shared
    req = desk.create_request()
    async with aiohttp.ClientSession() as http:
        peer = await applicant(http, desk, req["join_token"], consent=False)
        if frame == "bytes":
            await peer.ws.send_bytes(b"\x00\x01binary")
        else:
            await peer.ws.send_str(frame)
        code = await peer.closed_with()
        assert code in (4400, 1009), code  # 1009: over the frame size limit
        # the service lives on and the request is intact
        again = await applicant(http, desk, req["join_token"])
        await again.ws.close()
    details = desk.api("GET", f"/requests/{req['id']}", "supervisore1").json()
    assert details["state"] == "waiting"
    assert details["applicant"]["codice_fiscale"]


@pytest.mark.parametrize("frame", [
    '{"type": "offer", "session_id": "x", "sdp": "v=0\\r\\n"}',
    '{"type": "offer", "session_id": "00000000-0000-0000-0000-000000000000", "sdp": "x"}',
    '{"type": "subscribe_queue", "extra": 1}',
    "{",
])
async def test_malformed_operator_frames_close_4400(desk_server_shared: DeskServer,
                                                    frame: str) -> None:
    desk = desk_server_shared
    async with aiohttp.ClientSession() as http:
        op = await operator(http, desk, "supervisore1")
        await op.ws.send_str(frame)
        assert await op.closed_with() == 4400
    assert desk.api("GET", "/health").json()["status"] == "ok"


async def test_unknown_session_is_an_error_message_not_a_close(desk_server_shared: DeskServer
                                                               ) -> None:
    desk = desk_server_shared
    async with aiohttp.ClientSession() as http:
        op = await operator(http, desk, "operatore2")
        sid = str(uuid.uuid4())
        await op.send({"type": "offer", "session_id": sid, "sdp": SDP_OFFER})
        err = await op.expect("error")
        assert err["code"] == "unknown_session" and err["session_id"] == sid
        await op.ws.close()


async def test_bad_credentials_close_4401(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"{desk.ws_url}/ws/operator",
                                   headers={"Authorization": "Bearer not-a-token"})
        assert await Peer(ws).closed_with() == 4401
        ws = await http.ws_connect(f"{desk.ws_url}/ws/operator?token={desk.token('operatore1')}")
        await ws.send_str(json.dumps({"type": "subscribe_queue"}))
        assert (await Peer(ws).expect("queue"))["type"] == "queue"
        await ws.close()
        ws = await http.ws_connect(f"{desk.ws_url}/ws/applicant/{'x' * 43}",
                                   origin=desk.base_url)
        assert await Peer(ws).closed_with() == 4401


async def test_second_applicant_connection_replaces_the_first(desk_server_shared: DeskServer
                                                              ) -> None:
    desk = desk_server_shared
    req = desk.create_request()
    async with aiohttp.ClientSession() as http:
        first = await applicant(http, desk, req["join_token"], consent=False)
        second = await applicant(http, desk, req["join_token"], consent=False)
        assert await first.closed_with() == 4409
        await second.send({"type": "device_check", "ok": True, "details": {"camera": "ok"}})
        await second.send({"type": "consent", "recording": True, "terms": True})
        await second.expect("queue")
        await second.ws.close()


async def test_new_join_link_revokes_the_old_one(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    req = desk.create_request()
    async with aiohttp.ClientSession() as http:
        live = await applicant(http, desk, req["join_token"], consent=False)
        r = await api(desk, "POST", f"/requests/{req['id']}/join-link", "supervisore1")
        assert r.status_code == 201
        fresh = r.json()
        assert fresh["join_token"] != req["join_token"]
        assert fresh["join_url"].startswith(desk.base_url + "/join/")
        assert await live.closed_with() == 4401
        ws = await http.ws_connect(f"{desk.ws_url}/ws/applicant/{req['join_token']}",
                                   origin=desk.base_url)
        assert await Peer(ws).closed_with() == 4401
        ok = await applicant(http, desk, fresh["join_token"], consent=False)
        await ok.ws.close()
    page_old = desk.http.get(f"{desk.base_url}/join/{req['join_token']}", timeout=10)
    page_new = desk.http.get(fresh["join_url"], timeout=10)
    assert page_old.status_code == 410
    assert page_new.status_code == 200 and "text/html" in page_new.headers["Content-Type"]
    assert page_new.headers["Referrer-Policy"] == "no-referrer"
