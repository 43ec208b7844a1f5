"""The APDU layer against the virtual card's processor (in process): status words, selection
fallback, chunked reads, APDU counts. The same card runs behind pcscd in test_card_pcsc.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardreader.apdu import CardSession
from cardreader.cns import encode_personal_data
from cardreader.errors import CardError, CardErrorCode
from cardreader.reader import read_cns
from demo.virtual_card import DEMO_IDENTITY, CardProfile, VirtualCns, make_profile


class Direct:
    """Transport straight into a VirtualCns, recording the APDUs."""

    def __init__(self, card: VirtualCns) -> None:
        self.card = card
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
        self.sent.append(bytes(apdu))
        r = self.card.process(bytes(apdu))
        return r[:-2], r[-2], r[-1]


def card(**options: object) -> tuple[VirtualCns, Direct]:
    c = VirtualCns(make_profile(dict(DEMO_IDENTITY), **options))
    return c, Direct(c)


def test_full_read_in_few_apdus() -> None:
    c, t = card()
    data = read_cns(t, c.atr, "direct")
    assert data.personal.codice_fiscale == "RSSMRA85D52H501P"
    assert data.card_number == "8038000012345678"
    assert data.certificate is not None
    assert data.certificate.codice_fiscale == "RSSMRA85D52H501P"
    cert_len = data.certificate.der_length
    # 3 selects by path + 1 read (IDCarta) + 1 read (personal data) + ceil(cert / 255)
    assert data.apdu_count == 3 + 2 + -(-cert_len // 255) == len(t.sent)
    # the zero padding of the certificate file is never read
    reads = [a for a in t.sent if a[1] == 0xB0]
    last_offset = (reads[-1][2] << 8) | reads[-1][3]
    assert last_offset + reads[-1][4] == cert_len
    assert all(a[4] in range(1, 256) for a in reads)


def test_select_fid_by_fid_fallback() -> None:
    c, t = card(select_by_path=False)
    data = read_cns(t, c.atr)
    assert data.personal.surname == "ROSSI"
    p1s = [a[2] for a in t.sent if a[1] == 0xA4]
    assert p1s[0] == 0x08 and all(p == 0x00 for p in p1s[1:])  # path tried once, then FIDs
    assert sum(1 for p in p1s if p == 0x08) == 1


def test_t0_card_get_response_and_wrong_le() -> None:
    c, t = card(t0_style=True)
    session = CardSession(t)
    # a SELECT asking for the FCI gets 61xx, resolved with GET RESPONSE
    fci, sw = session.exchange(bytes.fromhex("00A40800041100110200"))
    assert sw == 0x9000 and fci[0] == 0x62
    assert t.sent[-1][1] == 0xC0
    # a READ BINARY past the end gets 6Cxx and is resent with the right Le
    data, sw = session.exchange(bytes.fromhex("00B0012CFF"))  # offset 300 of a 400-byte file
    assert sw == 0x9000 and len(data) == 100
    assert t.sent[-2][4] == 0xFF and t.sent[-1][4] == 100  # 6C64 → resent with Le 0x64
    result = read_cns(t, c.atr)
    assert result.personal.codice_fiscale == "RSSMRA85D52H501P"


def test_eof_and_wrong_offset() -> None:
    _c, t = card()
    s = CardSession(t)
    s.select((0x1100, 0x1102))
    data, eof = s.read_binary(300, 255)
    assert eof and len(data) == 100  # 6282: fewer bytes than asked
    data, eof = s.read_binary(401, 10)
    assert eof and data == b""  # 6B00


def test_missing_file_and_protected_file() -> None:
    c, t = card(certificate="none")
    data = read_cns(t, c.atr)
    assert data.certificate is None and not data.has_certificate  # TS without CNS
    c, t = card(protected=("1100/1102",))
    with pytest.raises(CardError) as err:
        read_cns(t, c.atr)
    assert err.value.code == CardErrorCode.ACCESS_DENIED


def test_blank_certificate_is_no_certificate_and_cheap() -> None:
    c, t = card(certificate="blank")
    data = read_cns(t, c.atr)
    assert data.certificate is None
    assert sum(1 for a in t.sent if a[1] == 0xB0) == 3  # one chunk of the blank file is enough


def test_not_a_cns() -> None:
    profile = CardProfile(personal=dict(DEMO_IDENTITY), atr_cns=False)
    c = VirtualCns(profile)
    c.files = {}  # a card with neither the CNS ATR nor its files
    with pytest.raises(CardError) as err:
        read_cns(Direct(c), c.atr)
    assert err.value.code == CardErrorCode.NOT_CNS


def test_atr_without_cns_falls_back_to_selects() -> None:
    c, t = card(atr_cns=False)
    data = read_cns(t, c.atr)
    assert not data.atr_is_cns and data.personal.surname == "ROSSI"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"00001", CardErrorCode.MALFORMED_PERSONAL_DATA),
        (b"0000X0" + b"\x00" * 20, CardErrorCode.MALFORMED_PERSONAL_DATA),
        (encode_personal_data({"surname": "ROSSI"}), CardErrorCode.MALFORMED_PERSONAL_DATA),
    ],
)
def test_malformed_file_on_card(raw: bytes, code: CardErrorCode) -> None:
    c, t = card(raw_files={"1100/1102": raw})
    with pytest.raises(CardError) as err:
        read_cns(t, c.atr)
    assert err.value.code == code


def test_malformed_certificate_on_card() -> None:
    c, t = card(raw_files={"1100/1101": b"\x30\x82\x03\x00" + b"\x01" * 100})
    with pytest.raises(CardError) as err:
        read_cns(t, c.atr)
    assert err.value.code == CardErrorCode.MALFORMED_CERTIFICATE


def test_status_word_garbage_is_an_error() -> None:
    class Broken:
        def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
            return b"", 0x6F, 0x00

    with pytest.raises(CardError) as err:
        read_cns(Broken(), b"")
    assert err.value.code == CardErrorCode.NOT_CNS
    with pytest.raises(CardError) as err:
        read_cns(Broken(), VirtualCns(make_profile(dict(DEMO_IDENTITY))).atr)
    assert err.value.code == CardErrorCode.CARD_ERROR


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_card_answer_gives_data_or_a_card_error(data: st.DataObject) -> None:
    """A card answering arbitrary data and status words never crashes the reader."""
    good = VirtualCns(make_profile(dict(DEMO_IDENTITY)))
    corrupt_at = data.draw(st.integers(0, 14))
    calls = [0]

    class Chaotic:
        def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
            calls[0] += 1
            if calls[0] > 200:
                raise AssertionError("the reader does not stop asking")
            if calls[0] - 1 == corrupt_at or data.draw(st.booleans()):
                body = data.draw(st.binary(max_size=300))
                return body, data.draw(st.integers(0, 255)), data.draw(st.integers(0, 255))
            r = good.process(bytes(apdu))
            return r[:-2], r[-2], r[-1]

    try:
        result = read_cns(Chaotic(), data.draw(st.sampled_from([good.atr, b"", b"\x3b\x00"])))
    except CardError as exc:
        assert exc.code in CardErrorCode
    else:
        assert len(result.card_number) == 16 and result.personal.codice_fiscale
