"""Configuration of the desk service: one typed object built by the CLI or by a test."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import platformdirs

logger = logging.getLogger(__name__)

PRODUCTS = ("spid_personal", "spid_professional", "digital_signature", "cns")

#: Years the evidence of an identification is kept, per product. SPID: 20 years (AgID
#: regulation, art. 8); the others default to the same and can be changed with
#: ``serve --retention PRODUCT=YEARS``.
DEFAULT_RETENTION_YEARS: dict[str, int] = {p: 20 for p in PRODUCTS}


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("recognition-desk", "InfoCert"))


class Clock:
    """Wall clock with an adjustable offset (tests advance it instead of sleeping)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> datetime:
        self.offset += timedelta(seconds=seconds)
        return self.now()


@dataclass
class DeskConfig:
    data_dir: Path = field(default_factory=default_data_dir)
    #: SQLAlchemy URL; ``None`` means ``sqlite:///<data_dir>/desk.sqlite3``.
    db_url: str | None = None
    demo: bool = False
    #: Extra origins allowed to open WebSockets besides the service's own.
    allowed_origins: tuple[str, ...] = ()
    access_token_ttl: timedelta = timedelta(minutes=15)
    refresh_token_ttl: timedelta = timedelta(hours=12)
    lockout: timedelta = timedelta(minutes=15)
    max_password_failures: int = 5
    max_totp_failures: int = 3
    otp_ttl: timedelta = timedelta(minutes=5)
    otp_attempts: int = 3
    otp_resend_after: timedelta = timedelta(seconds=30)
    email_link_ttl: timedelta = timedelta(hours=24)
    join_link_ttl: timedelta = timedelta(days=7)
    retention_years: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RETENTION_YEARS))
    max_upload_size: int = 4 * 1024 * 1024 * 1024
    max_chunk_size: int = 4 * 1024 * 1024
    max_sdp_size: int = 64 * 1024
    heartbeat_s: float = 2.0
    pong_timeout_s: float = 2.0
    #: Mean duration of a call used for the waiting estimate until real sessions exist.
    default_session_s: int = 480
    #: Early arrival allowed before an appointment (the applicant is "due" from then on).
    appointment_grace: timedelta = timedelta(minutes=10)
    #: SMS sender: "outbox" (local file) or "http" (gateway below).
    sms_sender: str = "outbox"
    sms_gateway_url: str | None = None
    sms_gateway_user: str | None = None
    sms_gateway_password: str | None = None
    sms_gateway_token: str | None = None
    #: e-mail sender: "outbox" or "smtp".
    email_sender: str = "outbox"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    mail_from: str = "identificazione@example.test"
    #: Base URL printed in links when no request is at hand (seed); requests use their Host.
    public_base_url: str | None = None
    clock: Clock = field(default_factory=Clock)

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.data_dir / 'desk.sqlite3'}"

    def ensure_dirs(self) -> None:
        for sub in ("", "outbox", "evidence", "uploads"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)


def db_url_from_arg(value: str | None) -> str | None:
    """``--db`` takes a file path or a full SQLAlchemy URL (``postgresql+psycopg://…``)."""
    if value is None:
        return None
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"
