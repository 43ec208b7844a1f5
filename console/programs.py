"""The console's internal programs: the ones it starts as child processes of its own code.

The demo starts the desk service (``server.cli``) and an applicant (``demo.applicant``, or
``demo.browser`` driving Chromium), a training run its peer (``demo.training_peer``), and
:mod:`console.children` puts each child under a guard (``console.children`` run as a program).
From the source tree these are ``python -m MODULE``; a frozen build (PyInstaller) has no Python
interpreter, ``sys.executable`` is the app itself, so there they are the app with a hidden first
argument: ``recognition-console __program NAME ARGS``, which runs that module's ``main(ARGS)``
(:func:`run`). Only the programs of :data:`PROGRAMS` can be run this way.

:func:`argv` gives the command line for either case; every spawn site uses it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass

#: the hidden first argument of the frozen app that runs an internal program
HIDDEN_COMMAND = "__program"


@dataclass(frozen=True)
class Program:
    #: what ``python -m`` runs (a module, or a package with a ``__main__``)
    module: str
    #: the module whose ``main(argv: list[str]) -> int`` the frozen app calls
    entry: str
    #: the function in ``entry``
    function: str = "main"


#: name -> program; the allow-list of what ``__program`` runs
PROGRAMS: dict[str, Program] = {
    "desk": Program("server.cli", "server.cli"),
    "applicant": Program("demo.applicant", "demo.applicant.__main__"),
    "training-peer": Program("demo.training_peer", "demo.training_peer"),
    "browser": Program("demo.browser", "demo.browser"),
    "guard": Program("console.children", "console.children", "_guard_main"),
}


def frozen() -> bool:
    """Whether this is a frozen build (no Python interpreter: ``sys.executable`` is the app)."""
    return bool(getattr(sys, "frozen", False))


def argv(name: str, *args: str) -> list[str]:
    """The command line that runs internal program ``name`` with ``args``, frozen or not."""
    program = PROGRAMS.get(name)
    if program is None:
        raise ValueError(f"not an internal program: {name!r}")
    if frozen():
        return [sys.executable, HIDDEN_COMMAND, name, *args]
    return [sys.executable, "-m", program.module, *args]


def run(args: Sequence[str]) -> int:
    """``__program NAME ARGS``: run internal program NAME's main with ARGS (allow-list only)."""
    if not args or args[0] not in PROGRAMS:
        known = ", ".join(sorted(PROGRAMS))
        print(f"{HIDDEN_COMMAND}: expected one of: {known}", file=sys.stderr)
        return 2
    name, rest = args[0], list(args[1:])
    program = PROGRAMS[name]
    sys.argv = [program.module, *rest]  # as under `python -m` (argparse's prog, say)
    module = importlib.import_module(program.entry)
    result = getattr(module, program.function)(rest)
    return int(result or 0)
