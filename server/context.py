"""What every handler needs, reachable as ``request.app[DESK]``."""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from server import security
from server.archive import ArchiveKey
from server.config import ConfigError, DeskConfig
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
    pepper: bytes
    #: the AES-256-GCM key of the TOTP secrets at rest (:func:`load_totp_key`)
    totp_key: bytes = field(repr=False)
    hub: Hub = field(init=False)


DESK: web.AppKey[Desk] = web.AppKey("desk", Desk)


def load_pepper(config: DeskConfig) -> bytes:
    """A service secret mixed into OTP hashes; kept in the data dir, never in the database."""
    path = config.data_dir / "otp-pepper.bin"
    if path.exists():
        data = path.read_bytes()
        if len(data) >= 16:
            return data
    data = secrets.token_bytes(32)
    write_private(path, data)  # 0600 from the start, never readable by others even briefly
    return data


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
