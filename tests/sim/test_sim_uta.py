"""Unified trading accounts: the v3 endpoints, the account-type answers and the order cap."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from bitget_cancel.sim import STUCK_CURSOR, TRUNCATED_JSON, Faults, SimExchange

from .conftest import (
    BATCH,
    CANCEL_ORDER,
    PLAN_LIST,
    TIME,
    UNFILLED,
    V3_BATCH,
    V3_STRATEGY,
    V3_STRATEGY_CANCEL,
    V3_SYMBOL_CANCEL,
    V3_TIME,
    V3_UNFILLED,
    Api,
)

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

ApiFor = Callable[[SimExchange], Api]

UTA_MSG = (
    "You are in Unified Account mode, and the Classic Account API is not supported at this time"
)
CLASSIC_MSG = (
    "You are in Classic Account mode, and the Unified Account API is not supported at this time"
)


async def uta(sim_factory: Any, api_for: ApiFor, **kwargs: Any) -> Api:
    return api_for(await sim_factory(account="uta", **kwargs))


def item(order: Any, **extra: Any) -> dict[str, Any]:
    return {"category": "SPOT", "symbol": order.symbol, "orderId": order.order_id, **extra}


async def test_a_uta_answers_every_v2_trade_endpoint_with_40085(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await uta(sim_factory, api_for)
    order = api.sim.place_order("BTCUSDT")
    for method, path, body in (
        ("POST", BATCH, {"symbol": "BTCUSDT", "orderList": [{"orderId": order.order_id}]}),
        ("POST", CANCEL_ORDER, {"symbol": "BTCUSDT", "orderId": order.order_id}),
        ("GET", UNFILLED, None),
        ("GET", PLAN_LIST, None),
    ):
        status, text = await api.send(method, path, body=json.dumps(body) if body else "")
        answer = json.loads(text)
        assert (status, answer["code"], answer["msg"], answer["data"]) == (
            400,
            "40085",
            UTA_MSG,
            None,
        )
    assert order.is_open
    assert api.sim.stats.account_mismatch == 4
    assert api.sim.stats.total_violations == 0  # the wrong family is not a broken rule
    # Public endpoints answer both account types, v2 and v3 time alike.
    for path in (TIME, V3_TIME):
        async with api.session.get(api.sim.base_url + path) as resp:
            assert (await resp.json())["data"]["serverTime"].isdigit()


async def test_a_classic_account_answers_v3_endpoints_with_40084(
    sim: SimExchange, api: Api
) -> None:
    status, answer = await api.get(V3_UNFILLED, {"category": "SPOT"})
    assert (status, answer["code"], answer["msg"]) == (400, "40084", CLASSIC_MSG)
    status, answer = await api.post(V3_BATCH, [item(sim.place_order("BTCUSDT"))])
    assert (status, answer["code"]) == (400, "40084")
    assert sim.count_open() == 1
    sim.account = "uta"  # switched while running
    status, answer = await api.get(V3_UNFILLED, {"category": "SPOT"})
    assert (status, len(answer["data"]["list"])) == (200, 1)
    assert sim.stats.account_mismatch == 2


async def test_cancel_batch_answers_one_result_per_item(sim_factory: Any, api_for: ApiFor) -> None:
    api = await uta(sim_factory, api_for)
    sim = api.sim
    orders = sim.place_orders("BTCUSDT", 3, "u")
    other = sim.place_order("ETHUSDT")
    stop = sim.place_order("BTCUSDT", kind="tpsl")
    status, answer = await api.post(
        V3_BATCH,
        [
            item(orders[0]),
            {"category": "spot", "symbol": "BTCUSDT", "clientOid": "u-1"},
            {"category": "SPOT", "symbol": "BTCUSDT", "orderId": other.order_id},
            item(stop),
            {"category": "SPOT", "symbol": "BTCUSDT", "orderId": "123"},
        ],
    )
    assert (status, answer["code"]) == (200, "00000")
    results = {r.get("orderId") or r.get("clientOid"): r for r in answer["data"]}
    assert results[orders[0].order_id] == {"orderId": orders[0].order_id, "clientOid": "u-0"}
    assert results[orders[1].order_id] == {"orderId": orders[1].order_id, "clientOid": "u-1"}
    for failed in (other.order_id, stop.order_id, "123"):
        assert (results[failed]["code"], results[failed]["msg"]) == (
            "25204",
            "Order does not exist",
        )
    assert sim.open_orders() == [orders[2], other, stop]
    assert sim.stats.total_violations == 0


async def test_cancel_batch_with_both_ids_counts_a_violation_and_goes_by_order_id(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await uta(sim_factory, api_for)
    order = api.sim.place_order("BTCUSDT", "mine")
    _, answer = await api.post(V3_BATCH, [item(order, clientOid="not-mine")])
    assert answer["data"] == [{"orderId": order.order_id, "clientOid": "mine"}]
    assert api.sim.stats.violations == {"both_ids": 1}


@pytest.mark.parametrize(
    ("payload", "code", "violation"),
    [
        ([], "40017", "order_list_size"),
        ("many", "40017", "order_list_size"),
        ({"category": "SPOT", "symbol": "BTCUSDT", "orderId": "1"}, "40017", "body_json"),
        ([{"symbol": "BTCUSDT", "orderId": "1"}], "40017", "missing_category"),
        ([{"category": "OPTIONS", "symbol": "BTCUSDT", "orderId": "1"}], "40017", "category"),
        (
            [
                {"category": "SPOT", "symbol": "BTCUSDT", "orderId": "1"},
                {"category": "MARGIN", "symbol": "BTCUSDT", "orderId": "2"},
            ],
            "40017",
            "mixed_category",
        ),
        ([{"category": "SPOT", "orderId": "1"}], "40017", "missing_symbol"),
        ([{"category": "SPOT", "symbol": "BTCUSDT"}], "40924", "missing_id"),
        ([{"category": "SPOT", "symbol": "BTCUSDT", "orderId": "1e3"}], "40402", "id_format"),
    ],
)
async def test_cancel_batch_refuses_the_whole_request(
    sim_factory: Any, api_for: ApiFor, payload: Any, code: str, violation: str
) -> None:
    api = await uta(sim_factory, api_for)
    order = api.sim.place_order("BTCUSDT")
    if payload == "many":
        payload = [item(api.sim.place_order("BTCUSDT")) for _ in range(20)] + [item(order)]
    elif isinstance(payload, list) and payload:
        payload = [*payload, item(order)]  # a valid item does not make it through either
    status, answer = await api.post(V3_BATCH, payload)
    assert (status, answer["code"], answer["data"]) == (400, code, None)
    assert api.sim.stats.violations == {violation: 1}
    assert order.is_open


async def test_cancel_batch_takes_twenty_and_five_requests_a_second(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await uta(sim_factory, api_for, penalty_s=0)
    sim = api.sim
    batches = [[item(o) for o in sim.place_orders("BTCUSDT", 20)] for _ in range(6)]
    answers = await asyncio.gather(*(api.post(V3_BATCH, b) for b in batches))
    assert sorted(status for status, _ in answers) == [200] * 5 + [429]
    assert sim.count_open() == 20
    assert sim.stats.endpoint(V3_BATCH).throttled == 1


async def test_v3_symbol_cancel_lists_the_orders_and_cancels_them_later(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await uta(sim_factory, api_for, symbol_cancel_delay_ms=(60.0, 60.0))
    sim = api.sim
    btc = sim.place_orders("BTCUSDT", 3)
    eth = sim.place_orders("ETHUSDT", 2)
    stop = sim.place_order("BTCUSDT", kind="tpsl")
    status, answer = await api.post(V3_SYMBOL_CANCEL, {"category": "SPOT", "symbol": "BTCUSDT"})
    assert status == 200
    assert sorted(i["orderId"] for i in answer["data"]["list"]) == sorted(o.order_id for o in btc)
    assert sim.count_open("normal") == 5  # not yet
    await asyncio.sleep(0.15)
    assert sim.open_orders() == [*eth, stop]
    _, answer = await api.post(V3_SYMBOL_CANCEL, {"category": "SPOT"})  # every symbol
    assert len(answer["data"]["list"]) == 2
    _, answer = await api.post(V3_SYMBOL_CANCEL, {"category": "USDT-FUTURES"})
    assert answer["data"] == {"list": []}
    status, answer = await api.post(V3_SYMBOL_CANCEL, {"symbol": "BTCUSDT"})
    assert (status, answer["code"]) == (400, "40017")
    await asyncio.sleep(0.15)
    assert sim.open_orders() == [stop]
    assert sim.stats.violations == {"missing_category": 1}


async def test_v3_open_orders_page_with_a_cursor(sim_factory: Any, api_for: ApiFor) -> None:
    api = await uta(sim_factory, api_for, uta_order_cap=None)
    placed = api.sim.place_orders("BTCUSDT", 230)
    api.sim.place_orders("ETHUSDT", 10)
    api.sim.place_order("BTCUSDT", kind="tpsl")  # never in this listing
    seen: list[str] = []
    params = {"category": "SPOT", "symbol": "BTCUSDT"}
    sizes = []
    while True:
        status, answer = await api.get(V3_UNFILLED, params)
        assert status == 200
        rows, cursor = answer["data"]["list"], answer["data"]["cursor"]
        sizes.append(len(rows))
        if not rows:
            assert cursor == ""
            break
        seen.extend(row["orderId"] for row in rows)
        params = {**params, "cursor": cursor}
    assert sizes == [100, 100, 30, 0]
    assert [int(i) for i in seen] == sorted((int(o.order_id) for o in placed), reverse=True)
    row = (await api.get(V3_UNFILLED, {"limit": "1"}))[1]["data"]["list"][0]
    assert (row["category"], row["symbol"]) == ("SPOT", "ETHUSDT")
    # The recorded live shape: "" for unknown fees, "NO", "new" or "live", tp/sl fields null.
    assert row["orderStatus"] in ("new", "live")
    assert (row["reduceOnly"], row["stpMode"], row["feeDetail"]) == (
        "NO", "none", [{"feeCoin": "", "fee": ""}]
    )  # fmt: skip
    assert row["takeProfit"] is None
    assert row["slLimitPrice"] is None
    for field in ("orderId", "qty", "price", "createdTime", "updatedTime"):
        assert isinstance(row[field], str)
    _, answer = await api.get(V3_UNFILLED)  # category is optional on the page
    assert len(answer["data"]["list"]) == 100
    _, answer = await api.get(V3_UNFILLED, {"category": "MARGIN"})
    assert answer["data"] == {"list": [], "cursor": ""}
    for params in ({"limit": "101"}, {"cursor": "abc"}, {"category": "BOND"}):
        status, _ = await api.get(V3_UNFILLED, params)
        assert status == 400
    assert api.sim.stats.violations == {"limit_param": 1, "cursor_param": 1, "category": 1}


async def test_strategy_orders_are_listed_by_type_and_cancelled_one_at_a_time(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await uta(sim_factory, api_for)
    sim = api.sim
    normal = sim.place_order("BTCUSDT")
    stops = sim.place_orders("BTCUSDT", 2, "s", kind="tpsl")
    trigger = sim.place_order("ETHUSDT", "t", kind="plan")
    status, answer = await api.get(V3_STRATEGY, {"category": "SPOT"})
    assert status == 200
    assert isinstance(answer["data"], list)  # a plain array, no cursor
    assert {r["orderId"] for r in answer["data"]} == {
        stops[0].order_id,
        stops[1].order_id,
        trigger.order_id,
    }
    row = answer["data"][0]
    # The recorded live shape: posSide and the tp/sl fields, no side, status or type.
    assert {"posSide", "stopLoss", "slTriggerBy", "tpOrderType", "qty"} <= set(row)
    assert not {"side", "status", "type"} & set(row)
    assert row["category"] == "SPOT"
    _, answer = await api.get(V3_STRATEGY, {"category": "SPOT", "type": "trigger"})
    assert [r["orderId"] for r in answer["data"]] == [trigger.order_id]
    _, answer = await api.get(V3_STRATEGY, {"category": "SPOT", "type": "tpsl"})
    assert {r["orderId"] for r in answer["data"]} == {stops[0].order_id, stops[1].order_id}
    status, answer = await api.post(V3_STRATEGY_CANCEL, {"orderId": stops[0].order_id})
    # The live exchange answers a successful strategy cancel with data null.
    assert (status, answer["code"], answer["data"]) == (200, "00000", None)
    assert "data" in answer
    status, answer = await api.post(V3_STRATEGY_CANCEL, {"clientOid": "t"})
    assert status == 200
    for gone in ({"orderId": stops[0].order_id}, {"orderId": normal.order_id}, {"clientOid": "x"}):
        status, answer = await api.post(V3_STRATEGY_CANCEL, gone)
        assert (status, answer["code"]) == (400, "25204")
    assert sim.open_orders() == [normal, stops[1]]
    assert sim.stats.wrong_kind == 1
    status, answer = await api.get(V3_STRATEGY, {"type": "tpsl"})
    assert (status, answer["code"]) == (400, "40017")
    assert sim.stats.violations == {"missing_category": 1}


async def test_v3_limits_and_faults(sim_factory: Any, api_for: ApiFor) -> None:
    api = await uta(sim_factory, api_for, penalty_s=0)
    statuses = await asyncio.gather(
        *(api.post(V3_SYMBOL_CANCEL, {"category": "SPOT", "symbol": "XUSDT"}) for _ in range(6)),
        *(api.post(V3_STRATEGY_CANCEL, {"orderId": "1"}) for _ in range(11)),
        *(api.get(V3_UNFILLED) for _ in range(21)),
    )
    assert [s for s, _ in statuses].count(429) == 3
    for path in (V3_SYMBOL_CANCEL, V3_STRATEGY_CANCEL, V3_UNFILLED):
        assert api.sim.stats.endpoint(path).throttled == 1
    api.sim.faults = Faults(rate=1.0, kinds=(TRUNCATED_JSON,))
    _, text = await api.send("GET", V3_STRATEGY, params={"category": "SPOT"})
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


async def test_stuck_cursor_hands_the_same_cursor_back(sim_factory: Any, api_for: ApiFor) -> None:
    api = await uta(sim_factory, api_for)
    api.sim.place_orders("BTCUSDT", 5)
    _, first = await api.get(V3_UNFILLED, {"limit": "2"})
    cursor = first["data"]["cursor"]
    api.sim.faults = Faults(rate=1.0, kinds=(STUCK_CURSOR,))
    _, again = await api.get(V3_UNFILLED, {"limit": "2", "cursor": cursor})
    assert again["data"] == first["data"]  # the first page, and the cursor it came with
    assert api.sim.stats.injected == {STUCK_CURSOR: 1}


def test_a_uta_holds_at_most_400_open_orders_unless_lifted() -> None:
    sim = SimExchange(account="uta")
    sim.place_orders("BTCUSDT", 399)
    sim.place_order("ETHUSDT", kind="tpsl")  # strategy orders are not in the count
    sim.place_order("ETHUSDT")
    with pytest.raises(ValueError, match="at most 400 open spot orders"):
        sim.place_order("ETHUSDT")
    with pytest.raises(ValueError, match="400"):
        SimExchange(account="uta").place_orders("BTCUSDT", 401)  # all or nothing
    assert SimExchange(account="uta", uta_order_cap=None).place_orders("BTCUSDT", 500)
    assert SimExchange(account="classic").place_orders("BTCUSDT", 500)  # no cap on classic
    with pytest.raises(ValueError, match="account"):
        SimExchange(account="unified")  # type: ignore[arg-type]
