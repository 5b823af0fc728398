"""TP/SL and plan orders: each kind listed and cancelled only by its own endpoints."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from bitget_cancel.sim import PLAN, TPSL, TRUNCATED_JSON, Faults, SimExchange

from .conftest import (
    CANCEL_ORDER,
    PLAN_BATCH_CANCEL,
    PLAN_CANCEL,
    PLAN_LIST,
    SYMBOL_CANCEL,
    UNFILLED,
    Api,
)

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

ApiFor = Callable[[SimExchange], Api]


def test_orders_have_a_kind_and_the_book_answers_per_kind() -> None:
    sim = SimExchange()
    normal = sim.place_order("BTCUSDT")
    stop = sim.place_order("BTCUSDT", "stop-1", kind="tpsl")
    trigger = sim.place_orders("ETHUSDT", 2, "trig", kind="plan")
    assert (normal.kind, stop.kind, trigger[0].kind) == ("normal", "tpsl", "plan")
    assert normal.trigger_price is None
    assert stop.trigger_price is not None
    assert sim.open_orders() == [normal, stop, *trigger]  # every kind, oldest first
    assert sim.open_orders(kind="normal") == [normal]
    assert sim.open_orders("BTCUSDT", kind=TPSL) == [stop]
    assert sim.open_orders("BTCUSDT", kind=PLAN) == []
    assert (sim.count_open(), sim.count_open("plan")) == (4, 2)
    with pytest.raises(ValueError, match="kind"):
        sim.place_order("BTCUSDT", kind="trailing")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        sim.open_orders(kind="stop")  # type: ignore[arg-type]


async def test_default_listing_shows_normal_orders_and_tpsl_type_shows_tpsl_ones(
    sim: SimExchange, api: Api
) -> None:
    normal = sim.place_order("BTCUSDT")
    stop = sim.place_order("BTCUSDT", kind="tpsl")
    sim.place_order("BTCUSDT", kind="plan")
    _, default = await api.get(UNFILLED)
    _, named = await api.get(UNFILLED, {"tpslType": "normal"})
    _, tpsl = await api.get(UNFILLED, {"tpslType": "tpsl"})
    assert [r["orderId"] for r in default["data"]] == [normal.order_id]
    assert named["data"] == default["data"]
    (row,) = tpsl["data"]
    assert (row["orderId"], row["tpslType"], row["triggerPrice"]) == (
        stop.order_id,
        "tpsl",
        stop.trigger_price,
    )
    status, answer = await api.get(UNFILLED, {"tpslType": "plan"})
    assert (status, answer["code"]) == (400, "40017")
    assert sim.stats.violations == {"tpsl_type": 1}


async def test_batch_and_symbol_cancel_leave_tpsl_and_plan_orders_alone(
    sim_factory: Any, api_for: ApiFor
) -> None:
    sim = await sim_factory(symbol_cancel_delay_ms=(20.0, 20.0))
    api = api_for(sim)
    normal = sim.place_order("BTCUSDT")
    stop = sim.place_order("BTCUSDT", kind="tpsl")
    trigger = sim.place_order("BTCUSDT", kind="plan")
    _, answer = await api.batch(
        "BTCUSDT", [{"orderId": o.order_id} for o in (normal, stop, trigger)]
    )
    assert [i["orderId"] for i in answer["data"]["successList"]] == [normal.order_id]
    assert sorted(i["orderId"] for i in answer["data"]["failureList"]) == sorted(
        [stop.order_id, trigger.order_id]
    )
    sim.place_orders("BTCUSDT", 3)
    await api.post(SYMBOL_CANCEL, {"symbol": "BTCUSDT"})
    await asyncio.sleep(0.1)
    assert sim.open_orders("BTCUSDT") == [stop, trigger]
    assert sim.stats.wrong_kind == 2
    assert sim.stats.total_violations == 0


async def test_cancel_order_cancels_a_normal_order_or_with_tpsl_type_a_tpsl_one(
    sim: SimExchange, api: Api
) -> None:
    normal = sim.place_order("BTCUSDT", "n-1")
    stop = sim.place_order("BTCUSDT", "s-1", kind="tpsl")
    status, answer = await api.post(CANCEL_ORDER, {"symbol": "BTCUSDT", "clientOid": "n-1"})
    assert (status, answer["data"]) == (200, {"orderId": normal.order_id, "clientOid": "n-1"})
    # A stop order named without tpslType "does not exist", as users report.
    status, answer = await api.post(CANCEL_ORDER, {"symbol": "BTCUSDT", "orderId": stop.order_id})
    assert (status, answer["code"], answer["msg"]) == (400, "43001", "The order does not exist")
    assert stop.is_open
    status, answer = await api.post(
        CANCEL_ORDER, {"symbol": "BTCUSDT", "orderId": stop.order_id, "tpslType": "tpsl"}
    )
    assert (status, answer["data"]) == (200, {"orderId": stop.order_id, "clientOid": "s-1"})
    assert sim.open_orders() == []
    # Cancelled already: does not exist either way.
    status, answer = await api.post(CANCEL_ORDER, {"orderId": stop.order_id, "tpslType": "tpsl"})
    assert (status, answer["code"]) == (400, "43001")
    assert sim.stats.cancelled == 2
    assert sim.stats.total_violations == 0


@pytest.mark.parametrize(
    ("payload", "code", "violation"),
    [
        ({"orderId": "{id}"}, "40017", "missing_symbol"),
        ({"symbol": "BTCUSDT"}, "40924", "missing_id"),
        ({"symbol": "BTCUSDT", "orderId": "12x"}, "40402", "id_format"),
        ({"clientOid": "s-1", "tpslType": "tpsl"}, "40017", "tpsl_order_id"),
        ({"symbol": "BTCUSDT", "orderId": "{id}", "tpslType": "stop"}, "40017", "tpsl_type"),
    ],
)
async def test_cancel_order_refuses_what_the_page_forbids(
    sim: SimExchange, api: Api, payload: dict[str, str], code: str, violation: str
) -> None:
    stop = sim.place_order("BTCUSDT", "s-1", kind="tpsl")
    body = {k: v.replace("{id}", stop.order_id) for k, v in payload.items()}
    status, answer = await api.post(CANCEL_ORDER, body)
    assert (status, answer["code"], answer["data"]) == (400, code, None)
    assert sim.stats.violations == {violation: 1}
    assert sim.stats.endpoint(CANCEL_ORDER).violations == {violation: 1}
    assert stop.is_open


async def test_plan_orders_page_twenty_at_a_time_by_default_with_next_flag(
    sim: SimExchange, api: Api
) -> None:
    placed = sim.place_orders("BTCUSDT", 45, "p", kind="plan")
    sim.place_orders("ETHUSDT", 5, kind="plan")
    sim.place_orders("BTCUSDT", 5)  # normal orders never show here
    seen: list[str] = []
    flags: list[bool] = []
    params = {"symbol": "BTCUSDT"}
    while True:
        status, answer = await api.get(PLAN_LIST, params)
        assert status == 200
        data = answer["data"]
        assert set(data) == {"nextFlag", "idLessThan", "orderList"}
        seen.extend(row["orderId"] for row in data["orderList"])
        flags.append(data["nextFlag"])
        if not data["nextFlag"]:
            break
        assert data["idLessThan"] == data["orderList"][-1]["orderId"]
        params = {"symbol": "BTCUSDT", "idLessThan": data["idLessThan"]}
    assert flags == [True, True, False]
    assert [int(i) for i in seen] == sorted((int(o.order_id) for o in placed), reverse=True)
    row = data["orderList"][0]
    assert row["status"] == "live"
    assert row["symbol"] == "BTCUSDT"
    assert row["triggerPrice"] == sim.get_order(row["orderId"]).trigger_price  # type: ignore[union-attr]
    _, answer = await api.get(PLAN_LIST, {"limit": "100"})
    assert len(answer["data"]["orderList"]) == 50
    assert answer["data"]["nextFlag"] is False


async def test_plan_listing_limits_and_the_symbol_option(sim_factory: Any, api_for: ApiFor) -> None:
    sim = await sim_factory()
    api = api_for(sim)
    for limit in ("101", "0"):
        status, answer = await api.get(PLAN_LIST, {"limit": limit})
        assert (status, answer["code"]) == (400, "40017")
    ninety_days_and_one_ms = str(90 * 24 * 3600 * 1000 + 1)
    status, _ = await api.get(PLAN_LIST, {"startTime": "0", "endTime": ninety_days_and_one_ms})
    assert status == 400
    assert sim.stats.violations == {"limit_param": 2, "time_param": 1}
    status, answer = await api.get(PLAN_LIST)  # optional symbol by default
    assert (status, answer["data"]["orderList"]) == (200, [])
    sim.plan_list_requires_symbol = True
    status, answer = await api.get(PLAN_LIST)
    assert (status, answer["code"]) == (400, "40017")
    assert sim.stats.violations["missing_symbol"] == 1
    status, _ = await api.get(PLAN_LIST, {"symbol": "BTCUSDT"})
    assert status == 200


async def test_cancel_plan_order_by_either_id_then_43025(sim: SimExchange, api: Api) -> None:
    one = sim.place_order("BTCUSDT", "t-1", kind="plan")
    two = sim.place_order("ETHUSDT", "t-2", kind="plan")
    normal = sim.place_order("BTCUSDT", "n-1")
    status, answer = await api.post(PLAN_CANCEL, {"orderId": one.order_id})
    assert (status, answer["data"]) == (200, {"result": "success"})
    status, answer = await api.post(PLAN_CANCEL, {"clientOid": "t-2"})
    assert (status, answer["data"]) == (200, {"result": "success"})
    assert not one.is_open
    assert not two.is_open
    for payload in ({"orderId": one.order_id}, {"clientOid": "n-1"}, {"orderId": "77"}):
        status, answer = await api.post(PLAN_CANCEL, payload)
        assert (status, answer["code"], answer["data"]) == (400, "43025", None)
    assert normal.is_open
    status, answer = await api.post(PLAN_CANCEL, {})
    assert (status, answer["code"]) == (400, "40924")


async def test_batch_cancel_plan_orders_by_symbols_or_all(sim: SimExchange, api: Api) -> None:
    btc = sim.place_orders("BTCUSDT", 3, "b", kind="plan")
    eth = sim.place_orders("ETHUSDT", 2, kind="plan")
    sol = sim.place_orders("SOLUSDT", 2, kind="plan")
    normal = sim.place_order("BTCUSDT")
    stop = sim.place_order("SOLUSDT", kind="tpsl")
    status, answer = await api.post(PLAN_BATCH_CANCEL, {"symbolList": ["BTCUSDT", "ETHUSDT"]})
    assert status == 200
    data = answer["data"]
    assert data["failureList"] == []
    assert sorted(i["orderId"] for i in data["successList"]) == sorted(
        o.order_id for o in btc + eth
    )
    assert {i["clientOid"] for i in data["successList"] if i["orderId"] == btc[0].order_id} == {
        "b-0"
    }
    assert sim.open_orders(kind="plan") == sol
    # No symbolList: every plan order of the account goes (and nothing else).
    _, answer = await api.post(PLAN_BATCH_CANCEL, {})
    assert len(answer["data"]["successList"]) == 2
    assert sim.open_orders() == [normal, stop]
    status, answer = await api.post(PLAN_BATCH_CANCEL, {"symbolList": "BTCUSDT"})
    assert (status, answer["code"]) == (400, "40017")
    assert sim.stats.violations == {"symbol_list": 1}


async def test_per_order_transients_hit_the_kinds_endpoints(
    sim_factory: Any, api_for: ApiFor
) -> None:
    sim = await sim_factory(faults=Faults(order_transient=1.0))
    api = api_for(sim)
    stop = sim.place_order("BTCUSDT", kind="tpsl")
    plans = sim.place_orders("BTCUSDT", 2, kind="plan")
    status, answer = await api.post(CANCEL_ORDER, {"orderId": stop.order_id, "tpslType": "tpsl"})
    assert (status, answer["code"]) in {(400, "40725"), (400, "43059"), (400, "45001")}
    status, answer = await api.post(PLAN_CANCEL, {"orderId": plans[0].order_id})
    assert answer["code"] in {"40725", "43059", "45001"}
    _, answer = await api.post(PLAN_BATCH_CANCEL, {})
    assert answer["data"]["successList"] == []
    assert len(answer["data"]["failureList"]) == 2
    assert all(item["errorMsg"] for item in answer["data"]["failureList"])
    assert sim.count_open() == 3
    assert sim.stats.injected == {"order_transient": 4}


async def test_request_faults_hit_the_new_endpoints(sim_factory: Any, api_for: ApiFor) -> None:
    sim = await sim_factory(faults=Faults(rate=1.0, kinds=(TRUNCATED_JSON,)))
    api = api_for(sim)
    plan = sim.place_order("BTCUSDT", kind="plan")
    for method, path, body in (
        ("GET", PLAN_LIST, ""),
        ("POST", PLAN_CANCEL, json.dumps({"orderId": plan.order_id})),
        ("POST", PLAN_BATCH_CANCEL, "{}"),
        ("POST", CANCEL_ORDER, json.dumps({"symbol": "BTCUSDT", "orderId": "1"})),
    ):
        _, text = await api.send(method, path, body=body)
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
    assert not plan.is_open  # truncated after the cancel
    assert sim.stats.injected == {TRUNCATED_JSON: 4}
    assert sim.stats.endpoint(PLAN_LIST).injected == {TRUNCATED_JSON: 1}


@pytest.mark.parametrize(
    ("path", "payload", "limit"),
    [
        (CANCEL_ORDER, {"symbol": "BTCUSDT", "orderId": "1"}, 10),
        (PLAN_CANCEL, {"orderId": "1"}, 20),
        (PLAN_BATCH_CANCEL, {"symbolList": ["BTCUSDT"]}, 5),
        (PLAN_LIST, None, 20),
    ],
)
async def test_each_kinds_endpoint_has_its_documented_limit(
    sim_factory: Any, api_for: ApiFor, path: str, payload: Any, limit: int
) -> None:
    sim = await sim_factory(penalty_s=0)
    api = api_for(sim)

    async def one() -> int:
        if payload is None:
            return (await api.get(path))[0]
        return (await api.post(path, payload))[0]

    statuses = await asyncio.gather(*(one() for _ in range(limit + 1)))
    assert statuses.count(429) == 1
    assert sim.stats.endpoint(path).throttled == 1
    assert sim.stats.max_in_window[path] == limit + 1
