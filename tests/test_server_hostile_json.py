"""Hostile clients, part 2: deeply nested or oversized JSON over HTTP and WebSocket is refused
with a 4xx or a close code and a reason, never a 500 nor a dead connection handler."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from server.web_util import MAX_JSON_DEPTH, JsonTooDeep, json_too_deep, loads_limited
from tests.fixtures.desk import DeskServer

pytestmark = pytest.mark.timeout(120)


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("body", [
    "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
    _nested(MAX_JSON_DEPTH + 1),
    "[" * 200_000,  # far past the interpreter's recursion limit, and unterminated
    '{"applicant": ' + "[" * 100_000 + "]" * 100_000 + "}",
])
def test_too_deep_json_is_a_400(desk_server_shared: DeskServer, body: str) -> None:
    desk = desk_server_shared
    for path in ("/requests", "/auth/login"):
        r = desk.api("POST", path, data=body.encode(),
                     headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (path, r.status_code, r.text[:200])
        assert r.json()["error"] == "json_too_deep"
    assert desk.api("GET", "/health").status_code == 200


def test_brackets_inside_strings_and_shallow_bodies_pass(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    body = '{"username": "' + "[{" * 1000 + '\\"", "password": "x", "totp": "1"}'
    r = desk.api("POST", "/auth/login", data=body.encode(),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 422  # reached validation: the username is too long
    r = desk.api("POST", "/requests", data=_nested(MAX_JSON_DEPTH).encode(),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 422


def test_the_depth_scan() -> None:
    assert not json_too_deep('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')
    assert not json_too_deep('["\\\\", ' + "[" * 31 + "]" * 31 + "]")
    assert json_too_deep('["\\\\", ' + "[" * 32 + "]" * 32 + "]")
    assert json_too_deep("[" * 33)
    with pytest.raises(JsonTooDeep):
        loads_limited("[" * 1_000_000)
    assert loads_limited('{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}


async def _close_of(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0
                    ) -> tuple[int, str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg = await ws.receive(timeout=max(0.1, deadline - loop.time()))
        if msg.type == aiohttp.WSMsgType.CLOSE:
            return int(msg.data), str(msg.extra or "")
        if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            raise AssertionError(f"no close frame: {msg}")


async def test_websocket_too_deep_closes_4400_and_too_large_1009(
        desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    req = await asyncio.to_thread(desk.create_request)
    url = f"{desk.ws_url}/ws/applicant/{req['join_token']}"
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url, origin=desk.base_url)
        await ws.send_str('{"type": "device_check", "ok": ' + "[" * 20_000 + "]" * 20_000
                          + "}")
        code, reason = await _close_of(ws)
        assert code == 4400 and "nested deeper than 32" in reason
        ws = await http.ws_connect(url, origin=desk.base_url)
        await ws.send_str('{"type": "answer", "sdp": "v=0\\r\\n' + "a" * 200_000 + '"}')
        code, reason = await _close_of(ws)
        assert code == 1009 and reason.startswith("message too large")
        # the service and the link live on
        ws = await http.ws_connect(url, origin=desk.base_url)
        msg = await ws.receive_json(timeout=5)
        assert msg["type"] == "welcome"
        await ws.close()
        token = await asyncio.to_thread(desk.token, "supervisore1")
        ws = await http.ws_connect(f"{desk.ws_url}/ws/operator",
                                   headers={"Authorization": f"Bearer {token}"})
        await ws.send_str("[" * 60_000)
        code, reason = await _close_of(ws)
        assert code == 4400 and "nested" in reason


def test_nul_characters_are_refused_on_every_backend(desk_server_shared: DeskServer) -> None:
    """PostgreSQL's text refuses NUL where SQLite stored it: a 422 on both, never a 500."""
    desk = desk_server_shared
    r = desk.http.post(f"{desk.api_url}/auth/login", timeout=30,
                       json={"username": "a\u0000b", "password": "x" * 12, "totp": "123456"})
    assert r.status_code == 422 and r.json()["fields"] == {"username": "invalid_format"}
    r = desk.api("GET", "/evidence", "supervisore1", params={"operator": "a\u0000b"})
    assert r.status_code in (200, 422), r.text  # a search finds nothing or is refused
    assert "internal error" not in desk.log_text()
