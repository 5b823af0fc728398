"""The unified trading account's API family (``V3``): which v3 endpoint cancels, lists and
bulk-cancels each kind of spot order, and how.

What the UTA pages say, and what stays uncertain (checked against Bitget's ``api-doc/uta``
pages as of their changelog of 2025-11-28):

- Normal orders: ``cancel-batch`` (at most 20, 5/s, per-order results, partial success),
  ``unfilled-orders`` (cursor pages of at most 100, 20/s), ``cancel-symbol-order`` (5/s).
  Not open: 25204 "Order does not exist"; 24056 "notExisted" in cancel-symbol-order's example.
- TP/SL orders: the strategy pages (``unfilled-strategy-orders``, ``cancel-strategy-order``)
  list only futures categories and the type ``tpsl``. Uncertain: whether a UTA's spot TP/SL
  orders are strategy orders listed with ``category=SPOT``. They are asked for that way; an
  exchange that refuses it leaves the TP/SL listing unconfirmed (with its code), never "empty".
- Plan (trigger) orders: no UTA page lists or places spot trigger orders, so there is no
  listing (the panic reports plan orders as not listable on a UTA, never as empty) and no bulk
  cancel. A plan target is asked of ``cancel-strategy-order`` by its id (that endpoint takes no
  category). Uncertain: whether a UTA can hold spot trigger orders at all.
- Confirming "does not exist" (checked 2026-12-07 against ``api-doc/uta/strategy`` and
  ``api-doc/uta/trade``): Place-Strategy-Order, Get-Unfilled-Strategy-Orders and
  History-Strategy-Orders take ``category`` USDT-FUTURES, COIN-FUTURES or USDC-FUTURES only and
  the ``type`` tpsl only: no page documents a spot strategy, trigger or plan order on a UTA.
  Cancel-Strategy-Order (10/s) takes only ``orderId`` or ``clientOid`` (orderId wins): no
  category, no symbol, so nothing says it refuses a spot order; its success is ``data: null``
  on one copy of the page and ``{orderId, clientOid}`` on another. Get-Order-Details
  (``trade/order-info``, 20/s, orderId or clientOid) shows the fields of normal orders
  (``orderType`` limit/market, ``orderStatus``) and says nothing of strategy orders, so a
  "not found" there would not clear a plan order. So a plan order, which no listing can show,
  is checked by ``cancel-strategy-order`` by its id (``checks``): it cancels the order if it
  is open (the outcome is ``cancelled``, found as a plan order), and only its "does not exist"
  confirms one. Uncertain: whether such orders exist on a UTA, whether that endpoint reaches
  them, and the code it answers for an unknown id (25204 is assumed; any other answer leaves
  the order unresolved). By clientOid (a target without orderId, or after its orderId's "does
  not exist") it names no symbol: a spot strategy order of that clientOid on another symbol
  would be the one cancelled (its answer, ``data: null``, names none, and no listing shows
  spot plan orders: documented, not avoidable). The simulator takes the strict side: a UTA
  there holds spot plan orders (which the engine cannot list), cancel-strategy-order cancels
  them by either id and answers 25204 (HTTP 400) for an id it does not hold.
- What the check must not cancel (issue 19, "D7"): taking no category, cancel-strategy-order
  also reaches the account's futures TP/SL orders, of the categories the strategy pages name
  (``FUTURES_CATEGORIES``). So before the checks of a call (one read for all its orders), each
  category is listed (``check_guards``: unfilled-strategy-orders, type tpsl; one request each,
  no paging) and no orderId or clientOid they show is asked; a listing that cannot be read to
  its end lets no check go (``_check_guard``). No check due, no listing. The same holds for the
  cancel of a TP/SL or plan *target* (D7b, ``ApiFamily.guards_for``): read once for the call
  before its first such request, unless a spot listing showed the orderId it goes by (the
  panic's). Not covered: a futures order placed between that listing and the check. With them
  (D7c, ``spot_guard``) the spot TP/SL listing is read: a target by clientOid, which names no
  symbol, goes by the orderId listed under it on its own symbol, and is not sent when that
  clientOid is listed on other symbols only or the listing cannot be read.
  Uncertain: whether a UTA's futures strategy orders include types other than tpsl (the pages
  list only tpsl); any other would need its own guard here.
- Server time: ``/api/v3/public/time`` is not on the UTA pages (a public client measured a 404
  there); the v2 one is public and serves both account types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ._answers import ItemFields, Named, Results, read_items, read_single
from ._family import ApiFamily, CheckGuard, Page, listed_row
from ._models import OrderKind
from ._plan import Batch
from ._wire import ANY_CODEC, SERVER_TIME, AnswerCodec, Endpoint, OpenOrderRow, encode_json, text
from ._wire_v3 import (
    CATEGORY,
    NULL_DATA_CODEC,
    NULL_SUCCESS,
    V3_CANCEL_BATCH,
    V3_CANCEL_BATCH_CODEC,
    V3_CANCEL_STRATEGY,
    V3_MAX_BATCH,
    V3_PAGE_LIMIT,
    V3_STRATEGY_CODEC,
    V3_SYMBOL_CANCEL,
    V3_UNFILLED_CODEC,
    V3_UNFILLED_ORDERS,
    V3_UNFILLED_STRATEGY,
    V3OrderPage,
    encode_cancel_batch,
)

# cancel-batch's items and cancel-strategy-order's data: each item carries its own outcome.
V3_ITEM = ItemFields(code="code", msg="msg")


def item_results(items: list[Any]) -> Results:
    """v3 per-order results. Success: code "00000", or no code and no message (the page's
    example success items carry only ids) or the message "success". Anything else is for
    ``classify_item``: 25204/24056 not open, a transient code retried, the rest failed."""
    return read_items(items, V3_ITEM, success=None)


class V3BatchCancel:
    """cancel-batch: a JSON array of items, each with its category and symbol, so the
    planner's batches go as they are (``batch_mode`` only matters to v2)."""

    endpoint = V3_CANCEL_BATCH
    max_batch = V3_MAX_BATCH
    codec = V3_CANCEL_BATCH_CODEC
    needs_order_id = False

    def encode(self, batch: Batch[Any]) -> bytes:
        by_order_id = batch.by_order_id
        pairs = [(o.symbol, o.order_id if by_order_id else o.client_oid) for o in batch.targets]
        return encode_cancel_batch(by_order_id, pairs)

    def results(self, data: Any, batch: Batch[Any]) -> Results | None:
        if not isinstance(data, list):
            return None
        return item_results(data)


@dataclass(frozen=True, slots=True)
class V3StrategyCancel:
    """cancel-strategy-order: one order a request, ``{"orderId"}`` or ``{"clientOid"}``."""

    endpoint: Endpoint = V3_CANCEL_STRATEGY
    max_batch: int = 1
    needs_order_id: bool = False
    codec: AnswerCodec[Any] = NULL_DATA_CODEC

    def encode(self, batch: Batch[Any]) -> bytes:
        (order,) = batch.targets
        if batch.by_order_id:
            return encode_json({"orderId": order.order_id})
        return encode_json({"clientOid": order.client_oid})

    def results(self, data: Any, batch: Batch[Any]) -> Results | None:
        (order,) = batch.targets
        # Its page's success is ``data: null`` (read as ``NULL_SUCCESS``): nameless. Data the
        # exchange sent names the order or is no success (``{"orderId": null}`` names none).
        sent = Named(order.order_id, order.client_oid)
        return read_single(data, sent, V3_ITEM, nameless=data is NULL_SUCCESS)


@dataclass(frozen=True, slots=True)
class V3Unfilled:
    """unfilled-orders of the spot category, newest first, ``cursor`` in and out."""

    endpoint: Endpoint = V3_UNFILLED_ORDERS
    limit: int = V3_PAGE_LIMIT
    codec: AnswerCodec[V3OrderPage] = V3_UNFILLED_CODEC
    # The docs' cursor is opaque ("the cursor from the previous query"), though their example
    # looks like an orderId: no slicing by id (one UTA holds at most 400 orders, 4 pages).
    id_paged: bool = False

    def query(self, symbol: str | None, cursor: str | None) -> str:
        params = [("category", CATEGORY)]
        if symbol:
            params.append(("symbol", symbol))
        params.append(("limit", str(self.limit)))
        if cursor is not None:
            params.append(("cursor", cursor))
        return urlencode(params)

    def advances(self, previous: str | None, cursor: str) -> bool:
        # An opaque cursor (the docs do not say it is an id): it must change, and never repeat
        # (repeats are caught by the caller).
        return cursor != previous

    def page(self, data: Any) -> Page | None:
        if not isinstance(data, V3OrderPage) or data.rows is None:
            return None  # no list: not a page we can trust, never "nothing open"
        if isinstance(data.cursor, bool):
            return None  # a cursor that is no cursor: never read as "no more pages"
        # A cursor is followed until the exchange hands back none (empty or absent), whatever
        # the page's length: a short page with a cursor is not taken for the last one.
        return Page([_listed(row) for row in data.rows], text(data.cursor))


@dataclass(frozen=True, slots=True)
class V3StrategyList:
    """unfilled-strategy-orders of one strategy type: a plain array, no paging.

    The page has no ``symbol`` parameter: the whole account is listed and the panic keeps what
    is in its scope.
    """

    strategy_type: str
    endpoint: Endpoint = V3_UNFILLED_STRATEGY
    codec: AnswerCodec[list[OpenOrderRow]] = V3_STRATEGY_CODEC
    id_paged: bool = False  # one page
    category: str = CATEGORY  # the spot one; the check guards list the futures ones

    def query(self, symbol: str | None, cursor: str | None) -> str:
        return urlencode([("category", self.category), ("type", self.strategy_type)])

    def advances(self, previous: str | None, cursor: str) -> bool:
        return False  # one page, never a cursor

    def page(self, data: Any) -> Page | None:
        if not isinstance(data, list):
            return None
        return Page([_listed(row) for row in data], None)


@dataclass(frozen=True, slots=True)
class V3SymbolCancel:
    """cancel-symbol-order for the spot category, one symbol a request.

    Its answer lists per-order results (``data.list``); the panic reads only the verdict and
    confirms by listing again. Uncertain: whether it is processed asynchronously like v2's,
    and whether it touches strategy orders (assumed not: they are listed on their own).
    """

    endpoint: Endpoint = V3_SYMBOL_CANCEL
    per_symbol: bool = True
    codec: AnswerCodec[Any] = ANY_CODEC

    def body(self, symbols: Sequence[str] | None) -> bytes:
        (symbol,) = symbols or ()  # one symbol a request
        return encode_json({"category": CATEGORY, "symbol": symbol})


_listed = listed_row


# One instance: a "does not exist" it answered is the same question the check would ask.
_STRATEGY_CANCEL = V3StrategyCancel()
# The spot TP/SL listing (the panic's): also where a target's clientOid is shown open.
_SPOT_TPSL = V3StrategyList("tpsl")

# The categories of the strategy orders cancel-strategy-order reaches besides spot ones (the
# strategy pages' ``category`` values): each is listed before a check by id is sent.
FUTURES_CATEGORIES = ("USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES")

V3 = ApiFamily(
    name="uta",
    cancel={
        OrderKind.NORMAL: V3BatchCancel(),
        OrderKind.TPSL: _STRATEGY_CANCEL,
        OrderKind.PLAN: _STRATEGY_CANCEL,
    },
    listing={
        OrderKind.NORMAL: V3Unfilled(),
        OrderKind.TPSL: _SPOT_TPSL,
    },
    bulk={OrderKind.NORMAL: V3SymbolCancel()},
    server_time=SERVER_TIME,
    # Plan orders cannot be listed on a UTA: each ambiguous order is asked of the strategy
    # cancel by its id (see the module's docstring).
    checks={OrderKind.PLAN: _STRATEGY_CANCEL},
    # That cancel takes no category: it reaches the account's futures TP/SL orders too. An id
    # one of these listings shows is never asked (``_check_guard``).
    check_guards=tuple(
        CheckGuard(f"a futures TP/SL order on {c}", V3StrategyList("tpsl", category=c))
        for c in FUTURES_CATEGORIES
    ),
    # A TP/SL or plan target asked by clientOid names no symbol: the spot TP/SL listing tells
    # on which symbol that clientOid is open (``_check_guard``).
    spot_guard=CheckGuard("the spot TP/SL listing", _SPOT_TPSL, spot=True),
)
