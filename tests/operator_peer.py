"""Operator-side TEST PEER: a minimal aiortc offerer for tests of the applicant's page.

Not the console's media engine. It speaks the contract of docs/PROTOCOL.md as the console would
(logs in over REST, takes the next applicant, offers over /ws/operator with a ``control`` data
channel) and records what arrives: video frames, stats, pongs and still images (reassembled from
the binary chunks and checked against their announced size, chunk count and sha256).
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import hashlib
import json
import logging
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import av
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)

logger = logging.getLogger(__name__)

HEADER = struct.Struct(">16sI")  # uuid bytes + chunk index


class TestPeerError(RuntimeError):
    """The applicant side did not do what the protocol says."""


@dataclass
class Still:
    id: str
    meta: dict[str, Any]
    data: bytes
    chunks_received: int


@dataclass
class _Assembly:
    meta: dict[str, Any]
    chunks: dict[int, bytes] = field(default_factory=dict)


class PatternTrack(VideoStreamTrack):
    """The operator's camera for tests: a moving colour gradient, 640x360 at 15 fps."""

    def __init__(self, width: int = 640, height: int = 360, fps: int = 15) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._n = 0
        self._t0: float | None = None
        xs = np.linspace(0, 255, width, dtype=np.float32)
        self._base = np.broadcast_to(xs, (height, width))

    async def recv(self) -> av.VideoFrame:
        if self._t0 is None:
            self._t0 = time.monotonic()
        target = self._t0 + self._n / self.fps
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        shift = (self._n * 8) % 256
        img = np.empty((self.height, self.width, 3), np.uint8)
        img[..., 0] = (self._base + shift).astype(np.uint16) % 256
        img[..., 1] = 96
        img[..., 2] = 255 - img[..., 0]
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = self._n * (90000 // self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        self._n += 1
        return frame


async def login(http: aiohttp.ClientSession, base_url: str, username: str, password: str,
                totp_code: str) -> dict[str, Any]:
    """POST /auth/login; returns the JSON body (access_token, operator, ...)."""
    async with http.post(f"{base_url}/api/v1/auth/login",
                         json={"username": username, "password": password,
                               "totp": totp_code}) as resp:
        body: dict[str, Any] = await resp.json()
        if resp.status != 200:
            raise TestPeerError(f"login failed: HTTP {resp.status} {body.get('error')}")
        return body


class OperatorTestPeer:
    """One operator WebSocket and, per offer, one RTCPeerConnection with a control channel."""

    def __init__(self, base_url: str, access_token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = access_token
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.pc: RTCPeerConnection | None = None
        self.dc: RTCDataChannel | None = None
        self.session_id: str | None = None
        self.request_id: str | None = None
        self.messages: list[dict[str, Any]] = []  # everything the server sent on the WS
        self.control_messages: list[dict[str, Any]] = []  # every JSON message from the page
        self.stats: list[dict[str, Any]] = []
        self.stills: dict[str, asyncio.Future[Still]] = {}
        self.video_frames = 0
        self.audio_frames = 0
        self.last_video_size: tuple[int, int] | None = None
        self._assemblies: dict[str, _Assembly] = {}
        self._pongs: dict[int, asyncio.Future[float]] = {}
        self._ws_task: asyncio.Task[None] | None = None
        self._sinks: list[asyncio.Task[None]] = []
        self._answer: asyncio.Future[str] | None = None
        self.offer_sent_at: float | None = None  # time.perf_counter() of the last offer
        self.answer_at: float | None = None  # ... and of its answer
        self._joined: set[str] = set()
        self._ws_event = asyncio.Event()
        self._dc_open = asyncio.Event()

    # --- REST + WebSocket --------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def open(self) -> None:
        self.http = aiohttp.ClientSession()
        ws_url = f"{self.base_url.replace('http', 'ws', 1)}/ws/operator"
        self.ws = await self.http.ws_connect(ws_url, headers=self._headers(), heartbeat=2.0)
        self._ws_task = asyncio.get_running_loop().create_task(self._read_ws())

    async def next_applicant(self) -> dict[str, Any]:
        """POST /queue/next: returns {session_id, request}; raises when the queue is empty."""
        assert self.http is not None
        async with self.http.post(f"{self.base_url}/api/v1/queue/next",
                                  headers=self._headers()) as resp:
            if resp.status == 204:
                raise TestPeerError("queue is empty")
            body: dict[str, Any] = await resp.json()
            if resp.status != 200:
                raise TestPeerError(f"queue/next failed: HTTP {resp.status} {body.get('error')}")
        self.session_id = body["session_id"]
        self.request_id = body["request"]["id"]
        return body

    async def _read_ws(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            self.messages.append(data)
            kind = data.get("type")
            if kind == "applicant_joined":
                self._joined.add(str(data.get("session_id")))
            elif kind == "answer" and self._answer is not None and not self._answer.done():
                self.answer_at = time.perf_counter()
                self._answer.set_result(data["sdp"])
            elif kind == "peer_left":
                self._joined.discard(str(data.get("session_id")))
            self._ws_event.set()

    async def wait_applicant_joined(self, timeout: float = 10.0) -> None:
        """Until the service says the applicant of our session is connected."""
        deadline = time.monotonic() + timeout
        while self.session_id not in self._joined:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestPeerError("applicant_joined did not come")
            self._ws_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ws_event.wait(), left)

    async def send_ws(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(message))

    # --- the call ----------------------------------------------------------------------

    async def call(self, timeout: float = 20.0, send_video: bool = True) -> None:
        """A new RTCPeerConnection: offer, wait for the page's answer, apply it."""
        await self.close_peer()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc = pc
        self._dc_open.clear()
        dc = pc.createDataChannel("control", ordered=True)
        self.dc = dc
        dc.on("open", self._dc_open.set)
        dc.on("message", self._on_control)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._sinks.append(asyncio.get_running_loop().create_task(self._drain(track)))

        if send_video:
            pc.addTrack(PatternTrack())
        else:
            pc.addTransceiver("video", direction="recvonly")
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        self._answer = asyncio.get_running_loop().create_future()
        self.offer_sent_at = time.perf_counter()
        self.answer_at = None
        await self.send_ws({"type": "offer", "session_id": self.session_id,
                            "sdp": pc.localDescription.sdp})
        sdp = await asyncio.wait_for(self._answer, timeout)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def wait_connected(self, timeout: float = 20.0) -> None:
        assert self.pc is not None
        deadline = time.monotonic() + timeout
        while self.pc.connectionState != "connected":
            if self.pc.connectionState in ("failed", "closed") or time.monotonic() > deadline:
                raise TestPeerError(f"connection state {self.pc.connectionState}")
            await asyncio.sleep(0.1)
        await asyncio.wait_for(self._dc_open.wait(), max(0.1, deadline - time.monotonic()))

    async def _drain(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    self.video_frames += 1
                    self.last_video_size = (frame.width, frame.height)
                else:
                    self.audio_frames += 1

    def _on_control(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            self._on_chunk(message)
            return
        data = json.loads(message)
        self.control_messages.append(data)
        kind = data.get("type")
        if kind == "stats":
            self.stats.append(data)
        elif kind == "pong":
            pong = self._pongs.pop(int(data.get("t", -1)), None)
            if pong is not None and not pong.done():
                pong.set_result(time.monotonic())
        elif kind == "still_begin":
            self._assemblies[data["id"]] = _Assembly(meta=data)
        elif kind == "still_end":
            self._finish_still(data["id"])
        elif kind == "still_error":
            waiting = self.stills.get(data.get("id", ""))
            if waiting is not None and not waiting.done():
                waiting.set_exception(TestPeerError(f"still_error {data.get('reason')}"))

    def _on_chunk(self, message: bytes) -> None:
        if len(message) < HEADER.size:
            raise TestPeerError("binary message shorter than its header")
        raw_id, index = HEADER.unpack_from(message)
        still_id = str(uuid.UUID(bytes=raw_id))
        asm = self._assemblies.get(still_id)
        if asm is None:
            raise TestPeerError("chunk for an unknown still")
        if len(message) - HEADER.size > 60000:
            raise TestPeerError("chunk payload over 60000 bytes")
        asm.chunks[index] = message[HEADER.size:]

    def _finish_still(self, still_id: str) -> None:
        asm = self._assemblies.pop(still_id, None)
        fut = self.stills.get(still_id)
        if fut is None or fut.done():
            return
        if asm is None:
            fut.set_exception(TestPeerError("still_end without still_begin"))
            return
        n = int(asm.meta["chunks"])
        if sorted(asm.chunks) != list(range(n)):
            fut.set_exception(TestPeerError(f"chunks {len(asm.chunks)} of {n}"))
            return
        data = b"".join(asm.chunks[i] for i in range(n))
        if len(data) != asm.meta["size"]:
            fut.set_exception(TestPeerError("size mismatch"))
            return
        if hashlib.sha256(data).hexdigest() != asm.meta["sha256"]:
            fut.set_exception(TestPeerError("sha256 mismatch"))
            return
        fut.set_result(Still(id=still_id, meta=asm.meta, data=data, chunks_received=n))

    def send_control(self, message: dict[str, Any]) -> None:
        if self.dc is None or self.dc.readyState != "open":
            raise TestPeerError("control channel is not open")
        self.dc.send(json.dumps(message))

    async def request_still(self, step: str = "document_front", timeout: float = 20.0) -> Still:
        still_id = str(uuid.uuid4())
        fut: asyncio.Future[Still] = asyncio.get_running_loop().create_future()
        self.stills[still_id] = fut
        self.send_control({"type": "still_request", "id": still_id, "step": step})
        return await asyncio.wait_for(fut, timeout)

    async def ping(self, timeout: float = 3.0) -> float:
        """Round trip of a ping/pong on the control channel, in ms."""
        t = int(time.time() * 1000)
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pongs[t] = fut
        sent = time.monotonic()
        self.send_control({"type": "ping", "t": t})
        got = await asyncio.wait_for(fut, timeout)
        return (got - sent) * 1000.0

    # --- teardown ----------------------------------------------------------------------

    async def close_peer(self) -> None:
        for task in self._sinks:
            task.cancel()
        self._sinks.clear()
        if self.pc is not None:
            await self.pc.close()
        self.pc = None
        self.dc = None

    async def close(self) -> None:
        await self.close_peer()
        if self.ws is not None:
            await self.ws.close()
        if self._ws_task is not None:
            self._ws_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ws_task
        if self.http is not None:
            await self.http.close()
