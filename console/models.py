"""Typed values exchanged with the desk service (docs/PROTOCOL.md) and the enums the UI translates.

Parsing is strict about what the contract requires and raises ``ProtocolError`` (never KeyError or
TypeError) on a malformed answer. Personal fields are left out of ``repr`` so that a stray
``log.debug("%r", request)`` cannot leak them.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from console.errors import ProtocolError

log = logging.getLogger(__name__)


class Product(StrEnum):
    SPID_PERSONAL = "spid_personal"
    SPID_PROFESSIONAL = "spid_professional"
    DIGITAL_SIGNATURE = "digital_signature"
    CNS = "cns"


class RequestState(StrEnum):
    REGISTERED = "registered"
    WAITING = "waiting"
    IN_CALL = "in_call"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class ReasonCode(StrEnum):
    """Reason codes of a decision (PROTOCOL.md, Decisions). ``OK`` goes with an approval only."""

    OK = "ok"
    DOCUMENT_EXPIRED = "document_expired"
    DOCUMENT_DAMAGED = "document_damaged"
    DATA_MISMATCH = "data_mismatch"
    POOR_VIDEO = "poor_video"
    POOR_AUDIO = "poor_audio"
    APPLICANT_REFUSED = "applicant_refused"
    SUSPECTED_FRAUD = "suspected_fraud"
    THIRD_PERSON_PRESENT = "third_person_present"
    OTP_FAILED = "otp_failed"
    FACE_MISMATCH = "face_mismatch"
    CONNECTION_LOST = "connection_lost"
    OTHER = "other"


class DocumentType(StrEnum):
    IDENTITY_CARD = "identity_card"
    PAPER_IDENTITY_CARD = "paper_identity_card"
    DRIVING_LICENCE = "driving_licence"
    PASSPORT = "passport"


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    PARTNER = "partner"
    TRAINER = "trainer"
    ADMIN = "admin"


# --- parsing helpers ------------------------------------------------------------------------

def _obj(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ProtocolError(f"{what}: expected a JSON object, got {type(data).__name__}")
    return data


def _req(data: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in data or data[key] is None:
        raise ProtocolError(f"{what}: missing field {key!r}")
    return data[key]


def _str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = _req(data, key, what)
    if not isinstance(value, str):
        raise ProtocolError(f"{what}: field {key!r} is not a string")
    return value


def _opt_str(data: Mapping[str, Any], key: str, what: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"{what}: field {key!r} is not a string")
    return value


def _int(data: Mapping[str, Any], key: str, what: str) -> int:
    value = _req(data, key, what)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{what}: field {key!r} is not an integer")
    return value


def _num(data: Mapping[str, Any], key: str, what: str) -> float:
    value = _req(data, key, what)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f"{what}: field {key!r} is not a number")
    return float(value)


def _bool(data: Mapping[str, Any], key: str, what: str) -> bool:
    value = _req(data, key, what)
    if not isinstance(value, bool):
        raise ProtocolError(f"{what}: field {key!r} is not a boolean")
    return value


def _enum[E: StrEnum](cls: type[E], data: Mapping[str, Any], key: str, what: str) -> E:
    value = _str(data, key, what)
    try:
        return cls(value)
    except ValueError:
        raise ProtocolError(f"{what}: field {key!r} has an unknown value") from None


def parse_datetime(value: object, what: str = "datetime") -> datetime:
    """ISO 8601 (``Z`` or offset) → aware UTC datetime. A naive value is taken as UTC."""
    if not isinstance(value, str):
        raise ProtocolError(f"{what}: expected an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProtocolError(f"{what}: not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _dt(data: Mapping[str, Any], key: str, what: str) -> datetime:
    return parse_datetime(_req(data, key, what), f"{what}.{key}")


def _opt_dt(data: Mapping[str, Any], key: str, what: str) -> datetime | None:
    value = data.get(key)
    return None if value is None else parse_datetime(value, f"{what}.{key}")


def _date(data: Mapping[str, Any], key: str, what: str) -> date:
    value = _str(data, key, what)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ProtocolError(f"{what}: field {key!r} is not a YYYY-MM-DD date") from None


def _opt_date(data: Mapping[str, Any], key: str, what: str) -> date | None:
    return None if data.get(key) is None else _date(data, key, what)


def format_datetime(value: datetime) -> str:
    """Aware datetime → ``2026-11-23T10:00:00Z`` (milliseconds kept when present)."""
    value = value.astimezone(UTC)
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


# --- auth -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Operator:
    id: str
    username: str
    display_name: str
    role: Role

    @classmethod
    def from_json(cls, data: object) -> Operator:
        d = _obj(data, "operator")
        return cls(
            id=str(_req(d, "id", "operator")),
            username=_str(d, "username", "operator"),
            display_name=_str(d, "display_name", "operator"),
            role=_enum(Role, d, "role", "operator"),
        )


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What the UI needs after a sign-in. The tokens stay inside ``DeskClient``."""

    operator: Operator
    expires_in: int


# --- requests -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Applicant:
    surname: str = field(repr=False)
    given_names: str = field(repr=False)
    codice_fiscale: str = field(repr=False)
    birth_date: date | None = field(repr=False)
    birth_place: str = field(repr=False)
    sex: str = field(repr=False)
    email: str = field(repr=False)
    mobile: str = field(repr=False)

    @classmethod
    def from_json(cls, data: object) -> Applicant:
        d = _obj(data, "applicant")
        w = "applicant"
        return cls(
            surname=_str(d, "surname", w),
            given_names=_str(d, "given_names", w),
            codice_fiscale=_str(d, "codice_fiscale", w),
            birth_date=_opt_date(d, "birth_date", w),
            birth_place=_opt_str(d, "birth_place", w) or "",
            sex=_opt_str(d, "sex", w) or "",
            email=_opt_str(d, "email", w) or "",
            mobile=_opt_str(d, "mobile", w) or "",
        )


@dataclass(frozen=True, slots=True)
class IdentityDocument:
    type: DocumentType
    number: str = field(repr=False)
    issuer: str = field(repr=False)
    expiry_date: date | None

    @classmethod
    def from_json(cls, data: object) -> IdentityDocument:
        d = _obj(data, "document")
        w = "document"
        return cls(
            type=_enum(DocumentType, d, "type", w),
            number=_opt_str(d, "number", w) or "",
            issuer=_opt_str(d, "issuer", w) or "",
            expiry_date=_opt_date(d, "expiry_date", w),
        )


@dataclass(frozen=True, slots=True)
class RecognitionRequest:
    id: str
    state: RequestState
    product: Product
    applicant: Applicant
    document: IdentityDocument | None
    booking_code: str | None = None
    appointment_at: datetime | None = None
    created_at: datetime | None = None

    @classmethod
    def from_json(cls, data: object) -> RecognitionRequest:
        d = _obj(data, "request")
        w = "request"
        doc = d.get("document")
        return cls(
            id=str(_req(d, "id", w)),
            state=_enum(RequestState, d, "state", w),
            product=_enum(Product, d, "product", w),
            applicant=Applicant.from_json(_req(d, "applicant", w)),
            document=None if doc is None else IdentityDocument.from_json(doc),
            booking_code=_opt_str(d, "booking_code", w),
            appointment_at=_opt_dt(d, "appointment_at", w),
            created_at=_opt_dt(d, "created_at", w),
        )


@dataclass(frozen=True, slots=True)
class QueueEntry:
    request_id: str
    product: Product
    waiting_since: datetime | None
    wait_seconds: float | None
    appointment_at: datetime | None

    @classmethod
    def from_json(cls, data: object) -> QueueEntry:
        d = _obj(data, "queue entry")
        w = "queue entry"
        wait = d.get("wait_seconds")
        if wait is not None and (isinstance(wait, bool) or not isinstance(wait, int | float)):
            raise ProtocolError("queue entry: field 'wait_seconds' is not a number")
        return cls(
            request_id=str(_req(d, "request_id", w)),
            product=_enum(Product, d, "product", w),
            waiting_since=_opt_dt(d, "waiting_since", w),
            wait_seconds=None if wait is None else float(wait),
            appointment_at=_opt_dt(d, "appointment_at", w),
        )


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    length: int
    waiting: tuple[QueueEntry, ...]
    appointments_today: tuple[QueueEntry, ...]

    @classmethod
    def from_json(cls, data: object) -> QueueSnapshot:
        d = _obj(data, "queue")
        waiting = d.get("waiting") or []
        appts = d.get("appointments_today") or []
        if not isinstance(waiting, list) or not isinstance(appts, list):
            raise ProtocolError("queue: 'waiting' and 'appointments_today' must be lists")
        return cls(
            length=_int(d, "length", "queue"),
            waiting=tuple(QueueEntry.from_json(x) for x in waiting),
            appointments_today=tuple(QueueEntry.from_json(x) for x in appts),
        )


@dataclass(frozen=True, slots=True)
class Assignment:
    """``POST /queue/next`` → the session the operator now runs."""

    session_id: str
    request: RecognitionRequest
    channel: str = "remote"  # "remote" | "in_person"
    applicant_online: bool | None = None

    @classmethod
    def from_json(cls, data: object) -> Assignment:
        d = _obj(data, "assignment")
        online = d.get("applicant_online")
        return cls(
            session_id=str(_req(d, "session_id", "assignment")),
            request=RecognitionRequest.from_json(_req(d, "request", "assignment")),
            channel=_opt_str(d, "channel", "assignment") or "remote",
            applicant_online=online if isinstance(online, bool) else None,
        )


# --- OTP and e-mail ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OtpSent:
    otp_id: str
    expires_at: datetime
    attempts_left: int
    resend_after: datetime | None

    @classmethod
    def from_json(cls, data: object) -> OtpSent:
        d = _obj(data, "otp")
        ra = d.get("resend_after")
        resend_after: datetime | None
        if isinstance(ra, int | float) and not isinstance(ra, bool):
            # tolerate "seconds from now"
            resend_after = datetime.now(UTC) + timedelta(seconds=float(ra))
        else:
            resend_after = _opt_dt(d, "resend_after", "otp")
        return cls(
            otp_id=str(_req(d, "otp_id", "otp")),
            expires_at=_dt(d, "expires_at", "otp"),
            attempts_left=_int(d, "attempts_left", "otp"),
            resend_after=resend_after,
        )


@dataclass(frozen=True, slots=True)
class OtpVerification:
    verified: bool
    attempts_left: int
    exhausted: bool
    expired: bool = False  # the code timed out: not counted as an attempt, send a new one

    @classmethod
    def from_json(cls, data: object) -> OtpVerification:
        d = _obj(data, "otp verification")
        w = "otp verification"
        expired = d.get("expired", False)
        return cls(
            verified=_bool(d, "verified", w),
            attempts_left=_int(d, "attempts_left", w),
            exhausted=_bool(d, "exhausted", w),
            expired=expired is True,
        )


@dataclass(frozen=True, slots=True)
class EmailVerificationStatus:
    sent_at: datetime | None
    confirmed: bool
    confirmed_at: datetime | None

    @classmethod
    def from_json(cls, data: object) -> EmailVerificationStatus:
        d = _obj(data, "email verification")
        w = "email verification"
        confirmed = d.get("confirmed", False)
        if not isinstance(confirmed, bool):
            raise ProtocolError(f"{w}: field 'confirmed' is not a boolean")
        return cls(
            sent_at=_opt_dt(d, "sent_at", w),
            confirmed=confirmed,
            confirmed_at=_opt_dt(d, "confirmed_at", w),
        )


# --- decisions, evidence -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionResult:
    state: RequestState
    decided_at: datetime

    @classmethod
    def from_json(cls, data: object) -> DecisionResult:
        d = _obj(data, "decision")
        return cls(
            state=_enum(RequestState, d, "state", "decision"),
            decided_at=_dt(d, "decided_at", "decision"),
        )


@dataclass(frozen=True, slots=True)
class ArchiveKey:
    key_id: str
    algorithm: str
    public_key: bytes

    @classmethod
    def from_json(cls, data: object) -> ArchiveKey:
        d = _obj(data, "archive key")
        w = "archive key"
        algorithm = _str(d, "algorithm", w)
        if algorithm != "X25519":
            raise ProtocolError(f"{w}: unsupported algorithm")
        try:
            raw = base64.b64decode(_str(d, "public_key", w), validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError(f"{w}: public_key is not base64") from None
        if len(raw) != 32:
            raise ProtocolError(f"{w}: public_key must be 32 bytes")
        return cls(key_id=str(_req(d, "key_id", w)), algorithm=algorithm, public_key=raw)


__all__ = [
    "Applicant",
    "ArchiveKey",
    "Assignment",
    "Decision",
    "DecisionResult",
    "DocumentType",
    "EmailVerificationStatus",
    "IdentityDocument",
    "LoginResult",
    "Operator",
    "OtpSent",
    "OtpVerification",
    "Product",
    "QueueEntry",
    "QueueSnapshot",
    "ReasonCode",
    "RecognitionRequest",
    "RequestState",
    "Role",
    "format_datetime",
    "parse_datetime",
]
