"""ICAO 9303 machine readable zones: check digits, field formats, parsing, OCR ambiguities.

Pure text logic (no image work): `read_mrz` in :mod:`console.checks.mrz_ocr` produces the lines,
this module decides what they say.  Formats: TD1 (3×30, ID cards), TD2 (2×36), TD3 (2×44,
passports).

A reading is right or says it is unsure (ETSI TS 119 461).  Every field has a format
(`FIELD_RULES`: the characters allowed at each position, national document numbers included,
and what the whole must mean: a real date, a sex, a check digit).  An OCR confusion (O/0, I/1,
B/8, S/5, Z/2, G/6...) is settled by the format first (a digit position takes the digit), then
by every check digit covering the field, the composite included.  Each field gets a confidence:

- ``certain``: as read, format-valid, every check digit covering it agrees;
- ``resolved``: a character impossible at its position was read as its format-valid twin, or
  a check digit chose between the OCR's best and runner-up, and every check digit agrees;
- ``unsure``: more than one reading fits the format and every check digit, or the only
  fitting readings need a confusion the format allows either way (the check digit alone
  cannot tell it from any other misread); the candidates are reported, nothing is picked;
- ``invalid``: no reading fits (a check digit that does not match, a date that is no date).

Only ``resolved`` changes characters, and an ``unsure`` or ``invalid`` field makes the whole
result not valid.
"""

from __future__ import annotations

import itertools
import logging
import math
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from console.checks.countries import MRZ_COUNTRIES

logger = logging.getLogger(__name__)

MrzFormat = Literal["TD1", "TD2", "TD3"]
FORMAT_SHAPE: dict[str, tuple[int, int]] = {"TD1": (3, 30), "TD2": (2, 36), "TD3": (2, 44)}
DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
FILLER = "<"
ALPHABET = DIGITS + LETTERS + FILLER
_WEIGHTS = (7, 3, 1)

# OCR-B confusions.  A letter where the format wants a digit is read as its digit; a digit
# where it wants a letter as its letter (the first one: 0 is O, 1 is I).
TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6",
            "T": "7", "B": "8"}
TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "7": "T", "8": "B"}

Confidence = Literal["certain", "resolved", "unsure", "invalid"]
TRUSTED: frozenset[str] = frozenset({"certain", "resolved"})
_SEVERITY: dict[str, int] = {"certain": 0, "resolved": 1, "unsure": 2, "invalid": 3}

Alternatives = list[list[tuple[str, float]]]
ALT_MARGIN = 0.12  # a runner-up is considered only when the OCR nearly preferred it
MIN_RUNNER_UP = 0.5  # ... and when it is itself a fair match
MAX_ALT_POSITIONS = 6  # runner-ups considered per check-digit group (the closest ones)
MAX_SWAPS_PER_FIELD = 1  # runner-ups or confusions tried together in one check-digit group
MAX_JOINT = 4096  # candidate combinations the composite check digit is tried on
MAX_YEARS_TO_EXPIRY = 20  # an expiry further ahead than this is not plausible


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


def _digit_matches(data: str, check: str) -> bool:
    """`check` is a digit and the check digit of `data` (False for non-MRZ characters)."""
    try:
        return len(check) == 1 and check in DIGITS and check_digit(data) == check
    except ValueError:
        return False


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
# Layout: where each field sits (line, start, end)
# --------------------------------------------------------------------------------------------
_Span = tuple[int, int, int]

_LAYOUT: dict[str, dict[str, _Span]] = {
    "TD1": {
        "document_code": (0, 0, 2), "issuing_state": (0, 2, 5), "document_number": (0, 5, 14),
        "document_number_check": (0, 14, 15), "optional_data_1": (0, 15, 30),
        "birth_date": (1, 0, 6), "birth_date_check": (1, 6, 7), "sex": (1, 7, 8),
        "expiry_date": (1, 8, 14), "expiry_date_check": (1, 14, 15),
        "nationality": (1, 15, 18), "optional_data_2": (1, 18, 29),
        "composite_check": (1, 29, 30), "names": (2, 0, 30),
    },
    "TD2": {
        "document_code": (0, 0, 2), "issuing_state": (0, 2, 5), "names": (0, 5, 36),
        "document_number": (1, 0, 9), "document_number_check": (1, 9, 10),
        "nationality": (1, 10, 13), "birth_date": (1, 13, 19), "birth_date_check": (1, 19, 20),
        "sex": (1, 20, 21), "expiry_date": (1, 21, 27), "expiry_date_check": (1, 27, 28),
        "optional_data_1": (1, 28, 35), "composite_check": (1, 35, 36),
    },
    "TD3": {
        "document_code": (0, 0, 2), "issuing_state": (0, 2, 5), "names": (0, 5, 44),
        "document_number": (1, 0, 9), "document_number_check": (1, 9, 10),
        "nationality": (1, 10, 13), "birth_date": (1, 13, 19), "birth_date_check": (1, 19, 20),
        "sex": (1, 20, 21), "expiry_date": (1, 21, 27), "expiry_date_check": (1, 27, 28),
        "optional_data_1": (1, 28, 42), "optional_data_1_check": (1, 42, 43),
        "composite_check": (1, 43, 44),
    },
}

# fields the composite check digit covers, in order (their text concatenated)
_COMPOSITE: dict[str, tuple[str, ...]] = {
    "TD1": ("document_number", "document_number_check", "optional_data_1", "birth_date",
            "birth_date_check", "expiry_date", "expiry_date_check", "optional_data_2"),
    "TD2": ("document_number", "document_number_check", "birth_date", "birth_date_check",
            "expiry_date", "expiry_date_check", "optional_data_1"),
    "TD3": ("document_number", "document_number_check", "birth_date", "birth_date_check",
            "expiry_date", "expiry_date_check", "optional_data_1", "optional_data_1_check"),
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


# --------------------------------------------------------------------------------------------
# Field formats: the one table of what each field may hold
# --------------------------------------------------------------------------------------------
Meaning = Literal["text", "birth_date", "expiry_date", "check", "country"]


@dataclass(frozen=True)
class FieldFormat:
    """Characters allowed in a field (one alphabet for every position, or one per position)
    and what the whole must mean (a real birth date, a plausible expiry date...)."""

    alphabet: str | tuple[str, ...]
    meaning: Meaning = "text"

    def allowed(self, i: int) -> str:
        if isinstance(self.alphabet, str):
            return self.alphabet
        return self.alphabet[i] if i < len(self.alphabet) else ""


def _pattern(*parts: tuple[str, int]) -> tuple[str, ...]:
    """Per-position alphabets: ("C", 1), (LETTERS, 1), (DIGITS, 5)... in order."""
    return tuple(chars for chars, count in parts for _ in range(count))


_CHECK_DIGIT = FieldFormat(DIGITS, "check")
# ICAO 9303-5: a TD1 document number longer than 9 characters has '<' in its check position
# (it goes on in the optional data, followed by its check digit); ICAO 9303-4: an unused TD3
# personal number may have '<' as its check digit
_CHECK_DIGIT_OR_FILLER = FieldFormat(DIGITS + FILLER, "check")
# Italian CIE 3.0: C, the series letter (CA, CB...), 5 digits, 2 letters (CA00000AA)
CIE_NUMBER = FieldFormat(_pattern(("C", 1), (LETTERS, 1), (DIGITS, 5), (LETTERS, 2)))
ITA_PASSPORT_NUMBER = FieldFormat(_pattern((LETTERS, 2), (DIGITS, 7)))

ANY = "*"
DocKey = tuple[str, str, str]  # (MRZ format, first letter of the document code, issuing state)
FIELD_RULES: dict[DocKey, dict[str, FieldFormat]] = {
    (ANY, ANY, ANY): {
        "document_code": FieldFormat(_pattern((LETTERS, 1), (LETTERS + FILLER, 1))),
        "issuing_state": FieldFormat(LETTERS + FILLER, "country"),
        "nationality": FieldFormat(LETTERS + FILLER, "country"),
        "names": FieldFormat(LETTERS + FILLER),
        "document_number": FieldFormat(ALPHABET),
        "optional_data_1": FieldFormat(ALPHABET),
        "optional_data_2": FieldFormat(ALPHABET),
        "birth_date": FieldFormat(DIGITS, "birth_date"),
        "expiry_date": FieldFormat(DIGITS, "expiry_date"),
        "sex": FieldFormat("MF" + FILLER),
        "document_number_check": _CHECK_DIGIT,
        "birth_date_check": _CHECK_DIGIT,
        "expiry_date_check": _CHECK_DIGIT,
        "optional_data_1_check": _CHECK_DIGIT,
        "composite_check": _CHECK_DIGIT,
    },
    ("TD1", ANY, ANY): {"document_number_check": _CHECK_DIGIT_OR_FILLER},
    ("TD3", ANY, ANY): {"optional_data_1_check": _CHECK_DIGIT_OR_FILLER},
    ("TD1", "C", "ITA"): {"document_number": CIE_NUMBER, "document_number_check": _CHECK_DIGIT},
    ("TD1", "I", "ITA"): {"document_number": CIE_NUMBER, "document_number_check": _CHECK_DIGIT},
    ("TD3", "P", "ITA"): {"document_number": ITA_PASSPORT_NUMBER},
}


def field_formats(fmt: str, document_code: str = "", issuing_state: str = "") -> dict[
        str, FieldFormat]:
    """The format of every field of one document: generic rules, then the MRZ format's,
    then the national ones for its document code and issuing state."""
    out: dict[str, FieldFormat] = {}
    for key in ((ANY, ANY, ANY), (fmt, ANY, ANY), (fmt, document_code[:1], issuing_state)):
        out.update(FIELD_RULES.get(key, {}))
    return out


def position_alphabets(fmt: str, first_line: str = "") -> list[str]:
    """Characters allowed at each position, lines concatenated.  With the first line (or its
    first 5 characters) known, national document-number formats narrow the number."""
    rows, width = FORMAT_SHAPE[fmt]
    formats = field_formats(fmt, first_line[:2], first_line[2:5])
    out = [ALPHABET] * (rows * width)
    for name, (line, start, end) in _LAYOUT[fmt].items():
        for i in range(end - start):
            out[line * width + start + i] = formats[name].allowed(i)
    return out


def _meaning_ok(meaning: Meaning, value: str, today: date) -> bool:
    if meaning == "country":  # ICAO 9303-3 codes: a shifted or misread line gives none
        return value.replace(FILLER, "") in MRZ_COUNTRIES
    if meaning == "birth_date":
        return yymmdd_to_date(value, "birth", today) is not None
    if meaning == "expiry_date":
        expiry = yymmdd_to_date(value, "expiry", today)
        return expiry is not None and expiry.year <= today.year + MAX_YEARS_TO_EXPIRY
    return True


def detect_format(lines: list[str]) -> MrzFormat | None:
    shape = (len(lines), len(lines[0]) if lines else 0)
    for fmt, expected in FORMAT_SHAPE.items():
        if shape == expected and all(len(line) == expected[1] for line in lines):
            return fmt  # type: ignore[return-value]
    return None


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

@dataclass
class Repair:
    line: int
    position: int
    seen: str
    used: str
    reason: Literal["format", "check_digit"]


@dataclass(frozen=True)
class FieldReading:
    """One ICAO field (`names`, `birth_date_check`...): the text used in `lines` (as read unless
    resolved), its confidence, the readings that fit when unsure, and a reason code when not
    certain: format, date, check_digit, composite, ambiguous, expiry_before_birth."""

    value: str
    confidence: Confidence
    candidates: tuple[str, ...] = ()
    reason: str = ""


@dataclass
class MrzResult:
    format: MrzFormat
    lines: list[str]
    valid: bool
    checks: dict[str, bool]
    fields: dict[str, str]
    repairs: list[Repair] = field(default_factory=list)
    readings: dict[str, FieldReading] = field(default_factory=dict)  # per ICAO field
    confidence: dict[str, Confidence] = field(default_factory=dict)  # per key of `fields`
    candidates: dict[str, list[str]] = field(default_factory=dict)  # per unsure key of `fields`

    def to_json(self) -> dict[str, object]:
        shown = ("document_number", "surname", "given_names", "birth_date", "sex",
                 "expiry_date", "nationality")
        return {
            "format": self.format,
            "lines": self.lines,
            "valid": self.valid,
            "checks": self.checks,
            "fields": {k: self.fields.get(k, "") for k in shown},
            "document_code": self.fields.get("document_code", ""),
            "issuing_state": self.fields.get("issuing_state", ""),
            "repairs": len(self.repairs),
            "confidence": {k: self.confidence.get(k, "invalid")
                           for k in (*shown, "document_code", "issuing_state")},
            "candidates": {k: list(v) for k, v in self.candidates.items()},
        }


# --------------------------------------------------------------------------------------------
# Check-digit groups ("units"): the fields one check digit ties together
# --------------------------------------------------------------------------------------------
Values = Mapping[str, str]


@dataclass(frozen=True)
class _Unit:
    name: str  # the check's name in MrzResult.checks, or the field's when it has no check digit
    fields: tuple[str, ...]
    check: Callable[[Values], bool] | None = None


def _field_check(data_field: str, check_field: str, filler_if_empty: bool
                 ) -> Callable[[Values], bool]:
    def check(values: Values) -> bool:
        data, chk = values[data_field], values[check_field]
        if chk == FILLER:
            return filler_if_empty and set(data) <= {FILLER}
        return _digit_matches(data, chk)
    return check


def _long_number_head(optional: str) -> str:
    """TD1 long document number: the rest of the number and its check digit."""
    return optional.split(FILLER, 1)[0]


def _long_number_check(values: Values) -> bool:
    head = _long_number_head(values["optional_data_1"])
    return (values["document_number_check"] == FILLER and len(head) >= 2
            and _digit_matches(values["document_number"] + head[:-1], head[-1]))


def _units(fmt: str, seen: Values) -> list[_Unit]:
    """Check-digit groups, then every other field on its own (the composite check digit too)."""
    units: list[_Unit] = []
    for name, data_field, check_field in _CHECKS[fmt]:
        if fmt == "TD1" and name == "document_number" and seen[check_field] == FILLER:
            units.append(_Unit(name, (data_field, check_field, "optional_data_1"),
                               _long_number_check))
        else:
            units.append(_Unit(name, (data_field, check_field), _field_check(
                data_field, check_field, filler_if_empty=(name == "optional_data"))))
    grouped = {f for u in units for f in u.fields}
    units += [_Unit(f, (f,)) for f in _LAYOUT[fmt] if f not in grouped]
    return units


def _covered_by_composite(fmt: str, unit: _Unit) -> bool:
    return any(f in _COMPOSITE[fmt] or f == "composite_check" for f in unit.fields)


def _composite_ok(fmt: str, values: Values) -> bool:
    return _digit_matches("".join(values[f] for f in _COMPOSITE[fmt]), values["composite_check"])


# --------------------------------------------------------------------------------------------
# Readings: what each position may be, and the field texts that fit
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Context:
    fmt: str
    seen: dict[str, str]
    formats: dict[str, FieldFormat]
    runner_ups: dict[int, tuple[str, float]]  # flat position -> (runner-up, score margin)
    repair: bool
    today: date

    def flat(self, name: str, i: int) -> int:
        line, start, _end = _LAYOUT[self.fmt][name]
        return line * FORMAT_SHAPE[self.fmt][1] + start + i


@dataclass
class _Outcome:
    candidates: list[dict[str, str]]
    reason: str = ""  # why there are none: format, date, check_digit, composite
    fallback: bool = False  # found only through confusions the format allows either way


def _partner(c: str) -> str | None:
    return TO_DIGIT.get(c) or TO_LETTER.get(c)


def _position_choices(seen: str, allowed: str, runner_up: str | None, repair: bool,
                      fallback: bool) -> tuple[str, ...]:
    """Readings of one position, the one the OCR and the format give first."""
    if not repair:
        return (seen,) if seen in allowed else ()
    partner = _partner(seen)
    first = seen if seen in allowed else partner if partner and partner in allowed else None
    options = [first] if first else []
    if runner_up is not None and runner_up in allowed:
        options.append(runner_up)
    if fallback and seen in allowed and partner is not None and partner in allowed:
        options.append(partner)
    return tuple(dict.fromkeys(options))


def _unit_runner_ups(ctx: _Context, unit: _Unit) -> dict[int, str]:
    """The closest OCR runner-ups inside a group a check digit covers."""
    if unit.check is None and not _covered_by_composite(ctx.fmt, unit):
        return {}  # nothing could tell a runner-up from the OCR's choice
    flat = [ctx.flat(f, i) for f in unit.fields for i in range(len(ctx.seen[f]))]
    near = sorted((ctx.runner_ups[k][1], k) for k in flat if k in ctx.runner_ups)
    return {k: ctx.runner_ups[k][0] for _m, k in near[:MAX_ALT_POSITIONS]}


def _unit_choices(ctx: _Context, unit: _Unit, fallback: bool) -> list[tuple[str, ...]]:
    runner_ups = _unit_runner_ups(ctx, unit)
    return [_position_choices(ctx.seen[f][i], ctx.formats[f].allowed(i),
                              runner_ups.get(ctx.flat(f, i)), ctx.repair, fallback)
            for f in unit.fields for i in range(len(ctx.seen[f]))]


def _enumerate(choices: Sequence[tuple[str, ...]], max_swaps: int) -> Iterator[str]:
    """The first reading, then those with up to `max_swaps` positions on another choice."""
    if any(not c for c in choices):
        return
    base = [c[0] for c in choices]
    yield "".join(base)
    ambiguous = [i for i, c in enumerate(choices) if len(c) > 1]
    for n in range(1, min(max_swaps, len(ambiguous)) + 1):
        for positions in itertools.combinations(ambiguous, n):
            for picks in itertools.product(*(choices[i][1:] for i in positions)):
                chars = list(base)
                for i, ch in zip(positions, picks, strict=True):
                    chars[i] = ch
                yield "".join(chars)


def _split(text: str, unit: _Unit, seen: Values) -> dict[str, str]:
    out, at = {}, 0
    for f in unit.fields:
        out[f] = text[at:at + len(seen[f])]
        at += len(seen[f])
    return out


def _unit_outcome(ctx: _Context, unit: _Unit, fallback: bool = False) -> _Outcome:
    """The readings of a group that fit its formats, meanings and own check digit."""
    texts = list(dict.fromkeys(_enumerate(_unit_choices(ctx, unit, fallback),
                                          MAX_SWAPS_PER_FIELD)))
    if not texts:
        return _Outcome([], "format", fallback)
    meaningful = [v for v in (_split(t, unit, ctx.seen) for t in texts)
                  if all(_meaning_ok(ctx.formats[f].meaning, v[f], ctx.today) for f in v)]
    if not meaningful:
        dates = any(ctx.formats[f].meaning in ("birth_date", "expiry_date") for f in unit.fields)
        return _Outcome([], "date" if dates else "meaning", fallback)
    fitting = [v for v in meaningful if unit.check is None or unit.check(v)]
    return _Outcome(fitting, "" if fitting else "check_digit", fallback)


def _joint_keep(ctx: _Context, covered: list[_Unit], outcomes: dict[str, _Outcome]
                ) -> dict[str, set[int]] | None:
    """Per group, the candidates found in a combination the composite check digit accepts;
    None when it cannot be tried (a group without candidates, too many combinations)."""
    sizes = [len(outcomes[u.name].candidates) for u in covered]
    if not covered or min(sizes) == 0 or math.prod(sizes) > MAX_JOINT:
        return None
    keep: dict[str, set[int]] = {u.name: set() for u in covered}
    for combo in itertools.product(*(range(n) for n in sizes)):
        values: dict[str, str] = {}
        for u, i in zip(covered, combo, strict=True):
            values.update(outcomes[u.name].candidates[i])
        if _composite_ok(ctx.fmt, values):
            for u, i in zip(covered, combo, strict=True):
                keep[u.name].add(i)
    return keep


def _apply_composite(ctx: _Context, units: list[_Unit], outcomes: dict[str, _Outcome]) -> None:
    """Keep only readings the composite accepts; none at all: every covered field invalid."""
    covered = [u for u in units if _covered_by_composite(ctx.fmt, u)]
    keep = _joint_keep(ctx, covered, outcomes)
    if keep is None:
        return
    for u in covered:
        o = outcomes[u.name]
        o.candidates = [c for i, c in enumerate(o.candidates) if i in keep[u.name]]
        if not o.candidates:
            o.reason = "composite"


def _try_confusions(ctx: _Context, units: list[_Unit], outcomes: dict[str, _Outcome]) -> None:
    """A group whose check digit fails: the readings a confusion in a mixed position would
    give (O/0 in a document number...).  They are only reported (unsure), never used: a check
    digit alone cannot tell such a confusion from any other misread it happens to cancel."""
    if not ctx.repair:
        return
    covered = [u for u in units if _covered_by_composite(ctx.fmt, u)]
    for unit in units:
        if unit.check is None or outcomes[unit.name].reason != "check_digit":
            continue
        trial = _unit_outcome(ctx, unit, fallback=True)
        if trial.candidates and unit in covered:
            keep = _joint_keep(ctx, covered, {**outcomes, unit.name: trial})
            if keep is not None:
                trial.candidates = [c for i, c in enumerate(trial.candidates)
                                    if i in keep[unit.name]]
        if trial.candidates:
            outcomes[unit.name] = trial


# --------------------------------------------------------------------------------------------
# From outcomes to field readings
# --------------------------------------------------------------------------------------------

def _resolution_reason(seen: str, value: str, fmt: FieldFormat) -> str:
    forced = all(a == b or a not in fmt.allowed(i)
                 for i, (a, b) in enumerate(zip(seen, value, strict=True)))
    return "format" if forced else "check_digit"


def _field_reading(ctx: _Context, name: str, outcome: _Outcome) -> FieldReading:
    seen = ctx.seen[name]
    if not outcome.candidates:
        return FieldReading(seen, "invalid", (), outcome.reason)
    values = tuple(dict.fromkeys(sorted((c[name] for c in outcome.candidates),
                                        key=lambda v: v != seen)))
    if outcome.fallback:
        if values == (seen,):
            return FieldReading(seen, "certain")
        return FieldReading(seen, "unsure", values, "check_digit")
    if len(values) > 1:
        return FieldReading(seen, "unsure", values, "ambiguous")
    if values[0] == seen:
        return FieldReading(seen, "certain")
    return FieldReading(values[0], "resolved", (),
                        _resolution_reason(seen, values[0], ctx.formats[name]))


def _check_expiry_after_birth(ctx: _Context, readings: dict[str, FieldReading]) -> None:
    birth, expiry = readings["birth_date"], readings["expiry_date"]
    if birth.confidence not in TRUSTED or expiry.confidence not in TRUSTED:
        return
    born = yymmdd_to_date(birth.value, "birth", ctx.today)
    ends = yymmdd_to_date(expiry.value, "expiry", ctx.today)
    if born is not None and ends is not None and ends <= born:
        readings["expiry_date"] = FieldReading(ctx.seen["expiry_date"], "invalid", (),
                                               "expiry_before_birth")


def _read_fields(ctx: _Context) -> tuple[list[_Unit], dict[str, FieldReading]]:
    units = _units(ctx.fmt, ctx.seen)
    outcomes = {u.name: _unit_outcome(ctx, u) for u in units}
    _apply_composite(ctx, units, outcomes)
    _try_confusions(ctx, units, outcomes)
    readings = {f: _field_reading(ctx, f, outcomes[u.name]) for u in units for f in u.fields}
    _check_expiry_after_birth(ctx, readings)
    return units, readings


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

def _raw_fields(fmt: str, lines: list[str]) -> dict[str, str]:
    return {name: lines[ln][s:e] for name, (ln, s, e) in _LAYOUT[fmt].items()}


def _lines_from(fmt: str, values: Values) -> list[str]:
    rows, width = FORMAT_SHAPE[fmt]
    chars = [[FILLER] * width for _ in range(rows)]
    for name, (ln, s, e) in _LAYOUT[fmt].items():
        chars[ln][s:e] = list(values[name])
    return ["".join(row) for row in chars]


def _document_formats(fmt: str, seen: Values, repair: bool) -> dict[str, FieldFormat]:
    """Field formats for the document the first line names (its code and state read through
    the generic letter format, so "1TA" names Italy)."""
    generic = field_formats(fmt)
    key = []
    for name in ("document_code", "issuing_state"):
        text = seen[name]
        firsts = [_position_choices(c, generic[name].allowed(i), None, repair, False)
                  for i, c in enumerate(text)]
        key.append("".join(c[0] if c else "?" for c in firsts))
    return field_formats(fmt, key[0], key[1])


def _close_runner_ups(lines: list[str], alternatives: Alternatives | None
                      ) -> dict[int, tuple[str, float]]:
    """Flat position -> (runner-up, margin) where the OCR nearly preferred another character."""
    flat = "".join(lines)
    if alternatives is None or len(alternatives) != len(flat):
        return {}
    out: dict[int, tuple[str, float]] = {}
    for k, options in enumerate(alternatives):
        try:
            best, runner = float(options[0][1]), options[1]
            char, score = runner[0], float(runner[1])
        except (IndexError, TypeError, ValueError):
            continue
        margin = best - score
        if not (isinstance(char, str) and len(char) == 1 and char in ALPHABET):
            continue
        if char != flat[k] and score > MIN_RUNNER_UP and margin < ALT_MARGIN:
            out[k] = (char, margin)
    return out


def _split_names(names: str) -> tuple[str, str]:
    surname, _sep, given = names.partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip()


def _public_fields(fmt: str, raw: Values) -> dict[str, str]:
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
        # long document numbers go on in the optional field (ICAO 9303-5 §4.2.2 note j)
        if raw["document_number_check"] == FILLER and fields["optional_data"]:
            fields["document_number"] += _long_number_head(raw["optional_data_1"])[:-1]
    return fields


# key of MrzResult.fields -> the ICAO field it is read from (its confidence is the worst of
# that field's check-digit group: the number and its check digit...)
_PUBLIC_SOURCE: dict[str, str] = {
    "document_code": "document_code", "issuing_state": "issuing_state",
    "document_number": "document_number", "surname": "names", "given_names": "names",
    "birth_date": "birth_date", "sex": "sex", "expiry_date": "expiry_date",
    "nationality": "nationality", "optional_data": "optional_data_1",
    "optional_data_2": "optional_data_2",
}


def _public_value(key: str, raw: str) -> str:
    if key in ("surname", "given_names"):
        return _split_names(raw)[0 if key == "surname" else 1]
    if key == "sex":
        return raw.replace("<", "X")
    if key in ("birth_date", "expiry_date"):
        return raw
    return raw.replace("<", "")


def _public_confidence(units: list[_Unit], readings: dict[str, FieldReading]) -> tuple[
        dict[str, Confidence], dict[str, list[str]]]:
    group = {f: u.fields for u in units for f in u.fields}
    confidence: dict[str, Confidence] = {}
    candidates: dict[str, list[str]] = {}
    for key, source in _PUBLIC_SOURCE.items():
        if source not in readings:
            continue
        members = [readings[source]] + [readings[f] for f in group[source] if f != source]
        worst = max(members, key=lambda r: _SEVERITY[r.confidence])
        confidence[key] = worst.confidence
        if worst.confidence == "unsure":
            found = next((r for r in members if r.candidates), worst)
            candidates[key] = [_public_value(key, v) for v in found.candidates]
    return confidence, candidates


def _final_checks(fmt: str, units: list[_Unit], values: Values) -> dict[str, bool]:
    out = {u.name: u.check(values) for u in units if u.check is not None}
    out["composite"] = _composite_ok(fmt, values)
    return out


def _repairs(fmt: str, readings: dict[str, FieldReading], seen: Values) -> list[Repair]:
    out = []
    for name, reading in readings.items():
        if reading.confidence != "resolved":
            continue
        line, start, _end = _LAYOUT[fmt][name]
        for i, (a, b) in enumerate(zip(seen[name], reading.value, strict=True)):
            if a != b:
                reason: Literal["format", "check_digit"] = (
                    "format" if reading.reason == "format" else "check_digit")
                out.append(Repair(line, start + i, a, b, reason))
    return out


def parse_mrz(lines: list[str], repair: bool = True, alternatives: Alternatives | None = None,
              today: date | None = None) -> MrzResult | None:
    """Validate and parse MRZ lines; None when the shape matches no format.

    `repair`: read a character impossible at its position as its format-valid twin (O as 0
    in a date), and let check digits choose between the OCR's best and `alternatives` (per
    position, lines concatenated, the best and runner-up (char, score)).  Without it every
    character stands as read.  `today` dates the plausibility of birth and expiry dates.
    """
    lines = [line.strip().upper().replace(" ", "") for line in lines]
    fmt = detect_format(lines)
    if fmt is None:
        return None
    seen = _raw_fields(fmt, lines)
    ctx = _Context(fmt, seen, _document_formats(fmt, seen, repair),
                   _close_runner_ups(lines, alternatives) if repair else {}, repair,
                   today or date.today())
    units, readings = _read_fields(ctx)
    values = {name: r.value if r.confidence in TRUSTED else seen[name]
              for name, r in readings.items()}
    checks = _final_checks(fmt, units, values)
    confidence, candidates = _public_confidence(units, readings)
    valid = all(checks.values()) and all(r.confidence in TRUSTED for r in readings.values())
    levels = [r.confidence for r in readings.values()]
    logger.debug("MRZ %s: %d resolved, %d unsure, %d invalid field(s)", fmt,
                 levels.count("resolved"), levels.count("unsure"), levels.count("invalid"))
    return MrzResult(fmt, _lines_from(fmt, values), valid, checks, _public_fields(fmt, values),
                     _repairs(fmt, readings, seen), readings, confidence, candidates)


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


def _trusted(result: MrzResult, key: str, check: str | None = None) -> bool:
    """The field can be compared: certain or resolved (results without confidences: its check
    digit agrees)."""
    level = result.confidence.get(key)
    if level is not None:
        return level in TRUSTED
    return result.checks.get(check, False) if check else True


def compare_with_request(result: MrzResult, request: dict[str, object],
                         today: date | None = None) -> dict[str, object]:
    """Compare MRZ fields with a request (PROTOCOL.md shape: applicant{...}, document{...}).

    Returns {"fields": {name: match|differ|unreadable|absent}, "confidence": {name: certain|
    resolved|unsure|invalid}, "expired": bool|None, "expiry_date": "YYYY-MM-DD"|None}.  A field
    that is unsure or invalid (a failing check digit...) is "unreadable", never "differ".
    """
    today = today or date.today()
    applicant = request.get("applicant") if isinstance(request.get("applicant"), dict) else request
    document = request.get("document") if isinstance(request.get("document"), dict) else {}
    assert isinstance(applicant, dict) and isinstance(document, dict)
    f = result.fields
    verdicts: dict[str, FieldVerdict] = {}

    def put(name: str, expected: object, seen: str, readable: bool) -> None:
        if expected is None or expected == "":
            verdicts[name] = "absent"
        elif not readable or not seen:
            verdicts[name] = "unreadable"
        else:
            verdicts[name] = "match" if str(expected) == seen else "differ"

    put("document_number", str(document.get("number", "")).upper().replace(" ", "") or None,
        f["document_number"], _trusted(result, "document_number", "document_number"))
    name_line = result.lines[2] if result.format == "TD1" else result.lines[0][5:]
    truncated = not name_line.endswith("<")
    for key in ("surname", "given_names"):
        expected = applicant.get(key)
        seen = _norm_name(f[key])
        if not expected:
            verdicts[key] = "absent"
        elif not seen or not _trusted(result, key):
            verdicts[key] = "unreadable"
        else:
            exp = _norm_name(str(expected))
            ok = exp == seen or (truncated and exp.startswith(seen))
            verdicts[key] = "match" if ok else "differ"
    for key, kind, src in (("birth_date", "birth", applicant), ("expiry_date", "expiry", document)):
        expected = src.get(key)
        parsed = yymmdd_to_date(f[key], kind, today) if _trusted(result, key, key) else None  # type: ignore[arg-type]
        if not expected:
            verdicts[key] = "absent"
        elif parsed is None:
            verdicts[key] = "unreadable"
        else:
            verdicts[key] = "match" if parsed.isoformat() == str(expected) else "differ"
    sex = applicant.get("sex")
    if not sex:
        verdicts["sex"] = "absent"
    elif f["sex"] not in ("M", "F") or not _trusted(result, "sex"):
        verdicts["sex"] = "unreadable"
    else:
        verdicts["sex"] = "match" if f["sex"] == str(sex).upper() else "differ"
    expiry = None
    if _trusted(result, "expiry_date", "expiry_date"):
        expiry = yymmdd_to_date(f["expiry_date"], "expiry", today)
    return {
        "fields": verdicts,
        "confidence": {k: result.confidence.get(k, "invalid") for k in verdicts},
        "expired": None if expiry is None else expiry < today,
        "expiry_date": None if expiry is None else expiry.isoformat(),
    }
