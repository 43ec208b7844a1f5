"""Every module imports alone, in a fresh interpreter: no module works only because another was
imported first, and no import circle breaks a cold import (the layers the code keeps are in
pyproject.toml's import-linter contracts)."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("console", "ui", "media", "cardreader", "server", "demo")
#: run as scripts, not imported (the guard of console.children runs as a program)
SCRIPTS = {
    "console.__main__", "server.__main__", "server.migrations.env", "demo.applicant.__main__",
}


def _modules() -> list[str]:
    found = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join(parts)
            if name in SCRIPTS or "migrations.versions" in name:
                continue
            found.append(name)
    return found


def _import(name: str) -> tuple[str, int, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    lines = proc.stderr.strip().splitlines()
    return name, proc.returncode, lines[-1] if lines else ""


def test_every_module_imports_alone() -> None:
    modules = _modules()
    assert len(modules) > 150
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_import, modules))
    failed = [f"{name}: {err}" for name, code, err in results if code != 0]
    assert not failed, failed
