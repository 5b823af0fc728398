"""Sliding one-second window counter, the exchange's rate-limit model."""

from __future__ import annotations

from collections import deque


class SlidingWindow:
    """Arrival times of the last second for one (api key, endpoint).

    Every arrival counts, refused ones included: a client that keeps hammering a limited
    endpoint keeps itself limited, as on the exchange.
    """

    __slots__ = ("_times",)

    def __init__(self) -> None:
        self._times: deque[float] = deque()

    def hit(self, now: float) -> int:
        """Record an arrival at ``now`` (monotonic seconds); return arrivals in (now-1, now]."""
        times = self._times
        edge = now - 1.0
        while times and times[0] <= edge:
            times.popleft()
        times.append(now)
        return len(times)
