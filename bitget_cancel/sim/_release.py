"""The exchange's weekly release window: for a stretch, trade endpoints answer with one of
the codes the FAQ lists and say to retry; the request is not acted on."""

from __future__ import annotations

import random

from ._wire import SimError

# (code, msg) the FAQ names for release windows. Uncertain: the HTTP status of these answers
# is not documented, so it is drawn from 400 and 500; clients must read the code.
RELEASE_ERRORS: tuple[tuple[str, str], ...] = (
    ("45001", "Unknown error"),
    ("40725", "service return an error"),
    ("40808", "Parameter verification exception"),
    ("40015", "System is abnormal, please try again later"),
)


# Counted in ``stats.injected`` under this name.
RELEASE_WINDOW = "release_window"


class ReleaseWindow:
    """When the window is open and with what probability a request is refused."""

    __slots__ = ("_end", "_rate", "_start")

    def __init__(self) -> None:
        self._start = 0.0
        self._end = 0.0
        self._rate = 1.0

    def open(self, now: float, start_in_s: float, duration_s: float, rate: float) -> None:
        if start_in_s < 0 or duration_s < 0:
            raise ValueError("release window start and duration must be >= 0")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"release window rate must be within [0, 1], got {rate!r}")
        self._start = now + start_in_s
        self._end = self._start + duration_s
        self._rate = rate

    def close(self) -> None:
        self._end = self._start

    def active(self, now: float) -> bool:
        return self._start <= now < self._end

    def refusal(self, now: float, rng: random.Random) -> SimError | None:
        """The answer for a trade request arriving at ``now``, or None to go ahead."""
        if not self.active(now):
            return None
        if self._rate < 1.0 and rng.random() >= self._rate:
            return None
        code, msg = rng.choice(RELEASE_ERRORS)
        return SimError(rng.choice((400, 500)), code, msg)
