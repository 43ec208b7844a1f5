"""`recognition-console card ...`: read a CNS / TS-CNS, list readers, or emulate a virtual card.

card read [--json] [--reader NAME]
card readers
card watch [--seconds S]
card emulate [--data FILE] [--slot N] [--certificate STYLE] [--atr-without-cns] ...
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from typing import Any

from cardreader.errors import CardError, CardErrorCode

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="card_command", metavar="ACTION")
    rd = sub.add_parser("read", help="read the card in the first reader holding one")
    rd.add_argument("--json", action="store_true", help="print the fields as one JSON object")
    rd.add_argument("--reader", help="read from this reader only")
    sub.add_parser("readers", help="list the PC/SC readers")
    wt = sub.add_parser("watch", help="print card insertions and removals")
    wt.add_argument("--seconds", type=float, default=0.0, help="stop after S seconds (0: Ctrl-C)")
    em = sub.add_parser("emulate", help="run a virtual CNS in a vpcd reader (demo/test peer)")
    em.add_argument("--data", help="JSON file with the personal data (default: the demo identity)")
    em.add_argument("--slot", type=int, default=0, choices=(0, 1), help="vpcd slot (0 or 1)")
    em.add_argument("--port", type=int, help="vpcd TCP port (default 35963 + slot)")
    em.add_argument(
        "--certificate",
        choices=("ts-cns", "tinit", "none", "blank"),
        help="certificate style; none/blank: a Tessera Sanitaria without CNS certificate",
    )
    em.add_argument("--no-certificate", action="store_true", help="same as --certificate none")
    em.add_argument("--atr-without-cns", action="store_true", help="ATR without the CNS marker")
    em.add_argument("--no-path-select", action="store_true", help="refuse SELECT by path")
    em.add_argument("--t0", action="store_true", help="answer 61xx / 6Cxx like a T=0 card")
    em.add_argument("--remove-after", type=int, help="pull the card out after N APDUs")
    em.add_argument("--seconds", type=float, default=0.0, help="stop after S seconds (0: Ctrl-C)")
    parser.set_defaults(card_command=None)


def _fail(reason: str) -> int:
    print(f"card: {reason}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    command = args.card_command or "read"
    try:
        if command == "read":
            return _read(args)
        if command == "readers":
            return _readers()
        if command == "watch":
            return _watch(args)
        if command == "emulate":
            return _emulate(args)
    except CardError as exc:
        return _fail(exc.reason)
    except KeyboardInterrupt:
        return 130
    return _fail(f"unknown action {command}")


def _read(args: argparse.Namespace) -> int:
    from cardreader.pcsc import read_card

    data = read_card(getattr(args, "reader", None))
    summary = data.summary()
    if getattr(args, "json", False):
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
        if not data.has_certificate:
            print("note: this card carries no CNS authentication certificate")
    return 0


def _readers() -> int:
    from cardreader.pcsc import PcscContext

    with PcscContext() as ctx:
        readers = ctx.readers()
        states = ctx.states(readers)
    if not readers:
        return _fail(CardError(CardErrorCode.NO_READER).reason)
    from smartcard import scard

    for name in readers:
        state, atr = states.get(name, (0, b""))
        card = f"card {atr.hex().upper()}" if state & scard.SCARD_STATE_PRESENT else "empty"
        print(f"{name}\t{card}")
    return 0


def _watch(args: argparse.Namespace) -> int:
    from cardreader.pcsc import CardEvent, CardWatcher

    def show(ev: CardEvent) -> None:
        detail = ev.reader or ", ".join(ev.readers) or (ev.error.reason if ev.error else "")
        print(f"{ev.kind.value}\t{detail}", flush=True)

    watcher = CardWatcher(show)
    watcher.start()
    try:
        _sleep(args.seconds)
    finally:
        watcher.stop()
    return 0


def _sleep(seconds: float) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if seconds > 0:
        stop.wait(seconds)
    else:
        while not stop.wait(1.0):
            pass


def _emulate(args: argparse.Namespace) -> int:
    from cardreader import emulator

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
