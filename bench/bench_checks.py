"""Benchmark: document and face checks on generated specimens.

    .venv/bin/python -m bench.bench_checks [--cards 200] [--tesseract-cards 60] [--faces 20]
                                           [--other-cards 60]
                                           [--skip live,still,mrz,other,faces] [--json]

Printed:
- live per-frame guidance at 720p (LiveAnalyzer.analyze): wall and CPU ms, median and p95
  (target ≤ 15 ms);
- the full still pipeline (quality + card + MRZ + barcode + faces) on a 720p photo;
- MRZ accuracy on N generated CIE backs and passport pages with random angle, blur, glare,
  JPEG, light: per field, whole-MRZ valid rate and "valid but wrong" (the dangerous case), for
  the template engine and for Tesseract on the first M of the same images;
- MRZ on cards printed by another tool (``--other-cards``): the lines typeset with PIL in
  DejaVu Sans Mono (not OCR-B, not our renderer) at random sizes on a plain card, photographed
  with perspective, blur, noise and JPEG; reported apart: exact, "valid but wrong" and the
  fields the reader marked unsure (what the operator is told to check by eye);
- face comparison error rates on specimen cards vs live frames (same / different person).
Wall times depend on the machine's load; CPU times (process_time) less so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import cv2
import numpy as np

from bench import report
from console import specimens as s
from console.checks import card, faces, mrz_ocr, pipeline
from console.checks.quality import LiveAnalyzer

FIELDS = ("document_number", "surname", "given_names", "birth_date", "sex", "expiry_date",
          "nationality")


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000


def bench_live(frames: int = 120) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    doc = s.render_cie_front()
    scenes = []
    for i in range(24):
        p = s.random_scene(rng)
        scenes.append(s.place_in_scene(doc, p)[0] if i % 6 else
                      s._background(1280, 720, "desk", rng))
    live = LiveAnalyzer()
    live.analyze(scenes[0])  # warm-up
    walls, cpus = [], []
    for i in range(frames):
        w, c = _timed(lambda i=i: live.analyze(scenes[i % len(scenes)]))
        walls.append(w)
        cpus.append(c)
    print(f"live guidance 1280x720: wall median {statistics.median(walls):.1f} ms, "
          f"p95 {_pct(walls, 95):.1f} ms; CPU median {statistics.median(cpus):.1f} ms, "
          f"p95 {_pct(cpus, 95):.1f} ms  (target <= 15 ms, {frames} frames)")
    return {"live_wall_median_ms": statistics.median(walls), "live_wall_p95_ms": _pct(walls, 95),
            "live_cpu_median_ms": statistics.median(cpus), "live_cpu_p95_ms": _pct(cpus, 95),
            "live_frames": frames, "live_target_ms": 15}


def bench_still(rounds: int = 6) -> dict[str, Any]:
    img, _t = s.place_in_scene(s.render_cie_back(), yaw=12, pitch=-6, seed=2)
    front, _t = s.place_in_scene(s.render_cie_front(), yaw=-10, pitch=5, seed=3)
    req = s.DEMO_PERSON.request()
    pipeline.inspect_image(img, req)  # warm-up: models, templates
    out: dict[str, Any] = {"still_rounds": rounds}
    for name, frame, with_faces in (("back, no faces", img, False), ("back + faces", img, True),
                                    ("front + faces", front, True)):
        walls, cpus = [], []
        for _ in range(rounds):
            w, c = _timed(lambda f=frame, wf=with_faces: pipeline.inspect_image(
                f, req, detect_faces=wf))
            walls.append(w)
            cpus.append(c)
        print(f"still pipeline 1280x720 ({name}): wall median {statistics.median(walls):.0f} ms,"
              f" CPU median {statistics.median(cpus):.0f} ms")
        key = "still_" + name.replace(" + ", "_with_").replace(", ", "_").replace(" ", "_")
        out[f"{key}_wall_median_ms"] = statistics.median(walls)
        out[f"{key}_cpu_median_ms"] = statistics.median(cpus)
    return out


def _cases(n: int) -> list[tuple[str, s.SpecimenPerson, np.ndarray, s.SceneParams]]:
    rng = np.random.default_rng(2026)
    out = []
    for i in range(n):
        person = s.random_person(rng)
        kind = "passport" if i % 4 == 3 else "cie_back"
        doc, _z = s.render(kind, person)  # type: ignore[arg-type]
        params = s.random_scene(rng, aspect=doc.shape[1] / doc.shape[0])
        img, _t = s.place_in_scene(doc, params)
        out.append((kind, person, img, params))
    return out


def _expected(kind: str, p: s.SpecimenPerson) -> dict[str, str]:
    num = p.passport_number if kind == "passport" else p.document_number
    from console.checks.mrz import name_field

    width = 39 if kind == "passport" else 30
    names = name_field(p.surname, p.given_names, width).rstrip("<")
    sur, _sep, giv = names.partition("<<")
    return {"document_number": num, "surname": sur.replace("<", " "),
            "given_names": giv.replace("<", " ").strip(),
            "birth_date": p.birth_date.strftime("%y%m%d"), "sex": p.sex,
            "expiry_date": p.expiry_date.strftime("%y%m%d"), "nationality": p.nationality}


def bench_mrz(cards: int, tess_cards: int) -> dict[str, Any]:
    cases = _cases(cards)
    out: dict[str, Any] = {}
    for engine, n in (("template", cards), ("tesseract", min(tess_cards, cards))):
        if n <= 0:
            continue
        field_ok = dict.fromkeys(FIELDS, 0)
        valid = wrong_valid = found = exact = 0
        walls, cpus = [], []
        by_blur: dict[float, list[int]] = {}
        for kind, person, img, params in cases[:n]:
            holder: dict[str, mrz_ocr.MrzRead] = {}

            def run(img: np.ndarray = img, holder: dict[str, mrz_ocr.MrzRead] = holder,
                    engine: mrz_ocr.Engine = engine) -> None:  # type: ignore[assignment]
                det = card.find_document(img)
                flat = card.rectify(img, det.corners, det.format) if det else img
                holder["r"] = mrz_ocr.read_mrz(flat, engine, rectified=det is not None)

            w, c = _timed(run)
            walls.append(w)
            cpus.append(c)
            res = holder["r"].result
            exp = _expected(kind, person)
            ok_all = False
            if res is not None:
                found += 1
                got = res.fields
                oks = {f: got.get(f, "") == exp[f] for f in FIELDS}
                for f, ok in oks.items():
                    field_ok[f] += ok
                ok_all = all(oks.values())
                exact += ok_all
                valid += res.valid
                wrong_valid += res.valid and not ok_all
            by_blur.setdefault(params.blur, []).append(int(ok_all))
        total_fields = n * len(FIELDS)
        print(f"MRZ {engine}: {n} cards (3/4 CIE TD1, 1/4 passport TD3), random yaw/pitch/roll, "
              "blur, glare, JPEG, light")
        print(f"  all 7 fields right: {exact}/{n} ({100 * exact / n:.1f}%); MRZ found {found}; "
              f"check digits valid {valid}; valid but wrong {wrong_valid}")
        print(f"  field accuracy {100 * sum(field_ok.values()) / total_fields:.1f}%: " + ", ".join(
            f"{f} {100 * v / n:.0f}%" for f, v in field_ok.items()))
        per_blur = [f"{b:g}px {100 * sum(v) / len(v):.0f}% (n={len(v)})"
                    for b, v in sorted(by_blur.items())]
        print("  all fields right by blur sigma: " + ", ".join(per_blur))
        print(f"  time per card (find + rectify + read): wall median {statistics.median(walls):.0f}"
              f" ms, CPU median {statistics.median(cpus):.0f} ms")
        out[f"mrz_{engine}"] = {
            "cards": n, "all_fields_right": exact, "all_fields_right_pct": 100 * exact / n,
            "found": found, "check_digits_valid": valid, "valid_but_wrong": wrong_valid,
            "field_accuracy_pct": 100 * sum(field_ok.values()) / total_fields,
            "field_pct": {f: 100 * v / n for f, v in field_ok.items()},
            "all_fields_right_pct_by_blur_px": {f"{b:g}": 100 * sum(v) / len(v)
                                                for b, v in sorted(by_blur.items())},
            "wall_median_ms": statistics.median(walls),
            "cpu_median_ms": statistics.median(cpus),
        }
    return out


OTHER_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


def _other_printer_card(lines: list[str], rng: np.random.Generator) -> np.ndarray:
    """The MRZ lines typeset by PIL in DejaVu Sans Mono on a plain ID-1 card, photographed."""
    from PIL import Image, ImageDraw, ImageFont

    w, h = 1012, 638
    card_img = Image.new("L", (w, h), 235)
    draw = ImageDraw.Draw(card_img)
    # the size that spans 84-92 % of the card, as an MRZ does (ICAO 9303: 30 characters at
    # 2.54 mm on a 85.6 mm card); the glyphs are DejaVu's, not OCR-B's
    probe = ImageFont.truetype(OTHER_FONT, 100)
    span = float(rng.uniform(0.84, 0.92)) * w
    size = max(10, int(100 * span / max(draw.textlength(line, font=probe) for line in lines)))
    font = ImageFont.truetype(OTHER_FONT, size)
    y = h - 20 - len(lines) * int(size * 1.35)
    for line in lines:
        draw.text((22, y), line, fill=20, font=font)
        y += int(size * 1.35)
    doc = cv2.cvtColor(np.asarray(card_img), cv2.COLOR_GRAY2BGR)
    # photograph it: a darker table, a perspective, blur, noise, JPEG
    sw, sh = 1600, 1100
    scene = np.full((sh, sw, 3), int(rng.integers(40, 90)), np.uint8)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-60, 60, (4, 2)).astype(np.float32)
    dst = np.float32([[300, 230], [1300, 230], [1300, 860], [300, 860]]) + jitter
    m = cv2.getPerspectiveTransform(src, dst)
    cv2.warpPerspective(doc, m, (sw, sh), scene, borderMode=cv2.BORDER_TRANSPARENT)
    blur = float(rng.uniform(0.0, 1.4))
    if blur > 0.2:
        scene = cv2.GaussianBlur(scene, (0, 0), blur)
    noise = rng.normal(0, float(rng.uniform(2, 7)), scene.shape)
    scene = np.clip(scene.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", scene, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 95))])
    assert ok
    return cv2.imdecode(enc, cv2.IMREAD_COLOR)


def bench_mrz_other(n: int) -> dict[str, Any]:
    """MRZ lines another tool printed (see the module doc), read by both engines."""
    if n <= 0:
        return {}
    rng = np.random.default_rng(7)
    cases = []
    for _ in range(n):
        person = s.random_person(rng)
        lines = s.mrz_td1(person.document_number, person.birth_date, person.sex,
                          person.expiry_date, person.surname, person.given_names)
        cases.append((person, _other_printer_card(lines, rng)))
    out: dict[str, Any] = {}
    for engine in ("template", "tesseract"):
        field_ok = dict.fromkeys(FIELDS, 0)
        exact = found = valid = wrong_valid = unsure_cards = unsure_fields = wrong_sure = 0
        for person, img in cases:
            det = card.find_document(img)
            flat = card.rectify(img, det.corners, det.format) if det else img
            res = mrz_ocr.read_mrz(flat, engine, rectified=det is not None).result  # type: ignore[arg-type]
            exp = _expected("cie_back", person)
            if res is None:
                continue
            found += 1
            oks = {f: res.fields.get(f, "") == exp[f] for f in FIELDS}
            for f, ok in oks.items():
                field_ok[f] += ok
            exact += all(oks.values())
            valid += res.valid
            wrong_valid += res.valid and not all(oks.values())
            unsure = [f for f in FIELDS if res.confidence.get(f) in ("unsure", "invalid")]
            unsure_fields += len(unsure)
            unsure_cards += bool(unsure)
            # a wrong field given as sure: the case the operator is not warned of (names have
            # no check digit and are compared with the request instead)
            wrong_sure += sum(1 for f in FIELDS if not oks[f]
                              and res.confidence.get(f) in ("certain", "resolved")
                              and f not in ("surname", "given_names"))
        total = n * len(FIELDS)
        print(f"MRZ printed by another tool (DejaVu Sans Mono by PIL), {n} CIE TD1 cards "
              f"photographed, {engine}:")
        print(f"  all 7 fields right {exact}/{n}; MRZ found {found}; check digits valid {valid}; "
              f"valid but wrong {wrong_valid}")
        print(f"  field accuracy {100 * sum(field_ok.values()) / total:.1f}%; cards with a "
              f"field marked unsure {unsure_cards} ({unsure_fields} fields); wrong fields given "
              f"as sure (check-digit fields) {wrong_sure}")
        out[f"mrz_other_printer_{engine}"] = {
            "cards": n, "found": found, "all_fields_right": exact,
            "check_digits_valid": valid, "valid_but_wrong": wrong_valid,
            "field_accuracy_pct": 100 * sum(field_ok.values()) / total,
            "cards_with_unsure_field": unsure_cards, "unsure_fields": unsure_fields,
            "wrong_fields_given_as_sure": wrong_sure}
    return out


def _live_face(person: s.SpecimenPerson, rng: np.random.Generator) -> np.ndarray:
    frame = np.full((720, 1280, 3), int(rng.integers(60, 200)), np.uint8)
    portrait = s.face_portrait(person.face)
    hgt = int(rng.integers(420, 640))
    wdt = int(hgt * 0.75)
    big = cv2.resize(portrait, (wdt, hgt), interpolation=cv2.INTER_CUBIC)
    angle = float(rng.uniform(-8, 8))
    m = cv2.getRotationMatrix2D((wdt / 2, hgt / 2), angle, 1.0)
    big = cv2.warpAffine(big, m, (wdt, hgt), borderMode=cv2.BORDER_REPLICATE)
    x = int(rng.integers(0, 1280 - wdt))
    y = int(rng.integers(0, 720 - hgt + 1))
    frame[y:y + hgt, x:x + wdt] = big
    gain = float(rng.uniform(0.75, 1.2))
    noisy = frame.astype(np.float32) * gain + rng.normal(0, 3, frame.shape)
    out = np.clip(noisy, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else out


def bench_faces(n: int) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    people = (s.DEMO_PERSON, s.OTHER_PERSON)
    cards_ = {}
    for p in people:
        img, _t = s.place_in_scene(s.render_cie_front(p), s.random_scene(rng))
        det = card.find_document(img)
        cards_[p.face] = card.rectify(img, det.corners, det.format) if det else img
    counts = {"same": [0, 0, 0], "diff": [0, 0, 0]}  # same, different, unknown
    dists: dict[str, list[float]] = {"same": [], "diff": []}
    idx = {"same": 0, "different": 1, "unknown": 2}
    walls = []
    for i in range(n):
        doc_p = people[i % 2]
        for pair, live_p in (("same", doc_p), ("diff", people[(i + 1) % 2])):
            frame = _live_face(live_p, rng)
            t0 = time.perf_counter()
            cmp = faces.compare_faces(cards_[doc_p.face], frame)
            walls.append((time.perf_counter() - t0) * 1000)
            counts[pair][idx[cmp.decision]] += 1
            if cmp.distance is not None:
                dists[pair].append(cmp.distance)
    s_same, s_diff = counts["same"], counts["diff"]
    print(f"faces: {n} genuine and {n} impostor pairs (specimen card photo vs varied live frame;"
          " 2 identities only)")
    print(f"  genuine: same {s_same[0]}, different {s_same[1]} (false non-match "
          f"{100 * s_same[1] / n:.1f}%), unknown {s_same[2]}; distance median "
          f"{statistics.median(dists['same']) if dists['same'] else float('nan'):.3f}")
    print(f"  impostor: different {s_diff[1]}, same {s_diff[0]} (false match "
          f"{100 * s_diff[0] / n:.1f}%), unknown {s_diff[2]}; distance median "
          f"{statistics.median(dists['diff']) if dists['diff'] else float('nan'):.3f}")
    print(f"  compare_faces wall median {statistics.median(walls):.0f} ms")
    return {"faces_pairs": n,
            "faces_genuine": {"same": s_same[0], "different": s_same[1], "unknown": s_same[2],
                              "false_non_match_pct": 100 * s_same[1] / n,
                              "distance_median": statistics.median(dists["same"])
                              if dists["same"] else None},
            "faces_impostor": {"different": s_diff[1], "same": s_diff[0], "unknown": s_diff[2],
                               "false_match_pct": 100 * s_diff[0] / n,
                               "distance_median": statistics.median(dists["diff"])
                               if dists["diff"] else None},
            "faces_compare_wall_median_ms": statistics.median(walls)}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--cards", type=int, default=200)
    ap.add_argument("--tesseract-cards", type=int, default=60)
    ap.add_argument("--faces", type=int, default=20)
    ap.add_argument("--other-cards", type=int, default=60)
    ap.add_argument("--skip", default="", help="comma list: live,still,mrz,other,faces")
    return report.add_json_argument(ap)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    rep = report.start(__file__, args)
    figures: dict[str, Any] = {}
    skip = set(args.skip.split(",")) if args.skip else set()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"bench_checks {date.today().isoformat()}, OpenCV {cv2.__version__}, "
          f"{os.cpu_count()} CPUs, load average {load}")
    if "live" not in skip:
        figures.update(bench_live())
    if "still" not in skip:
        figures.update(bench_still())
    if "mrz" not in skip:
        figures.update(bench_mrz(args.cards, args.tesseract_cards))
    if "other" not in skip:
        figures.update(bench_mrz_other(args.other_cards))
    if "faces" not in skip:
        figures.update(bench_faces(args.faces))
    rep.emit({"opencv": cv2.__version__, "skipped": sorted(skip), **figures})


if __name__ == "__main__":
    main()
