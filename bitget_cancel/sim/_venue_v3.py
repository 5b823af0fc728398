"""The v3 (unified trading account) rules for spot orders.

From Bitget's ``api-doc/uta`` pages (Cancel-Batch, Cancel-All-Order, Get-Order-Pending) and the
strategy-order endpoints as public clients call them. What the pages leave open is marked
"Uncertain" where it is decided.
"""

from __future__ import annotations

from typing import Any

from ._book import FUTURES_TPSL, NORMAL, PLAN, TPSL, SimOrder
from ._faults import STRATEGY_IGNORES_CATEGORY
from ._rules import (
    Call,
    VenueState,
    bad_param,
    find_order,
    list_page,
    open_of_kind,
    opt_int,
    order_ids,
    symbol_cancel,
)
from ._wire import SimError, v3_order_row, v3_strategy_row

V3_MAX_BATCH = 20
V3_MAX_PAGE = 100
SPOT = "SPOT"
FUTURES = "USDT-FUTURES"
CATEGORIES = frozenset({"SPOT", "MARGIN", "USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES"})

V3_NOT_EXIST_CODE = "25204"
V3_NOT_EXIST_MSG = "Order does not exist"

# Strategy order types and the order kinds behind them; other documented types (oco,
# trailing_stop, iceberg, twap) exist but this account holds none.
STRATEGY_TYPES = {"tpsl": TPSL, "trigger": PLAN}
_STRATEGY_TYPE_NAMES = ("tpsl", "trigger", "oco", "trailing_stop", "iceberg", "twap")


def _category(value: object, call: Call, *, required: bool) -> str | None:
    """The category named (upper case), or None when absent and allowed to be.

    Uncertain: the Cancel-Batch page's example sends "spot" where its table says SPOT; both
    are accepted.
    """
    if value is None or value == "":
        if required:
            raise bad_param("missing_category")
        return None
    if not isinstance(value, str) or value.upper() not in CATEGORIES:
        raise bad_param("category")
    return value.upper()


class VenueV3:
    """``/api/v3/trade/...`` for a unified trading account's spot orders."""

    def __init__(self, state: VenueState) -> None:
        self.state = state

    def _not_exist(self, order_id: str | None, client_oid: str | None) -> dict[str, Any]:
        return self._item(order_id, client_oid, V3_NOT_EXIST_CODE, V3_NOT_EXIST_MSG)

    def _item(
        self, order_id: str | None, client_oid: str | None, code: str, msg: str
    ) -> dict[str, Any]:
        """A failed item: ids echoed as sent; an id not sent is null, "" or left out."""
        item: dict[str, Any] = {}
        for name, value in (("orderId", order_id), ("clientOid", client_oid)):
            if value is not None:
                item[name] = value
            else:
                missing = self.state.absent_id()
                if isinstance(missing, str) or missing is None:
                    item[name] = missing
        item["code"] = code
        item["msg"] = msg
        return item

    def cancel_batch(self, call: Call) -> Any:
        """``POST /api/v3/trade/cancel-batch``: a JSON array of at most 20 orders of one
        category; per-item results in any order.

        Success items carry only the ids, as in the page's example (uncertain whether the
        exchange adds a success code). Both ids in one item break the page's rule ("never
        both"): counted, and the orderId wins as the page says.
        """
        items = call.body
        if not isinstance(items, list):
            raise bad_param("body_json")
        if not items or len(items) > V3_MAX_BATCH:
            # Uncertain: the code for an oversized batch is not documented.
            raise bad_param("order_list_size")
        targets: list[tuple[str, str, str | None, str | None]] = []
        categories: set[str] = set()
        for entry in items:
            if not isinstance(entry, dict):
                raise bad_param("order_item")
            category = _category(entry.get("category"), call, required=True)
            assert category is not None
            categories.add(category)
            symbol = entry.get("symbol")
            if not (isinstance(symbol, str) and symbol):
                raise bad_param("missing_symbol")
            order_id, client_oid = order_ids(entry)
            targets.append((category, symbol, order_id, client_oid))
        if len(categories) > 1:
            raise bad_param("mixed_category")

        state = self.state
        results: list[dict[str, Any]] = []
        seen: set[int] = set()
        for category, symbol, order_id, client_oid in targets:
            by_client_oid = client_oid
            if order_id is not None and client_oid is not None:
                call.violation("both_ids")
                by_client_oid = None  # the page: the clientOid is ignored
            found = find_order(state.book, order_id, by_client_oid, call)
            if found is not None:
                if id(found) in seen:
                    call.violation("duplicate_id")
                seen.add(id(found))
            order = open_of_kind(found, NORMAL, call)
            if order is None or order.symbol != symbol or category != SPOT:
                results.append(self._not_exist(order_id, client_oid))
                continue
            transient = state.transient(call)
            if transient is not None:
                results.append(self._item(order_id, client_oid, *transient))
                continue
            state.cancel(order)
            results.append({"orderId": order.order_id, "clientOid": order.client_oid})
        state.rng.shuffle(results)
        return results

    def cancel_symbol(self, call: Call) -> Any:
        """``POST /api/v3/trade/cancel-symbol-order``: every open order of the category (and
        symbol, when given); ``data.list`` names them.

        Uncertain: the page does not say whether the cancel is asynchronous; like v2 it is
        taken to be (the orders go after the symbol-cancel delay), which is the stricter
        reading. Strategy orders stay, as with v2.
        """
        body = call.body
        category = _category(body.get("category"), call, required=True)
        symbol = body.get("symbol")
        if symbol is not None and not isinstance(symbol, str):
            raise bad_param("missing_symbol")
        doomed: list[SimOrder] = []
        if category == SPOT:
            doomed = self.state.book.open_orders(symbol or None, NORMAL)
        symbol_cancel(self.state, call, doomed)
        listed = [{"orderId": o.order_id, "clientOid": o.client_oid} for o in doomed]
        return {"list": listed}

    def unfilled_orders(self, call: Call) -> Any:
        """``GET /api/v3/trade/unfilled-orders``: open orders newest first, ``cursor`` paging.

        ``category`` is optional on the page (absent: every category, and this account has
        only spot orders). The cursor handed back is the last row's orderId whenever the page
        has rows, "" for an empty page (uncertain: the page does not say how the end shows).
        """
        query = call.query
        category = _category(query.get("category"), call, required=False)
        symbol = query.get("symbol") or None
        limit = opt_int(query, "limit", "limit_param")
        if limit is None:
            limit = V3_MAX_PAGE
        elif not 1 <= limit <= V3_MAX_PAGE:
            raise bad_param("limit_param")
        cursor = opt_int(query, "cursor", "cursor_param")
        start_ms = opt_int(query, "startTime", "time_param")
        end_ms = opt_int(query, "endTime", "time_param")
        if category not in (None, SPOT):
            return {"list": [], "cursor": ""}
        page = list_page(self.state, call, symbol, limit, cursor, start_ms, end_ms, NORMAL)
        rows = page.orders
        if page.stuck:
            out = str(cursor)  # handed straight back: the next page is this one again
        elif page.resume is not None:
            out = page.resume
        elif page.last is not None:
            out = page.last.order_id
        else:
            out = ""
        return {"list": [v3_order_row(o) for o in rows], "cursor": out}

    def unfilled_strategy_orders(self, call: Call) -> Any:
        """``GET /api/v3/trade/unfilled-strategy-orders``: open TP/SL (``type=tpsl``) and
        trigger (``type=trigger``) orders as a plain array, no paging, each row naming its
        category: SPOT lists the spot ones, USDT-FUTURES the account's futures TP/SL orders
        (``strategy_ignores_category`` lists those for SPOT too).

        Uncertain: without ``type`` every type is listed (the SDKs make it optional).
        """
        query = call.query
        category = _category(query.get("category"), call, required=True)
        wanted = query.get("type") or None
        if wanted is not None and wanted not in _STRATEGY_TYPE_NAMES:
            raise bad_param("strategy_type")
        symbol = query.get("symbol") or None
        state = self.state
        rows: list[dict[str, Any]] = []
        if category == SPOT:
            for name, kind in STRATEGY_TYPES.items():
                if wanted in (None, name):
                    page = list_page(
                        state, call, symbol, 10**9, None, None, None, kind, cursor_out=False
                    )
                    rows.extend(v3_strategy_row(o) for o in page.orders)
        ignores = category == SPOT and call.take_fault(STRATEGY_IGNORES_CATEGORY)
        if (category == FUTURES or ignores) and wanted in (None, "tpsl"):
            page = list_page(
                state, call, symbol, 10**9, None, None, None, FUTURES_TPSL, cursor_out=False
            )
            rows.extend(v3_strategy_row(o, FUTURES) for o in page.orders)
        return rows

    def cancel_strategy_order(self, call: Call) -> Any:
        """``POST /api/v3/trade/cancel-strategy-order``: one TP/SL or trigger order by
        ``orderId`` or ``clientOid``.

        Uncertain: the code for one that is not open (25204 here, as for the other v3 cancels).
        """
        order_id, client_oid = order_ids(call.body)
        state = self.state
        found = find_order(state.book, order_id, client_oid, call)
        order = None
        if found is not None and found.is_open:
            if found.kind == NORMAL:
                state.stats.wrong_kind += 1
            else:
                order = found
        if order is None:
            raise SimError(400, V3_NOT_EXIST_CODE, V3_NOT_EXIST_MSG)
        transient = state.transient(call)
        if transient is not None:
            raise SimError(400, *transient)
        state.cancel(order)
        return None  # as recorded from the live exchange: success with data null
