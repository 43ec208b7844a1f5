"""Field validation for request bodies: each check returns an error code or ``None``.

Errors are collected into a ``{"dotted.field": "code"}`` map that becomes the 422 ``fields``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from server.config import PRODUCTS

DOCUMENT_TYPES = ("identity_card", "paper_identity_card", "driving_licence", "passport")
DECISIONS = ("approved", "rejected", "suspended")
REASON_CODES = (
    "ok", "document_expired", "document_damaged", "data_mismatch", "poor_video", "poor_audio",
    "applicant_refused", "suspected_fraud", "third_person_present", "otp_failed", "face_mismatch",
    "connection_lost", "other",
)
ROLES = ("operator", "partner", "trainer", "supervisor", "admin")

# --- codice fiscale -------------------------------------------------------------------------

_ODD = {
    **dict(zip("0123456789", (1, 0, 5, 7, 9, 13, 15, 17, 19, 21), strict=True)),
    **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
               (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10,
                22, 25, 24, 23), strict=True)),
}
_EVEN = {**{str(d): d for d in range(10)}, **{chr(65 + i): i for i in range(26)}}
_OMOCODE = "LMNPQRSTUV"  # replaces digits 0..9
_OMOCODE_POS = (6, 7, 9, 10, 12, 13, 14)  # 0-based positions of the digits
_MONTHS = "ABCDEHLMPRST"
_CF_SHAPE = re.compile(r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z]"
                       r"[0-9LMNPQRSTUV]{3}[A-Z]$")


def cf_check_char(first15: str) -> str:
    total = 0
    for i, ch in enumerate(first15):
        total += _ODD[ch] if i % 2 == 0 else _EVEN[ch]
    return chr(65 + total % 26)


def cf_decode_omocodia(cf: str) -> str:
    chars = list(cf)
    for pos in _OMOCODE_POS:
        if chars[pos] in _OMOCODE:
            chars[pos] = str(_OMOCODE.index(chars[pos]))
    return "".join(chars)


def check_codice_fiscale(value: str) -> str | None:
    if len(value) != 16 or not _CF_SHAPE.match(value):
        return "invalid_format"
    # omocodia substitutes from the rightmost digit leftwards: no digit right of a letter
    seen_digit = False
    for pos in reversed(_OMOCODE_POS):
        if value[pos].isdigit():
            seen_digit = True
        elif seen_digit:
            return "invalid_format"
    plain = cf_decode_omocodia(value)
    day = int(plain[9:11])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        return "invalid_format"
    if cf_check_char(value[:15]) != value[15]:
        return "invalid_check_char"
    return None


def cf_birth_info(cf: str) -> tuple[int, int, int, str]:
    """(two-digit year, month, day, sex) encoded in a well-formed codice fiscale."""
    plain = cf_decode_omocodia(cf)
    yy = int(plain[6:8])
    month = _MONTHS.index(plain[8]) + 1
    day = int(plain[9:11])
    sex = "F" if day > 40 else "M"
    return yy, month, day - 40 if day > 40 else day, sex


# --- simple fields ----------------------------------------------------------------------------

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
                    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_MOBILE = re.compile(r"^\+393[0-9]{8,9}$")  # not \d: "٣" is a \d too
_NAME = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ' .-]*$")
_DOC_NUMBER = re.compile(r"^[A-Z0-9]{5,20}$")
_PLACE = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ0-9' .()/-]+$")


def check_email(value: str) -> str | None:
    if len(value) > 254 or not _EMAIL.match(value) or ".." in value.split("@")[0]:
        return "invalid_format"
    if value.split("@")[0].startswith(".") or value.split("@")[0].endswith("."):
        return "invalid_format"
    return None


def normalise_mobile(value: str) -> str:
    return re.sub(r"[\s-]", "", value)


def check_mobile(value: str) -> str | None:
    return None if _MOBILE.match(normalise_mobile(value)) else "invalid_format"


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 with an explicit offset (``Z`` or ``+01:00``); returned in UTC."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})",
                        value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 or 9999-12-31T23:59-05:00: no UTC time
        return None


def iso(dt: datetime | None) -> str | None:
    """RFC 3339 in UTC; the year always has 4 digits (strftime's %Y writes 393, not 0393)."""
    if dt is None:
        return None
    utc = dt.astimezone(UTC)
    return f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%SZ")


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class Fields:
    """Collects field errors while reading a JSON object."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, name: str, code: str) -> None:
        self.errors.setdefault(name, code)

    def obj(self, data: Any, name: str, required: bool = True) -> Mapping[str, Any] | None:
        if data is None:
            if required:
                self.add(name, "required")
            return None
        if not isinstance(data, Mapping):
            self.add(name, "invalid_type")
            return None
        return data

    def unknown(self, data: Mapping[str, Any], allowed: set[str], prefix: str = "") -> None:
        for key in data:
            if key not in allowed:
                self.add(f"{prefix}{key}", "unknown_field")

    def string(
        self, data: Mapping[str, Any] | None, key: str, name: str, *, max_len: int = 100,
        min_len: int = 1, required: bool = True, pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        if data is None:
            return None
        value = data.get(key)
        if value is None:
            if required:
                self.add(name, "required")
            return None
        if not isinstance(value, str):
            self.add(name, "invalid_type")
            return None
        value = value.strip()
        if len(value) < min_len:
            self.add(name, "required" if not value else "too_short")
            return None
        if len(value) > max_len:
            self.add(name, "too_long")
            return None
        if "\x00" in value:  # PostgreSQL's text refuses NUL (SQLite kept it): refused on both
            self.add(name, "invalid_format")
            return None
        if pattern is not None and not pattern.match(value):
            self.add(name, "invalid_format")
            return None
        return value

    def enum(self, data: Mapping[str, Any] | None, key: str, name: str, allowed: tuple[str, ...],
             required: bool = True) -> str | None:
        if data is None:
            return None
        value = data.get(key)
        if value is None:
            if required:
                self.add(name, "required")
            return None
        if not isinstance(value, str):
            self.add(name, "invalid_type")
            return None
        if value not in allowed:
            self.add(name, "invalid_value")
            return None
        return value


def validate_new_request(body: Any, now: datetime) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Validate ``POST /requests``; returns (clean values, field errors)."""
    f = Fields()
    root = f.obj(body, "body")
    if root is None:
        return None, f.errors
    f.unknown(root, {"applicant", "product", "document", "appointment_at"})
    app = f.obj(root.get("applicant"), "applicant")
    doc = f.obj(root.get("document"), "document")
    out: dict[str, Any] = {}
    if app is not None:
        f.unknown(app, {"surname", "given_names", "codice_fiscale", "birth_date", "birth_place",
                        "sex", "email", "mobile"}, "applicant.")
        out["surname"] = f.string(app, "surname", "applicant.surname", pattern=_NAME)
        out["given_names"] = f.string(app, "given_names", "applicant.given_names", pattern=_NAME)
        cf = f.string(app, "codice_fiscale", "applicant.codice_fiscale", max_len=16, min_len=16)
        if cf is not None:
            cf = cf.upper()
            err = check_codice_fiscale(cf)
            if err:
                f.add("applicant.codice_fiscale", err)
                cf = None
        out["codice_fiscale"] = cf
        raw_birth = app.get("birth_date")
        birth = parse_date(raw_birth)
        if raw_birth is None:
            f.add("applicant.birth_date", "required")
        elif birth is None:
            f.add("applicant.birth_date", "invalid_format")
        elif birth > now.date():
            f.add("applicant.birth_date", "in_future")
            birth = None
        elif birth.year < now.year - 120:
            f.add("applicant.birth_date", "out_of_range")
            birth = None
        out["birth_date"] = birth
        out["birth_place"] = f.string(app, "birth_place", "applicant.birth_place", pattern=_PLACE)
        out["sex"] = f.enum(app, "sex", "applicant.sex", ("M", "F"))
        email = f.string(app, "email", "applicant.email", max_len=254)
        if email is not None and check_email(email):
            f.add("applicant.email", "invalid_format")
            email = None
        out["email"] = email
        mobile = f.string(app, "mobile", "applicant.mobile", max_len=20)
        if mobile is not None:
            if check_mobile(mobile):
                f.add("applicant.mobile", "invalid_format")
                mobile = None
            else:
                mobile = normalise_mobile(mobile)
        out["mobile"] = mobile
        if cf is not None and birth is not None:
            yy, month, day, sex = cf_birth_info(cf)
            if (yy, month, day) != (birth.year % 100, birth.month, birth.day):
                f.add("applicant.codice_fiscale", "mismatch_birth_date")
            elif out["sex"] is not None and sex != out["sex"]:
                f.add("applicant.codice_fiscale", "mismatch_sex")
    out["product"] = f.enum(root, "product", "product", PRODUCTS)
    if doc is not None:
        f.unknown(doc, {"type", "number", "issuer", "expiry_date"}, "document.")
        out["doc_type"] = f.enum(doc, "type", "document.type", DOCUMENT_TYPES)
        number = f.string(doc, "number", "document.number", max_len=20)
        if number is not None:
            number = number.upper().replace(" ", "")
            if not _DOC_NUMBER.match(number):
                f.add("document.number", "invalid_format")
                number = None
        out["doc_number"] = number
        out["doc_issuer"] = f.string(doc, "issuer", "document.issuer", pattern=_PLACE)
        raw_exp = doc.get("expiry_date")
        expiry = parse_date(raw_exp)
        if raw_exp is None:
            f.add("document.expiry_date", "required")
        elif expiry is None:
            f.add("document.expiry_date", "invalid_format")
        elif expiry < now.date():
            f.add("document.expiry_date", "expired")
            expiry = None
        out["doc_expiry"] = expiry
    raw_appt = root.get("appointment_at")
    appt = None
    if raw_appt is not None:
        appt = parse_datetime(raw_appt)
        if appt is None:
            f.add("appointment_at", "invalid_format")
        elif appt < now - timedelta(minutes=5):
            f.add("appointment_at", "in_past")
            appt = None
        elif appt > now + timedelta(days=366):
            f.add("appointment_at", "out_of_range")
            appt = None
    out["appointment_at"] = appt
    if f.errors:
        return None, f.errors
    return out, {}


def today_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return start, start + timedelta(days=1)
