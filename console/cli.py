"""`recognition-console` command line: one subcommand per module, imported only when used.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``, so that `recognition-console --version` and `card read` do not pay for
importing Qt, aiortc or OpenCV.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from console import __version__, programs

# subcommand -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "gui": ("ui.app", "open the console (default)"),
    "demo": ("demo.launcher", "local desk service + synthetic applicant, console signed in"),
    "evidence": ("console.evidence.cli", "verify or open an evidence package"),
    "inspect": ("console.checks.cli", "run the document checks on image files"),
    "card": ("cardreader.cli", "read a CNS/TS-CNS card, list readers"),
    "virtual-card": ("demo.virtual_card_cli", "a virtual CNS in a vpcd reader (demo, tests)"),
    "replay": ("ui.player.cli", "open a recorded session in the player"),
    "training": ("console.training.cli", "run and grade training scenarios"),
}


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recognition-console",
        description="InfoCert recognition console: remote and in-person identification.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text)
        if name == selected:
            module = importlib.import_module(module_name)
            module.add_arguments(sp)
            sp.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == [programs.HIDDEN_COMMAND]:  # an internal program (frozen app's children)
        return programs.run(args_list[1:])
    selected = next((a for a in args_list if not a.startswith("-")), None)
    if selected is None and not any(a in ("-h", "--help", "--version") for a in args_list):
        args_list.insert(0, "gui")
        selected = "gui"
    parser = build_parser(selected if selected in SUBCOMMANDS else None)
    args = parser.parse_args(args_list)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 2
    return int(run(args))


if __name__ == "__main__":
    sys.exit(main())
