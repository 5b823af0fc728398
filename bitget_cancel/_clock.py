"""The exchange's clock as seen from here: an offset to the local wall clock."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

from ._log import log

# One read of the exchange's clock: (round trip, offset) in seconds, or None if it failed.
ClockSample = tuple[float, float] | None


class ExchangeClock:
    """Signing timestamps on the exchange's clock; resynced after a 40008.

    Concurrent resyncs collapse into one: a batch that asks for a resync while another one is
    reading the clock waits for that reading instead of sending its own.
    """

    __slots__ = ("_lock", "_synced_at", "_wall_clock", "generation", "offset")

    def __init__(self, wall_clock: Callable[[], float]) -> None:
        self._wall_clock = wall_clock
        self.offset = 0.0  # seconds to add to the local clock to get the exchange's
        self._lock: asyncio.Lock | None = None
        self._synced_at = -math.inf
        self.generation = 0  # resyncs done; a request signed before the last one is stale

    def now(self) -> float:
        """The local wall clock (seconds), for measuring a clock read."""
        return self._wall_clock()

    def timestamp_ms(self) -> str:
        return str(int((self._wall_clock() + self.offset) * 1000))

    def set_offset(self, offset: float) -> None:
        if abs(offset - self.offset) > 0.5:
            log.debug("clock offset to the exchange: %.3fs (was %.3fs)", offset, self.offset)
        self.offset = offset

    def adopt_best(self, samples: list[ClockSample]) -> bool:
        """Take the offset of the fastest round trip (it bounds the error best)."""
        usable = [s for s in samples if s is not None]
        if not usable:
            return False
        self.set_offset(min(usable)[1])
        return True

    async def resync(self, read: Callable[[], Awaitable[ClockSample]]) -> bool:
        """Read the exchange's clock once (or wait for a read already under way)."""
        loop = asyncio.get_running_loop()
        if self._lock is None:
            self._lock = asyncio.Lock()
        requested_at = loop.time()
        async with self._lock:
            if self._synced_at >= requested_at:
                return True  # another request resynced while this one waited
            sample = await read()
            self._synced_at = loop.time()
            if sample is None:
                log.warning(
                    "could not read the exchange's clock; keeping offset %.3fs", self.offset
                )
                return False
            self.set_offset(sample[1])
            self.generation += 1
            return True
