"""Benchmarks print JSON: every bench.bench_* takes --json and ends with one JSON object.

Statically for all of them (import, build the parser, read main's source); for real, as a
subprocess, for the three that take a few seconds at their smallest settings.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import report

ROOT = Path(__file__).resolve().parent.parent
BENCHES = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))


def test_every_benchmark_is_found() -> None:
    assert len(BENCHES) >= 12
    assert {"bench_checks", "bench_desk_db", "bench_desk_scale", "bench_startup"} <= set(BENCHES)


@pytest.mark.parametrize("name", BENCHES)
def test_benchmark_parser_takes_json_and_main_emits(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    build = getattr(module, "build_parser", None)
    assert callable(build), f"bench.{name} has no build_parser()"
    parser = build()
    assert isinstance(parser, argparse.ArgumentParser)
    assert parser.parse_args(["--json"]).json is True
    assert parser.parse_args([]).json is False
    # main parses with that parser, starts a report and emits it
    tree = ast.parse(inspect.getsource(module.main))
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)]
    names = {f.id for f in calls if isinstance(f, ast.Name)}
    attrs = {f.attr for f in calls if isinstance(f, ast.Attribute)}
    assert "build_parser" in names, f"bench.{name}.main does not use build_parser()"
    assert {"start", "emit"} <= attrs, f"bench.{name}.main does not start and emit a report"
    source = inspect.getsource(module)
    assert "report.start(__file__, args)" in source


def _run(name: str, *args: str) -> tuple[list[str], dict[str, Any]]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-m", f"bench.{name}", "--json", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr[-3000:]
    doc = json.loads(lines[-1])
    assert isinstance(doc, dict)
    assert doc["bench"] == f"bench.{name}"
    for moment in ("start", "end"):
        load = doc["load_average"][moment]
        assert isinstance(load, list) and len(load) == 3
        assert all(isinstance(x, int | float) for x in load)
    assert doc["cpus"] == os.cpu_count()
    assert doc["args"]["json"] is True
    return lines[:-1], doc


def test_bench_checks_json() -> None:
    text, doc = _run("bench_checks", "--skip", "live,still,faces", "--cards", "2",
                     "--tesseract-cards", "0", "--other-cards", "0")
    assert doc["args"]["cards"] == 2 and doc["args"]["skip"] == "live,still,faces"
    mrz = doc["mrz_template"]
    assert mrz["cards"] == 2
    assert 0 <= mrz["all_fields_right_pct"] <= 100
    assert mrz["wall_median_ms"] > 0 and mrz["cpu_median_ms"] >= 0
    assert "mrz_tesseract" not in doc and "live_wall_median_ms" not in doc
    assert "mrz_other_printer_template" not in doc  # --other-cards 0
    assert any(line.startswith("MRZ template") for line in text)  # the text lines stay


def test_bench_startup_json() -> None:
    _text, doc = _run("bench_startup", "--runs", "1")
    assert doc["args"]["runs"] == 1
    assert 0 < doc["shown_median_ms"] <= doc["total_median_ms"]
    assert doc["first_shown_ms"] > 0


def test_bench_desk_db_json() -> None:
    _text, doc = _run("bench_desk_db", "--seconds", "1", "--backends", "sqlite",
                      "--clients", "4")
    assert doc["args"]["backends"] == "sqlite"
    assert [(r["backend"], r["mode"]) for r in doc["results"]] == [("sqlite", "pool"),
                                                                   ("sqlite", "inline")]
    for r in doc["results"]:
        assert r["db_requests_per_s"] > 0 and r["errors"] == 0
        assert r["health_p50_ms"] > 0


def test_report_emits_strict_json_only_with_the_flag(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    parser = report.add_json_argument(argparse.ArgumentParser())
    parser.add_argument("--where", type=Path, default=Path("/tmp/x"))
    quiet = report.start("bench/bench_fake.py", parser.parse_args([]))
    quiet.emit({"x_ms": 1.0})
    assert capsys.readouterr().out == ""
    rep = report.start("bench/bench_fake.py", parser.parse_args(["--json"]))
    rep.emit({"x_ms": math.nan, "y_per_s": 2.5, "parts": (1, 2)})
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    doc = json.loads(out[0])
    assert doc["bench"] == "bench.bench_fake"
    assert doc["args"] == {"json": True, "where": "/tmp/x"}
    assert doc["x_ms"] is None and doc["y_per_s"] == 2.5 and doc["parts"] == [1, 2]
    with pytest.raises(ValueError, match="common keys"):
        rep.emit({"cpus": 3})
