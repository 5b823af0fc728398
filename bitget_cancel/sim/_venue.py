"""The v2 rules for normal orders (batch cancel, symbol cancel, open orders) and the public
endpoints, free of HTTP concerns.

Each handler takes the :class:`Call` and returns the ``data`` of a success envelope, or raises
:class:`SimError` to refuse the whole request.
"""

from __future__ import annotations

from typing import Any

from ._book import NORMAL
from ._rules import (
    NOT_EXIST_CODE,
    NOT_EXIST_MSG,
    Call,
    VenueState,
    bad_param,
    find_order,
    list_page,
    open_of_kind,
    opt_int,
    order_ids,
    symbol_cancel,
    tpsl_type,
)
from ._wire import SimError, coin_row, split_symbol, symbol_row, unfilled_row

MAX_BATCH = 50
MAX_PAGE = 100
DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")

# The documented failureList example has no errorCode; answer that way this often.
NO_ERROR_CODE_RATE = 0.3


class Venue:
    """Normal orders' v2 endpoints plus the public ones ccxt needs."""

    def __init__(self, state: VenueState) -> None:
        self.state = state

    # -- trade endpoints ----------------------------------------------------------------

    def batch_cancel(self, call: Call) -> Any:
        """``POST /api/v2/spot/trade/batch-cancel-order`` (normal orders only)."""
        body = call.body
        order_list = body.get("orderList")
        if not isinstance(order_list, list) or not order_list:
            raise bad_param("order_list_size")
        if len(order_list) > MAX_BATCH:
            raise SimError(400, "40912", "single cancel cannot exceed 50", "order_list_size")
        mode = body.get("batchMode")
        if mode is None or mode == "":
            mode = "single"
        if mode not in ("single", "multiple"):
            raise bad_param("batch_mode")
        top_symbol = body.get("symbol")
        if not isinstance(top_symbol, str):
            top_symbol = ""
        if mode == "single" and not top_symbol:
            raise bad_param("missing_symbol")

        # Validate the whole list before touching any order: a refused request cancels nothing
        # (one malformed orderId refuses all of it with 40402).
        targets: list[tuple[str, str | None, str | None]] = []
        for entry in order_list:
            if not isinstance(entry, dict):
                raise bad_param("order_item")
            order_id, client_oid = order_ids(entry)
            symbol = top_symbol
            if mode == "multiple":
                own = entry.get("symbol")
                if not (isinstance(own, str) and own):
                    raise bad_param("missing_symbol")
                symbol = own
            targets.append((symbol, order_id, client_oid))

        state = self.state
        any_order_id = any(order_id is not None for _, order_id, _ in targets)
        success: list[dict[str, Any]] = []
        failure: list[dict[str, Any]] = []
        seen: set[int] = set()
        for symbol, order_id, client_oid in targets:
            if any_order_id and order_id is None:
                # Documented: orders identified only by clientOid fail when mixed with orderIds.
                call.violation("mixed_ids")
                failure.append(
                    self._failure(
                        order_id, client_oid, "40017", "Parameter verification failed", False
                    )
                )
                continue
            found = find_order(state.book, order_id, client_oid, call)
            if found is not None:
                if id(found) in seen:
                    call.violation("duplicate_id")
                seen.add(id(found))
            order = open_of_kind(found, NORMAL, call)
            if order is None or order.symbol != symbol:
                failure.append(
                    self._failure(order_id, client_oid, NOT_EXIST_CODE, NOT_EXIST_MSG, True)
                )
                continue
            transient = state.transient(call)
            if transient is not None:
                failure.append(self._failure(order_id, client_oid, *transient, False))
                continue
            state.cancel(order)
            success.append({"orderId": order.order_id, "clientOid": order.client_oid})
        state.rng.shuffle(success)
        state.rng.shuffle(failure)
        return {"successList": success, "failureList": failure}

    def _failure(
        self,
        order_id: str | None,
        client_oid: str | None,
        code: str,
        msg: str,
        code_optional: bool,
    ) -> dict[str, Any]:
        """A failureList item: ids echoed as sent; an id not sent is null, "" or absent."""
        state = self.state
        item: dict[str, Any] = {}
        for name, value in (("orderId", order_id), ("clientOid", client_oid)):
            if value is not None:
                item[name] = value
            else:
                missing = state.absent_id()
                if isinstance(missing, str) or missing is None:
                    item[name] = missing
        item["errorMsg"] = msg
        if not (code_optional and state.rng.random() < NO_ERROR_CODE_RATE):
            item["errorCode"] = code
        return item

    def cancel_symbol(self, call: Call) -> Any:
        """``POST /api/v2/spot/trade/cancel-symbol-order``: answers now, cancels later.

        Only normal orders: whether TP/SL and plan orders go too is undocumented, so the
        strict reading is that they stay.
        """
        symbol = call.body.get("symbol")
        if not (isinstance(symbol, str) and symbol):
            raise bad_param("missing_symbol")
        symbol_cancel(self.state, call, self.state.book.open_orders(symbol, NORMAL))
        return {"symbol": symbol}

    def unfilled_orders(self, call: Call) -> Any:
        """``GET /api/v2/spot/trade/unfilled-orders``: open orders, newest first.

        ``tpslType=tpsl`` lists TP/SL orders instead of normal ones (the default).
        """
        query = call.query
        kind = tpsl_type(query.get("tpslType"))
        symbol = query.get("symbol") or None
        limit = opt_int(query, "limit", "limit_param")
        if limit is None:
            limit = MAX_PAGE
        elif not 1 <= limit <= MAX_PAGE:
            raise bad_param("limit_param")
        id_less_than = opt_int(query, "idLessThan", "id_less_than")
        start_ms = opt_int(query, "startTime", "time_param")
        end_ms = opt_int(query, "endTime", "time_param")
        # A plain array: a short page is the last one (no cursor to say otherwise).
        page = list_page(
            self.state, call, symbol, limit, id_less_than, start_ms, end_ms, kind, cursor_out=False
        )
        return [unfilled_row(order) for order in page.orders]

    # -- public endpoints ---------------------------------------------------------------

    def server_time(self, call: Call) -> Any:
        """``GET /api/v2/public/time`` (and ``/api/v3/public/time``)."""
        return {"serverTime": str(self.state.clock_ms())}

    def _listed_symbols(self) -> list[str]:
        return sorted(self.state.book.symbols.union(DEFAULT_SYMBOLS))

    def symbols(self, call: Call) -> Any:
        """``GET /api/v2/spot/public/symbols``: default pairs plus every pair with orders."""
        wanted = call.query.get("symbol")
        listed = self._listed_symbols()
        if wanted:
            listed = [s for s in listed if s == wanted]
        return [symbol_row(s) for s in listed]

    def coins(self, call: Call) -> Any:
        """``GET /api/v2/spot/public/coins``: the coins of the listed pairs."""
        names: set[str] = set()
        for symbol in self._listed_symbols():
            names.update(split_symbol(symbol))
        wanted = call.query.get("coin")
        ordered = sorted(n for n in names if not wanted or n == wanted)
        return [coin_row(name, index + 1) for index, name in enumerate(ordered)]

    def margin_currencies(self, call: Call) -> Any:
        """``GET /api/v2/margin/currencies``: this account trades no margin pairs."""
        return []
