"""ICAO 9303 machine readable zones: check digits, parsing, validation, confusion repair.

Pure text logic (no image work): `read_mrz` in :mod:`console.checks.mrz_ocr` produces the lines,
this module decides what they say.  Formats: TD1 (3×30, ID cards), TD2 (2×36), TD3 (2×44,
passports).
"""

from __future__ import annotations

import itertools
import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

logger = logging.getLogger(__name__)

MrzFormat = Literal["TD1", "TD2", "TD3"]
FORMAT_SHAPE: dict[str, tuple[int, int]] = {"TD1": (3, 30), "TD2": (2, 36), "TD3": (2, 44)}
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
_WEIGHTS = (7, 3, 1)

# OCR confusions: letter seen where a digit belongs, and the other way round.
TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6",
            "B": "8", "T": "7"}
TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B", "7": "T"}
# pairs tried (both ways) in mixed alphanumeric fields, only kept when check digits confirm
_AMBIGUOUS = {"O": "0", "0": "O", "I": "1", "1": "I", "B": "8", "8": "B", "S": "5", "5": "S",
              "Z": "2", "2": "Z", "G": "6", "6": "G", "D": "0", "Q": "0"}


def char_value(c: str) -> int:
    """ICAO value of one MRZ character: digits as themselves, A–Z 10–35, '<' 0."""
    if "0" <= c <= "9":  # not str.isdigit(): "²" or "٣" are no MRZ digits
        return ord(c) - 48
    if "A" <= c <= "Z":
        return ord(c) - 55
    if c == "<":
        return 0
    raise ValueError(f"not an MRZ character: {c!r}")


def check_digit(data: str) -> str:
    """ICAO 9303 check digit (weights 7, 3, 1 repeating; sum mod 10)."""
    return str(sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)


def mrz_name(text: str) -> str:
    """Transliterate a printed name to MRZ characters: accents dropped, separators as '<'."""
    decomposed = unicodedata.normalize("NFKD", text.upper())
    out = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        if "A" <= ch <= "Z":
            out.append(ch)
        elif ch in " -'’.,":
            out.append("<")
    return "".join(out).strip("<")


def name_field(surname: str, given_names: str, width: int) -> str:
    """`SURNAME<<GIVEN<NAMES` padded/truncated to `width`."""
    value = mrz_name(surname) + "<<" + mrz_name(given_names)
    return value[:width].ljust(width, "<")


def pad(value: str, width: int) -> str:
    return value[:width].ljust(width, "<")


# --------------------------------------------------------------------------------------------
# Field layout: (name, line, start, end, kind, check field or None)
#   kind: "a" letters/<, "n" digits (dates, check digits), "x" mixed, "s" sex (M/F/<)
# --------------------------------------------------------------------------------------------
_Field = tuple[str, int, int, int, str]

_LAYOUT: dict[str, list[_Field]] = {
    "TD1": [
        ("document_code", 0, 0, 2, "a"), ("issuing_state", 0, 2, 5, "a"),
        ("document_number", 0, 5, 14, "x"), ("document_number_check", 0, 14, 15, "n"),
        ("optional_data_1", 0, 15, 30, "x"),
        ("birth_date", 1, 0, 6, "n"), ("birth_date_check", 1, 6, 7, "n"), ("sex", 1, 7, 8, "s"),
        ("expiry_date", 1, 8, 14, "n"), ("expiry_date_check", 1, 14, 15, "n"),
        ("nationality", 1, 15, 18, "a"), ("optional_data_2", 1, 18, 29, "x"),
        ("composite_check", 1, 29, 30, "n"),
        ("names", 2, 0, 30, "a"),
    ],
    "TD2": [
        ("document_code", 0, 0, 2, "a"), ("issuing_state", 0, 2, 5, "a"),
        ("names", 0, 5, 36, "a"),
        ("document_number", 1, 0, 9, "x"), ("document_number_check", 1, 9, 10, "n"),
        ("nationality", 1, 10, 13, "a"), ("birth_date", 1, 13, 19, "n"),
        ("birth_date_check", 1, 19, 20, "n"), ("sex", 1, 20, 21, "s"),
        ("expiry_date", 1, 21, 27, "n"), ("expiry_date_check", 1, 27, 28, "n"),
        ("optional_data_1", 1, 28, 35, "x"), ("composite_check", 1, 35, 36, "n"),
    ],
    "TD3": [
        ("document_code", 0, 0, 2, "a"), ("issuing_state", 0, 2, 5, "a"),
        ("names", 0, 5, 44, "a"),
        ("document_number", 1, 0, 9, "x"), ("document_number_check", 1, 9, 10, "n"),
        ("nationality", 1, 10, 13, "a"), ("birth_date", 1, 13, 19, "n"),
        ("birth_date_check", 1, 19, 20, "n"), ("sex", 1, 20, 21, "s"),
        ("expiry_date", 1, 21, 27, "n"), ("expiry_date_check", 1, 27, 28, "n"),
        ("optional_data_1", 1, 28, 42, "x"), ("optional_data_1_check", 1, 42, 43, "n"),
        ("composite_check", 1, 43, 44, "n"),
    ],
}

# composite check input: list of (line, start, end)
_COMPOSITE: dict[str, list[tuple[int, int, int]]] = {
    "TD1": [(0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)],
    "TD2": [(1, 0, 10), (1, 13, 20), (1, 21, 35)],
    "TD3": [(1, 0, 10), (1, 13, 20), (1, 21, 43)],
}
# (check name, data field, check field)
_CHECKS: dict[str, list[tuple[str, str, str]]] = {
    "TD1": [("document_number", "document_number", "document_number_check"),
            ("birth_date", "birth_date", "birth_date_check"),
            ("expiry_date", "expiry_date", "expiry_date_check")],
    "TD2": [("document_number", "document_number", "document_number_check"),
            ("birth_date", "birth_date", "birth_date_check"),
            ("expiry_date", "expiry_date", "expiry_date_check")],
    "TD3": [("document_number", "document_number", "document_number_check"),
            ("birth_date", "birth_date", "birth_date_check"),
            ("expiry_date", "expiry_date", "expiry_date_check"),
            ("optional_data", "optional_data_1", "optional_data_1_check")],
}


# Known national number shapes (document code, issuing state) -> kinds of the 9 characters.
# Italian CIE: 2 letters, 5 digits, 2 letters (CA00000AA); Italian passport: 2 letters, 7 digits.
NATIONAL_NUMBER_KINDS: dict[tuple[str, str], str] = {
    ("CI", "ITA"): "aannnnnaa",
    ("P<", "ITA"): "aannnnnnn",
}


def position_kinds(fmt: str, first_line: str = "") -> list[str]:
    """Character class expected at each position, lines concatenated ("a", "n", "x", "s").

    With the first line (or its first 5 characters) known, a national document-number shape
    from NATIONAL_NUMBER_KINDS narrows the mixed document-number field.
    """
    rows, width = FORMAT_SHAPE[fmt]
    kinds = ["x"] * (rows * width)
    for _name, line, start, end, kind in _LAYOUT[fmt]:
        for i in range(start, end):
            kinds[line * width + i] = kind
    shape = NATIONAL_NUMBER_KINDS.get((first_line[:2], first_line[2:5]))
    if shape:
        line, start = (0, 5) if fmt == "TD1" else (1, 0)
        for i, kind in enumerate(shape):
            kinds[line * width + start + i] = kind
    return kinds


def detect_format(lines: list[str]) -> MrzFormat | None:
    shape = (len(lines), len(lines[0]) if lines else 0)
    for fmt, expected in FORMAT_SHAPE.items():
        if shape == expected and all(len(line) == expected[1] for line in lines):
            return fmt  # type: ignore[return-value]
    return None


@dataclass
class Repair:
    line: int
    position: int
    seen: str
    used: str
    reason: Literal["format", "check_digit"]


@dataclass
class MrzResult:
    format: MrzFormat
    lines: list[str]
    valid: bool
    checks: dict[str, bool]
    fields: dict[str, str]
    repairs: list[Repair] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "format": self.format,
            "lines": self.lines,
            "valid": self.valid,
            "checks": self.checks,
            "fields": {k: self.fields.get(k, "") for k in (
                "document_number", "surname", "given_names", "birth_date", "sex",
                "expiry_date", "nationality")},
            "document_code": self.fields.get("document_code", ""),
            "issuing_state": self.fields.get("issuing_state", ""),
            "repairs": len(self.repairs),
        }


def _slice(lines: list[str], line: int, start: int, end: int) -> str:
    return lines[line][start:end]


def _raw_fields(fmt: str, lines: list[str]) -> dict[str, str]:
    return {name: _slice(lines, ln, s, e) for name, ln, s, e, _k in _LAYOUT[fmt]}


def _checks(fmt: str, lines: list[str]) -> dict[str, bool]:
    raw = _raw_fields(fmt, lines)
    out: dict[str, bool] = {}
    for name, data_field, check_field in _CHECKS[fmt]:
        data, chk = raw[data_field], raw[check_field]
        if name == "optional_data" and chk == "<" and set(data) <= {"<"}:
            out[name] = True  # TD3: empty personal number may carry '<' as check
            continue
        try:
            out[name] = chk.isdigit() and check_digit(data) == chk
        except ValueError:
            out[name] = False
    composite = "".join(_slice(lines, ln, s, e) for ln, s, e in _COMPOSITE[fmt])
    try:
        out["composite"] = check_digit(composite) == raw["composite_check"]
    except ValueError:
        out["composite"] = False
    return out


def _format_fix(fmt: str, lines: list[str]) -> tuple[list[str], list[Repair]]:
    """Replace characters that cannot appear at a position (a letter in a date...)."""
    width = FORMAT_SHAPE[fmt][1]
    kinds = position_kinds(fmt, lines[0])
    out, repairs = [], []
    for li, line in enumerate(lines):
        chars = list(line)
        for pi, ch in enumerate(chars):
            kind = kinds[li * width + pi]
            new = ch
            if ch not in ALPHABET:
                new = "<"
            elif kind == "n" and not ch.isdigit() and ch in TO_DIGIT:
                new = TO_DIGIT[ch]
            elif kind == "a" and ch.isdigit() and ch in TO_LETTER:
                new = TO_LETTER[ch]
            elif kind == "s" and ch not in "MF<":
                new = {"H": "M", "E": "F", "P": "F"}.get(ch, "<")
            if new != ch:
                repairs.append(Repair(li, pi, ch, new, "format"))
                chars[pi] = new
        out.append("".join(chars))
    return out, repairs


def _check_fix(fmt: str, lines: list[str]) -> tuple[list[str], list[Repair]]:
    """For mixed fields with a failing check digit, try confusable swaps the check confirms."""
    layout = {name: (ln, s, e) for name, ln, s, e, _k in _LAYOUT[fmt]}
    repairs: list[Repair] = []
    current = list(lines)
    for name, data_field, check_field in _CHECKS[fmt]:
        if _checks(fmt, current)[name]:
            continue
        ln, s, e = layout[data_field]
        cln, cs, _ce = layout[check_field]
        data = current[ln][s:e]
        check = current[cln][cs]
        positions = [i for i, c in enumerate(data) if c in _AMBIGUOUS]
        if not check.isdigit():
            continue
        # fewest swaps first; the first level with exactly one candidate consistent with the
        # composite wins, a level with several is ambiguous and stops the search
        candidates: list[str] = []
        for n_swaps in range(1, min(len(positions), MAX_SWAPS_PER_FIELD) + 1):
            level: list[str] = []
            for subset in itertools.combinations(positions, n_swaps):
                chars = list(data)
                for i in subset:
                    chars[i] = _AMBIGUOUS[chars[i]]
                cand = "".join(chars)
                if check_digit(cand) == check:
                    level.append(cand)
            if len(level) > 1:
                consistent = []
                for cand in level:
                    trial = list(current)
                    trial[ln] = trial[ln][:s] + cand + trial[ln][e:]
                    if _checks(fmt, trial)["composite"]:
                        consistent.append(cand)
                level = consistent
            if level:
                candidates = level
                break
        if len(candidates) == 1:
            cand = candidates[0]
            for i, (a, b) in enumerate(zip(data, cand, strict=True)):
                if a != b:
                    repairs.append(Repair(ln, s + i, a, b, "check_digit"))
            current[ln] = current[ln][:s] + cand + current[ln][e:]
    return current, repairs


Alternatives = list[list[tuple[str, float]]]
ALT_MARGIN = 0.12  # a runner-up is considered only when the OCR nearly preferred it
MAX_SWAPS_PER_FIELD = 1
MAX_CHECK_REPAIRS = 2  # more check-digit-confirmed swaps than this: too uncertain, undone


def _alt_fix(fmt: str, lines: list[str], alts: Alternatives) -> tuple[list[str], list[Repair]]:
    """Swap in the OCR's runner-up at the least certain positions where a check confirms it."""
    width = FORMAT_SHAPE[fmt][1]
    layout = {name: (ln, s, e) for name, ln, s, e, _k in _LAYOUT[fmt]}
    current = list(lines)
    repairs: list[Repair] = []

    def swapped(cur: list[str], flat: list[int]) -> list[str]:
        out = [list(x) for x in cur]
        for f in flat:
            out[f // width][f % width] = alts[f][1][0]
        return ["".join(x) for x in out]

    def positions(ln: int, s: int, e: int) -> list[int]:
        return [ln * width + i for i in range(s, e)]

    groups: list[tuple[str, list[int]]] = []
    for name, data_field, check_field in _CHECKS[fmt]:
        groups.append((name, positions(*layout[data_field]) + positions(*layout[check_field])))
    covered = {p for _n, ps in groups for p in ps}
    comp = [p for ln, s, e in _COMPOSITE[fmt] for p in positions(ln, s, e) if p not in covered]
    groups.append(("composite", comp + positions(*layout["composite_check"])))
    for name, flat in groups:
        if _checks(fmt, current)[name]:
            continue
        cands = [f for f in flat if f < len(alts) and alts[f][1][0] != current[f // width][
            f % width] and alts[f][1][1] > 0.5 and alts[f][0][1] - alts[f][1][1] < ALT_MARGIN]
        cands.sort(key=lambda f: alts[f][0][1] - alts[f][1][1])
        cands = cands[:6]
        fixed = None
        # one swap per field, and only when exactly one runner-up satisfies its check digit
        options = []
        for f in cands:
            trial = swapped(current, [f])
            if _checks(fmt, trial)[name]:
                options.append((trial, (f,)))
        if len(options) == 1:
            fixed = options[0]
        if fixed:
            trial, subset = fixed
            for f in subset:
                repairs.append(Repair(f // width, f % width, current[f // width][f % width],
                                      trial[f // width][f % width], "check_digit"))
            current = trial
    return current, repairs


def _split_names(names: str) -> tuple[str, str]:
    surname, _sep, given = names.partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip()


def parse_mrz(lines: list[str], repair: bool = True,
              alternatives: Alternatives | None = None) -> MrzResult | None:
    """Validate and parse MRZ lines; None when the shape matches no format.

    `repair`: fix characters impossible at their position (format) and confusable characters
    where a check digit confirms the fix.  `alternatives` (from the OCR: per position, lines
    concatenated, the best and runner-up (char, score)) lets a check digit pick the runner-up.
    """
    lines = [line.strip().upper().replace(" ", "") for line in lines]
    fmt = detect_format(lines)
    if fmt is None:
        return None
    repairs: list[Repair] = []
    if repair:
        lines, repairs = _format_fix(fmt, lines)
        formatted = list(lines)
        more: list[Repair] = []
        if alternatives is not None and len(alternatives) == sum(len(x) for x in lines):
            lines, more = _alt_fix(fmt, lines, alternatives)
        lines, more2 = _check_fix(fmt, lines)
        more += more2
        # a check digit is a weak witness (1 in 10 passes by chance): swaps stand only when
        # every check, the composite included, then agrees, and when they are few
        if more and (not all(_checks(fmt, lines).values()) or len(more) > MAX_CHECK_REPAIRS):
            lines, more = formatted, []
        repairs += more
    checks = _checks(fmt, lines)
    raw = _raw_fields(fmt, lines)
    surname, given = _split_names(raw["names"])
    fields = {
        "document_code": raw["document_code"].replace("<", ""),
        "issuing_state": raw["issuing_state"].replace("<", ""),
        "document_number": raw["document_number"].replace("<", ""),
        "surname": surname,
        "given_names": given,
        "birth_date": raw["birth_date"],
        "sex": raw["sex"].replace("<", "X"),
        "expiry_date": raw["expiry_date"],
        "nationality": raw["nationality"].replace("<", ""),
        "optional_data": raw["optional_data_1"].replace("<", ""),
    }
    if fmt == "TD1":
        fields["optional_data_2"] = raw["optional_data_2"].replace("<", "")
        # long document numbers continue in the optional field (ICAO 9303-5 §4.2.2 note j)
        if raw["document_number_check"] == "<" and fields["optional_data"]:
            fields["document_number"] += fields["optional_data"][:-1]
    valid = all(checks.values())
    if repairs:
        logger.debug("MRZ %s repaired at %d position(s)", fmt, len(repairs))
    return MrzResult(fmt, lines, valid, checks, fields, repairs)


# --------------------------------------------------------------------------------------------
# Dates and comparison with the request
# --------------------------------------------------------------------------------------------

def yymmdd_to_date(value: str, kind: Literal["birth", "expiry"], today: date) -> date | None:
    if len(value) != 6 or not (value.isascii() and value.isdigit()):
        return None
    yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:])
    if kind == "birth":
        year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    else:
        year = 2000 + yy if yy < 70 else 1900 + yy
    try:
        d = date(year, mm, dd)
    except ValueError:
        return None
    if kind == "birth" and d > today:
        d = d.replace(year=d.year - 100)
    return d


def date_to_yymmdd(d: date) -> str:
    return d.strftime("%y%m%d")


FieldVerdict = Literal["match", "differ", "unreadable", "absent"]


def _norm_name(value: str) -> str:
    return mrz_name(value).replace("<", "")


def compare_with_request(result: MrzResult, request: dict[str, object],
                         today: date | None = None) -> dict[str, object]:
    """Compare MRZ fields with a request (PROTOCOL.md shape: applicant{...}, document{...}).

    Returns {"fields": {name: match|differ|unreadable|absent}, "expired": bool|None,
    "expiry_date": "YYYY-MM-DD"|None}.  A field protected by a failing check digit is
    "unreadable", never "differ".
    """
    today = today or date.today()
    applicant = request.get("applicant") if isinstance(request.get("applicant"), dict) else request
    document = request.get("document") if isinstance(request.get("document"), dict) else {}
    assert isinstance(applicant, dict) and isinstance(document, dict)
    f, checks = result.fields, result.checks
    verdicts: dict[str, FieldVerdict] = {}

    def put(name: str, expected: object, seen: str, readable: bool) -> None:
        if expected is None or expected == "":
            verdicts[name] = "absent"
        elif not readable or not seen:
            verdicts[name] = "unreadable"
        else:
            verdicts[name] = "match" if str(expected) == seen else "differ"

    put("document_number", str(document.get("number", "")).upper().replace(" ", "") or None,
        f["document_number"], checks.get("document_number", False))
    name_line = result.lines[2] if result.format == "TD1" else result.lines[0][5:]
    truncated = not name_line.endswith("<")
    for key in ("surname", "given_names"):
        expected = applicant.get(key)
        seen = _norm_name(f[key])
        if not expected:
            verdicts[key] = "absent"
        elif not seen:
            verdicts[key] = "unreadable"
        else:
            exp = _norm_name(str(expected))
            ok = exp == seen or (truncated and exp.startswith(seen))
            verdicts[key] = "match" if ok else "differ"
    for key, kind, src in (("birth_date", "birth", applicant), ("expiry_date", "expiry", document)):
        expected = src.get(key)
        parsed = yymmdd_to_date(f[key], kind, today) if checks.get(key, False) else None  # type: ignore[arg-type]
        if not expected:
            verdicts[key] = "absent"
        elif parsed is None:
            verdicts[key] = "unreadable"
        else:
            verdicts[key] = "match" if parsed.isoformat() == str(expected) else "differ"
    sex = applicant.get("sex")
    if not sex:
        verdicts["sex"] = "absent"
    elif f["sex"] not in ("M", "F"):
        verdicts["sex"] = "unreadable"
    else:
        verdicts["sex"] = "match" if f["sex"] == str(sex).upper() else "differ"
    expiry = None
    if checks.get("expiry_date"):
        expiry = yymmdd_to_date(f["expiry_date"], "expiry", today)
    return {
        "fields": verdicts,
        "expired": None if expiry is None else expiry < today,
        "expiry_date": None if expiry is None else expiry.isoformat(),
    }
