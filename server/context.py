"""What every handler needs, reachable as ``request.app[DESK]``."""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from server import archive, security
from server.archive import ArchiveKey
from server.config import ENV_OTP_PEPPER, ConfigError, DeskConfig
from server.files import write_private
from server.mailer import EmailSender
from server.sms import SmsSender
from server.store import Store

if TYPE_CHECKING:
    from server.signalling import Hub

logger = logging.getLogger(__name__)


@dataclass
class Desk:
    config: DeskConfig
    store: Store
    sms: SmsSender
    email: EmailSender
    archive: ArchiveKey
    #: the OTP pepper (:func:`load_pepper`)
    pepper: bytes = field(repr=False)
    #: the AES-256-GCM key of the TOTP secrets at rest (:func:`load_totp_key`)
    totp_key: bytes = field(repr=False)
    hub: Hub = field(init=False)


DESK: web.AppKey[Desk] = web.AppKey("desk", Desk)


#: the OTP pepper of demo mode and the embedded single-host database, in the data dir
PEPPER_FILE = "otp-pepper.bin"
MIN_PEPPER_BYTES = 16
NO_PEPPER = (
    f"no OTP pepper configured: with a shared database (--db) every instance needs the same "
    f"one: set {ENV_OTP_PEPPER} or --otp-pepper-file to the base64 of at least "
    f"{MIN_PEPPER_BYTES} random bytes (e.g. `openssl rand -base64 32`), kept outside the data "
    "dir and the database backups; only --demo and the embedded single-host database keep one "
    "in the data dir")
NO_ARCHIVE_KEY = (
    "no archive public key configured: with a shared database (--db) set "
    "RECOGNITION_DESK_ARCHIVE_PUBLIC_KEY_FILE or --archive-public-key to the PEM X25519 public "
    "key of the archive's custodian (e.g. `openssl genpkey -algorithm X25519 -out "
    "archive-private.pem; openssl pkey -in archive-private.pem -pubout`, the private key kept "
    "by the custodian, off the service); only --demo and the embedded single-host database make "
    "a demo key pair in the data dir")


def parse_pepper(text: str) -> bytes:
    """The OTP pepper from its base64 text; ValueError saying why not (never the value)."""
    try:
        data = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise ValueError("the OTP pepper is not valid base64") from None
    if len(data) < MIN_PEPPER_BYTES:
        raise ValueError(f"the OTP pepper must be at least {MIN_PEPPER_BYTES} bytes (base64 of "
                         f"random bytes, e.g. `openssl rand -base64 32`), not {len(data)}")
    return data


def load_pepper(config: DeskConfig) -> bytes:
    """A service secret mixed into OTP hashes, never in the database: ``config.otp_pepper``;
    without one, in demo mode and on the embedded single-host database a file in the data dir,
    created when missing (with a warning); a shared database (``--db``): :class:`ConfigError`."""
    if config.otp_pepper is not None:
        if len(config.otp_pepper) < MIN_PEPPER_BYTES:
            raise ConfigError(f"the OTP pepper must be at least {MIN_PEPPER_BYTES} bytes")
        return config.otp_pepper
    if not config.keys_in_data_dir:
        raise ConfigError(NO_PEPPER)
    path = config.data_dir / PEPPER_FILE
    if path.exists():
        data = path.read_bytes()
        if len(data) >= MIN_PEPPER_BYTES:
            return data
    data = secrets.token_bytes(32)
    write_private(path, data)  # 0600 from the start, never readable by others even briefly
    logger.warning("created an OTP pepper in the data dir (%s); a deployment on a shared "
                   "database takes it from %s or --otp-pepper-file", PEPPER_FILE, ENV_OTP_PEPPER)
    return data


def load_archive_key(config: DeskConfig) -> ArchiveKey:
    """The archive public key handed to consoles: ``config.archive_public_key``; without one, in
    demo mode and on the embedded single-host database the data dir's (a demo pair made when
    missing); a shared database (``--db``): :class:`ConfigError`."""
    path = config.archive_public_key
    if path is not None:
        try:
            return archive.load_public_key(path)
        except OSError as exc:
            raise ConfigError(f"archive public key {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise ConfigError(f"archive public key {path}: {exc}") from None
    if not config.keys_in_data_dir:
        raise ConfigError(NO_ARCHIVE_KEY)
    try:
        return archive.load_or_create(config.data_dir)
    except ValueError as exc:
        raise ConfigError(f"archive key in the data dir: {exc}") from None


#: the demo-mode TOTP key, in the data dir (outside demo mode the key comes from configuration)
DEMO_TOTP_KEY_FILE = "totp-key.b64"


def load_totp_key(config: DeskConfig, *, demo: bool | None = None) -> bytes:
    """The key sealing TOTP secrets: ``config.totp_key``; in demo mode (``demo``, default
    ``config.demo``) one kept in the data dir, created when missing, with a warning. Outside
    demo mode without a configured key: :class:`ConfigError`."""
    if config.totp_key is not None:
        if len(config.totp_key) != security.TOTP_KEY_BYTES:
            raise ConfigError("the TOTP key must be 32 bytes")
        return config.totp_key
    if not (config.demo if demo is None else demo):
        raise ConfigError(
            "no TOTP key configured: set RECOGNITION_DESK_TOTP_KEY or --totp-key-file to the "
            "base64 of 32 random bytes (e.g. `openssl rand -base64 32`), kept outside the data "
            "dir and the database backups; only --demo keeps one in the data dir")
    path = config.data_dir / DEMO_TOTP_KEY_FILE
    if path.exists():
        try:
            key = security.parse_totp_key(path.read_text(encoding="ascii"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{DEMO_TOTP_KEY_FILE} in the data dir: {exc}") from exc
    else:
        key = security.new_totp_key()
        write_private(path, base64.b64encode(key) + b"\n")
    logger.warning("demo mode: the TOTP secrets' key is kept in the data dir, beside the "
                   "database; outside demo mode it comes from RECOGNITION_DESK_TOTP_KEY or "
                   "--totp-key-file")
    return key


def seal_totp_secrets(store: Store, key: bytes) -> None:
    """Seal any plaintext TOTP secret left by an older version, and refuse (:class:`ConfigError`)
    a key that does not open the secrets already sealed: a wrong key would lock everyone out."""
    sealed = 0
    for op_id, username, stored in store.totp_rows():
        if security.is_sealed(stored):
            if sealed == 0:  # one is enough to tell the key
                try:
                    security.open_totp_secret(key, stored, username)
                except ValueError:
                    raise ConfigError("the TOTP key does not open the TOTP secrets in the "
                                      "database: wrong RECOGNITION_DESK_TOTP_KEY or "
                                      "--totp-key-file?") from None
            sealed += 1
            continue
        new = security.seal_totp_secret(key, stored, username)
        if store.replace_totp_value(op_id, stored, new):
            logger.warning("operator %d: plaintext TOTP secret sealed", op_id)
