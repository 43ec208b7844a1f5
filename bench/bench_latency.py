"""Glass-to-glass latency of the applicant's video and CPU of the engine process, side by side
with headless Chromium receiving the same stream (the reference receiver).

    .venv/bin/python -m bench.bench_latency [--seconds 25] [--width 1280 --height 720 --fps 30]
                                            [--reference chromium|none] [--json]

Ours, all real and on loopback: a desk service process (demo seed), the synthetic applicant
as a separate process (`python -m demo.applicant`, 720p30, frame stamp = its `time.time()` in
ms when the frame is made), and MediaEngine in this process. A "screen" thread plays the UI: on
each on_remote_frame it takes `latest_remote_frame()`, copies the three yuv420p planes (what
the UI does into a mapped QVideoFrame) and reads the latency at that moment. Latency therefore
covers frame generation -> VP8 encode -> RTP/UDP -> jitter buffer -> decode -> hand-over to the
screen (not the display's own refresh).

CPU: getrusage(RUSAGE_SELF) of this process (engine loop + decoder threads + screen thread)
over the measurement window, in % of one core. Besides receiving, the engine sends its own
placeholder picture (640x360 at 10 fps, no camera) and silence. Targets: p50 <= 100 ms,
p95 <= 150 ms, CPU <= 100 % (one core).

Reference (`--reference chromium`, the default; `none` skips it; it runs after ours, never at
the same time): the same sender (demo.applicant's SceneRenderer + SyntheticVideoTrack +
SyntheticAudioTrack, same size, rate, VP8, flashes and stamp; here in this process's asyncio
loop instead of a child process) answers a receive-only offer from headless Debian Chromium
(Playwright; SDP exchanged through `page.evaluate`, ICE on loopback, no desk). The page
(bench/latency_receiver.html) plays the stream in a 1280x720 <video> (software compositing:
`--disable-gpu`, as everywhere in this repo) and, in requestVideoFrameCallback, takes the
presented frame (`new VideoFrame(video)`), copies out only the 784x16 stamp strip and decodes
the stamp as media/framestamp.read_plane does. Chromium's latency is the wall clock at
`presentationTime` (the frame submitted for composition: its "handed to the screen") minus the
stamp; both clocks are this machine's CLOCK_REALTIME (Date.now() / time.time(); the page's
performance clock is offset onto Date.now() when recording starts). Reading the stamp adds one
VideoFrame wrap and an 18 KiB copy (the strip's three planes) per frame to Chromium's
renderer: its time per frame is printed (`stamp_read_p50_ms`: 0.1 ms here, about 0.003 cores
at 30 fps, counted in Chromium's CPU). The bitrate is each receiver's own (its bandwidth
estimate, sent back as REMB, sets the sender's VP8 target): both are printed.
Chromium's CPU: utime + stime from /proc of every Chromium process (browser, zygotes,
renderer, GPU, network/audio utilities) over the same-length window, in cores; Playwright's
Node driver is not counted. Printed: both {p50, p95, cores} and ours / Chromium's for each.
Target: receive + render CPU <= 1.2x Chromium's. The whole run takes about
2 x (seconds + warmup) + 20 s; Chromium missing: exit status 2 before anything runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import report  # noqa: E402
from media.api import CallState, NullListener  # noqa: E402
from media.engine import MediaEngine  # noqa: E402

TARGET_P50 = 100.0
TARGET_P95 = 150.0
TARGET_CPU = 100.0


class Screen(NullListener):
    """Stands in for the UI: wakes on on_remote_frame, takes the latest frame, copies it."""

    def __init__(self, engine_ref: list[MediaEngine]) -> None:
        self._engine_ref = engine_ref
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.state = CallState.IDLE
        self.recording = False
        self.latencies: list[float] = []
        self.decode_latencies: list[float] = []
        self.shown = 0
        self.copy_ms: list[float] = []
        self._last_seq = -1
        self.thread = threading.Thread(target=self._run, name="bench-screen", daemon=True)

    def on_call_state(self, state: CallState) -> None:
        self.state = state

    def on_remote_frame(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._wake.wait(0.2):
                continue
            self._wake.clear()
            rf = self._engine_ref[0].latest_remote_frame()
            if rf is None or rf.seq == self._last_seq:
                continue
            self._last_seq = rf.seq
            t0 = time.perf_counter()
            planes = [np.frombuffer(memoryview(p), np.uint8).copy() for p in rf.frame.planes]
            self.copy_ms.append((time.perf_counter() - t0) * 1000)
            latency = rf.latency_now_ms()
            del planes
            if self.recording and latency is not None:
                self.latencies.append(latency)
                if rf.latency_ms is not None:
                    self.decode_latencies.append(rf.latency_ms)
                self.shown += 1

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)


class SyncProbe:
    """Media sink: arrival times of the applicant's white flashes and 1 kHz beeps."""

    def __init__(self) -> None:
        self.flashes: list[float] = []
        self.beeps: list[float] = []
        self._in_flash = False
        self._in_beep = False

    def __call__(self, kind: str, frame: Any, ts: float) -> None:
        if kind == "applicant_video":
            plane = frame.planes[0]
            row = np.frombuffer(memoryview(plane), np.uint8, count=plane.line_size * 400)
            white = float(row[plane.line_size * 360 : plane.line_size * 361].mean()) > 230
            if white and not self._in_flash:
                self.flashes.append(ts)
            self._in_flash = white
        elif kind == "applicant_audio":
            pcm = frame.to_ndarray().astype(np.float32).reshape(-1)
            scale = 1.0 if frame.format.name.startswith("flt") else 32768.0
            loud = np.flatnonzero(np.abs(pcm) / scale > 0.3)
            if loud.size and not self._in_beep:
                channels = frame.layout.nb_channels if not frame.format.is_planar else 1
                self.beeps.append(ts + (loud[0] // channels) / frame.sample_rate)
            self._in_beep = bool(loud.size)

    def offsets_ms(self) -> list[float]:
        """Audio onset minus video onset for each flash (positive: audio arrives later)."""
        out = []
        for f in self.flashes:
            near = [b - f for b in self.beeps if abs(b - f) < 1.0]
            if near:
                out.append(1000.0 * min(near, key=abs))
        return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=25.0, help="measurement window (>= 20)")
    ap.add_argument("--warmup", type=float, default=4.0)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--flash-period", type=float, default=2.0,
                    help="white flash + beep period of the applicant (A/V offset); 0 = off")
    ap.add_argument("--stock-jitter", action="store_true",
                    help="aiortc's own jitter buffer (frame released by the next frame)")
    ap.add_argument("--reference", choices=("chromium", "none"), default="chromium",
                    help="also let headless Chromium receive the same stream and print ours as"
                         " a ratio to it (default chromium; none: ours only)")
    return report.add_json_argument(ap)


def run_ours(args: argparse.Namespace) -> dict[str, Any]:
    """The console's receive path (MediaEngine + the screen thread): prints and returns the
    figures."""
    from tests.fixtures.desk import start_desk_server

    load_start = report.load_average()
    tmp = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    desk = start_desk_server(tmp / "desk")
    applicant: subprocess.Popen[bytes] | None = None
    engine_ref: list[MediaEngine] = []
    screen = Screen(engine_ref)
    engine = MediaEngine(screen, camera=None, microphone=None,
                         low_latency=not args.stock_jitter)
    engine_ref.append(engine)
    probe = SyncProbe()
    engine.add_media_sink(probe)
    try:
        rossi = desk.seed_request("ROSSI")
        env = {**os.environ, "SYNTHETIC_JOIN_TOKEN": rossi["join_token"]}
        log = (tmp / "applicant.log").open("wb")
        applicant = subprocess.Popen(
            [sys.executable, "-m", "demo.applicant", "--desk", desk.base_url,
             "--width", str(args.width), "--height", str(args.height), "--fps", str(args.fps),
             "--flash-period", str(args.flash_period), "--audio", "silence", "--no-otp"],
            cwd=str(REPO), env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while desk.api("GET", "/queue", username="operatore1").json()["length"] < 1:
            if time.monotonic() > deadline or applicant.poll() is not None:
                raise RuntimeError("the synthetic applicant did not reach the queue")
            time.sleep(0.2)
        session_id = desk.api("POST", "/queue/next", username="operatore1").json()["session_id"]

        screen.thread.start()
        engine.start()
        engine.start_call(desk.base_url, desk.token("operatore1"), session_id, []).result(15)
        deadline = time.monotonic() + 30
        while screen.state is not CallState.CONNECTED:
            if time.monotonic() > deadline:
                raise RuntimeError("call did not connect")
            time.sleep(0.05)
        time.sleep(args.warmup)

        frames0, dropped0 = engine.frames_received, engine.frames_dropped
        cpu0, wall0 = cpu_seconds(), time.monotonic()
        screen.recording = True
        time.sleep(args.seconds)
        screen.recording = False
        cpu1, wall1 = cpu_seconds(), time.monotonic()
        load_end = report.load_average()
        frames = engine.frames_received - frames0
        dropped = engine.frames_dropped - dropped0
        quality = engine.last_quality
        engine.hang_up().result(10)
    finally:
        engine.stop(15)
        screen.stop()
        if applicant is not None:
            applicant.terminate()
            try:
                applicant.wait(15)
            except subprocess.TimeoutExpired:
                applicant.kill()
        desk.stop()

    lat = screen.latencies
    wall = wall1 - wall0
    cpu_pct = 100.0 * (cpu1 - cpu0) / wall
    p50, p95 = pct(lat, 50), pct(lat, 95)
    print(f"bench_latency: {args.width}x{args.height}@{args.fps} synthetic applicant -> "
          f"MediaEngine over a real desk, loopback, {wall:.1f} s window, {os.cpu_count()} CPUs, "
          f"load average {load_start[0]:.1f} -> {load_end[0]:.1f}, "
          f"jitter buffer {'aiortc stock' if args.stock_jitter else 'marker-bit'}")
    print(f"  frames received {frames} ({frames / wall:.1f} fps), skipped as stale {dropped}, "
          f"handed to the screen {screen.shown}")
    print(f"  glass-to-glass (stamp -> handed to screen) ms: p50 {p50:.1f}  p95 {p95:.1f}  "
          f"p99 {pct(lat, 99):.1f}  max {max(lat) if lat else float('nan'):.1f}  "
          f"mean {statistics.fmean(lat) if lat else float('nan'):.1f}  (n={len(lat)})")
    print(f"  stamp -> out of decoder ms: p50 {pct(screen.decode_latencies, 50):.1f}  "
          f"p95 {pct(screen.decode_latencies, 95):.1f}")
    print(f"  plane copy per frame ms: p50 {pct(screen.copy_ms, 50):.2f}")
    print(f"  engine process CPU: {cpu_pct:.0f} % of one core")
    if quality is not None:
        print(f"  quality at the end: {quality.level.value} rtt {quality.rtt_ms} ms, "
              f"loss {quality.loss_pct} %, jitter {quality.jitter_ms} ms, "
              f"bitrate {quality.bitrate_kbps} kbps, page fps {quality.remote_fps}")
    offsets = probe.offsets_ms()
    from media.engine import AUDIO_SINK_OFFSET_S

    engine_offset_ms = AUDIO_SINK_OFFSET_S * 1000
    if offsets:
        print(f"  A/V at the engine's media sinks (beep onset - flash arrival) ms: median "
              f"{statistics.median(offsets):.0f}, range {min(offsets):.0f}..{max(offsets):.0f} "
              f"(n={len(offsets)}; received audio back-dated {engine_offset_ms:.0f} ms)")
    ok = p50 <= TARGET_P50 and p95 <= TARGET_P95 and cpu_pct <= TARGET_CPU
    print(f"  targets p50 <= {TARGET_P50:.0f} ms, p95 <= {TARGET_P95:.0f} ms, "
          f"CPU <= {TARGET_CPU:.0f} %: {'MET' if ok else 'NOT MET'}")
    return {
        "jitter_buffer": "aiortc stock" if args.stock_jitter else "marker-bit",
        "window_s": wall,
        "load_average_window": {"start": load_start, "end": load_end},
        "frames_received": frames, "received_fps": frames / wall,
        "frames_stale": dropped, "frames_shown": screen.shown,
        "latency_p50_ms": p50, "latency_p95_ms": p95, "latency_p99_ms": pct(lat, 99),
        "latency_max_ms": max(lat) if lat else None,
        "latency_mean_ms": statistics.fmean(lat) if lat else None, "latency_n": len(lat),
        "decoder_latency_p50_ms": pct(screen.decode_latencies, 50),
        "decoder_latency_p95_ms": pct(screen.decode_latencies, 95),
        "plane_copy_p50_ms": pct(screen.copy_ms, 50),
        "engine_cpu_pct": cpu_pct,
        "quality_end": None if quality is None else {
            "level": quality.level.value, "rtt_ms": quality.rtt_ms,
            "loss_pct": quality.loss_pct, "jitter_ms": quality.jitter_ms,
            "bitrate_kbps": quality.bitrate_kbps, "page_fps": quality.remote_fps},
        "av_offset_median_ms": statistics.median(offsets) if offsets else None,
        "av_offset_min_ms": min(offsets) if offsets else None,
        "av_offset_max_ms": max(offsets) if offsets else None,
        "av_offset_n": len(offsets),
        "audio_backdate_ms": engine_offset_ms,
        "target_latency_p50_ms": TARGET_P50, "target_latency_p95_ms": TARGET_P95,
        "target_engine_cpu_pct": TARGET_CPU, "targets_met": ok,
    }


# ---------------------------------------------------------------- the reference receiver ---
RECEIVER_PAGE = Path(__file__).with_name("latency_receiver.html")
TARGET_CPU_RATIO = 1.2
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (field 3, the state, is index 0)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (children, grandchildren...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _proc_stat(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def chromium_processes() -> dict[int, str]:
    """This process's Chromium descendants (through Playwright's driver): pid -> its --type
    (``browser`` for the main process)."""
    found: dict[int, str] = {}
    for pid in descendants(os.getpid()):
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
            # NUL-separated; the children rewrite theirs into one space-separated string
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
        except OSError:
            continue
        if "chrom" not in Path(exe).name:
            continue
        kind_m = re.search(r"--type=(\S+)", cmdline)
        kind = kind_m.group(1) if kind_m else "browser"
        sub = re.search(r"--utility-sub-type=(\S+)", cmdline)
        if kind == "utility" and sub:
            kind = sub.group(1).split(".")[-1]  # NetworkService, AudioService...
        found[pid] = kind
    return found


def process_cpu_s(pid: int) -> float | None:
    fields = _proc_stat(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime + stime


def chromium_cpu() -> dict[int, tuple[str, float]]:
    out: dict[int, tuple[str, float]] = {}
    for pid, kind in chromium_processes().items():
        cpu = process_cpu_s(pid)
        if cpu is not None:
            out[pid] = (kind, cpu)
    return out


def chromium_problem() -> str | None:
    """Why the reference cannot run here, or None."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make setup)"
    from tests.fixtures.chromium import find_chromium

    if find_chromium() is None:
        return "Chromium is not installed (scripts/setup.sh installs Debian's chromium)"
    if not RECEIVER_PAGE.is_file():
        return f"{RECEIVER_PAGE} is missing"
    return None


async def _reference(args: argparse.Namespace) -> dict[str, Any]:
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from playwright.async_api import async_playwright

    from demo.applicant.scene import SceneRenderer
    from demo.applicant.tracks import SceneState, SyntheticAudioTrack, SyntheticVideoTrack
    from media.net import rtc_configuration
    from tests.fixtures.chromium import find_chromium

    chromium = find_chromium()
    assert chromium is not None
    renderer = SceneRenderer(args.width, args.height)
    state = SceneState(flash_period=args.flash_period)
    pc = RTCPeerConnection(rtc_configuration([]))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, headless=True,
                                           args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page(viewport={"width": args.width,
                                                    "height": args.height})
            await page.goto(RECEIVER_PAGE.resolve().as_uri())
            offer = await page.evaluate("bench.offer()")
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            pc.addTrack(SyntheticAudioTrack(state, "silence"))
            pc.addTrack(SyntheticVideoTrack(renderer, state, args.fps))
            await pc.setLocalDescription(await pc.createAnswer())
            await page.evaluate("sdp => bench.answer(sdp)", pc.localDescription.sdp)
            deadline = time.monotonic() + 30
            while (await page.evaluate("bench.framesShown()")) < 1:
                if time.monotonic() > deadline:
                    raise RuntimeError("Chromium showed no frame within 30 s (connection "
                                       f"{await page.evaluate('bench.connectionState()')})")
                await asyncio.sleep(0.2)
            await asyncio.sleep(args.warmup)

            load_start = report.load_average()
            inbound0 = await page.evaluate("bench.inbound()")
            cpu0 = chromium_cpu()
            wall0 = time.monotonic()
            await page.evaluate("bench.start()")
            await asyncio.sleep(args.seconds)
            result: dict[str, Any] = await page.evaluate("bench.stop()")
            cpu1 = chromium_cpu()
            wall1 = time.monotonic()
            load_end = report.load_average()
            inbound1 = await page.evaluate("bench.inbound()")
        finally:
            await pc.close()
            await browser.close()
    wall = wall1 - wall0
    by_kind: dict[str, float] = {}
    for pid, (kind, cpu) in cpu1.items():
        before = cpu0.get(pid, (kind, 0.0))[1]
        by_kind[kind] = by_kind.get(kind, 0.0) + (cpu - before) / wall
    gone = sorted(set(cpu0) - set(cpu1))
    return {"page": result, "inbound0": inbound0, "inbound1": inbound1, "wall": wall,
            "cores_by_process": by_kind, "processes": len(cpu1), "processes_gone": len(gone),
            "load_start": load_start, "load_end": load_end}


def run_reference(args: argparse.Namespace) -> dict[str, Any]:
    """Headless Chromium receives the same stream: prints and returns its figures."""
    logging.getLogger("aioice").setLevel(logging.ERROR)
    raw = asyncio.run(asyncio.wait_for(_reference(args), args.warmup + args.seconds + 90))
    page, wall = raw["page"], raw["wall"]
    if page.get("error"):
        print(f"  (the page reported: {page['error']})")
    lat = [float(x) for x in page["latencies"]]
    display = [float(x) for x in page["displayLatencies"]]
    receive = [float(x) for x in page["receiveLatencies"]]
    i0, i1 = raw["inbound0"], raw["inbound1"]

    def delta(key: str) -> float:
        return float(i1.get(key, 0) or 0) - float(i0.get(key, 0) or 0)

    stats_s = delta("timestamp") / 1000 or wall  # between the two getStats
    decoded = delta("framesDecoded")
    bitrate = delta("bytesReceived") * 8 / stats_s / 1000
    decode_ms = 1000 * delta("totalDecodeTime") / decoded if decoded else float("nan")
    jb_count = delta("jitterBufferEmittedCount")
    jb_ms = 1000 * delta("jitterBufferDelay") / jb_count if jb_count else float("nan")
    presented = None
    if page["firstPresented"] is not None and page["lastPresented"] is not None:
        presented = int(page["lastPresented"]) - int(page["firstPresented"]) + 1
    cores = sum(raw["cores_by_process"].values())
    p50, p95 = pct(lat, 50), pct(lat, 95)
    size = max(page["sizes"], key=page["sizes"].get) if page["sizes"] else "?"
    print(f"reference: headless Chromium ({i1.get('codec')}, {size}, frame {page['format']}) "
          f"receives the same sender, {wall:.1f} s window, load average "
          f"{raw['load_start'][0]:.1f} -> {raw['load_end'][0]:.1f}")
    print(f"  frames decoded {decoded:.0f} ({decoded / stats_s:.1f} fps), dropped "
          f"{delta('framesDropped'):.0f}, presented {presented} (callbacks {page['callbacks']}, "
          f"stamp unreadable {page['unreadable']}), video {bitrate:.0f} kbps")
    print(f"  glass-to-glass (stamp -> presented for composition) ms: p50 {p50:.1f}  "
          f"p95 {p95:.1f}  p99 {pct(lat, 99):.1f}  max {max(lat) if lat else float('nan'):.1f}"
          f"  (n={len(lat)}); to expected display p50 {pct(display, 50):.1f}; "
          f"to receive p50 {pct(receive, 50):.1f}")
    print(f"  Chromium's jitter buffer {jb_ms:.1f} ms, decode {decode_ms:.2f} ms a frame (its "
          f"getStats); stamp read in the page p50 {pct(page['stampReadMs'], 50):.2f} ms")
    kinds = ", ".join(f"{k} {v:.2f}" for k, v in sorted(raw["cores_by_process"].items(),
                                                         key=lambda kv: -kv[1]))
    print(f"  Chromium CPU: {cores:.2f} cores over {raw['processes']} processes ({kinds})")
    return {
        "receiver": "headless Chromium",
        "window_s": wall,
        "load_average_window": {"start": raw["load_start"], "end": raw["load_end"]},
        "codec": i1.get("codec"), "frame_size": size, "frame_format": page["format"],
        "frames_decoded": decoded, "decoded_fps": decoded / stats_s,
        "frames_dropped": delta("framesDropped"), "frames_presented": presented,
        "frame_callbacks": page["callbacks"], "stamp_unreadable": page["unreadable"],
        "video_bitrate_kbps": bitrate,
        "latency_p50_ms": p50, "latency_p95_ms": p95, "latency_p99_ms": pct(lat, 99),
        "latency_max_ms": max(lat) if lat else None,
        "latency_mean_ms": statistics.fmean(lat) if lat else None, "latency_n": len(lat),
        "display_latency_p50_ms": pct(display, 50), "display_latency_p95_ms": pct(display, 95),
        "receive_latency_p50_ms": pct(receive, 50),
        "jitter_buffer_ms": jb_ms, "decode_ms": decode_ms,
        "page_clock_offset_ms": page["clockOffsetMs"],
        "stamp_read_p50_ms": pct(page["stampReadMs"], 50),
        "stamp_read_p95_ms": pct(page["stampReadMs"], 95),
        "cpu_cores": cores, "cpu_cores_by_process": raw["cores_by_process"],
        "processes": raw["processes"], "processes_gone": raw["processes_gone"],
    }


def ratio(ours: float, theirs: float) -> float:
    ok = math.isfinite(ours) and math.isfinite(theirs) and theirs > 0
    return ours / theirs if ok else float("nan")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rep = report.start(__file__, args)
    logging.basicConfig(level=logging.WARNING)
    if args.reference == "chromium":
        problem = chromium_problem()
        if problem is not None:
            print(f"bench_latency: cannot run the Chromium reference: {problem}; "
                  "`--reference none` measures ours only", file=sys.stderr)
            print(f"bench_latency: no Chromium reference ({problem})")
            return 2

    figures = run_ours(args)
    if args.reference == "chromium":
        ref = run_reference(args)
        ours_cores = figures["engine_cpu_pct"] / 100
        ratios = {"latency_p50": ratio(figures["latency_p50_ms"], ref["latency_p50_ms"]),
                  "latency_p95": ratio(figures["latency_p95_ms"], ref["latency_p95_ms"]),
                  "cpu": ratio(ours_cores, ref["cpu_cores"])}
        cpu_ok = ratios["cpu"] <= TARGET_CPU_RATIO
        print("side by side        ours    Chromium   ours/Chromium")
        print(f"  latency p50 ms  {figures['latency_p50_ms']:7.1f}  {ref['latency_p50_ms']:9.1f}"
              f"   {ratios['latency_p50']:.2f}")
        print(f"  latency p95 ms  {figures['latency_p95_ms']:7.1f}  {ref['latency_p95_ms']:9.1f}"
              f"   {ratios['latency_p95']:.2f}")
        print(f"  CPU cores       {ours_cores:7.2f}  {ref['cpu_cores']:9.2f}   {ratios['cpu']:.2f}")
        print(f"  target receive + render CPU <= {TARGET_CPU_RATIO}x Chromium's: "
              f"{'MET' if cpu_ok else 'NOT MET'}")
        figures["ours"] = {"latency_p50_ms": figures["latency_p50_ms"],
                           "latency_p95_ms": figures["latency_p95_ms"],
                           "cpu_cores": ours_cores}
        figures["reference"] = ref
        figures["ratio"] = {**ratios, "target_cpu": TARGET_CPU_RATIO, "cpu_met": cpu_ok}
    rep.emit(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
