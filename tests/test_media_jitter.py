"""The marker-bit jitter buffer releases a video frame as soon as it is complete."""

from __future__ import annotations

from aiortc import RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

from media.jitter import MarkerJitterBuffer, install
from media.net import rtc_configuration


def _pkt(seq: int, ts: int, marker: bool, data: bytes) -> RtpPacket:
    p = RtpPacket(payload_type=96, marker=int(marker), sequence_number=seq, timestamp=ts)
    p._data = data  # type: ignore[attr-defined]  # what the receiver's depayloader sets
    return p


def test_frame_released_on_marker() -> None:
    jb = MarkerJitterBuffer(capacity=128, is_video=True)
    assert jb.add(_pkt(10, 1000, False, b"a"))[1] is None
    _, frame = jb.add(_pkt(11, 1000, True, b"b"))
    assert frame is not None and frame.data == b"ab" and frame.timestamp == 1000
    # the stock buffer would still hold it until the next frame's first packet
    stock = JitterBuffer(capacity=128, is_video=True)
    stock.add(_pkt(10, 1000, False, b"a"))
    assert stock.add(_pkt(11, 1000, True, b"b"))[1] is None
    # next frame, out of order: not released until the gap is filled
    assert jb.add(_pkt(12, 4000, False, b"c"))[1] is None
    assert jb.add(_pkt(14, 4000, True, b"e"))[1] is None
    _, frame2 = jb.add(_pkt(13, 4000, False, b"d"))
    assert frame2 is not None and frame2.data == b"cde" and frame2.timestamp == 4000


def test_lost_marker_falls_back_to_next_frame() -> None:
    jb = MarkerJitterBuffer(capacity=128, is_video=True)
    jb.add(_pkt(1, 10, False, b"x"))
    jb.add(_pkt(2, 10, False, b"y"))  # its marker packet never comes
    _, frame = jb.add(_pkt(3, 20, True, b"z"))
    assert frame is not None and frame.timestamp == 10 and frame.data == b"xy"
    _, nxt = jb.add(_pkt(4, 30, False, b"w"))
    assert nxt is not None and nxt.timestamp == 20  # the stock rule still applies


async def test_install_on_a_real_receiver() -> None:
    pc = RTCPeerConnection(rtc_configuration([]))
    try:
        video = pc.addTransceiver("video")
        audio = pc.addTransceiver("audio")
        assert install(video.receiver) is True
        assert install(video.receiver) is False  # already swapped
        assert install(audio.receiver) is False  # audio keeps aiortc's buffer
    finally:
        await pc.close()
