"""Which pages of which bundled files the frozen app's processes touch while a command runs.

    python scripts/packaging/pages_used.py dist/recognition-console -- demo --autopilot ...

Samples /proc/PID/maps and /proc/PID/pagemap (bit 63: page present) of every process whose
executable is the app, every 0.2 s, and prints, for each file of the app mapped, the share of
its pages ever present (the kernel maps up to 16 neighbouring pages per fault, so this is an
upper bound of what was read), and for ICU's data library the data items those pages hold.
Evidence for console.spec's cuts: what is never mapped, or never touched, can go.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def sample(app: Path, seen: dict[str, set[int]]) -> None:
    exe = str(app / app.name)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "exe") != exe:
                continue
            maps = (entry / "maps").read_text().splitlines()
            with open(entry / "pagemap", "rb") as pm:
                for line in maps:
                    parts = line.split(maxsplit=5)
                    if len(parts) < 6 or not parts[5].startswith(str(app)):
                        continue
                    lo, hi = (int(x, 16) for x in parts[0].split("-"))
                    offset = int(parts[2], 16)
                    pm.seek(lo // PAGE * 8)
                    raw = pm.read((hi - lo) // PAGE * 8)
                    pages = seen.setdefault(parts[5], set())
                    for i, (word,) in enumerate(struct.iter_unpack("<Q", raw)):
                        if word >> 63:
                            pages.add(offset // PAGE + i)
        except OSError:
            continue


def main() -> int:
    app = Path(sys.argv[1]).resolve()
    args = sys.argv[sys.argv.index("--") + 1:]
    seen: dict[str, set[int]] = {}
    proc = subprocess.Popen([str(app / app.name), *args])
    while proc.poll() is None:
        sample(app, seen)
        time.sleep(0.2)
    rows = []
    for path in sorted(Path(p) for p in seen):
        total = -(-path.stat().st_size // PAGE) if path.exists() else 0
        rows.append((len(seen[str(path)]), total, path))
    print(f"exit {proc.returncode}; files of the app mapped: {len(rows)}")
    for used, total, path in sorted(rows, key=lambda r: -r[1]):
        print(f"{used * PAGE / 1e6:9.2f} of {total * PAGE / 1e6:8.2f} MB  {path.relative_to(app)}")
    return proc.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
