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


_ID_DOC = ("document_front", "document_back", "face")
DEFAULT_REQUIRED_CAPTURES: dict[str, tuple[str, ...]] = {
    "spid_personal": (*_ID_DOC, "health_card"),
    "spid_professional": (*_ID_DOC, "health_card"),
    "digital_signature": _ID_DOC,
    "cns": (*_ID_DOC, "health_card"),
}
CAPTURE_TARGETS = ("document_front", "document_back", "health_card", "face", "signed_form")


class ConfigError(Exception):
    """A configuration the service refuses to start with (the message says what to change)."""


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``count`` requests at once, refilled at ``count`` per ``seconds``."""

    count: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds


#: Defaults per rule (``serve --rate-limit RULE=COUNT/SECONDS`` changes one; ``*`` all).
DEFAULT_RATE_LIMITS: dict[str, RateLimit] = {
    "login.ip": RateLimit(30, 300),
    "login.account": RateLimit(10, 300),
    "register.ip": RateLimit(10, 600),
    "otp.ip": RateLimit(60, 60),
    "otp.request": RateLimit(10, 60),
    "join.ip": RateLimit(60, 60),
    "join.link": RateLimit(30, 60),
}


def parse_rate_limits(specs: list[str] | tuple[str, ...] | str,
                      into: dict[str, RateLimit]) -> None:
    """Apply ``RULE=COUNT/SECONDS`` items (a list, or one string separated by spaces/commas)."""
    items = specs.replace(",", " ").split() if isinstance(specs, str) else list(specs)
    for item in items:
        name, _, value = item.partition("=")
        count, _, seconds = value.partition("/")
        try:
            limit = RateLimit(int(count), float(seconds))
        except ValueError:
            limit = None
        if limit is None or limit.count < 1 or not limit.seconds > 0:
            raise ConfigError(f"bad rate limit {item!r} (RULE=COUNT/SECONDS, e.g. "
                              "login.ip=30/300)")
        names = list(into) if name == "*" else [name]
        for n in names:
            if n not in DEFAULT_RATE_LIMITS:
                raise ConfigError(f"unknown rate limit rule {n!r} (known: "
                                  f"{', '.join(DEFAULT_RATE_LIMITS)}, or *)")
            into[n] = limit


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
    #: absolute lifetime of a sign-in: refreshing never extends its tokens past login + this
    session_max_age: timedelta = timedelta(hours=12)
    #: AES-256-GCM key sealing the TOTP secrets in the database (32 bytes, from
    #: RECOGNITION_DESK_TOTP_KEY or --totp-key-file; never beside the database). ``None``:
    #: demo mode keeps one in the data dir, anything else refuses to start.
    totp_key: bytes | None = field(default=None, repr=False)
    #: token buckets, rule -> limit (server/ratelimit.py: which routes and keys each rule covers)
    rate_limits: dict[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    #: reverse proxies (addresses or networks) whose X-Forwarded-For names the client
    trusted_proxies: tuple[str, ...] = ()
    lockout: timedelta = timedelta(minutes=15)
    max_password_failures: int = 5
    max_totp_failures: int = 3
    otp_ttl: timedelta = timedelta(minutes=5)
    otp_attempts: int = 3
    #: codes per request, and wrong guesses across all codes of a request (then: suspended)
    otp_max_codes: int = 5
    otp_max_wrong: int = 3
    #: products whose approval needs the e-mail address confirmed (serve --require-email)
    email_required_products: tuple[str, ...] = ()
    #: capture targets the service must have recorded before a remote approval, per product
    required_captures: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_REQUIRED_CAPTURES))
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
    #: Base of the links sent to applicants and the origin WebSockets may come from
    #: (``--public-url``); never taken from a request's Host header. ``serve`` requires it
    #: outside demo mode and defaults it to the listening address in demo mode.
    public_base_url: str | None = None
    #: where evidence uploads and packages live (server/storage.py), shared by every instance:
    #: ``None`` = the data dir (``uploads/``, ``evidence/``); ``file:///PATH`` = a directory
    #: (a shared mount); ``s3://BUCKET/PREFIX`` = an S3-compatible object store whose bucket
    #: has Object Lock enabled (``serve --storage``)
    storage_url: str | None = None
    #: S3: endpoint of a non-AWS store (MinIO, Ceph...: ``serve --s3-endpoint``), region
    #: (``--s3-region``); keys: ``None`` = the usual boto3 chain (AWS_* environment, profile,
    #: instance role)
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = field(default=None, repr=False)
    s3_secret_access_key: str | None = field(default=None, repr=False)
    clock: Clock = field(default_factory=Clock)

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.data_dir / 'desk.sqlite3'}"

    def ensure_dirs(self) -> None:
        for sub in ("", "outbox", "evidence", "uploads"):  # private: server.files
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)


def db_url_from_arg(value: str | None) -> str | None:
    """``--db`` takes a file path or a full SQLAlchemy URL (``postgresql+psycopg://…``)."""
    if value is None:
        return None
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"
