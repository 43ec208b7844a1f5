"""The CNS file parsers: good files parse, bad files give a CardError naming the defect."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardreader.atr import build_atr, historical_bytes, is_cns_atr
from cardreader.cns import (
    PERSONAL_FIELDS,
    codice_fiscale_valid,
    der_total_length,
    encode_personal_data,
    parse_card_number,
    parse_certificate,
    parse_personal_data,
    personal_data_length,
)
from cardreader.errors import CardError, CardErrorCode, CertificateError, PersonalDataError
from demo.virtual_card import CNS_HISTORICAL, PLAIN_HISTORICAL, make_certificate, make_profile

GOOD = {
    "issuer_code": "80380",
    "issue_date": "15012024",
    "expiry_date": "15012030",
    "surname": "ROSSI",
    "given_names": "MARIA",
    "birth_date": "12041985",
    "sex": "F",
    "height": "",
    "codice_fiscale": "RSSMRA85D52H501P",
    "citizenship": "ITA",
    "birth_comune": "H501",
    "birth_country": "",
    "birth_act": "",
    "residence_comune": "",
    "residence_address": "VIA DEL CORSO 1",
    "expatriation_notes": "",
}


def good_file() -> bytes:
    return encode_personal_data(GOOD)


def test_personal_data_round_trip_with_padding() -> None:
    raw = good_file()
    assert raw[:6] == f"{len(raw) - 6:06X}".encode()
    p = parse_personal_data(raw + b"\x00" * 100)
    assert p.surname == "ROSSI" and p.given_names == "MARIA"
    assert p.birth_date == dt.date(1985, 4, 12)
    assert p.issue_date == dt.date(2024, 1, 15) and p.expiry_date == dt.date(2030, 1, 15)
    assert p.codice_fiscale == "RSSMRA85D52H501P" and p.sex == "F" and p.height == ""
    assert personal_data_length(raw[:10]) == len(raw)


def test_empty_field_is_00() -> None:
    raw = good_file()
    # height is empty: encoded as "00" right after the sex field "01F"
    assert b"01F00" in raw


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda r: r[:-5], "truncated"),  # cut short
        (lambda r: r[:3], "truncated"),  # header cut
        (lambda r: b"00ZZ" + r[4:], "non-hex"),  # header not hex
        (lambda r: r + b"XYZ", "over-long"),  # data after the announced length
        (lambda r: f"{len(r) - 6 + 3:06X}".encode() + r[6:] + b"01A", "over-long"),  # 17th field
        (lambda r: r[:6] + b"G" + r[7:], "non-hex"),  # bad field length digit
        (lambda r: f"{len(r) - 6 - 4:06X}".encode() + r[6:-4], "truncated"),  # last field cut
        (lambda r: b"000000", "empty"),
    ],
)
def test_malformed_personal_data(mutate, needle: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PersonalDataError) as err:
        parse_personal_data(mutate(good_file()))
    assert err.value.code == CardErrorCode.MALFORMED_PERSONAL_DATA
    assert needle in err.value.detail
    # the reason is one line, without the personal data
    assert "\n" not in err.value.reason and "ROSSI" not in err.value.reason


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("birth_date", "31021985", "not a calendar date"),
        ("birth_date", "1985-04", "ddMMyyyy"),
        ("codice_fiscale", "NOTACF", "shape"),
        ("surname", "", "required field surname"),
        ("sex", "X", "sex"),
        ("expiry_date", "01012000", "precedes"),
        ("surname", "RO\x01SI", "control"),
    ],
)
def test_bad_field_values(field: str, value: str, needle: str) -> None:
    with pytest.raises(PersonalDataError, match=needle):
        parse_personal_data(encode_personal_data({**GOOD, field: value}))


def test_missing_trailing_fields_tolerated_but_not_before_cf() -> None:
    body = b"".join(f"{len(GOOD[k]):02X}".encode() + GOOD[k].encode() for k in PERSONAL_FIELDS[:9])
    p = parse_personal_data(f"{len(body):06X}".encode() + body)
    assert p.codice_fiscale == "RSSMRA85D52H501P" and p.residence_address == ""
    short = b"".join(f"{len(GOOD[k]):02X}".encode() + GOOD[k].encode() for k in PERSONAL_FIELDS[:8])
    with pytest.raises(PersonalDataError, match="only 8"):
        parse_personal_data(f"{len(short):06X}".encode() + short)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_personal_data_parser_never_crashes(data: bytes) -> None:
    try:
        parsed = parse_personal_data(data)
    except PersonalDataError as exc:
        assert exc.detail
    else:
        assert parsed.issue_date <= parsed.expiry_date
    n = personal_data_length(data)
    assert n is None or n >= 6


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.binary(min_size=1, max_size=3))
def test_mutated_personal_data_never_crashes(pos: int, junk: bytes) -> None:
    raw = bytearray(good_file())
    pos = min(pos, len(raw))
    raw[pos : pos + len(junk)] = junk
    try:
        parsed = parse_personal_data(bytes(raw))
    except PersonalDataError as exc:
        assert exc.detail and "\n" not in exc.reason
    else:
        assert len(parsed.codice_fiscale) == 16


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            k: st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
            for k in ("surname", "given_names", "birth_country", "residence_address")
        }
    )
)
def test_personal_data_round_trip_property(values: dict[str, str]) -> None:
    rec = {**GOOD, **values}
    try:
        p = parse_personal_data(encode_personal_data(rec))
    except PersonalDataError as exc:
        assert "surname" in exc.detail  # only an empty (or all-blank) surname is refused
        return
    assert p.surname == values["surname"].strip()
    assert p.residence_address == values["residence_address"].strip()


def test_card_number() -> None:
    assert parse_card_number(b"8038000012345678") == "8038000012345678"
    assert parse_card_number(b"8038000012345678\x00\x00") == "8038000012345678"
    for bad in (b"803800001234567", b"80380000123456789", b"80380000I2345678", b""):
        with pytest.raises(CardError) as err:
            parse_card_number(bad)
        assert err.value.code == CardErrorCode.MALFORMED_CARD_NUMBER


@pytest.fixture(scope="module")
def cert_der() -> bytes:
    return make_certificate(make_profile({**_iso(GOOD)}))


def _iso(rec: dict[str, str]) -> dict[str, str]:
    out = dict(rec)
    for k in ("issue_date", "expiry_date", "birth_date"):
        v = rec[k]
        out[k] = f"{v[4:]}-{v[2:4]}-{v[:2]}"
    return out


def test_certificate_ts_cns_padded(cert_der: bytes) -> None:
    info, der = parse_certificate(cert_der + b"\x00" * 700)
    assert der == cert_der and info.der_length == len(cert_der)
    assert info.codice_fiscale == "RSSMRA85D52H501P"
    assert info.card_number == "8038000012345678"
    assert der_total_length(cert_der[:8]) == len(cert_der)


def test_certificate_tinit() -> None:
    der = make_certificate(make_profile(_iso(GOOD), certificate="tinit"))
    info, _ = parse_certificate(der)
    assert info.codice_fiscale == "RSSMRA85D52H501P" and info.card_number is None


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d[:-10], "truncated"),
        (lambda d: b"\x31" + d[1:], "SEQUENCE"),
        (lambda d: d[:1] + b"\x85" + d[2:], "DER length"),
        (lambda d: d + b"\x00\x01", "after the DER"),
        (lambda d: d[:40] + bytes(b ^ 0xFF for b in d[40:60]) + d[60:], "X.509"),
        (lambda d: b"", "empty"),
    ],
)
def test_malformed_certificate(cert_der: bytes, mutate, needle: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CertificateError) as err:
        parse_certificate(mutate(cert_der))
    assert needle in err.value.detail
    assert err.value.code == CardErrorCode.MALFORMED_CERTIFICATE


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_certificate_parser_never_crashes(cert_der: bytes, data: st.DataObject) -> None:
    raw = bytearray(cert_der)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        info, der = parse_certificate(bytes(raw[:cut]))
    except CertificateError as exc:
        assert exc.detail
    else:
        assert len(der) == info.der_length <= cut


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_certificate_parser_random_bytes(data: bytes) -> None:
    try:
        info, der = parse_certificate(data)
    except CertificateError as exc:
        assert exc.detail
    else:
        assert len(der) == info.der_length


def test_atr_recognition() -> None:
    cns = build_atr(CNS_HISTORICAL)
    assert historical_bytes(cns) == CNS_HISTORICAL and is_cns_atr(cns)
    assert not is_cns_atr(build_atr(PLAIN_HISTORICAL))
    # OpenSC's table entry for a CIE v1 (no CNS marker)
    assert not is_cns_atr(bytes.fromhex("3BF41800FF8131805500318000C7"))
    for bad in (b"", b"\x3b", b"\x12\x34", bytes.fromhex("3B8F80"), cns[:8]):
        assert not is_cns_atr(bad)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_atr_parser_never_crashes(atr: bytes) -> None:
    hist = historical_bytes(atr)
    assert hist is None or len(hist) <= 15


def test_codice_fiscale_check_letter() -> None:
    assert codice_fiscale_valid("RSSMRA85D52H501P")
    assert not codice_fiscale_valid("RSSMRA85D52H501A")
    assert not codice_fiscale_valid("RSSMRA85D52H501")
