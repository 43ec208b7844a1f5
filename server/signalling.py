"""WebSocket signalling: operators and applicants, offer/answer relay, waiting-room updates.

Close codes: 4400 message failed its schema or nests deeper than 32 levels (reason says which
rule), 1009 message larger than the limit (reason says it), 1007 a text frame that is not
UTF-8 (reason says it), 4401 bad credentials or join link, signed out, account disabled or
sign-in expired, 4409 replaced by a newer connection of the same applicant. Heartbeat: aiohttp
pings every ``heartbeat_s`` (2 s) and drops a peer whose pong is 2 s late, so a vanished peer is
noticed within 4 s and the other side gets ``peer_left``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web
from aiohttp.http_websocket import WS_CLOSED_MESSAGE

from server import policy, ws_schemas
from server import queue as queue_mod
from server.bus import Bus, LocalBus, PostgresBus
from server.context import DESK, Desk
from server.errors import ApiError
from server.public_url import origin_of, service_base_url
from server.security import token_hash
from server.store import CallSession, IdRequest, Operator
from server.web_util import MAX_JSON_DEPTH, JsonTooDeep, loads_limited

logger = logging.getLogger(__name__)

CLOSE_INVALID = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_REPLACED = 4409
QUEUE_TICK_S = 10.0
#: presence rows renewed this often; a row not renewed for PRESENCE_EXPIRY_S is an instance gone
PRESENCE_BEAT_S = 5.0
PRESENCE_EXPIRY_S = 15.0


def origin_allowed(request: web.Request, extra: tuple[str, ...],
                   public_url: str | None = None, *, required: bool = False) -> bool:
    """The ``Origin`` is the service's public URL's (never derived from the Host header) or one
    of ``extra`` (``--allow-origin``). No Origin at all: refused when ``required`` (the
    applicant's socket: browsers always send one), allowed otherwise (the console)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return not required
    seen = origin_of(origin)
    if seen is None:
        return False
    allowed = {origin_of(service_base_url(request, public_url)), *map(origin_of, extra)}
    return seen in allowed


async def send(ws: web.WebSocketResponse, message: dict[str, Any]) -> bool:
    if ws.closed:
        return False
    try:
        await ws.send_str(json.dumps(message, separators=(",", ":")))
    except (ConnectionError, RuntimeError):
        return False
    return True


class Hub:
    """The WebSockets of this instance, and through :mod:`server.bus` those of the others.

    Local state (the sockets, a cache of open sessions) stays here; who is connected anywhere
    is in the ``presence`` table when the bus is distributed. Every delivery tries this
    instance's sockets first and goes on the bus for the others."""

    def __init__(self, desk: Desk, bus: Bus | None = None) -> None:
        self.desk = desk
        self.bus: Bus = bus if bus is not None else LocalBus()
        #: presence on the other instances (refreshed with the queue view)
        self._remote_applicants: set[str] = set()
        self._remote_operators: dict[int, str] = {}
        self._conn_ids: dict[web.WebSocketResponse, str] = {}
        self._publish_queue = False
        self._beat_task: asyncio.Task[None] | None = None
        self.operators: dict[int, set[web.WebSocketResponse]] = {}
        #: each operator connection's token family (logout closes the family's sockets)
        self.families: dict[web.WebSocketResponse, str] = {}
        #: when each operator connection's sign-in ends (closed then: session_max_age)
        self.deadlines: dict[web.WebSocketResponse, datetime] = {}
        self.roles: dict[int, str] = {}
        self.operator_names: dict[int, str] = {}
        self.subscribers: set[web.WebSocketResponse] = set()
        self.applicants: dict[str, web.WebSocketResponse] = {}
        self._last_position: dict[str, tuple[int, int]] = {}
        self._last_queue: str | None = None
        self._dirty = asyncio.Event()
        self.version = 0
        # open sessions: session_id -> (request_id, operator_id); request_id -> session_id
        self._sessions: dict[str, tuple[str, int]] = {}
        self._session_of: dict[str, str] = {}
        self._cached: tuple[int, float, queue_mod.QueueView] | None = None
        self._queue_text: tuple[tuple[int, int], str] | None = None
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.bus.distributed:
            store = self.desk.store
            now = self.desk.config.clock.now()
            await store.call(store.presence_beat, self.bus.instance, now, self._expired(now))
            await self.bus.start(self._on_bus_event, self._mark_dirty)
            self._beat_task = loop.create_task(self._beat_loop())
        self._task = loop.create_task(self._queue_loop())

    async def stop(self) -> None:
        for task in (self._task, self._beat_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        conns = [ws for s in self.operators.values() for ws in s] + list(self.applicants.values())
        for ws in conns:
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        if self.bus.distributed:
            with contextlib.suppress(Exception):
                await self.desk.store.call(self.desk.store.presence_clear, self.bus.instance)
        await self.bus.stop()

    @property
    def ready(self) -> bool:
        """The bus listens (always, on one instance)."""
        return self.bus.ready

    def queue_changed(self) -> None:
        """The waiting room changed here: recompute it, and tell the other instances."""
        self._publish_queue = self.bus.distributed
        self._mark_dirty()

    def _mark_dirty(self) -> None:
        self.version += 1
        self._cached = None
        self._dirty.set()

    # --- presence and the bus ------------------------------------------------------------

    def _expired(self, now: datetime) -> datetime:
        return now - timedelta(seconds=PRESENCE_EXPIRY_S)

    async def _beat_loop(self) -> None:
        store = self.desk.store
        while True:
            await asyncio.sleep(PRESENCE_BEAT_S)
            try:
                now = self.desk.config.clock.now()
                gone = await store.call(store.presence_beat, self.bus.instance, now,
                                        self._expired(now))
                if isinstance(self.bus, PostgresBus):
                    await store.call(self.bus.prune, store)
                if gone:  # connections of an instance that died: the queue view changes
                    self.queue_changed()
            except Exception as exc:
                logger.warning("presence heartbeat failed (%s)", type(exc).__name__)

    async def _present(self, ws: web.WebSocketResponse, kind: str, key: str,
                       role: str | None = None) -> None:
        conn_id = str(uuid.uuid4())
        self._conn_ids[ws] = conn_id
        if self.bus.distributed:
            store = self.desk.store
            await store.call(store.presence_add, conn_id, kind, key, role, self.bus.instance,
                             self.desk.config.clock.now())

    async def _absent(self, ws: web.WebSocketResponse) -> None:
        conn_id = self._conn_ids.pop(ws, None)
        if conn_id is not None and self.bus.distributed:
            with contextlib.suppress(Exception):
                await self.desk.store.call(self.desk.store.presence_remove, conn_id)

    async def refresh_presence(self) -> None:
        """Who is connected to the other instances (nothing to read on one instance)."""
        if not self.bus.distributed:
            return
        store = self.desk.store
        since = self._expired(self.desk.config.clock.now())
        self._remote_applicants, self._remote_operators = await store.call(
            store.presence_online, since, self.bus.instance)

    def applicant_online(self, req_id: str) -> bool:
        return req_id in self.applicants or req_id in self._remote_applicants

    def operator_online_elsewhere(self, op_id: int) -> bool:
        return op_id in self._remote_operators

    async def to_applicant(self, req_id: str, message: dict[str, Any]) -> bool:
        """Send to the applicant's socket, here or on another instance; False when the
        applicant is connected nowhere."""
        ws = self.applicants.get(req_id)
        if ws is not None:
            return await send(ws, message)
        if not self.bus.distributed:
            return False
        if req_id not in self._remote_applicants:
            await self.refresh_presence()
            if req_id not in self._remote_applicants:
                return False
        await self.bus.publish({"t": "applicant", "req": req_id, "msg": message})
        return True

    async def to_operator(self, op_id: int, message: dict[str, Any]) -> None:
        """Send to every socket of the operator, on every instance (the bus only when the
        operator has a connection elsewhere, or none here: presence may be a second old)."""
        local = list(self.operators.get(op_id, ()))
        for ows in local:
            await send(ows, message)
        if self.bus.distributed and (not local or op_id in self._remote_operators):
            await self.bus.publish({"t": "operator", "op": op_id, "msg": message})

    async def close_applicant(self, req_id: str, code: int, reason: bytes,
                              keep: web.WebSocketResponse | None = None) -> None:
        """Close the applicant's socket wherever it is (except ``keep``, the new one)."""
        await self._close_local_applicant(req_id, code, reason,
                                          self._conn_ids.get(keep) if keep else None)
        if self.bus.distributed:
            await self.bus.publish({"t": "close_applicant", "req": req_id, "code": code,
                                    "reason": reason.decode("utf-8", "replace"),
                                    "keep": self._conn_ids.get(keep) if keep else None})

    async def _close_local_applicant(self, req_id: str, code: int, reason: bytes,
                                     keep: str | None) -> None:
        ws = self.applicants.get(req_id)
        if ws is not None and (keep is None or self._conn_ids.get(ws) != keep):
            if keep is not None:  # replaced: the operator hears of the new one, not a leave
                self.applicants.pop(req_id, None)
            with contextlib.suppress(Exception):
                await ws.close(code=code, message=reason)

    async def _on_bus_event(self, event: dict[str, Any]) -> None:
        """An event from another instance: deliver it to the sockets held here."""
        kind = event.get("t")
        if kind == "queue":
            self._mark_dirty()
        elif kind == "applicant" and isinstance(event.get("msg"), dict):
            ws = self.applicants.get(str(event.get("req")))
            if ws is not None:
                await send(ws, event["msg"])
        elif kind == "operator" and isinstance(event.get("msg"), dict):
            op_id = event.get("op")
            if isinstance(op_id, int):
                for ows in list(self.operators.get(op_id, ())):
                    await send(ows, event["msg"])
        elif kind == "close_applicant":
            code = event.get("code")
            keep = event.get("keep")
            await self._close_local_applicant(
                str(event.get("req")), code if isinstance(code, int) else CLOSE_REPLACED,
                str(event.get("reason", "")).encode("utf-8")[:120],
                keep if isinstance(keep, str) else None)
        elif kind == "ended":
            await self._request_ended_here(str(event.get("req")), str(event.get("state")))
        elif kind == "disabled":
            op_id = event.get("op")
            if isinstance(op_id, int):
                await self._close_operator_here(
                    op_id, str(event.get("reason", "")).encode("utf-8")[:120])
        elif kind == "revoked":
            await self._family_revoked_here(str(event.get("family")))

    def snapshot(self) -> queue_mod.QueueView:
        """The waiting room, recomputed after each change and at least once a second (on the
        loop when stale: callers that can await use :meth:`fresh_snapshot` first)."""
        now = time.monotonic()
        cached = self._cached
        if cached is not None and cached[0] == self.version and now - cached[1] < 1.0:
            return cached[2]
        view = queue_mod.snapshot(self.desk.store, self.desk.config)
        self._cached = (self.version, now, view)
        return view

    async def fresh_snapshot(self) -> queue_mod.QueueView:
        """:meth:`snapshot`, its database reads in the store's threads."""
        now = time.monotonic()
        cached = self._cached
        if cached is not None and cached[0] == self.version and now - cached[1] < 1.0:
            return cached[2]
        version = self.version  # a change while the query runs makes this view stale at once
        await self.refresh_presence()
        view = await self.desk.store.call(queue_mod.snapshot, self.desk.store, self.desk.config)
        self._cached = (version, now, view)
        return view

    async def _queue_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), QUEUE_TICK_S)
            self._dirty.clear()
            await asyncio.sleep(0.02)  # coalesce bursts of changes
            if self._publish_queue:
                self._publish_queue = False
                await self.bus.publish({"t": "queue"})
            try:
                await self.close_expired()
                await self.push_queue()
            except Exception:
                logger.exception("queue update failed")

    async def close_expired(self) -> None:
        """Close the sockets whose sign-in has reached its absolute end (checked every tick)."""
        now = self.desk.config.clock.now()
        for ws, end in list(self.deadlines.items()):
            if end <= now:
                self.deadlines.pop(ws, None)
                with contextlib.suppress(Exception):
                    await ws.close(code=CLOSE_UNAUTHORIZED, message=b"session expired")

    def online_requests(self) -> set[str]:
        """Requests whose applicant has the page open, on any instance."""
        return set(self.applicants) | self._remote_applicants

    def operators_online(self) -> int:
        """Operators who can take calls (a supervisor or partner connected does not count),
        on any instance."""
        roles = {op_id: self.roles.get(op_id, "") for op_id, conns in self.operators.items()
                 if conns}
        for op_id, role in self._remote_operators.items():
            roles.setdefault(op_id, role)
        return sum(1 for role in roles.values() if policy.allowed(role, "queue.next"))

    def queue_json(self) -> str:
        """``GET /queue`` as JSON text, serialised once per change and per second."""
        key = (self.version, int(time.monotonic()))
        if self._queue_text is not None and self._queue_text[0] == key:
            return self._queue_text[1]
        body = queue_mod.as_json(self.snapshot(), self.online_requests())
        text = json.dumps(body, separators=(",", ":"))
        self._queue_text = (key, text)
        return text

    async def _send_text(self, ws: web.WebSocketResponse, text: str) -> None:
        if ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(text)

    async def push_queue(self, force_to: web.WebSocketResponse | None = None) -> None:
        view = await self.fresh_snapshot()
        text = self.queue_json()
        message = '{"type":"queue",' + text[1:]
        # operators: whenever the content changes (wait_seconds alone does not count)
        online = self.online_requests()
        body_no_wait = json.dumps([(w.id, w.id in online) for w in view.waiting]
                                  + [(a.id, a.state) for a in view.appointments])
        if force_to is not None:
            await self._send_text(force_to, message)
        if body_no_wait != self._last_queue:
            self._last_queue = body_no_wait
            for ws in list(self.subscribers):
                if ws is not force_to:
                    await self._send_text(ws, message)
        # applicants: their own position and estimate, re-sent when either changes
        ops = self.operators_online()
        due_len = len(view.waiting)
        entries = await self.desk.store.call(self.desk.store.queue_entries,
                                             list(self.applicants))
        for req_id, ws in list(self.applicants.items()):
            req = entries.get(req_id)
            if req is None or req.state != "waiting":
                self._last_position.pop(req_id, None)
                continue
            pos = view.position(req_id)
            if pos is None:  # appointment later today: after everyone due, not before its time
                pos = due_len + 1
                until = int((req.appointment_at - view.now).total_seconds()) \
                    if req.appointment_at else 0
                est = max(until, view.estimate(pos, ops))
            else:
                est = view.estimate(pos, ops)
            # round the estimate to whole minutes so it is re-sent on real changes only
            est = round(est / 60.0) * 60
            if self._last_position.get(req_id) != (pos, est):
                self._last_position[req_id] = (pos, est)
                await send(ws, {"type": "queue", "position": pos, "estimated_wait_s": est})

    # --- open sessions (cached: the relay path touches no database) ---------------------

    def _remember(self, sess: CallSession) -> tuple[str, int]:
        entry = (sess.request_id, sess.operator_id)
        self._sessions[sess.id] = entry
        self._session_of[sess.request_id] = sess.id
        return entry

    def _forget(self, req_id: str) -> None:
        sid = self._session_of.pop(req_id, None)
        if sid is not None:
            self._sessions.pop(sid, None)

    def open_session(self, session_id: str) -> tuple[str, int] | None:
        entry = self._sessions.get(session_id)
        if entry is not None:
            return entry
        sess = self.desk.store.session(session_id)  # once per session: then cached
        if sess is None or sess.ended_at is not None:
            return None
        return self._remember(sess)

    def open_session_of(self, req_id: str) -> tuple[str, int] | None:
        """(session_id, operator_id) of the request's open session."""
        sid = self._session_of.get(req_id)
        if sid is not None and sid in self._sessions:
            return sid, self._sessions[sid][1]
        sess = self.desk.store.active_session_of_request(req_id)
        if sess is None:
            return None
        self._remember(sess)
        return sess.id, sess.operator_id

    # --- events from REST handlers -----------------------------------------------------

    async def session_started(self, sess: CallSession, req: IdRequest, op: Operator) -> bool:
        """Tell the applicant who is coming and the operator that the applicant is there."""
        self._last_position.pop(req.id, None)
        self._remember(sess)
        self.queue_changed()
        if not await self.to_applicant(req.id, {"type": "operator_assigned",
                                                "operator": op.display_name}):
            return False
        await self.to_operator(op.id, {"type": "applicant_joined", "session_id": sess.id})
        return True

    async def request_ended(self, req_id: str, state: str) -> None:
        self.queue_changed()
        await self._request_ended_here(req_id, state)
        if self.bus.distributed:
            await self.bus.publish({"t": "ended", "req": req_id, "state": state})

    async def _request_ended_here(self, req_id: str, state: str) -> None:
        self._forget(req_id)
        ws = self.applicants.get(req_id)
        if ws is None:
            return
        await send(ws, {"type": "ended", "state": state})
        if state in ("approved", "rejected"):
            self.applicants.pop(req_id, None)
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.OK, message=b"ended")

    async def operator_disabled(self, op_id: int, reason: bytes = b"account disabled") -> None:
        await self._close_operator_here(op_id, reason)
        if self.bus.distributed:
            await self.bus.publish({"t": "disabled", "op": op_id,
                                    "reason": reason.decode("utf-8", "replace")})

    async def _close_operator_here(self, op_id: int, reason: bytes) -> None:
        for ws in list(self.operators.get(op_id, ())):
            with contextlib.suppress(Exception):
                await ws.close(code=CLOSE_UNAUTHORIZED, message=reason)

    async def family_revoked(self, family: str) -> None:
        """Sign-out: the sockets opened with that sign-in's tokens close at once, everywhere."""
        await self._family_revoked_here(family)
        if self.bus.distributed:
            await self.bus.publish({"t": "revoked", "family": family})

    async def _family_revoked_here(self, family: str) -> None:
        for ws, fam in list(self.families.items()):
            if fam == family:
                with contextlib.suppress(Exception):
                    await ws.close(code=CLOSE_UNAUTHORIZED, message=b"signed out")

    # --- connections -------------------------------------------------------------------

    async def _reject(self, ws: web.WebSocketResponse, reason: str) -> None:
        logger.info("ws closed 4400: %s", reason)
        await ws.close(code=CLOSE_INVALID, message=reason.encode("utf-8")[:120])

    async def _receive(self, ws: web.WebSocketResponse, role: str):  # type: ignore[no-untyped-def]
        """Yield valid messages; close 4400 (and stop) on the first invalid one."""
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                try:
                    data = loads_limited(msg.data)
                except JsonTooDeep:
                    await self._reject(ws, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
                    return
                except ValueError:
                    await self._reject(ws, "invalid JSON")
                    return
                reason = ws_schemas.check(role, data)
                if reason is not None:
                    await self._reject(ws, reason)
                    return
                yield data
            elif msg.type == WSMsgType.BINARY:
                await self._reject(ws, "binary frames are not accepted")
                return
            elif msg.type == WSMsgType.ERROR:
                logger.info("ws %s error: %s", role, ws.exception().__class__.__name__)
                return

    async def operator_connection(self, ws: web.WebSocketResponse, op: Operator,
                                  family: str = "", deadline: datetime | None = None,
                                  token: str | None = None) -> None:
        conns = self.operators.setdefault(op.id, set())
        conns.add(ws)
        self.families[ws] = family
        if token is not None:
            # the token was checked in the store's threads: a sign-out that landed meanwhile
            # found no socket of this family to close. Registered now, look once more.
            try:
                await self.desk.store.call(policy.authenticate, self.desk, token)
            except ApiError:
                conns.discard(ws)
                self.families.pop(ws, None)
                if not conns:
                    self.operators.pop(op.id, None)
                await ws.close(code=CLOSE_UNAUTHORIZED, message=b"signed out")
                return
        if deadline is not None:
            self.deadlines[ws] = deadline
        self.roles[op.id] = op.role
        self.operator_names[op.id] = op.display_name
        logger.info("operator %d connected (%d connections)", op.id, len(conns))
        store = self.desk.store
        try:
            await self._present(ws, "operator", str(op.id), op.role)
            self.queue_changed()
            sess = await store.call(store.active_session_of_operator, op.id)
            if sess is not None:
                await self.refresh_presence()
                if self.applicant_online(sess.request_id):
                    await send(ws, {"type": "applicant_joined", "session_id": sess.id})
            async for data in self._receive(ws, "operator"):
                await self._operator_message(ws, op, data)
        finally:
            conns.discard(ws)
            self.subscribers.discard(ws)
            self.families.pop(ws, None)
            self.deadlines.pop(ws, None)
            await self._absent(ws)
            if not conns:
                self.operators.pop(op.id, None)
                with contextlib.suppress(Exception):
                    await self.refresh_presence()
                sess = await store.call(store.active_session_of_operator, op.id)
                if sess is not None and not self.operator_online_elsewhere(op.id):
                    await self.to_applicant(sess.request_id,
                                            {"type": "peer_left", "role": "operator"})
            self.queue_changed()
            logger.info("operator %d disconnected (code %s)", op.id, ws.close_code)

    async def _operator_message(self, ws: web.WebSocketResponse, op: Operator,
                                data: dict[str, Any]) -> None:
        kind = data["type"]
        action = "ws.subscribe_queue" if kind == "subscribe_queue" else "ws.signal"
        if policy.allowed(op.role, action) is None:
            await send(ws, {"type": "error", "code": "forbidden", "message": kind})
            return
        if kind == "subscribe_queue":
            self.subscribers.add(ws)
            await self.push_queue(force_to=ws)
            return
        sid = data["session_id"]
        entry = self.open_session(sid)
        if entry is None:
            await send(ws, {"type": "error", "code": "unknown_session", "session_id": sid})
            return
        req_id, owner = entry
        if owner != op.id:
            await send(ws, {"type": "error", "code": "not_your_session", "session_id": sid})
            return
        if kind == "offer":
            if not await self.to_applicant(req_id, {"type": "offer", "sdp": data["sdp"]}):
                await send(ws, {"type": "error", "code": "applicant_offline",
                                "session_id": sid})
        elif kind == "hangup":
            await self.to_applicant(req_id, {"type": "peer_left", "role": "operator"})

    async def applicant_connection(self, ws: web.WebSocketResponse, req: IdRequest) -> None:
        old = self.applicants.get(req.id)
        self.applicants[req.id] = ws
        self._last_position.pop(req.id, None)
        if old is not None and old is not ws:
            with contextlib.suppress(Exception):
                await old.close(code=CLOSE_REPLACED, message=b"replaced by a new connection")
        store = self.desk.store
        logger.info("applicant connected")
        try:
            await self._present(ws, "applicant", req.id)
            if self.bus.distributed:  # an older connection on another instance gives way
                await self.close_applicant(req.id, CLOSE_REPLACED,
                                           b"replaced by a new connection", keep=ws)
            await send(ws, {"type": "welcome", "language": "it", "state": req.state,
                            "product": req.product})
            sess = await store.call(store.active_session_of_request, req.id)
            if sess is not None:
                await self._announce(ws, sess)
            self.queue_changed()
            async for data in self._receive(ws, "applicant"):
                await self._applicant_message(ws, req.id, data)
        finally:
            await self._absent(ws)
            if self.applicants.get(req.id) is ws:
                del self.applicants[req.id]
                self._last_position.pop(req.id, None)
                sess = await store.call(store.active_session_of_request, req.id)
                if sess is not None:
                    await self.to_operator(sess.operator_id, {
                        "type": "peer_left", "session_id": sess.id, "role": "applicant"})
                self.queue_changed()
            logger.info("applicant disconnected (code %s)", ws.close_code)

    async def _announce(self, aws: web.WebSocketResponse, sess: CallSession) -> None:
        name = self.operator_names.get(sess.operator_id)
        if name is None:
            op = await self.desk.store.call(self.desk.store.operator, sess.operator_id)
            name = op.display_name if op else ""
        await send(aws, {"type": "operator_assigned", "operator": name})
        await self.to_operator(sess.operator_id,
                               {"type": "applicant_joined", "session_id": sess.id})

    async def _applicant_message(self, ws: web.WebSocketResponse, req_id: str,
                                 data: dict[str, Any]) -> None:
        store = self.desk.store
        now = self.desk.config.clock.now()
        kind = data["type"]
        if kind == "consent":
            if not (data["recording"] and data["terms"]):
                store.add_event(req_id, "consent_refused", {"recording": data["recording"],
                                                            "terms": data["terms"]}, now)
                await send(ws, {"type": "error", "code": "consent_required"})
                return
            req = store.request(req_id)
            if req is None or req.state not in ("registered", "suspended", "waiting"):
                await send(ws, {"type": "error", "code": "invalid_state",
                                "state": req.state if req else None})
                return
            store.applicant_ready(req_id, now, {"recording": True, "terms": True})
            self._last_position.pop(req_id, None)
            self.queue_changed()
        elif kind == "device_check":
            store.add_event(req_id, "device_check", {"ok": data["ok"]}, now)
        elif kind in ("answer", "hangup"):
            found = self.open_session_of(req_id)
            if found is None:
                await send(ws, {"type": "error", "code": "no_session"})
                return
            sid, owner = found
            msg: dict[str, Any]
            if kind == "answer":
                msg = {"type": "answer", "session_id": sid, "sdp": data["sdp"]}
            else:
                msg = {"type": "peer_left", "session_id": sid, "role": "applicant"}
            await self.to_operator(owner, msg)


#: the largest message a peer may send (bytes of UTF-8): an offer or answer with its SDP
MESSAGE_MAX = ws_schemas.SDP_MAX + 4096
#: aiohttp's own cap, a memory guard only: over it aiohttp stops reading the frame and closes
#: 1009 itself, and the transport can close before its close frame is out (the peer then sees
#: a dropped connection, 1 run in 15 of the fuzz test). Up to it, :meth:`DeskWebSocket.receive`
#: reads the whole message and closes 1009 with the reason through the normal path.
TRANSPORT_MAX = 4 * MESSAGE_MAX


class DeskWebSocket(web.WebSocketResponse):
    """aiohttp waits ``heartbeat / 2`` (1 s) for a pong, which drops healthy peers whenever the
    service is busy for a second. Here a pong may take ``pong_timeout`` (2 s): a vanished peer is
    still noticed within heartbeat + pong_timeout = 4 s. Messages over ``max_message`` bytes are
    refused (1009, with the limit in the reason)."""

    def __init__(self, *, pong_timeout: float, max_message: int = MESSAGE_MAX,
                 **kwargs: Any) -> None:
        super().__init__(max_msg_size=max(TRANSPORT_MAX, max_message), **kwargs)
        self.max_message = max_message
        if hasattr(self, "_pong_heartbeat"):
            self._pong_heartbeat = pong_timeout

    def _too_large(self, data: str | bytes) -> bool:
        """Whether a message is over ``max_message`` bytes (text: of UTF-8)."""
        if isinstance(data, bytes) or len(data) * 4 <= self.max_message:  # 4 bytes a char at most
            return len(data) > self.max_message
        return len(data.encode("utf-8", "surrogatepass")) > self.max_message

    async def receive(self, timeout: float | None = None) -> WSMessage:
        """aiohttp's receive, with messages over ``max_message`` refused: closed 1009 with the
        reason, and the socket reads as closed."""
        msg = await super().receive(timeout)
        if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY) and self._too_large(msg.data):
            await self.close(code=WSCloseCode.MESSAGE_TOO_BIG)
            return WS_CLOSED_MESSAGE
        return msg

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"",
                    drain: bool = True) -> bool:
        # aiohttp closes an oversized message with 1009 and a text frame that is not UTF-8 with
        # 1007, both without a reason: say why
        if code == WSCloseCode.MESSAGE_TOO_BIG and not message:
            message = f"message too large (at most {self.max_message} bytes)".encode()
        elif code == WSCloseCode.INVALID_TEXT and not message:
            message = b"text frame is not valid UTF-8"
        return await super().close(code=code, message=message, drain=drain)


def _ws_response(desk: Desk) -> web.WebSocketResponse:
    return DeskWebSocket(heartbeat=desk.config.heartbeat_s, pong_timeout=desk.config.pong_timeout_s)


async def operator_ws(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    if not origin_allowed(request, desk.config.allowed_origins, desk.config.public_base_url):
        return web.json_response({"error": "origin_not_allowed",
                                  "message": "Origin not allowed"}, status=403)
    ws = _ws_response(desk)
    await ws.prepare(request)
    token = policy.bearer(request) or request.query.get("token") or None
    try:
        op, family = await desk.store.call(policy.authenticate, desk, token)
    except ApiError:
        await ws.close(code=CLOSE_UNAUTHORIZED, message=b"unauthorized")
        return ws
    deadline = await desk.store.call(desk.store.family_deadline, family)
    await desk.hub.operator_connection(ws, op, family, deadline, token)
    return ws


async def applicant_ws(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    if not origin_allowed(request, desk.config.allowed_origins, desk.config.public_base_url,
                          required=True):
        return web.json_response({"error": "origin_not_allowed",
                                  "message": "Origin not allowed"}, status=403)
    ws = _ws_response(desk)
    await ws.prepare(request)
    join = request.match_info["join_token"]
    req = await desk.store.call(desk.store.resolve_join, token_hash(join),
                                desk.config.clock.now(), mark_used=True) \
        if 10 <= len(join) <= 200 else None
    if req is None:
        await ws.close(code=CLOSE_UNAUTHORIZED, message=b"invalid or expired join link")
        return ws
    await desk.hub.applicant_connection(ws, req)
    return ws
