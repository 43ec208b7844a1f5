"""Public types of the media engine: call states, quality reports, error codes, the listener
interface the UI implements, and the frame/audio hand-over objects. No Qt here: the UI turns
the listener's plain callbacks into Qt signals."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import av


class CallState(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"  # signalling up, first peer connection being set up
    CONNECTED = "connected"  # media flowing, control channel open
    RECONNECTING = "reconnecting"  # a new peer connection after a drop
    LOST = "lost"  # link lost (no pong for 3 s / ICE failed / applicant left); waiting for them
    ENDED = "ended"  # hung up or the call was ended


class QualityLevel(StrEnum):
    """What the engine itself says of the link: the media stopped (``LOST``) or it flows
    (``MEASURED``: the figures are in the report). The level an operator sees (excellent /
    good / poor / lost) is decided from those figures by ``console.quality``, in one place."""

    MEASURED = "measured"
    LOST = "lost"


class EngineErrorCode(StrEnum):
    """Codes for `on_error`; the UI translates them."""

    DESK_UNREACHABLE = "desk_unreachable"
    UNAUTHORIZED = "unauthorized"  # the desk refused the access token (WS closed 4401)
    SIGNALLING_REJECTED = "signalling_rejected"  # the desk closed the socket 4400
    SIGNALLING_LOST = "signalling_lost"  # the desk socket dropped (reopened by itself: on_link)
    UNKNOWN_SESSION = "unknown_session"
    NOT_YOUR_SESSION = "not_your_session"
    APPLICANT_OFFLINE = "applicant_offline"
    BAD_ANSWER = "bad_answer"  # the applicant's SDP answer could not be applied
    CONNECT_TIMEOUT = "connect_timeout"  # no media connection within the allowed time
    CAMERA_UNAVAILABLE = "camera_unavailable"  # placeholder video sent instead
    MICROPHONE_UNAVAILABLE = "microphone_unavailable"  # silence sent instead
    MALFORMED_MESSAGE = "malformed_message"  # a peer sent something unreadable (ignored)
    INTERNAL = "internal"


class LinkPhase(StrEnum):
    """How the call's connection (desk socket + media path) stands, for ``on_link``."""

    RECONNECTING = "reconnecting"  # down since ``since``: retrying by itself, no attempt limit
    CONNECTED = "connected"  # back (desk socket open, media flowing): the outage is over
    REVOKED = "revoked"  # the desk refused the sign-in (signed out, expired): no more retries
    ENDED = "ended"  # the call ended during an outage (hang-up, app closing)


@dataclass(frozen=True)
class LinkEvent:
    """An outage of the call's connection. ``since``/``until`` are wall-clock ``time.time()``
    (to show "reconnecting since HH:MM:SS"); the ``*_mono`` twins are ``time.monotonic()``,
    the media sinks' clock (to mark the gap in a recording). ``reason`` is one of
    ``signalling_lost`` (the desk socket dropped), ``link_lost`` (the media path died),
    ``applicant_left``. ``attempt`` counts the desk-socket reconnection attempts so far,
    ``next_retry_s`` is the wait before the next one (None when not waiting for one)."""

    phase: LinkPhase
    since: float
    since_mono: float
    reason: str
    until: float | None = None
    until_mono: float | None = None
    attempt: int = 0
    next_retry_s: float | None = None

    @property
    def duration_s(self) -> float | None:
        if self.until_mono is None:
            return None
        return max(0.0, self.until_mono - self.since_mono)


LinkListener = Callable[[LinkEvent], None]


@dataclass(frozen=True)
class QualityReport:
    level: QualityLevel
    rtt_ms: float | None = None  # from RTCP (our sent streams)
    loss_pct: float | None = None  # inbound packet loss over the last interval
    jitter_ms: float | None = None  # inbound video jitter
    bitrate_kbps: float | None = None  # inbound, whole transport
    remote_width: int | None = None  # the page's own `stats` message
    remote_height: int | None = None
    remote_fps: float | None = None
    remote_rtt_ms: float | None = None
    remote_limitation: str | None = None
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class RemoteFrame:
    """The applicant's latest decoded video frame (yuv420p) and its frame stamp, if any."""

    frame: av.VideoFrame
    seq: int  # increases by one per frame received (dropped ones included)
    received_at: float  # time.time() when it came out of the decoder
    stamp_ms: int | None  # the sender's time.time() in ms (synthetic applicant only)

    @property
    def latency_ms(self) -> float | None:
        """Sender capture -> out of our decoder, in ms (None without a stamp)."""
        if self.stamp_ms is None:
            return None
        return self.received_at * 1000.0 - self.stamp_ms

    def latency_now_ms(self) -> float | None:
        """Sender capture -> now (call it where the frame is handed to the screen)."""
        if self.stamp_ms is None:
            return None
        return time.time() * 1000.0 - self.stamp_ms


@dataclass(frozen=True)
class PcmChunk:
    """Interleaved signed 16-bit little-endian PCM for QAudioSink."""

    data: bytes
    sample_rate: int
    channels: int

    @property
    def samples(self) -> int:
        return len(self.data) // (2 * self.channels)


@dataclass(frozen=True)
class CameraInfo:
    """What the applicant's page says about its camera track (the ``camera`` message), checked
    by the engine: label printable and at most 128 characters, numbers finite and bounded (None
    when absent or out of bounds). Sent when the control channel opens and when the settings
    change. ``generation``: the peer connection it came on."""

    label: str
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    aspect_ratio: float | None = None
    resize_mode: str | None = None
    facing_mode: str | None = None
    max_width: int | None = None
    max_height: int | None = None
    max_frame_rate: float | None = None
    generation: int = 0


@dataclass(frozen=True)
class FrameCheck:
    """Cheap checks on the applicant's decoded video, reported about once a second:
    ``identical_s`` is how long the sampled picture (a digest of the luma plane downscaled 8×,
    taken a few times a second; uniform pictures excluded) has been exactly the same, 0 while
    it changes; ``samples`` the digests taken so far on this peer connection;
    ``exact_clock_frames`` how many consecutive frames so far carry RTP timestamps on one exact
    grid (``media.frame_signals.ClockGrid``); ``repeat_s`` the longest stretch of moving
    pictures that came back from earlier in the call, ``repeat_lag_s`` how far back
    (``media.frame_signals.RepeatDetector``)."""

    identical_s: float
    samples: int
    exact_clock_frames: int = 0
    repeat_s: float = 0.0
    repeat_lag_s: float = 0.0


AudioSink = Callable[[PcmChunk], None]
# kind: 'applicant_video' | 'operator_video' | 'applicant_audio' | 'operator_audio'
MediaSink = Callable[[str, Any, float], None]
MEDIA_KINDS = ("applicant_video", "operator_video", "applicant_audio", "operator_audio")


class EngineListener(Protocol):
    """Callbacks from the engine, all called on the engine's thread: keep them short and do not
    call Qt widgets from them (emit a signal instead)."""

    def on_call_state(self, state: CallState) -> None: ...

    def on_quality(self, report: QualityReport) -> None: ...

    def on_message(self, message: dict[str, Any]) -> None: ...

    def on_remote_frame(self) -> None: ...

    def on_error(self, code: EngineErrorCode) -> None: ...

    def on_link(self, event: LinkEvent) -> None:
        """Optional: outages of the call's connection (a listener without it is fine)."""

    def on_camera(self, info: CameraInfo) -> None:
        """Optional: the applicant page's camera report (injection signals)."""

    def on_frame_check(self, check: FrameCheck) -> None:
        """Optional: the frame checks, about once a second during the call."""


class NullListener:
    """A listener that ignores everything (subclass it and override what you need)."""

    def on_call_state(self, state: CallState) -> None:
        pass

    def on_quality(self, report: QualityReport) -> None:
        pass

    def on_message(self, message: dict[str, Any]) -> None:
        pass

    def on_remote_frame(self) -> None:
        pass

    def on_error(self, code: EngineErrorCode) -> None:
        pass

    def on_link(self, event: LinkEvent) -> None:
        pass

    def on_camera(self, info: CameraInfo) -> None:
        pass

    def on_frame_check(self, check: FrameCheck) -> None:
        pass
