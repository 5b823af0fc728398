"""Rate limits as the exchange keeps them: a sliding one-second window per account (UID) and
endpoint, counted on arrival, and a penalty after a limit is tripped."""

from __future__ import annotations

from ._stats import SimStats
from ._window import SlidingWindow
from ._wire import SimError

LIMIT_SCOPES = ("account", "key")


def too_many() -> SimError:
    return SimError(429, "429", "Too Many Requests")


class RateLimits:
    """Windows per (who, path), where ``who`` is the account, the key or the client address.

    ``penalty_s``: once a window overflows, every request of that (who, path) is refused for
    this long (Bitget's FAQ: a tripped limit "takes 5 minutes to recover"); 0 turns it off.
    Refused arrivals count in the window too: a client that keeps hammering stays limited.
    """

    def __init__(self, stats: SimStats, *, enabled: bool, penalty_s: float) -> None:
        self.stats = stats
        self.enabled = enabled
        self.penalty_s = penalty_s
        self._windows: dict[tuple[str, str], SlidingWindow] = {}
        self._penalty_until: dict[tuple[str, str], float] = {}

    def arrive(self, who: str, path: str, limit: int, now: float) -> int | None:
        """Count one arrival at ``now`` (monotonic s); return what is left of the budget (None
        with rate limits off: nothing is limited), or raise the 429 answer."""
        key = (who, path)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = SlidingWindow()
        count = window.hit(now)
        stats = self.stats
        peaks = stats.max_in_window
        if count > peaks.get(path, 0):
            peaks[path] = count
        if not self.enabled:
            return None
        until = self._penalty_until.get(key)
        if until is not None:
            if now < until:
                stats.penalty_429 += 1
                stats.endpoint(path).throttled += 1
                raise too_many()
            del self._penalty_until[key]
        if count > limit:
            stats.pacing_429 += 1
            stats.endpoint(path).throttled += 1
            if self.penalty_s > 0.0:
                self._penalty_until[key] = now + self.penalty_s
            raise too_many()
        return limit - count

    def penalised(self, who: str, path: str, now: float) -> bool:
        """True while (who, path) is serving a penalty."""
        until = self._penalty_until.get((who, path))
        return until is not None and now < until
