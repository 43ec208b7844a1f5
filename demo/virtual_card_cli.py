"""`recognition-console virtual-card ...`: a virtual CNS in a vpcd reader (the demo's and the
tests' card; a partner shop reads real cards with ``recognition-console card read``).

virtual-card [--data FILE] [--slot N] [--certificate STYLE] [--atr-without-cns] ...
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", help="JSON file with the personal data (default: the demo identity)"
    )
    parser.add_argument("--slot", type=int, default=0, choices=(0, 1), help="vpcd slot (0 or 1)")
    parser.add_argument("--port", type=int, help="vpcd TCP port (default 35963 + slot)")
    parser.add_argument(
        "--certificate",
        choices=("ts-cns", "tinit", "none", "blank"),
        help="certificate style; none/blank: a Tessera Sanitaria without CNS certificate",
    )
    parser.add_argument("--no-certificate", action="store_true", help="same as --certificate none")
    parser.add_argument("--atr-without-cns", action="store_true", help="ATR without the CNS marker")
    parser.add_argument("--no-path-select", action="store_true", help="refuse SELECT by path")
    parser.add_argument("--t0", action="store_true", help="answer 61xx / 6Cxx like a T=0 card")
    parser.add_argument("--remove-after", type=int, help="pull the card out after N APDUs")
    parser.add_argument(
        "--seconds", type=float, default=0.0, help="stop after S seconds (0: Ctrl-C)"
    )


def _fail(reason: str) -> int:
    print(f"card: {reason}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    try:
        return _emulate(args)
    except KeyboardInterrupt:
        return 130


def _emulate(args: argparse.Namespace) -> int:
    from demo import virtual_card as emulator

    options: dict[str, Any] = {}
    if args.certificate:
        options["certificate"] = args.certificate
    if args.no_certificate:
        options["certificate"] = "none"
    if args.atr_without_cns:
        options["atr_cns"] = False
    if args.no_path_select:
        options["select_by_path"] = False
    if args.t0:
        options["t0_style"] = True
    if args.remove_after is not None:
        options["remove_after_apdus"] = args.remove_after
    try:
        if args.data:
            profile = emulator.load_profile(args.data)
            for key, value in options.items():
                setattr(profile, key, value)
        else:
            profile = emulator.make_profile(dict(emulator.DEMO_IDENTITY), **options)
    except (OSError, ValueError) as exc:
        return _fail(f"cannot use the card data file: {exc}")
    card = emulator.VirtualCns(profile)
    em = emulator.VpcdEmulator(card, slot=args.slot, port=args.port)
    try:
        em.insert(timeout=3.0)
    except OSError:
        return _fail(
            f"cannot reach the vpcd reader on {em.host}:{em.port}: is pcscd running with "
            "vsmartcard-vpcd? Start it with `sudo systemctl start pcscd` (or `sudo pcscd`)"
        )
    print(f"virtual card inserted in '{em.reader_name}' (Ctrl-C to remove it)", flush=True)
    try:
        deadline = time.monotonic() + args.seconds if args.seconds > 0 else None
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while not stop.wait(0.2):
            if em.removed.is_set():
                print("virtual card pulled out", flush=True)
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
    finally:
        em.remove()
    return 0
