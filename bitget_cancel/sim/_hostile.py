"""Hostile answers: what a lying or broken exchange answers instead of the truth, for the
faults that make them (issue 19). Each acts only where it means something, and none closes an
order that its answer does not truthfully name.

- Instead of the exchange (the orders are left as they were): ``other_id_success`` (a success
  naming another orderId), ``unknown_item_fields`` on a cancel (items of fields no page
  documents), ``v2_names_on_v3`` (v3 cancel-batch failure items as ``errorCode``/``errorMsg``),
  ``null_data`` (a success code with ``data: null``), ``missing_items`` on a one-order cancel
  (data without its ids).
- Around the exchange's own rules: ``missing_items`` on a batch (every other order neither
  acted on nor answered), ``duplicate_items`` (every item of a cancel answer twice),
  ``unknown_item_fields`` on a listing (rows whose ids and symbols are under other names).
"""

from __future__ import annotations

from typing import Any

from ._faults import (
    DUPLICATE_ITEMS,
    MISSING_ITEMS,
    NULL_DATA,
    OTHER_ID_SUCCESS,
    UNKNOWN_ITEM_FIELDS,
    V2_NAMES_ON_V3,
)
from ._routes import (
    BATCH_CANCEL_PATH,
    BATCH_CANCEL_PLAN_PATH,
    CANCEL_ORDER_PATH,
    CANCEL_PLAN_PATH,
    CANCEL_SYMBOL_PATH,
    CURRENT_PLAN_PATH,
    UNFILLED_PATH,
    V3_CANCEL_BATCH_PATH,
    V3_CANCEL_STRATEGY_PATH,
    V3_CANCEL_SYMBOL_PATH,
    V3_STRATEGY_PATH,
    V3_UNFILLED_PATH,
)
from ._rules import Call

INSTEAD_KINDS = frozenset(
    {OTHER_ID_SUCCESS, UNKNOWN_ITEM_FIELDS, V2_NAMES_ON_V3, NULL_DATA, MISSING_ITEMS}
)
ONE_ORDER_PATHS = frozenset({CANCEL_ORDER_PATH, CANCEL_PLAN_PATH, V3_CANCEL_STRATEGY_PATH})
BATCH_PATHS = frozenset({BATCH_CANCEL_PATH, V3_CANCEL_BATCH_PATH})
LISTING_PATHS = frozenset({UNFILLED_PATH, CURRENT_PLAN_PATH, V3_UNFILLED_PATH, V3_STRATEGY_PATH})
# Answers whose data null is a documented success: null_data means nothing there.
_NULL_IS_SUCCESS = frozenset({V3_CANCEL_STRATEGY_PATH})
_BULK_PATHS = frozenset({CANCEL_SYMBOL_PATH, V3_CANCEL_SYMBOL_PATH, BATCH_CANCEL_PLAN_PATH})


class Unchanged:
    """The fault means nothing for this request: the exchange answers as it would."""


UNCHANGED = Unchanged()


def _ids(call: Call) -> list[tuple[Any, Any]]:
    """(orderId, clientOid) of every order the request names, as sent."""
    body = call.body
    if call.path == BATCH_CANCEL_PATH:
        items = body.get("orderList") if isinstance(body, dict) else None
    elif call.path == V3_CANCEL_BATCH_PATH:
        items = body
    else:
        items = [body]
    return [
        (item.get("orderId"), item.get("clientOid"))
        for item in items or ()
        if isinstance(item, dict)
    ]


def _other(order_id: Any) -> str:
    """An orderId that is not the one asked: the next one up."""
    return str(int(order_id) + 1) if isinstance(order_id, str) and order_id.isdigit() else "1"


def instead(call: Call) -> Any:
    """The hostile data answered instead of the exchange's (nothing acted on), or UNCHANGED."""
    fault, path = call.fault, call.path
    if fault not in INSTEAD_KINDS:
        return UNCHANGED
    if fault == NULL_DATA and path not in _NULL_IS_SUCCESS and (
        path in ONE_ORDER_PATHS or path in BATCH_PATHS or path in _BULK_PATHS
        or path in LISTING_PATHS
    ):  # fmt: skip
        call.fault_used = True
        return None
    if path not in ONE_ORDER_PATHS and path not in BATCH_PATHS:
        return UNCHANGED
    ids = _ids(call)
    data = _cancel_answer(fault, path, ids)
    if isinstance(data, Unchanged):
        return data
    call.fault_used = True
    return data


def _cancel_answer(fault: str | None, path: str, ids: list[tuple[Any, Any]]) -> Any:
    v3 = path.startswith("/api/v3/")
    if fault == OTHER_ID_SUCCESS:
        items = [{"orderId": _other(order_id), "clientOid": None} for order_id, _ in ids]
        if path == BATCH_CANCEL_PATH:
            return {"successList": items, "failureList": []}
        if path == V3_CANCEL_BATCH_PATH:
            return items
        if path == CANCEL_PLAN_PATH:
            return {**items[0], "result": "success"}
        return items[0]
    if fault == UNKNOWN_ITEM_FIELDS:
        # OKX's names for the ids, and a state no Bitget page documents.
        items = [{"ordId": o, "clOrdId": c, "sCode": "51400", "sMsg": "busy"} for o, c in ids]
        if path == BATCH_CANCEL_PATH:
            return {"successList": items, "failureList": []}
        if path == V3_CANCEL_BATCH_PATH:
            # The ids as documented, the outcome under names the page does not have.
            return [
                {"orderId": o, "clientOid": c, "state": "failed", "reason": "busy"} for o, c in ids
            ]
        return items[0]
    if fault == V2_NAMES_ON_V3:
        if path != V3_CANCEL_BATCH_PATH:
            return UNCHANGED
        return [
            {"orderId": o, "clientOid": c, "errorCode": "40725",
             "errorMsg": "service return an error"}
            for o, c in ids
        ]  # fmt: skip
    if fault == MISSING_ITEMS and path in ONE_ORDER_PATHS and not v3:
        return {}  # the documented ids (or result) left out
    return UNCHANGED


def trim(call: Call) -> None:
    """``missing_items`` on a batch: every other order is dropped before the exchange sees
    it (so it is neither acted on nor answered)."""
    if call.fault != MISSING_ITEMS or call.path not in BATCH_PATHS:
        return
    body = call.body
    if call.path == BATCH_CANCEL_PATH:
        items = body.get("orderList")
        if isinstance(items, list) and len(items) > 1:
            call.fault_used = True
            call.body = {**body, "orderList": items[::2]}
    elif isinstance(body, list) and len(body) > 1:
        call.fault_used = True
        call.body = body[::2]


def after(call: Call, data: Any) -> Any:
    """The exchange's answer, reshaped: items twice, or listing rows under other names."""
    fault, path = call.fault, call.path
    if fault == DUPLICATE_ITEMS and path in BATCH_PATHS:
        call.fault_used = True
        if path == BATCH_CANCEL_PATH:
            return {name: items + items for name, items in data.items()}
        return data + data
    if fault == UNKNOWN_ITEM_FIELDS and path in LISTING_PATHS:
        call.fault_used = True
        return _rename_rows(data)
    return data


def _rename_rows(data: Any) -> Any:
    def rename(row: dict[str, Any]) -> dict[str, Any]:
        names = {"orderId": "ordId", "clientOid": "clOrdId", "symbol": "instId"}
        return {names.get(key, key): value for key, value in row.items()}

    if isinstance(data, list):
        return [rename(row) for row in data]
    for key in ("list", "orderList"):
        if isinstance(data, dict) and isinstance(data.get(key), list):
            return {**data, key: [rename(row) for row in data[key]]}
    return data
