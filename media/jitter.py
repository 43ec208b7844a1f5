"""A lower-latency video jitter buffer for aiortc's receiver.

aiortc's JitterBuffer hands a video frame to the decoder only when the first packet of the
*next* frame arrives: every frame waits one frame interval plus the sender's encode time of
the next frame (about 35-50 ms at 30 fps). RTP senders (libwebrtc, aiortc) set the marker bit
on the last packet of each video frame (RFC 7741 for VP8, RFC 6184 for H.264), so a frame is
complete as soon as its marker packet arrives with no gap before it. This subclass releases it
then, and otherwise behaves exactly like aiortc's buffer.

It replaces the receiver's private buffer right after the track appears (before any packet);
if aiortc's internals change, `install()` returns False and the stock buffer stays.

The same buffer hands each whole frame it releases, still encoded, to a tap (media.encoded):
the evidence keeps the applicant's video as it was received. ``release_on_marker=False`` keeps
aiortc's release rule and only taps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

from media.encoded import VideoTap

logger = logging.getLogger(__name__)

_ATTR = "_RTCRtpReceiver__jitter_buffer"


class MarkerJitterBuffer(JitterBuffer):
    def __init__(self, capacity: int, is_video: bool = True, *, tap: VideoTap | None = None,
                 release_on_marker: bool = True) -> None:
        super().__init__(capacity=capacity, is_video=is_video)
        self._tap = tap
        self._on_marker = release_on_marker
        self._next_seq: int | None = None  # the packet after the last frame released

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        start = self._origin
        first = None if start is None else self._packets[start % self._capacity]
        frame = super()._remove_frame(sequence_number)
        if frame is None and self._on_marker:
            frame = self._complete_at_marker()
        if frame is not None and self._tap is not None and first is not None:
            contiguous = self._next_seq is not None and start == self._next_seq
            self._next_seq = self._origin
            try:
                self._tap.frame(frame.data, frame.timestamp, first.payload_type, first.ssrc,
                                contiguous)
            except Exception:  # the tap must never stop the call's video
                logger.exception("video tap failed")
        return frame

    def _complete_at_marker(self) -> JitterFrame | None:
        packets: list[RtpPacket] = []
        timestamp: int | None = None
        for count in range(self._capacity):
            packet = self._packets[(self._origin + count) % self._capacity]  # type: ignore[operator]
            if packet is None:
                return None
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:
                return None
            packets.append(packet)
            if packet.marker:
                data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]
                self.remove(count + 1)
                return JitterFrame(data=data, timestamp=timestamp)
        return None


def install(receiver: Any, *, tap: VideoTap | None = None,
            release_on_marker: bool = True) -> bool:
    """Swap a video receiver's jitter buffer for MarkerJitterBuffer (before media flows)."""
    old = getattr(receiver, _ATTR, None)
    if type(old) is not JitterBuffer or not getattr(old, "_is_video", False):
        return False
    if getattr(old, "_origin", None) is not None:
        return False  # packets already buffered: leave it alone
    setattr(receiver, _ATTR, MarkerJitterBuffer(capacity=old.capacity, is_video=True, tap=tap,
                                                release_on_marker=release_on_marker))
    return True


def codec_names(receiver: Any) -> Callable[[int], str | None]:
    """``payload_type -> codec name`` from the receiver's negotiated codecs (None: unknown)."""
    codecs = getattr(receiver, "_RTCRtpReceiver__codecs", None)

    def name(payload_type: int) -> str | None:
        codec = codecs.get(payload_type) if isinstance(codecs, dict) else None
        mime = getattr(codec, "mimeType", None)
        return mime.split("/")[-1] if isinstance(mime, str) else None

    return name
