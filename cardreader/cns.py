"""The CNS / TS-CNS data model and the strict parsers of its three public files.

Files (readable without a PIN):
- EF_IDCarta ``3F00/1000/1003``: the card number, 16 ASCII digits;
- EF_DatiPersonali ``3F00/1100/1102``: ASCII, 6 hex digits giving the length of the rest, then
  16 fields, each 2 hex digits of length and the value (an empty field is ``00``);
- the authentication certificate ``3F00/1100/1101``: DER X.509, possibly padded after the DER.

Every parser raises a :class:`~cardreader.errors.CardError` subclass on bad input, never another
exception; error details name the defect, never the data.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from cardreader.errors import CardError, CardErrorCode, CertificateError, PersonalDataError

log = logging.getLogger(__name__)

PATH_ID_CARTA = (0x1000, 0x1003)
PATH_DATI_PERSONALI = (0x1100, 0x1102)
PATH_CERTIFICATE = (0x1100, 0x1101)

# EF_DatiPersonali field order.
PERSONAL_FIELDS: tuple[str, ...] = (
    "issuer_code",
    "issue_date",
    "expiry_date",
    "surname",
    "given_names",
    "birth_date",
    "sex",
    "height",
    "codice_fiscale",
    "citizenship",
    "birth_comune",
    "birth_country",
    "birth_act",
    "residence_comune",
    "residence_address",
    "expatriation_notes",
)
# The fields a usable card must carry.
REQUIRED_FIELDS = ("issue_date", "expiry_date", "surname", "birth_date", "codice_fiscale")
DATE_FIELDS = ("issue_date", "expiry_date", "birth_date")

CF_RE = re.compile(
    r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$"
)
CN_TS_CNS_RE = re.compile(r"^(?P<cf>[A-Z0-9]{16})/(?P<card>[0-9]+)\.(?P<hash>.+)$")
PAD_BYTES = frozenset((0x00, 0xFF))

# The odd-position table: digits 0-9, then letters A-Z.
_ODD_DIGITS = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21)
_ODD_LETTERS = (
    1,
    0,
    5,
    7,
    9,
    13,
    15,
    17,
    19,
    21,
    2,
    4,
    18,
    20,
    11,
    3,
    6,
    8,
    12,
    14,
    16,
    10,
    22,
    25,
)
_CF_ODD = dict(
    zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", (*_ODD_DIGITS, *_ODD_LETTERS, 24, 23), strict=True)
)


def codice_fiscale_valid(cf: str) -> bool:
    """True when ``cf`` has the codice fiscale shape (omocodia allowed) and a right check letter."""
    if not CF_RE.match(cf):
        return False
    total = 0
    for i, c in enumerate(cf[:15]):
        if i % 2 == 0:
            total += _CF_ODD[c]
        else:
            total += int(c) if c.isdigit() else ord(c) - 65
    return chr(65 + total % 26) == cf[15]


@dataclass(frozen=True)
class PersonalData:
    """EF_DatiPersonali. Dates are :class:`datetime.date`; other fields are text ('' when empty)."""

    issuer_code: str
    issue_date: dt.date
    expiry_date: dt.date
    surname: str
    given_names: str
    birth_date: dt.date
    sex: str
    height: str
    codice_fiscale: str
    citizenship: str
    birth_comune: str
    birth_country: str
    birth_act: str
    residence_comune: str
    residence_address: str
    expatriation_notes: str


@dataclass(frozen=True)
class CertificateInfo:
    """What the console needs from the authentication certificate."""

    codice_fiscale: str | None
    card_number: str | None  # from a TS-CNS CN, when present
    subject_cn: str | None
    not_before: dt.datetime
    not_after: dt.datetime
    der_length: int

    def expired(self, now: dt.datetime | None = None) -> bool:
        now = now or dt.datetime.now(dt.UTC)
        return not (self.not_before <= now <= self.not_after)


@dataclass(frozen=True)
class CardData:
    """Everything read from one card, complete (a read that failed yields no CardData at all)."""

    reader: str
    atr: bytes
    atr_is_cns: bool
    card_number: str
    personal: PersonalData
    certificate: CertificateInfo | None
    apdu_count: int
    certificate_der: bytes | None = field(default=None, repr=False)

    @property
    def has_certificate(self) -> bool:
        return self.certificate is not None

    def expired(self, today: dt.date | None = None) -> bool:
        return (today or dt.date.today()) > self.personal.expiry_date

    def summary(self, today: dt.date | None = None) -> dict[str, Any]:
        """The `card read --json` object."""
        p = self.personal
        return {
            "card_number": self.card_number,
            "surname": p.surname,
            "given_names": p.given_names,
            "birth_date": p.birth_date.isoformat(),
            "sex": p.sex,
            "codice_fiscale": p.codice_fiscale,
            "issue_date": p.issue_date.isoformat(),
            "expiry_date": p.expiry_date.isoformat(),
            "has_certificate": self.has_certificate,
            "certificate_cf": self.certificate.codice_fiscale if self.certificate else None,
            "expired": self.expired(today),
        }

    def personal_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, v in asdict(self.personal).items():
            out[k] = v.isoformat() if isinstance(v, dt.date) else str(v)
        return out


# --- parsers -------------------------------------------------------------------------------


def _strip_padding(data: bytes) -> bytes:
    end = len(data)
    while end and data[end - 1] in PAD_BYTES:
        end -= 1
    return data[:end]


def parse_card_number(data: bytes) -> str:
    """EF_IDCarta: 16 ASCII digits (trailing 00/FF padding tolerated)."""
    body = _strip_padding(bytes(data))
    if len(body) != 16 or not all(0x30 <= b <= 0x39 for b in body):
        raise CardError(
            CardErrorCode.MALFORMED_CARD_NUMBER, f"expected 16 ASCII digits, got {len(body)} bytes"
        )
    return body.decode("ascii")


def _hex_len(text: bytes, pos: int, width: int, what: str) -> int:
    chunk = text[pos : pos + width]
    if len(chunk) < width:
        raise PersonalDataError(f"truncated: {what} length at offset {pos} is cut short")
    if not all(c in b"0123456789ABCDEFabcdef" for c in chunk):
        raise PersonalDataError(f"non-hex length for {what} at offset {pos}")
    return int(chunk, 16)


def _parse_date(value: str, name: str) -> dt.date:
    if len(value) != 8 or not value.isdigit():
        raise PersonalDataError(f"{name}: expected ddMMyyyy, got {len(value)} characters")
    try:
        return dt.date(int(value[4:8]), int(value[2:4]), int(value[0:2]))
    except ValueError:
        raise PersonalDataError(f"{name}: not a calendar date") from None


def personal_data_length(head: bytes) -> int | None:
    """Total byte length of EF_DatiPersonali content given its first bytes (None if unknowable)."""
    if len(head) < 6:
        return None
    try:
        return 6 + _hex_len(head, 0, 6, "file")
    except PersonalDataError:
        return None


def parse_personal_data(data: bytes) -> PersonalData:
    """Parse EF_DatiPersonali strictly. Bytes after the declared length must be 00/FF padding."""
    data = bytes(data)
    total = _hex_len(data, 0, 6, "file")
    if total == 0:
        raise PersonalDataError("empty personal-data file")
    if 6 + total > len(data):
        raise PersonalDataError(
            f"truncated: header announces {total} bytes, {len(data) - 6} present"
        )
    trailer = data[6 + total :]
    if any(b not in PAD_BYTES for b in trailer):
        raise PersonalDataError("over-long: data continues after the announced length")
    body = data[6 : 6 + total]
    values: list[str] = []
    pos = 0
    while pos < len(body):
        if len(values) == len(PERSONAL_FIELDS):
            raise PersonalDataError(f"over-long: {len(body) - pos} bytes after the last field")
        name = PERSONAL_FIELDS[len(values)]
        n = _hex_len(body, pos, 2, name)
        pos += 2
        raw = body[pos : pos + n]
        if len(raw) < n:
            raise PersonalDataError(
                f"truncated: field {name} announces {n} bytes, {len(raw)} present"
            )
        pos += n
        if any(b < 0x20 or b == 0x7F for b in raw):
            raise PersonalDataError(f"field {name} holds control characters")
        values.append(raw.decode("latin-1").strip())
    if len(values) < PERSONAL_FIELDS.index("codice_fiscale") + 1:
        raise PersonalDataError(f"truncated: only {len(values)} of {len(PERSONAL_FIELDS)} fields")
    values += [""] * (len(PERSONAL_FIELDS) - len(values))
    rec: dict[str, Any] = dict(zip(PERSONAL_FIELDS, values, strict=True))
    for name in REQUIRED_FIELDS:
        if not rec[name]:
            raise PersonalDataError(f"required field {name} is empty")
    for name in DATE_FIELDS:
        rec[name] = _parse_date(rec[name], name)
    rec["codice_fiscale"] = rec["codice_fiscale"].upper()
    if not CF_RE.match(rec["codice_fiscale"]):
        raise PersonalDataError("codice_fiscale does not have the codice fiscale shape")
    if rec["sex"] not in ("M", "F", ""):
        raise PersonalDataError("sex is neither M nor F")
    if rec["expiry_date"] < rec["issue_date"]:
        raise PersonalDataError("expiry date precedes issue date")
    return PersonalData(**rec)


def encode_personal_data(values: dict[str, str]) -> bytes:
    """The inverse of :func:`parse_personal_data` (used by the emulator and tests).

    ``values`` maps the names in :data:`PERSONAL_FIELDS` to raw text (dates already ddMMyyyy).
    """
    body = b""
    for name in PERSONAL_FIELDS:
        raw = values.get(name, "").encode("latin-1")
        if len(raw) > 0xFF:
            raise ValueError(f"field {name} longer than 255 bytes")
        body += f"{len(raw):02X}".encode("ascii") + raw
    return f"{len(body):06X}".encode("ascii") + body


def der_total_length(head: bytes) -> int | None:
    """Total length (header + content) of the DER SEQUENCE starting ``head``; None if unknowable."""
    if len(head) < 2 or head[0] != 0x30:
        return None
    first = head[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    if n == 0 or n > 4 or len(head) < 2 + n:
        return None
    return 2 + n + int.from_bytes(head[2 : 2 + n], "big")


def certificate_is_blank(data: bytes) -> bool:
    """A certificate file that holds nothing (all 00 or all FF): a TS without a CNS certificate."""
    return all(b in PAD_BYTES for b in data)


def parse_certificate(data: bytes) -> tuple[CertificateInfo, bytes]:
    """Parse the authentication certificate; returns the info and the exact DER bytes."""
    data = bytes(data)
    if not data:
        raise CertificateError("empty certificate file")
    if data[0] != 0x30:
        raise CertificateError("not a DER SEQUENCE")
    total = der_total_length(data)
    if total is None:
        raise CertificateError("bad DER length")
    if total > len(data):
        raise CertificateError(f"truncated: DER announces {total} bytes, {len(data)} present")
    if any(b not in PAD_BYTES for b in data[total:]):
        raise CertificateError("unexpected bytes after the DER certificate")
    der = data[:total]
    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject
        cns = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        serials = subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
        not_before = cert.not_valid_before_utc
        not_after = cert.not_valid_after_utc
    except Exception as exc:  # cryptography raises ValueError and others on bad DER
        raise CertificateError(f"not a valid X.509 certificate ({type(exc).__name__})") from None
    cn = str(cns[0].value) if cns else None
    cf: str | None = None
    card_number: str | None = None
    if cn:
        m = CN_TS_CNS_RE.match(cn)
        if m:
            cf, card_number = m.group("cf").upper(), m.group("card")
    if cf is None:
        for attr in serials:
            value = str(attr.value).upper()
            if value.startswith("TINIT-"):
                cf = value[len("TINIT-") :]
                break
    if cf is not None and not CF_RE.match(cf):
        raise CertificateError("the codice fiscale in the certificate subject is malformed")
    info = CertificateInfo(
        codice_fiscale=cf,
        card_number=card_number,
        subject_cn=cn,
        not_before=not_before,
        not_after=not_after,
        der_length=total,
    )
    return info, der
