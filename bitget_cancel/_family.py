"""An API family: which endpoint cancels, lists and bulk-cancels each kind of order, and how.

The run and the panic are written once against this description; the classic account's v2 API
is one instance (``V2``), the unified account's v3 API another. Adding an endpoint is adding a
route here, not an ``if`` in the layers above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from ._answers import ItemFields, Named, Results, read_items, read_single
from ._answers import OrderIds as OrderIds  # re-exported: older imports name them here
from ._answers import Refusal as Refusal
from ._answers import SentIds as SentIds
from ._models import OrderKind
from ._plan import Batch
from ._wire import (
    ANY_CODEC,
    BATCH_CANCEL,
    BATCH_CANCEL_CODEC,
    BATCH_CANCEL_PLAN,
    CANCEL_ORDER,
    CANCEL_PLAN_ORDER,
    CURRENT_PLAN_ORDERS,
    ONE_ORDER_CODEC,
    PLAN_LIST_CODEC,
    SERVER_TIME,
    SYMBOL_CANCEL,
    UNFILLED_CODEC,
    UNFILLED_ORDERS,
    AnswerCodec,
    CancelData,
    Endpoint,
    OpenOrderRow,
    PlanPage,
    UsualCancelData,
    encode_batch_v2,
    encode_json,
    text,
)


@dataclass(frozen=True, slots=True)
class ListedOrder:
    symbol: str | None
    order_id: str | None
    client_oid: str | None
    # The product line the row names (v3); None where the listing does not say (v2's spot
    # endpoints list spot orders only).
    category: str | None = None
    # Shown by ``orders`` where the listing gives them; never used to cancel.
    side: str | None = None
    order_type: str | None = None
    price: str | None = None
    size: str | None = None
    filled: str | None = None
    created_ms: str | None = None


def listed_row(row: OpenOrderRow) -> ListedOrder:
    """A listing's row, whichever API family's field names it uses."""
    return ListedOrder(
        text(row.symbol),
        text(row.order_id),
        text(row.client_oid),
        text(row.category),
        side=text(row.side),
        order_type=text(row.order_type),
        price=text(row.price) or text(row.price_avg) or text(row.execute_price),
        size=text(row.size) or text(row.qty),
        filled=text(row.base_volume) or text(row.cum_exec_qty),
        created_ms=text(row.c_time) or text(row.created_time),
    )


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[ListedOrder]
    cursor: str | None  # where the next page starts; None: this was the last page


class CancelRoute(Protocol):
    """How one kind of order is cancelled: the endpoint, how many orders a request carries,
    the body, and the per-order results of a successful answer."""

    @property
    def endpoint(self) -> Endpoint: ...

    @property
    def max_batch(self) -> int: ...

    @property
    def codec(self) -> AnswerCodec[Any]: ...

    @property
    def needs_order_id(self) -> bool:
        """The endpoint cannot cancel by clientOid alone."""

    def encode(self, batch: Batch[Any]) -> bytes: ...

    def results(self, data: Any, batch: Batch[Any]) -> Results | None:
        """Per-order results; None if the data is not the documented shape."""


class Lister(Protocol):
    """How open orders of one kind are listed, page by page."""

    @property
    def endpoint(self) -> Endpoint: ...

    @property
    def codec(self) -> AnswerCodec[Any]: ...

    def query(self, symbol: str | None, cursor: str | None) -> str: ...

    def page(self, data: Any) -> Page | None:
        """The page in an answer's data, or None if it is not the documented shape."""

    def advances(self, previous: str | None, cursor: str) -> bool:
        """Whether ``cursor`` moves on from ``previous`` (a listing that does not is broken)."""

    @property
    def id_paged(self) -> bool:
        """Pages run down the order ids and any id may start one (``idLessThan``): the listing
        can be cut into id ranges read at once (``_listing.list_sliced``)."""


class BulkCancel(Protocol):
    """How every open order of one kind on some symbols is cancelled in one request."""

    @property
    def endpoint(self) -> Endpoint: ...

    @property
    def codec(self) -> AnswerCodec[Any]: ...

    @property
    def per_symbol(self) -> bool:
        """True: one request per symbol; False: one request for a list of symbols (or all)."""

    def body(self, symbols: Sequence[str] | None) -> bytes: ...


@dataclass(frozen=True, slots=True)
class CheckGuard:
    """Orders a check by id can reach that are not this package's to cancel (a UTA's futures
    TP/SL orders), and the listing that shows them: an id it shows is never asked by a check."""

    what: str  # how a problem names them: "a futures TP/SL order on USDT-FUTURES"
    lister: Lister
    # Spot orders (ours to cancel), listed only to learn on which symbol a clientOid is open:
    # a cancel by clientOid names no symbol (``_check_guard.Guarded.by_client_oid``).
    spot: bool = False


@dataclass(frozen=True, slots=True)
class ApiFamily:
    name: str  # the account type it serves: "classic" or "uta"
    cancel: Mapping[OrderKind, CancelRoute]
    listing: Mapping[OrderKind, Lister]
    bulk: Mapping[OrderKind, BulkCancel]
    server_time: Endpoint
    # Kinds the account cannot list, and the route that checks one order of that kind by its
    # id instead (a cancel that takes no symbol: it cancels the order if it is open, else says
    # "does not exist"). A "does not exist" is confirmed only once every kind is listed or
    # checked (``_confirm``).
    checks: Mapping[OrderKind, CancelRoute] = field(default_factory=dict)
    # What the checks can reach beyond spot orders: listed (once for all the orders checked
    # together, only when a check is due) before any check is sent (``_check_guard``).
    check_guards: Sequence[CheckGuard] = ()
    # The spot listing of what the checks' endpoint cancels by clientOid without a symbol,
    # read with the check guards before a TP/SL or plan *target* is cancelled that way.
    spot_guard: CheckGuard | None = None

    def guards_for(self, route: CancelRoute) -> Sequence[CheckGuard]:
        """The guards a request of ``route`` needs: the check guards and the spot guard when
        it is a checks' endpoint (a cancel of a TP/SL or plan order on a UTA is one: it reaches
        what the checks reach, and by clientOid names no symbol), else none."""
        if any(route.endpoint == check.endpoint for check in self.checks.values()):
            spot = () if self.spot_guard is None else (self.spot_guard,)
            return (*self.check_guards, *spot)
        return ()

    def unchecked_kinds(self) -> tuple[OrderKind, ...]:
        """Kinds this account can neither list nor check by id: an order answered "does not
        exist" may be one of them, so that answer can never be confirmed."""
        return tuple(k for k in OrderKind if k not in self.listing and k not in self.checks)


# -- v2 (classic account) ------------------------------------------------------------------

# batch-cancel-order's items (successList, failureList) and cancel-order's data.
V2_ITEM = ItemFields(code="errorCode", msg="errorMsg")


class V2BatchCancel:
    endpoint = BATCH_CANCEL
    max_batch = 50
    codec = BATCH_CANCEL_CODEC
    needs_order_id = False

    def encode(self, batch: Batch[Any]) -> bytes:
        return encode_batch_v2(batch.batch_mode, batch.symbol, batch.by_order_id, batch.targets)

    def results(self, data: Any, batch: Batch[Any]) -> Results | None:
        if isinstance(data, UsualCancelData):
            # Each success item already checked to be of the documented shape: a success.
            failed = read_items(data.failure_list or (), V2_ITEM, success=False)
            succeeded: list[OrderIds] = [*(data.success_list or ()), *failed.succeeded]
            return Results(succeeded, failed.refused, failed.unrecognised)
        if not isinstance(data, CancelData):
            return None
        ok = read_items(data.success_list or (), V2_ITEM, success=True)
        failed = read_items(data.failure_list or (), V2_ITEM, success=False)
        return Results(
            [*ok.succeeded, *failed.succeeded],
            [*ok.refused, *failed.refused],
            [*ok.unrecognised, *failed.unrecognised],
        )


@dataclass(frozen=True, slots=True)
class V2OneOrderCancel:
    """cancel-order (TP/SL, with ``tpslType``) and cancel-plan-order: one order a request."""

    endpoint: Endpoint
    extra: Mapping[str, str]
    with_symbol: bool
    needs_order_id: bool = False
    # A field by which a success names no order ({"result": "success"}); None: it names one.
    result_field: str | None = None
    max_batch: int = 1
    codec: AnswerCodec[Any] = ONE_ORDER_CODEC

    def encode(self, batch: Batch[Any]) -> bytes:
        (order,) = batch.targets
        body: dict[str, str] = {}
        if self.with_symbol:
            body["symbol"] = order.symbol
        if batch.by_order_id:
            body["orderId"] = order.order_id
        else:
            body["clientOid"] = order.client_oid
        body.update(self.extra)
        return encode_json(body)

    def results(self, data: Any, batch: Batch[Any]) -> Results | None:
        (order,) = batch.targets
        sent = Named(order.order_id, order.client_oid)
        return read_single(data, sent, V2_ITEM, result_field=self.result_field)


@dataclass(frozen=True, slots=True)
class V2Unfilled:
    endpoint: Endpoint
    extra: tuple[tuple[str, str], ...] = ()
    limit: int = 100
    codec: AnswerCodec[list[OpenOrderRow]] = UNFILLED_CODEC
    id_paged: bool = True  # the docs: idLessThan "requests the content on the page before this ID"

    def advances(self, previous: str | None, cursor: str) -> bool:
        # idLessThan pages go to ever smaller ids.
        return previous is None or id_order(cursor) < id_order(previous)

    def query(self, symbol: str | None, cursor: str | None) -> str:
        params = [("symbol", symbol)] if symbol else []
        params.extend(self.extra)
        params.append(("limit", str(self.limit)))
        if cursor is not None:
            params.append(("idLessThan", cursor))
        return urlencode(params)

    def page(self, data: Any) -> Page | None:
        if not isinstance(data, list):
            return None
        rows = [_listed(row) for row in data]
        if len(rows) < self.limit:
            return Page(rows, None)
        ids = [r.order_id for r in rows if r.order_id is not None]
        # A full page: the next one starts below the smallest id of this one.
        return Page(rows, min(ids, key=id_order) if ids else None)


@dataclass(frozen=True, slots=True)
class V2PlanList:
    endpoint: Endpoint = CURRENT_PLAN_ORDERS
    limit: int = 100
    codec: AnswerCodec[PlanPage] = PLAN_LIST_CODEC
    id_paged: bool = True  # idLessThan, as unfilled-orders

    def advances(self, previous: str | None, cursor: str) -> bool:
        # idLessThan pages go to ever smaller ids.
        return previous is None or id_order(cursor) < id_order(previous)

    def query(self, symbol: str | None, cursor: str | None) -> str:
        params = [("symbol", symbol)] if symbol else []
        params.append(("limit", str(self.limit)))
        if cursor is not None:
            params.append(("idLessThan", cursor))
        return urlencode(params)

    def page(self, data: Any) -> Page | None:
        if not isinstance(data, PlanPage) or data.order_list is None:
            return None
        rows = [_listed(row) for row in data.order_list]
        cursor = text(data.id_less_than) if data.next_flag else None
        if data.next_flag and cursor is None:
            return None  # "more pages" without saying where: not a page we can trust
        return Page(rows, cursor)


@dataclass(frozen=True, slots=True)
class V2SymbolCancel:
    endpoint: Endpoint = SYMBOL_CANCEL
    per_symbol: bool = True
    codec: AnswerCodec[Any] = ANY_CODEC

    def body(self, symbols: Sequence[str] | None) -> bytes:
        (symbol,) = symbols or ()  # one symbol a request
        return encode_json({"symbol": symbol})


@dataclass(frozen=True, slots=True)
class V2PlanBulkCancel:
    endpoint: Endpoint = BATCH_CANCEL_PLAN
    per_symbol: bool = False
    codec: AnswerCodec[Any] = ANY_CODEC

    def body(self, symbols: Sequence[str] | None) -> bytes:
        # No symbolList: every spot trigger order of the account.
        return encode_json({} if symbols is None else {"symbolList": list(symbols)})


_listed = listed_row


def id_order(order_id: str) -> tuple[int, int, str]:
    """Exchange ids are decimal; compare them as numbers, anything else as text after them
    (also other scripts' digits: "²".isdigit() holds, but int() refuses it)."""
    return (0, int(order_id), "") if is_decimal(order_id) else (1, 0, order_id)


def is_decimal(value: str) -> bool:
    """ASCII digits only, and not thousands of them (``int()`` raises a ValueError past 4,300):
    what ``int()`` reads as an exchange id or a cursor (Bitget's ids have about 19)."""
    return len(value) <= _MAX_ID_DIGITS and value.isascii() and value.isdigit()


_MAX_ID_DIGITS = 64


V2 = ApiFamily(
    name="classic",
    cancel={
        OrderKind.NORMAL: V2BatchCancel(),
        # For a TP/SL order the orderId is required (the docs; the simulator refuses 40017).
        OrderKind.TPSL: V2OneOrderCancel(
            CANCEL_ORDER, {"tpslType": "tpsl"}, with_symbol=True, needs_order_id=True
        ),
        # cancel-plan-order answers {"result": "success"}, naming no order.
        OrderKind.PLAN: V2OneOrderCancel(
            CANCEL_PLAN_ORDER, {}, with_symbol=False, result_field="result"
        ),
    },
    listing={
        OrderKind.NORMAL: V2Unfilled(UNFILLED_ORDERS),
        OrderKind.TPSL: V2Unfilled(UNFILLED_ORDERS, extra=(("tpslType", "tpsl"),)),
        OrderKind.PLAN: V2PlanList(),
    },
    bulk={OrderKind.NORMAL: V2SymbolCancel(), OrderKind.PLAN: V2PlanBulkCancel()},
    server_time=SERVER_TIME,
)
