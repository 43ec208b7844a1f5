"""Desk service benchmark: signalling round trip and REST throughput under a realistic load.

A real ``recognition-desk serve --demo`` process on loopback, 200 applicants connected over
WebSocket and waiting, 20 operators signed in (each with its own WebSocket, subscribed to the
queue). Measured:

* signalling round trip: operator sends ``offer`` → service relays it → applicant answers at
  once → service relays ``answer`` → operator receives it (p50/p99 over 20 × 25 round trips);
* ``GET /queue`` throughput with 20 concurrent operators;
* the assignment cycle ``POST /queue/next`` + ``POST …/decision`` (suspended) + applicant's new
  consent, 20 operators in parallel: cycles/s and latency of ``/queue/next``.

Run: ``.venv/bin/python -m bench.bench_desk [--seconds 5] [--json]``. Bounded: about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pyotp

from bench import report

APPLICANTS = 200
OPERATORS = 20
ROUND_TRIPS = 25
SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + "a=x-bench:" + "y" * 2000 + "\r\n"


def _start(data_dir: Path) -> tuple[subprocess.Popen[bytes], str, dict[str, Any]]:
    exe = Path(sys.executable).with_name("recognition-desk")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "server"]
    if os.environ.get("BENCH_DESK_PROFILE"):  # cProfile the service into this file
        cmd = [sys.executable, "-m", "cProfile", "-o", os.environ["BENCH_DESK_PROFILE"],
               "-m", "server"]
    seed = data_dir / "seed.json"
    log = (data_dir / "desk.log").open("wb")
    # a load test from one address: the per-address rate limits would refuse most of it
    proc = subprocess.Popen([*cmd, "--log-level", "WARNING", "serve", "--port", "0", "--demo",
                             "--data-dir", str(data_dir), "--seed-json", str(seed),
                             "--rate-limit", "*=1000000/1"],
                            stdout=subprocess.PIPE, stderr=log)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"desk service did not start: {line!r}")
    return proc, line.split()[-1], json.loads(seed.read_text())


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by the service process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _cf(n: int) -> str:
    from server.validation import cf_check_char

    letters = "BCDFGLMNPRSTVZ"
    name = "".join(letters[(n // 14**i) % 14] for i in range(6))
    cf15 = f"{name}80A{1 + n % 28:02d}H501"
    return cf15 + cf_check_char(cf15)


def _body(n: int) -> dict[str, Any]:
    return {"applicant": {"surname": "BENCH", "given_names": "APPLICANT",
                          "codice_fiscale": _cf(n),
                          "birth_date": f"1980-01-{1 + n % 28:02d}", "birth_place": "ROMA",
                          "sex": "M", "email": f"bench{n}@example.test",
                          "mobile": f"+39333{n:07d}"},
            "product": "spid_personal",
            "document": {"type": "identity_card", "number": f"CA{n:05d}AA",
                         "issuer": "COMUNE DI ROMA", "expiry_date": "2031-04-12"}}


class Applicant:
    """Connects, consents, answers every offer at once, consents again after a suspension."""

    def __init__(self, http: aiohttp.ClientSession, ws_url: str, token: str) -> None:
        self.http, self.url, self.token = http, ws_url, token
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def run(self, ready: asyncio.Event) -> None:
        self.ws = await self.http.ws_connect(f"{self.url}/ws/applicant/{self.token}",
                                             max_msg_size=0,
                                             origin=self.url.replace("ws", "http", 1))
        await self.ws.send_str(json.dumps({"type": "consent", "recording": True, "terms": True}))
        ready.set()
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if data["type"] == "offer":
                await self.ws.send_str(json.dumps({"type": "answer", "sdp": data["sdp"]}))
            elif data["type"] == "ended" and data["state"] == "suspended":
                await self.ws.send_str(json.dumps({"type": "consent", "recording": True,
                                                   "terms": True}))


class Operator:
    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self.http, self.base, self.token = http, base, token
        self.headers = {"Authorization": f"Bearer {token}"}
        self.answers: dict[str, asyncio.Future[float]] = {}
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def connect(self) -> None:
        ws_url = self.base.replace("http", "ws", 1)
        self.ws = await self.http.ws_connect(f"{ws_url}/ws/operator", headers=self.headers,
                                             max_msg_size=0)
        await self.ws.send_str(json.dumps({"type": "subscribe_queue"}))
        asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for msg in self.ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                data = json.loads(msg.data)
                if data["type"] == "answer":
                    fut = self.answers.pop(data["session_id"], None)
                    if fut is not None and not fut.done():
                        fut.set_result(time.perf_counter())
        except aiohttp.ClientConnectionResetError:
            pass  # the set-up is being torn down (a ping answered on a closing connection)

    async def round_trip(self, session_id: str) -> float:
        assert self.ws is not None
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.answers[session_id] = fut
        start = time.perf_counter()
        await self.ws.send_str(json.dumps({"type": "offer", "session_id": session_id,
                                           "sdp": SDP}))
        end = await asyncio.wait_for(fut, 10)
        return (end - start) * 1000

    async def next(self) -> tuple[int, dict[str, Any] | None, float]:
        start = time.perf_counter()
        async with self.http.post(f"{self.base}/api/v1/queue/next", headers=self.headers) as r:
            body = await r.json() if r.status == 200 else None
            return r.status, body, (time.perf_counter() - start) * 1000

    async def suspend(self, request_id: str) -> None:
        async with self.http.post(f"{self.base}/api/v1/requests/{request_id}/decision",
                                  headers=self.headers,
                                  json={"decision_id": str(uuid.uuid4()),
                                        "decision": "suspended", "reason_code": "other"}) as r:
            assert r.status == 200, await r.text()


async def _login(http: aiohttp.ClientSession, base: str, username: str, password: str,
                 secret: str) -> str:
    async with http.post(f"{base}/api/v1/auth/login", json={
            "username": username, "password": password, "totp": pyotp.TOTP(secret).now()}) as r:
        body = await r.json()
        assert r.status == 200, body
        return str(body["access_token"])


async def _setup_operators(http: aiohttp.ClientSession, base: str, seed: dict[str, Any]
                           ) -> list[Operator]:
    sup = next(o for o in seed["operators"] if o["username"] == "admin1")
    sup_token = await _login(http, base, sup["username"], sup["password"], sup["totp_secret"])
    hdr = {"Authorization": f"Bearer {sup_token}"}
    ops = []
    for i in range(OPERATORS):
        username, password = f"bench.op{i:02d}", "Bench-Password-2026!"
        async with http.post(f"{base}/api/v1/operators", headers=hdr, json={
                "username": username, "display_name": f"Bench {i}", "role": "operator",
                "password": password}) as r:
            op_id = (await r.json())["id"]
        async with http.post(f"{base}/api/v1/operators/{op_id}/totp", headers=hdr) as r:
            secret = pyotp.parse_uri((await r.json())["otpauth_uri"]).secret
        ops.append(Operator(http, base, await _login(http, base, username, password, secret)))
    return ops


async def _throughput(op_list: list[Operator], seconds: float, what: str) -> dict[str, Any]:
    latencies: list[float] = []
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(op: Operator) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            if what == "queue":
                start = time.perf_counter()
                async with op.http.get(f"{op.base}/api/v1/queue", headers=op.headers) as r:
                    await r.read()
                    assert r.status == 200
                latencies.append((time.perf_counter() - start) * 1000)
                done += 1
            else:
                status, body, ms = await op.next()
                latencies.append(ms)
                if status == 200 and body is not None:
                    await op.suspend(body["request"]["id"])
                    done += 1
                else:
                    await asyncio.sleep(0.01)

    start = time.perf_counter()
    await asyncio.gather(*(worker(op) for op in op_list))
    elapsed = time.perf_counter() - start
    return {"per_s": done / elapsed, "count": done, "requests": len(latencies),
            "p50": _pct(latencies, 50),
            "p99": _pct(latencies, 99)}


async def register(http: aiohttp.ClientSession, base: str, numbers: range,
                   concurrency: int = 20) -> list[str]:
    """``POST /requests`` for each synthetic applicant ``n`` of ``numbers``; their join tokens."""
    sem = asyncio.Semaphore(concurrency)

    async def create(n: int) -> str:
        async with sem, http.post(f"{base}/api/v1/requests", json=_body(n)) as r:
            body = await r.json()
            assert r.status == 201, body
            return str(body["join_token"])

    return list(await asyncio.gather(*(create(n) for n in numbers)))


async def run(seconds: float, keep: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-desk-") as tmp_dir:
        tmp = keep or tmp_dir
        Path(tmp).mkdir(parents=True, exist_ok=True)
        proc, base, seed = _start(Path(tmp))
        try:
            conn = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=conn) as http:
                t0 = time.perf_counter()
                tokens = await register(http, base, range(APPLICANTS))
                create_s = time.perf_counter() - t0
                ws_url = base.replace("http", "ws", 1)
                applicants = [Applicant(http, ws_url, t) for t in tokens]
                events = [asyncio.Event() for _ in applicants]
                tasks = [asyncio.create_task(a.run(e)) for a, e in zip(applicants, events,
                                                                          strict=True)]
                await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 60)
                ops = await _setup_operators(http, base, seed)
                for op in ops:
                    await op.connect()
                await asyncio.sleep(1.0)  # let the consents land
                # signalling round trips: each operator draws an applicant and calls it
                sessions = []
                for op in ops:
                    status, body, _ = await op.next()
                    assert status == 200, status
                    assert body is not None
                    sessions.append((op, body["session_id"], body["request"]["id"]))

                async def calls(op: Operator, sid: str) -> list[float]:
                    return [await op.round_trip(sid) for _ in range(ROUND_TRIPS)]

                cpu0 = _cpu_s(proc.pid)
                rtts = [ms for group in await asyncio.gather(*(calls(op, sid)
                                                               for op, sid, _ in sessions))
                        for ms in group]
                rtt_cpu_ms = (_cpu_s(proc.pid) - cpu0) * 1000 / len(rtts)
                for op, _, req_id in sessions:
                    await op.suspend(req_id)
                await asyncio.sleep(0.5)
                cpu0 = _cpu_s(proc.pid)
                queue = await _throughput(ops, seconds, "queue")
                cpu1 = _cpu_s(proc.pid)
                cycle = await _throughput(ops, seconds, "next")
                cpu2 = _cpu_s(proc.pid)
                queue["cpu_ms"] = (cpu1 - cpu0) * 1000 / max(1, queue["requests"])
                cycle["cpu_ms"] = (cpu2 - cpu1) * 1000 / max(1, cycle["count"])
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            proc.terminate()
            proc.wait(10)
    return {"create_s": create_s, "rtt": rtts, "rtt_cpu_ms": rtt_cpu_ms, "queue": queue,
            "cycle": cycle}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each REST phase")
    parser.add_argument("--keep", metavar="DIR", help="keep the service's data dir and log here")
    return report.add_json_argument(parser)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rep = report.start(__file__, args)
    res = asyncio.run(run(args.seconds, args.keep))
    rtt = res["rtt"]
    print(f"desk service bench: {APPLICANTS} applicants on WebSocket, {OPERATORS} operators, "
          f"{os.cpu_count()} CPUs")
    print(f"  setup: {APPLICANTS} requests registered in {res['create_s']:.2f} s "
          f"({APPLICANTS / res['create_s']:.0f}/s)")
    print(f"  signalling round trip (offer→applicant→answer→operator, {len(rtt)} samples, "
          f"{len(SDP)}-byte SDP): p50 {statistics.median(rtt):.2f} ms, p99 {_pct(rtt, 99):.2f} ms, "
          f"max {max(rtt):.2f} ms; service CPU {res['rtt_cpu_ms']:.2f} ms per round trip")
    q = res["queue"]
    print(f"  GET /queue ({APPLICANTS} waiting): {q['per_s']:.0f} req/s "
          f"(p50 {q['p50']:.1f} ms, p99 {q['p99']:.1f} ms; "
          f"service CPU {q['cpu_ms']:.2f} ms/request)")
    c = res["cycle"]
    print(f"  assignment cycle (POST /queue/next + decision + re-consent): "
          f"{c['per_s']:.0f} cycles/s (queue/next p50 {c['p50']:.1f} ms, "
          f"p99 {c['p99']:.1f} ms, {c['count']} cycles; service CPU {c['cpu_ms']:.1f} ms/cycle)")
    load = os.getloadavg()
    print(f"  machine load average during the run: {load[0]:.1f} (figures scale with it)")
    rep.emit({
        "applicants": APPLICANTS, "operators": OPERATORS,
        "setup_s": res["create_s"], "setup_requests_per_s": APPLICANTS / res["create_s"],
        "rtt_samples": len(rtt), "sdp_bytes": len(SDP),
        "rtt_p50_ms": statistics.median(rtt), "rtt_p99_ms": _pct(rtt, 99),
        "rtt_max_ms": max(rtt), "rtt_service_cpu_ms": res["rtt_cpu_ms"],
        "queue_per_s": q["per_s"], "queue_p50_ms": q["p50"], "queue_p99_ms": q["p99"],
        "queue_service_cpu_ms": q["cpu_ms"],
        "cycle_per_s": c["per_s"], "cycle_count": c["count"],
        "cycle_next_p50_ms": c["p50"], "cycle_next_p99_ms": c["p99"],
        "cycle_service_cpu_ms": c["cpu_ms"],
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
