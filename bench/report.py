"""What every benchmark shares: the ``--json`` option and the final JSON line.

Each ``bench.bench_*`` module builds its parser with ``build_parser()`` (calling
:func:`add_json_argument`), starts a :class:`Report` right after parsing (the load average at
the start of the run) and hands its figures to :meth:`Report.emit` at the end. Without
``--json`` nothing changes: the human-readable lines only. With ``--json`` the same lines are
printed and then, as the LAST line of stdout, one JSON object::

    {"bench": "bench.bench_x", "load_average": {"start": [1m, 5m, 15m], "end": [...]},
     "cpus": N, "args": {...parsed arguments...}, ...the benchmark's figures...}

The figures carry their unit in their names (``_ms``, ``_per_s``, ``_pct``, ``_mb`` ...).
Non-finite floats become ``null`` (strict JSON); floats keep 6 significant digits.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

COMMON_KEYS = ("bench", "load_average", "cpus", "args")


def add_json_argument(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--json`` to a benchmark's parser; returns the parser."""
    parser.add_argument("--json", action="store_true",
                        help="end the output with one line of JSON: bench, load_average, cpus,"
                             " args and the figures")
    return parser


def load_average() -> list[float]:
    """os.getloadavg(): 1, 5 and 15 minutes."""
    return [round(x, 2) for x in os.getloadavg()]


def plain(value: Any) -> Any:
    """``value`` as strict-JSON data: NaN/inf -> None, numpy scalars, paths, tuples, sets."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return plain(item())
    return str(value)


class Report:
    """One run of one benchmark: the load average at its start and end, and the final line."""

    def __init__(self, bench: str, args: argparse.Namespace) -> None:
        self.bench = bench
        self.args = args
        self.load_start = load_average()
        self.load_end: list[float] | None = None

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    def stop(self) -> None:
        """The measurement is over: take the load average now (the first call counts)."""
        if self.load_end is None:
            self.load_end = load_average()

    def document(self, figures: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON object: the common keys, then the figures."""
        clash = set(COMMON_KEYS) & set(figures)
        if clash:
            raise ValueError(f"figures may not use the common keys {sorted(clash)}")
        self.stop()
        doc: dict[str, Any] = {
            "bench": self.bench,
            "load_average": {"start": self.load_start, "end": self.load_end},
            "cpus": os.cpu_count(),
            "args": vars(self.args),
            **figures,
        }
        result: dict[str, Any] = plain(doc)
        return result

    def emit(self, figures: Mapping[str, Any]) -> None:
        """With ``--json``: print the object as the last line of stdout (one line)."""
        self.stop()
        if not self.json:
            return
        line = json.dumps(self.document(figures), allow_nan=False)
        sys.stdout.flush()
        print(line, flush=True)


def start(module_file: str, args: argparse.Namespace) -> Report:
    """A report for the benchmark in ``module_file`` (pass ``__file__``), started now."""
    return Report(f"bench.{Path(module_file).stem}", args)
