"""Events between desk-service instances: the seam that lets several instances share one database.

An instance delivers what it can to its own WebSockets at once; what concerns a connection held
by another instance (an offer for an applicant connected there, a queue change, a sign-out) goes
on the bus, and every other instance delivers it to the sockets it holds.

:class:`LocalBus`
    One instance (SQLite, the embedded default and the demo): nothing to send anywhere.
:class:`PostgresBus`
    PostgreSQL ``LISTEN/NOTIFY`` on one channel. Payloads are small JSON objects; a larger one
    (an SDP offer can exceed NOTIFY's 8000 bytes) is written to the ``bus_messages`` table and
    the notification carries its id. Each instance listens on a connection of its own and sends
    on another; when the listening connection breaks it reconnects with capped backoff, and its
    hub recomputes what it shows (events sent meanwhile are lost: the queue is re-read from the
    tables, a signalling peer re-sends on its own reconnection).

Another transport (Redis pub/sub, NATS) is a subclass with the same three methods; nothing else
in the service knows which bus runs (docs/DEPLOY.md).

Events are dicts with a ``t`` (type) key; :class:`server.signalling.Hub` defines and handles
them. No personal data travels here that is not already in the tables (SDP carries none of the
applicant's identity); events are never logged with their content.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from server.store import Store

logger = logging.getLogger(__name__)

Deliver = Callable[[dict[str, Any]], Awaitable[None]]

CHANNEL = "recognition_desk"
#: NOTIFY refuses payloads of 8000 bytes or more; above this the body goes to bus_messages
INLINE_MAX = 7000
#: how long a large message stays in bus_messages (every instance reads it within milliseconds)
MESSAGE_TTL = timedelta(minutes=5)
#: at most this many events in one NOTIFY statement (each payload < 8000 bytes)
BATCH_MAX = 64
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 10.0


class Bus(ABC):
    """Fan-out of events to the other instances of the service."""

    #: whether other instances may exist (presence is then kept in the database)
    distributed = False

    def __init__(self) -> None:
        self.instance = str(uuid.uuid4())

    @abstractmethod
    async def start(self, deliver: Deliver, on_reconnect: Callable[[], None]) -> None:
        """Begin delivering the other instances' events to ``deliver``; ``on_reconnect`` runs
        after the bus was cut (events may have been missed)."""

    @abstractmethod
    async def publish(self, event: dict[str, Any]) -> None:
        """Send ``event`` to every other instance (best effort: never raises)."""

    @abstractmethod
    async def stop(self) -> None: ...

    @property
    def ready(self) -> bool:
        return True


class LocalBus(Bus):
    """A single instance: there is no one else to tell."""

    async def start(self, deliver: Deliver, on_reconnect: Callable[[], None]) -> None:
        return None

    async def publish(self, event: dict[str, Any]) -> None:
        return None

    async def stop(self) -> None:
        return None


def conninfo(url: str) -> str:
    """A libpq URI from the service's SQLAlchemy URL (``postgresql+psycopg://…``)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresBus(Bus):
    distributed = True

    def __init__(self, url: str, store: Store) -> None:
        super().__init__()
        self._conninfo = conninfo(url)
        self._store = store
        self._deliver: Deliver | None = None
        self._on_reconnect: Callable[[], None] = lambda: None
        self._listen_task: asyncio.Task[None] | None = None
        self._send_conn: Any = None
        self._send_lock = asyncio.Lock()
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._listening = asyncio.Event()
        self._stopping = False

    @property
    def ready(self) -> bool:
        return self._listening.is_set()

    async def start(self, deliver: Deliver, on_reconnect: Callable[[], None]) -> None:
        self._deliver = deliver
        self._on_reconnect = on_reconnect
        self._listen_task = asyncio.get_running_loop().create_task(self._listen_loop())
        # the first LISTEN before the service accepts requests (a short wait: a database that
        # is down now is retried in the background and /readyz says so meanwhile)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), 10)

    async def stop(self) -> None:
        self._stopping = True
        if self._listen_task is not None:
            self._listen_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listen_task
        async with self._send_lock:
            if self._send_conn is not None:
                with contextlib.suppress(Exception):
                    await self._send_conn.close()
                self._send_conn = None

    async def _connect(self) -> Any:
        import psycopg

        return await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True,
                                                     connect_timeout=10)

    async def _listen_loop(self) -> None:
        delay = RECONNECT_MIN_S
        first = True
        while not self._stopping:
            conn = None
            try:
                conn = await self._connect()
                await conn.execute(f"LISTEN {CHANNEL}")
                self._listening.set()
                delay = RECONNECT_MIN_S
                if not first:
                    logger.info("event bus: listening again")
                    self._on_reconnect()
                first = False
                async for note in conn.notifies():
                    await self._received(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._listening.clear()
                logger.warning("event bus: listening connection lost (%s); again in %.1f s",
                               type(exc).__name__, delay)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            if self._stopping:
                return
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, RECONNECT_MAX_S)

    async def _received(self, payload: str) -> None:
        try:
            event = json.loads(payload)
            if not isinstance(event, dict) or event.get("src") == self.instance:
                return
            ref = event.get("ref")
            if isinstance(ref, str):
                body = await self._store.call(self._store.bus_get, ref)
                if body is None:
                    return
                event = json.loads(body)
                if not isinstance(event, dict):
                    return
            if self._deliver is not None:
                await self._deliver(event)
        except Exception:
            logger.exception("event bus: an event could not be handled")

    async def publish(self, event: dict[str, Any]) -> None:
        payload = json.dumps({**event, "src": self.instance}, separators=(",", ":"))
        try:
            if len(payload.encode("utf-8")) > INLINE_MAX:
                now = _now()
                ref = await self._store.call(self._store.bus_put, payload, now)
                payload = json.dumps({"ref": ref, "src": self.instance})
            await self._notify(payload)
        except Exception as exc:
            logger.warning("event bus: an event could not be sent (%s)", type(exc).__name__)

    async def _notify(self, payload: str) -> None:
        """Send one payload. Concurrent sends are grouped: whoever holds the sending
        connection sends everything queued so far in one statement (one round trip to the
        database for many events, in the order they were published)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((payload, fut))
        while not fut.done():
            async with self._send_lock:
                if fut.done():
                    break
                batch = self._pending[:BATCH_MAX]
                del self._pending[:BATCH_MAX]
                try:
                    await self._send_batch([p for p, _ in batch])
                except Exception as exc:
                    for _, f in batch:
                        if not f.done():
                            f.set_exception(exc)
                else:
                    for _, f in batch:
                        if not f.done():
                            f.set_result(None)
        await fut

    async def _send_batch(self, payloads: list[str]) -> None:
        query = "SELECT " + ", ".join(["pg_notify(%s, %s)"] * len(payloads))
        params = [v for p in payloads for v in (CHANNEL, p)]
        for attempt in (1, 2):  # a broken sending connection is replaced once
            try:
                if self._send_conn is None or self._send_conn.closed:
                    self._send_conn = await self._connect()
                await self._send_conn.execute(query, params)
                return
            except Exception:
                if self._send_conn is not None:
                    with contextlib.suppress(Exception):
                        await self._send_conn.close()
                self._send_conn = None
                if attempt == 2:
                    raise

    def prune(self, store: Store) -> None:
        """Drop large messages every instance has long read (run in the store's threads)."""
        store.bus_prune(_now() - MESSAGE_TTL)


def _now() -> datetime:
    return datetime.now(UTC)


def make_bus(url: str, store: Store) -> Bus:
    """PostgreSQL: instances may share the database, so the bus is LISTEN/NOTIFY on it; SQLite
    (one host, one process): the local bus."""
    if store.dialect == "postgresql":
        return PostgresBus(url, store)
    return LocalBus()
