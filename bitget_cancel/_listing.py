"""Listing open orders: every page of one listing, through the session, trusted only when it
ran to its last page with a cursor that kept moving on.

A listing that the exchange refuses, garbles or leaves dangling is *incomplete*, never "nothing
open": the panic and ``open_orders()`` both read listings through this one function.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from ._classify import CODE_HINTS, Verdict
from ._exceptions import CallStopped, InvalidTarget, TransportError
from ._family import ListedOrder, Lister, is_decimal
from ._log import log
from ._models import CancelTarget, OpenOrders, OrderInfo, OrderKind
from ._policy import CallScope
from ._session import CallStats, ExchangeSession

# A listing longer than this many pages is not believed (a cursor that never ends).
MAX_PAGES = 2_000
# The one product line this package cancels (v3 rows name theirs).
SPOT_CATEGORY = "SPOT"
# Slices of an id-paged listing start SLICE_SPACING of SLICE_PAGES pages' mean id span apart.
# Each slice boundary costs the part of a page that overlaps the slice below (or, when the
# slice's pages span less than that, a whole page more): 4 pages a slice pay it a quarter as
# often as 1, and the sum of 4 pages' spans varies half as much as one's (the simulator's ids
# step by 1-4,096: one page's span varies by about 6 %, four pages' by 3 %), so 0.95 of them
# rarely leaves a gap. Against 10,000 orders 200-400 ms away: about 111 pages where 1 page a
# slice at 0.9 read about 121 (the floor is 101).
SLICE_SPACING = 0.95
SLICE_PAGES = 4


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
    *,
    cursor: str | None = None,
    met: Callable[[str, float], bool] | None = None,
) -> Listing:
    """Every page of one listing; ``on_page(rows)`` gets each page as it arrives and says how
    many of its rows are open orders in scope.

    A slice of a listing (``list_sliced``) starts at ``cursor`` and ends early once
    ``met(next_cursor, round_trip)`` says the slice below it covers the rest (``round_trip``:
    how long the page's request took); the cursor rules are the same.
    """
    policy = session.policy
    listing = Listing()
    cursors_seen: set[str] = set()
    failures = 0
    pages = 0
    while True:
        sent = session.loop.time()
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
                if met is not None and met(cursor, session.loop.time() - sent):
                    return listing
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


def merge(parts: Iterable[Listing]) -> Listing:
    """One listing made of parts (symbols, slices): complete only when every part is."""
    merged = Listing()
    for part in parts:
        merged.complete &= part.complete
        merged.final |= part.final
        merged.open_in_scope += part.open_in_scope
        merged.problem = merged.problem or part.problem
    return merged


class ListingLanes:
    """Listing requests in flight per endpoint, over every listing of one call: a listing is
    cut into more slices only while fewer are in flight than keep the endpoint's budget busy."""

    def __init__(self) -> None:
        self._live: Counter[str] = Counter()

    def live(self, endpoint: str) -> int:
        return self._live[endpoint]

    def enter(self, endpoint: str) -> None:
        self._live[endpoint] += 1

    def leave(self, endpoint: str) -> None:
        self._live[endpoint] -= 1


def lanes_for(rate: float, round_trip: float) -> int:
    """How many listing requests in flight keep a budget of ``rate`` a second busy at this
    round trip: one when a single chain of pages is faster than the budget, else the rate
    times the round trip plus one for jitter (at most a second's worth)."""
    need = rate * round_trip
    if need <= 1:
        return 1
    return max(1, min(math.ceil(need) + 1, int(rate)))


async def list_sliced(
    session: ExchangeSession,
    lister: Lister,
    symbol: str | None,
    scope: CallScope,
    stats: CallStats,
    on_page: Callable[[list[ListedOrder]], int],
    lanes: ListingLanes,
) -> Listing:
    """Every page of one listing, read in id ranges at once where the lister allows it
    (``Lister.id_paged``); otherwise one chain of pages (``list_pages``)."""
    if not lister.id_paged:
        name = lister.endpoint.name
        lanes.enter(name)
        try:
            return await list_pages(session, lister, symbol, scope, stats, on_page)
        finally:
            lanes.leave(name)
    return await _SlicedListing(session, lister, symbol, scope, stats, on_page, lanes).run()


@dataclass(eq=False)
class _Slice:
    """One id range of a listing: from ``hi`` (exclusive; None: the top) down to where the
    slice below starts, or to the end of the listing for the lowest one."""

    hi: int | None
    below: _Slice | None = None
    reached: int | None = None  # its cursor: every id from here up to ``hi`` is listed
    met: bool = False  # it stopped where the slice below starts
    result: Listing | None = None
    task: asyncio.Task[None] | None = None


class _SlicedListing:
    """The slices of one id-paged listing.

    The top slice starts alone. Its first page tells how far apart one page's ids lie and how
    long a round trip takes; from then on, while fewer listing requests are in flight than keep
    the budget busy (``lanes_for``), a new slice starts a few pages' mean span
    (``SLICE_PAGES``, ``SLICE_SPACING``) below the lowest one, which now only has to reach it;
    none once a slice has run to the end. Each slice follows its cursor by
    ``list_pages``' rules. The listing is complete when every slice is, down to one that ran
    to the end of the listing (the ones below it can only have found that end again).
    """

    def __init__(
        self,
        session: ExchangeSession,
        lister: Lister,
        symbol: str | None,
        scope: CallScope,
        stats: CallStats,
        on_page: Callable[[list[ListedOrder]], int],
        lanes: ListingLanes,
    ) -> None:
        self._session, self._lister, self._symbol = session, lister, symbol
        self._scope, self._stats, self._on_page, self._lanes = scope, stats, on_page, lanes
        self._name = lister.endpoint.name
        self._slices: list[_Slice] = []
        self._spans: list[int] = []  # ids each full page covered so far
        self._ended = False  # some slice ran to the end of the listing: start no more
        self._width = 0  # lanes_for(...), from the round trip of the first page
        self._loop = session.loop

    async def run(self) -> Listing:
        top = _Slice(None)
        self._slices.append(top)
        self._lanes.enter(self._name)
        try:
            await self._read(top)  # in this task: its first request goes out at once
            while pending := [s.task for s in self._slices if s.task and not s.task.done()]:
                await asyncio.wait(pending)
        finally:
            tasks = [s.task for s in self._slices if s.task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for s in self._slices:
            if s.task is not None:
                s.task.result()  # a bug in a slice is not an incomplete listing: raise it
        return self._merged()

    def _merged(self) -> Listing:
        needed: list[Listing] = []
        for s in self._slices:
            assert s.result is not None
            needed.append(s.result)
            if s.result.complete and not s.met:
                break  # it ran to the end of the listing
        listing = merge(needed)
        listing.open_in_scope = sum(s.result.open_in_scope for s in self._slices if s.result)
        return listing

    def _start(self, piece: _Slice) -> None:
        self._slices.append(piece)
        self._lanes.enter(self._name)
        piece.task = self._loop.create_task(self._read(piece))

    async def _read(self, piece: _Slice) -> None:
        try:
            piece.result = result = await list_pages(
                self._session, self._lister, self._symbol, self._scope, self._stats,
                partial(self._page, piece),
                cursor=None if piece.hi is None else str(piece.hi),
                met=partial(self._met, piece),
            )  # fmt: skip
            self._ended = self._ended or (result.complete and not piece.met)
        finally:
            self._lanes.leave(self._name)

    def _page(self, piece: _Slice, rows: list[ListedOrder]) -> int:
        ids = [int(r.order_id) for r in rows if r.order_id is not None and is_decimal(r.order_id)]
        if len(ids) > 1:
            self._spans.append(max(ids) - min(ids))
        return self._on_page(rows)

    def _met(self, piece: _Slice, cursor: str, round_trip: float) -> bool:
        """A page of ``piece`` ended at ``cursor`` after ``round_trip`` seconds: whether
        ``piece`` now reaches the slice below it; start slices if there is room."""
        if not is_decimal(cursor):
            return False  # not an id: this listing is not sliced further
        piece.reached = int(cursor)
        if not self._width:
            self._width = lanes_for(self._session.rate(self._lister.endpoint), round_trip)
        below = piece.below
        piece.met = below is not None and below.hi is not None and piece.reached <= below.hi
        self._widen(1 if piece.met else 0)  # a slice that is met leaves its lane now
        return piece.met

    def _widen(self, leaving: int) -> None:
        spans = self._spans
        if not spans:
            return
        # The mean over the pages so far: one page's span varies more than their mean.
        step = max(1, int(sum(spans) / len(spans) * SLICE_PAGES * SLICE_SPACING))
        lowest = self._slices[-1]
        while not self._ended and lowest.result is None and self._room(leaving):
            point = lowest.reached if lowest.reached is not None else lowest.hi
            if point is None or point - step <= 0:
                return
            lower = _Slice(point - step)
            lowest.below = lower
            self._start(lower)
            lowest = lower

    def _room(self, leaving: int) -> bool:
        return self._lanes.live(self._name) - leaving < self._width


def _usable(row: ListedOrder) -> bool:
    return not in_category(row) or listed_target(row, OrderKind.NORMAL) is not None


def in_category(row: ListedOrder) -> bool:
    """The row is a spot order as far as the listing says. A listing that ignores the
    category it was asked for (``category=SPOT``) shows futures or margin orders too: those
    are not ours to cancel, and not a sign that the spot listing is broken."""
    return row.category is None or row.category.upper() == SPOT_CATEGORY


def listed_target(row: ListedOrder, kind: OrderKind) -> tuple[CancelTarget, str | None] | None:
    """The target that cancels a listed order, with a note when the listed clientOid had to
    be left out; None if the row names no usable symbol and orderId.

    A clientOid the *exchange* lists blank or padded with whitespace is not the caller's
    mistake (a caller's padded id stays bad input): the order goes by its orderId.
    """
    if row.symbol is None or row.order_id is None:
        return None
    if not in_category(row):
        log.warning(
            "listed %s order %s is not a spot order (category %s): left alone",
            kind.value, row.order_id, row.category,
        )  # fmt: skip
        return None
    try:
        target = CancelTarget(
            symbol=row.symbol, order_id=row.order_id, client_oid=row.client_oid, kind=kind
        )
    except InvalidTarget:
        pass
    else:
        return target, None
    try:
        target = CancelTarget(symbol=row.symbol, order_id=row.order_id, kind=kind)
    except InvalidTarget as exc:
        log.warning("listed order skipped: %s", exc)
        return None
    note = (
        f"cancelled by orderId: the exchange lists its clientOid as {row.client_oid!r} "
        "(blank or padded with whitespace)"
    )
    return target, note


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
    lanes = ListingLanes()
    orders: dict[tuple[OrderKind, str, str], CancelTarget] = {}
    info: dict[CancelTarget, OrderInfo] = {}
    problems: list[str] = []
    unattributed: set[tuple[OrderKind, str, str]] = set()

    async def one(kind: OrderKind, symbol: str | None) -> None:
        lister = session.family.listing.get(kind)
        if lister is None:
            problems.append(f"{kind.value} orders: not listable on a {session.family.name} account")
            return

        def on_page(rows: list[ListedOrder]) -> int:
            for row in rows:
                found = listed_target(row, kind)
                if found is None or row.order_id is None:
                    continue
                target = found[0]
                key = (kind, target.symbol, row.order_id)
                in_scope = symbols is None or target.symbol in symbols
                if client_oid_prefix is not None:
                    # The panic's rules: a clientOid listed padded is attributed by its text
                    # (the order goes by orderId); without one, an order is not attributed.
                    attributed = (row.client_oid or "").strip()
                    if in_scope and not attributed:
                        unattributed.add(key)
                    if not attributed.startswith(client_oid_prefix):
                        continue
                if in_scope and orders.setdefault(key, target) is target:
                    info[target] = _info(row)
            _tell(on_listed, len(orders))
            return len(rows)

        listing = await list_sliced(session, lister, symbol, scope, stats, on_page, lanes)
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
        unattributed.clear()
        await asyncio.gather(*(one(kind, symbol) for kind, symbol in parts))
    refusal = scope.refusal
    return OpenOrders(
        orders=list(orders.values()),
        complete=not problems,
        problems=tuple(problems),
        requests=stats.total - before,
        refused_code=None if refusal is None else refusal[0],
        info=info,
        unattributed=len(unattributed),
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
