"""The waiting room as the desk service pushes it (no Qt here): the operator's queue view.

The desk service sends the whole waiting room on the operator WebSocket after
``{"type":"subscribe_queue"}`` and again whenever it changes (docs/PROTOCOL.md), so the queue
view follows it instead of polling ``GET /queue``. :class:`QueueFeed` owns one socket in a
thread of its own (its own asyncio loop: never the GUI thread), hands every snapshot to
``on_snapshot`` and reports its state to ``on_state``:

``connecting`` → ``live`` (a snapshot came) → ``reconnecting`` (the socket dropped: capped
backoff with jitter, 0.5 s to 15 s, for as long as the feed runs) → ``live`` … or ``signed_out``
(the service refused the token and a refresh was refused too: the feed stops, the sign-in is
over). Callbacks run on the feed's thread: the UI marshals them to its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import ssl
import threading
from collections.abc import Callable
from typing import Any

from console.errors import ProtocolError
from console.models import QueueSnapshot

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 15.0
CONNECT_TIMEOUT_S = 10.0
HEARTBEAT_S = 10.0
CLOSE_UNAUTHORIZED = 4401

#: ``token(refused)``: an access token for the socket; ``refused`` after the service refused
#: the last one. Raises PermissionError when the sign-in is over (``DeskClient.socket_token``).
TokenProvider = Callable[[bool], str]


class QueueFeed:
    def __init__(self, origin: str, token: TokenProvider,
                 on_snapshot: Callable[[QueueSnapshot], None],
                 on_state: Callable[[str], None] | None = None,
                 *, ca_bundle: str | None = None) -> None:
        scheme, _, rest = origin.partition("://")
        self.url = f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}/ws/operator"
        self._token = token
        self._on_snapshot = on_snapshot
        self._on_state = on_state or (lambda _state: None)
        self._ssl: Any = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.state = "stopped"
        self.snapshots = 0

    # --- control (any thread) -----------------------------------------------------------------
    def start(self) -> None:
        """Start the feed's thread (any thread; a feed stopped before it started stays
        stopped)."""
        if self._thread is not None or self._stopped:
            return
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._task = loop.create_task(self._main())
            if self._stopped:  # stop() came while the thread was starting
                self._task.cancel()
            ready.set()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(self._task)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="queue-feed", daemon=True)
        self._thread.start()
        ready.wait(5)

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel the feed; wait up to ``timeout`` s for its thread (0: do not wait — the GUI
        thread never blocks on it; the thread ends by itself)."""
        self._stopped = True
        loop, task, thread = self._loop, self._task, self._thread
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)
        if thread is not None and timeout > 0:
            thread.join(timeout)
        self._thread = None
        self._set_state("stopped")

    # --- the feed's thread ----------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            log.info("queue feed: %s", state)
            with contextlib.suppress(Exception):
                self._on_state(state)

    async def _main(self) -> None:
        import aiohttp

        delay = BACKOFF_MIN_S
        refused = False
        self._set_state("connecting")
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    token = await asyncio.to_thread(self._token, refused)
                except PermissionError:
                    self._set_state("signed_out")
                    return
                except Exception as exc:  # the desk is unreachable for the refresh: later
                    log.info("queue feed: no token yet (%s)", type(exc).__name__)
                    token = None
                code = None
                if token is not None:
                    code = await self._session(http, token)
                    if self.state == "live":
                        delay = BACKOFF_MIN_S
                refused = code == CLOSE_UNAUTHORIZED
                if not refused:
                    self._set_state("reconnecting")
                    await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                    delay = min(delay * 2, BACKOFF_MAX_S)

    async def _session(self, http: Any, token: str) -> int | None:
        """One socket: subscribe, deliver snapshots until it closes; its close code."""
        import aiohttp

        try:
            ws = await asyncio.wait_for(http.ws_connect(
                self.url, headers={"Authorization": f"Bearer {token}"}, heartbeat=HEARTBEAT_S,
                ssl=self._ssl), CONNECT_TIMEOUT_S)
        except aiohttp.WSServerHandshakeError as exc:
            return CLOSE_UNAUTHORIZED if exc.status in (401, 403) else None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.info("queue feed: cannot connect (%s)", type(exc).__name__)
            return None
        try:
            await ws.send_str(json.dumps({"type": "subscribe_queue"}))
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                self._message(msg.data)
        except (aiohttp.ClientError, OSError) as exc:
            log.info("queue feed: socket lost (%s)", type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                await ws.close()
        return ws.close_code

    def _message(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            log.warning("queue feed: a message that is not JSON, ignored")
            return
        if not isinstance(data, dict) or data.get("type") != "queue":
            return  # the operator socket carries other messages too
        try:
            snapshot = QueueSnapshot.from_json(data)
        except ProtocolError as exc:
            log.warning("queue feed: a malformed waiting room, ignored (%s)", exc)
            return
        self.snapshots += 1
        self._set_state("live")
        with contextlib.suppress(Exception):
            self._on_snapshot(snapshot)
