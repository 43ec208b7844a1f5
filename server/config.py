"""Configuration of the desk service: one typed object built by the CLI or by a test."""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
    #: secret mixed into the hashes of the SMS codes, the same on every instance
    #: (RECOGNITION_DESK_OTP_PEPPER or --otp-pepper-file: base64 of >= 16 random bytes).
    #: ``None``: demo mode and the embedded single-host database keep one in the data dir
    #: (:attr:`keys_in_data_dir`); a shared database (``--db``) refuses to start.
    otp_pepper: bytes | None = field(default=None, repr=False)
    #: PEM X25519 public key evidence is sealed to (--archive-public-key,
    #: RECOGNITION_DESK_ARCHIVE_PUBLIC_KEY_FILE); its private half stays with the archive's
    #: custodian. ``None``: as :attr:`otp_pepper` (a demo key pair in the data dir).
    archive_public_key: Path | None = None
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
    def keys_in_data_dir(self) -> bool:
        """Whether an unconfigured OTP pepper or archive key may be made in the data dir: demo
        mode and the embedded single-host database (no ``--db``). A deployment on a shared
        database takes them from its configuration, the same on every instance."""
        return self.demo or self.db_url is None

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


# --- the configuration file and the environment -----------------------------------------------

ENV_PREFIX = "RECOGNITION_DESK_"
#: secret values taken from the environment only (never from the configuration file)
ENV_TOTP_KEY = "RECOGNITION_DESK_TOTP_KEY"
ENV_OTP_PEPPER = "RECOGNITION_DESK_OTP_PEPPER"


@dataclass(frozen=True)
class Setting:
    """One option of ``serve`` that a configuration file (``--config``, TOML) and the
    environment can set too: the file key is the option's long name with ``_`` for ``-``.
    Precedence: command line > environment > file > ``default``."""

    key: str
    #: "str", "path", "int", "float", "bool" or "list" (the environment: separated by spaces
    #: or commas; the file: an array of strings)
    kind: str
    what: str
    env_name: str | None = None
    default: Any = None
    #: lists applied one after another (file, environment, command line), later items winning
    layered: bool = False

    @property
    def option(self) -> str:
        return "--" + self.key.replace("_", "-")

    @property
    def env(self) -> str:
        return self.env_name or ENV_PREFIX + self.key.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "str", "SQLite file or SQLAlchemy URL (postgresql+psycopg://USER@HOST/DB); "
            "default: <data dir>/desk.sqlite3"),
    Setting("data_dir", "path", "data directory (0700)"),
    Setting("totp_key_file", "path", "file with the key of the TOTP secrets at rest (base64 of "
            "32 bytes); or the key itself in RECOGNITION_DESK_TOTP_KEY"),
    Setting("otp_pepper_file", "path", "file with the OTP pepper (base64 of >= 16 bytes); or the "
            "pepper itself in RECOGNITION_DESK_OTP_PEPPER"),
    Setting("archive_public_key", "path", "PEM X25519 public key of the evidence archive",
            env_name="RECOGNITION_DESK_ARCHIVE_PUBLIC_KEY_FILE"),
    Setting("host", "str", "address to listen on", default="127.0.0.1"),
    Setting("port", "int", "port (0 picks a free one; default 8443 with TLS, else 8080)"),
    Setting("tls_cert", "path", "TLS certificate chain (PEM)"),
    Setting("tls_key", "path", "TLS private key (PEM)"),
    Setting("self_signed", "bool", "HTTPS with a self-signed certificate in the data dir",
            default=False),
    Setting("public_url", "str", "https base of the links sent to applicants"),
    Setting("allow_origin", "list", "extra WebSocket origins"),
    Setting("retention", "list", "PRODUCT=YEARS evidence retention"),
    Setting("session_max_age", "float", "absolute lifetime of a sign-in, hours"),
    Setting("rate_limit", "list", "RULE=COUNT/SECONDS rate limits",
            env_name="RECOGNITION_DESK_RATE_LIMITS", layered=True),
    Setting("trusted_proxy", "list", "reverse proxies whose X-Forwarded-For names the client"),
    Setting("require_email", "list", "products whose approval needs a confirmed e-mail"),
    Setting("sms_gateway_url", "str", "HTTPS SMS gateway (credentials: RECOGNITION_DESK_SMS_USER "
            "and _PASSWORD, or _TOKEN)"),
    Setting("smtp_host", "str", "SMTP relay (credentials: RECOGNITION_DESK_SMTP_USER and "
            "_PASSWORD)"),
    Setting("smtp_port", "int", "SMTP port", default=587),
    Setting("mail_from", "str", "sender address of the e-mails"),
    Setting("storage", "str", "evidence storage: file:///PATH or s3://BUCKET/PREFIX"),
    Setting("s3_endpoint", "str", "S3-compatible endpoint (MinIO, Ceph...)"),
    Setting("s3_region", "str", "S3 region"),
)
SETTINGS_BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _from_text(setting: Setting, text: str, where: str) -> Any:
    """A setting's value from its text (the environment). Errors never repeat the value: a
    database URL may hold a password."""
    if setting.kind in ("str", "path"):
        return text
    if setting.kind == "list":
        return text.replace(",", " ").split()
    if setting.kind == "bool":
        if text.strip().lower() in _TRUE + _FALSE:
            return text.strip().lower() in _TRUE
        raise ConfigError(f"{where}: not a yes/no value (1, true, yes, on / 0, false, no, off)")
    try:
        return int(text) if setting.kind == "int" else float(text)
    except ValueError:
        raise ConfigError(f"{where}: not a number") from None


def _from_toml(setting: Setting, value: Any, where: str) -> Any:
    kind = setting.kind
    if kind in ("str", "path") and isinstance(value, str):
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "list":
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
    wanted = {"str": "a string", "path": "a string (a path)", "bool": "true or false",
              "int": "an integer", "float": "a number", "list": "an array of strings"}[kind]
    raise ConfigError(f"{where}: {setting.key} must be {wanted}")


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings of a TOML configuration file (``--config``); :class:`ConfigError` for an
    unreadable file, bad TOML, an unknown key or a value of the wrong type."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"--config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {path}: not valid TOML ({exc})") from None
    out: dict[str, Any] = {}
    for key, value in data.items():
        setting = SETTINGS_BY_KEY.get(key)
        if setting is None:
            raise ConfigError(f"--config {path}: unknown key {key!r} (known: "
                              f"{', '.join(SETTINGS_BY_KEY)})")
        out[key] = _from_toml(setting, value, f"--config {path}")
    return out


def env_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings given in the environment (``RECOGNITION_DESK_<KEY>``)."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for setting in SETTINGS:
        text = env.get(setting.env)
        if text is not None and text.strip():  # empty: unset
            out[setting.key] = _from_text(setting, text, setting.env)
    return out
