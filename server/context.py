"""What every handler needs, reachable as ``request.app[DESK]``."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from server.archive import ArchiveKey
from server.config import DeskConfig
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
    path.write_bytes(data)
    path.chmod(0o600)
    return data
