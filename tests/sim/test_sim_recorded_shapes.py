"""The simulator answers in the shapes recorded from the live exchange (ccxt's test data, kept
in tests/fixtures/bitget_recorded): the same fields, the same kinds of value."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bitget_cancel.sim import SimExchange

from .conftest import UNFILLED, V3_STRATEGY, V3_STRATEGY_CANCEL, V3_UNFILLED, Api

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bitget_recorded"
ApiFor = Callable[[SimExchange], Api]


def recorded(name: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads((FIXTURES / name).read_text())["httpResponse"]
    return answer


def kinds(row: dict[str, Any]) -> dict[str, type]:
    return {key: type(value) for key, value in row.items()}


async def test_v3_open_order_rows_have_the_recorded_fields_and_value_kinds(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = api_for(await sim_factory(account="uta"))
    api.sim.place_orders("BTCUSDT", 4, "n")
    _, answer = await api.get(V3_UNFILLED, {"category": "SPOT"})
    live = recorded("v3_unfilled_orders_spot.json")
    assert type(answer["requestTime"]) is type(live["requestTime"]) is str
    (want,) = live["data"]["list"]
    for row in answer["data"]["list"]:
        assert list(row) == list(want)  # the same fields, in the same order
        assert kinds(row) == kinds(want)
        assert row["feeDetail"] == want["feeDetail"]
        assert row["reduceOnly"] == "NO"
    statuses = {row["orderStatus"] for row in answer["data"]["list"]}
    assert statuses == {"new", "live"}  # both seen on open orders of the live exchange
    assert answer["data"]["cursor"] == answer["data"]["list"][-1]["orderId"]


async def test_v3_strategy_rows_have_the_recorded_fields(sim_factory: Any, api_for: ApiFor) -> None:
    api = api_for(await sim_factory(account="uta"))
    api.sim.place_orders("BTCUSDT", 2, "s", kind="tpsl")
    _, answer = await api.get(V3_STRATEGY, {"category": "SPOT", "type": "tpsl"})
    (want,) = recorded("v3_unfilled_strategy_orders.json")["data"]
    for row in answer["data"]:
        assert set(row) == set(want)
        assert kinds(row) == kinds(want)
        assert (row["category"], row["posSide"]) == ("SPOT", "")


async def test_v3_strategy_cancel_succeeds_with_null_data_as_recorded(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = api_for(await sim_factory(account="uta"))
    (order,) = api.sim.place_orders("BTCUSDT", 1, "s", kind="tpsl")
    _, answer = await api.post(V3_STRATEGY_CANCEL, {"orderId": order.order_id})
    live = recorded("v3_cancel_strategy_order.json")
    assert set(answer) == set(live)
    assert (answer["code"], answer["data"]) == (live["code"], live["data"]) == ("00000", None)
    assert not api.sim.is_open(order.order_id)


async def test_v2_open_order_rows_carry_every_recorded_field(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = api_for(await sim_factory())
    api.sim.place_orders("BTCUSDT", 2, "n")
    _, answer = await api.get(UNFILLED, {"symbol": "BTCUSDT"})
    (want,) = recorded("v2_unfilled_orders.json")["data"]
    for row in answer["data"]:
        assert set(want) <= set(row)  # the docs' newer fields besides
        assert {key: kinds(row)[key] for key in want} == kinds(want)
