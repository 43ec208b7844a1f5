"""`recognition-console demo --role trainer|supervisor --autopilot`: the demo signs in through
the real sign-in window with the role's seeded account, against a real desk service process,
and the shell opens that role's workspace (console.workspaces), offscreen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("role", "window"), [("trainer", "trainer"),
                                              ("supervisor", "review")])
def test_demo_signs_in_as_the_role_and_opens_its_workspace(tmp_path: Path, role: str,
                                                          window: str) -> None:
    report = tmp_path / "report.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-m", "console", "demo", "--role", role, "--autopilot", "--report",
         str(report), "--timeout", "60", "--language", "en"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(report.read_text())
    assert data == {"role": role, "window": window, "signed_in": True, "error": None}


def test_workspace_table_covers_every_role() -> None:
    from console.models import Role
    from console.workspaces import WORKSPACE_OF_ROLE, Workspace, workspace_for

    assert set(WORKSPACE_OF_ROLE) == set(Role)
    assert workspace_for("partner") is Workspace.IN_PERSON
    assert workspace_for(Role.OPERATOR) is Workspace.VIDEO_SESSION
    with pytest.raises(ValueError):
        workspace_for("root")
