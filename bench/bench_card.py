"""Benchmark: from card insertion to parsed fields, through pcscd and vpcd.

    .venv/bin/python -m bench.bench_card [--rounds N] [--slot 0] [--no-ui] [--json]

Each round inserts the virtual CNS (TCP connect to vpcd), waits for the watcher's INSERTED event
(pcscd noticing the card), then connects, reads and parses the three files. Printed: insertion →
fields (the operator-visible latency; target ≤ 300 ms), its parts, and APDUs per full read.
Starts pcscd itself (and stops it) when it is not running.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from typing import Any

from bench import report
from cardreader.pcsc import CardEvent, CardEventKind, CardWatcher, PcscContext, read_from
from demo import virtual_card as emulator
from demo.pcscd import PcscdUnavailable, ensure_pcscd


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--slot", type=int, default=0)
    ap.add_argument("--no-ui", action="store_true", help="skip the in-person window rounds")
    return report.add_json_argument(ap)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rep = report.start(__file__, args)
    figures: dict[str, Any] = {}
    try:
        use = ensure_pcscd()  # the same start-up the demo and the tests use
    except PcscdUnavailable as exc:
        raise SystemExit(f"bench_card: {exc}") from None
    with use:
        rc = _bench(args.rounds, args.slot, figures)
        if not args.no_ui:
            rc = rc or _bench_ui(max(5, args.rounds // 2), args.slot, figures)
    rep.emit(figures)
    return rc


def _summary(prefix: str, v: list[float]) -> dict[str, float]:
    return {f"{prefix}_median_ms": statistics.median(v), f"{prefix}_p95_ms": _pct(v, 0.95),
            f"{prefix}_max_ms": max(v)}


def _bench(rounds: int, slot: int, figures: dict[str, Any]) -> int:
    profile = emulator.make_profile(dict(emulator.DEMO_IDENTITY))
    card = emulator.VirtualCns(profile)
    em = emulator.VpcdEmulator(card, slot=slot)
    reader = em.reader_name
    inserted = threading.Event()
    removed = threading.Event()
    atr_box: list[bytes] = []

    def on_event(ev: CardEvent) -> None:
        if ev.reader != reader:
            return
        if ev.kind == CardEventKind.INSERTED:
            atr_box[:] = [ev.atr]
            inserted.set()
        elif ev.kind == CardEventKind.REMOVED:
            removed.set()

    watcher = CardWatcher(on_event)
    watcher.start()
    rng = random.Random(6)
    total: list[float] = []
    detect: list[float] = []
    read: list[float] = []
    apdus: list[int] = []
    try:
        time.sleep(0.5)
        with PcscContext() as ctx:
            for _ in range(rounds):
                inserted.clear()
                removed.clear()
                t0 = time.perf_counter()
                em.insert()
                if not inserted.wait(5):
                    raise SystemExit("the watcher saw no insertion")
                t1 = time.perf_counter()
                data = read_from(ctx, reader, atr_box[0])
                t2 = time.perf_counter()
                assert data.personal.codice_fiscale == emulator.DEMO_IDENTITY["codice_fiscale"]
                total.append((t2 - t0) * 1000)
                detect.append((t1 - t0) * 1000)
                read.append((t2 - t1) * 1000)
                apdus.append(data.apdu_count)
                em.remove()
                removed.wait(5)
                # insert at a random moment of pcscd's 400 ms polling cycle, as a hand would
                time.sleep(rng.uniform(0.0, 0.4))
    finally:
        em.remove()
        watcher.stop()

    def row(name: str, v: list[float]) -> str:
        return (
            f"{name:<38} median {statistics.median(v):7.1f} ms   p95 {_pct(v, 0.95):7.1f} ms"
            f"   max {max(v):7.1f} ms"
        )

    print(f"bench_card: {rounds} rounds, reader '{reader}', virtual CNS via pcscd + vpcd")
    print(row("insertion -> parsed fields", total))
    print(row("  insertion -> INSERTED event (pcscd)", detect))
    print(row("  INSERTED event -> parsed fields", read))
    print(
        f"{'APDUs per full read':<38} {statistics.median(apdus):.0f} "
        f"(3 SELECT, 1+1 READ for ID/personal data, {apdus[0] - 5} READ for the certificate)"
    )
    verdict = "met" if statistics.median(total) <= 300 else "MISSED"
    print(
        f"target insertion -> fields <= 300 ms: {verdict} at the median, p95 "
        f"{_pct(total, 0.95):.0f} ms; pcscd polls a vpcd reader every 400 ms (no event thread in "
        "the driver), so detection alone is 0-400 ms"
    )
    figures.update({"rounds": rounds, "reader": reader,
                    **_summary("insertion_to_fields", total),
                    **_summary("insertion_to_event", detect),
                    **_summary("event_to_fields", read),
                    "apdus_per_read": statistics.median(apdus),
                    "target_insertion_to_fields_ms": 300,
                    "target_met_at_median": statistics.median(total) <= 300})
    return 0


class _Directory:
    """The booking look-up answered locally: only card insertion -> screen is timed here."""

    def find_by_booking_code(self, code: str) -> object:
        from console.models import RecognitionRequest

        return RecognitionRequest.from_json(
            {
                "id": "bench-request",
                "state": "in_call",
                "product": "spid_personal",
                "booking_code": code,
                "applicant": {
                    "surname": "ROSSI",
                    "given_names": "MARIA",
                    "codice_fiscale": emulator.DEMO_IDENTITY["codice_fiscale"],
                    "birth_date": emulator.DEMO_IDENTITY["birth_date"],
                    "birth_place": "ROMA (H501)",
                    "sex": "F",
                    "email": "maria.rossi@example.test",
                    "mobile": "+393331234567",
                },
                "document": None,
            }
        )


def _bench_ui(rounds: int, slot: int, figures: dict[str, Any]) -> int:
    """Insertion -> card fields shown in the in-person window (offscreen Qt)."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from console.flows.inperson import InPersonWorkflow, SyntheticCamera
    from ui.inperson_window import InPersonWindow

    app = QApplication.instance() or QApplication([])
    card = emulator.VpcdEmulator(
        emulator.VirtualCns(emulator.make_profile(dict(emulator.DEMO_IDENTITY))), slot=slot
    )
    wf = InPersonWorkflow(_Directory(), work_dir=tempfile.mkdtemp(prefix="bench-card-"))  # type: ignore[arg-type]
    window = InPersonWindow(wf, SyntheticCamera(), reader=card.reader_name, language="it")
    rng = random.Random(7)
    shown: list[float] = []

    def wait(signal: object, timeout_ms: int) -> bool:
        loop = QEventLoop()
        hit = [False]

        def done(*_: object) -> None:
            hit[0] = True
            loop.quit()

        signal.connect(done)  # type: ignore[attr-defined]
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        signal.disconnect(done)  # type: ignore[attr-defined]
        return hit[0]

    try:
        window.booking_edit.setText("BENCH")
        window.look_up()
        deadline = time.monotonic() + 10
        while wf.request is None and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        for _ in range(rounds):
            time.sleep(rng.uniform(0.0, 0.4))
            t0 = time.perf_counter()
            card.insert()
            if not wait(window.card_shown, 5000):
                raise SystemExit("the window showed no card")
            shown.append((time.perf_counter() - t0) * 1000)
            card.remove()
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:  # let the watcher see the removal
                app.processEvents()
                time.sleep(0.02)
                if window._card_present_atr is None:
                    break
    finally:
        card.remove()
        window.stop()
        window.deleteLater()
        from ui.tasks import shutdown_pool

        shutdown_pool()
    print(
        f"{'insertion -> fields on screen (UI)':<38} median {statistics.median(shown):7.1f} ms"
        f"   p95 {_pct(shown, 0.95):7.1f} ms   max {max(shown):7.1f} ms   ({rounds} rounds)"
    )
    figures.update({"ui_rounds": rounds, **_summary("ui_insertion_to_shown", shown)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
