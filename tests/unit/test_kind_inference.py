"""One rule says an order's kind from its own fields: ccxt order dicts and targets-file rows."""

from __future__ import annotations

from typing import Any

import pytest

from bitget_cancel import CancelTarget, OrderKind, infer_kind

NORMAL, TPSL, PLAN = OrderKind.NORMAL, OrderKind.TPSL, OrderKind.PLAN


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({}, NORMAL),
        ({"info": {"tpslType": "tpsl"}}, TPSL),
        ({"tpslType": "tpsl", "triggerPrice": "1900"}, TPSL),  # tpslType first
        ({"info": {"tpslType": "normal", "triggerPrice": "1900"}}, NORMAL),  # said explicitly
        ({"triggerPrice": 1900.5}, PLAN),  # ccxt's unified field, a number
        ({"stopPrice": "1850"}, PLAN),
        ({"info": {"planType": "amount"}}, PLAN),
        ({"info": {"triggerPrice": "2000", "planType": ""}}, PLAN),
        ({"triggerPrice": None, "stopPrice": 0, "info": {"triggerPrice": "0"}}, NORMAL),
        ({"triggerPrice": "", "planType": " "}, NORMAL),
        ({"triggerPrice": "n/a"}, NORMAL),
        ({"triggerPrice": True}, NORMAL),
        ({"takeProfitPrice": 2100, "stopLossPrice": 1700}, NORMAL),  # attached to a normal order
        ({"info": "not a mapping", "stopPrice": "5"}, PLAN),
    ],
)
def test_infer_kind_reads_tpsl_type_then_plan_type_and_trigger_prices(
    fields: dict[str, Any], kind: OrderKind
) -> None:
    assert infer_kind(fields) is kind


def test_from_ccxt_detects_plan_and_trigger_orders_and_an_explicit_kind_wins() -> None:
    """Issue 19, item 5: a ccxt trigger order (``triggerPrice``, ``info.planType``) was taken
    for a normal order: its cancel answered "does not exist" and it stayed armed."""
    trigger = {
        "symbol": "BTC/USDT",
        "id": "7",
        "clientOrderId": None,
        "triggerPrice": 25000.0,
        "stopPrice": 25000.0,
        "info": {"planType": "amount", "triggerPrice": "25000"},
    }
    assert CancelTarget.from_ccxt(trigger).kind is PLAN
    assert CancelTarget.from_ccxt(trigger, kind="normal").kind is NORMAL
    tpsl = {"symbol": "BTC/USDT", "id": "8", "info": {"tpslType": "tpsl"}, "triggerPrice": 1}
    assert CancelTarget.from_ccxt(tpsl).kind is TPSL
    plain: dict[str, Any] = {"symbol": "BTC/USDT", "id": "9", "triggerPrice": None, "info": {}}
    assert CancelTarget.from_ccxt(plain).kind is NORMAL
