"""Does the database stall the desk service's event loop? Loop lag under concurrent requests.

A real ``recognition-desk serve --demo`` process, on SQLite (a file) and on PostgreSQL (a
throwaway cluster, ``tests.fixtures.postgres``), each twice: with the store calls in the store's
thread pool (today) and with them on the event loop (``RECOGNITION_DESK_DB_INLINE=1``: the
behaviour before the pool). ``CLIENTS`` concurrent clients each loop over a mix of database
routes: ``GET /requests/{id}`` (token lookup + 4 reads) three times in four, ``POST /requests``
(3 inserts) once in four. Meanwhile a probe asks ``GET /health`` (no database) every 10 ms: its
latency is what the loop lag does to every other request and WebSocket of the service.

Printed: one line per backend and mode; with ``--json`` then one JSON object (bench.report),
its figures ``{"clients", "seconds", "results": [{backend, mode, db_requests_per_s, db_p50_ms,
db_p99_ms, health_p50_ms, health_p99_ms, health_max_ms, health_mean_ms, errors}]}``.

Run: ``.venv/bin/python -m bench.bench_desk_db [--seconds 5] [--clients 32]
[--backends sqlite,postgresql] [--json]``. Bounded: about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import pyotp

from bench import report
from tests.fixtures.desk import request_body


def _start(data_dir: Path, db: str, inline: bool) -> tuple[subprocess.Popen[bytes], str,
                                                            dict[str, Any]]:
    exe = Path(sys.executable).with_name("recognition-desk")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "server"]
    seed = data_dir / "seed.json"
    log = (data_dir / "desk.log").open("wb")
    env = {**os.environ, "RECOGNITION_DESK_DB_INLINE": "1" if inline else "0"}
    proc = subprocess.Popen([*cmd, "--log-level", "WARNING", "serve", "--port", "0", "--demo",
                             "--data-dir", str(data_dir), "--db", db, "--seed-json", str(seed),
                             "--rate-limit", "*=1000000/1", "--exit-with-parent"],
                            stdout=subprocess.PIPE, stderr=log, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"desk service did not start: {line!r}")
    return proc, line.split()[-1], json.loads(seed.read_text())


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 2)


async def _measure(base: str, seed: dict[str, Any], seconds: float, clients: int
                   ) -> dict[str, Any]:
    api = base + "/api/v1"
    op = next(o for o in seed["operators"] if o["username"] == "supervisore1")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        r = await http.post(f"{api}/auth/login", json={
            "username": op["username"], "password": op["password"],
            "totp": pyotp.TOTP(op["totp_secret"]).now()})
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {(await r.json())['access_token']}"}
        ids = [req["id"] for req in seed["requests"]]
        db_lat: list[float] = []
        health_lat: list[float] = []
        errors = 0
        stop = time.monotonic() + seconds

        async def client(n: int) -> None:
            nonlocal errors
            k = n * 1_000_000
            while time.monotonic() < stop:
                k += 1
                t0 = time.perf_counter()
                if k % 4 == 0:
                    resp = await http.post(f"{api}/requests", json=request_body(k % 10**6))
                else:
                    resp = await http.get(f"{api}/requests/{random.choice(ids)}",
                                          headers=headers)
                await resp.read()
                db_lat.append(time.perf_counter() - t0)
                if resp.status >= 300:
                    errors += 1

        async def probe() -> None:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                resp = await http.get(f"{api}/health")
                await resp.read()
                health_lat.append(time.perf_counter() - t0)
                await asyncio.sleep(0.01)

        await asyncio.gather(probe(), *(client(i) for i in range(clients)))
    return {"db_requests_per_s": round(len(db_lat) / seconds, 1),
            "db_p50_ms": _pct(db_lat, 0.5), "db_p99_ms": _pct(db_lat, 0.99),
            "health_p50_ms": _pct(health_lat, 0.5), "health_p99_ms": _pct(health_lat, 0.99),
            "health_max_ms": round(max(health_lat, default=0) * 1000, 2),
            "health_mean_ms": round(statistics.fmean(health_lat) * 1000, 2) if health_lat
            else 0.0, "errors": errors}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--backends", default="sqlite,postgresql")
    return report.add_json_argument(ap)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    rep = report.start(__file__, args)
    cluster = None
    results = []
    try:
        for backend in args.backends.split(","):
            for mode in ("pool", "inline"):
                with tempfile.TemporaryDirectory(prefix="bench-desk-db-") as tmp:
                    if backend == "postgresql":
                        if cluster is None:
                            from tests.fixtures.postgres import PostgresCluster, find_bindir

                            bindir = find_bindir()
                            if bindir is None:
                                raise SystemExit("PostgreSQL binaries not found")
                            cluster = PostgresCluster(bindir)
                        db = cluster.new_database(migrated=True)
                    else:
                        db = str(Path(tmp) / "desk.sqlite3")
                    proc, base, seed = _start(Path(tmp), db, inline=mode == "inline")
                    try:
                        got = asyncio.run(_measure(base, seed, args.seconds, args.clients))
                    finally:
                        proc.terminate()
                        proc.wait(10)
                    results.append({"backend": backend, "mode": mode, **got})
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"desk service loop lag: {args.clients} clients, {args.seconds:g} s per run, "
          f"{os.cpu_count()} CPUs")
    for r in results:
        print(f"  {r['backend']:<10} {r['mode']:<6}: {r['db_requests_per_s']:.1f} db req/s "
              f"(p50 {r['db_p50_ms']:.2f} ms, p99 {r['db_p99_ms']:.2f} ms); /health p50 "
              f"{r['health_p50_ms']:.2f} ms, p99 {r['health_p99_ms']:.2f} ms, max "
              f"{r['health_max_ms']:.2f} ms, mean {r['health_mean_ms']:.2f} ms; "
              f"errors {r['errors']}")
    rep.emit({"clients": args.clients, "seconds": args.seconds, "results": results})


if __name__ == "__main__":
    main()
