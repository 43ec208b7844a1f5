"""Scale-out benchmark: one desk-service instance against two, on PostgreSQL behind nginx.

Real parts: the run's throwaway PostgreSQL cluster (``tests.fixtures.postgres``), one or two
``recognition-desk serve --demo`` processes on one database (the second shares the first's data
dir: keys, evidence storage) and Debian nginx in front (round-robin, no sticky sessions:
``tests.fixtures.nginx``). Every client goes through nginx in both set-ups, so the two figures
differ only by the instances behind it. A SQLite single instance (no proxy) is measured too, as
the embedded default's reference.

Load: ``--applicants`` (2,000) waiting with the page open (WebSocket, consent given) and
``--operators`` (100) signed in, each with a WebSocket subscribed to the queue. Measured:

* signalling round trip: operator ``offer`` → applicant (often on the other instance) → its
  ``answer`` → operator; p50/p99 over ``--operators`` × 10 round trips, each after a random
  pause of 0.2–1 s (calls start at random moments: ≈ 170 offers a second in all), and again
  with every operator sending back to back at the same instant (the worst case, printed too);
* ``GET /queue`` throughput with every operator polling at once for ``--seconds``.

Printed: one line per set-up, then the ratio of the two-instance ``GET /queue`` throughput to
the single instance's. On a 2-core machine the load generator, PostgreSQL, nginx and the
instances share the same two cores, so the ratio says more about that than about the service:
read it with ``os.cpu_count()`` (printed). With ``--json`` the same figures follow as one
JSON object on the last line (bench.report): ``results`` (one entry per set-up) and
``queue_ratio_2_over_1``.

Run: ``.venv/bin/python -m bench.bench_desk_scale [--applicants 2000] [--operators 100]
[--seconds 5] [--json]``. Bounded: a few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import pyotp

from bench import report
from bench.bench_desk import Applicant, Operator, _login, _pct, _throughput, register

ROUND_TRIPS = 10
#: the pause before each paced round trip (s): 100 operators then start ≈ 170 calls a second
PACE_S = (0.2, 1.0)


async def _operators(http: aiohttp.ClientSession, base: str, seed: dict[str, Any], count: int,
                     tag: str) -> list[Operator]:
    sup = next(o for o in seed["operators"] if o["username"] == "admin1")
    sup_token = await _login(http, base, sup["username"], sup["password"], sup["totp_secret"])
    hdr = {"Authorization": f"Bearer {sup_token}"}
    sem = asyncio.Semaphore(8)

    async def one(i: int) -> Operator:
        username, password = f"scale.{tag}.{i:03d}", "Bench-Password-2026!"
        async with sem:
            async with http.post(f"{base}/api/v1/operators", headers=hdr, json={
                    "username": username, "display_name": f"Bench {i}", "role": "operator",
                    "password": password}) as r:
                op_id = (await r.json())["id"]
            async with http.post(f"{base}/api/v1/operators/{op_id}/totp", headers=hdr) as r:
                secret = pyotp.parse_uri((await r.json())["otpauth_uri"]).secret
            token = await _login(http, base, username, password, secret)
        return Operator(http, base, token)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _measure(base: str, seed: dict[str, Any], applicants: int, operators: int,
                   seconds: float, tag: str) -> dict[str, Any]:
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as http:
        # each set-up its own applicants (distinct codici fiscali and mobiles), the same every run
        offset = {"1s": 0, "1p": 300_000, "2p": 600_000}.get(tag, 900_000)
        tokens = await register(http, base, range(offset, offset + applicants), concurrency=32)
        ws_url = base.replace("http", "ws", 1)
        people = [Applicant(http, ws_url, t) for t in tokens]
        events = [asyncio.Event() for _ in people]
        tasks = []
        for a, e in zip(people, events, strict=True):
            tasks.append(asyncio.create_task(a.run(e)))
            await asyncio.sleep(0)  # connect gradually
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 300)
        ops = await _operators(http, base, seed, operators, tag)
        for op in ops:
            await op.connect()
        await asyncio.sleep(2.0)  # the consents and presence land
        sessions = []
        for op in ops:
            status, body, _ = await op.next()
            if status == 200 and body is not None:
                sessions.append((op, body["session_id"], body["request"]["id"]))

        async def burst(op: Operator, sid: str) -> list[float]:
            return [await op.round_trip(sid) for _ in range(ROUND_TRIPS)]

        async def paced(op: Operator, sid: str, rng: random.Random) -> list[float]:
            out = []
            for _ in range(ROUND_TRIPS):
                await asyncio.sleep(rng.uniform(*PACE_S))
                out.append(await op.round_trip(sid))
            return out

        # calls start at random moments, as operators' calls do (the target's figure) ...
        rtts = [ms for group in await asyncio.gather(*(paced(op, sid, random.Random(i))
                                                       for i, (op, sid, _)
                                                       in enumerate(sessions)))
                for ms in group]
        # ... and every operator at the same instant, back to back (the worst case, shown too)
        bursts = [ms for group in await asyncio.gather(*(burst(op, sid)
                                                         for op, sid, _ in sessions))
                  for ms in group]
        for op, _, req_id in sessions:
            await op.suspend(req_id)
        await asyncio.sleep(0.5)
        queue = await _throughput(ops, seconds, "queue")
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"rtt_p50": statistics.median(rtts) if rtts else float("nan"),
            "rtt_p99": _pct(rtts, 99) if rtts else float("nan"), "rtt_n": len(rtts),
            "burst_p50": statistics.median(bursts) if bursts else float("nan"),
            "burst_p99": _pct(bursts, 99) if bursts else float("nan"),
            "queue_per_s": queue["per_s"], "queue_p50": queue["p50"], "queue_p99": queue["p99"]}


def _setup(tmp: Path, instances: int, backend: str) -> tuple[list[Any], Any, str, dict[str, Any]]:
    from tests.fixtures.desk import DeskServer
    from tests.fixtures.nginx import free_port, start_proxy

    os.environ["RECOGNITION_TEST_DB"] = backend
    limits = ("--rate-limit", "*=1000000/1", "--log-level", "WARNING")
    if backend == "sqlite":
        desk = DeskServer(tmp / "desk", ("--rate-limit", "*=1000000/1"))
        return [desk], None, desk.base_url, desk.seed
    port = free_port()
    public = ("--public-url", f"http://127.0.0.1:{port}")
    first = DeskServer(tmp / "desk", (*public, *limits[:2]), name="desk-1")
    desks = [first]
    for i in range(2, instances + 1):
        desks.append(DeskServer(tmp / "desk", (*public, *limits[:2]), share_with=first,
                                name=f"desk-{i}"))
    proxy = start_proxy(tmp / "nginx", [d.port for d in desks], port=port)
    return desks, proxy, proxy.base_url, first.seed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=2000)
    parser.add_argument("--operators", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    return report.add_json_argument(parser)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rep = report.start(__file__, args)
    setups: list[dict[str, Any]] = []
    results: dict[str, dict[str, Any]] = {}
    for name, instances, backend in (("sqlite, 1 instance", 1, "sqlite"),
                                     ("postgresql, 1 instance + nginx", 1, "postgresql"),
                                     ("postgresql, 2 instances + nginx", 2, "postgresql")):
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            desks, proxy, base, seed = _setup(Path(tmp), instances, backend)
            try:
                t0 = time.perf_counter()
                results[name] = asyncio.run(_measure(base, seed, args.applicants,
                                                     args.operators, args.seconds,
                                                     f"{instances}{backend[0]}"))
                results[name]["setup_s"] = time.perf_counter() - t0
            finally:
                if proxy is not None:
                    proxy.stop()
                for d in reversed(desks):
                    d.stop()
        r = results[name]
        print(f"{name}: signalling round trip p50 {r['rtt_p50']:.1f} ms, p99 "
              f"{r['rtt_p99']:.1f} ms ({r['rtt_n']} samples; all operators at once: p50 "
              f"{r['burst_p50']:.1f}, p99 {r['burst_p99']:.1f} ms); GET /queue "
              f"{r['queue_per_s']:.0f} req/s (p50 {r['queue_p50']:.0f} ms, p99 "
              f"{r['queue_p99']:.0f} ms)", flush=True)
        setups.append({"setup": name, "backend": backend, "instances": instances,
                       "proxy": proxy is not None, "rtt_p50_ms": r["rtt_p50"],
                       "rtt_p99_ms": r["rtt_p99"], "rtt_samples": r["rtt_n"],
                       "burst_rtt_p50_ms": r["burst_p50"], "burst_rtt_p99_ms": r["burst_p99"],
                       "queue_per_s": r["queue_per_s"], "queue_p50_ms": r["queue_p50"],
                       "queue_p99_ms": r["queue_p99"], "run_s": r["setup_s"]})
    one = results["postgresql, 1 instance + nginx"]["queue_per_s"]
    two = results["postgresql, 2 instances + nginx"]["queue_per_s"]
    print(f"GET /queue throughput, 2 instances / 1 instance: {two / one:.2f}x "
          f"({args.applicants} applicants, {args.operators} operators, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f})")
    from tests.fixtures.postgres import _cluster

    if _cluster is not None:
        _cluster.stop()
    rep.emit({"applicants": args.applicants, "operators": args.operators, "results": setups,
              "queue_ratio_2_over_1": two / one})
    return 0


if __name__ == "__main__":
    sys.exit(main())
