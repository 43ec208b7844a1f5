"""The console's media engine: one asyncio loop in its own named thread (like Electrum's
network thread) that owns signalling, peer connections, tracks and the data channel.

Every public method may be called from any thread (the GUI's); those that wait for something
return a `concurrent.futures.Future`. Results come back through the `EngineListener`'s plain
callbacks, called on the engine thread (the UI re-emits them as Qt signals). Video frames go
through a "latest frame" slot that is overwritten, never queued.

Call flow (docs/PROTOCOL.md): start_call opens /ws/operator (Bearer); the desk sends
`applicant_joined` when the applicant is there; the engine creates a new RTCPeerConnection
(iceServers always explicit), the `control` data channel and its tracks, sends the offer and
applies the answer. A heartbeat ping every second on the data channel; no pong for 3 s, ICE
failure or `peer_left` = link lost. When `applicant_joined` comes again, a NEW peer connection
is made and a new offer sent (aiortc has no ICE restart).

Outages: the operator socket has its own heartbeat (a dead network is noticed within
``ws_heartbeat_s`` × 1.5) and is reopened whenever it drops, with capped exponential backoff and
jitter (media.backoff: 0.5 s doubling to 15 s, ±20 %) and no attempt limit, for as long as the
call is open. It stops only when the call ends or the desk refuses the sign-in (4401 / HTTP 401
three times in a row, or the token provider raises PermissionError: signed out, expired). The
desk re-announces the applicant (`applicant_joined`) when our socket is back: a new offer follows
if the media path died meanwhile. Every outage is reported as `LinkEvent`s (on_link and the link
listeners): RECONNECTING with the time it started, then CONNECTED (or REVOKED / ENDED) with the
time it ended, so that the UI shows it and the recording marks the gap.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import aiohttp
import av
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media import framestamp, jitter
from media.api import (
    MEDIA_KINDS,
    AudioSink,
    CallState,
    CameraInfo,
    EngineErrorCode,
    EngineListener,
    FrameCheck,
    LinkEvent,
    LinkListener,
    LinkPhase,
    MediaSink,
    NullListener,
    PcmChunk,
    QualityLevel,
    QualityReport,
    RemoteFrame,
)
from media.backoff import Backoff
from media.challenge import challenge_message
from media.encoded import ENCODED_KIND, VideoTap
from media.frame_signals import ClockGrid, RepeatDetector, luma_sample, thumbnail
from media.frame_signals import digest as frame_digest
from media.local import LocalMedia
from media.net import IceServerSpec, parse_json_message, rtc_configuration, ws_url
from media.quality import QualityMeter
from media.stills import Still, StillAssembler, StillError, StillErrorCode, chunk_id

logger = logging.getLogger(__name__)

T = TypeVar("T")

HEARTBEAT_INTERVAL_S = 1.0
HEARTBEAT_TIMEOUT_S = 3.0
QUALITY_INTERVAL_S = 1.0
CONNECT_TIMEOUT_S = 20.0
OFFER_FALLBACK_S = 1.5  # offer anyway if the desk did not say applicant_joined by then
# after a link loss with the applicant still connected to the desk (no peer_left), offer again
# by ourselves: the page or peer may never rejoin, since its signalling socket never dropped
REOFFER_AFTER_LOSS_S = 1.0
STILL_TIMEOUT_S = 15.0
# the operator socket: our own ping after 4 s without a message, closed when its pong is 2 s late
# (the desk pings every 2 s, so a live socket never needs ours); a handshake waits 10 s at most
WS_HEARTBEAT_S = 4.0
WS_CONNECT_TIMEOUT_S = 10.0
# a socket that stayed open this long was a real connection: the backoff starts over after it
WS_STABLE_S = 10.0
# the desk refused our token this many times in a row (4401 / HTTP 401, each time with a token
# the provider just refreshed): the sign-in is gone, reconnecting again would loop for ever
MAX_TOKEN_REFUSALS = 3
CLOSE_UNAUTHORIZED = 4401
CLOSE_INVALID = 4400
#: ``token_provider(refused)`` → an access token for the operator socket; called on a worker
#: thread before each reconnection, ``refused`` True when the desk refused the last one (refresh
#: it). Raise PermissionError when the sign-in is revoked or expired (no more attempts); any other
#: exception is transient (desk unreachable): retried with the backoff.
TokenProvider = Callable[[bool], str]
# aiortc's audio jitter buffer releases a 20 ms frame when 4 more have arrived (80 ms), while
# a video frame leaves the marker-bit buffer as soon as it is complete and spends ~20 ms in
# encode + decode: received audio reaches the sinks ~60 ms late relative to its video
# (measured by bench_latency's flash/beep probe). The sinks get it back-dated by that much so a
# recorder placing frames by timestamp keeps lip-sync.
AUDIO_SINK_OFFSET_S = 0.060
# frame checks (injection signals, media.frame_signals): a digest and a thumbnail of the luma
# plane downscaled 8x (about 0.2 ms at 720p with the repeat search), at most this often; every
# frame's RTP timestamp goes to the clock check; reported to the listener about once a second
FRAME_CHECK_INTERVAL_S = 0.25
FRAME_CHECK_REPORT_S = 1.0
# the page's `camera` message: sent on open and on a change; more than this per peer is ignored
MAX_CAMERA_MESSAGES = 32
CAMERA_TEXT_MAX = 128
#: The mode asked of the operator's own camera (a V4L2 driver gives its nearest). The applicant
#: sees the operator in a corner of the page and the evidence keeps the operator at 640x360
#: (media.recorder.DEFAULT_VIDEO_SIZES): 1280x720 at 30 fps cost 0.29 core of VP8 encoding on
#: the 2-core workstation for pixels nobody sees; 640x360 at 15 fps costs about 0.09
#: (bench.bench_console_cpu, README, Performance).
OPERATOR_CAMERA_SIZE = (640, 360)
OPERATOR_CAMERA_FPS = 15
#: The most the operator's camera is sent at. aiortc's encoder follows the applicant browser's
#: bandwidth estimate up to 1.5 Mbps (VP8), and at 640x360 15 fps that bought nothing visible
#: but cost encoding time: 5.3 ms a frame at ~1.4 Mbps against 3.7 ms at 600 kbps, and the
#: whole console 0.40 -> 0.37 core (bench.bench_console_cpu, README, Performance).
OPERATOR_VIDEO_MAX_KBPS = 600
CAMERA_SIZE_MAX = 16384
CAMERA_FPS_MAX = 1000.0
CAMERA_ASPECT_MAX = 100.0


def cap_send_bitrate(kbps: int) -> None:
    """Cap the video bitrate aiortc's encoders follow the receiver's estimate up to.

    aiortc reads the cap from its codec modules' ``MAX_BITRATE`` each time the estimate
    changes, so this holds for every video sent from this process (one media engine: the
    operator's camera); never below a codec's own minimum."""
    from aiortc.codecs import h264, vpx

    for module in (vpx, h264):
        floor = int(getattr(module, "MIN_BITRATE", 0))
        if hasattr(module, "MAX_BITRATE"):
            setattr(module, "MAX_BITRATE", max(floor, kbps * 1000))  # noqa: B010


class _TokenRefused(ConnectionError):
    """The desk refused the access token at the handshake (HTTP 401/403)."""


class _Peer:
    """One RTCPeerConnection generation and what hangs off it."""

    def __init__(self, pc: RTCPeerConnection, channel: RTCDataChannel, generation: int) -> None:
        self.pc = pc
        self.channel = channel
        self.generation = generation
        self.tasks: set[asyncio.Task[Any]] = set()
        self.offered_at = time.monotonic()
        self.answered = False
        self.open = False
        self.last_pong = 0.0  # last control message of any kind (pongs included)
        self.last_media = 0.0  # last decoded frame (audio comes every 20 ms)
        self.lost = False
        self.bad_messages = 0
        self.camera_messages = 0
        # frame checks (loop only)
        self.check_at = 0.0  # monotonic time of the last digest
        self.check_reported = 0.0
        self.check_digest: int | None = None
        self.identical_since: float | None = None
        self.check_samples = 0
        self.clock = ClockGrid()
        self.repeats = RepeatDetector(FRAME_CHECK_INTERVAL_S)


class MediaEngine:
    """See the module docstring. Construct, `start()`, use, `stop()`."""

    def __init__(
        self,
        listener: EngineListener | None = None,
        *,
        camera: str | None = "auto",
        camera_format: str | None = None,
        camera_size: tuple[int, int] = OPERATOR_CAMERA_SIZE,
        camera_fps: int = OPERATOR_CAMERA_FPS,
        microphone: str | None = "auto",
        microphone_format: str | None = None,
        audio_channels: int = 1,
        heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S,
        heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S,
        quality_interval_s: float = QUALITY_INTERVAL_S,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        low_latency: bool = True,
        audio_sink_offset_s: float = AUDIO_SINK_OFFSET_S,
        backoff: Backoff | None = None,
        ws_heartbeat_s: float = WS_HEARTBEAT_S,
        ws_connect_timeout_s: float = WS_CONNECT_TIMEOUT_S,
        send_max_kbps: int = OPERATOR_VIDEO_MAX_KBPS,
    ) -> None:
        if audio_channels not in (1, 2):
            raise ValueError("audio_channels must be 1 or 2")
        cap_send_bitrate(send_max_kbps)
        self._listener: EngineListener = listener or NullListener()
        self._camera = camera
        self._camera_format = camera_format
        self._camera_size = camera_size
        self._camera_fps = camera_fps
        self._microphone = microphone
        self._microphone_format = microphone_format
        self._audio_channels = audio_channels
        self._hb_interval = heartbeat_interval_s
        self._hb_timeout = heartbeat_timeout_s
        self._quality_interval = quality_interval_s
        self._connect_timeout = connect_timeout_s
        self._low_latency = low_latency  # release video frames on the RTP marker bit
        self._audio_offset = audio_sink_offset_s
        self._backoff = backoff or Backoff()
        self._ws_heartbeat = ws_heartbeat_s
        self._ws_connect_timeout = ws_connect_timeout_s

        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._lock = threading.Lock()

        # state shared with other threads (read under the lock or atomically)
        self._latest: RemoteFrame | None = None
        self._latest_local: av.VideoFrame | None = None
        self._frame_seq = 0
        self._frames_dropped = 0
        self._audio_sink: AudioSink | None = None
        self._media_sinks: tuple[MediaSink, ...] = ()
        self._link_listeners: tuple[LinkListener, ...] = ()
        self._outage: LinkEvent | None = None  # the open outage (phase RECONNECTING)
        self._mic_muted = False
        self._camera_enabled = True
        self._state = CallState.IDLE
        self._quality: QualityReport | None = None

        # loop-only state
        self._local: LocalMedia | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ws_opened_at = 0.0
        self._call_task: asyncio.Task[None] | None = None
        self._call: dict[str, Any] | None = None  # base_url, token, session_id, ice
        self._peer: _Peer | None = None
        self._generation = 0
        self._ever_connected = False
        self._rejoin_pending = False
        self._applicant_left = False
        self._ending = False
        self._stills: dict[str, tuple[StillAssembler, asyncio.Future[Still]]] = {}
        # stills whose still_end came: being checked and decoded on a worker thread
        self._finishing: dict[str, tuple[StillAssembler, asyncio.Future[Still]]] = {}
        self._meter = QualityMeter()
        self._bg: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ thread & loop --
    def start(self) -> None:
        """Start the engine thread and its loop (returns when the loop runs)."""
        if self._thread is not None:
            raise RuntimeError("engine already started")
        self._thread = threading.Thread(target=self._main, name="media-engine", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("media engine loop did not start")

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.call_soon(self._started.set)
        try:
            loop.run_forever()
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for t in pending:
                    t.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()
                logger.info("media engine loop closed")

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        loop = self._loop
        if loop is None or loop.is_closed() or not loop.is_running():
            coro.close()
            fut: concurrent.futures.Future[T] = concurrent.futures.Future()
            fut.set_exception(RuntimeError("media engine is not running"))
            return fut
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def stop(self, timeout: float = 10.0) -> None:
        """Close peer connections and signalling, stop the loop, join the thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if threading.current_thread() is thread:
            raise RuntimeError("stop() called from the engine thread (a listener callback)")
        if loop.is_running():
            fut = self._submit(self._shutdown())
            try:
                fut.result(timeout)
            except Exception:
                logger.warning("media engine shutdown was not clean", exc_info=True)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            logger.error("media engine thread did not stop within %.1f s", timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def _shutdown(self) -> None:
        await self._end_call(send_hangup=True, final_state=None)
        if self._local is not None:
            await self._local.close()
            self._local = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        for t in list(self._bg):
            t.cancel()

    # ------------------------------------------------------------------ public API -----
    def start_call(
        self,
        desk_base_url: str,
        access_token: str,
        session_id: str,
        ice_servers: Sequence[IceServerSpec] = (),
        verify: bool | str = True,
        token_provider: TokenProvider | None = None,
    ) -> concurrent.futures.Future[None]:
        """Connect the operator socket and set up the call; the future completes once the
        socket is open (the call itself then reports through on_call_state).

        ice_servers: [] on loopback/LAN, else e.g. [{"urls": "turn:...", "username": ..,
        "credential": ..}] (aiortc uses the first STUN and the first TURN URL only).
        verify: TLS certificate check for https desks (False, or a CA bundle path).
        token_provider: a fresh access token for each reconnection (see TokenProvider; e.g.
        ``DeskClient.socket_token``); without it the socket is reopened with ``access_token``
        or the one given to ``update_access_token``.
        """
        return self._submit(
            self._start_call(desk_base_url, access_token, session_id, list(ice_servers), verify,
                             token_provider)
        )

    def set_listener(self, listener: EngineListener | None) -> None:
        """Replace the listener (e.g. when the UI creates it after the engine)."""
        self._listener = listener or NullListener()

    def configure_devices(
        self,
        camera: str | None = "auto",
        microphone: str | None = "auto",
        camera_format: str | None = None,
        microphone_format: str | None = None,
    ) -> concurrent.futures.Future[None]:
        """Choose the devices (settings); they are (re)opened when the next call starts."""
        return self._submit(self._configure(camera, microphone, camera_format, microphone_format))

    async def _configure(self, camera: str | None, microphone: str | None,
                         camera_format: str | None, microphone_format: str | None) -> None:
        self._camera, self._microphone = camera, microphone
        self._camera_format, self._microphone_format = camera_format, microphone_format
        if self._local is not None and self._call is None:
            await self._local.close()
            self._local = None

    def update_access_token(self, access_token: str) -> None:
        """A refreshed access token, used when the operator socket has to be reopened."""
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._set_token, access_token)

    def _set_token(self, token: str) -> None:
        if self._call is not None:
            self._call["token"] = token

    def hang_up(self) -> concurrent.futures.Future[None]:
        return self._submit(self._end_call(send_hangup=True, final_state=CallState.ENDED))

    def request_still(
        self, step: str, timeout: float = STILL_TIMEOUT_S
    ) -> concurrent.futures.Future[Still]:
        """Ask the applicant's page for a full-resolution still; fails with StillError."""
        return self._submit(self._request_still(step, timeout))

    def send_instruction(self, code: str) -> concurrent.futures.Future[None]:
        return self._submit(self._send_control({"type": "instruction", "code": code}))

    def send_challenge(self, code: str, seconds: float, challenge_id: str | None = None,
                       index: int = 1, count: int = 1) -> concurrent.futures.Future[str]:
        """Show a liveness challenge to the applicant (media.challenge; docs/PROTOCOL.md) with a
        countdown of `seconds`. Raises ChallengeMessageError (a ValueError, at once, in the
        caller's thread) for an invalid one; the future gives the challenge's id once sent, or
        fails with StillError(NOT_CONNECTED). The page answers `challenge_ack` / `challenge_error`
        (through the listener's on_message)."""
        msg = challenge_message(code, seconds, challenge_id, index, count)

        async def send() -> str:
            await self._send_control(msg)
            return str(msg["id"])

        return self._submit(send())

    def set_mic_muted(self, muted: bool) -> None:
        self._mic_muted = bool(muted)

    def set_camera_enabled(self, enabled: bool) -> None:
        self._camera_enabled = bool(enabled)

    @property
    def mic_muted(self) -> bool:
        return self._mic_muted

    @property
    def camera_enabled(self) -> bool:
        return self._camera_enabled

    def latest_remote_frame(self) -> RemoteFrame | None:
        """The applicant's most recent decoded frame (yuv420p) with its stamp, or None."""
        return self._latest

    def latest_local_frame(self) -> av.VideoFrame | None:
        """The operator's own latest video frame as sent (for the self view), yuv420p."""
        frame = self._latest_local
        if frame is not None and frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        return frame

    @property
    def frames_received(self) -> int:
        return self._frame_seq

    @property
    def frames_dropped(self) -> int:
        """Frames skipped because a newer one was already decoded (the UI never saw them)."""
        return self._frames_dropped

    @property
    def peer_generation(self) -> int:
        """How many peer connections this engine has created (a reconnection adds one)."""
        return self._generation

    @property
    def call_state(self) -> CallState:
        return self._state

    @property
    def last_quality(self) -> QualityReport | None:
        return self._quality

    def set_audio_sink(self, sink: AudioSink | None) -> None:
        """`sink(PcmChunk)` gets the applicant's audio as s16 48 kHz (mono or stereo, as set
        in the constructor), called on the engine thread: enqueue, do not block."""
        self._audio_sink = sink

    def add_link_listener(self, listener: LinkListener) -> None:
        """`listener(LinkEvent)` for every outage of the call's connection (started, each
        reconnection attempt, ended); called on the engine thread: keep it short."""
        with self._lock:
            self._link_listeners = (*self._link_listeners, listener)

    def remove_link_listener(self, listener: LinkListener) -> None:
        with self._lock:
            self._link_listeners = tuple(x for x in self._link_listeners if x is not listener)

    @property
    def outage(self) -> LinkEvent | None:
        """The outage going on now (phase RECONNECTING, with its start), or None."""
        return self._outage

    def add_media_sink(self, sink: MediaSink) -> None:
        """`sink(kind, frame, monotonic_ts)` for every frame received and sent; kind is one of
        applicant_video, operator_video, applicant_audio, operator_audio. Must only enqueue.
        `monotonic_ts` is time.monotonic() when the frame left the decoder (received) or went
        to the encoder (sent); received audio is back-dated by `audio_sink_offset_s` (60 ms:
        aiortc's audio jitter buffer) so that audio and video share one timeline.
        A sink whose ``wants_encoded_video`` is true also gets the applicant's VP8 frames as
        received, before decoding (kind media.encoded.ENCODED_KIND, an EncodedVideo), and the
        engine then asks the applicant for a keyframe every ~2 s; other sinks ignore that
        kind."""
        with self._lock:
            self._media_sinks = (*self._media_sinks, sink)

    def remove_media_sink(self, sink: MediaSink) -> None:
        with self._lock:
            self._media_sinks = tuple(s for s in self._media_sinks if s is not sink)

    # ------------------------------------------------------------------ listener -------
    def _emit(self, name: str, *args: Any) -> None:
        method = getattr(self._listener, name, None)
        if method is None:  # optional callbacks (on_link) may be missing
            return
        try:
            method(*args)
        except Exception:
            logger.exception("listener %s failed", name)

    # ------------------------------------------------------------------ outages --------
    def _link_event(self, event: LinkEvent) -> None:
        logger.info("link %s (%s, attempt %d)", event.phase.value, event.reason, event.attempt)
        self._emit("on_link", event)
        for listener in self._link_listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("link listener failed")

    def _signalling_up(self) -> bool:
        ws = self._ws
        return ws is not None and not ws.closed

    def _outage_begin(self, reason: str, since_mono: float | None = None) -> None:
        """An outage starts (if none is open): at ``since_mono`` (when we last heard from the
        other side) or now."""
        if self._call is None or self._ending or self._outage is not None:
            return
        now_mono = time.monotonic()
        start = now_mono if not since_mono else min(now_mono, since_mono)
        self._outage = LinkEvent(LinkPhase.RECONNECTING, since=time.time() - (now_mono - start),
                                 since_mono=start, reason=reason)
        self._link_event(self._outage)

    def _outage_attempt(self, attempt: int, delay: float) -> None:
        if self._outage is None:
            self._outage_begin("signalling_lost")
        if self._outage is not None:
            self._outage = replace(self._outage, attempt=attempt, next_retry_s=round(delay, 3))
            self._link_event(self._outage)

    def _outage_check_end(self) -> None:
        """Over once the desk socket is open and the media flows (or never flowed yet)."""
        if self._outage is None or not self._signalling_up():
            return
        peer = self._peer
        if self._ever_connected and (peer is None or not peer.open or peer.lost):
            return
        self._outage_close(LinkPhase.CONNECTED)

    def _outage_close(self, phase: LinkPhase) -> None:
        outage, self._outage = self._outage, None
        if outage is None:
            return
        self._link_event(replace(outage, phase=phase, until=time.time(),
                                 until_mono=time.monotonic(), next_retry_s=None))

    def _set_state(self, state: CallState) -> None:
        if state is self._state:
            return
        logger.info("call state %s -> %s", self._state.value, state.value)
        self._state = state
        self._emit("on_call_state", state)

    def _error(self, code: EngineErrorCode) -> None:
        logger.info("engine error %s", code.value)
        self._emit("on_error", code)

    def _fanout(self, kind: str, frame: Any, ts: float) -> None:
        if kind == "operator_video":
            self._latest_local = frame
        for sink in self._media_sinks:
            try:
                sink(kind, frame, ts)
            except Exception:
                logger.exception("media sink failed for %s", kind)

    def _spawn(self, coro: Coroutine[Any, Any, Any], peer: _Peer | None = None) -> None:
        task = asyncio.ensure_future(coro)
        bucket = peer.tasks if peer is not None else self._bg
        bucket.add(task)
        task.add_done_callback(bucket.discard)
        task.add_done_callback(self._task_done)

    @staticmethod
    def _task_done(task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("media engine task failed", exc_info=task.exception())

    # ------------------------------------------------------------------ call -----------
    async def _start_call(
        self, base_url: str, token: str, session_id: str, ice: list[IceServerSpec],
        verify: bool | str = True, token_provider: TokenProvider | None = None,
    ) -> None:
        if self._call is not None:
            await self._end_call(send_hangup=True, final_state=None)
        url = ws_url(base_url, "/ws/operator")  # raises ValueError on a bad URL
        rtc_configuration(ice)  # validates the ICE servers before anything starts
        if self._session is None:
            self._session = aiohttp.ClientSession()
        if self._local is None:
            self._local = LocalMedia(
                camera=self._camera,
                camera_format=self._camera_format,
                camera_size=self._camera_size,
                camera_fps=self._camera_fps,
                microphone=self._microphone,
                microphone_format=self._microphone_format,
                report_error=self._error,
            )
            self._local.open()
        ssl_arg: Any = True
        if verify is False:
            ssl_arg = False
        elif isinstance(verify, str):
            import ssl

            ssl_arg = ssl.create_default_context(cafile=verify)
        self._call = {"url": url, "token": token, "session_id": session_id, "ice": ice,
                      "ssl": ssl_arg, "token_provider": token_provider}
        self._ending = False
        self._outage = None
        self._ever_connected = False
        self._rejoin_pending = False
        self._applicant_left = False
        self._meter.reset()
        self._set_state(CallState.CONNECTING)
        try:
            await self._connect_ws()
        except Exception:
            self._call = None
            self._set_state(CallState.IDLE)
            raise
        self._call_task = asyncio.ensure_future(self._call_main())

    async def _connect_ws(self, report: bool = True) -> None:
        """Open the operator socket; ``report``: say why it failed through on_error (the first
        connection; reconnection attempts report through on_link instead)."""
        assert self._session is not None and self._call is not None
        headers = {"Authorization": f"Bearer {self._call['token']}"}
        try:
            ws = await asyncio.wait_for(self._session.ws_connect(
                self._call["url"], headers=headers, heartbeat=self._ws_heartbeat, max_msg_size=0,
                ssl=self._call["ssl"],
            ), self._ws_connect_timeout)
        except aiohttp.WSServerHandshakeError as exc:
            refused = exc.status in (401, 403)
            code = EngineErrorCode.UNAUTHORIZED if refused else EngineErrorCode.DESK_UNREACHABLE
            if report:
                self._error(code)
            if refused:
                raise _TokenRefused(code.value) from None
            raise ConnectionError(code.value) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            if report:
                self._error(EngineErrorCode.DESK_UNREACHABLE)
            raise ConnectionError(EngineErrorCode.DESK_UNREACHABLE.value) from exc
        self._ws = ws
        self._ws_opened_at = time.monotonic()

    async def _call_main(self) -> None:
        """Read the operator socket for the whole call; reopen it whenever it drops (capped,
        jittered exponential backoff, no attempt limit) until the call ends or the desk
        refuses the sign-in."""
        self._spawn(self._quality_loop())
        self._spawn(self._offer_fallback())
        attempt = 0  # reconnection attempts since the last socket that lasted
        refused = 0  # the desk refused our token this many times in a row
        stale = False  # the token was refused and not refreshed yet
        while self._call is not None and not self._ending:
            ws = self._ws
            if ws is not None:
                await self._read_ws(ws)
                if self._ending or self._call is None:
                    return
                code = ws.close_code
                lasted = time.monotonic() - self._ws_opened_at
                if self._ws is ws:
                    self._ws = None
                self._outage_begin("signalling_lost")
                self._error(EngineErrorCode.SIGNALLING_LOST)
                if lasted >= WS_STABLE_S:
                    attempt = 0
                if code == CLOSE_UNAUTHORIZED:
                    refused = refused + 1 if lasted < WS_STABLE_S else 1
                    stale = True
                else:
                    refused = 0
                if code == CLOSE_INVALID:
                    self._error(EngineErrorCode.SIGNALLING_REJECTED)
                logger.warning("operator socket closed (code %s); reconnecting", code)
            while self._ws is None:
                if refused >= MAX_TOKEN_REFUSALS:
                    await self._revoked()
                    return
                attempt += 1
                delay = self._backoff.delay(attempt)
                self._outage_attempt(attempt, delay)
                await asyncio.sleep(delay)
                if self._call is None or self._ending:
                    return
                try:
                    await self._refresh_token(stale)
                    stale = False
                    await self._connect_ws(report=False)
                except PermissionError:
                    await self._revoked()
                    return
                except _TokenRefused:
                    refused += 1
                    stale = True
                    logger.warning("the desk refused the access token (%d in a row)", refused)
                except Exception as exc:  # unreachable, timeout, a provider that failed
                    logger.info("reconnection attempt %d failed (%s)", attempt,
                                type(exc).__name__)
            logger.info("operator socket reopened after %d attempt(s)", attempt)
            self._outage_check_end()

    async def _refresh_token(self, refused: bool) -> None:
        """Ask the token provider (on a worker thread) for the token of the next attempt."""
        call = self._call
        provider = call.get("token_provider") if call is not None else None
        if call is None or provider is None:
            return
        token = await asyncio.get_running_loop().run_in_executor(None, provider, refused)
        if not isinstance(token, str) or not token:
            raise ValueError("the token provider gave no token")
        call["token"] = token

    async def _revoked(self) -> None:
        """The desk no longer accepts this sign-in: stop reconnecting and end the call."""
        logger.warning("the desk refused the sign-in: no more reconnection attempts")
        self._error(EngineErrorCode.UNAUTHORIZED)
        if self._outage is None:
            self._outage_begin("signalling_lost")
        self._outage_close(LinkPhase.REVOKED)
        await self._end_call(send_hangup=False, final_state=CallState.ENDED)

    async def _read_ws(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for raw in ws:
            if raw.type != aiohttp.WSMsgType.TEXT:
                if raw.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                    break
                continue
            msg = parse_json_message(raw.data)
            if msg is None:
                logger.warning("malformed message from the desk ignored")
                continue
            try:
                await self._on_ws_message(msg)
            except Exception:
                logger.exception("handling desk message %s failed", msg.get("type"))

    async def _on_ws_message(self, msg: dict[str, Any]) -> None:
        call = self._call
        if call is None:
            return
        kind = msg["type"]
        if msg.get("session_id") not in (None, call["session_id"]):
            return
        if kind == "applicant_joined":
            self._applicant_left = False
            peer = self._peer
            if (peer is not None and peer.open and not peer.lost
                    and time.monotonic() - peer.last_pong < 1.5 * self._hb_interval):
                # our link answered a moment ago: this is most likely the desk re-announcing
                # after our socket reopened; if the applicant really rejoined, the old link dies
                # within the heartbeat timeout and we re-offer then
                logger.info("applicant_joined while the link is healthy: re-offer deferred")
                self._rejoin_pending = True
            else:
                await self._new_peer()
        elif kind == "answer":
            await self._apply_answer(msg.get("sdp"))
        elif kind == "peer_left":
            if msg.get("role", "applicant") == "applicant":
                self._applicant_left = True
                self._link_lost("applicant left")
        elif kind == "error":
            code = msg.get("code")
            mapped = {
                "applicant_offline": EngineErrorCode.APPLICANT_OFFLINE,
                "unknown_session": EngineErrorCode.UNKNOWN_SESSION,
                "not_your_session": EngineErrorCode.NOT_YOUR_SESSION,
            }.get(str(code), EngineErrorCode.INTERNAL)
            self._error(mapped)
        else:
            logger.debug("desk message %s ignored", kind)

    async def _offer_fallback(self) -> None:
        """The desk normally says applicant_joined at once; if it did not, offer anyway."""
        await asyncio.sleep(OFFER_FALLBACK_S)
        if self._call is not None and self._peer is None and not self._ending:
            await self._new_peer()

    async def _send_ws(self, msg: dict[str, Any]) -> bool:
        ws = self._ws
        if ws is None or ws.closed:
            return False
        try:
            await ws.send_str(json.dumps(msg))
            return True
        except (aiohttp.ClientError, ConnectionError, RuntimeError):
            return False

    async def _end_call(self, send_hangup: bool, final_state: CallState | None) -> None:
        call = self._call
        self._outage_close(LinkPhase.ENDED)  # an outage still open ends with the call
        self._ending = True
        if call is not None and send_hangup:
            await self._send_ws({"type": "hangup", "session_id": call["session_id"]})
        await self._close_peer()
        self._fail_stills(StillErrorCode.CANCELLED)
        task, self._call_task = self._call_task, None
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for t in list(self._bg):
            t.cancel()
        self._call = None
        self._latest = None
        if final_state is not None and call is not None:
            self._set_state(final_state)
        elif call is not None:
            self._set_state(CallState.ENDED)

    # ------------------------------------------------------------------ peers ----------
    async def _new_peer(self) -> None:
        call = self._call
        if call is None or self._ending:
            return
        await self._close_peer()
        assert self._local is not None
        self._rejoin_pending = False
        self._generation += 1
        pc = RTCPeerConnection(rtc_configuration(call["ice"]))
        channel = pc.createDataChannel("control", ordered=True)
        peer = _Peer(pc, channel, self._generation)
        self._peer = peer
        self._meter.reset()
        if self._ever_connected:
            self._set_state(CallState.RECONNECTING)
        else:
            self._set_state(CallState.CONNECTING)

        audio, video = self._local.tracks(
            self._fanout, lambda: self._camera_enabled, lambda: not self._mic_muted
        )
        pc.addTransceiver(audio, direction="sendrecv")
        pc.addTransceiver(video, direction="sendrecv")

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                for tr in pc.getTransceivers():
                    if tr.receiver.track is track and not jitter.install(
                            tr.receiver, tap=self._video_tap(tr.receiver),
                            release_on_marker=self._low_latency):
                        logger.info("stock jitter buffer kept: the recorder encodes the "
                                    "decoded video")
            if track.kind == "video":
                self._spawn(self._drain_video(track, peer), peer)
            elif track.kind == "audio":
                self._spawn(self._drain_audio(track, peer), peer)

        @pc.on("connectionstatechange")
        async def on_connection_state() -> None:
            logger.info("peer %d connection %s", peer.generation, pc.connectionState)
            if pc.connectionState == "failed" and peer is self._peer:
                self._link_lost("ice failed")

        @channel.on("open")
        def on_open() -> None:
            if peer is not self._peer:
                return
            peer.open = True
            peer.last_pong = time.monotonic()
            self._ever_connected = True
            self._set_state(CallState.CONNECTED)
            self._outage_check_end()
            self._spawn(self._heartbeat(peer), peer)

        @channel.on("message")
        def on_message(message: str | bytes) -> None:
            if peer is self._peer:
                self._on_dc_message(peer, message)

        @channel.on("close")
        def on_close() -> None:
            if peer is self._peer and peer.open:
                self._link_lost("control channel closed")

        await pc.setLocalDescription(await pc.createOffer())
        sent = await self._send_ws(
            {"type": "offer", "session_id": call["session_id"], "sdp": pc.localDescription.sdp}
        )
        peer.offered_at = time.monotonic()
        if not sent:
            logger.warning("offer not sent: the desk socket is down")
        self._spawn(self._connect_watchdog(peer), peer)

    async def _apply_answer(self, sdp: Any) -> None:
        peer = self._peer
        if peer is None or peer.answered or peer.pc.signalingState != "have-local-offer":
            logger.info("answer ignored (no offer waiting for it)")
            return
        if not isinstance(sdp, str):
            self._error(EngineErrorCode.BAD_ANSWER)
            return
        try:
            await peer.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            peer.answered = True
        except Exception as exc:
            logger.warning("answer rejected: %s", type(exc).__name__)
            self._error(EngineErrorCode.BAD_ANSWER)

    async def _connect_watchdog(self, peer: _Peer) -> None:
        await asyncio.sleep(self._connect_timeout)
        if peer is self._peer and not peer.open:
            # no answer, or ICE/DTLS never completed: report it and wait for the applicant
            # to join again (a new offer follows applicant_joined); with the desk socket down
            # the offer never left: nothing to report, the reconnection re-offers
            if self._signalling_up():
                self._error(EngineErrorCode.CONNECT_TIMEOUT)
            self._link_lost("connect timeout" if peer.answered else "no answer")

    async def _close_peer(self) -> None:
        peer, self._peer = self._peer, None
        if peer is None:
            return
        for t in list(peer.tasks):
            t.cancel()
        with contextlib.suppress(Exception):
            await peer.pc.close()
        for t in list(peer.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    def _link_lost(self, reason: str) -> None:
        peer = self._peer
        if peer is None or peer.lost:
            return
        peer.lost = True
        logger.warning("link lost (%s)", reason)
        self._fail_stills(StillErrorCode.LINK_LOST)
        self._latest = None
        self._quality = self._meter.report(link_lost=True)
        self._emit("on_quality", self._quality)
        self._set_state(CallState.LOST)
        if self._ever_connected:
            if reason == "applicant left":
                self._outage_begin("applicant_left")
            else:  # since we last heard from the applicant (the heartbeat's timeout ago)
                self._outage_begin("link_lost", max(peer.last_pong, peer.last_media) or None)
        self._spawn(self._close_lost(peer))

    async def _close_lost(self, peer: _Peer) -> None:
        if peer is self._peer:
            await self._close_peer()
        if self._rejoin_pending and self._peer is None and self._call is not None:
            self._rejoin_pending = False
            await self._new_peer()
            return
        if not self._applicant_left:
            # the applicant is still connected to the desk: its media path died but it will not
            # rejoin by itself, so offer a new peer connection (aiortc has no ICE restart)
            await asyncio.sleep(REOFFER_AFTER_LOSS_S)
            if (self._peer is None and self._call is not None and not self._ending
                    and not self._applicant_left):
                if not self._signalling_up():
                    # the offer could not travel: once the socket is back the desk says
                    # applicant_joined (if the applicant is there) and the offer follows
                    logger.info("re-offer waits for the desk socket")
                    return
                logger.info("re-offering after link loss (applicant still connected)")
                await self._new_peer()

    async def _heartbeat(self, peer: _Peer) -> None:
        while peer is self._peer and not peer.lost:
            if peer.channel.readyState == "open":
                with contextlib.suppress(Exception):  # closing: the timeout below decides
                    peer.channel.send(json.dumps({"type": "ping", "t": int(time.time() * 1000)}))
            await asyncio.sleep(self._hb_interval)
            # lost = nothing heard for the timeout: no pong or other control message (a large
            # still may hold pongs back on the ordered channel, and an SCTP retransmission can
            # stall it for a second or more) and no media either
            if time.monotonic() - max(peer.last_pong, peer.last_media) > self._hb_timeout:
                self._link_lost("no pong")
                return

    async def _quality_loop(self) -> None:
        while True:
            await asyncio.sleep(self._quality_interval)
            peer = self._peer
            if peer is None or not peer.open or peer.lost:
                continue
            try:
                stats = await peer.pc.getStats()
            except Exception as exc:
                logger.debug("getStats failed: %s", type(exc).__name__)
                continue
            if peer is not self._peer:
                continue
            self._meter.update(stats)
            self._quality = self._meter.report()
            self._emit("on_quality", self._quality)

    # ------------------------------------------------------------------ media in -------
    def _video_tap(self, receiver: Any) -> VideoTap:
        """The applicant's frames as received, for the sinks that keep them as they are (the
        recorder: media.encoded); keyframes are asked for only while such a sink is attached."""

        def request_keyframe(ssrc: int) -> None:
            send = getattr(receiver, "_send_rtcp_pli", None)
            if send is not None:
                self._spawn(send(ssrc))

        return VideoTap(
            lambda frame: self._fanout(ENCODED_KIND, frame, time.monotonic()),
            jitter.codec_names(receiver), request_keyframe,
            wanted=lambda: any(getattr(s, "wants_encoded_video", False)
                               for s in self._media_sinks))

    async def _drain_video(self, track: MediaStreamTrack, peer: _Peer) -> None:
        queue: asyncio.Queue[Any] | None = getattr(track, "_queue", None)
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                peer.last_media = time.monotonic()
                peer.clock.add(frame.pts)
                self._fanout("applicant_video", frame, peer.last_media)
                # aiortc's queue is unbounded: skip to the newest decoded frame
                while queue is not None and not queue.empty():
                    newer = queue.get_nowait()
                    if newer is None:
                        return
                    self._frames_dropped += 1
                    self._frame_seq += 1
                    frame = newer
                    if isinstance(frame, av.VideoFrame):
                        peer.clock.add(frame.pts)
                    self._fanout("applicant_video", frame, time.monotonic())
                if peer is not self._peer:
                    return
                if frame.format.name != "yuv420p":
                    frame = frame.reformat(format="yuv420p")
                self._frame_seq += 1
                self._latest = RemoteFrame(
                    frame=frame,
                    seq=self._frame_seq,
                    received_at=time.time(),
                    stamp_ms=framestamp.read_frame(frame),
                )
                self._emit("on_remote_frame")
                if peer.last_media - peer.check_at >= FRAME_CHECK_INTERVAL_S:
                    self._check_frame(peer, frame, peer.last_media)
        except MediaStreamError:
            return

    def _check_frame(self, peer: _Peer, frame: av.VideoFrame, now: float) -> None:
        """Injection signals: how long the picture has stayed exactly the same, whether earlier
        pictures come back (a looped clip), how long the sender's clock has been exact."""
        previous, peer.check_at = peer.check_at, now
        try:
            sample = luma_sample(frame)
            digest = None if sample is None else frame_digest(sample)
            peer.repeats.add(now, None if sample is None else thumbnail(frame))
        except Exception:  # never let a check break the video path
            logger.debug("frame check failed", exc_info=True)
            sample = digest = None
        peer.check_samples += 1
        if digest is None or digest != peer.check_digest:
            peer.identical_since = None
        elif peer.identical_since is None:
            peer.identical_since = previous  # the same picture since the previous sample
        peer.check_digest = digest
        if now - peer.check_reported >= FRAME_CHECK_REPORT_S:
            peer.check_reported = now
            since = peer.identical_since
            self._emit("on_frame_check", FrameCheck(
                identical_s=0.0 if since is None else round(now - since, 2),
                samples=peer.check_samples,
                exact_clock_frames=peer.clock.run,
                repeat_s=peer.repeats.longest_s,
                repeat_lag_s=peer.repeats.lag_s))

    async def _drain_audio(self, track: MediaStreamTrack, peer: _Peer) -> None:
        layout = "mono" if self._audio_channels == 1 else "stereo"
        resampler = av.AudioResampler(format="s16", layout=layout, rate=48_000)
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                peer.last_media = time.monotonic()
                self._fanout("applicant_audio", frame, peer.last_media - self._audio_offset)
                sink = self._audio_sink
                if sink is None or peer is not self._peer:
                    continue
                for out in resampler.resample(frame):
                    data = out.to_ndarray().tobytes()
                    try:
                        sink(PcmChunk(data, 48_000, self._audio_channels))
                    except Exception:
                        logger.exception("audio sink failed")
        except MediaStreamError:
            return

    # ------------------------------------------------------------------ data channel ---
    def _on_dc_message(self, peer: _Peer, message: str | bytes) -> None:
        # anything heard proves the link alive (pongs queue behind still chunks on the
        # ordered channel, so a large still must not look like a dead link)
        peer.last_pong = time.monotonic()
        if isinstance(message, bytes | bytearray | memoryview):
            if not self._on_chunk(bytes(message)):
                self._bad_message(peer, "binary message for no still")
            return
        msg = parse_json_message(message)
        if msg is None:
            self._bad_message(peer, "malformed control message")
            return
        kind = msg["type"]
        if kind == "pong":
            peer.last_pong = time.monotonic()
        elif kind in ("still_begin", "still_end", "still_error"):
            self._on_still_message(msg)
        elif kind == "camera":
            info = parse_camera_message(msg, peer.generation)
            if info is None:
                self._bad_message(peer, "malformed camera message")
                return
            peer.camera_messages += 1
            if peer.camera_messages > MAX_CAMERA_MESSAGES:
                if peer.camera_messages == MAX_CAMERA_MESSAGES + 1:
                    logger.warning("camera messages beyond %d ignored", MAX_CAMERA_MESSAGES)
                return
            logger.info("camera report on peer %d", peer.generation)  # the label is not logged
            self._emit("on_camera", info)
        else:
            if kind == "stats":
                self._meter.page_stats(msg)
            self._emit("on_message", msg)

    def _bad_message(self, peer: _Peer, what: str) -> None:
        """Ignored; reported once per peer connection (a broken page must not flood us)."""
        peer.bad_messages += 1
        if peer.bad_messages == 1:
            logger.warning("%s ignored (further ones are counted, not logged)", what)
            self._error(EngineErrorCode.MALFORMED_MESSAGE)

    async def _send_control(self, msg: dict[str, Any]) -> None:
        peer = self._peer
        if peer is None or not peer.open or peer.channel.readyState != "open":
            raise StillError(StillErrorCode.NOT_CONNECTED)
        try:
            peer.channel.send(json.dumps(msg))
        except Exception:
            raise StillError(StillErrorCode.NOT_CONNECTED) from None

    async def _request_still(self, step: str, timeout: float) -> Still:
        still_id = str(uuid.uuid4())
        fut: asyncio.Future[Still] = asyncio.get_running_loop().create_future()
        assembler = StillAssembler(still_id, step)
        self._stills[still_id] = (assembler, fut)
        try:
            await self._send_control({"type": "still_request", "id": still_id, "step": step})
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise StillError(StillErrorCode.TIMEOUT) from None
        finally:
            # nobody waits any more: a check still running on its worker stops at its next block
            assembler.cancel.set()
            self._stills.pop(still_id, None)
            self._finishing.pop(still_id, None)

    def _still_failed(self, still_id: str, exc: StillError) -> None:
        entry = self._stills.pop(still_id, None) or self._finishing.pop(still_id, None)
        if entry is not None:
            entry[0].cancel.set()
        if entry is not None and not entry[1].done():
            logger.warning("still failed: %s", exc.code.value)
            entry[1].set_exception(exc)

    def _on_still_message(self, msg: dict[str, Any]) -> None:
        still_id = msg.get("id")
        entry = self._stills.get(still_id) if isinstance(still_id, str) else None
        if entry is None:
            logger.debug("%s for an unknown or finished still ignored", msg["type"])
            return
        assembler, fut = entry
        kind = msg["type"]
        try:
            if kind == "still_begin":
                assembler.begin(msg)
            elif kind == "still_error":
                reason = msg.get("reason")
                raise StillError(StillErrorCode.REMOTE_ERROR,
                                 reason if isinstance(reason, str) else "")
            else:  # still_end: check and decode off the loop
                self._stills.pop(str(still_id), None)
                self._finishing[str(still_id)] = (assembler, fut)
                loop = asyncio.get_running_loop()
                job = loop.run_in_executor(None, assembler.finish)

                def done(j: asyncio.Future[Still]) -> None:
                    self._finishing.pop(str(still_id), None)
                    exc = j.exception()  # retrieved even when nobody waits any more
                    if fut.done():
                        return
                    if exc is not None:
                        fut.set_exception(exc)
                    else:
                        fut.set_result(j.result())

                job.add_done_callback(done)
        except StillError as exc:
            self._still_failed(str(still_id), exc)

    def _on_chunk(self, chunk: bytes) -> bool:
        """False when the chunk belongs to no still we are waiting for."""
        still_id = chunk_id(chunk)
        entry = self._stills.get(still_id) if still_id is not None else None
        if entry is None or still_id is None:
            return False
        try:
            entry[0].add_chunk(chunk)
        except StillError as exc:
            self._still_failed(still_id, exc)
        return True

    def _fail_stills(self, code: StillErrorCode) -> None:
        for still_id in [*self._stills, *self._finishing]:
            self._still_failed(still_id, StillError(code))


def luma_digest(frame: av.VideoFrame) -> int | None:
    """CRC-32 of the luma plane sampled (``media.frame_signals.luma_sample``), or None for
    a uniform picture (a camera turned off sends black) or a frame that cannot be read."""
    try:
        sample = luma_sample(frame)
        return None if sample is None else frame_digest(sample)
    except Exception:  # never let a check break the video path
        logger.debug("frame digest failed", exc_info=True)
        return None


def _camera_text(value: Any, limit: int = CAMERA_TEXT_MAX) -> str | None:
    if not isinstance(value, str):
        return None
    return "".join(ch for ch in value[: limit * 4] if ch.isprintable())[:limit]


def _camera_number(value: Any, high: float, integer: bool = False) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or number <= 0 or number > high:
        return None
    return float(round(number)) if integer else round(number, 3)


def _camera_int(value: Any, high: float = CAMERA_SIZE_MAX) -> int | None:
    number = _camera_number(value, high, integer=True)
    return None if number is None else int(number)


def parse_camera_message(msg: dict[str, Any], generation: int = 0) -> CameraInfo | None:
    """The page's ``camera`` message as a ``CameraInfo``, or None when it is not one (label not a
    string, settings or capabilities not objects). Unknown keys are dropped; a value of the
    wrong type or out of bounds becomes None; strings are cut to 128 printable characters."""
    label = _camera_text(msg.get("label", ""))
    settings = msg.get("settings", {})
    caps = msg.get("capabilities", {})
    if label is None or not isinstance(settings, dict) or not isinstance(caps, dict):
        return None

    def cap_max(key: str) -> Any:
        entry = caps.get(key)
        return entry.get("max") if isinstance(entry, dict) else None

    return CameraInfo(
        label=label,
        width=_camera_int(settings.get("width")),
        height=_camera_int(settings.get("height")),
        frame_rate=_camera_number(settings.get("frameRate"), CAMERA_FPS_MAX),
        aspect_ratio=_camera_number(settings.get("aspectRatio"), CAMERA_ASPECT_MAX),
        resize_mode=_camera_text(settings.get("resizeMode"), 32),
        facing_mode=_camera_text(settings.get("facingMode"), 32),
        max_width=_camera_int(cap_max("width")),
        max_height=_camera_int(cap_max("height")),
        max_frame_rate=_camera_number(cap_max("frameRate"), CAMERA_FPS_MAX),
        generation=generation,
    )


__all__ = [
    "MEDIA_KINDS",
    "CallState",
    "CameraInfo",
    "EngineErrorCode",
    "EngineListener",
    "FrameCheck",
    "LinkEvent",
    "LinkPhase",
    "MediaEngine",
    "QualityLevel",
    "QualityReport",
    "RemoteFrame",
    "Still",
    "StillError",
]
