"""Retry policy (one backoff formula), deadlines, and the scope one call runs in."""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass

from ._exceptions import InvalidArgument, InvalidDeadline

# The shortest request timeout worth sending with: a request that cannot get this long before
# the call's deadline is not sent at all (it could only come back "unresolved" while the
# exchange acts on it).
MIN_REQUEST_TIMEOUT = 0.05


def check_positive(name: str, value: object, *, integer: bool = False) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise InvalidArgument(f"{name} must be a positive number; got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgument(f"{name} must be positive and finite; got {value!r}")


def check_deadline(deadline: object) -> float | None:
    """None, or a positive finite number of seconds."""
    if deadline is None:
        return None
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
        raise InvalidDeadline(f"deadline must be None or seconds > 0; got {deadline!r}")
    if not math.isfinite(deadline) or deadline <= 0:
        raise InvalidDeadline(f"deadline must be None or seconds > 0; got {deadline!r}")
    return float(deadline)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently an order (or a listing page) is asked again.

    ``delay(attempt)`` is the one backoff formula: exponential from ``backoff_base``, capped at
    ``backoff_cap``, with half of it jittered so that retries of separate requests (and of
    separate engines) spread out. It is drawn once per refused request: the orders one answer
    refused are asked again together, in as few requests as they fill.
    """

    max_attempts: int = 5
    backoff_base: float = 0.1
    backoff_cap: float = 2.0
    # Clock resyncs in a row that may not fix a 40008 before the call gives up on the clock.
    max_clock_resyncs: int = 3

    def __post_init__(self) -> None:
        check_positive("max_attempts", self.max_attempts, integer=True)
        check_positive("backoff_base", self.backoff_base)
        check_positive("backoff_cap", self.backoff_cap)
        check_positive("max_clock_resyncs", self.max_clock_resyncs, integer=True)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1``, after ``attempt`` failed ones."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** max(0, attempt - 1))
        return ceiling / 2 + rng.random() * ceiling / 2

    @property
    def coalesce(self) -> float:
        """Retries due within this much of each other ride in one request."""
        return self.backoff_base / 2


class Deadline:
    """A point in loop time after which nothing new is sent (or none)."""

    __slots__ = ("_loop", "at", "seconds")

    def __init__(self, seconds: float | None, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.seconds = seconds
        self.at = None if seconds is None else loop.time() + seconds

    def expired(self) -> bool:
        """Nothing new may be sent: the deadline is less than ``MIN_REQUEST_TIMEOUT`` away."""
        return self.at is not None and self._loop.time() >= self.at - MIN_REQUEST_TIMEOUT

    def remaining(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - self._loop.time())

    @property
    def send_by(self) -> float | None:
        """From this loop time on nothing is sent: less than ``MIN_REQUEST_TIMEOUT`` is left."""
        return None if self.at is None else self.at - MIN_REQUEST_TIMEOUT

    def clamp(self, timeout: float) -> float | None:
        """A request timeout that ends by the deadline; None when no more than
        ``MIN_REQUEST_TIMEOUT`` is left (then the request is not sent)."""
        if self.at is None:
            return timeout
        left = self.at - self._loop.time()
        if left <= MIN_REQUEST_TIMEOUT:
            return None
        return min(timeout, left)


class CallScope:
    """What one cancel() or panic shares across its requests: the deadline, and whether the
    exchange refused the account's credentials (then nothing more is sent)."""

    __slots__ = ("deadline", "first", "interrupted", "refusal", "stopped")

    def __init__(self, deadline: Deadline, *, first: bool = False) -> None:
        self.deadline = deadline
        self.first = first  # a panic: its requests go ahead of queued ones (budgets that can)
        self.refusal: tuple[str, str] | None = None  # (code, msg) of the first refusal
        self.interrupted = False  # the caller asked to stop sending
        self.stopped = asyncio.Event()  # set by either: waits for a slot end at once

    def refuse(self, code: str, msg: str) -> None:
        if self.refusal is None:
            self.refusal = (code, msg)
            self.stopped.set()

    def interrupt(self) -> None:
        """Send nothing more; answers in flight are still taken."""
        self.interrupted = True
        self.stopped.set()

    @property
    def over(self) -> bool:
        return self.refusal is not None or self.interrupted or self.deadline.expired()
