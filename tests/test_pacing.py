"""media.pacing: generated tracks are paced on the wall clock and stamped consistently."""

from __future__ import annotations

import asyncio
import time

from media.pacing import VIDEO_CLOCK, FramePacer


def test_frames_come_at_the_rate_and_catch_up_without_a_burst() -> None:
    async def run() -> tuple[float, list[int]]:
        pacer = FramePacer(50.0)
        start = time.monotonic()
        numbers = [await pacer.wait() for _ in range(11)]  # frame 0 at once, then 10 at 20 ms
        elapsed = time.monotonic() - start
        await asyncio.sleep(0.8)  # the loop was busy: 40 frames late
        before = time.monotonic()
        await pacer.wait()  # not 40 frames in a burst: the count restarts from now
        await pacer.wait()
        assert time.monotonic() - before >= 0.015
        return elapsed, numbers

    elapsed, numbers = asyncio.run(run())
    assert numbers == list(range(11))
    assert elapsed >= 0.19


def test_pts_on_a_grid_or_from_the_wall_clock_strictly_increasing() -> None:
    pacer = FramePacer(30.0)
    asyncio.run(pacer.wait())
    asyncio.run(pacer.wait())
    assert pacer.pts_of_frame() == VIDEO_CLOCK // 30
    now = pacer.origin + 1.0
    assert pacer.pts_at(now) == VIDEO_CLOCK
    assert pacer.pts_at(now) == VIDEO_CLOCK + 1  # the same instant twice: still increasing
    pacer.restart()
    assert not pacer.started
