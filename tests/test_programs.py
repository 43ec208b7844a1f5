"""console.programs: the command lines of the console's internal programs, from the source tree
(``python -m MODULE``) and frozen (the app itself, ``__program NAME``), and the allow-list the
hidden subcommand runs. The frozen build itself runs in tests/test_packaging.py (slow)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console import children, cli, programs

ROOT = Path(__file__).resolve().parent.parent


def test_argv_from_the_source_tree_runs_the_module() -> None:
    assert programs.argv("desk", "seed", "--json") == [
        sys.executable, "-m", "server.cli", "seed", "--json"]
    assert programs.argv("applicant", "--desk", "http://x")[:3] == [
        sys.executable, "-m", "demo.applicant"]


def test_argv_frozen_runs_the_app_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/recognition-console/recognition-console")
    assert programs.argv("training-peer", "--desk", "http://x") == [
        "/opt/recognition-console/recognition-console", "__program", "training-peer",
        "--desk", "http://x"]
    # the children's guard too: no interpreter to run console/children.py with
    assert children._guard_command() == [
        "/opt/recognition-console/recognition-console", "__program", "guard"]


def test_only_allow_listed_programs() -> None:
    with pytest.raises(ValueError):
        programs.argv("os")
    assert programs.run(["os", "-c", "print(1)"]) == 2
    assert programs.run([]) == 2
    assert cli.main(["__program", "tests.operator_peer"]) == 2


def test_every_program_has_its_entry() -> None:
    import importlib

    for name, program in programs.PROGRAMS.items():
        module = importlib.import_module(program.entry)
        assert callable(getattr(module, program.function)), name


def test_hidden_subcommand_runs_the_program() -> None:
    """`recognition-console __program desk ...` is `python -m server.cli ...`."""
    proc = subprocess.run(
        [sys.executable, "-m", "console", "__program", "desk", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "serve" in proc.stdout and "seed" in proc.stdout


def test_guard_gives_other_programs_the_environment_from_before_the_bootloader(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/app/recognition-console")
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/app/_internal")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/usr/local/lib")
    assert children._program_env(["/usr/sbin/pcscd"])["LD_LIBRARY_PATH"] == "/usr/local/lib"
    assert children._program_env(["/opt/app/recognition-console", "__program", "desk"])[
        "LD_LIBRARY_PATH"] == "/opt/app/_internal"
    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG")
    assert "LD_LIBRARY_PATH" not in children._program_env(["/usr/sbin/pcscd"])
    monkeypatch.setattr(sys, "frozen", False)
    assert children._program_env(["/usr/sbin/pcscd"]) == dict(os.environ)
