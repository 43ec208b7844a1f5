"""The desk service application: ``create_app(config) -> aiohttp.web.Application``.

In-process use (tests, the demo)::

    app = create_app(DeskConfig(data_dir=tmp, demo=True))
    runner = web.AppRunner(app); await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0); await site.start()
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web

from server import (
    api_auth,
    api_dev,
    api_evidence,
    api_requests,
    api_workstations,
    pages,
    policy,
    ratelimit,
    signalling,
)
from server.bus import make_bus
from server.config import DeskConfig
from server.context import (
    DESK,
    Desk,
    load_archive_key,
    load_pepper,
    load_totp_key,
    seal_totp_secrets,
)
from server.files import secure_data_dir
from server.mailer import EmailSender, LocalEmailOutbox, SmtpSender
from server.openapi import openapi_document
from server.signalling import Hub
from server.sms import HttpGatewaySender, LocalOutboxSender, SmsSender
from server.store import Store
from server.validation import iso
from server.web_util import error_middleware, headers_middleware, json_response

logger = logging.getLogger(__name__)

API = "/api/v1"
#: JSON endpoints read at most 256 KiB; evidence chunks up to max_chunk_size.
_SLACK = 64 * 1024
#: how long /readyz waits for the database
READY_TIMEOUT_S = 2.0


def make_sms_sender(config: DeskConfig) -> SmsSender:
    if config.sms_sender == "http":
        if not config.sms_gateway_url:
            raise ValueError("sms_sender 'http' needs sms_gateway_url")
        return HttpGatewaySender(config.sms_gateway_url, user=config.sms_gateway_user,
                                 password=config.sms_gateway_password,
                                 token=config.sms_gateway_token)
    return LocalOutboxSender(config.data_dir)


def make_email_sender(config: DeskConfig) -> EmailSender:
    if config.email_sender == "smtp":
        return SmtpSender(config.smtp_host, config.smtp_port, user=config.smtp_user,
                          password=config.smtp_password, starttls=config.smtp_starttls,
                          sender=config.mail_from)
    return LocalEmailOutbox(config.data_dir)


def migrates_itself(config: DeskConfig) -> bool:
    """Whether the service brings the schema up to date by itself at start-up: in demo mode and
    on the embedded SQLite default (no ``--db``). Otherwise ``recognition-desk migrate`` does,
    once, before the instances start (docs/DATABASE.md)."""
    return config.demo or config.db_url is None


def build_desk(config: DeskConfig, *, migrate: bool | None = None) -> Desk:
    """Everything but the web application: the store, senders, keys. Used by the CLI too.

    ``migrate`` (default :func:`migrates_itself`): migrate the schema, else only check it
    (:class:`server.migrate.SchemaError`, a ConfigError, when it is not current)."""
    config.ensure_dirs()
    secure_data_dir(config.data_dir, config.database_url)  # 0700/0600, before SQLite opens it
    totp_key = load_totp_key(config)  # ConfigError outside demo mode without a configured key
    store = Store(config.database_url,
                  migrate=migrates_itself(config) if migrate is None else migrate)
    try:
        seal_totp_secrets(store, totp_key)
        # a shared database (--db) takes both from the configuration (ConfigError without)
        pepper, archive_key = load_pepper(config), load_archive_key(config)
    except BaseException:
        store.close()
        raise
    desk = Desk(config=config, store=store,
                sms=make_sms_sender(config), email=make_email_sender(config),
                archive=archive_key, pepper=pepper, totp_key=totp_key)
    desk.hub = Hub(desk, make_bus(config.database_url, store))
    return desk


async def health(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    return json_response({"status": "ok", "time": iso(desk.config.clock.now()),
                          "demo": desk.config.demo})


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process and its event loop answer (no database round trip)."""
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness for a load balancer: the database answers and the event bus listens."""
    desk = request.app[DESK]
    try:
        database = await asyncio.wait_for(desk.store.call(desk.store.ping), READY_TIMEOUT_S)
    except Exception:
        database = False
    bus = desk.hub.ready
    ok = database and bus
    return json_response({"status": "ready" if ok else "not_ready", "database": database,
                          "bus": bus}, 200 if ok else 503)


async def openapi_json(request: web.Request) -> web.Response:
    return json_response(openapi_document(demo=request.app[DESK].config.demo))


def create_app(config: DeskConfig) -> web.Application:
    desk = build_desk(config)
    app = web.Application(middlewares=[headers_middleware, error_middleware,
                                       ratelimit.rate_limit_middleware,
                                       policy.policy_middleware],
                          client_max_size=config.max_chunk_size + _SLACK)
    app[DESK] = desk
    ratelimit.setup(app, config)
    app.router.add_get("/api/openapi.json", openapi_json)
    app.router.add_get(f"{API}/health", health)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    api_auth.setup(app, API)
    api_requests.setup(app, API)
    api_evidence.setup(app, API)
    api_workstations.setup(app, API)
    if config.demo:
        api_dev.setup(app, API)
    app.router.add_get("/ws/operator", signalling.operator_ws)
    app.router.add_get("/ws/applicant/{join_token}", signalling.applicant_ws)
    pages.setup(app)
    missing = policy.unrouted(app)
    if missing:
        raise RuntimeError(f"routes without an entry in the role table: {missing}")

    async def on_startup(_app: web.Application) -> None:
        await desk.hub.start()
        logger.info("desk service started (data dir %s, demo=%s)", Path(config.data_dir).name,
                    config.demo)

    async def on_shutdown(_app: web.Application) -> None:
        await desk.hub.stop()

    async def on_cleanup(_app: web.Application) -> None:
        desk.store.close()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app
