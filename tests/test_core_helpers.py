"""A real desk service process for the console core tests, which can be stopped and started
again on the same port and data dir (the outbox tests need the service to go away and come
back; ``tests/fixtures/desk.py``'s ``desk_server`` seeds at start, so it cannot restart on the
same data). Also the applicant side of the protocol (consent over the applicant WebSocket) so that
requests reach the queue.

Everything runs on loopback, port 0 at first start; processes are ended by their own pid.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
import pytest
import requests

from console.client import DeskClient

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Demo-Operatore-2026!"


class DeskProcess:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.seed: dict[str, Any] = {}
        self._log = data_dir.parent / f"{data_dir.name}-serve.log"

    def _python(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "server", "--log-level", "WARNING", *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
                              **kwargs)

    def do_seed(self) -> dict[str, Any]:
        out = self._python("seed", "--data-dir", str(self.data_dir), "--json")
        self.seed = json.loads(out.stdout.strip().splitlines()[-1])
        return self.seed

    def start(self) -> None:
        assert self.proc is None
        log = open(self._log, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "--log-level", "WARNING", "serve", "--demo",
             "--data-dir", str(self.data_dir), "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=log, env={**os.environ},
        )
        log.close()
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        line = b""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith(b"listening on ") or not line:
                break
        if not line.startswith(b"listening on "):
            self.stop()
            raise RuntimeError("desk service did not start: "
                               + self._log.read_text(errors="replace")[-2000:])
        self.url = line.decode().split()[-1].strip()
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()

    # --- helpers ----------------------------------------------------------------------------

    def operator(self, username: str) -> dict[str, Any]:
        return next(o for o in self.seed["operators"] if o["username"] == username)

    def server_now(self) -> datetime:
        r = requests.get(f"{self.url}/api/v1/dev/clock", timeout=5)
        r.raise_for_status()
        return datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00"))

    def advance_clock(self, seconds: float) -> None:
        r = requests.post(f"{self.url}/api/v1/dev/clock", json={"advance_seconds": seconds},
                          timeout=5)
        r.raise_for_status()

    def fresh_totp(self, username: str) -> str:
        """A TOTP code the service has not seen yet: the service refuses a reused time step,
        so move its (demo) clock to the next 30 s step first."""
        self.advance_clock(30)
        return pyotp.TOTP(self.operator(username)["totp_secret"]).at(self.server_now())

    def login(self, username: str = "operatore1") -> DeskClient:
        client = DeskClient(self.url)
        client.login(username, PASSWORD, self.fresh_totp(username))
        return client

    def consent(self, join_token: str) -> None:
        consent(self.url.replace("http://", "ws://"), join_token)

    def sms_messages(self, mobile: str) -> list[dict[str, Any]]:
        r = requests.get(f"{self.url}/api/v1/dev/outbox/sms", params={"mobile": mobile},
                         timeout=5)
        r.raise_for_status()
        return list(r.json()["messages"])


def consent(ws_base: str, join_token: str) -> None:
    """Be the applicant: open the join WebSocket and consent (registered → waiting)."""
    ws_url = f"{ws_base}/ws/applicant/{join_token}"

    async def run() -> None:
        origin = ws_base.replace("ws", "http", 1)  # the page's origin, as a browser sends it
        async with aiohttp.ClientSession() as http, http.ws_connect(ws_url,
                                                                    origin=origin) as ws:
            welcome = await ws.receive_json(timeout=10)
            assert welcome["type"] == "welcome", welcome
            await ws.send_json({"type": "consent", "recording": True, "terms": True})
            while True:
                msg = await ws.receive_json(timeout=10)
                if msg["type"] == "queue":
                    return
                assert msg["type"] != "error", msg

    asyncio.run(run())


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Seed once per test run (password hashing is slow); each service gets a copy."""
    process = DeskProcess(tmp_path_factory.mktemp("desk-template") / "desk")
    return process.data_dir, process.do_seed()


def new_desk(template: tuple[Path, dict[str, Any]], where: Path) -> DeskProcess:
    process = DeskProcess(where)
    shutil.copytree(template[0], where)
    process.seed = json.loads(json.dumps(template[1]))
    return process


@pytest.fixture
def desk(seeded_template: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[DeskProcess]:
    process = new_desk(seeded_template, tmp_path / "desk")
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def module_desk(seeded_template: tuple[Path, dict[str, Any]],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeskProcess]:
    process = new_desk(seeded_template, tmp_path_factory.mktemp("module-desk") / "desk")
    process.start()
    try:
        yield process
    finally:
        process.stop()
