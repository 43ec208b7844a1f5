"""Files and transport of the desk service (a real process): private file modes, the demo
outbox and ``--demo`` only on loopback, links and WebSocket origins from the public URL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import selectors
import stat
import subprocess
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests

from server.files import secure_sqlite, secure_tree, sqlite_file, write_private
from server.public_url import origin_of, parse_origin, parse_public_url
from tests.fixtures.desk import DeskServer, _desk_command, request_body, start_desk_server

pytestmark = pytest.mark.timeout(120)

#: outside demo mode the service needs a key for the TOTP secrets (kept outside the data dir)
PRODUCTION_ENV = {"RECOGNITION_DESK_TOTP_KEY": base64.b64encode(bytes(range(32))).decode()}
GATEWAYS = ("--sms-gateway-url", "https://sms.example.test/send", "--smtp-host",
            "smtp.example.test")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_desk_command(), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **PRODUCTION_ENV, **(env or {})})


def _modes(root: Path) -> dict[str, int]:
    out = {}
    for current, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            p = Path(current) / name
            out[str(p.relative_to(root))] = stat.S_IMODE(p.lstat().st_mode)
    return out


def _video_session(desk: DeskServer, origin: str | None = None) -> dict[str, Any]:
    """A fresh request in a video session of operatore1 (the applicant consents, is drawn).
    Returns the POST /requests answer plus ``session_id`` and the ``body`` sent."""
    body = request_body()
    r = desk.api("POST", "/requests", json=body)
    assert r.status_code == 201, r.text
    req = {**r.json(), "body": body}

    async def run() -> dict[str, Any]:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{desk.ws_url}/ws/applicant/{req['join_token']}",
                                       origin=origin or desk.base_url)
            try:
                await ws.send_json({"type": "consent", "recording": True, "terms": True})
                while (await ws.receive_json(timeout=10)).get("type") != "queue":
                    pass
                r = await asyncio.to_thread(desk.api, "POST", "/queue/next", "operatore1")
                assert r.status_code == 200, r.text
                got: dict[str, Any] = r.json()
                assert got["request"]["id"] == req["id"]
                return got
            finally:
                await ws.close()

    return {**req, "session_id": asyncio.run(run())["session_id"]}


# --- file modes ------------------------------------------------------------------------------

@pytest.mark.sqlite_only
def test_every_file_of_a_demo_session_is_private(tmp_path: Path) -> None:
    data = tmp_path / "desk"
    # what an older version (or a careless operator) left readable is tightened at start
    (data / "old").mkdir(parents=True, mode=0o755)
    (data / "old" / "notes.txt").write_text("x")
    (data / "old" / "notes.txt").chmod(0o644)
    data.chmod(0o755)
    desk = start_desk_server(data)
    try:
        req = _video_session(desk)
        rid = req["id"]
        r = desk.api("POST", f"/requests/{rid}/otp", "operatore1")
        assert r.status_code == 201, r.text
        r = desk.api("POST", f"/requests/{rid}/email-verification", "operatore1")
        assert r.status_code == 201, r.text
        content = os.urandom(3000)
        r = desk.api("POST", "/evidence/uploads", "operatore1",
                     json={"upload_key": f"evidence:{uuid.uuid4()}", "request_id": rid,
                           "filename": "package.sealed", "size": len(content),
                           "sha256": hashlib.sha256(content).hexdigest()})
        assert r.status_code == 201, r.text
        upload_id = r.json()["upload_id"]
        r = desk.api("PUT", f"/evidence/uploads/{upload_id}", "operatore1",
                     params={"offset": "0"},
                     data=content[:1000],
                     headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 200, r.text
        part_modes = _modes(data)  # the .part file of an unfinished upload
        assert part_modes[f"uploads/{upload_id}.part"] == 0o600
        r = desk.api("PUT", f"/evidence/uploads/{upload_id}", "operatore1",
                     params={"offset": "1000"}, data=content[1000:],
                     headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 200, r.text
        r = desk.api("POST", f"/evidence/uploads/{upload_id}/complete", "operatore1")
        assert r.status_code in (200, 201), r.text
        modes = _modes(data)  # while it runs: SQLite's -wal and -shm exist
        for name in ("desk.sqlite3", "desk.sqlite3-wal", "desk.sqlite3-shm", "otp-pepper.bin",
                     "archive-demo-private.key", "archive-public.key", "seed.json",
                     "outbox/sms.jsonl", "outbox/email.jsonl", f"evidence/{upload_id}.bin",
                     "old/notes.txt"):
            assert name in modes, f"{name} missing: {sorted(modes)}"
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        loose = {n: oct(m) for n, m in modes.items()
                 if m != (0o700 if (data / n).is_dir() else 0o600)}
        assert loose == {}
        log = desk.log_text()
        assert req["join_token"] not in log and req["body"]["applicant"]["mobile"] not in log
        assert req["body"]["applicant"]["codice_fiscale"] not in log
    finally:
        assert desk.stop() == 0
    assert {n: m for n, m in _modes(data).items()
            if m != (0o700 if (data / n).is_dir() else 0o600)} == {}


def test_operator_add_creates_private_files(tmp_path: Path) -> None:
    r = _run("operator", "add", "mario.rossi", "--data-dir", str(tmp_path / "d"), "--json")
    assert r.returncode == 0, r.stderr
    modes = _modes(tmp_path / "d")
    assert "desk.sqlite3" in modes
    assert all(m == (0o700 if (tmp_path / "d" / n).is_dir() else 0o600)
               for n, m in modes.items()), modes


def test_file_helpers(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_private(tmp_path / "k.bin", b"secret")
        assert stat.S_IMODE((tmp_path / "k.bin").stat().st_mode) == 0o600
        db = tmp_path / "x.sqlite3"
        assert sqlite_file(f"sqlite:///{db}") == db
        assert sqlite_file("sqlite://") is None and sqlite_file("postgresql://h/db") is None
        secure_sqlite(db)
        assert db.exists() and stat.S_IMODE(db.stat().st_mode) == 0o600
        (tmp_path / "x.sqlite3-wal").write_bytes(b"")
        (tmp_path / "sub").mkdir()
        outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
        outside.write_text("not ours to change")
        outside.chmod(0o644)
        os.symlink(outside, tmp_path / "link")
        assert secure_tree(tmp_path) >= 2  # the wal file, the sub dir
        assert stat.S_IMODE((tmp_path / "x.sqlite3-wal").stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "sub").stat().st_mode) == 0o700
        assert stat.S_IMODE(outside.stat().st_mode) == 0o644  # links are not followed
    finally:
        os.umask(old)


# --- serve refuses what is unsafe -------------------------------------------------------------

@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_demo_is_refused_off_loopback(tmp_path: Path, host: str) -> None:
    r = _run("serve", "--demo", "--host", host, "--port", "0", "--self-signed",
             "--data-dir", str(tmp_path))
    assert r.returncode == 2
    assert f"refusing --demo on {host}" in r.stderr and "loopback only" in r.stderr
    assert r.stdout == ""
    assert not (tmp_path / "tls").exists()  # refused before anything is created


def test_outbox_and_host_links_are_refused_without_demo(tmp_path: Path) -> None:
    d = str(tmp_path)
    r = _run("serve", "--port", "0", "--data-dir", d)
    assert r.returncode == 2 and "local SMS outbox is for --demo only" in r.stderr
    r = _run("serve", "--port", "0", "--data-dir", d, GATEWAYS[0], GATEWAYS[1])
    assert r.returncode == 2 and "local e-mail outbox is for --demo only" in r.stderr
    r = _run("serve", "--port", "0", "--data-dir", d, *GATEWAYS)
    assert r.returncode == 2 and "no public URL" in r.stderr and "--public-url" in r.stderr
    r = _run("serve", "--port", "0", "--data-dir", d, "--sms-gateway-url",
             "http://sms.example.test/send", "--smtp-host", "smtp.example.test",
             "--public-url", "https://desk.example")
    assert r.returncode == 2 and "SMS gateway URL must be https://" in r.stderr
    r = _run("serve", "--port", "0", "--data-dir", d, *GATEWAYS,
             "--public-url", "http://desk.example")
    assert r.returncode == 2 and "must be https://" in r.stderr
    r = _run("serve", "--port", "0", "--data-dir", d, *GATEWAYS,
             env={"RECOGNITION_DESK_PUBLIC_URL": "https://desk.example/?x=1"})
    assert r.returncode == 2 and "query" in r.stderr
    r = _run("serve", "--demo", "--port", "0", "--data-dir", d, "--allow-origin",
             "https://x.example/path")
    assert r.returncode == 2 and "--allow-origin" in r.stderr
    assert r.stdout == ""


class _Production:
    """``serve`` without --demo: gateways and a public URL (nothing is sent in this test)."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [*_desk_command(), "serve", "--port", "0", "--data-dir", str(data_dir),
             "--exit-with-parent", *GATEWAYS, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **PRODUCTION_ENV})
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        line = self.proc.stdout.readline().decode() if sel.select(60) else ""
        sel.close()
        if not line.startswith("listening on "):
            self.stop()
            raise AssertionError(f"service did not start: {line!r}")
        self.base_url = line.split()[-1]

    def stop(self) -> int:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return int(self.proc.returncode)


def test_production_service_builds_links_on_its_public_url(tmp_path: Path) -> None:
    svc = _Production(tmp_path / "prod", "--public-url", "https://desk.example/")
    try:
        r = requests.get(f"{svc.base_url}/api/v1/dev/clock", timeout=10)
        assert r.status_code in (401, 404)  # no demo endpoints
        r = requests.post(f"{svc.base_url}/api/v1/requests", json=request_body(),
                          headers={"Host": "evil.example"}, timeout=10)
        assert r.status_code == 201, r.text
        assert r.json()["join_url"].startswith("https://desk.example/join/")
    finally:
        assert svc.stop() == 0
    modes = _modes(tmp_path / "prod")
    assert modes and all(m == (0o700 if (tmp_path / "prod" / n).is_dir() else 0o600)
                         for n, m in modes.items()), modes


# --- links and origins --------------------------------------------------------------------

def test_links_ignore_the_host_header(tmp_path: Path) -> None:
    desk = start_desk_server(tmp_path / "desk", "--public-url", "https://desk.example:8443")
    try:
        r = desk.api("POST", "/requests", json=request_body(), headers={"Host": "evil.example"})
        assert r.status_code == 201, r.text
        assert r.json()["join_url"].startswith("https://desk.example:8443/join/")
        req = _video_session(desk, "https://desk.example:8443")
        r = desk.api("POST", f"/requests/{req['id']}/join-link", "supervisore1",
                     headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
        assert r.status_code == 201, r.text
        assert r.json()["join_url"].startswith("https://desk.example:8443/join/")
        r = desk.api("POST", f"/requests/{req['id']}/email-verification", "operatore1",
                     headers={"Host": "evil.example"})
        assert r.status_code == 201, r.text
        mail = desk.email_outbox(req["body"]["applicant"]["email"])[-1]
        assert "https://desk.example:8443/verify-email/" in mail["body"]
        assert "evil.example" not in mail["body"]
        assert all(r["join_url"].startswith("https://desk.example:8443/join/")
                   for r in desk.seed["requests"])
    finally:
        desk.stop()


def test_demo_links_default_to_the_listening_address(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    r = desk.api("POST", "/requests", json=request_body(), headers={"Host": "evil.example"})
    assert r.status_code == 201, r.text
    assert r.json()["join_url"].startswith(f"{desk.base_url}/join/")


async def test_websocket_origins(tmp_path: Path) -> None:
    desk = await asyncio.to_thread(start_desk_server, tmp_path / "desk", "--public-url",
                                   "https://desk.example", "--allow-origin",
                                   "https://partner.example")
    try:
        req = await asyncio.to_thread(desk.create_request)
        applicant = f"{desk.ws_url}/ws/applicant/{req['join_token']}"
        token = await asyncio.to_thread(desk.token, "operatore1")
        bearer = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as http:
            no_headers: dict[str, str] = {}
            for url, headers in ((applicant, no_headers), (f"{desk.ws_url}/ws/operator", bearer)):
                for bad in ("https://evil.example", desk.base_url, "null",
                            "https://desk.example.evil.example"):
                    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
                        await http.ws_connect(url, origin=bad, headers=headers)
                    assert err.value.status == 403, bad
            # the Host header does not make an origin acceptable
            with pytest.raises(aiohttp.WSServerHandshakeError) as err:
                await http.ws_connect(applicant, origin="https://evil.example",
                                      headers={"Host": "evil.example"})
            assert err.value.status == 403
            # browsers always send an Origin: an applicant socket without one is refused
            with pytest.raises(aiohttp.WSServerHandshakeError) as err:
                await http.ws_connect(applicant)
            assert err.value.status == 403
            for good in ("https://desk.example", "https://DESK.example:443",
                         "https://partner.example"):
                ws = await http.ws_connect(applicant, origin=good)
                assert (await ws.receive_json(timeout=10))["type"] == "welcome"
                await ws.close()
            # the console is no browser: no Origin on the operator socket is fine
            ws = await http.ws_connect(f"{desk.ws_url}/ws/operator", headers=bearer)
            await ws.send_json({"type": "subscribe_queue"})
            assert (await ws.receive_json(timeout=10))["type"] == "queue"
            await ws.close()
    finally:
        await asyncio.to_thread(desk.stop)


def test_url_helpers() -> None:
    assert parse_public_url("https://Desk.Example:443/", require_https=True) == \
        "https://desk.example"
    assert parse_public_url("https://desk.example:8443/id/", require_https=True) == \
        "https://desk.example:8443/id"
    assert parse_public_url("http://127.0.0.1:8080", require_https=True) == \
        "http://127.0.0.1:8080"
    assert parse_public_url("http://desk.example", require_https=False) == "http://desk.example"
    for bad in ("http://desk.example", "ftp://desk.example", "https://", "desk.example",
                "https://u:p@desk.example", "https://desk.example/#x", "https://d.example:99999"):
        with pytest.raises(ValueError):
            parse_public_url(bad, require_https=True)
    assert origin_of("https://desk.example:443") == "https://desk.example"
    assert origin_of("wss://desk.example/ws") == "https://desk.example"
    assert origin_of("http://[::1]:8080") == "http://[::1]:8080"
    assert origin_of("null") is None and origin_of("") is None
    assert parse_origin("https://partner.example/") == "https://partner.example"
    with pytest.raises(ValueError):
        parse_origin("https://partner.example/page")
