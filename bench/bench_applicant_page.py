"""The applicant's page in headless Chromium: how long each step takes, on loopback.

    .venv/bin/python -m bench.bench_applicant_page [--rounds 3] [--stills 5] [--pings 10]
                                                   [--noise 8] [--camera-size 1920x1080] [--json]

Set-up, all real: a desk service process (demo seed, tests.fixtures.desk), Debian Chromium with
a fake camera of --camera-size (default 1280x720; tests.fixtures.chromium writes the .y4m), the
page served by the service, and the aiortc operator test peer (tests.operator_peer) in this
process. Each round uses a fresh request and a fresh browser profile. Printed per step: median
and worst over the rounds.

- page → welcome: navigation until the page has the service's `welcome`.
- device check: "Avvia test" click until the result (includes the 1.5 s microphone listen).
- consent → queue position: click until the waiting room shows the pushed position.
- offer → answer: the operator's offer sent until the page's answer arrives (includes the
  page's ICE gathering, max 2 s).
- offer → connected: until ICE is connected and the control channel open.
- still: still_request sent until the last chunk and still_end arrive and the sha256 matches
  (the whole bytes received), at the camera's full size; the first --settle s after the call
  connects (default 0). Targets: median ≤ 400 ms, every
  still (the first included) ≤ 1000 ms. Each still's ms, size and format are in the JSON.
- ping: data-channel round trip.
- call video: the size of the last frame the operator peer decoded and its frame rate over the
  last 5 s of the round (the stills are taken first, so the call has run ≥ 10 s by then),
  and the page's own outbound stats (width, height, fps, quality limitation).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import report  # noqa: E402
from tests.fixtures.chromium import (  # noqa: E402
    find_chromium,
    launch_applicant,
    write_test_scene_y4m,
)
from tests.fixtures.desk import start_desk_server  # noqa: E402
from tests.operator_peer import OperatorTestPeer  # noqa: E402

TARGET_STILL_MEDIAN_MS = 400.0
TARGET_STILL_MAX_MS = 1000.0
CALL_SETTLE_S = 10.0  # the call runs at least this long before its resolution is read
#: the printed steps and their names in the JSON figures (``<name>_median_ms`` ...)
JSON_NAMES = {"page → welcome": "page_to_welcome", "device check": "device_check",
              "consent → queue position": "consent_to_queue_position",
              "offer → answer": "offer_to_answer", "offer → connected": "offer_to_connected",
              "still": "still", "still size (KiB)": "still_size",
              "ping": "ping"}
VERBOSE = "--verbose" in sys.argv


async def one_round(server: Any, chromium: str, y4m: Path, tmp: Path, stills: int, pings: int,
                    out: dict[str, list[float]], camera: tuple[int, int],
                    details: dict[str, list[Any]], settle: float) -> None:
    from playwright.async_api import async_playwright

    req = server.create_request()
    url = f"{server.base_url}/join/{req['join_token']}"
    async with async_playwright() as pw:
        browser = await launch_applicant(pw, chromium, tmp / f"profile-{req['id']}", y4m)
        peer = OperatorTestPeer(server.base_url, server.token("operatore1"))
        try:
            page = browser.pages[0] if browser.pages else await browser.new_page()
            if VERBOSE:
                page.on("console", lambda m: print("  page:", m.text))
            t = time.perf_counter()
            await page.goto(url)
            await page.wait_for_function("() => window.recognitionPage &&"
                                         " window.recognitionPage.serverState !== null")
            out["page → welcome"].append((time.perf_counter() - t) * 1000)

            await page.click("#btn-start")
            t = time.perf_counter()
            await page.click("#btn-check-run")
            await page.wait_for_selector("#btn-check-continue:not([disabled])", timeout=30000)
            out["device check"].append((time.perf_counter() - t) * 1000)

            await page.click("#btn-check-continue")
            await page.check("#consent-recording")
            await page.check("#consent-terms")
            t = time.perf_counter()
            await page.click("#btn-consent")
            await page.wait_for_function(
                "() => document.getElementById('queue-position').dataset.position !== undefined")
            out["consent → queue position"].append((time.perf_counter() - t) * 1000)

            await peer.open()
            await peer.next_applicant()
            await peer.wait_applicant_joined()
            await peer.call()
            await peer.wait_connected()
            assert peer.offer_sent_at is not None and peer.answer_at is not None
            out["offer → answer"].append((peer.answer_at - peer.offer_sent_at) * 1000)
            out["offer → connected"].append((time.perf_counter() - peer.offer_sent_at) * 1000)

            connected_at = time.perf_counter()
            begun: dict[str, float] = {}  # still id → when its still_begin arrived
            on_control = peer._on_control

            def timed_control(message: str | bytes) -> None:
                if isinstance(message, str) and '"still_begin"' in message:
                    begun[json.loads(message)["id"]] = time.perf_counter()
                on_control(message)

            assert peer.dc is not None
            peer.dc.remove_all_listeners("message")
            peer.dc.on("message", timed_control)
            await asyncio.sleep(settle)
            for i in range(stills):
                t = time.perf_counter()
                still = await peer.request_still("document_front")
                done = time.perf_counter()
                ms = (done - t) * 1000
                begin_ms = (begun.get(still.id, done) - t) * 1000
                out["still"].append(ms)
                assert (still.meta["width"], still.meta["height"]) == camera, still.meta
                out["still size (KiB)"].append(len(still.data) / 1024)
                details["stills"].append({"index": i, "ms": round(ms, 1),
                                          "begin_ms": round(begin_ms, 1),
                                          "transfer_ms": round(ms - begin_ms, 1),
                                          "bytes": len(still.data),
                                          "mime": still.meta["mime"],
                                          "width": still.meta["width"],
                                          "height": still.meta["height"]})
                await asyncio.sleep(0.2)
            for _ in range(pings):
                out["ping"].append(await peer.ping())
                await asyncio.sleep(0.05)
            ran = time.perf_counter() - connected_at
            await asyncio.sleep(max(0.0, CALL_SETTLE_S - 5.0 - ran))
            frames0, t0 = peer.video_frames, time.perf_counter()
            await asyncio.sleep(5.0)
            fps = (peer.video_frames - frames0) / (time.perf_counter() - t0)
            page_stats = peer.stats[-1] if peer.stats else {}
            details["calls"].append({
                "received": list(peer.last_video_size or (0, 0)), "received_fps": round(fps, 1),
                "after_s": round(time.perf_counter() - connected_at, 1),
                "page_sent": [page_stats.get("width"), page_stats.get("height")],
                "page_fps": page_stats.get("fps"),
                "quality_limitation": page_stats.get("quality_limitation")})
        finally:
            await peer.close()
            await browser.close()
            if peer.request_id:
                # (the service accepts an approval only with its SMS code, captures and
                # recording: a refused decision left the session open for the next round)
                server.make_approvable(peer.request_id)
                server.api("POST", f"/requests/{peer.request_id}/decision",
                           username="operatore1",
                           json={"decision_id": str(uuid.uuid4()), "decision": "approved",
                                 "reason_code": "ok", "note": ""})


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--stills", type=int, default=5)
    ap.add_argument("--pings", type=int, default=10)
    ap.add_argument("--verbose", action="store_true", help="print the page's console lines")
    ap.add_argument("--noise", type=int, default=8,
                    help="sensor-like luma noise in the fake camera (0: a clean test scene)")
    ap.add_argument("--settle", type=float, default=0.0,
                    help="seconds between the call's connection and the first still (0: at"
                         " once, while Chromium's encoder and bandwidth probing start up)")
    ap.add_argument("--camera-size", default="1280x720",
                    help="the fake camera's WIDTHxHEIGHT (default 1280x720)")
    return report.add_json_argument(ap)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rep = report.start(__file__, args)
    chromium = find_chromium()
    if chromium is None:
        print("chromium not installed (scripts/setup.sh installs it)")
        return 2
    keys = ["page → welcome", "device check", "consent → queue position", "offer → answer",
            "offer → connected", "still", "still size (KiB)", "ping"]
    out: dict[str, list[float]] = {k: [] for k in keys}
    details: dict[str, list[Any]] = {"stills": [], "calls": []}
    width, height = (int(v) for v in args.camera_size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        y4m = write_test_scene_y4m(tmp / "scene.y4m", width, height, noise=args.noise)
        server = start_desk_server(tmp / "desk")
        try:
            for _ in range(args.rounds):
                asyncio.run(one_round(server, chromium, y4m, tmp, args.stills, args.pings, out,
                                      (width, height), details, args.settle))
        finally:
            server.stop()
    print(f"applicant page, {args.rounds} rounds ({args.stills} stills, {args.pings} pings each,"
          f" camera {width}x{height}, noise ±{args.noise})")
    for k in keys:
        v = out[k]
        unit = "" if "KiB" in k else " ms"
        print(f"  {k:<26} median {statistics.median(v):8.1f}{unit}   worst {max(v):8.1f}{unit}"
              f"   n={len(v)}")
    for s in details["stills"]:
        print(f"    still {s['index']}: {s['ms']:7.1f} ms (still_begin after {s['begin_ms']:.0f}"
              f" ms, then {s['transfer_ms']:.0f} ms)  {s['bytes'] / 1024:7.1f} KiB  {s['mime']}")
    for c in details["calls"]:
        print(f"  call after {c['after_s']} s: received {c['received'][0]}x{c['received'][1]}"
              f" at {c['received_fps']} fps; page sends {c['page_sent'][0]}x{c['page_sent'][1]}"
              f" at {c['page_fps']} fps (limited by {c['quality_limitation']})")
    worst_still = max(out["still"])
    median_still = statistics.median(out["still"])
    ok = median_still <= TARGET_STILL_MEDIAN_MS and worst_still <= TARGET_STILL_MAX_MS
    print(f"  target: still median ≤ {TARGET_STILL_MEDIAN_MS:.0f} ms and every still"
          f" ≤ {TARGET_STILL_MAX_MS:.0f} ms: {'met' if ok else 'NOT met'}"
          f" (median {median_still:.0f} ms, worst {worst_still:.0f} ms)")
    figures: dict[str, Any] = {}
    for k in keys:
        unit = "kib" if "KiB" in k else "ms"
        figures[f"{JSON_NAMES[k]}_median_{unit}"] = statistics.median(out[k])
        figures[f"{JSON_NAMES[k]}_worst_{unit}"] = max(out[k])
        figures[f"{JSON_NAMES[k]}_n"] = len(out[k])
    rep.emit({**figures, "camera": f"{width}x{height}", "stills": details["stills"],
              "calls": details["calls"], "target_still_median_ms": TARGET_STILL_MEDIAN_MS,
              "target_still_max_ms": TARGET_STILL_MAX_MS, "target_met": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
