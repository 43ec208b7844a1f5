"""SMS senders: a local outbox (development, demo) and an HTTP gateway (production).

The message text carries a one-time code: never log it, nor the number.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from server.errors import storage_code
from server.outbox import JsonlOutbox

logger = logging.getLogger(__name__)


class SendError(Exception):
    """The message could not be handed over; ``code`` says why (for the API error)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SmsSender(Protocol):
    async def send(self, to: str, body: str, sent_at: str) -> None: ...


class LocalOutboxSender:
    """Appends ``{"to", "body", "sent_at"}`` lines to ``<data dir>/outbox/sms.jsonl``."""

    def __init__(self, data_dir: Path) -> None:
        self.outbox = JsonlOutbox(data_dir / "outbox" / "sms.jsonl")

    async def send(self, to: str, body: str, sent_at: str) -> None:
        try:
            await self.outbox.append_async({"to": to, "body": body, "sent_at": sent_at})
        except OSError as exc:
            logger.error("sms outbox not writable: %s", exc.__class__.__name__)
            raise SendError(storage_code(exc) or "outbox_unwritable") from exc
        logger.info("sms written to the local outbox")

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        return self.outbox.read("to", to) if to else self.outbox.read()


class HttpGatewaySender:
    """POSTs ``{"to": "+39…", "text": "…"}`` as JSON to an SMS gateway.

    Credentials: HTTP basic (user + password) or a bearer token. Any non-2xx answer, a timeout or
    a connection error raises :class:`SendError`; the caller reports it and stores nothing.
    """

    def __init__(self, url: str, *, user: str | None = None, password: str | None = None,
                 token: str | None = None, timeout_s: float = 10.0,
                 sender_id: str = "InfoCert") -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("gateway url must be http(s)")
        self.url = url
        self.user = user
        self.password = password
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.sender_id = sender_id

    async def send(self, to: str, body: str, sent_at: str) -> None:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.user is not None:
            pair = f"{self.user}:{self.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        payload = {"to": to, "text": body, "from": self.sender_id}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as http, http.post(
                self.url, json=payload, headers=headers
            ) as resp:
                if resp.status >= 300:
                    logger.warning("sms gateway answered HTTP %d", resp.status)
                    raise SendError("gateway_rejected" if resp.status < 500
                                    else "gateway_error")
                await resp.read()
        except TimeoutError as exc:
            logger.warning("sms gateway timed out")
            raise SendError("gateway_timeout") from exc
        except aiohttp.ClientError as exc:
            logger.warning("sms gateway unreachable: %s", exc.__class__.__name__)
            raise SendError("gateway_unreachable") from exc
        logger.info("sms handed to the gateway")
