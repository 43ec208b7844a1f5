"""Document images: card finding, MRZ OCR, Code 39 in perspective, quality hints, live guidance.

Every image is a specimen rendered by console.specimens and photographed in a synthetic scene
with known corners, so the expected answers come from the generator, not from the checks.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from console import specimens as s
from console.checks import barcode, card, mrz_ocr, quality
from console.checks.mrz import compare_with_request
from console.checks.quality import Hint, LiveAnalyzer

SCENES = [
    dict(yaw=0, pitch=0, roll=0),
    dict(yaw=22, pitch=-8, roll=4, background="light"),
    dict(yaw=-15, pitch=14, roll=-8, blur=1.2, background="dark"),
    dict(yaw=10, pitch=10, roll=12, glare=0.6, glare_at=(0.8, 0.2), jpeg_quality=75),
    dict(yaw=-20, pitch=-12, roll=2, blur=0.8, noise=4, brightness=0.8),
]


@pytest.mark.parametrize("scene", SCENES)
@pytest.mark.parametrize("kind", ["cie_front", "ts_front", "passport"])
def test_find_document_corners(kind: str, scene: dict[str, object]) -> None:
    doc, _z = s.render(kind)  # type: ignore[arg-type]
    img, truth = s.place_in_scene(doc, scale=0.55, seed=1, **scene)
    det = card.find_document(img)
    assert det is not None
    err = float(np.abs(det.corners - truth).max())
    assert err < 4.0, err
    assert det.format == ("ID3" if kind == "passport" else "ID1")


def test_no_document_in_an_empty_scene() -> None:
    empty = s._background(1280, 720, "desk", np.random.default_rng(0))
    assert card.find_document(empty) is None


def test_rectified_card_matches_the_rendered_one() -> None:
    doc = s.render_cie_front()
    img, _truth = s.place_in_scene(doc, yaw=18, pitch=-10, roll=6, noise=0, seed=2)
    det = card.find_document(img)
    assert det is not None
    flat = card.rectify(img, det.corners, det.format).astype(np.float32)
    ref = doc.astype(np.float32)
    inner = (slice(40, -40), slice(40, -40))
    corr = np.corrcoef(flat[inner].ravel(), ref[inner].ravel())[0, 1]
    assert corr > 0.9


@pytest.mark.parametrize(("kind", "scene"), [
    ("cie_back", dict(yaw=0, pitch=0)),
    ("cie_back", dict(yaw=20, pitch=-10, roll=5, blur=1.0)),
    ("cie_back", dict(yaw=-12, pitch=12, roll=-6, glare=0.6, glare_at=(0.2, 0.3))),
    ("cie_back", dict(yaw=8, pitch=-14, roll=175)),  # upside down
    ("passport", dict(yaw=15, pitch=8, roll=-4, jpeg_quality=80)),
])
def test_mrz_is_read_exactly(kind: str, scene: dict[str, object]) -> None:
    person = s.random_person(np.random.default_rng(42))
    doc, _z = s.render(kind, person)  # type: ignore[arg-type]
    img, _t = s.place_in_scene(doc, seed=3, **scene)
    det = card.find_document(img)
    assert det is not None
    read = mrz_ocr.read_mrz(card.rectify(img, det.corners, det.format))
    expected = s.person_mrz_td3(person) if kind == "passport" else s.person_mrz_td1(person)
    assert read.result is not None
    assert read.result.lines == expected
    assert read.result.valid and read.confidence > 0.8


def test_mrz_fields_compared_with_the_request() -> None:
    doc = s.render_cie_back()
    img, _t = s.place_in_scene(doc, yaw=10, pitch=-6, seed=5)
    det = card.find_document(img)
    assert det is not None
    read = mrz_ocr.read_mrz(card.rectify(img, det.corners, det.format))
    assert read.result is not None
    cmp = compare_with_request(read.result, s.DEMO_PERSON.request(), today=date(2026, 11, 23))
    assert cmp["fields"] == {"document_number": "match", "surname": "match",
                             "given_names": "match", "birth_date": "match",
                             "expiry_date": "match", "sex": "match"}
    assert cmp["expired"] is False


def test_expired_document_is_flagged() -> None:
    old = s.SpecimenPerson(expiry_date=date(2024, 1, 31))
    img, _t = s.place_in_scene(s.render_cie_back(old), yaw=-8, seed=6)
    det = card.find_document(img)
    assert det is not None
    read = mrz_ocr.read_mrz(card.rectify(img, det.corners, det.format))
    assert read.result is not None
    cmp = compare_with_request(read.result, old.request(), today=date(2026, 11, 23))
    assert cmp["expired"] is True and cmp["expiry_date"] == "2024-01-31"


@pytest.mark.parametrize("kind", ["cie_front", "ts_front", "ts_back"])
def test_no_mrz_is_invented_on_documents_without_one(kind: str) -> None:
    img, _t = s.place_in_scene(s.render(kind)[0], yaw=10, pitch=5, seed=7)  # type: ignore[arg-type]
    det = card.find_document(img)
    assert det is not None
    read = mrz_ocr.read_mrz(card.rectify(img, det.corners, det.format))
    assert read.result is None


def test_tesseract_engine_runs() -> None:
    """The comparison engine works end to end (its accuracy is in bench_checks)."""
    flat = s.render_cie_back()
    read = mrz_ocr.read_mrz(flat, engine="tesseract")
    assert read.engine == "tesseract"
    assert read.result is not None and read.result.format == "TD1"
    assert len(read.raw_lines) == 3 and all(len(x) == 30 for x in read.raw_lines)


@pytest.mark.parametrize("scene", [
    dict(yaw=0, pitch=0, roll=0),
    dict(yaw=25, pitch=-12, roll=7),
    dict(yaw=-20, pitch=15, roll=-10, background="light", jpeg_quality=80),
])
def test_code39_in_perspective(scene: dict[str, object]) -> None:
    person = s.OTHER_PERSON
    img, _t = s.place_in_scene(s.render_ts_back(person), seed=8, **scene)
    r = barcode.read_codice_fiscale(img)
    assert r is not None and r.valid and r.value == person.codice_fiscale
    assert r.source == "barcode"


def test_skewed_code39_needs_rectification() -> None:
    img, _t = s.place_in_scene(s.render_ts_back(), yaw=25, pitch=15, roll=8, seed=9)
    assert barcode._decode(img) == []  # zxing alone gives up on this skew
    r = barcode.read_codice_fiscale(img)
    assert r is not None and r.value == s.DEMO_PERSON.codice_fiscale


def test_quality_measures_follow_blur_glare_and_light() -> None:
    doc = s.render_cie_back()
    sharp = quality.assess(s.place_in_scene(doc, yaw=8, seed=1)[0])
    blurred = quality.assess(s.place_in_scene(doc, yaw=8, blur=3.0, seed=1)[0])
    assert sharp.sharpness > 4 * blurred.sharpness
    assert Hint.FOCUS in blurred.hints and Hint.FOCUS not in sharp.hints
    assert sharp.hints == []
    glare = quality.assess(s.place_in_scene(doc, yaw=8, glare=0.9, glare_at=(0.5, 0.8),
                                            seed=1)[0])
    assert Hint.TILT_AWAY_FROM_LIGHT in glare.hints
    assert glare.glare_zones["mrz"] > glare.glare_zones["photo"]
    dark = quality.assess(s.place_in_scene(doc, yaw=8, brightness=0.3, seed=1)[0])
    assert Hint.MORE_LIGHT in dark.hints
    small = quality.assess(s.place_in_scene(doc, yaw=8, scale=0.3, seed=1)[0])
    assert Hint.MOVE_CLOSER in small.hints
    nothing = quality.assess(s._background(1280, 720, "desk", np.random.default_rng(1)))
    assert Hint.NO_DOCUMENT in nothing.hints


def test_live_analyzer_waits_for_a_steady_sharp_card() -> None:
    doc = s.render_cie_front()
    live = LiveAnalyzer(steady_frames=4)
    results = []
    # the applicant moves the card in, then holds it still
    for i in range(6):
        frame, _t = s.place_in_scene(doc, yaw=20 - 3 * i, center=(0.4 + 0.02 * i, 0.5),
                                     seed=i)
        results.append(live.analyze(frame))
    assert all(not r.auto_capture_ready for r in results)
    assert Hint.HOLD_STILL in results[-1].hints
    for i in range(6):
        frame, _t = s.place_in_scene(doc, yaw=5, center=(0.5, 0.5), seed=100 + i)
        results.append(live.analyze(frame))
    assert results[-1].auto_capture_ready
    assert results[-1].hints == []
    # glare breaks readiness even when steady
    frame, _t = s.place_in_scene(doc, yaw=5, center=(0.5, 0.5), glare=0.9,
                                 glare_at=(0.2, 0.45), seed=200)
    r = live.analyze(frame)
    assert not r.auto_capture_ready and Hint.TILT_AWAY_FROM_LIGHT in r.hints
    # the card leaves the frame
    r = live.analyze(s._background(1280, 720, "desk", np.random.default_rng(3)))
    assert not r.auto_capture_ready and Hint.NO_DOCUMENT in r.hints and r.steady_frames == 0
