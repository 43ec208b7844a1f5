"""A lower-latency video jitter buffer for aiortc's receiver.

aiortc's JitterBuffer hands a video frame to the decoder only when the first packet of the
*next* frame arrives: every frame waits one frame interval plus the sender's encode time of
the next frame (about 35-50 ms at 30 fps). RTP senders (libwebrtc, aiortc) set the marker bit
on the last packet of each video frame (RFC 7741 for VP8, RFC 6184 for H.264), so a frame is
complete as soon as its marker packet arrives with no gap before it. This subclass releases it
then, and otherwise behaves exactly like aiortc's buffer.

It replaces the receiver's private buffer right after the track appears (before any packet);
if aiortc's internals change, `install()` returns False and the stock buffer stays.
"""

from __future__ import annotations

import logging
from typing import Any

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

logger = logging.getLogger(__name__)

_ATTR = "_RTCRtpReceiver__jitter_buffer"


class MarkerJitterBuffer(JitterBuffer):
    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        frame = super()._remove_frame(sequence_number)
        if frame is not None:
            return frame
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


def install(receiver: Any) -> bool:
    """Swap a video receiver's jitter buffer for MarkerJitterBuffer (before media flows)."""
    old = getattr(receiver, _ATTR, None)
    if type(old) is not JitterBuffer or not getattr(old, "_is_video", False):
        return False
    if getattr(old, "_origin", None) is not None:
        return False  # packets already buffered: leave it alone
    setattr(receiver, _ATTR, MarkerJitterBuffer(capacity=old.capacity, is_video=True))
    return True
