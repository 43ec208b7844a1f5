"""bench.bench_latency side by side with headless Chromium: a short real run (3 s windows).

The synthetic applicant's stream goes to our MediaEngine, then the same sender's stream to
headless Chromium (bench/latency_receiver.html); the JSON must carry both receivers' latency
and CPU and the ratios. Numbers are only checked for plausibility (not the targets: this runs
on a shared, loaded machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import bench_latency
from tests.fixtures.chromium import find_chromium

ROOT = Path(__file__).resolve().parent.parent


def test_decoding_the_stamp_in_the_page_matches_framestamp() -> None:
    # the page's constants are media/framestamp's (a cheap guard against drifting apart)
    from media import framestamp

    page = bench_latency.RECEIVER_PAGE.read_text(encoding="utf-8")
    assert (f"const BLOCK = {framestamp.BLOCK}, BITS = {framestamp.BITS}, "
            f"MARKER = {framestamp.MARKER}") in page
    assert (f"const LOW = {framestamp._LOW}, HIGH = {framestamp._HIGH}, "
            f"INNER0 = {framestamp._INNER0}, INNER1 = {framestamp._INNER1}") in page


@pytest.mark.slow
@pytest.mark.chromium
def test_side_by_side_with_chromium_prints_both_and_the_ratios() -> None:
    if find_chromium() is None:
        pytest.skip("Chromium is not installed (scripts/setup.sh installs it)")
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_latency", "--seconds", "3", "--warmup", "1",
         "--reference", "chromium", "--json"],
        cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    assert doc["bench"] == "bench.bench_latency" and doc["args"]["reference"] == "chromium"

    ours, ref, ratio = doc["ours"], doc["reference"], doc["ratio"]
    for side in (ours, ref):
        assert 0 < side["latency_p50_ms"] <= side["latency_p95_ms"] < 2000, side
        assert 0 < side["cpu_cores"] < 2.5, side
    assert ref["codec"] == "video/VP8"
    assert ref["frame_size"] == "1280x720"
    assert ref["latency_n"] >= 30  # >= 10 fps read over 3 s
    assert ref["stamp_unreadable"] <= ref["latency_n"] // 10
    assert ref["decoded_fps"] > 10
    assert ref["cpu_cores_by_process"]["renderer"] > 0
    for key in ("latency_p50", "latency_p95", "cpu"):
        assert ratio[key] > 0
    assert ratio["cpu"] == pytest.approx(ours["cpu_cores"] / ref["cpu_cores"], rel=1e-3)
    assert ratio["target_cpu"] == 1.2 and isinstance(ratio["cpu_met"], bool)
