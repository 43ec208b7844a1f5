"""Cheap measurements on the applicant's decoded video for the injection signals: the sender's
capture clock (RTP timestamps) and pictures that come back (a looped clip).

The media engine feeds every decoded frame's timestamp to ``ClockGrid`` and, a few times a
second, a small luma thumbnail to ``RepeatDetector``; both only *measure* (a run length, a
repeat length) and the console (``console.injection``) decides what the measure means. Costs:
``ClockGrid.add`` is a few integer operations; a thumbnail is built from the luma plane already
sampled for the frozen-picture digest (``luma_sample``) and compared with two minutes of
history in one NumPy operation (≈ 0.1 ms).

Why the RTP timestamp and not the arrival time: arrival times carry the network's jitter, the
timestamp is the sender's capture clock (90 kHz). Browsers derive it from the capture time in
whole milliseconds (libwebrtc: ``ntp_time_ms * 90``), so a browser's camera at 30 fps gives
intervals of 33 and 34 ms (2,970 and 3,060 ticks); a sender that stamps frames from a
synthetic clock (a file's or a generator's timestamps pushed by a custom WebRTC client) gives
the same interval to the tick, frame after frame.
"""

from __future__ import annotations

import zlib

import av
import cv2
import numpy as np

#: sampling step of the luma plane (both ways) for the digest and the thumbnail
SAMPLE_STEP = 8
#: a sampled picture whose luma spans less than this is uniform (a camera turned off): ignored
MIN_RANGE = 8
#: RTP video clock (ticks per second)
RTP_CLOCK = 90_000
#: an interval outside these bounds is not a frame interval (a pause, a reordering)
_MIN_INTERVAL = RTP_CLOCK // 120
_MAX_INTERVAL = RTP_CLOCK
#: frames dropped between two received ones keep the grid (interval × k, k ≤ this)
_MAX_SKIP = 4
#: thumbnails compared for repeats: size, history kept, shortest lag that counts as a repeat
THUMB_SIZE = (32, 18)  # (width, height)
REPEAT_HISTORY_S = 120.0
REPEAT_MIN_LAG_S = 2.0
#: a repeat needs movement: mean absolute luma change since the previous sample of at least
#: this (sensor noise alone gives ≈ 0.1–0.3 on a thumbnail); samples with less neither count
#: nor break a run
REPEAT_MIN_MOTION = 1.0
#: ... and a match much closer than that movement: mean absolute difference ≤ this share of it,
#: or ≤ the floor (what the codec re-encoding a clip on each loop leaves: ≈ 0.2–0.4)
REPEAT_MATCH_RATIO = 0.3
REPEAT_MATCH_FLOOR = 0.6
#: consecutive matches stay at one lag to within this (s): a replay has a fixed period
REPEAT_LAG_TOLERANCE_S = 0.6


def luma_plane(frame: av.VideoFrame) -> np.ndarray | None:
    """The frame's luma plane as a (height, width) view (no copy), or None if unreadable."""
    plane = frame.planes[0]
    width, height, stride = int(plane.width), int(plane.height), int(plane.line_size)
    data = np.frombuffer(plane, np.uint8)
    if width <= 0 or height <= 0 or data.size < stride * height:
        return None
    return data[: stride * height].reshape(height, stride)[:, :width]


def luma_sample(frame: av.VideoFrame) -> np.ndarray | None:
    """The luma plane sampled every ``SAMPLE_STEP`` pixels both ways (a view, no copy), or None
    for a uniform picture or a frame that cannot be read."""
    plane = luma_plane(frame)
    if plane is None:
        return None
    sample = plane[::SAMPLE_STEP, ::SAMPLE_STEP]
    if int(sample.max()) - int(sample.min()) < MIN_RANGE:
        return None
    return sample


def digest(sample: np.ndarray) -> int:
    """CRC-32 of a luma sample: equal digests, the same picture to the bit."""
    return zlib.crc32(np.ascontiguousarray(sample).tobytes())


def thumbnail(frame: av.VideoFrame) -> np.ndarray | None:
    """The luma plane averaged down to ``THUMB_SIZE`` (float32, flattened): independent of the
    resolution, and averaging every pixel (1,600 of them per cell at 720p) takes the sensor
    noise and the codec's block noise out. None if the frame cannot be read."""
    plane = luma_plane(frame)
    if plane is None:
        return None
    small = cv2.resize(plane, THUMB_SIZE, interpolation=cv2.INTER_AREA)
    return small.astype(np.float32).ravel()


class ClockGrid:
    """How many consecutive frames carry RTP timestamps on one exact grid: each interval the
    same number of 90 kHz ticks (to ±1 tick of rounding), frames dropped in between allowed.
    ``run`` is the current run's length in frames, ``longest`` the longest seen."""

    def __init__(self) -> None:
        self._last: int | None = None
        self._interval = 0
        self.run = 0
        self.longest = 0

    def add(self, pts: int | None) -> None:
        if pts is None:
            return
        last, self._last = self._last, int(pts)
        if last is None:
            return
        delta = (int(pts) - last) % (1 << 32)  # RTP timestamps wrap at 2^32
        if delta == 0 or delta > _MAX_SKIP * _MAX_INTERVAL:
            self.run = 0  # a repeated timestamp or a jump: no grid to speak of
            return
        interval = self._interval
        if interval:
            skip = round(delta / interval)
            if 1 <= skip <= _MAX_SKIP and abs(delta - skip * interval) <= skip:
                self.run += 1
                self.longest = max(self.longest, self.run)
                return
        self._interval = delta if _MIN_INTERVAL <= delta <= _MAX_INTERVAL else 0
        self.run = 1 if self._interval else 0


class RepeatDetector:
    """Finds the picture sequence coming back: a clip looped as the camera. Each ``add`` (a
    thumbnail, a few times a second) compares the picture with every earlier one kept, at each
    lag (in samples) of at least ``REPEAT_MIN_LAG_S``: a match counts when the picture is moving
    (``REPEAT_MIN_MOTION``) and the earlier one is far closer than the movement
    (``REPEAT_MATCH_RATIO``). A run per lag counts consecutive samples matching at that lag (to
    ±1 sample, the sampling is not exactly periodic): a diagonal of the self-similarity matrix.
    ``streak_s`` is the longest current run in seconds, ``longest_s`` the longest seen,
    ``lag_s`` its lag. A looped clip keeps one run going at its period for as long as it plays;
    a live scene gives none, or short ones where a movement happens to come back."""

    def __init__(self, interval_s: float) -> None:
        self._interval = interval_s
        size = int(REPEAT_HISTORY_S / interval_s) + 1
        self._thumbs = np.zeros((size, THUMB_SIZE[0] * THUMB_SIZE[1]), np.float32)
        self._times = np.full(size, -np.inf)
        self._next = 0
        self._count = 0
        self._last: np.ndarray | None = None
        self._motion = 0.0  # the last sample's change since the one before
        # runs[k]: consecutive samples matching the one k samples earlier (index 0 and the last
        # stay 0: the ±1 neighbourhood of every lag is read without bounds checks)
        self._runs = np.zeros(size + 2, np.int32)
        self._lags = np.arange(size + 2)
        self.streak_s = 0.0
        self.longest_s = 0.0
        self.lag_s = 0.0

    def add(self, now: float, thumb: np.ndarray | None) -> None:
        if thumb is None:  # a uniform picture: no movement, no match, the runs end
            self._runs[:] = 0
            self.streak_s = 0.0
            self._last = None
            return
        self._motion = 0.0 if self._last is None else float(np.abs(thumb - self._last).mean())
        self._last = thumb
        self._match(now, thumb)
        self._thumbs[self._next] = thumb
        self._times[self._next] = now
        self._next = (self._next + 1) % len(self._times)
        self._count = min(self._count + 1, len(self._times))

    def _match(self, now: float, thumb: np.ndarray) -> None:
        size, count = len(self._times), self._count
        # this sample's own movement: a still moment right after a cut does not count
        motion = self._motion
        runs = self._runs
        if motion < REPEAT_MIN_MOTION or count == 0:
            return  # a still moment proves nothing either way: the runs wait for movement
        # slot of each lag 1..count (lag 1: the thumbnail added last)
        slots = (self._next - self._lags[1:count + 1]) % size
        distance = np.abs(self._thumbs - thumb).mean(axis=1)[slots]
        lag_s = now - self._times[slots]
        match = np.zeros(size + 2, bool)
        limit = max(REPEAT_MATCH_RATIO * motion, REPEAT_MATCH_FLOOR)
        match[1:count + 1] = ((distance <= limit)
                              & (lag_s >= REPEAT_MIN_LAG_S))
        carried = np.maximum(np.maximum(runs[:-2], runs[1:-1]), runs[2:])
        updated = np.zeros_like(runs)
        updated[1:-1] = np.where(match[1:-1], carried + 1, 0)
        self._runs = updated
        best = int(np.argmax(updated))
        self.streak_s = round(int(updated[best]) * self._interval, 2)
        if self.streak_s > self.longest_s:
            self.longest_s = self.streak_s
            self.lag_s = round(float(lag_s[best - 1]), 2)
