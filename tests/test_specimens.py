"""Specimen documents: sizes, MRZ check digits, Code 39, scene geometry."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import zxingcpp

from console import specimens as s
from console.checks import codice_fiscale as cf
from console.checks.mrz import parse_mrz


@pytest.mark.parametrize("kind", ["cie_front", "cie_back", "ts_front", "ts_back", "passport"])
def test_render_sizes_and_content(kind: str) -> None:
    img, zones = s.render(kind)  # type: ignore[arg-type]
    expected = s.ID3_SIZE if kind == "passport" else s.ID1_SIZE
    assert img.dtype == np.uint8 and img.shape == (expected[1], expected[0], 3)
    assert img.std() > 20  # printed, not blank
    for box in (zones.photo, zones.mrz, zones.barcode):
        if box is not None:
            x0, y0, x1, y1 = box
            assert 0 <= x0 < x1 <= img.shape[1] and 0 <= y0 < y1 <= img.shape[0]


def test_demo_identity_matches_protocol() -> None:
    p = s.DEMO_PERSON
    assert (p.surname, p.given_names, p.codice_fiscale) == ("ROSSI", "MARIA", "RSSMRA85D52H501P")
    assert p.birth_date == date(1985, 4, 12) and p.expiry_date == date(2031, 4, 12)
    assert p.document_number == "CA00000AA" and p.issuer == "COMUNE DI ROMA"
    for person in (s.DEMO_PERSON, s.OTHER_PERSON):
        assert cf.validate(person.codice_fiscale).valid
        assert cf.compute(person.surname, person.given_names, person.birth_date, person.sex,
                          person.birth_place_code) == person.codice_fiscale
    assert s.OTHER_PERSON.face != s.DEMO_PERSON.face


def test_mrz_builders_are_valid() -> None:
    td1 = s.person_mrz_td1(s.DEMO_PERSON)
    assert td1[0] == "CIITACA00000AA4<<<<<<<<<<<<<<<"
    assert [len(x) for x in td1] == [30, 30, 30]
    r1 = parse_mrz(td1)
    assert r1 is not None and r1.valid and r1.format == "TD1"
    assert r1.fields["surname"] == "ROSSI" and r1.fields["birth_date"] == "850412"
    td3 = s.person_mrz_td3(s.OTHER_PERSON)
    r3 = parse_mrz(td3)
    assert r3 is not None and r3.valid and r3.format == "TD3"
    assert r3.fields["document_number"] == "YB1111111" and r3.fields["sex"] == "M"


def test_mrz_td3_reproduces_icao_specimen() -> None:
    lines = s.mrz_td3("L898902C3", date(1974, 8, 12), "F", date(2012, 4, 15), "ERIKSSON",
                      "ANNA MARIA", nationality="UTO", issuing_state="UTO",
                      personal_number="ZE184226B")
    assert lines == ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                     "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]


def test_mrz_td1_reproduces_icao_specimen() -> None:
    lines = s.mrz_td1("D23145890", date(1974, 8, 12), "F", date(2012, 4, 15), "ERIKSSON",
                      "ANNA MARIA", nationality="UTO", issuing_state="UTO", document_code="I")
    assert lines == ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6",
                     "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]


def test_code39_table_round_trips_through_zxing() -> None:
    alphabet = "".join(k for k in s.CODE39 if k != "*")
    for i in range(0, len(alphabet), 15):
        chunk = alphabet[i:i + 15]
        decoded = [r.text for r in zxingcpp.read_barcodes(s.code39_image(chunk))]
        assert decoded == [chunk]


def test_scene_corners_land_where_the_card_is() -> None:
    doc = s.render_cie_front()
    frame, corners = s.place_in_scene(doc, yaw=20, pitch=-10, roll=5, noise=0, seed=3)
    assert frame.shape == (720, 1280, 3) and corners.shape == (4, 2)
    # the card's centre is brighter than the desk at the same place in an empty scene
    cx, cy = corners.mean(axis=0).astype(int)
    empty = s._background(1280, 720, "desk", np.random.default_rng(3))
    assert abs(int(frame[cy, cx].mean()) - int(empty[cy, cx].mean())) > 30
    # the far edge (yaw) is shorter than the near edge
    left = np.linalg.norm(corners[3] - corners[0])
    right = np.linalg.norm(corners[2] - corners[1])
    assert left != pytest.approx(right, rel=0.02)


def test_random_people_are_consistent() -> None:
    rng = np.random.default_rng(7)
    for _ in range(30):
        p = s.random_person(rng)
        r = parse_mrz(s.person_mrz_td1(p))
        assert r is not None and r.valid
        assert cf.validate(p.codice_fiscale).valid
