"""The per-account request budget of one endpoint, exact as the exchange counts it.

The exchange counts requests on *arrival* in a sliding one-second window. The client cannot see
arrival times, but it knows an upper bound for each: the moment the answer (or the failure) came
back. So a slot is held from the moment a request is sent until ``period + margin`` after its
answer. However the network jitters, the server can then never see more than ``capacity``
arrivals in one window, and the only cost is one round trip per slot cycle. The first
``capacity`` requests go out at once.

Far away that round trip is most of a cycle (1 s + 0.3 s at 300 ms), so a request answered with
the exchange's ``requestTime`` (its clock when the request arrived) may count from an earlier,
still safe moment: see ``ArrivalEstimate`` (the early reuse of a slot, issue 23).

A 429 means the exchange's count and ours disagree (another client on the account, a different
window): the budget then pauses (1 s, doubling on repeated 429s) and lets one probe request
through at a time until one succeeds, so that a 429 never turns into a burst of 429s. A 429 also
ends the early reuse on the account's budgets for good: its assumption may be what failed.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import math
import weakref
from collections import deque
from dataclasses import dataclass, field

from ._arrival import ArrivalEstimate
from ._budget import Slot
from ._exceptions import InvalidRate
from ._log import log

INFINITE = math.inf


def capacity_and_period(rate: float) -> tuple[int, float]:
    """Turn "requests per second" into "at most capacity per period seconds"."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise InvalidRate(f"rate_limit must be a number of requests per second; got {rate!r}")
    if not math.isfinite(rate) or rate <= 0:
        raise InvalidRate(f"rate_limit must be positive and finite; got {rate!r}")
    if rate >= 1:
        return int(rate), 1.0
    return 1, 1.0 / rate


class RateBudget:
    """At most ``capacity`` arrivals in any ``period`` seconds, shared by all its users."""

    __slots__ = (
        "__weakref__",
        "_arrivals",
        "_blocked_until",
        "_expiries",
        "_full",
        "_in_flight",
        "_probing",
        "_provisional",
        "_recent",
        "_strikes",
        "_timer",
        "_waiters",
        "capacity",
        "cooldown",
        "margin",
        "max_cooldown",
        "name",
        "period",
    )

    def __init__(
        self,
        capacity: int,
        period: float = 1.0,
        *,
        margin: float = 0.002,
        cooldown: float = 1.0,
        max_cooldown: float = 30.0,
        name: str = "",
        early_reuse: bool = True,
        arrivals: ArrivalEstimate | None = None,
    ) -> None:
        if capacity < 1 or period <= 0:
            raise InvalidRate(f"need capacity >= 1 and period > 0; got {capacity}, {period}")
        self.capacity = capacity
        self.period = period
        self.margin = margin
        self.cooldown = cooldown
        self.max_cooldown = max_cooldown
        self.name = name
        # When finished requests leave the window: a heap (an early reuse may count a later
        # answer from before an earlier one).
        self._expiries: list[float] = []
        # When each answer of the last two periods came, in order: ours that may have arrived
        # in the window an answer speaks of (``_another_client_used``).
        self._recent: deque[float] = deque()
        # The last answer saying the window is full while our count covered it: (until when it
        # may hold, when its request was sent). A slot given back unsent leaves that count
        # without leaving the exchange's window: the window is then judged again (``give_back``).
        self._full: tuple[float, float] | None = None
        # The early reuse of slots (``_arrival``); None: each slot counts from its answer.
        # ``arrivals``: an estimate shared with the account's other budgets (one network path,
        # one exchange clock: their samples agree, and a 429 on one stops them all).
        self._arrivals: ArrivalEstimate | None = (
            (arrivals or ArrivalEstimate()) if early_reuse else None
        )
        # Slots counted from their answers only because too few samples were in yet: (expiry,
        # answered, sent, stamp), placed again once the estimate is trusted.
        self._provisional: deque[tuple[float, float, float, float]] = deque()
        self._in_flight = 0
        self._blocked_until = 0.0
        self._probing = False
        self._strikes = 0
        # Waiting callers: (-priority, arrival, future), the first the next to be served. A
        # waiter that gave up (deadline, cancelled) is a finished future, popped when it surfaces.
        self._waiters: list[tuple[int, int, asyncio.Future[LocalSlot | None]]] = []
        self._timer: asyncio.TimerHandle | None = None  # wakes the queue when a slot frees

    def __repr__(self) -> str:
        return (
            f"RateBudget({self.name!r}, {self.capacity}/{self.period:g}s, "
            f"in_flight={self._in_flight}, probing={self._probing})"
        )

    # -- the pure core: explicit time in, decisions out --------------------------------------

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def blocked_until(self) -> float:
        return self._blocked_until

    @property
    def early_reuse(self) -> bool:
        """Whether answers' ``requestTime`` may free slots before their answers (off for good
        after a 429, or when built with ``early_reuse=False``)."""
        return self._arrivals is not None and not self._arrivals.stopped

    def poll(self, now: float) -> float:
        """0.0 if a request may go now; else how long to wait (INFINITE: until a release)."""
        expiries = self._expiries
        while expiries and expiries[0] <= now:
            heapq.heappop(expiries)
        if now < self._blocked_until:
            return self._blocked_until - now
        if self._probing and self._in_flight:
            return INFINITE
        if self._in_flight + len(expiries) < self.capacity:
            return 0.0
        return expiries[0] - now if expiries else INFINITE

    def take(self, now: float) -> bool:
        """Take a slot if one is free at ``now``."""
        if self.poll(now) > 0.0:
            return False
        self._in_flight += 1
        return True

    def give_back(self) -> None:
        """Undo a take whose request was never sent: no arrival to count."""
        if self._in_flight <= 0:
            raise RuntimeError("give_back() without a matching take()")
        self._in_flight -= 1
        full = self._full
        if full is not None and self._another_client_used(full[1]):
            # The answer counted this slot as ours in its window; it never left, so another
            # client used that part: hold as the answer would have (harmless once past).
            self._full = None
            self._blocked_until = max(self._blocked_until, full[0])
        self._wake()

    def release(
        self,
        now: float,
        *,
        throttled: bool = False,
        remaining: int | None = None,
        sent: float | None = None,
        request_time: object = None,
    ) -> None:
        """A request taken earlier is over (answered, failed or abandoned) at ``now``.

        ``remaining``: what the exchange says is left of this window (x-mbx-used-remain-limit);
        at 0, when another client used part of it, nothing more goes until it has rolled.
        ``sent`` (loop time, just before the request left) and ``request_time`` (its answer's
        ``requestTime``): the request may count from its estimated arrival instead of ``now``
        (``_arrival``); without them, or without a usable stamp, it counts from ``now``.
        """
        if self._in_flight <= 0:
            raise RuntimeError("release() without a matching take()")
        self._in_flight -= 1
        if throttled and self._arrivals is not None:
            # For good, on every budget sharing the estimate: a 429 in a panic costs more
            # than the early reuse saves.
            self._arrivals.stopped = True
        arrived, arrivals = now, self._arrivals
        if arrivals is not None and arrivals.stopped:
            arrivals = None  # after a 429 here or on another budget of the account
            self._provisional.clear()
        if sent is not None and arrivals is not None:
            stamp = arrivals.learn(sent, now, request_time)
            if stamp is not None:
                arrived = arrivals.place(sent, now, stamp)
                if not arrivals.trusted:
                    provisional = self._provisional
                    while provisional and provisional[0][0] <= now:
                        provisional.popleft()  # left the window already: nothing to place
                    provisional.append((now + self.period + self.margin, now, sent, stamp))
                elif self._provisional:
                    self._place_again(now, arrivals)
        heapq.heappush(self._expiries, arrived + self.period + self.margin)
        recent = self._recent
        while recent and recent[0] <= now - 2 * self.period:
            recent.popleft()
        recent.append(now)  # ``now`` only grows: sorted
        exhausted = remaining is not None and remaining <= 0 and not throttled
        if exhausted:
            judged, until = now if sent is None else sent, now + self.period + self.margin
            if self._another_client_used(judged):
                self._blocked_until = max(self._blocked_until, until)
            else:
                self._full = (until, judged)  # our count covers it, while that count stays
        if throttled:
            # A 429 landing during a pause answers a request sent before it: the same event
            # as the 429 that began the pause, so it does not double it (ten 429s of one burst
            # are one strike, not a 2**9 s pause).
            fresh = now >= self._blocked_until or self._strikes == 0
            if fresh:
                self._strikes += 1
            pause = min(self.max_cooldown, self.cooldown * 2 ** (self._strikes - 1))
            self._blocked_until = max(self._blocked_until, now + pause)
            self._probing = True
            if fresh:
                log.warning(
                    "HTTP 429 on %s: pausing %.2fs, then one request at a time", self.name, pause
                )
        elif self._probing:
            self._probing = False
            self._strikes = 0
        self._wake()

    def _place_again(self, now: float, arrivals: ArrivalEstimate) -> None:
        """The estimate is trusted now: the slots counted from their answers while it was not
        count from their arrivals, placed as any answer from now on (never later than before)."""
        expiries = self._expiries
        for expiry, answered, sent, stamp in self._provisional:
            if expiry > now and expiry in expiries:
                placed = arrivals.place(sent, answered, stamp) + self.period + self.margin
                expiries[expiries.index(expiry)] = min(expiry, placed)
        self._provisional.clear()
        heapq.heapify(expiries)

    def _another_client_used(self, sent: float) -> bool:
        """Did another client use the window an answer says is full? Ours that may have arrived
        in it are those in flight and those answered less than a period before this request
        was sent (``sent``; ``now`` when unknown), this one among them: any of them may have
        arrived less than a period before it did, however early their slots were reused.
        Fewer than ``capacity``: someone else took the rest, and our count cannot see their
        requests. As many: the window may be all ours, and our count already holds the next
        request until one of them leaves it (far away, holding a whole period from the
        answer would cost a round trip per window for nothing). A rate set below the
        exchange's limit cannot tell a window it filled from one others filled past it: a
        429 that follows is paused and probed like any other."""
        recent = self._recent
        older = bisect.bisect_right(recent, sent - self.period - self.margin)
        return self._in_flight + len(recent) - older < self.capacity

    def retune(self, rate: float) -> None:
        """Requests per second from now on (engines sharing this budget changed)."""
        capacity, period = capacity_and_period(rate)
        if (capacity, period) != (self.capacity, self.period):
            log.debug("shared budget of %s now %s/%gs", self.name, capacity, period)
            self.capacity, self.period = capacity, period
            self._wake()  # waiters look again: a looser rate may free a slot now

    # -- the async face ---------------------------------------------------------------------

    def try_acquire(self) -> LocalSlot | None:
        if self._live_waiters():
            return None  # others wait: first come, first served
        loop = asyncio.get_running_loop()
        return LocalSlot(self, loop) if self.take(loop.time()) else None

    async def acquire(self, deadline: float | None = None, *, priority: int = 0) -> Slot | None:
        """Wait for a slot; None if ``deadline`` (loop time) came first.

        Waiters are served by ``priority`` (higher first: a panic's requests go ahead of queued
        cancels), then in arrival order. A waiter gives up at its own deadline wherever it is
        in the queue. Cancelling the caller takes nothing: the slot is counted only in the same
        step that hands it over, and one handed over to a caller already cancelled goes back.
        """
        loop = asyncio.get_running_loop()
        if not self._live_waiters() and self.take(loop.time()):
            return LocalSlot(self, loop)
        if deadline is not None and loop.time() >= deadline:
            return None
        waiter: asyncio.Future[LocalSlot | None] = loop.create_future()
        heapq.heappush(self._waiters, (-priority, next(_ARRIVALS), waiter))
        give_up = None
        if deadline is not None:
            give_up = loop.call_at(deadline, _resolve, waiter, None)
        self._wake()
        try:
            return await waiter
        except asyncio.CancelledError:
            granted = waiter.result() if waiter.done() and not waiter.cancelled() else None
            if granted is not None:
                granted.give_back()
            raise
        finally:
            if give_up is not None:
                give_up.cancel()
            waiter.cancel()  # no-op when done; otherwise it leaves the queue when it surfaces
            self._wake()  # whoever waited behind a waiter that gave up may go now

    async def acquire_first(self, deadline: float | None = None) -> Slot | None:
        """``acquire`` ahead of every ordinary waiter: a panic's requests go first."""
        return await self.acquire(deadline, priority=1)

    def _live_waiters(self) -> bool:
        waiters = self._waiters
        while waiters and waiters[0][2].done():
            heapq.heappop(waiters)
        return bool(waiters)

    def _wake(self) -> None:
        """Hand out every slot free now, first waiter first; else set one timer for when the
        head's slot frees (a release wakes the queue on its own)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._live_waiters():
            return
        loop = self._waiters[0][2].get_loop()
        now = loop.time()
        while self._live_waiters():
            wait = self.poll(now)
            if wait > 0.0:
                if wait != INFINITE:
                    self._timer = loop.call_at(now + wait, self._wake)
                return
            _, _, waiter = heapq.heappop(self._waiters)
            self._in_flight += 1
            waiter.set_result(LocalSlot(self, loop))


_ARRIVALS = itertools.count()


def _resolve(waiter: asyncio.Future[LocalSlot | None], value: None) -> None:
    if not waiter.done():
        waiter.set_result(value)


class LocalSlot:
    """One slot of an in-process budget; ends exactly once."""

    __slots__ = ("_budget", "_loop", "done")

    def __init__(self, budget: RateBudget, loop: asyncio.AbstractEventLoop) -> None:
        self._budget = budget
        self._loop = loop
        self.done = False

    def release(
        self,
        *,
        throttled: bool = False,
        remaining: int | None = None,
        sent: float | None = None,
        request_time: object = None,
    ) -> None:
        if not self.done:
            self.done = True
            self._budget.release(
                self._loop.time(),
                throttled=throttled,
                remaining=remaining,
                sent=sent,
                request_time=request_time,
            )

    def give_back(self) -> None:
        if not self.done:
            self.done = True
            self._budget.give_back()

    def release_later(self, delay: float) -> None:
        if not self.done:
            self.done = True
            budget, loop = self._budget, self._loop
            loop.call_later(delay, lambda: budget.release(loop.time()))


class _Claims:
    """The rates asked of one shared budget: by live owners (engines' sessions, weakly held)
    and by anonymous callers (kept for good: nobody says when they stop)."""

    __slots__ = ("anonymous", "owners")

    def __init__(self) -> None:
        self.anonymous = INFINITE
        self.owners: weakref.WeakKeyDictionary[object, float] = weakref.WeakKeyDictionary()

    def strictest(self) -> float:
        return min(self.anonymous, *self.owners.values(), INFINITE)


@dataclass
class InProcessBudgets:
    """The budgets of this process: one per (account, endpoint) and event loop.

    Engines of one account in one event loop share them, whatever their credentials object.
    When they ask for different rates the strictest *live* one is in force: an engine's claim
    ends when it is closed (``forget``) or garbage-collected, and the budget then loosens to
    the strictest claim left.
    """

    _by_loop: weakref.WeakKeyDictionary[
        asyncio.AbstractEventLoop, dict[tuple[str, str], tuple[RateBudget, _Claims]]
    ] = field(default_factory=weakref.WeakKeyDictionary)

    def budget(
        self, account_id: str, endpoint: str, rate: float, owner: object | None = None
    ) -> RateBudget:
        """The one budget of (account, endpoint) in this event loop, at the strictest rate
        claimed by a live owner (or by any anonymous caller)."""
        capacity_and_period(rate)  # validates
        budgets = self._by_loop.setdefault(asyncio.get_running_loop(), {})
        entry = budgets.get((account_id, endpoint))
        if entry is None:
            capacity, period = capacity_and_period(rate)
            # One estimate per account: the first budget's, also when a 429 stopped it.
            arrivals = next(
                (b._arrivals for (a, _), (b, _) in budgets.items() if a == account_id), None
            )
            entry = budgets[(account_id, endpoint)] = (
                RateBudget(capacity, period, name=endpoint, arrivals=arrivals),
                _Claims(),
            )
        budget, claims = entry
        if owner is None:
            claims.anonymous = min(claims.anonymous, rate)
        else:
            claims.owners[owner] = rate
        budget.retune(claims.strictest())
        return budget

    def forget(self, owner: object) -> None:
        """``owner`` (a closed engine's session) no longer claims a rate: every budget it
        tightened loosens to the strictest claim left."""
        for budgets in list(self._by_loop.values()):
            for budget, claims in budgets.values():
                if claims.owners.pop(owner, None) is not None:
                    strictest = claims.strictest()
                    if strictest != INFINITE:
                        budget.retune(strictest)

    @property
    def fallbacks(self) -> int:
        return 0  # nothing to fall back from

    @property
    def degraded(self) -> bool:
        return False

    async def close(self) -> None:
        return None  # nothing held outside this process


# The process-wide store: every engine without a budget_url shares it.
LOCAL_BUDGETS = InProcessBudgets()
