"""When a request reached the exchange, on the local clock: the early reuse of a slot.

The exchange counts a request in its window from its *arrival*; the budget, not knowing it,
counts from the answer, one round trip later than it could. Every Bitget answer carries
``requestTime``, the exchange's clock (ms) when it took the request; the simulator stamps it on
the arrival it counts. For an answered request A sent at local time ``s_A``::

    sample_A = requestTime_A - s_A = offset + up_A

(``offset``: exchange clock minus local clock; ``up_A``: A's one-way time to the exchange). The
least sample of the recent ones, ``m = offset + up_min``, maps A's stamp to the local clock:
``requestTime_A - m`` is when A arrived had it gone up in ``up_min``. A request B sent at local
``s`` arrives at exchange time ``s + offset + up_B``, at or after ``requestTime_A + period``
(A has left the window) as soon as ``s >= requestTime_A - m + period`` *and* ``up_B >= up_min``.
The offset cancels out: no clock sync is needed.

That last condition is an assumption, not a certainty: it says that no request goes up faster
than the fastest of the recent ones by more than ``margin``. It holds where the one-way time has
a floor (distance, routing) with the jitter above it, once enough samples have found the floor:
hence ``min_samples`` before any early reuse, samples from the last ``horizon`` seconds only
(routes change, clocks drift and step), and ``margin`` (justified at ``EARLY_MARGIN``). A request
whose answer has no usable stamp, or a stamp that disagrees with the recent ones, counts from its
answer as before. And a 429 on the budget ends the early reuse for good (``RateBudget``): the
assumption may be what failed, and a 429 in a panic costs far more than the early reuse saves.

What the estimate never does: count a request from before it was sent, or from after its answer
(the answer is always a safe upper bound of its arrival).
"""

from __future__ import annotations

from collections import deque

# Seconds subtracted from the early reuse's gain: requestTime is in whole ms (1 ms each way),
# the two clocks drift up to 500 ppm (NTP's slew limit) over the horizon (5 ms), the exchange's
# gateway hosts stamp with clocks of their own (NTP keeps a data centre within a few ms), and
# the least of ``min_samples`` or more samples lies a little above the true floor of the
# one-way time (in the simulator's 100-200 ms uniform up-leg, ~5 ms above it after 20 samples;
# 25 ms leaves the chance of one arrival earlier than the estimate well under 1e-3 a request).
EARLY_MARGIN = 0.025
# Samples older than this many seconds are forgotten: clocks drift and step, routes change.
EARLY_HORIZON = 10.0
# No early reuse before this many samples in the horizon: the least of a few is no floor.
EARLY_MIN_SAMPLES = 20
# A requestTime outside these bounds (ms since 1970: 2001 to 2286) is garbage, not a clock.
_PLAUSIBLE_MS = (1_000_000_000_000, 9_999_999_999_999)
_PLAUSIBLE_DIGITS = len(str(_PLAUSIBLE_MS[1]))


class ArrivalEstimate:
    """The local time by which a request arrived at the exchange, from its answer's stamp."""

    __slots__ = ("_latest", "_least", "_times", "horizon", "margin", "min_samples", "stopped")

    def __init__(
        self,
        *,
        margin: float = EARLY_MARGIN,
        horizon: float = EARLY_HORIZON,
        min_samples: int = EARLY_MIN_SAMPLES,
    ) -> None:
        self.margin = margin
        self.horizon = horizon
        self.min_samples = min_samples
        self.stopped = False  # set for good by a 429 on a budget using it (``RateBudget``)
        self._times: deque[float] = deque()  # when each sample in the horizon was taken
        # Sliding-window extremes (monotonic deques of (taken, value)): the least of
        # requestTime - sent (offset + fastest up-leg), and the greatest of requestTime -
        # answered (a lower bound of the offset: a stamp is never after its answer).
        self._least: deque[tuple[float, float]] = deque()
        self._latest: deque[tuple[float, float]] = deque()

    @property
    def trusted(self) -> bool:
        """Enough recent samples to place an arrival before its answer."""
        return len(self._times) >= self.min_samples

    def arrived(self, sent: float, answered: float, request_time: object) -> float:
        """By when (local loop time) the request sent at ``sent`` and answered at ``answered``
        reached the exchange, as far as the window's count may rely on: ``answered`` unless
        its ``request_time`` (the answer's ``requestTime``) is usable and enough agree."""
        stamp = self.learn(sent, answered, request_time)
        return answered if stamp is None else self.place(sent, answered, stamp)

    def learn(self, sent: float, answered: float, request_time: object) -> float | None:
        """Learn from one answer; its stamp in seconds, or None if it is not usable (missing,
        garbled, or disagreeing with the recent ones)."""
        stamp = _stamp_seconds(request_time)
        if stamp is None or not sent <= answered:
            return None
        self._forget(answered - self.horizon)
        up, down = stamp - sent, stamp - answered  # offset + up-leg; offset - down-leg
        if self._times and (
            down > self._least[0][1] + self.margin or up < self._latest[0][1] - self.margin
        ):
            # Disagrees with the recent stamps (a stamp before its send or after its answer
            # on their offset): a stepped clock or a garbled stamp. Not learnt from, not used.
            return None
        self._learn(answered, up, down)
        return stamp

    def place(self, sent: float, answered: float, stamp: float) -> float:
        """The arrival of a request whose usable ``stamp`` was learnt, on what is known now:
        its answer while too few samples agree, never before its send."""
        if not self.trusted:
            return answered
        arrived = stamp - self._least[0][1] + self.margin
        return min(answered, max(sent, arrived))

    def _learn(self, taken: float, up: float, down: float) -> None:
        self._times.append(taken)
        least, latest = self._least, self._latest
        while least and least[-1][1] >= up:
            least.pop()
        least.append((taken, up))
        while latest and latest[-1][1] <= down:
            latest.pop()
        latest.append((taken, down))

    def _forget(self, before: float) -> None:
        for window in (self._least, self._latest):
            while window and window[0][0] < before:
                window.popleft()
        times = self._times
        while times and times[0] < before:
            times.popleft()


def _stamp_seconds(request_time: object) -> float | None:
    """``requestTime`` (ms, an int or a string of digits as the exchange sends it) in seconds;
    None for anything else (missing, garbled, implausible)."""
    if isinstance(request_time, bool):
        return None
    if isinstance(request_time, str):
        if not (request_time.isascii() and request_time.isdigit()):
            return None
        # int() refuses more than 4,300 digits (leading zeros too) with a ValueError.
        significant = request_time.lstrip("0")
        if len(significant) > _PLAUSIBLE_DIGITS:
            return None
        request_time = int(significant or "0")
    if not isinstance(request_time, int):
        return None
    low, high = _PLAUSIBLE_MS
    return request_time / 1000.0 if low <= request_time <= high else None
