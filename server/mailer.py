"""E-mail senders: SMTP (production) and a local outbox (development, demo)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from server.errors import storage_code
from server.outbox import JsonlOutbox
from server.sms import SendError

logger = logging.getLogger(__name__)


class EmailSender(Protocol):
    async def send(self, to: str, subject: str, body: str, sent_at: str) -> None: ...


class LocalEmailOutbox:
    """Appends ``{"to", "subject", "body", "sent_at"}`` lines to ``outbox/email.jsonl``."""

    def __init__(self, data_dir: Path) -> None:
        self.outbox = JsonlOutbox(data_dir / "outbox" / "email.jsonl")

    async def send(self, to: str, subject: str, body: str, sent_at: str) -> None:
        try:
            await self.outbox.append_async({"to": to, "subject": subject, "body": body,
                                            "sent_at": sent_at})
        except OSError as exc:
            raise SendError(storage_code(exc) or "outbox_unwritable") from exc
        logger.info("e-mail written to the local outbox")

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        return self.outbox.read("to", to) if to else self.outbox.read()


class SmtpSender:
    """Sends through an SMTP relay with STARTTLS (or implicit TLS on port 465) and login."""

    def __init__(self, host: str, port: int, *, user: str | None = None,
                 password: str | None = None, starttls: bool = True,
                 sender: str = "identificazione@example.test", timeout_s: float = 15.0) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.starttls = starttls
        self.sender = sender
        self.timeout_s = timeout_s

    def _send_sync(self, msg: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.port == 465:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s,
                                    context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with smtp:
            smtp.ehlo()
            if self.starttls and self.port != 465:
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)

    async def send(self, to: str, subject: str, body: str, sent_at: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body)
        try:
            await asyncio.to_thread(self._send_sync, msg)
        except (smtplib.SMTPException, OSError) as exc:
            logger.warning("smtp delivery failed: %s", exc.__class__.__name__)
            raise SendError("smtp_failed") from exc
        logger.info("e-mail handed to the SMTP relay")
