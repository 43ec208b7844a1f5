"""Italian codice fiscale: check character, omocodia, decoding and comparison with a request."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

logger = logging.getLogger(__name__)

_ODD = dict(zip(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    [1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
     1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23],
    strict=True,
))
MONTHS = "ABCDEHLMPRST"
OMOCODE_LETTERS = "LMNPQRSTUV"  # replace digits 0..9
OMOCODE_POSITIONS = (14, 13, 12, 10, 9, 7, 6)  # replaced right to left
_SHAPE = re.compile(r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z]"
                    r"[0-9LMNPQRSTUV]{3}[A-Z]$")


def _even_value(c: str) -> int:
    return ord(c) - 48 if c.isdigit() else ord(c) - 65


def check_char(first15: str) -> str:
    """Check character of the first 15 characters (odd positions through the odd table)."""
    if len(first15) != 15:
        raise ValueError("need 15 characters")
    total = 0
    for i, c in enumerate(first15.upper()):
        total += _ODD[c] if i % 2 == 0 else _even_value(c)
    return chr(65 + total % 26)


def de_omocode(cf: str) -> str:
    """Return the base code with omocodic letters turned back into digits."""
    chars = list(cf.upper())
    for pos in OMOCODE_POSITIONS:
        if pos < len(chars) and chars[pos] in OMOCODE_LETTERS:
            chars[pos] = str(OMOCODE_LETTERS.index(chars[pos]))
    return "".join(chars)


def omocode(cf: str, level: int) -> str:
    """The `level`-th omocode variant (1..7) of a valid code, with its check char recomputed."""
    chars = list(de_omocode(cf)[:15])
    for pos in OMOCODE_POSITIONS[:level]:
        chars[pos] = OMOCODE_LETTERS[int(chars[pos])]
    body = "".join(chars)
    return body + check_char(body)


def _letters(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.upper())
    return "".join(c for c in decomposed if "A" <= c <= "Z")


def _code_part(text: str, is_name: bool) -> str:
    letters = _letters(text)
    consonants = [c for c in letters if c not in "AEIOU"]
    vowels = [c for c in letters if c in "AEIOU"]
    if is_name and len(consonants) >= 4:
        return consonants[0] + consonants[2] + consonants[3]
    return ("".join(consonants + vowels) + "XXX")[:3]


def compute(surname: str, given_names: str, birth_date: date, sex: str, place_code: str) -> str:
    """Codice fiscale of a person (without omocodia)."""
    day = birth_date.day + (40 if sex.upper() == "F" else 0)
    body = (_code_part(surname, False) + _code_part(given_names, True)
            + f"{birth_date.year % 100:02d}" + MONTHS[birth_date.month - 1] + f"{day:02d}"
            + place_code.upper())
    return body + check_char(body)


@dataclass
class CodiceFiscaleResult:
    value: str
    valid: bool
    errors: list[str] = field(default_factory=list)  # codes: format, check_char, date
    omocode_level: int = 0
    birth_date_yymmdd: str = ""
    birth_month: int = 0
    birth_day: int = 0
    sex: str = ""
    place_code: str = ""
    source: str = ""

    def birth_date(self, today: date | None = None) -> date | None:
        """Full birth date; the century is the latest one not in the future."""
        if not self.valid:
            return None
        today = today or date.today()
        yy = int(self.birth_date_yymmdd[:2])
        year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
        try:
            d = date(year, self.birth_month, self.birth_day)
        except ValueError:
            return None
        return d if d <= today else d.replace(year=year - 100)

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "valid": self.valid, "source": self.source,
                "errors": self.errors, "omocode_level": self.omocode_level,
                "sex": self.sex, "place_code": self.place_code}


def validate(value: str, source: str = "") -> CodiceFiscaleResult:
    """Validate shape, check character and embedded date; decode sex, date, place code."""
    cf = re.sub(r"\s+", "", value or "").upper()
    res = CodiceFiscaleResult(value=cf, valid=False, source=source)
    if not _SHAPE.match(cf):
        res.errors.append("format")
        return res
    if check_char(cf[:15]) != cf[15]:
        res.errors.append("check_char")
    base = de_omocode(cf)
    res.omocode_level = sum(1 for p in OMOCODE_POSITIONS if cf[p] in OMOCODE_LETTERS)
    day = int(base[9:11])
    res.sex = "F" if day > 40 else "M"
    res.birth_day = day - 40 if day > 40 else day
    res.birth_month = MONTHS.index(base[8]) + 1
    res.birth_date_yymmdd = f"{base[6:8]}{res.birth_month:02d}{res.birth_day:02d}"
    res.place_code = base[11:15]
    try:
        date(2000, res.birth_month, res.birth_day)  # leap-safe year for the shape check
    except ValueError:
        res.errors.append("date")
    if not 1 <= res.birth_day <= 31:
        res.errors.append("date")
    res.valid = not res.errors
    return res


def compare_with_request(res: CodiceFiscaleResult, request: dict[str, object],
                         today: date | None = None) -> dict[str, str]:
    """Per field: match | differ | unreadable | absent (value, birth_date, sex)."""
    applicant = request.get("applicant") if isinstance(request.get("applicant"), dict) else request
    assert isinstance(applicant, dict)
    out: dict[str, str] = {}
    expected = str(applicant.get("codice_fiscale") or "").upper()
    if not expected:
        out["value"] = "absent"
    elif not res.valid:
        out["value"] = "unreadable"
    else:
        same = de_omocode(expected)[:15] == de_omocode(res.value)[:15]
        out["value"] = "match" if same else "differ"
    bd = res.birth_date(today)
    exp_bd = applicant.get("birth_date")
    if not exp_bd:
        out["birth_date"] = "absent"
    elif bd is None:
        out["birth_date"] = "unreadable"
    else:
        out["birth_date"] = "match" if bd.isoformat() == str(exp_bd) else "differ"
    exp_sex = str(applicant.get("sex") or "").upper()
    if not exp_sex:
        out["sex"] = "absent"
    elif not res.valid:
        out["sex"] = "unreadable"
    else:
        out["sex"] = "match" if exp_sex == res.sex else "differ"
    return out
