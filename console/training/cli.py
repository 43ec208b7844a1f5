"""`recognition-console training ...`: list, generate, run and grade training scenarios."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from pathlib import Path

from console.training import scenarios
from console.training.grading import GradeError, load_report, table
from console.training.pack import PackError, load_pack

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="training_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="list the shipped scenarios")
    gen = sub.add_parser("generate", help="write the shipped scenario packs into a folder")
    gen.add_argument("out", type=Path, help="folder to write the packs into")
    gen.add_argument("--only", nargs="*", choices=scenarios.SHIPPED, help="only these")
    run = sub.add_parser("run", help="run a scenario (a pack folder or a shipped scenario id)")
    run.add_argument("scenario", help="pack folder, or the id of a shipped scenario")
    run.add_argument("--autopilot", action="store_true",
                     help="headless: the console's automated checks stand in for the trainee")
    run.add_argument("--force-decision", choices=["approve", "reject"],
                     help="take this decision whatever the checks find (to test the grading)")
    run.add_argument("--report", type=Path, required=True, help="where to write the report")
    run.add_argument("--trainee", default="autopilot", help="name shown in the grade table")
    grade = sub.add_parser("grade", help="print the table of many trainee runs")
    grade.add_argument("reports", nargs="+", type=Path)
    grade.add_argument("--json", action="store_true", help="print the reports as JSON lines")


def _resolve_pack(value: str, work: Path) -> Path:
    path = Path(value)
    if path.exists():
        return path
    if value in scenarios.SHIPPED:
        return scenarios.generate(work, (value,))[0]
    raise PackError(f"{value}: neither a scenario pack folder nor a shipped scenario "
                    f"({', '.join(scenarios.SHIPPED)})")


def run(args: argparse.Namespace) -> int:
    cmd = args.training_command
    try:
        if cmd == "list":
            for sid in scenarios.SHIPPED:
                pack = scenarios.build(sid, Path("."))
                print(f"{sid:18} {pack.answer_key.expected_decision:9} {pack.title['en']}")
            return 0
        if cmd == "generate":
            for folder in scenarios.generate(args.out, tuple(args.only or scenarios.SHIPPED)):
                print(folder)
            return 0
        if cmd == "grade":
            reports = [load_report(p) for p in args.reports]
            if args.json:
                for r in reports:
                    print(json.dumps(r, ensure_ascii=False))
            else:
                print(table(reports))
            return 0
        if cmd == "run":
            if not args.autopilot:
                print("training run: only --autopilot runs are headless; open the console's "
                      "training mode for a trainee", file=sys.stderr)
                return 2
            args.report.parent.mkdir(parents=True, exist_ok=True)
            pack = load_pack(_resolve_pack(args.scenario, args.report.parent / "packs"))
            runner = importlib.import_module("demo.training_run")
            return int(runner.run_scenario(pack, report=args.report,
                                           force_decision=args.force_decision,
                                           trainee=args.trainee))
    except (PackError, GradeError, ValueError) as exc:
        print(f"training {cmd}: {exc}", file=sys.stderr)
        return 2
    return 2
