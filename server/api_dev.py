"""Development/demo endpoints, registered only by ``serve --demo``: outboxes and the clock."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiohttp import web

from server.context import DESK
from server.errors import ApiError
from server.mailer import LocalEmailOutbox
from server.sms import LocalOutboxSender
from server.validation import iso
from server.web_util import json_response, read_object

logger = logging.getLogger(__name__)

MAX_ADVANCE_S = 30 * 366 * 24 * 3600


async def sms_outbox(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    mobile = request.query.get("mobile") or None
    if mobile is not None:
        mobile = mobile.replace(" ", "+", 1) if mobile.startswith(" ") else mobile
    sender = desk.sms
    messages = sender.messages(mobile) if isinstance(sender, LocalOutboxSender) else []
    return json_response({"messages": messages})


async def email_outbox(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    to = request.query.get("to") or None
    sender = desk.email
    messages = sender.messages(to) if isinstance(sender, LocalEmailOutbox) else []
    return json_response({"messages": messages})


async def get_clock(request: web.Request) -> web.Response:
    clock = request.app[DESK].config.clock
    return json_response({"now": iso(clock.now()), "offset_seconds":
                          int(clock.offset.total_seconds())})


async def advance_clock(request: web.Request) -> web.Response:
    """Move the service's clock forward (OTP expiry, lockouts, retention) without sleeping."""
    desk = request.app[DESK]
    body = await read_object(request)
    value = body.get("advance_seconds")
    if set(body) - {"advance_seconds"}:
        raise ApiError(422, "validation_failed", fields={
            k: "unknown_field" for k in set(body) - {"advance_seconds"}})
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(422, "validation_failed", fields={"advance_seconds": "invalid_type"})
    if not 0 <= value <= MAX_ADVANCE_S:
        raise ApiError(422, "validation_failed", fields={"advance_seconds": "out_of_range"})
    desk.config.clock.advance(float(value))
    logger.warning("demo clock advanced by %.0f s", value)
    desk.hub.queue_changed()
    clock = desk.config.clock
    return json_response({"now": iso(clock.now()),
                          "offset_seconds": int(clock.offset / timedelta(seconds=1))})


def setup(app: web.Application, prefix: str) -> None:
    r = app.router
    r.add_get(f"{prefix}/dev/outbox/sms", sms_outbox)
    r.add_get(f"{prefix}/dev/outbox/email", email_outbox)
    r.add_get(f"{prefix}/dev/clock", get_clock)
    r.add_post(f"{prefix}/dev/clock", advance_clock)
