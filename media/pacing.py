"""Frame pacing for generated video tracks: a frame every 1/fps on the wall clock, and the
timestamps that go with it.

aiortc pulls frames from a track as fast as ``recv()`` returns them, so a track that makes its
own pictures (the operator's "no camera" card, the demo's synthetic applicant, a clip played as
a camera) must wait for each frame's time itself. ``FramePacer.wait()`` sleeps until then; when
the loop has fallen far behind (a busy machine) it starts counting again from now instead of
sending the missed frames in a burst.
"""

from __future__ import annotations

import asyncio
import fractions
import time

#: the RTP video clock: pts of generated frames count in these ticks
VIDEO_CLOCK = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)


class FramePacer:
    """One track's pacing. ``n`` is the number of the frame being made (0 first), ``origin``
    the wall time of frame 0 (it never moves); ``resync_s`` (None: never) is how late a frame
    may be before the count restarts from now."""

    def __init__(self, fps: float, resync_s: float | None = 0.5) -> None:
        self.fps = max(1e-3, float(fps))
        self.resync_s = resync_s
        self.n = 0
        self.origin = 0.0
        self._start: float | None = None
        self._last_pts = -1

    @property
    def started(self) -> bool:
        return self._start is not None

    def restart(self) -> None:
        """The next ``wait()`` is frame 0 again, from a new origin."""
        self._start = None

    async def wait(self) -> int:
        """Sleep until the next frame is due; returns its number."""
        if self._start is None:
            self._start = self.origin = time.time()
            self.n = 0
            return 0
        self.n += 1
        late = time.time() - (self._start + self.n / self.fps)
        if late < 0:
            await asyncio.sleep(-late)
        elif self.resync_s is not None and late > self.resync_s:
            self._start = time.time() - self.n / self.fps
        return self.n

    def pts_of_frame(self) -> int:
        """The current frame's pts on an exact grid (n / fps)."""
        return int(self.n * VIDEO_CLOCK / self.fps)

    def pts_at(self, now: float) -> int:
        """A pts from the wall time ``now`` since ``origin``, strictly increasing (libvpx
        rejects anything else): the capture clock of a real camera."""
        pts = max(int((now - self.origin) * VIDEO_CLOCK), self._last_pts + 1)
        self._last_pts = pts
        return pts
