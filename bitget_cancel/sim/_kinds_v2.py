"""The v2 rules for TP/SL and plan (trigger) orders, and the one-order cancel.

Facts from the v2 pages (``spot/trade/Cancel-Order``, ``spot/plan/...``): TP/SL orders are
cancelled one at a time by ``cancel-order`` with ``tpslType=tpsl``; plan orders have their own
listing and cancel endpoints and are never touched by the normal-order endpoints.
"""

from __future__ import annotations

from typing import Any

from ._book import NORMAL, PLAN, TPSL
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
    tpsl_type,
)
from ._wire import SimError, plan_row

PLAN_PAGE_DEFAULT = 20
PLAN_PAGE_MAX = 100
NINETY_DAYS_MS = 90 * 24 * 3600 * 1000

PLAN_NOT_EXIST_CODE = "43025"
PLAN_NOT_EXIST_MSG = "Plan order does not exist"


def _not_exist() -> SimError:
    return SimError(400, NOT_EXIST_CODE, NOT_EXIST_MSG)


def _plan_not_exist() -> SimError:
    return SimError(400, PLAN_NOT_EXIST_CODE, PLAN_NOT_EXIST_MSG)


def _transient_error(state: VenueState, call: Call) -> None:
    """A one-order cancel that fails transiently answers the whole request with the code."""
    transient = state.transient(call)
    if transient is not None:
        raise SimError(400, *transient)


class KindsV2:
    """``cancel-order`` (normal or TP/SL) and the plan-order endpoints."""

    def __init__(self, state: VenueState) -> None:
        self.state = state

    def cancel_order(self, call: Call) -> Any:
        """``POST /api/v2/spot/trade/cancel-order``: one normal order, or one TP/SL order with
        ``tpslType=tpsl``.

        A TP/SL order named without ``tpslType`` "does not exist" (as users report for stop
        orders). For TP/SL the page makes ``orderId`` required and ``symbol`` optional.
        """
        body = call.body
        kind = tpsl_type(body.get("tpslType"))
        symbol = body.get("symbol")
        if symbol is not None and not isinstance(symbol, str):
            raise bad_param("missing_symbol")
        if kind == NORMAL and not symbol:
            raise bad_param("missing_symbol")
        order_id, client_oid = order_ids(body)
        if kind == TPSL and order_id is None:
            raise bad_param("tpsl_order_id")
        state = self.state
        order = open_of_kind(find_order(state.book, order_id, client_oid, call), kind, call)
        if order is None or (symbol and order.symbol != symbol):
            raise _not_exist()
        _transient_error(state, call)
        state.cancel(order)
        return {"orderId": order.order_id, "clientOid": order.client_oid}

    def current_plan_orders(self, call: Call) -> Any:
        """``GET /api/v2/spot/trade/current-plan-order``: open plan orders, newest first.

        ``symbol`` is required by one copy of the docs and optional by another:
        ``plan_list_requires_symbol`` picks. ``limit`` defaults to 20 (at most 100); page on
        with ``idLessThan`` while ``nextFlag`` is true.
        """
        query = call.query
        state = self.state
        symbol = query.get("symbol") or None
        if symbol is None and state.plan_list_requires_symbol:
            raise bad_param("missing_symbol")
        limit = opt_int(query, "limit", "limit_param")
        if limit is None:
            limit = PLAN_PAGE_DEFAULT
        elif not 1 <= limit <= PLAN_PAGE_MAX:
            raise bad_param("limit_param")
        id_less_than = opt_int(query, "idLessThan", "id_less_than")
        start_ms = opt_int(query, "startTime", "time_param")
        end_ms = opt_int(query, "endTime", "time_param")
        if start_ms is not None and end_ms is not None and end_ms - start_ms > NINETY_DAYS_MS:
            raise bad_param("time_param")
        page = list_page(state, call, symbol, limit, id_less_than, start_ms, end_ms, PLAN)
        rows = page.orders
        next_flag = page.more
        if page.stuck:
            cursor = str(id_less_than)  # handed straight back: the next page is this one again
            next_flag = True
        elif page.resume is not None:
            cursor = page.resume
        else:
            cursor = page.last.order_id if page.last is not None else ""
        return {
            "nextFlag": next_flag,
            "idLessThan": cursor,
            "orderList": [plan_row(o) for o in rows],
        }

    def cancel_plan_order(self, call: Call) -> Any:
        """``POST /api/v2/spot/trade/cancel-plan-order``: one plan order by ``orderId`` or
        ``clientOid``; 43025 when it is not an open plan order."""
        order_id, client_oid = order_ids(call.body)
        state = self.state
        order = open_of_kind(find_order(state.book, order_id, client_oid, call), PLAN, call)
        if order is None:
            raise _plan_not_exist()
        _transient_error(state, call)
        state.cancel(order)
        return {"result": "success"}

    def batch_cancel_plan_orders(self, call: Call) -> Any:
        """``POST /api/v2/spot/trade/batch-cancel-plan-order``: every open plan order of the
        symbols in ``symbolList``, or of the whole account when it is absent or empty (the page:
        "If no value is set, all spot trigger orders will be cancelled")."""
        raw = call.body.get("symbolList")
        symbols: list[str] | None = None
        if raw is not None:
            if not isinstance(raw, list) or not all(isinstance(s, str) and s for s in raw):
                raise bad_param("symbol_list")
            symbols = list(dict.fromkeys(raw)) or None
        state = self.state
        if symbols is None:
            doomed = state.book.open_orders(None, PLAN)
        else:
            doomed = [o for s in symbols for o in state.book.open_orders(s, PLAN)]
        success: list[dict[str, Any]] = []
        failure: list[dict[str, Any]] = []
        for order in doomed:
            transient = state.transient(call)
            if transient is not None:
                failure.append(
                    {
                        "orderId": order.order_id,
                        "clientOid": order.client_oid,
                        "errorMsg": transient[1],
                    }
                )
                continue
            state.cancel(order)
            success.append({"orderId": order.order_id, "clientOid": order.client_oid})
        state.rng.shuffle(success)
        return {"successList": success, "failureList": failure}
