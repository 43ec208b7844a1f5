"""Run every benchmark once with its default settings, one after the other (``make bench``).

Each prints its text lines and, with ``--json``, one JSON object as its last line; this collects
those objects into ``out/bench.jsonl`` (one line per benchmark) and says which could not run
(pcscd, Chromium or a display missing: the benchmark's own message). Takes a long while: the
figures in the README come from the individual commands listed there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))


def main() -> int:
    out = ROOT / "out" / "bench.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    with out.open("w", encoding="utf-8") as fh:
        for name in BENCHES:
            print(f"== bench.{name}", flush=True)
            proc = subprocess.run([sys.executable, "-m", f"bench.{name}", "--json"], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True, check=False)
            lines = proc.stdout.strip().splitlines()
            print("\n".join(lines[:-1]), flush=True)
            try:
                data = json.loads(lines[-1]) if lines else None
            except ValueError:
                data = None
            if proc.returncode != 0 or not isinstance(data, dict):
                failed.append(name)
                continue
            fh.write(json.dumps(data) + "\n")
    print(f"results: {out} ({len(BENCHES) - len(failed)} of {len(BENCHES)})"
          + (f"; did not run: {', '.join(failed)}" if failed else ""))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
