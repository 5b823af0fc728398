"""Listing open orders: every page of one listing, through the session, trusted only when it
ran to its last page with a cursor that kept moving on.

A listing that the exchange refuses, garbles or leaves dangling is *incomplete*, never "nothing
open": the panic and ``open_orders()`` both read listings through this one function.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from ._classify import CODE_HINTS, Verdict
from ._exceptions import CallStopped, InvalidTarget, TransportError
from ._family import ListedOrder, Lister
from ._log import log
from ._models import CancelTarget, OpenOrders, OrderInfo, OrderKind
from ._policy import CallScope
from ._session import CallStats, ExchangeSession

# A listing longer than this many pages is not believed (a cursor that never ends).
MAX_PAGES = 2_000


@dataclass
class Listing:
    """How one listing went."""

    complete: bool = True
    problem: str | None = None
    final: bool = False  # repeating will not change it (refused, broken cursor, stopped)
    open_in_scope: int = 0


async def list_pages(
    session: ExchangeSession,
    lister: Lister,
    symbol: str | None,
    scope: CallScope,
    stats: CallStats,
    on_page: Callable[[list[ListedOrder]], int],
) -> Listing:
    """Every page of one listing; ``on_page(rows)`` gets each page as it arrives and says how
    many of its rows are open orders in scope."""
    policy = session.policy
    listing = Listing()
    cursor: str | None = None
    cursors_seen: set[str] = set()
    failures = 0
    pages = 0
    while True:
        try:
            reply = await session.call(
                lister.endpoint, lister.codec, scope, stats, query=lister.query(symbol, cursor)
            )
        except CallStopped as exc:
            return Listing(False, f"listing stopped: {exc.reason}", True, listing.open_in_scope)
        except TransportError as exc:
            verdict, problem, code = Verdict.RETRY, f"no answer: {exc}", None
        else:
            verdict, code = reply.verdict, reply.code
            problem = f"code {reply.code}: {reply.msg}"
            page = lister.page(reply.data) if verdict is Verdict.OK else None
            if verdict is Verdict.OK and page is None:
                verdict, problem = Verdict.RETRY, "an answer of an unexpected shape"
            if verdict is Verdict.OK and page is not None:
                failures = 0
                pages += 1
                listing.open_in_scope += on_page(page.rows)
                unusable = sum(1 for row in page.rows if not _usable(row))
                if unusable:
                    # Something is open that cannot be named: never "nothing open".
                    listing.complete, listing.final = False, True
                    listing.problem = f"{unusable} listed orders without a usable symbol/orderId"
                if page.cursor is None:
                    return listing
                if (
                    page.cursor in cursors_seen
                    or not lister.advances(cursor, page.cursor)
                    or pages >= MAX_PAGES
                ):
                    log.warning("%s: the listing's cursor does not move on", lister.endpoint.name)
                    problem = "the listing's cursor does not move on"
                    return Listing(False, problem, True, listing.open_in_scope)
                cursors_seen.add(page.cursor)
                cursor = page.cursor
                continue
        if verdict is Verdict.WRONG_ACCOUNT and session.learn_account(code, lister.endpoint):
            return Listing(False, "account type changed; listing again", False)
        if verdict is Verdict.CREDENTIALS:
            hint = CODE_HINTS.get(code or "")
            why = f"credentials refused ({problem})" + (f" ({hint})" if hint else "")
            return Listing(False, why, True)
        if verdict in (Verdict.FAIL, Verdict.SPLIT, Verdict.NOT_OPEN, Verdict.WRONG_ACCOUNT):
            hint = CODE_HINTS.get(code or "")
            return Listing(
                False, f"listing refused, {problem}" + (f" ({hint})" if hint else ""), True
            )
        failures += 1
        if failures >= policy.max_attempts:
            return Listing(False, f"listing failed {failures} times; last: {problem}", False)
        if verdict is not Verdict.RESYNC_CLOCK:
            delay = policy.delay(failures, session.rng)
            remaining = scope.deadline.remaining()
            await asyncio.sleep(delay if remaining is None else min(delay, remaining))
        if scope.over:
            return Listing(False, "listing stopped at the deadline", True, listing.open_in_scope)


def _usable(row: ListedOrder) -> bool:
    if row.symbol is None or row.order_id is None:
        return False
    try:
        CancelTarget(symbol=row.symbol, order_id=row.order_id, client_oid=row.client_oid)
    except InvalidTarget:
        return False
    return True


async def list_open_orders(
    session: ExchangeSession,
    symbols: frozenset[str] | None,
    kinds: tuple[OrderKind, ...],
    scope: CallScope,
    client_oid_prefix: tuple[str, ...] | None = None,
    on_listed: Callable[[int], None] | None = None,
    stats: CallStats | None = None,
) -> OpenOrders:
    """Every open order of ``kinds`` (on ``symbols``, or the whole account), read once; with
    ``client_oid_prefix``, only those whose clientOid starts with one of the prefixes.
    ``stats``: where the requests are counted (a call's own, or a fresh one)."""
    stats = CallStats() if stats is None else stats
    before = stats.total
    orders: dict[tuple[OrderKind, str, str], CancelTarget] = {}
    info: dict[CancelTarget, OrderInfo] = {}
    problems: list[str] = []

    async def one(kind: OrderKind, symbol: str | None) -> None:
        lister = session.family.listing.get(kind)
        if lister is None:
            problems.append(f"{kind.value} orders: not listable on a {session.family.name} account")
            return

        def on_page(rows: list[ListedOrder]) -> int:
            for row in rows:
                if row.symbol is None or row.order_id is None:
                    continue
                try:
                    target = CancelTarget(
                        symbol=row.symbol,
                        order_id=row.order_id,
                        client_oid=row.client_oid,
                        kind=kind,
                    )
                except InvalidTarget as exc:
                    log.warning("listed order skipped: %s", exc)
                    continue
                if client_oid_prefix is not None and not (
                    row.client_oid is not None and row.client_oid.startswith(client_oid_prefix)
                ):
                    continue
                key = (kind, target.symbol, row.order_id)
                in_scope = symbols is None or target.symbol in symbols
                if in_scope and orders.setdefault(key, target) is target:
                    info[target] = _info(row)
            _tell(on_listed, len(orders))
            return len(rows)

        listing = await list_pages(session, lister, symbol, scope, stats, on_page)
        if not listing.complete:
            where = "" if symbol is None else f" on {symbol}"
            problems.append(f"{kind.value} orders{where}: {listing.problem}")

    parts = [(k, s) for k in kinds for s in (sorted(symbols) if symbols is not None else [None])]
    family = session.family
    await asyncio.gather(*(one(kind, symbol) for kind, symbol in parts))
    if session.family is not family and scope.refusal is None:
        # The account type was learnt from a refusal of this listing: list on its API.
        problems.clear()
        orders.clear()
        info.clear()
        await asyncio.gather(*(one(kind, symbol) for kind, symbol in parts))
    refusal = scope.refusal
    return OpenOrders(
        orders=list(orders.values()),
        complete=not problems,
        problems=tuple(problems),
        requests=stats.total - before,
        refused_code=None if refusal is None else refusal[0],
        info=info,
    )


def _tell(on_listed: Callable[[int], None] | None, count: int) -> None:
    if on_listed is None:
        return
    try:
        on_listed(count)
    except Exception:  # a display bug must never stop a listing
        log.exception("on_listed callback failed; ignoring it")


def _info(row: ListedOrder) -> OrderInfo:
    return OrderInfo(row.side, row.order_type, row.price, row.size, row.filled, row.created_ms)
