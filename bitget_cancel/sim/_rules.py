"""What every endpoint's rules share: the request in hand, parameter checks, failure items,
the asynchronous symbol cancel and the listing faults."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._book import NORMAL, TPSL, OrderBook, SimOrder
from ._faults import (
    DUPLICATE_ROWS,
    ORDER_TRANSIENT,
    SHORT_PAGE_CURSOR,
    STUCK_CURSOR,
    SYMBOL_CANCEL_NOOP,
    TRANSIENT_ORDER_ERRORS,
)
from ._stats import SimStats
from ._wire import SimError

Query = Mapping[str, str]
Scheduler = Callable[[float, Callable[[], None]], None]

NOT_EXIST_CODE = "43001"
NOT_EXIST_MSG = "The order does not exist"

_ABSENT = object()


@dataclass(eq=False)
class VenueState:
    """The account and the settings the endpoint rules read."""

    book: OrderBook
    rng: random.Random
    stats: SimStats
    clock_ms: Callable[[], int]
    schedule: Scheduler
    symbol_delay_ms: tuple[float, float]
    order_transient: float = 0.0
    plan_list_requires_symbol: bool = False

    def transient(self, call: Call) -> tuple[str, str] | None:
        """A transient (code, msg) for one order with probability ``order_transient``."""
        if self.order_transient and self.rng.random() < self.order_transient:
            self.stats.count_injected(call.path, ORDER_TRANSIENT)
            return self.rng.choice(TRANSIENT_ORDER_ERRORS)
        return None

    def cancel(self, order: SimOrder) -> None:
        if self.book.cancel(order):
            self.stats.cancelled += 1

    def absent_id(self) -> object:
        """How an id the client did not send comes back: null, "" or left out."""
        return self.rng.choice((None, "", _ABSENT))


@dataclass(eq=False)
class Call:
    """One request as an endpoint's rules see it.

    ``fault`` is a handler-level fault drawn for this request (listing and symbol-cancel
    faults); the handler sets ``fault_used`` when it acted on it, so only those are counted.
    """

    path: str
    body: Any
    query: Query
    stats: SimStats
    fault: str | None = None
    fault_used: bool = field(default=False)

    def violation(self, rule: str) -> None:
        self.stats.count_violation(self.path, rule)

    def take_fault(self, kind: str) -> bool:
        """True (once noted) if this request carries the fault ``kind``."""
        if self.fault == kind:
            self.fault_used = True
            return True
        return False


def bad_param(violation: str) -> SimError:
    return SimError(400, "40017", "Parameter verification failed", violation)


def id_format_error() -> SimError:
    return SimError(400, "40402", "orderId or clientOId format error", "id_format")


def opt_str(value: object) -> str | None:
    """A string field where null and "" both mean absent; other types are a format error."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise id_format_error()
    return value


def opt_int(query: Query, name: str, violation: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise bad_param(violation)
    return int(raw)


def order_ids(entry: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(orderId, clientOid) of a body or list item; at least one, orderId all digits."""
    order_id = opt_str(entry.get("orderId"))
    client_oid = opt_str(entry.get("clientOid"))
    if order_id is None and client_oid is None:
        raise SimError(400, "40924", "orderId and clientOid must have one", "missing_id")
    if order_id is not None and not (order_id.isascii() and order_id.isdigit()):
        raise id_format_error()
    return order_id, client_oid


def find_order(
    book: OrderBook, order_id: str | None, client_oid: str | None, call: Call
) -> SimOrder | None:
    """The order the ids name (orderId wins); None and a violation if the two disagree."""
    if order_id is not None:
        order = book.by_id(order_id)
        if order is not None and client_oid is not None and order.client_oid != client_oid:
            call.violation("id_mismatch")
            return None
        return order
    assert client_oid is not None
    return book.by_client_oid(client_oid)


def tpsl_type(value: object) -> str:
    """The order kind a ``tpslType`` field or parameter names (absent: normal)."""
    if value is None or value == "" or value == "normal":
        return NORMAL
    if value == "tpsl":
        return TPSL
    raise bad_param("tpsl_type")


def open_of_kind(order: SimOrder | None, kind: str, call: Call) -> SimOrder | None:
    """``order`` if it is open and of ``kind``; an open order of another kind is noted."""
    if order is None or not order.is_open:
        return None
    if order.kind != kind:
        call.stats.wrong_kind += 1
        return None
    return order


def symbol_cancel(state: VenueState, call: Call, doomed: list[SimOrder]) -> None:
    """Cancel ``doomed`` after the symbol-cancel delay (never, under ``symbol_cancel_noop``).

    Orders placed after the request are not part of it, as on the exchange.
    """
    if call.take_fault(SYMBOL_CANCEL_NOOP):
        return
    low, high = state.symbol_delay_ms
    delay_s = state.rng.uniform(low, high) / 1000.0

    def finish() -> None:
        for order in doomed:
            state.cancel(order)

    state.schedule(delay_s, finish)


@dataclass(frozen=True, slots=True)
class Page:
    """One listing page.

    ``orders``: the rows to show (duplicates included under ``duplicate_rows``); ``last``: the
    last order of the page itself, where the next page starts; ``more``: whether orders are
    left past the page; ``stuck``: the cursor given was ignored.
    """

    orders: list[SimOrder]
    last: SimOrder | None
    more: bool
    stuck: bool
    # ``short_page_cursor``: the page was cut short; the cursor (an id to page below) that
    # goes on from where it was cut.
    resume: str | None = None


def list_page(
    state: VenueState,
    call: Call,
    symbol: str | None,
    limit: int,
    below: int | None,
    start_ms: int | None,
    end_ms: int | None,
    kind: str = NORMAL,
    *,
    cursor_out: bool = True,
) -> Page:
    """Open orders newest first below ``below``, with the listing faults applied.

    ``stuck_cursor`` ignores ``below`` (the first page again); ``duplicate_rows`` repeats one
    row of the page and, on a later page, the row at the cursor when it is still open. Neither
    hides an order: the page itself is cut first. ``short_page_cursor`` shows only the first
    half of the page (none of a one-row page) and hands on a cursor to the rest (``resume``):
    an order is hidden from a client that takes a short page for the last one. Not on an
    answer that has no cursor to hand on (``cursor_out=False``): there it would hide orders
    no client could ever find, a fault that "means nothing for that endpoint".
    """
    stuck = below is not None and call.take_fault(STUCK_CURSOR)
    if stuck:
        below = None
    # One row more than asked tells whether another page exists.
    orders = state.book.page(symbol, limit + 1, below, start_ms, end_ms, kind)
    more = len(orders) > limit
    del orders[limit:]
    resume = None
    if orders and cursor_out and call.take_fault(SHORT_PAGE_CURSOR):
        shown = orders[: len(orders) // 2]
        if shown:
            resume = shown[-1].order_id
        else:  # an empty page whose cursor stays where it was
            resume = str(below) if below is not None else str(int(orders[0].order_id) + 1)
        orders, more = shown, True
    last = orders[-1] if orders else None
    if orders and call.take_fault(DUPLICATE_ROWS):
        rng = state.rng
        orders.insert(rng.randrange(len(orders) + 1), rng.choice(orders))
        if below is not None:
            boundary = state.book.by_id(str(below))
            if (
                boundary is not None
                and boundary.is_open
                and boundary.kind == kind
                and symbol in (None, boundary.symbol)
            ):
                orders.insert(0, boundary)
    return Page(orders, last, more, stuck, resume)
