"""Benchmark: the work the session window hands to its workers for the automated checks.

    .venv/bin/python -m bench.bench_ui_checks [--repeat 20] [--json]

Printed (wall ms, median and p95; the GUI thread does none of it):
- one live tick: the latest 720p yuv420p frame converted to BGR plus LiveAnalyzer.analyze
  (at 5 ticks per second while a document still is awaited: the share of one core);
- the still check per target (console.flows.checks.inspect_still) on the synthetic
  applicant's stills;
- the face comparison (document photo vs the live face still), with its decision.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import av

from bench import report
from console import specimens as sp
from console.checks.quality import LiveAnalyzer
from console.flows.checks import LIVE_INTERVAL_MS, compare_faces, decode_image, inspect_still
from demo.applicant.scene import SceneRenderer, Step


def _times(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    values, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        values.append((time.perf_counter() - t0) * 1000.0)
    values.sort()
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return statistics.median(values), p95, result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    return report.add_json_argument(parser)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rep = report.start(__file__, args)
    figures: dict[str, Any] = {}
    renderer = SceneRenderer()
    stills = {step: decode_image(renderer.png(step)) for step in Step}
    request = sp.DEMO_PERSON.request()
    today = date.today()

    frame = av.VideoFrame.from_ndarray(stills[Step.ID_BACK], format="bgr24").reformat(
        format="yuv420p")
    analyzer = LiveAnalyzer(steady_frames=6)
    p50, p95, _ = _times(lambda: analyzer.analyze(frame.to_ndarray(format="bgr24")),
                         args.repeat * 3)
    share = p50 * (1000.0 / LIVE_INTERVAL_MS) / 10.0
    print(f"live tick 720p (convert + analyze): p50 {p50:.1f} ms, p95 {p95:.1f} ms "
          f"-> {share:.1f}% of one core at {1000 // LIVE_INTERVAL_MS} ticks/s")
    figures.update(live_tick_p50_ms=p50, live_tick_p95_ms=p95, live_core_pct=share,
                   live_ticks_per_s=1000 // LIVE_INTERVAL_MS, still_checks={})
    cards: dict[str, Any] = {}
    for target, step in (("document_front", Step.ID_FRONT), ("document_back", Step.ID_BACK),
                         ("health_card", Step.TS_BACK)):
        img = stills[step]

        def run(img: Any = img, t: str = target) -> Any:
            return inspect_still(t, img, request, today)

        p50, p95, (check, det) = _times(run, args.repeat)
        cards[target] = det
        fields = check.mrz["fields"] if check.mrz else {}
        cf = check.codice_fiscale["fields"] if check.codice_fiscale else {}
        print(f"still check {target}: p50 {p50:.0f} ms, p95 {p95:.0f} ms; "
              f"mrz {fields or '-'}; cf {cf or '-'}")
        figures["still_checks"][target] = {"p50_ms": p50, "p95_ms": p95, "mrz_fields": fields,
                                           "cf_fields": cf}
    p50, p95, face = _times(lambda: compare_faces(stills[Step.ID_FRONT],
                                                  cards["document_front"], stills[Step.FACE]),
                            max(3, args.repeat // 4))
    print(f"face comparison: p50 {p50:.0f} ms, p95 {p95:.0f} ms; decision {face['decision']} "
          f"(distance {face['distance']})")
    rep.emit({**figures, "face_compare_p50_ms": p50, "face_compare_p95_ms": p95,
              "face_decision": face["decision"], "face_distance": face["distance"]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
