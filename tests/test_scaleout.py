"""Two desk-service instances on one PostgreSQL database behind nginx (issue: scale-out).

Real parts only: two ``recognition-desk serve`` processes sharing a database of the run's
throwaway PostgreSQL cluster and one data dir (the shared mount: keys, evidence storage), and
Debian nginx in front of them, round-robin with no sticky sessions. The applicant and the
operator are put on *different* instances on purpose (their sockets opened on each instance's
own port), then everything that must cross between them is checked: the waiting room, presence,
the offer and answer (an offer larger than a NOTIFY payload too), sign-out closing sockets
elsewhere, a chunked upload whose chunks alternate instances, and an instance killed with
SIGKILL mid-call.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests

from tests.fixtures.desk import DeskServer
from tests.fixtures.nginx import Proxy, free_port, start_proxy


@dataclass
class Deployment:
    a: DeskServer
    b: DeskServer
    proxy: Proxy

    def token(self, username: str = "operatore1") -> str:
        return self.a.token(username)


@contextlib.contextmanager
def two_instances(folder: Path, *extra: str,
                  pin: dict[str, str] | None = None) -> Iterator[Deployment]:
    """Instances A and B on one PostgreSQL database and one data dir, nginx in front (its
    address is their public URL); ``pin``: path prefix -> "a" or "b" (tests/fixtures/nginx.py)."""
    port = free_port()
    args = ("--public-url", f"http://127.0.0.1:{port}", *extra)
    a = DeskServer(folder / "desk", args, name="desk-a")
    b: DeskServer | None = None
    proxy: Proxy | None = None
    try:
        b = DeskServer(folder / "desk", args, share_with=a, name="desk-b")
        ports = {"a": a.port, "b": b.port}
        proxy = start_proxy(folder / "nginx", [a.port, b.port], port=port,
                            pin={k: ports[v] for k, v in (pin or {}).items()})
        yield Deployment(a, b, proxy)
    finally:
        if proxy is not None:
            proxy.stop()
        if b is not None:
            b.stop()
        a.stop()


@pytest.fixture
def deployment(tmp_path: Path, postgres_cluster: Any, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[Deployment]:
    monkeypatch.setenv("RECOGNITION_TEST_DB", "postgresql")
    with two_instances(tmp_path) as dep:
        yield dep


def _sdp(size: int) -> str:
    """An SDP-shaped text of about ``size`` bytes (the service relays it verbatim)."""
    head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    filler = "".join(f"a=x-test:{i:06d}{uuid.uuid4().hex}\r\n" for i in range(size // 48 + 1))
    return head + filler


async def _until(ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = 5.0,
                 where: dict[str, Any] | None = None) -> dict[str, Any]:
    """The next message of type ``kind`` (others skipped); fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {kind!r} message within {timeout} s")
        msg = await ws.receive(timeout=left)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"socket closed waiting for {kind!r}: {msg.type} {msg.data} "
                                 f"{msg.extra}")
        data = json.loads(msg.data)
        if data.get("type") == kind and all(data.get(k) == v for k, v in (where or {}).items()):
            return dict(data)


def _api(base: str, method: str, path: str, token: str | None = None,
         **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{base}/api/v1{path}", headers=headers, timeout=15, **kwargs)


def _new_request(dep: Deployment, n: int) -> dict[str, Any]:
    from tests.fixtures.desk import request_body

    r = _api(dep.proxy.base_url, "POST", "/requests", json=request_body(n))
    assert r.status_code == 201, r.text
    return dict(r.json())


def _clear_queue(dep: Deployment, token: str) -> None:
    """Suspend whatever session operatore1 left open (the demo seed has none)."""
    dep.a.end_open_session("operatore1")


def test_applicant_on_one_instance_and_operator_on_the_other_meet(deployment: Deployment
                                                                  ) -> None:
    dep = deployment
    token = dep.token("operatore1")
    _clear_queue(dep, token)
    req = _new_request(dep, 4101)
    origin = dep.proxy.base_url  # the applicant's page comes from the public URL

    async def run() -> None:
        async with aiohttp.ClientSession() as http:
            op_ws = await http.ws_connect(f"{dep.b.ws_url}/ws/operator?token={token}")
            await op_ws.send_json({"type": "subscribe_queue"})
            await _until(op_ws, "queue")
            app_ws = await http.ws_connect(f"{dep.a.ws_url}/ws/applicant/{req['join_token']}",
                                           origin=origin)
            await _until(app_ws, "welcome")
            await app_ws.send_json({"type": "consent", "recording": True, "terms": True})
            # the waiting room on B shows the applicant waiting on A, online, within seconds
            # (not on B's 10 s tick)
            t0 = time.monotonic()
            while True:
                q = await _until(op_ws, "queue", timeout=5)
                entry = next((w for w in q.get("waiting", [])
                              if w.get("request_id") == req["id"]), None)
                if entry is not None and entry.get("online"):
                    break
            assert time.monotonic() - t0 < 5
            # the operator draws on B: the applicant on A hears who is coming
            r = await asyncio.to_thread(_api, dep.b.base_url, "POST", "/queue/next", token)
            assert r.status_code == 200, r.text
            drawn = r.json()
            assert drawn["request"]["id"] == req["id"] and drawn["applicant_online"] is True
            sid = drawn["session_id"]
            assigned = await _until(app_ws, "operator_assigned")
            assert assigned["operator"]
            await _until(op_ws, "applicant_joined", where={"session_id": sid})
            # offers small and larger than a NOTIFY payload (8000 bytes) reach A verbatim
            for size in (600, 20_000):
                sdp = _sdp(size)
                await op_ws.send_json({"type": "offer", "session_id": sid, "sdp": sdp})
                got = await _until(app_ws, "offer")
                assert got["sdp"] == sdp
                answer = _sdp(size // 2)
                await app_ws.send_json({"type": "answer", "sdp": answer})
                back = await _until(op_ws, "answer", where={"session_id": sid})
                assert back["sdp"] == answer
            # either instance knows the applicant is online
            for base in (dep.a.base_url, dep.b.base_url):
                r = await asyncio.to_thread(_api, base, "GET", f"/requests/{req['id']}", token)
                assert r.status_code == 200 and r.json()["applicant_online"] is True
            # the applicant hangs up on A: the operator on B is told
            await app_ws.send_json({"type": "hangup"})
            await _until(op_ws, "peer_left", where={"session_id": sid, "role": "applicant"})
            # signing out on A closes the operator's socket on B at once
            r = await asyncio.to_thread(_api, dep.a.base_url, "POST", "/auth/logout", token)
            assert r.status_code in (200, 204), r.text
            msg = await op_ws.receive(timeout=5)
            while msg.type == aiohttp.WSMsgType.TEXT:
                msg = await op_ws.receive(timeout=5)
            assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4401, msg
            await app_ws.close()

    asyncio.run(run())
    # nothing personal in either instance's log
    body = _new_request_body_words()
    for log in (dep.a.log_text(), dep.b.log_text()):
        assert not [w for w in body if w in log]


def _new_request_body_words() -> list[str]:
    from tests.fixtures.desk import request_body

    applicant = request_body(4101)["applicant"]
    return [applicant["codice_fiscale"], applicant["surname"], applicant["mobile"]]


def test_a_second_connection_of_the_applicant_elsewhere_replaces_the_first(
        deployment: Deployment) -> None:
    dep = deployment
    req = _new_request(dep, 4102)
    origin = dep.proxy.base_url

    async def run() -> None:
        async with aiohttp.ClientSession() as http:
            first = await http.ws_connect(f"{dep.a.ws_url}/ws/applicant/{req['join_token']}",
                                          origin=origin)
            await _until(first, "welcome")
            second = await http.ws_connect(f"{dep.b.ws_url}/ws/applicant/{req['join_token']}",
                                           origin=origin)
            await _until(second, "welcome")
            msg = await first.receive(timeout=5)
            while msg.type == aiohttp.WSMsgType.TEXT:
                msg = await first.receive(timeout=5)
            assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4409, msg
            assert not second.closed
            await second.close()

    asyncio.run(run())


def test_upload_chunks_alternate_instances_and_the_package_is_whole(deployment: Deployment,
                                                                    tmp_path: Path) -> None:
    from console.client import DeskClient
    from console.evidence.seal import seal_file
    from console.evidence.upload import Uploader

    dep = deployment
    started = dep.a.start_video_session("operatore1")
    client = DeskClient(dep.proxy.base_url)
    client.login("operatore1", dep.a.operator("operatore1")["password"],
                 dep.a._fresh_code("operatore1"))
    source = tmp_path / "recording.mkv"
    source.write_bytes(b"\x1a\x45\xdf\xa3" + os.urandom(600_000))
    up = Uploader(client, tmp_path / "uploader", chunk_size=64 * 1024)
    try:
        pid = f"{uuid.uuid4()}.recording"
        info = seal_file(source, up.archive_key(), up.sealed_dir / f"{pid}.sealed",
                         package_id=pid, request_id=started["id"], content="matroska")
        result = up.upload_now(info, kind="recording")
    finally:
        up.outbox.close()
    assert result is not None
    chunks = [line for line in dep.proxy.upstream_log() if line.startswith("PUT ")]
    assert len(chunks) >= 8, chunks
    ports = [line.rsplit(":", 1)[1] for line in chunks]
    assert {str(dep.a.port), str(dep.b.port)} <= set(ports), ports
    switches = sum(1 for x, y in itertools.pairwise(ports) if x != y)
    assert switches >= len(ports) // 3, ports  # round-robin: consecutive chunks move
    rows = dep.a.sql("SELECT package_id, received, size FROM uploads WHERE request_id = :r",
                     r=started["id"])
    assert rows and all(package and received == size for package, received, size in rows), rows


def test_an_instance_killed_mid_call_the_call_goes_on_through_the_other(
        deployment: Deployment) -> None:
    dep = deployment
    token = dep.token("operatore1")
    _clear_queue(dep, token)
    # a decision committed through A before it dies
    decided = dep.a.start_video_session("operatore1")
    r = _api(dep.a.base_url, "POST", f"/requests/{decided['id']}/decision", token,
             json={"decision_id": str(uuid.uuid4()), "decision": "rejected",
                   "reason_code": "other", "note": "test"})
    assert r.status_code in (200, 201), r.text
    req = _new_request(dep, 4103)
    origin = dep.proxy.base_url

    async def run() -> None:
        async with aiohttp.ClientSession() as http:
            op_ws = await http.ws_connect(f"{dep.b.ws_url}/ws/operator?token={token}")
            app_ws = await http.ws_connect(f"{dep.a.ws_url}/ws/applicant/{req['join_token']}",
                                           origin=origin)
            await _until(app_ws, "welcome")
            await app_ws.send_json({"type": "consent", "recording": True, "terms": True})
            await _until(app_ws, "queue")
            r = await asyncio.to_thread(_api, dep.b.base_url, "POST", "/queue/next", token)
            assert r.status_code == 200 and r.json()["request"]["id"] == req["id"], r.text
            sid = r.json()["session_id"]
            await _until(app_ws, "operator_assigned")
            # A dies without a goodbye
            dep.a.proc.send_signal(signal.SIGKILL)
            dep.a.proc.wait(10)
            msg = await app_ws.receive(timeout=10)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.ERROR)
            # the page reconnects through the proxy, which now reaches B only
            again = await http.ws_connect(
                f"{dep.proxy.ws_url}/ws/applicant/{req['join_token']}", origin=origin)
            await _until(again, "welcome")
            await _until(again, "operator_assigned")
            await _until(op_ws, "applicant_joined", where={"session_id": sid})
            sdp = _sdp(900)
            await op_ws.send_json({"type": "offer", "session_id": sid, "sdp": sdp})
            assert (await _until(again, "offer"))["sdp"] == sdp
            await again.send_json({"type": "answer", "sdp": _sdp(400)})
            await _until(op_ws, "answer", where={"session_id": sid})
            await again.close()
            await op_ws.close()

    asyncio.run(run())
    # the decision committed through A is there, read through the proxy (B)
    r = _api(dep.proxy.base_url, "GET", f"/requests/{decided['id']}", token)
    assert r.status_code == 200 and r.json()["state"] == "rejected", r.text
    r = requests.get(f"{dep.proxy.base_url}/readyz", timeout=10)
    assert r.status_code == 200 and r.json() == {"status": "ready", "database": True,
                                                 "bus": True}


@pytest.mark.chromium
def test_whole_autopilot_session_across_two_instances(tmp_path: Path, postgres_cluster: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The real console (autopilot) and a headless Chromium applicant, everything through
    nginx: the applicant's socket pinned to instance A, the operator's to instance B, every
    other request (pages, REST, the evidence chunks) round-robin. The session is approved."""
    import subprocess
    import sys

    monkeypatch.setenv("RECOGNITION_TEST_DB", "postgresql")
    with two_instances(tmp_path, pin={"/ws/applicant/": "a", "/ws/operator": "b"}) as dep:
        a, b, proxy = dep.a, dep.b, dep.proxy
        report = tmp_path / "report.json"
        root = Path(__file__).resolve().parents[1]
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        proc = subprocess.run(
            [sys.executable, "-m", "console", "demo", "--autopilot", "--applicant", "chromium",
             "--desk", proxy.base_url, "--seed-json", str(tmp_path / "desk" / "seed.json"),
             "--report", str(report), "--timeout", "200", "--language", "en"],
            cwd=root, env=env, capture_output=True, text=True, timeout=280)
        data = json.loads(report.read_text()) if report.exists() else {}
        assert data.get("decision") == "approved", (data.get("error"), proc.stderr[-3000:])
        assert data["otp"]["verified"]
        log = proxy.upstream_log()
        ws_app = [line for line in log if " /ws/applicant/" in line]
        ws_op = [line for line in log if " /ws/operator" in line]
        assert ws_app and all(line.endswith(f":{a.port}") for line in ws_app), ws_app
        assert ws_op and all(line.endswith(f":{b.port}") for line in ws_op), ws_op
        chunks = [line.rsplit(":", 1)[1] for line in log if line.startswith("PUT ")]
        assert {str(a.port), str(b.port)} <= set(chunks), chunks
        rows = a.sql("SELECT state FROM requests WHERE id = :r",
                     r=a.seed["requests"][0]["id"])
        assert rows == [("approved",)], rows


@pytest.fixture
def s3_endpoint(tmp_path: Path) -> Iterator[str]:
    """An S3-compatible endpoint on loopback (moto's server: S3 with Object Lock) — the object
    store a deployment points ``--storage s3://…`` at; the service's adapter is the real one."""
    import shutil
    import socket
    import subprocess
    import sys

    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("moto_server is not installed (the dev extra's moto[server])")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    log = (tmp_path / "moto.log").open("wb")
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_evidence_on_s3_with_object_lock_reached_by_both_instances(
        tmp_path: Path, postgres_cluster: Any, monkeypatch: pytest.MonkeyPatch,
        s3_endpoint: str) -> None:
    """``--storage s3://BUCKET/PREFIX``: the chunks of one upload land on different instances
    and each writes its part to the bucket; the finished package is one object under
    COMPLIANCE retention that neither instance (nor anyone) can delete before it ends."""
    import boto3

    from console.client import DeskClient
    from console.evidence.seal import seal_file
    from console.evidence.upload import Uploader
    from server.storage import S3Storage

    for key, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                       ("AWS_DEFAULT_REGION", "us-east-1"), ("RECOGNITION_TEST_DB", "postgresql")):
        monkeypatch.setenv(key, value)
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    S3Storage.create_bucket(s3, "evidence")
    with two_instances(tmp_path, "--storage", "s3://evidence/desk",
                       "--s3-endpoint", s3_endpoint) as dep:
        a, b, proxy = dep.a, dep.b, dep.proxy
        started = a.start_video_session("operatore1")
        client = DeskClient(proxy.base_url)
        client.login("operatore1", a.operator("operatore1")["password"],
                     a._fresh_code("operatore1"))
        source = tmp_path / "recording.mkv"
        source.write_bytes(b"\x1a\x45\xdf\xa3" + os.urandom(300_000))
        up = Uploader(client, tmp_path / "uploader", chunk_size=64 * 1024)
        try:
            pid = f"{uuid.uuid4()}.recording"
            info = seal_file(source, up.archive_key(), up.sealed_dir / f"{pid}.sealed",
                             package_id=pid, request_id=started["id"], content="matroska")
            assert up.upload_now(info, kind="recording") is not None
        finally:
            up.outbox.close()
        ports = [line.rsplit(":", 1)[1] for line in proxy.upstream_log()
                 if line.startswith("PUT ")]
        assert {str(a.port), str(b.port)} <= set(ports), ports
        objects = s3.list_objects_v2(Bucket="evidence", Prefix="desk/packages/")
        keys = [o["Key"] for o in objects.get("Contents", [])]
        assert len(keys) == 1, keys
        sealed = (up.sealed_dir / f"{pid}.sealed")
        body = s3.get_object(Bucket="evidence", Key=keys[0])["Body"].read()
        if sealed.exists():
            assert body == sealed.read_bytes()
        head = s3.head_object(Bucket="evidence", Key=keys[0])
        assert head.get("ObjectLockMode") == "COMPLIANCE", head
        assert head["ObjectLockRetainUntilDate"].year >= time.gmtime().tm_year + 19
        versions = s3.list_object_versions(Bucket="evidence", Prefix=keys[0])["Versions"]
        with pytest.raises(Exception, match=r"AccessDenied|locked|retention|WORM|Object"):
            s3.delete_object(Bucket="evidence", Key=keys[0], VersionId=versions[0]["VersionId"])
