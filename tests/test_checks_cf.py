"""Codice fiscale: check character, omocodia, decoding, comparison."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.checks import codice_fiscale as cf


@pytest.mark.parametrize(("value", "sex", "yymmdd", "place"), [
    ("RSSMRA85D52H501P", "F", "850412", "H501"),  # the demo identity (PROTOCOL.md)
    ("RSSMRA80A01H501U", "M", "800101", "H501"),  # the usual public example
    ("BNCLCU79P30F205G", "M", "790930", "F205"),
])
def test_valid_codes_decode(value: str, sex: str, yymmdd: str, place: str) -> None:
    r = cf.validate(value, source="test")
    assert r.valid and r.errors == []
    assert (r.sex, r.birth_date_yymmdd, r.place_code) == (sex, yymmdd, place)


def test_compute_matches_known_codes() -> None:
    assert cf.compute("Rossi", "Maria", date(1985, 4, 12), "F", "H501") == "RSSMRA85D52H501P"
    assert cf.compute("Rossi", "Mario", date(1980, 1, 1), "M", "H501") == "RSSMRA80A01H501U"
    # four or more consonants in the name: 1st, 3rd and 4th
    assert cf.compute("Bianchi", "Gianfranco", date(1970, 1, 1), "M", "F205")[3:6] == "GFR"
    # short surname padded with X
    assert cf.compute("Fo", "Dario", date(1926, 3, 24), "M", "E734")[:3] == "FOX"


@pytest.mark.parametrize(("value", "error"), [
    ("RSSMRA85D52H501A", "check_char"),
    ("RSSMRA85D52H501", "format"),
    ("RSSMRA85Z52H501P", "format"),  # Z is no month letter
    ("1SSMRA85D52H501P", "format"),
    ("", "format"),
])
def test_invalid_codes(value: str, error: str) -> None:
    r = cf.validate(value)
    assert not r.valid and error in r.errors


def test_impossible_day_is_an_error() -> None:
    body = "RSSMRA85D72H501"  # day 72 - 40 = 32
    r = cf.validate(body + cf.check_char(body))
    assert not r.valid and "date" in r.errors


def test_omocodes_are_valid_and_decode_to_the_same_person() -> None:
    base = "RSSMRA85D52H501P"
    for level in range(1, 8):
        code = cf.omocode(base, level)
        r = cf.validate(code)
        assert r.valid, code
        assert r.omocode_level == level
        assert (r.sex, r.birth_date_yymmdd, r.place_code) == ("F", "850412", "H501")
        assert cf.de_omocode(code)[:15] == base[:15]
    assert cf.omocode(base, 1)[14] == "M"  # last digit 1 -> M


def test_omocode_with_wrong_check_char_is_rejected() -> None:
    code = cf.omocode("RSSMRA85D52H501P", 3)
    bad = code[:15] + ("A" if code[15] != "A" else "B")
    assert not cf.validate(bad).valid


def test_compare_with_request() -> None:
    req = {"applicant": {"codice_fiscale": "RSSMRA85D52H501P", "birth_date": "1985-04-12",
                         "sex": "F"}}
    today = date(2026, 11, 23)
    ok = cf.compare_with_request(cf.validate("RSSMRA85D52H501P"), req, today)
    assert ok == {"value": "match", "birth_date": "match", "sex": "match"}
    omo = cf.compare_with_request(cf.validate(cf.omocode("RSSMRA85D52H501P", 2)), req, today)
    assert omo["value"] == "match"
    other = cf.compare_with_request(cf.validate("BNCLCU79P30F205G"), req, today)
    assert other == {"value": "differ", "birth_date": "differ", "sex": "differ"}
    bad = cf.compare_with_request(cf.validate("RSSMRA85D52H501A"), req, today)
    assert bad["value"] == "unreadable"
    assert cf.compare_with_request(cf.validate("RSSMRA85D52H501P"), {}, today)["value"] == "absent"


_letters = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=2, max_size=12)


@settings(max_examples=150, deadline=None)
@given(_letters, _letters, st.dates(date(1900, 1, 1), date(2025, 12, 31)),
       st.sampled_from("MF"), st.from_regex(r"[A-Z][0-9]{3}", fullmatch=True),
       st.integers(0, 7))
def test_computed_codes_validate_and_decode(surname: str, name: str, born: date, sex: str,
                                            place: str, level: int) -> None:
    code = cf.compute(surname, name, born, sex, place)
    if level:
        code = cf.omocode(code, level)
    r = cf.validate(code)
    assert r.valid
    assert r.sex == sex and r.place_code == place
    assert (r.birth_month, r.birth_day) == (born.month, born.day)
    # any other check character is refused
    wrong = code[:15] + chr((ord(code[15]) - 65 + 1) % 26 + 65)
    assert not cf.validate(wrong).valid


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_validate_never_raises(value: str) -> None:
    r = cf.validate(value)
    assert isinstance(r.valid, bool)
