"""Frame stamp: paint/read, and survival through a real VP8 encode/decode (PyAV/libvpx)."""

from __future__ import annotations

import time
from fractions import Fraction

import av
import numpy as np
import pytest
from skimage import data

from media import framestamp as fs


def _scene_i420(width: int, height: int) -> np.ndarray:
    """A natural picture (the astronaut portrait) tiled to the size, as I420."""
    import cv2

    rgb = cv2.resize(data.astronaut(), (width, height))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)


@pytest.mark.parametrize("ms", [0, 1, 1_700_000_000_123, fs.MAX_VALUE, 0xA5A5A5A5A5A5])
def test_paint_read_bgr(ms: int) -> None:
    img = np.full((720, 1280, 3), 90, dtype=np.uint8)
    fs.paint_bgr(img, ms)
    assert fs.read_bgr(img) == ms


def test_paint_read_i420_frame() -> None:
    buf = _scene_i420(1280, 720)
    ms = int(time.time() * 1000)
    fs.paint_i420(buf, 1280, 720, ms)
    frame = av.VideoFrame.from_ndarray(buf, format="yuv420p")
    assert fs.read_frame(frame) == ms
    # also through a conversion path (rgb frame)
    rgb = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
    assert fs.read_frame(rgb) == ms


def test_unstamped_frames_read_none() -> None:
    buf = _scene_i420(1280, 720)
    assert fs.read_frame(av.VideoFrame.from_ndarray(buf, format="yuv420p")) is None
    white = np.full((720, 1280, 3), 255, dtype=np.uint8)
    white[8, 500:] = 128  # a white frame with a grey row is not a stamp of all ones
    white[4:12, 16:] = 128
    assert fs.read_bgr(white) is None
    assert fs.read_frame(av.VideoFrame(width=320, height=240, format="yuv420p")) is None


def test_bad_values_and_sizes() -> None:
    with pytest.raises(ValueError):
        fs.paint_bgr(np.zeros((720, 1280, 3), np.uint8), -1)
    with pytest.raises(ValueError):
        fs.paint_bgr(np.zeros((720, 1280, 3), np.uint8), fs.MAX_VALUE + 1)
    with pytest.raises(ValueError):
        fs.paint_bgr(np.zeros((8, 640, 3), np.uint8), 5)
    with pytest.raises(ValueError):
        fs.paint_i420(np.zeros((10, 10), np.uint8), 1280, 720, 5)


@pytest.mark.parametrize("bitrate", [150_000, 1_000_000])
def test_survives_vp8_round_trip(bitrate: int) -> None:
    width, height = 1280, 720
    enc = av.CodecContext.create("libvpx", "w")
    enc.width, enc.height = width, height
    enc.pix_fmt = "yuv420p"
    enc.bit_rate = bitrate
    enc.framerate = 30
    enc.time_base = Fraction(1, 30)
    enc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    dec = av.CodecContext.create("vp8", "r")
    base = _scene_i420(width, height)
    rng = np.random.default_rng(7)
    sent: list[int] = []
    got: list[int | None] = []
    t0 = 1_790_000_000_000
    for i in range(20):
        buf = base.copy()
        # add noise so the encoder is starved at the low bitrate
        buf[:height] = np.clip(
            buf[:height].astype(np.int16) + rng.integers(-30, 30, (height, width)), 0, 255
        ).astype(np.uint8)
        ms = t0 + i * 33 + int(rng.integers(0, 1 << 20))
        fs.paint_i420(buf, width, height, ms)
        frame = av.VideoFrame.from_ndarray(buf, format="yuv420p")
        frame.pts = i
        sent.append(ms)
        for packet in enc.encode(frame):
            for decoded in dec.decode(packet):
                assert decoded.format.name == "yuv420p"
                got.append(fs.read_frame(decoded))
    for packet in enc.encode(None):
        for decoded in dec.decode(packet):
            got.append(fs.read_frame(decoded))
    assert len(got) == len(sent)
    assert got == sent


def test_read_is_cheap() -> None:
    """Not a timing assert: just that reading does not touch the whole picture."""
    buf = _scene_i420(1280, 720)
    fs.paint_i420(buf, 1280, 720, 42)
    frame = av.VideoFrame.from_ndarray(buf, format="yuv420p")
    for _ in range(100):
        assert fs.read_frame(frame) == 42
