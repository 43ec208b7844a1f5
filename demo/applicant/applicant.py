"""The synthetic applicant: a DEMO/TEST peer that behaves like the applicant's browser page on
the real protocol (docs/PROTOCOL.md), with aiortc instead of a browser.

It opens `/ws/applicant/{join_token}`, sends `device_check` and `consent`, waits in the queue,
answers the console's offer (a new peer connection for every offer), streams the scene of
`scene.py` with the frame stamp and a generated audio track, and on the `control` data
channel answers `ping`, `still_request` (lossless PNG at full resolution, chunked),
`instruction` (scene changes, raised hand) and sends `stats` every 2 s. When an OTP SMS for its
mobile number appears in the desk's demo outbox it "reads it aloud" as an `utterance`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from demo.applicant.scene import (
    CHALLENGE_GESTURES,
    NOD,
    SCRIPT,
    Gesture,
    SceneRenderer,
    Step,
    gesture_for,
    step_for,
)
from demo.applicant.tracks import (
    ClipVideoTrack,
    SceneState,
    SyntheticAudioTrack,
    SyntheticVideoTrack,
)
from media.challenge import ChallengeMessageError, parse_challenge_message
from media.net import IceServerSpec, http_url, parse_json_message, rtc_configuration, ws_url
from media.stills import split_still

logger = logging.getLogger(__name__)

DEMO_MOBILE = "+393331234567"
OTP_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
OTP_INSTRUCTIONS = ("read_otp", "say_otp", "otp")
# test-only instruction codes: make the next still fail on purpose (the console must cope)
TEST_CORRUPT_STILL = "test:corrupt_next_still"
TEST_IGNORE_STILL = "test:ignore_next_still"
TEST_GARBAGE = "test:send_garbage"  # malformed control messages of every kind
TEST_FREEZE = "test:freeze_media"  # media and control go silent, the desk socket stays up
CLOSE_TIMEOUT_S = 3.0  # each closing step of a shutdown is bounded
TEST_BLIP = "test:drop_link"  # like freeze, but only until the operator offers a new connection


@dataclass
class ApplicantConfig:
    desk_url: str
    join_token: str
    width: int = 1280
    height: int = 720
    fps: int = 30
    audio: str = "speech"  # speech | tone | silence
    flash_period: float = 4.0  # seconds between white flash + beep; 0 disables
    flash_duration: float = 0.1
    stamp: bool = True
    motion: bool = True
    script: str = "follow"  # follow (operator's requests drive the scene) | auto (cycle)
    auto_step_s: float = 6.0
    mobile: str = DEMO_MOBILE
    otp_delay_s: float = 1.0
    poll_otp: bool = True
    stats_interval_s: float = 2.0
    ice_servers: list[IceServerSpec] = field(default_factory=list)
    language: str = "it"
    # liveness challenges: answered live with the asked head pose after a human reaction time
    answer_challenges: bool = True
    reaction_s: tuple[float, float] = (0.45, 0.9)
    # a video (y4m, mp4...) or picture file played as the camera instead of the live scene: a
    # replayed clip or a photo cannot answer challenges (liveness tests, bench_attacks)
    camera_clip: str | None = None


class SyntheticApplicant:
    """One synthetic applicant. `await run()` until the call ends, or use `ApplicantThread`."""

    def __init__(
        self, config: ApplicantConfig, on_event: Callable[[str, dict[str, Any]], None] | None = None
    ) -> None:
        self.config = config
        self.renderer = SceneRenderer(config.width, config.height)
        self.state = SceneState(
            flash_period=config.flash_period,
            flash_duration=config.flash_duration,
            stamp=config.stamp,
            motion=config.motion,
        )
        self._on_event = on_event
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._session: aiohttp.ClientSession | None = None
        self._pc: RTCPeerConnection | None = None
        self._blip = False
        self._channel: RTCDataChannel | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pc_tasks: set[asyncio.Task[Any]] = set()
        self._still_lock = asyncio.Lock()
        self._otp_seen: set[str] = set()
        self._otp_baseline_done = False
        self._sabotage: str | None = None
        self._gesture_task: asyncio.Task[Any] | None = None
        self.end_reason = ""
        self.stills_sent = 0
        self.pongs_sent = 0
        self.utterances_sent = 0
        self.challenges_received = 0

    # --- helpers -------------------------------------------------------------------------
    def _event(self, name: str, **data: Any) -> None:
        if self._on_event is not None:
            try:
                self._on_event(name, data)
            except Exception:
                logger.exception("applicant event callback failed")

    def _spawn(self, coro: Any, pc_bound: bool = False) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        bucket = self._pc_tasks if pc_bound else self._tasks
        bucket.add(task)
        task.add_done_callback(bucket.discard)
        return task

    async def _send_ws(self, msg: dict[str, Any]) -> None:
        if self._ws is not None and not self._ws.closed:
            try:
                await self._ws.send_str(json.dumps(msg))
            except (ConnectionError, aiohttp.ClientError, RuntimeError):
                logger.info("desk socket closing: %s not sent", msg.get("type"))

    def _send_dc(self, msg: dict[str, Any], channel: RTCDataChannel | None = None) -> bool:
        ch = channel or self._channel
        if ch is None or ch.readyState != "open":
            return False
        try:
            ch.send(json.dumps(msg))
        except Exception as exc:  # closing under our feet
            logger.info("control channel closing: %s", type(exc).__name__)
            return False
        return True

    # --- main ----------------------------------------------------------------------------
    async def run(self) -> str:
        """Join, serve the call(s), return why it ended: ended | ws_closed | auth | cancelled."""
        await asyncio.get_running_loop().run_in_executor(None, self._prepare)
        url = ws_url(self.config.desk_url, f"/ws/applicant/{self.config.join_token}")
        logger.info("synthetic applicant (DEMO/TEST PEER) joining %s", ws_url(
            self.config.desk_url, "/ws/applicant/<token>"))
        self._session = aiohttp.ClientSession()
        try:
            try:
                # like a browser on the join page: the service refuses an applicant socket
                # without the Origin of its public URL
                self._ws = await self._session.ws_connect(
                    url, heartbeat=None, max_msg_size=0,
                    origin=http_url(self.config.desk_url, "").rstrip("/"))
            except aiohttp.WSServerHandshakeError as exc:
                self.end_reason = "auth" if exc.status in (401, 403, 404) else "ws_refused"
                logger.warning("desk refused the applicant socket (HTTP %s)", exc.status)
                return self.end_reason
            except aiohttp.ClientError as exc:
                self.end_reason = "ws_unreachable"
                logger.warning("desk unreachable: %s", type(exc).__name__)
                return self.end_reason
            await self._send_ws({
                "type": "device_check",
                "ok": True,
                "details": {
                    "synthetic": True,
                    "camera": f"synthetic {self.config.width}x{self.config.height}",
                    "microphone": f"synthetic {self.config.audio}",
                },
            })
            await self._send_ws({"type": "consent", "recording": True, "terms": True})
            self._event("joined")
            if self.config.script == "auto":
                self._spawn(self._auto_script())
            if self.config.poll_otp:
                self._spawn(self._otp_loop())
            self.end_reason = await self._ws_loop()
            return self.end_reason
        except asyncio.CancelledError:
            self.end_reason = "cancelled"
            with contextlib.suppress(Exception):
                await asyncio.shield(self._send_ws({"type": "hangup"}))
            raise
        finally:
            await self._shutdown()

    def _prepare(self) -> None:
        self.renderer.prepare()
        if self.config.answer_challenges and self.config.camera_clip is None:
            for gesture in CHALLENGE_GESTURES.values():  # no stall when a challenge comes
                self.renderer.i420(Step.FACE, gesture)

    async def _ws_loop(self) -> str:
        assert self._ws is not None
        async for raw in self._ws:
            if raw.type != aiohttp.WSMsgType.TEXT:
                if raw.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                    break
                continue
            msg = parse_json_message(raw.data)
            if msg is None:
                logger.warning("malformed message from the desk ignored")
                continue
            kind = msg["type"]
            if kind == "offer":
                sdp = msg.get("sdp")
                if isinstance(sdp, str):
                    await self._answer(sdp)
                else:
                    logger.warning("offer without sdp ignored")
            elif kind == "peer_left":
                logger.info("operator left")
                self._event("peer_left")
                await self._close_pc()
            elif kind == "ended":
                self._event("ended", state=msg.get("state"))
                return "ended"
            elif kind in ("welcome", "queue", "operator_assigned"):
                self._event(kind, **{k: v for k, v in msg.items() if k in ("position", "state")})
            else:
                logger.debug("desk message %s ignored", kind)
        code = self._ws.close_code
        logger.info("desk socket closed (code %s)", code)
        return "auth" if code == 4401 else "ws_closed"

    async def _answer(self, sdp: str) -> None:
        await self._close_pc()
        if self._blip:  # the network blip is over: the new connection works
            self._blip = False
            self.state.frozen = False
        pc = RTCPeerConnection(rtc_configuration(self.config.ice_servers))
        self._pc = pc

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label != "control":
                return
            self._channel = channel

            @channel.on("message")
            def on_message(message: str | bytes) -> None:
                self._on_dc_message(channel, message)

            self._event("channel_open")

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._spawn(self._drain(track), pc_bound=True)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            logger.info("peer connection %s", pc.connectionState)
            self._event("connection", state=pc.connectionState)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            pc.addTrack(SyntheticAudioTrack(self.state, self.config.audio))
            if self.config.camera_clip:
                pc.addTrack(ClipVideoTrack(self.config.camera_clip, self.config.width,
                                           self.config.height, self.state, self.config.fps))
            else:
                pc.addTrack(SyntheticVideoTrack(self.renderer, self.state, self.config.fps))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # a bad offer must not kill the applicant
            logger.warning("cannot answer the offer: %s", type(exc).__name__)
            await self._close_pc()
            return
        await self._send_ws({"type": "answer", "sdp": pc.localDescription.sdp})
        self._spawn(self._stats_loop(pc), pc_bound=True)
        self._event("answered")

    async def _drain(self, track: MediaStreamTrack) -> None:
        """The operator's media is not shown: drain it so aiortc's queue never grows."""
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()

    async def _close_pc(self) -> None:
        for task in list(self._pc_tasks):
            task.cancel()
        self._pc_tasks.clear()
        self._channel = None
        pc, self._pc = self._pc, None
        if pc is not None:
            # aiortc's close() can wait forever on a transport that is already half gone
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pc.close(), CLOSE_TIMEOUT_S)

    async def _shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self._close_pc()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), CLOSE_TIMEOUT_S)
        if self._session is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._session.close(), CLOSE_TIMEOUT_S)

    # --- data channel --------------------------------------------------------------------
    def _on_dc_message(self, channel: RTCDataChannel, message: str | bytes) -> None:
        if not isinstance(message, str):
            logger.warning("unexpected binary message on the control channel ignored")
            return
        if self.state.frozen:
            return
        msg = parse_json_message(message)
        if msg is None:
            logger.warning("malformed control message ignored")
            return
        kind = msg["type"]
        if kind == "ping":
            if self._send_dc({"type": "pong", "t": msg.get("t")}, channel):
                self.pongs_sent += 1
        elif kind == "still_request":
            still_id = msg.get("id")
            step = msg.get("step")
            self._spawn(self._send_still(channel, still_id, step if isinstance(step, str) else ""),
                        pc_bound=True)
        elif kind == "instruction":
            code = msg.get("code")
            if isinstance(code, str):
                self._follow(code)
        elif kind == "challenge":
            self._challenge(channel, msg)
        else:
            logger.debug("control message %s ignored", kind)

    def _follow(self, code: str) -> None:
        if code == TEST_GARBAGE:
            self._send_garbage()
            return
        if code in (TEST_FREEZE, TEST_BLIP):
            logger.info("test: media and control frozen on purpose")
            self.state.frozen = True
            self._blip = code == TEST_BLIP
            return
        if code in (TEST_CORRUPT_STILL, TEST_IGNORE_STILL):
            self._sabotage = code
            return
        step = step_for(code)
        if step is not None:
            self.state.step = step
        gesture = gesture_for(code)
        if gesture is not None:
            self._gesture_task = self._spawn(
                self._perform(gesture, nod=code.strip().lower() == NOD))
        if code.strip().lower() in OTP_INSTRUCTIONS:
            self._spawn(self._poll_outbox_once())
        self._event("instruction", code=code)

    def _challenge(self, channel: RTCDataChannel, msg: dict[str, Any]) -> None:
        """A liveness challenge: acknowledged like the page does, then answered (after a human
        reaction time) with the asked head pose during its window."""
        try:
            ch = parse_challenge_message(msg)
        except ChallengeMessageError as exc:
            logger.warning("invalid challenge message: %s", exc)
            cid = msg.get("id")
            self._send_dc({"type": "challenge_error", "id": cid if isinstance(cid, str) else None,
                           "reason": exc.reason}, channel)
            return
        self._send_dc({"type": "challenge_ack", "id": ch["id"]}, channel)
        self.challenges_received += 1
        self._event("challenge", code=ch["code"], seconds=ch["seconds"])
        if self.config.answer_challenges and self.config.camera_clip is None:
            self._gesture_task = self._spawn(self._answer_challenge(ch["code"], ch["seconds"]),
                                             pc_bound=True)

    async def _answer_challenge(self, code: str, seconds: float) -> None:
        gesture = CHALLENGE_GESTURES[code]
        self.state.step = Step.FACE
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.renderer.i420, Step.FACE, gesture)
        await asyncio.sleep(secrets.SystemRandom().uniform(*self.config.reaction_s))
        if gesture is Gesture.BLINK:  # two deliberate blinks
            for _ in range(2):
                self.state.perform(gesture, 0.35)
                await asyncio.sleep(0.7)
            return
        self.state.perform(gesture, min(2.0, max(0.8, seconds * 0.5)))

    def _send_garbage(self) -> None:
        ch = self._channel
        if ch is None or ch.readyState != "open":
            return
        logger.info("test: sending malformed control messages on purpose")
        for text in ("{not json", "[1, 2, 3]", '{"type": 42}', '"just a string"',
                     '{"type": "still_begin", "id": "00000000-0000-0000-0000-000000000000"}',
                     '{"type": "still_end", "id": 7}', '{"type": "pong"}'):
            ch.send(text)
        ch.send(b"\x00" * 10)
        ch.send(uuid.uuid4().bytes + b"\x00\x00\x00\x00payload")

    async def _perform(self, gesture: Gesture, nod: bool) -> None:
        """Compose the gesture's picture off the loop first, then show it."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.renderer.i420, self.state.step, gesture)
        self.state.perform(gesture, nod=nod)

    async def _send_still(self, channel: RTCDataChannel, still_id: Any, step: str) -> None:
        try:
            uuid.UUID(str(still_id))
        except ValueError:
            logger.warning("still_request with a bad id ignored")
            return
        sabotage, self._sabotage = self._sabotage, None
        if sabotage == TEST_IGNORE_STILL:
            logger.info("test: still request ignored on purpose")
            return
        async with self._still_lock:
            pending = self._gesture_task
            if pending is not None and not pending.done():
                await asyncio.wait([pending], timeout=5)  # asked for a gesture, then a photo
            wanted = step_for(step)
            if wanted is not None and wanted is not self.state.step:
                # the person shows what is asked, then the photo is taken
                self.state.step = wanted
                await asyncio.sleep(0.3)
            scene_step, hand = self.state.step, self.state.current_gesture(time.time())
            loop = asyncio.get_running_loop()
            try:
                data = await loop.run_in_executor(None, self.renderer.png, scene_step, hand)
            except Exception:
                logger.exception("still rendering failed")
                self._send_dc({"type": "still_error", "id": still_id, "reason": "capture_failed"},
                              channel)
                return
            begin, chunks, end = split_still(
                str(still_id), data, "image/png", self.renderer.width, self.renderer.height
            )
            if sabotage == TEST_CORRUPT_STILL:
                logger.info("test: still sent with a wrong sha256 on purpose")
                begin["sha256"] = "0" * 64
            if not self._send_dc(begin, channel):
                return
            for chunk in chunks:
                while channel.bufferedAmount > 64 * 1024:  # small bursts: no UDP overflow
                    await asyncio.sleep(0.01)
                if channel.readyState != "open":
                    return
                channel.send(chunk)
            if not self._send_dc(end, channel):
                return
            self.stills_sent += 1
            self._event("still_sent", step=step, size=len(data))

    async def _stats_loop(self, pc: RTCPeerConnection) -> None:
        while True:
            await asyncio.sleep(self.config.stats_interval_s)
            rtt_ms: float | None = None
            bytes_sent = 0
            try:
                report = await pc.getStats()
            except Exception as exc:
                logger.debug("getStats failed: %s", type(exc).__name__)
                continue
            for s in report.values():
                if s.type == "remote-inbound-rtp" and s.kind == "video" and s.roundTripTime:
                    rtt_ms = round(s.roundTripTime * 1000, 1)
                elif s.type == "outbound-rtp":
                    bytes_sent += int(s.bytesSent)
            if self.state.frozen:
                continue
            fps = self.state.measured_fps()
            limitation = "cpu" if 0 < fps < 0.8 * self.config.fps else "none"
            self._send_dc({
                "type": "stats",
                "width": self.config.width,
                "height": self.config.height,
                "fps": round(fps, 1),
                "rtt_ms": rtt_ms,
                "quality_limitation": limitation,
                "bytes_sent": bytes_sent,
            })

    async def _auto_script(self) -> None:
        i = 0
        while True:
            await asyncio.sleep(self.config.auto_step_s)
            i = (i + 1) % len(SCRIPT)
            self.state.step = SCRIPT[i]

    # --- OTP -------------------------------------------------------------------------------
    async def _otp_loop(self) -> None:
        while True:
            more = await self._poll_outbox_once()
            if not more:
                return
            await asyncio.sleep(1.0)

    async def _poll_outbox_once(self) -> bool:
        """Read the demo SMS outbox; say aloud any new OTP. False: the outbox is not there."""
        if self._session is None:
            return False
        url = http_url(self.config.desk_url, "/api/v1/dev/outbox/sms")
        try:
            async with self._session.get(url, params={"mobile": self.config.mobile},
                                         timeout=aiohttp.ClientTimeout(total=5)) as resp:
                if resp.status == 404:
                    logger.info("no demo SMS outbox on this desk: OTP read-back disabled")
                    return False
                if resp.status != 200:
                    return True
                body = await resp.json()
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return True
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list):
            return True
        fresh: list[str] = []
        for m in messages:
            if not isinstance(m, dict):
                continue
            key = f"{m.get('sent_at')}|{m.get('body')}"
            if key in self._otp_seen:
                continue
            self._otp_seen.add(key)
            text = m.get("body")
            if isinstance(text, str) and self._otp_baseline_done:
                found = OTP_RE.search(text)
                if found:
                    fresh.append(found.group(1))
        self._otp_baseline_done = True  # messages present before the call are not ours
        if fresh:
            await asyncio.sleep(self.config.otp_delay_s)
            if self._send_dc({"type": "utterance", "text": fresh[-1]}):
                self.utterances_sent += 1
                logger.info("read the OTP aloud (utterance sent)")
                self._event("utterance")
            else:
                # not in a call yet: forget it so it is said once the channel opens
                for m in messages:
                    if isinstance(m, dict) and OTP_RE.search(str(m.get("body"))):
                        self._otp_seen.discard(f"{m.get('sent_at')}|{m.get('body')}")
        return True


class ApplicantThread:
    """Runs a SyntheticApplicant in its own thread and event loop (for tests and demos)."""

    def __init__(
        self, config: ApplicantConfig, on_event: Callable[[str, dict[str, Any]], None] | None = None
    ) -> None:
        self.applicant = SyntheticApplicant(config, on_event)
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[str] | None = None
        self._ready = threading.Event()
        self.done = threading.Event()
        self.result = ""
        self._thread = threading.Thread(target=self._main, name="synthetic-applicant", daemon=True)

    def start(self) -> ApplicantThread:
        self._thread.start()
        self._ready.wait(5)
        return self

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._task = self._loop.create_task(self.applicant.run())
            self._ready.set()
            try:
                self.result = self._loop.run_until_complete(self._task)
            except asyncio.CancelledError:
                self.result = "cancelled"
            except Exception:
                logger.exception("synthetic applicant crashed")
                self.result = "error"
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
        finally:
            self._loop.close()
            self.done.set()

    def call(self, fn: Callable[[], Any]) -> None:
        """Run `fn` on the applicant's loop (e.g. to change the scene)."""
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn)

    def stop(self, timeout: float = 10.0) -> None:
        # cancel again every half second: a cancellation delivered while aiortc closes a
        # transport can be swallowed there (see demo.applicant.__main__)
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            task = self._task
            if task is not None and not self._loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(task.cancel)
            self._thread.join(min(0.5, max(0.0, deadline - time.monotonic())))

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()
