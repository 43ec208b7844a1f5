"""Cross-check of a card against the request: codice fiscale (data file, certificate, request),
names and birth date. Returns codes, never sentences; a mismatch blocks approval."""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from cardreader.cns import CardData


class CheckCode(enum.StrEnum):
    CF_CARD_VS_REQUEST = "cf_card_vs_request"
    CF_CERTIFICATE_VS_CARD = "cf_certificate_vs_card"
    CARD_NUMBER_CERTIFICATE_VS_CARD = "card_number_certificate_vs_card"
    SURNAME = "surname"
    GIVEN_NAMES = "given_names"
    BIRTH_DATE = "birth_date"
    CARD_EXPIRED = "card_expired"
    CERTIFICATE_EXPIRED = "certificate_expired"
    NO_CERTIFICATE = "no_certificate"  # reported, does not block (a TS may carry no CNS)


BLOCKING = frozenset(
    {
        CheckCode.CF_CARD_VS_REQUEST,
        CheckCode.CF_CERTIFICATE_VS_CARD,
        CheckCode.CARD_NUMBER_CERTIFICATE_VS_CARD,
        CheckCode.SURNAME,
        CheckCode.GIVEN_NAMES,
        CheckCode.BIRTH_DATE,
        CheckCode.CARD_EXPIRED,
    }
)


@dataclass(frozen=True)
class CrossCheck:
    problems: tuple[CheckCode, ...]

    @property
    def blocking(self) -> tuple[CheckCode, ...]:
        return tuple(p for p in self.problems if p in BLOCKING)

    @property
    def ok(self) -> bool:
        """True when nothing blocks approval."""
        return not self.blocking


def normalise_name(value: str) -> str:
    """Upper case, accents dropped (À → A), apostrophes and runs of spaces/hyphens unified."""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    text = re.sub(r"[’'`´]", "'", text)
    text = re.sub(r"[\s\-]+", " ", text).strip()
    return text.replace("' ", "'")


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def cross_check(
    card: CardData,
    request: Mapping[str, object] | None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> CrossCheck:
    """Compare ``card`` with the applicant of ``request`` (keys surname, given_names,
    codice_fiscale, birth_date; dates as ``date`` or ISO text). With ``request`` None only the
    card itself is checked."""
    problems: list[CheckCode] = []
    p = card.personal
    cert = card.certificate
    if cert is None:
        problems.append(CheckCode.NO_CERTIFICATE)
    else:
        if cert.codice_fiscale is not None and cert.codice_fiscale != p.codice_fiscale:
            problems.append(CheckCode.CF_CERTIFICATE_VS_CARD)
        if cert.card_number is not None and cert.card_number != card.card_number:
            problems.append(CheckCode.CARD_NUMBER_CERTIFICATE_VS_CARD)
        if cert.expired(now):
            problems.append(CheckCode.CERTIFICATE_EXPIRED)
    if card.expired(today):
        problems.append(CheckCode.CARD_EXPIRED)
    if request is not None:
        cf = str(request.get("codice_fiscale") or "").strip().upper()
        if cf != p.codice_fiscale:
            problems.append(CheckCode.CF_CARD_VS_REQUEST)
        if normalise_name(str(request.get("surname") or "")) != normalise_name(p.surname):
            problems.append(CheckCode.SURNAME)
        if normalise_name(str(request.get("given_names") or "")) != normalise_name(p.given_names):
            problems.append(CheckCode.GIVEN_NAMES)
        if _as_date(request.get("birth_date")) != p.birth_date:
            problems.append(CheckCode.BIRTH_DATE)
    return CrossCheck(tuple(problems))
