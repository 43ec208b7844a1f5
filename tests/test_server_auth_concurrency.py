"""Accounts under pressure: lockout with parallel attempts, the absolute sign-in lifetime,
revocation, and sockets closed at sign-out, disabling and expiry (real service processes)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
import pytest
import requests

from server.store import Store
from tests.fixtures.desk import DeskServer

pytestmark = pytest.mark.timeout(180)


def _post_login(desk: DeskServer, username: str, password: str, code: str) -> int:
    # one session per thread: requests.Session is not thread-safe
    with requests.Session() as http:
        r = http.post(f"{desk.api_url}/auth/login", timeout=60,
                      json={"username": username, "password": password, "totp": code})
        return r.status_code


def _parallel(n: int, fn: Any) -> list[Any]:
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def _codes(desk: DeskServer, username: str) -> list[str]:
    """The codes of the three steps the service accepts now (±1 step of drift)."""
    totp = pyotp.TOTP(desk.operator(username)["totp_secret"])
    step = totp.timecode(desk.server_now())
    return [totp.generate_otp(s) for s in (step - 1, step, step + 1)]


def test_fifteen_parallel_wrong_passwords_lock_and_the_right_one_is_refused(
        desk_server: DeskServer) -> None:
    desk = desk_server
    statuses = _parallel(15, lambda i: _post_login(desk, "operatore1", f"wrong-{i}", "000000"))
    # every failure is counted once: four answers 401, the fifth locks, the rest see the lock
    assert statuses.count(401) == 4, statuses
    assert statuses.count(423) == 11, statuses
    pw = desk.operator("operatore1")["password"]
    r = desk.api("POST", "/auth/login", json={"username": "operatore1", "password": pw,
                                              "totp": desk.totp("operatore1")})
    assert r.status_code == 423 and r.json()["error"] == "account_locked"


def test_parallel_right_passwords_after_the_lock_none_succeeds(desk_server: DeskServer) -> None:
    desk = desk_server
    for i in range(5):
        desk.api("POST", "/auth/login", json={"username": "partner2", "password": f"x{i}",
                                              "totp": "000000"})
    pw = desk.operator("partner2")["password"]
    codes = _codes(desk, "partner2")
    statuses = _parallel(9, lambda i: _post_login(desk, "partner2", pw, codes[i % 3]))
    assert statuses == [423] * 9


def test_a_right_password_racing_wrong_ones_never_clears_their_lock(
        desk_server: DeskServer) -> None:
    desk = desk_server
    pw = desk.operator("operatore2")["password"]
    code = _codes(desk, "operatore2")[1]

    def attempt(i: int) -> int:
        if i == 7:  # in the middle of the wrong ones, all in flight at once
            return _post_login(desk, "operatore2", pw, code)
        return _post_login(desk, "operatore2", f"wrong-{i}", "000000")

    statuses = _parallel(16, attempt)
    assert statuses[7] in (200, 423)
    # whenever the right one landed, at least five failures came after any reset: locked
    r = desk.api("POST", "/auth/login", json={"username": "operatore2", "password": pw,
                                              "totp": _codes(desk, "operatore2")[2]})
    assert r.status_code == 423, (statuses, r.text)


def test_store_counts_parallel_failures_exactly_once_and_a_lock_beats_success(
        tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}", migrate=True)
    try:
        now = datetime.now(UTC)
        op = store.create_operator("conteggio", "C", "operator", "x", now, totp_secret="v1:x")
        results = _parallel(12, lambda i: store.login_failure(op.id, "password", now, 5,
                                                              timedelta(minutes=15)))
        assert results.count(None) == 4
        until = now + timedelta(minutes=15)
        assert all(r == until for r in results if r is not None)
        # a success checked after the lock was set is refused and leaves the lock in place
        assert store.login_success(op.id, 100, now) == (False, until)
        fresh = store.operator(op.id)
        assert fresh is not None and fresh.locked_until == until and fresh.last_totp_step == 0
        # once the lock is over, the same step signs in
        assert store.login_success(op.id, 100, until + timedelta(seconds=1)) == (True, None)
    finally:
        store.close()


# --- the sign-in's absolute lifetime ---------------------------------------------------------

def _refresh(desk: DeskServer, token: str) -> requests.Response:
    return desk.api("POST", "/auth/refresh", json={"refresh_token": token})


def test_refreshing_never_extends_a_sign_in_past_12_hours(desk_server: DeskServer) -> None:
    desk = desk_server
    first = desk.login("formatore1")
    end = first["session_expires_at"]
    token = first["refresh_token"]
    for hours in (4, 4, 3.9):  # 11 h 54 min after the login: still the same sign-in
        desk.advance_clock(hours * 3600)
        r = _refresh(desk, token)
        assert r.status_code == 200, r.text
        token = r.json()["refresh_token"]
        assert r.json()["session_expires_at"] == end
    last = r.json()
    assert 0 < last["expires_in"] <= 6 * 60  # the access token ends with the sign-in
    desk.advance_clock(7 * 60)
    r = _refresh(desk, token)
    assert r.status_code == 401 and r.json()["error"] == "session_expired"
    hdr = {"Authorization": f"Bearer {last['access_token']}"}
    assert desk.api("GET", "/auth/me", headers=hdr).status_code == 401
    # a new sign-in starts a new 12 hours
    again = desk.login("formatore1")
    assert again["session_expires_at"] > end


def test_logout_and_reuse_revoke_the_family(desk_server: DeskServer) -> None:
    desk = desk_server
    one = desk.login("operatore1")
    hdr = {"Authorization": f"Bearer {one['access_token']}"}
    assert desk.api("POST", "/auth/logout", headers=hdr).status_code == 200
    r = _refresh(desk, one["refresh_token"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_refresh_token"
    two = desk.login("operatore1")
    rotated = _refresh(desk, two["refresh_token"]).json()
    # the rotated token presented again (a thief, or a replay): the whole sign-in ends
    assert _refresh(desk, two["refresh_token"]).status_code == 401
    assert _refresh(desk, rotated["refresh_token"]).status_code == 401
    assert desk.api("GET", "/auth/me", headers={
        "Authorization": f"Bearer {rotated['access_token']}"}).status_code == 401


# --- sockets close when the sign-in ends ----------------------------------------------------

async def _socket(http: aiohttp.ClientSession, desk: DeskServer,
                  token: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(f"{desk.ws_url}/ws/operator",
                               headers={"Authorization": f"Bearer {token}"})
    await ws.send_json({"type": "subscribe_queue"})
    msg = await ws.receive(timeout=5)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return ws


async def _closed(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> tuple[int | None, str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"socket still open after {timeout} s")
        msg = await ws.receive(timeout=left)
        if msg.type == aiohttp.WSMsgType.CLOSE:
            return msg.data, str(msg.extra or "")
        if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING,
                        aiohttp.WSMsgType.ERROR):
            raise AssertionError(f"socket ended without a close frame: {msg}")


async def test_logout_closes_the_operator_socket_within_a_second(desk_server: DeskServer
                                                                   ) -> None:
    desk = desk_server
    data = await asyncio.to_thread(desk.login, "operatore1")
    other = await asyncio.to_thread(desk.login, "operatore1")  # another sign-in, same user
    async with aiohttp.ClientSession() as http:
        ws = await _socket(http, desk, data["access_token"])
        ws_other = await _socket(http, desk, other["access_token"])
        r = await asyncio.to_thread(desk.api, "POST", "/auth/logout", headers={
            "Authorization": f"Bearer {data['access_token']}"})
        assert r.status_code == 200
        code, reason = await _closed(ws, 1.0)
        assert code == 4401 and reason == "signed out"
        assert not ws_other.closed  # only that sign-in's sockets
        await ws_other.close()


async def test_disabling_closes_the_operator_socket_within_a_second(desk_server: DeskServer
                                                                      ) -> None:
    desk = desk_server
    op_id = desk.operator("operatore2")["id"]
    token = await asyncio.to_thread(desk.token, "operatore2")
    await asyncio.to_thread(desk.token, "admin1")
    async with aiohttp.ClientSession() as http:
        ws = await _socket(http, desk, token)
        r = await asyncio.to_thread(desk.api, "POST", f"/operators/{op_id}/disable", "admin1")
        assert r.status_code == 200, r.text
        code, reason = await _closed(ws, 1.0)
        assert code == 4401 and reason == "account disabled"


async def test_the_socket_closes_when_the_sign_in_expires(desk_server: DeskServer) -> None:
    desk = desk_server
    data = await asyncio.to_thread(desk.login, "supervisore1")
    async with aiohttp.ClientSession() as http:
        ws = await _socket(http, desk, data["access_token"])
        await asyncio.to_thread(desk.advance_clock, 12 * 3600 + 1)
        code, reason = await _closed(ws, 3.0)
        assert code == 4401 and reason == "session expired"
