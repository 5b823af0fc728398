"""What a check by id must not touch (issue 19, "D7").

A check asks a cancel that takes no category and no symbol (v3 ``cancel-strategy-order``) to
cancel an order by its orderId or clientOid. That cancel also reaches orders this package must
never cancel: the account's futures TP/SL orders. So before the checks of a call (one read
for all its orders), the family's ``check_guards`` are listed (every futures category, read to
its last page by ``_listing.list_pages``), and no id they show is asked. A guard listing that
cannot be read to its end (refused, garbled, a stuck cursor, the deadline, a row without
orderId) lets no check go: the orders stay unresolved, saying why, never guessed.

The same cancel is how a UTA cancels its TP/SL and plan *targets* (``_run``): before the first
such request of a call, for orders no spot listing has proven, the same listings are read
(``read_shared_guards``: once for the call, shared with the concurrent calls of the engine
that ask before it begins), and no request names an id they show. With them, in the same
round, the spot TP/SL listing (the family's ``spot_guard``): a target asked by clientOid names
no symbol, so it goes by the orderId listed under its clientOid on its own symbol; listed on
other symbols only, or the listing unreadable, it is not sent (``Guarded.by_client_oid``).

What stays open: an order placed between this listing and the check is not seen.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ._exceptions import CallStopped
from ._family import CheckGuard, ListedOrder
from ._listing import list_pages
from ._policy import CallScope
from ._session import CallStats, ExchangeSession
from ._shared_listing import SharedListings, per_session


@dataclass(frozen=True, slots=True)
class Guarded:
    """The ids the guard listings show open, each with what holds it; or why they could not
    all be read (``problem``: then no check may be sent)."""

    order_ids: dict[str, str] = field(default_factory=dict)
    client_oids: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    # The spot guard's rows: clientOid -> {symbol: orderId}; or why it could not be read
    # (then no cancel by clientOid may be sent; one by orderId may).
    spot: dict[str, dict[str, str]] = field(default_factory=dict)
    spot_problem: str | None = None

    def holder(self, by_order_id: bool, value: str | None) -> str | None:
        """What holds the orderId (or clientOid) ``value``, if a guard listing shows it."""
        if value is None:
            return None
        return (self.order_ids if by_order_id else self.client_oids).get(value)

    def joined(self, other: Guarded) -> Guarded:
        """What either shows (``other``'s problem, if any, stands)."""
        return Guarded(
            {**self.order_ids, **other.order_ids},
            {**self.client_oids, **other.client_oids},
            other.problem or self.problem,
            {**self.spot, **other.spot},
            other.spot_problem or self.spot_problem,
        )

    def named(self, by_order_id: bool, value: str | None) -> str | None:
        """What a guard listing shows under that id ("orderId '1' names a futures TP/SL order
        on USDT-FUTURES"): no request may name it. None if none shows it."""
        holder = self.holder(by_order_id, value)
        if holder is None:
            return None
        return f"{'orderId' if by_order_id else 'clientOid'} {value!r} names {holder}"

    def by_client_oid(self, client_oid: str, symbol: str) -> tuple[str | None, str | None]:
        """A cancel by ``client_oid`` names no symbol: (the orderId the spot listing shows
        under it on ``symbol``: cancel by that instead, None) or (None, why it may not be sent:
        the listing unread, or the clientOid listed on other symbols only). (None, None): not
        listed, it goes as asked."""
        if self.spot_problem is not None:
            return None, f"the spot TP/SL listing could not be read ({self.spot_problem})"
        listed = self.spot.get(client_oid, {})
        if symbol in listed:
            return listed[symbol], None
        if listed:
            where = ", ".join(sorted(listed))
            return None, (
                f"clientOid {client_oid!r} is listed as a TP/SL order on {where}, not {symbol}: "
                "not cancelled by clientOid, which names no symbol"
            )
        return None, None


async def read_guards(
    session: ExchangeSession, guards: Sequence[CheckGuard], scope: CallScope, stats: CallStats
) -> Guarded:
    """Every guard's listing, read at once; its requests are counted in ``stats``."""
    guarded = Guarded()
    problems: list[str] = []
    spot_problems: list[str] = []

    async def read(guard: CheckGuard) -> None:
        nameless = 0

        def on_page(rows: list[ListedOrder]) -> int:
            nonlocal nameless
            for row in rows:
                # An id listed padded with whitespace is the id it pads (a check sends none
                # padded): kept as listed, it would not hold the id the check asks by.
                order_id = (row.order_id or "").strip()
                client_oid = (row.client_oid or "").strip()
                if guard.spot:
                    # Ours: it stops nothing, it tells where a clientOid is open.
                    if not order_id or not row.symbol:
                        nameless += 1  # its clientOid's symbol, or orderId, unknown
                    elif client_oid:
                        guarded.spot.setdefault(client_oid, {})[row.symbol] = order_id
                    continue
                if not order_id:
                    nameless += 1  # any orderId asked might be its own
                else:
                    guarded.order_ids[order_id] = guard.what
                if client_oid:
                    guarded.client_oids[client_oid] = guard.what
            return len(rows)

        listing = await list_pages(session, guard.lister, None, scope, stats, on_page)
        into = spot_problems if guard.spot else problems
        if not listing.complete:
            into.append(f"{guard.what}: {listing.problem}")
        elif nameless:
            missing = "an orderId or symbol" if guard.spot else "an orderId"
            into.append(f"{guard.what}: {nameless} listed without {missing}")

    await asyncio.gather(*(read(guard) for guard in guards))
    if problems:
        return Guarded(problem="; ".join(problems))
    if spot_problems:
        return replace(guarded, spot={}, spot_problem="; ".join(spot_problems))
    return guarded


GuardListings = SharedListings[tuple[str, ...], Guarded]
_BY_SESSION: weakref.WeakKeyDictionary[ExchangeSession, GuardListings] = weakref.WeakKeyDictionary()


async def read_shared_guards(
    session: ExchangeSession, guards: Sequence[CheckGuard], scope: CallScope, stats: CallStats
) -> Guarded:
    """``read_guards``, one read serving every call of ``session`` that asks before it begins
    (``_shared_listing``: begun after each of them asked, so it is as fresh for each as its
    own); its requests are counted in the stats of each call it served."""

    async def lister(shared: CallScope, counted: CallStats) -> Guarded:
        return await read_guards(session, guards, shared, counted)

    listings = per_session(_BY_SESSION, session)
    key = tuple(guard.what for guard in guards)
    try:
        return await listings.read(key, lister, scope, stats, alone=len(session.crew) <= 1)
    except CallStopped as exc:
        return Guarded(problem=f"listing stopped: {exc.reason}")
