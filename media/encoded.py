"""Received video as it came over the network: whole VP8 frames, before decoding.

The evidence keeps the applicant's video as the applicant's browser encoded it (no decode and
no second encode in the recorder: README, Performance). The media engine's jitter buffer
(media.jitter) hands each whole frame it releases to a :class:`VideoTap`, which makes an
:class:`EncodedVideo` of it and passes it on to the media sinks under :data:`ENCODED_KIND`.

A frame can only be written as it is when the decoder that plays it back has every frame it
refers to. ``contiguous`` says that no RTP packet was lost or skipped between the previous frame
and this one; after a frame that is not, the recorder waits for the next keyframe. The tap asks
the sender for a keyframe (RTCP PLI) when the last one is older than ``keyframe_interval_s``, so
that a player can seek in the recording and a loss heals quickly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aiortc.rtcrtpreceiver import TimestampMapper

#: the media sinks' kind for the applicant's video frames as received (before decoding)
ENCODED_KIND = "applicant_video_encoded"
#: RTP video clock (RFC 7741: VP8 uses 90 kHz)
RTP_VIDEO_RATE = 90_000
#: the recorder's player seeks from the keyframe before a point: ask for one this often
KEYFRAME_INTERVAL_S = 1.8
#: never ask the sender more often than this (a lost keyframe request is asked again)
KEYFRAME_RETRY_S = 0.5
_VP8_START_CODE = b"\x9d\x01\x2a"


@dataclass(frozen=True, slots=True)
class EncodedVideo:
    """One whole encoded video frame as received."""

    codec: str  # "vp8"
    data: bytes
    pts: int  # sender's RTP timestamp, unwrapped (90 kHz; 0 at the stream's first frame)
    keyframe: bool
    contiguous: bool  # nothing was lost between the previous frame and this one
    size: tuple[int, int] | None = None  # (width, height) from a keyframe's header

    @property
    def seconds(self) -> float:
        return self.pts / RTP_VIDEO_RATE


def vp8_keyframe_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) when ``data`` is a VP8 keyframe (RFC 6386, 9.1), else None.

    A keyframe's frame tag has its lowest bit clear and is followed by the start code
    9d 01 2a and the 14-bit width and height; anything else (an inter frame, a truncated or
    foreign payload) gives None.
    """
    if len(data) < 10 or data[0] & 1 or data[3:6] != _VP8_START_CODE:
        return None
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    if width == 0 or height == 0:
        return None
    return width, height


#: ``request_keyframe(ssrc)``: ask the sender of ``ssrc`` for a keyframe (called on the engine's
#: loop thread, must not block)
KeyframeRequest = Callable[[int], None]


class VideoTap:
    """Turns the jitter buffer's whole frames into :class:`EncodedVideo` for ``sink``.

    ``codec_of(payload_type)`` names the negotiated codec; only VP8 is passed on (a stream in
    another codec is decoded and encoded by the recorder as before). ``wanted()`` says whether a
    sink takes encoded frames now: only then are keyframes requested.
    """

    def __init__(self, sink: Callable[[EncodedVideo], None],
                 codec_of: Callable[[int], str | None],
                 request_keyframe: KeyframeRequest,
                 wanted: Callable[[], bool] = lambda: True,
                 keyframe_interval_s: float = KEYFRAME_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sink = sink
        self._codec_of = codec_of
        self._request_keyframe = request_keyframe
        self._wanted = wanted
        self._interval = keyframe_interval_s
        self._clock = clock
        # RTP timestamps counted from the first frame exactly as aiortc's receiver does for
        # its decoder: a received frame's pts equals its decoded twin's, which is how the
        # recorder knows which decoded frames it keeps as received
        self._rtp = TimestampMapper()
        self._last_key_at: float | None = None
        self._asked_at = -1e9

    def frame(self, data: bytes, timestamp: int, payload_type: int, ssrc: int,
              contiguous: bool) -> None:
        """One whole frame released by the jitter buffer (engine loop thread)."""
        codec = (self._codec_of(payload_type) or "").lower()
        if codec != "vp8":
            return
        size = vp8_keyframe_size(data)
        now = self._clock()
        if size is not None:
            self._last_key_at = now
        pts = self._rtp.map(timestamp)
        if not self._wanted():
            return
        self._sink(EncodedVideo(codec, data, pts, size is not None, contiguous, size))
        last = self._last_key_at
        broken = not contiguous and size is None  # the recorder waits for a keyframe
        if ((last is None or now - last >= self._interval or broken)
                and now - self._asked_at >= KEYFRAME_RETRY_S):
            self._asked_at = now
            self._request_keyframe(ssrc)
