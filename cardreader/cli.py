"""`recognition-console card ...`: read a CNS / TS-CNS or list readers.

The virtual card of the demo and the tests is ``recognition-console virtual-card``
(``demo.virtual_card_cli``).

card read [--json] [--reader NAME]
card readers
card watch [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

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
