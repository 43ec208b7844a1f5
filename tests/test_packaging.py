"""console.spec builds a one-folder app whose binary answers --version (slow: a few minutes)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_pyinstaller_one_folder_app_answers_version(tmp_path: Path) -> None:
    version = re.search(r'__version__ = "([^"]+)"',
                        (ROOT / "console" / "__init__.py").read_text()).group(1)
    pyinstaller = Path(sys.executable).parent / "pyinstaller"
    build = subprocess.run(
        [str(pyinstaller), "--noconfirm", "--log-level", "WARN",
         "--distpath", str(tmp_path / "dist"), "--workpath", str(tmp_path / "build"),
         str(ROOT / "console.spec")],
        cwd=ROOT, capture_output=True, text=True, timeout=1700,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    app = tmp_path / "dist" / "recognition-console"
    binary = app / "recognition-console"
    assert binary.is_file()
    # resources are bundled, unused Qt modules are not
    internal = app / "_internal"
    assert (internal / "resources" / "translations" / "console_it.qm").is_file()
    assert (internal / "resources" / "scripts" / "spid_personal.json").is_file()
    assert not list(app.rglob("*WebEngine*"))
    assert not list(app.rglob("libQt6Quick*"))
    run = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"recognition-console {version}"
