"""The applicant's video kept in the evidence as it was received (media.encoded, media.jitter,
media.recorder ``copy_received_video``).

Real VP8 from libvpx, real Matroska files read back with FFmpeg: the kept frames are the
received bytes exactly; a loss is bridged by encoding the decoded frames from a keyframe until
the sender's next keyframe, so the file plays through with no hole; without received frames the
recorder encodes the decoded ones.
"""

from __future__ import annotations

import itertools
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from aiortc.rtp import RtpPacket

from media.encoded import (
    ENCODED_KIND,
    RTP_VIDEO_RATE,
    EncodedVideo,
    VideoTap,
    vp8_keyframe_size,
)
from media.jitter import MarkerJitterBuffer
from media.recorder import Recorder

FPS = 30
SIZE = (320, 240)
TICK = RTP_VIDEO_RATE // FPS


def _pictures(n: int, still: bool = False) -> list[av.VideoFrame]:
    w, h = SIZE
    yy, xx = np.mgrid[0:h, 0:w]
    out = []
    for i in range(n):
        k = 0 if still else i  # a still picture costs almost nothing after its keyframe
        img = np.stack([(xx + 4 * k) % 256, (yy + 2 * k) % 256, (xx + yy + k) % 256], axis=2)
        out.append(av.VideoFrame.from_ndarray(img.astype(np.uint8), format="rgb24"))
    return out


def vp8_stream(n: int, gop: int = 30, still: bool = False,
               start: int = 0) -> list[tuple[EncodedVideo, av.VideoFrame]]:
    """n frames as a sender would send them (VP8, a keyframe every ``gop``), each with the
    frame a receiver decodes from it (pts in the RTP clock, as aiortc gives them)."""
    ctx = av.CodecContext.create("libvpx", "w")
    ctx.width, ctx.height = SIZE
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = Fraction(1, FPS)
    ctx.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0",
                   "g": str(gop), "keyint_min": str(gop)}
    dec = av.CodecContext.create("libvpx", "r")
    out = []
    for i, pic in enumerate(_pictures(n, still), start):
        frame = pic.reformat(format="yuv420p")
        frame.pts = i
        packets = ctx.encode(frame)
        assert len(packets) == 1
        data = bytes(packets[0])
        size = vp8_keyframe_size(data)
        decoded = dec.decode(av.Packet(data))
        assert len(decoded) == 1
        twin = decoded[0]
        twin.pts = i * TICK
        twin.time_base = Fraction(1, RTP_VIDEO_RATE)
        out.append((EncodedVideo("vp8", data, i * TICK, size is not None, True, size), twin))
    return out


def record(tmp_path: Path, items: list[tuple[str, Any, float]], **options: Any) -> Recorder:
    t0 = 1000.0
    rec = Recorder(tmp_path / "rec.mkv", start_ts=t0, video_sizes={"applicant_video": SIZE},
                   fps=FPS, **options)
    rec.start()
    for kind, frame, offset in items:
        while rec._queue.qsize() > 100:  # never outrun the recorder: it would drop (and count)
            time.sleep(0.002)
        assert rec.submit(kind, frame, t0 + offset)
    rec.stop()
    assert rec.error is None
    return rec


def applicant_packets(path: Path) -> tuple[str, list[bytes], list[bool]]:
    with av.open(str(path)) as c:
        stream = next(s for s in c.streams.video if s.metadata.get("title") == "applicant_video")
        datas, keys = [], []
        for packet in c.demux(stream):
            if packet.size:
                datas.append(bytes(packet))
                keys.append(bool(packet.is_keyframe))
        return stream.codec_context.name, datas, keys


def decoded_count(path: Path) -> int:
    with av.open(str(path)) as c:
        stream = next(s for s in c.streams.video if s.metadata.get("title") == "applicant_video")
        return sum(1 for _ in c.decode(stream))


def interleaved(stream: list[tuple[EncodedVideo, av.VideoFrame]],
                skip: set[int] = frozenset()) -> list[tuple[str, Any, float]]:  # type: ignore[assignment]
    """Each received frame, then its decoded twin a few ms later (the engine's order)."""
    items: list[tuple[str, Any, float]] = []
    for i, (enc, twin) in enumerate(stream):
        if i not in skip:
            if i - 1 in skip:
                enc = EncodedVideo(enc.codec, enc.data, enc.pts, enc.keyframe, False, enc.size)
            items.append((ENCODED_KIND, enc, i / FPS))
        items.append(("applicant_video", twin, i / FPS + 0.004))
    return items


def test_received_frames_are_kept_byte_for_byte(tmp_path: Path) -> None:
    stream = vp8_stream(60)
    rec = record(tmp_path, interleaved(stream), copy_received_video=True)
    codec, datas, keys = applicant_packets(rec.path)
    assert codec == "vp8"
    assert datas == [enc.data for enc, _ in stream]  # exactly what was received
    assert keys == [enc.keyframe for enc, _ in stream]
    stats = rec.stats()
    assert (stats["copied"], stats["reencoded"], stats["awaiting_keyframe"]) == (60, 0, 0)
    assert decoded_count(rec.path) == 60
    start = [line for line in rec.timeline_path.read_text().splitlines() if '"start"' in line]
    assert "as received (VP8)" in start[0]


def test_a_loss_is_bridged_from_a_keyframe_and_the_file_plays_through(tmp_path: Path) -> None:
    stream = vp8_stream(60)
    rec = record(tmp_path, interleaved(stream, skip={10}), copy_received_video=True)
    stats = rec.stats()
    # frames 10-29 had no usable received frame (10 lost, 11-29 refer to it): their decoded
    # twins were encoded; from the keyframe at 30 the received ones are kept again
    assert stats["reencoded"] == 20
    assert stats["awaiting_keyframe"] == 19
    assert stats["copied"] == 40
    codec, datas, keys = applicant_packets(rec.path)
    assert codec == "vp8" and len(datas) == 60
    assert datas[:10] == [enc.data for enc, _ in stream[:10]]
    assert datas[30:] == [enc.data for enc, _ in stream[30:]]
    assert keys[10]  # the bridge starts with a keyframe of its own
    assert decoded_count(rec.path) == 60  # no hole, no frame the decoder refused


def test_without_received_frames_the_decoded_ones_are_encoded(tmp_path: Path) -> None:
    stream = vp8_stream(30)
    items = [("applicant_video", twin, i / FPS) for i, (_, twin) in enumerate(stream)]
    rec = record(tmp_path, items, copy_received_video=True)
    assert rec.stats()["reencoded"] == 30 and rec.stats()["copied"] == 0
    codec, datas, keys = applicant_packets(rec.path)
    assert codec == "vp8" and len(datas) == 30 and keys[0]
    assert decoded_count(rec.path) == 30


def test_a_recorder_that_encodes_ignores_received_frames(tmp_path: Path) -> None:
    stream = vp8_stream(10)
    rec = Recorder(tmp_path / "rec.mkv", video_sizes={"applicant_video": SIZE})
    assert rec.wants_encoded_video is False
    rec.start()
    assert rec.submit(ENCODED_KIND, stream[0][0]) is False
    assert rec.submit("applicant_video", stream[0][1])
    rec.stop()
    codec, datas, _ = applicant_packets(rec.path)
    assert codec == "h264" and len(datas) == 1


def test_malformed_received_frames_are_counted_not_written(tmp_path: Path) -> None:
    stream = vp8_stream(5)
    items: list[tuple[str, Any, float]] = [
        (ENCODED_KIND, b"not a frame", 0.0),  # not an EncodedVideo
        (ENCODED_KIND, EncodedVideo("h264", b"\x00\x00\x01", 0, True, True), 0.01),
    ]
    items += [(kind, frame, t + 0.1) for kind, frame, t in interleaved(stream)]
    rec = record(tmp_path, items, copy_received_video=True)
    stats = rec.stats()
    assert stats["bad"]["applicant_video"] == 2
    assert applicant_packets(rec.path)[1] == [enc.data for enc, _ in stream]


def test_a_received_frame_the_decoder_refused_is_never_written(tmp_path: Path) -> None:
    """A hostile or damaged payload (no decoded twin: the live decoder refused it) stays out
    of the file; the frames after it, which refer to it, are bridged from a keyframe."""
    stream = vp8_stream(60)
    items = interleaved(stream)
    # frame 12 arrives with a payload the live decoder refused: no twin for it
    bad = EncodedVideo("vp8", b"\x00\x00\x00\x9d\x01\x2a\x40\x01\xf0\x00" + b"\xff" * 64,
                       12 * TICK, True, True, (320, 240))
    items = [(k, bad if k == ENCODED_KIND and f.pts == 12 * TICK else f, t)
             for k, f, t in items if not (k == "applicant_video" and f.pts == 12 * TICK)]
    rec = record(tmp_path, items, copy_received_video=True)
    stats = rec.stats()
    _, datas, keys = applicant_packets(rec.path)
    assert bad.data not in datas
    assert datas[:12] == [enc.data for enc, _ in stream[:12]]
    assert stats["reencoded"] == 30 - 13  # frames 13-29, until the sender's keyframe at 30
    assert datas[-30:] == [enc.data for enc, _ in stream[30:]]
    assert len(datas) == 59 and keys[12]
    assert decoded_count(rec.path) == 59


# ------------------------------------------------------------------ the tap in the buffer ---
def test_vp8_keyframe_header() -> None:
    stream = vp8_stream(2)
    assert vp8_keyframe_size(stream[0][0].data) == SIZE
    assert vp8_keyframe_size(stream[1][0].data) is None  # an inter frame
    assert vp8_keyframe_size(b"") is None
    assert vp8_keyframe_size(b"\x00" * 3 + b"\x9d\x01\x2a" + b"\x00" * 4) is None  # 0x0
    assert vp8_keyframe_size(b"\x00" * 9) is None


def test_received_frames_count_from_the_first_across_the_rtp_wrap() -> None:
    taps = Taps()
    start = 2**32 - 2 * TICK
    data = vp8_stream(1)[0][0].data
    for i in range(4):
        taps.tap.frame(data, (start + i * TICK) % 2**32, 96, 1234, True)
    assert [f.pts for f in taps.frames] == [0, TICK, 2 * TICK, 3 * TICK]


def _rtp(seq: int, ts: int, data: bytes, marker: bool) -> RtpPacket:
    packet = RtpPacket(payload_type=96, marker=int(marker), sequence_number=seq % 65536,
                       timestamp=ts, ssrc=1234, payload=data)
    packet._data = data  # type: ignore[attr-defined]  # what aiortc's depayloader leaves
    return packet


class Taps:
    def __init__(self, keyframe_interval_s: float = 60.0) -> None:
        self.now = 0.0
        self.frames: list[EncodedVideo] = []
        self.requests: list[int] = []
        self.tap = VideoTap(self.frames.append, lambda pt: "VP8" if pt == 96 else None,
                            self.requests.append, keyframe_interval_s=keyframe_interval_s,
                            clock=lambda: self.now)


@pytest.mark.parametrize("on_marker", [True, False])
def test_the_tap_marks_a_lost_stretch_and_asks_for_a_keyframe(on_marker: bool) -> None:
    stream = vp8_stream(40, gop=1000)
    taps = Taps()
    buf = MarkerJitterBuffer(capacity=32, tap=taps.tap, release_on_marker=on_marker)
    seq = 100
    lost = range(5, 9)  # frames whose packets never come (no retransmission)
    for i, (enc, _) in enumerate(stream):
        taps.now = i / FPS
        half = len(enc.data) // 2
        for part, last in ((enc.data[:half], False), (enc.data[half:], True)):
            if i not in lost:
                buf.add(_rtp(seq, 5000 + enc.pts, part, last))
            seq += 1
    got = {f.pts // TICK: f for f in taps.frames}
    assert all(got[i].data == stream[i][0].data for i in got)  # whole frames, reassembled
    assert got[0].keyframe and not got[0].contiguous  # nothing before the first
    assert all(got[i].contiguous for i in got if 0 < i < 5)
    after = sorted(i for i in got if i > 8)
    assert after and not got[after[0]].contiguous  # the buffer skipped the lost stretch
    assert taps.requests and taps.requests[0] == 1234  # and a keyframe was asked for
    assert len(taps.requests) <= 1 + (after[-1] - after[0]) // (FPS // 2) + 1  # ≤ 2 a second


def test_the_tap_asks_for_a_keyframe_every_interval_only_while_wanted() -> None:
    stream = vp8_stream(120, gop=1000)
    taps = Taps(keyframe_interval_s=1.0)
    wanted = [True]
    taps.tap._wanted = lambda: wanted[0]  # type: ignore[method-assign]
    for i, (enc, _) in enumerate(stream):
        taps.now = i / FPS
        if i == 90:
            wanted[0] = False
        taps.tap.frame(enc.data, 5000 + enc.pts, 96, 1234, True)
    # keyframe at 0 s; asked at 1.0 s, 1.5 s (none came), 2.0 s, 2.5 s; none once unwanted
    assert len(taps.requests) == 4
    assert len(taps.frames) == 90
    taps.tap.frame(stream[0][0].data, 0, 111, 1234, True)  # another codec: not passed on
    assert len(taps.frames) == 90


# ------------------------------------------------------------------ in a real call ----------
class KeptBytes:
    """A second sink taking the received frames: what the engine handed over."""

    wants_encoded_video = True

    def __init__(self) -> None:
        self.frames: list[EncodedVideo] = []

    def __call__(self, kind: str, frame: Any, ts: float) -> None:
        if kind == ENCODED_KIND:
            self.frames.append(frame)


def test_a_real_call_is_recorded_as_received(desk_server: Any, tmp_path: Path) -> None:
    from media.api import CallState
    from media.engine import MediaEngine
    from media.recorder import Recorder as SessionRecorder
    from tests.test_media_call import Recorder as Listener
    from tests.test_media_call import start_applicant, wait_for

    desk = desk_server
    rossi = desk.seed_request("ROSSI")
    applicant = start_applicant(desk.base_url, rossi["join_token"], tmp_path / "applicant.log")
    listener = Listener()
    engine = MediaEngine(listener, camera=None, microphone=None)
    kept = KeptBytes()
    rec = SessionRecorder(tmp_path / "call.mkv", copy_received_video=True).start()
    try:
        wait_for(lambda: desk.api("GET", "/queue", username="operatore1").json()["length"] == 1,
                 60, "the applicant in the queue")
        resp = desk.api("POST", "/queue/next", username="operatore1")
        assert resp.status_code == 200, resp.text
        engine.add_media_sink(rec)
        engine.add_media_sink(kept)
        engine.start()
        engine.start_call(desk.base_url, desk.token("operatore1"), resp.json()["session_id"],
                          ice_servers=[]).result(15)
        wait_for(lambda: listener.state is CallState.CONNECTED, 30, "CONNECTED")
        wait_for(lambda: listener.frames >= 15, 30, "frames")
        time.sleep(6)  # 15 fps: ~90 frames, and several keyframes asked for
        engine.hang_up().result(10)
    finally:
        engine.stop(15)
        rec.stop()
        applicant.kill()
        applicant.wait(10)
    stats = rec.stats()
    assert stats["copied"] >= 60, stats
    assert stats["reencoded"] <= stats["copied"] // 10, stats  # only around a loss, if any
    codec, datas, _ = applicant_packets(rec.path)
    assert codec == "vp8"
    handed = {f.data for f in kept.frames}
    assert sum(d in handed for d in datas) >= stats["copied"]  # the received bytes, unchanged
    with av.open(str(rec.path)) as c:
        stream = next(s for s in c.streams.video if s.metadata.get("title") == "applicant_video")
        key_times = [float(p.pts * p.time_base) for p in c.demux(stream)
                     if p.size and p.is_keyframe]
    assert len(key_times) >= 3, key_times  # the sender answered the keyframe requests
    assert max(b - a for a, b in itertools.pairwise(key_times)) <= 3.0, key_times
    assert decoded_count(rec.path) >= len(datas) - 1


def test_the_trainers_player_seeks_in_a_stream_that_changes_size(tmp_path: Path) -> None:
    """A browser adapting to the network changes the size it sends: kept as received, the
    stream changes size at a keyframe, and the player's seek lands on the right frame at the
    size it was sent at."""
    from media.playback import VideoDecoder, probe

    first, second = vp8_stream(45, gop=15), []
    big = (480, 360)
    ctx = av.CodecContext.create("libvpx", "w")
    ctx.width, ctx.height, ctx.pix_fmt = *big, "yuv420p"
    ctx.time_base = Fraction(1, FPS)
    ctx.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "g": "15"}
    dec = av.CodecContext.create("libvpx", "r")
    for i in range(45, 90):
        picture = av.VideoFrame.from_ndarray(
            np.full((big[1], big[0], 3), (i * 3) % 256, np.uint8), format="rgb24")
        picture = picture.reformat(format="yuv420p")
        picture.pts = i
        (packet,) = ctx.encode(picture)
        data = bytes(packet)
        (twin,) = dec.decode(av.Packet(data))
        twin.pts, twin.time_base = i * TICK, Fraction(1, RTP_VIDEO_RATE)
        size = vp8_keyframe_size(data)
        second.append((EncodedVideo("vp8", data, i * TICK, size is not None, i > 45, size), twin))
    rec = record(tmp_path, interleaved(first + second), copy_received_video=True)
    assert rec.stats()["copied"] == 90
    info = probe(rec.path)
    decoder = VideoDecoder(rec.path, info.videos["applicant_video"])
    try:
        for t, size in ((2.9, big), (0.4, SIZE), (1.45, SIZE), (1.55, big), (0.0, SIZE)):
            frame = decoder.seek(t)
            assert frame is not None, t
            assert (frame.width, frame.height) == size, (t, frame.width, frame.height)
            assert decoder.current_t is not None and t - 0.05 <= decoder.current_t <= t + 1e-6
    finally:
        decoder.close()


def test_a_new_peer_connection_starts_a_new_clock_without_leftovers(tmp_path: Path) -> None:
    """After a reconnection the received frames count from 0 again: a frame of the old
    connection that never decoded is forgotten, not kept waiting to break the new stream."""
    old, new = vp8_stream(20), vp8_stream(40)
    for enc, twin in old:  # the old connection's clock is not the new one's
        object.__setattr__(enc, "pts", enc.pts + 7)
        twin.pts += 7
    items = interleaved(old)
    items = [it for it in items if not (it[0] == "applicant_video" and it[1].pts == 19 * TICK + 7)]
    items += [(kind, frame, t + 5.0) for kind, frame, t in interleaved(new)]
    rec = record(tmp_path, items, copy_received_video=True)
    stats = rec.stats()
    assert stats["copied"] == 19 + 40, stats  # the old one's last frame never decoded
    assert stats["reencoded"] == 0
    _, datas, _ = applicant_packets(rec.path)
    assert datas == [e.data for e, _ in old[:19]] + [e.data for e, _ in new]
    assert decoded_count(rec.path) == 59


def test_a_stream_over_the_budget_is_encoded_again_until_it_is_back_under(
        tmp_path: Path) -> None:
    """A sender above the evidence's budget (a browser ignoring the page, a hostile one filling
    the archive) is encoded at the recorder's own bitrate; kept as received again once back
    under 80 % of the budget, from a keyframe."""
    busy = vp8_stream(150, gop=15)  # 5 s of a moving picture, then 5 s of a still one
    calm = vp8_stream(150, gop=60, still=True, start=150)
    kbps = sum(len(e.data) for e, _ in busy) * 8 / 5 / 1000
    assert sum(len(e.data) for e, _ in calm) * 8 / 5 / 1000 < kbps * 0.3
    stream = busy + calm
    items = interleaved(stream)
    rec = record(tmp_path, items, copy_received_video=True,
                 received_video_max_kbps=int(kbps * 0.6))
    stats = rec.stats()
    # judged once half a window (2 s) is in: over from then; back under 80 % of the budget
    # once enough of the still part fills the window, kept again from the keyframe after
    assert stats["over_budget"] >= 150 - 60, stats
    assert stats["reencoded"] == stats["over_budget"] + stats["awaiting_keyframe"], stats
    assert stats["copied"] >= 60 + 30, stats
    _, datas, _ = applicant_packets(rec.path)
    assert len(datas) == 300
    assert datas[:60] == [e.data for e, _ in stream[:60]]  # before the judgement: as received
    assert datas[-30:] == [e.data for e, _ in stream[-30:]]  # after it: as received again
    assert decoded_count(rec.path) == 300


def test_a_sender_that_sends_no_keyframes_is_encoded_again_so_seeks_stay_short(
        tmp_path: Path) -> None:
    """A sender answering no keyframe request: past RECEIVED_KEYFRAME_MAX_S without one the
    recorder encodes the decoded frames (a keyframe every 2 s) until the sender's next one."""
    from media.recorder import RECEIVED_KEYFRAME_MAX_S

    stream = vp8_stream(300, gop=1000)  # 10 s, one keyframe at the start
    rec = record(tmp_path, interleaved(stream), copy_received_video=True)
    stats = rec.stats()
    kept = int(RECEIVED_KEYFRAME_MAX_S * FPS) + 1
    assert stats["copied"] == kept, stats
    assert stats["reencoded"] == 300 - kept, stats
    with av.open(str(rec.path)) as c:
        s = next(s for s in c.streams.video if s.metadata.get("title") == "applicant_video")
        packets = [(float(p.pts * p.time_base), p.is_keyframe) for p in c.demux(s) if p.size]
    last_key = 0.0
    for t, key in packets:  # every frame within the limit (+ a GOP) of its keyframe
        last_key = t if key else last_key
        assert t - last_key <= RECEIVED_KEYFRAME_MAX_S + 0.1, (t, last_key)
    assert decoded_count(rec.path) == 300
