"""Reconnection delays: capped exponential backoff with jitter, and no limit on the attempts.

``Backoff().delay(n)`` is the wait before reconnection attempt ``n`` (1, 2, 3…):
``min(cap_s, initial_s · factor^(n-1))``, then moved by up to ``± jitter`` of itself at random
so that many consoles cut off by the same outage do not all come back in the same second.
With the defaults: 0.5, 1, 2, 4, 8, 15, 15, 15… s (each ±20 %: never more than 18 s).

There is no attempt limit here: whoever retries stops when the call or the app closes, or when
the service refuses the sign-in (media.engine).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

RECONNECT_INITIAL_S = 0.5
RECONNECT_FACTOR = 2.0
RECONNECT_CAP_S = 15.0
RECONNECT_JITTER = 0.2


@dataclass(frozen=True, slots=True)
class Backoff:
    initial_s: float = RECONNECT_INITIAL_S
    factor: float = RECONNECT_FACTOR
    cap_s: float = RECONNECT_CAP_S
    jitter: float = RECONNECT_JITTER  # ± this fraction of the delay

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.factor < 1 or self.cap_s < self.initial_s:
            raise ValueError("backoff needs 0 < initial_s <= cap_s and factor >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def base(self, attempt: int) -> float:
        """The delay before attempt ``attempt`` (1-based) without jitter."""
        n = max(1, attempt)
        # the exponent is bounded: past the cap it only has to stay past it (no overflow)
        exponent = min(n - 1, 64)
        return float(min(self.cap_s, self.initial_s * self.factor ** exponent))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The jittered delay before attempt ``attempt``: within base ± jitter · base."""
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return self.base(attempt) * (1.0 + spread)

    @property
    def longest_s(self) -> float:
        """The longest delay there can ever be (cap plus jitter)."""
        return self.cap_s * (1.0 + self.jitter)

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """Every delay, attempt after attempt, for ever."""
        attempt = 0
        while True:
            attempt += 1
            yield self.delay(attempt, rng)
