"""SMS codes and e-mail verification: rules, outboxes, and the real senders against tiny servers."""

from __future__ import annotations

import asyncio
import json
import re
import socketserver
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiohttp import web

from server.mailer import SmtpSender
from server.sms import HttpGatewaySender, SendError
from tests.fixtures.desk import DeskServer, start_desk_server

OP = "operatore1"


def _in_call(desk: DeskServer) -> dict[str, Any]:
    """A fresh request in a video session of operatore1 (codes belong to a call)."""
    return desk.start_video_session(OP)


def _mobile(desk: DeskServer, req: dict[str, Any]) -> str:
    return str(desk.api("GET", f"/requests/{req['id']}", "supervisore1").json()
               ["applicant"]["mobile"])


def _code(desk: DeskServer, mobile: str) -> str:
    body = desk.sms_outbox(mobile)[-1]["body"]
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


def _verify(desk: DeskServer, req: dict[str, Any], code: str) -> dict[str, Any]:
    r = desk.api("POST", f"/requests/{req['id']}/otp/verify", OP, json={"code": code})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_otp_is_sent_verified_once_and_never_logged(desk_server: DeskServer) -> None:
    desk = desk_server
    req = _in_call(desk)
    r = desk.api("POST", f"/requests/{req['id']}/otp", OP)
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["attempts_left"] == 3
    mobile = _mobile(desk, req)
    messages = desk.sms_outbox(mobile)
    assert len(messages) == 1 and messages[0]["to"] == mobile
    code = _code(desk, mobile)
    lines = (desk.data_dir / "outbox" / "sms.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["to"] == mobile
    assert _verify(desk, req, code) == {"verified": True, "attempts_left": 0,
                                        "exhausted": False, "expired": False,
                                        "suspended": False}
    # the database holds no code in clear
    if desk.backend == "postgresql":  # every row of every table, as text
        tables = [r[0] for r in desk.sql("SELECT tablename FROM pg_tables "
                                         "WHERE schemaname = 'public'")]
        raw_db = "\n".join(r[0] for t in tables
                           for r in desk.sql(f"SELECT row_to_json(x)::text FROM {t} x")).encode()
    else:
        raw_db = (desk.db_path).read_bytes() + Path(str(desk.db_path) + "-wal").read_bytes() \
            if Path(str(desk.db_path) + "-wal").exists() else desk.db_path.read_bytes()
    assert code.encode() not in raw_db or raw_db.count(code.encode()) == 0
    log = desk.log_text()
    assert code not in log and mobile not in log and req["join_token"] not in log


def test_three_wrong_codes_exhaust_the_otp(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    req = _in_call(desk)
    assert desk.api("POST", f"/requests/{req['id']}/otp", OP).status_code == 201
    code = _code(desk, _mobile(desk, req))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = desk.api("POST", f"/requests/{req['id']}/otp/verify", OP,
                 json={"code": "12ab56"})
    assert r.status_code == 422 and r.json()["fields"] == {"code": "invalid_format"}
    answers = [_verify(desk, req, wrong) for _ in range(3)]
    assert [a["attempts_left"] for a in answers] == [2, 1, 0]
    assert answers[-1]["exhausted"] is True and answers[-1]["suspended"] is True
    # the third wrong guess suspended the request: the right code no longer helps
    r = desk.api("POST", f"/requests/{req['id']}/otp/verify", OP, json={"code": code})
    assert r.status_code == 409 and r.json()["error"] == "not_in_call"
    state = desk.api("GET", f"/requests/{req['id']}", "supervisore1").json()
    assert state["state"] == "suspended"
    assert state["history"][-1]["actor"] == "system"


def test_resend_is_rate_limited_and_replaces_the_code(desk_server: DeskServer) -> None:
    desk = desk_server
    req = _in_call(desk)
    mobile = _mobile(desk, req)
    assert desk.api("POST", f"/requests/{req['id']}/otp", OP).status_code == 201
    first = _code(desk, mobile)
    r = desk.api("POST", f"/requests/{req['id']}/otp", OP)
    assert r.status_code == 429
    assert r.json()["error"] == "resend_too_soon" and 1 <= r.json()["retry_after"] <= 30
    desk.advance_clock(31)
    assert desk.api("POST", f"/requests/{req['id']}/otp", OP).status_code == 201
    second = _code(desk, mobile)
    assert len(desk.sms_outbox(mobile)) == 2
    if first != second:
        assert _verify(desk, req, first)["verified"] is False
    assert _verify(desk, req, second)["verified"] is True


def test_otp_expires_after_5_minutes(desk_server: DeskServer) -> None:
    desk = desk_server
    req = _in_call(desk)
    assert desk.api("POST", f"/requests/{req['id']}/otp", OP).status_code == 201
    code = _code(desk, _mobile(desk, req))
    desk.advance_clock(5 * 60 + 1)
    out = _verify(desk, req, code)
    assert out["verified"] is False and out["expired"] is True
    assert out["attempts_left"] == 3  # an expired code does not eat attempts


def test_otp_needs_a_call(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    req = _in_call(desk)
    desk.end_open_session(OP)  # suspended: the call is over
    r = desk.api("POST", f"/requests/{req['id']}/otp", OP)
    assert r.status_code == 409 and r.json()["error"] == "not_in_call"
    r = desk.api("POST", f"/requests/{req['id']}/otp/verify", OP,
                 json={"code": "123456"})
    assert r.status_code == 409 and r.json()["error"] == "not_in_call"
    for other in ("partner1", "supervisore1", "formatore1", "operatore2"):
        assert desk.api("POST", f"/requests/{req['id']}/otp", other).status_code == 403, other
    fresh = _in_call(desk)
    r = desk.api("POST", f"/requests/{fresh['id']}/otp/verify", OP, json={"code": "123456"})
    assert r.status_code == 404 and r.json()["error"] == "no_otp"


def test_email_verification_link_confirms(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    req = _in_call(desk)
    r = desk.api("POST", f"/requests/{req['id']}/email-verification", OP)
    assert r.status_code == 201
    status = desk.api("GET", f"/requests/{req['id']}/email-verification", "supervisore1").json()
    assert status["confirmed"] is False and status["confirmed_at"] is None
    email = desk.api("GET", f"/requests/{req['id']}", "supervisore1").json()["applicant"]["email"]
    mail = desk.email_outbox(email)[-1]
    link = re.search(r"https?://\S+/verify-email/\S+", mail["body"])
    assert link, mail
    assert desk.http.get(link.group(0) + "x", timeout=10).status_code == 410
    page = desk.http.get(link.group(0), timeout=10)
    assert page.status_code == 200 and "confermato" in page.text
    status = desk.api("GET", f"/requests/{req['id']}/email-verification", "supervisore1").json()
    assert status["confirmed"] is True and status["confirmed_at"].endswith("Z")
    details = desk.api("GET", f"/requests/{req['id']}", "supervisore1").json()
    assert details["email_confirmed_at"] == status["confirmed_at"]


# --- the production senders against tiny local servers ------------------------------------

async def _gateway(behaviour: str) -> tuple[web.AppRunner, str, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append({"auth": request.headers.get("Authorization"), "json": await request.json()})
        if behaviour == "fail":
            return web.json_response({"error": "boom"}, status=500)
        if behaviour == "reject":
            return web.json_response({"error": "bad number"}, status=400)
        if behaviour == "slow":
            await asyncio.sleep(3)
        return web.json_response({"id": "msg-1", "status": "queued"}, status=202)

    app = web.Application()
    app.router.add_post("/sms", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/sms", seen


async def test_http_gateway_sender_posts_json_with_credentials() -> None:
    runner, url, seen = await _gateway("ok")
    try:
        await HttpGatewaySender(url, token="tok-123").send("+393331234567", "codice 123456",
                                                           "2026-01-01T00:00:00Z")
        await HttpGatewaySender(url, user="u", password="p").send("+393331234567", "x", "")
        assert seen[0]["auth"] == "Bearer tok-123"
        assert seen[0]["json"]["to"] == "+393331234567"
        assert seen[0]["json"]["text"] == "codice 123456"
        assert seen[1]["auth"].startswith("Basic ")
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("behaviour,code", [("fail", "gateway_error"),
                                            ("reject", "gateway_rejected"),
                                            ("slow", "gateway_timeout")])
async def test_http_gateway_sender_reports_failures(behaviour: str, code: str) -> None:
    runner, url, _ = await _gateway(behaviour)
    try:
        with pytest.raises(SendError) as err:
            await HttpGatewaySender(url, timeout_s=1.0).send("+393331234567", "x", "")
        assert err.value.code == code
    finally:
        await runner.cleanup()


async def test_http_gateway_sender_unreachable() -> None:
    with pytest.raises(SendError) as err:
        await HttpGatewaySender("http://127.0.0.1:9/sms", timeout_s=2).send("+39333", "x", "")
    assert err.value.code == "gateway_unreachable"


async def test_a_failing_gateway_stores_no_code(tmp_path: Path) -> None:
    runner, url, seen = await _gateway("fail")
    desk = await asyncio.to_thread(start_desk_server, tmp_path / "desk", "--sms-gateway-url", url)
    try:
        req = await asyncio.to_thread(_in_call, desk)
        r = await asyncio.to_thread(desk.api, "POST", f"/requests/{req['id']}/otp", OP)
        assert r.status_code == 502 and r.json()["error"] == "sms_failed"
        assert len(seen) == 1
        r = await asyncio.to_thread(desk.api, "POST", f"/requests/{req['id']}/otp/verify",
                                    OP, json={"code": "123456"})
        assert r.status_code == 404  # nothing half-written: no code exists
        # no resend block either: the failed one never counted
        r = await asyncio.to_thread(desk.api, "POST", f"/requests/{req['id']}/otp", OP)
        assert r.status_code == 502
    finally:
        await asyncio.to_thread(desk.stop)
        await runner.cleanup()


class _SmtpHandler(socketserver.StreamRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def handle(self) -> None:
        def say(line: str) -> None:
            self.wfile.write((line + "\r\n").encode())

        say("220 tiny ESMTP")
        mail: dict[str, Any] = {"rcpt": []}
        while True:
            line = self.rfile.readline().decode().strip()
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                say("250-tiny")
                say("250 8BITMIME")
            elif verb == "MAIL":
                mail["from"] = line
                say("250 ok")
            elif verb == "RCPT":
                mail["rcpt"].append(line)
                say("250 ok")
            elif verb == "DATA":
                say("354 go on")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk)
                mail["data"] = b"".join(data).decode()
                _SmtpHandler.received.append(mail)
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            elif verb == "RSET" or verb == "NOOP":
                say("250 ok")
            else:
                say("502 no")
                if not line:
                    return


async def test_smtp_sender_delivers_to_a_relay() -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        sender = SmtpSender("127.0.0.1", port, starttls=False, sender="desk@example.test")
        await sender.send("maria.rossi@example.test", "Conferma", "apri il link", "")
        mail = _SmtpHandler.received[-1]
        assert "maria.rossi@example.test" in mail["rcpt"][0]
        assert "Subject: Conferma" in mail["data"]
        with pytest.raises(SendError):
            await SmtpSender("127.0.0.1", 9, starttls=False).send("a@b.it", "s", "b", "")
    finally:
        server.shutdown()
        server.server_close()


async def test_outbox_survives_a_torn_line(tmp_path: Path) -> None:
    from server.sms import LocalOutboxSender

    sender = LocalOutboxSender(tmp_path)
    await sender.send("+393331234567", "uno", "t1")
    with (tmp_path / "outbox" / "sms.jsonl").open("a") as fh:
        fh.write('{"to": "+3933312')  # a crash in the middle of a line
    await sender.send("+393331234567", "due", "t2")
    bodies = [m["body"] for m in sender.messages("+393331234567")]
    assert bodies == ["uno", "due"]
