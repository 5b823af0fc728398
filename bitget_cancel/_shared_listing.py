"""Confirmation listings shared by the concurrent calls of one engine.

Thirty tasks cancelling orders that are already gone each hear "does not exist", and each
must check it against the account's open orders before an all-clear. Each listing would read
the same pages: one listing serves every call that asks for the same kinds before it begins.

Why "before it begins": a listing proves an order not open only if it was read after the
order's "does not exist" came back (an order placed again meanwhile would otherwise be
missed). A call joins a listing only while none of its requests has been sent, so every page
a call reads was asked for after that call's answers. A call that comes later starts (or
joins) the next one.

Each call keeps its own deadline: it stops waiting at its deadline and leaves the listing to
the others; the listing runs until the latest deadline of the calls it serves, and stops when
nobody waits for it any more. Its requests are counted in the stats of every call it served;
a refusal of the credentials is every caller's refusal.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from ._exceptions import CallStopped
from ._models import OpenOrders, OrderKind
from ._policy import CallScope, Deadline
from ._session import CallStats, ExchangeSession

K = TypeVar("K")
R = TypeVar("R")

# Loop turns a listing waits before its first request, so that the calls answered by the same
# request (whose answers are split to them in one moment, then travel a few awaits to their
# confirmation) join it.
GATHER_TURNS = 8
# While other calls run on the engine, a listing also waits this long for them: their answers
# come back a few milliseconds apart (one request each, when they name the same orders).
GATHER_SECONDS = 0.020

Lister = Callable[[CallScope, CallStats], Awaitable[R]]


class _Listing(Generic[R]):
    __slots__ = ("scopes", "stats", "task", "waiting")

    def __init__(self) -> None:
        self.scopes: list[CallScope] = []  # of the calls it serves
        self.waiting = 0  # calls waiting for it now
        self.stats = CallStats()
        self.task: asyncio.Task[R] | None = None


def _latest(scopes: list[CallScope], loop: asyncio.AbstractEventLoop) -> CallScope:
    """One scope for the listing: the latest deadline of its calls, a panic's priority."""
    ends = [scope.deadline.at for scope in scopes]
    if any(end is None for end in ends):
        seconds = None
    else:
        seconds = max(0.0, max(end for end in ends if end is not None) - loop.time())
    return CallScope(Deadline(seconds, loop), first=any(scope.first for scope in scopes))


class SharedListings(Generic[K, R]):
    """The listings not yet begun, by what they list (``K``); one per engine session."""

    __slots__ = ("_loop", "_pending")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: dict[K, _Listing[R]] = {}

    async def read(
        self, key: K, lister: Lister[R], scope: CallScope, stats: CallStats, *, alone: bool
    ) -> R:
        """What ``lister`` reads for ``key``, from a listing begun after this call asked.
        ``alone``: no other call runs on the engine (then nobody is waited for)."""
        listing = self._pending.get(key)
        if listing is None:
            listing = _Listing[R]()
            self._pending[key] = listing
            gather = 0.0 if alone else GATHER_SECONDS
            listing.task = self._loop.create_task(self._run(key, listing, lister, gather))
        listing.scopes.append(scope)
        listing.waiting += 1
        task = listing.task
        assert task is not None
        stopped = self._loop.create_task(scope.stopped.wait())
        try:
            # The call stops waiting when it is stopped (interrupted, its credentials refused)
            # or cancelled (its deadline); the listing goes on for the others.
            await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            listing.waiting -= 1
            if listing.waiting == 0 and not task.done():
                # Nobody waits for it any more, and nobody may join it now.
                if self._pending.get(key) is listing:
                    del self._pending[key]
                task.cancel()
            # The requests sent for it so far, whether it saw their end or not.
            stats.requests.update(listing.stats.requests)
            stats.throttled += listing.stats.throttled
        if not task.done():
            raise CallStopped("the call was stopped while its listing was read")
        return task.result()

    async def _run(self, key: K, listing: _Listing[R], lister: Lister[R], gather: float) -> R:
        try:
            for _ in range(GATHER_TURNS):
                await asyncio.sleep(0)
            if gather:
                await asyncio.sleep(gather)
        finally:
            # Begun (or given up): nobody joins it any more.
            if self._pending.get(key) is listing:
                del self._pending[key]
        shared = _latest(listing.scopes, self._loop)
        result = await lister(shared, listing.stats)
        if shared.refusal is not None:
            for scope in listing.scopes:
                scope.refuse(*shared.refusal)
        return result


Confirmations = SharedListings[tuple[OrderKind, ...], OpenOrders]
_BY_SESSION: weakref.WeakKeyDictionary[ExchangeSession, Confirmations] = weakref.WeakKeyDictionary()


def per_session(
    registry: weakref.WeakKeyDictionary[ExchangeSession, SharedListings[K, R]],
    session: ExchangeSession,
) -> SharedListings[K, R]:
    """The shared listings of ``session`` in ``registry`` (made on first use, gone with it)."""
    found = registry.get(session)
    if found is None:
        found = registry[session] = SharedListings(session.loop)
    return found


def confirmation_listings(session: ExchangeSession) -> Confirmations:
    """The shared confirmation listings of ``session`` (made on first use, gone with it)."""
    return per_session(_BY_SESSION, session)
