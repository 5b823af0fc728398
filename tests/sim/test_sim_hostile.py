"""Hostile answer shapes (issue 19): each fault's answer on the wire, and what it does (or,
mostly, does not do) to the orders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bitget_cancel.sim import (
    DUPLICATE_ITEMS,
    FUTURES_TPSL,
    HOSTILE_FAULT_KINDS,
    HTML_CHALLENGE,
    MISSING_ITEMS,
    NULL_DATA,
    OTHER_ID_SUCCESS,
    SHORT_PAGE_CURSOR,
    STRATEGY_IGNORES_CATEGORY,
    UNKNOWN_ITEM_FIELDS,
    V2_NAMES_ON_V3,
    Faults,
    SimExchange,
)

from .conftest import (
    BATCH,
    CANCEL_ORDER,
    PLAN_LIST,
    UNFILLED,
    V3_BATCH,
    V3_STRATEGY,
    V3_STRATEGY_CANCEL,
    V3_UNFILLED,
    Api,
)

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

ApiFor = Callable[[SimExchange], Api]


async def hostile(sim_factory: Any, api_for: ApiFor, kind: str, **kwargs: Any) -> Api:
    return api_for(await sim_factory(faults=Faults(rate=1.0, kinds=(kind,)), **kwargs))


def v3_items(orders: list[Any]) -> list[dict[str, str]]:
    return [{"category": "SPOT", "symbol": o.symbol, "orderId": o.order_id} for o in orders]


async def test_every_hostile_kind_is_a_known_fault() -> None:
    for kind in HOSTILE_FAULT_KINDS:
        assert Faults(rate=1.0, kinds=(kind,)).kinds == (kind,)


async def test_a_success_naming_another_id_cancels_nothing(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await hostile(sim_factory, api_for, OTHER_ID_SUCCESS)
    orders = api.sim.place_orders("BTCUSDT", 2, "o")
    tpsl = api.sim.place_order("BTCUSDT", kind="tpsl")
    _, answer = await api.batch("BTCUSDT", [{"orderId": o.order_id} for o in orders])
    named = {item["orderId"] for item in answer["data"]["successList"]}
    assert answer["data"]["failureList"] == []
    assert named.isdisjoint(o.order_id for o in orders)
    _, answer = await api.post(
        CANCEL_ORDER, {"symbol": "BTCUSDT", "orderId": tpsl.order_id, "tpslType": "tpsl"}
    )
    assert answer["code"] == "00000"
    assert answer["data"]["orderId"] != tpsl.order_id
    assert len(api.sim.open_orders()) == 3
    assert api.sim.stats.cancelled == 0
    assert api.sim.stats.injected == {OTHER_ID_SUCCESS: 2}


async def test_a_v3_success_naming_another_id_cancels_nothing(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await hostile(sim_factory, api_for, OTHER_ID_SUCCESS, account="uta")
    orders = api.sim.place_orders("BTCUSDT", 2, "o")
    stop = api.sim.place_order("BTCUSDT", kind="tpsl")
    _, answer = await api.post(V3_BATCH, v3_items(orders))
    assert {i["orderId"] for i in answer["data"]}.isdisjoint(o.order_id for o in orders)
    _, answer = await api.post(V3_STRATEGY_CANCEL, {"orderId": stop.order_id})
    assert answer["data"]["orderId"] != stop.order_id
    assert len(api.sim.open_orders()) == 3


async def test_unknown_item_fields_name_no_documented_outcome(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await hostile(sim_factory, api_for, UNKNOWN_ITEM_FIELDS)
    (order,) = api.sim.place_orders("BTCUSDT", 1, "u")
    _, answer = await api.batch("BTCUSDT", [{"orderId": order.order_id}])
    (item,) = answer["data"]["successList"]
    assert "orderId" not in item
    assert item["ordId"] == order.order_id
    _, listed = await api.get(UNFILLED, {"symbol": "BTCUSDT"})
    (row,) = listed["data"]
    assert ("orderId" not in row, row["ordId"], row["instId"]) == (True, order.order_id, "BTCUSDT")
    assert api.sim.is_open(order.order_id)


async def test_unknown_v3_item_fields_carry_the_ids_but_no_code(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await hostile(sim_factory, api_for, UNKNOWN_ITEM_FIELDS, account="uta")
    (order,) = api.sim.place_orders("BTCUSDT", 1, "u")
    _, answer = await api.post(V3_BATCH, v3_items([order]))
    (item,) = answer["data"]
    assert item["orderId"] == order.order_id
    assert not {"code", "msg"} & set(item)
    assert api.sim.is_open(order.order_id)


async def test_v2_names_on_v3_failure_items(sim_factory: Any, api_for: ApiFor) -> None:
    api = await hostile(sim_factory, api_for, V2_NAMES_ON_V3, account="uta")
    (order,) = api.sim.place_orders("BTCUSDT", 1, "v")
    _, answer = await api.post(V3_BATCH, v3_items([order]))
    (item,) = answer["data"]
    assert (item["orderId"], item["errorCode"]) == (order.order_id, "40725")
    assert "code" not in item
    assert api.sim.is_open(order.order_id)
    _, listed = await api.get(V3_UNFILLED, {"category": "SPOT"})  # means nothing there
    assert [r["orderId"] for r in listed["data"]["list"]] == [order.order_id]


async def test_missing_items_leave_every_other_order_unanswered_and_open(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await hostile(sim_factory, api_for, MISSING_ITEMS)
    orders = api.sim.place_orders("BTCUSDT", 4, "m")
    _, answer = await api.batch("BTCUSDT", [{"orderId": o.order_id} for o in orders])
    named = {item["orderId"] for item in answer["data"]["successList"]}
    assert named == {orders[0].order_id, orders[2].order_id}
    assert [o.order_id for o in api.sim.open_orders()] == [orders[1].order_id, orders[3].order_id]
    stop = api.sim.place_order("BTCUSDT", kind="tpsl")
    _, answer = await api.post(
        CANCEL_ORDER, {"symbol": "BTCUSDT", "orderId": stop.order_id, "tpslType": "tpsl"}
    )
    assert (answer["code"], answer["data"]) == ("00000", {})
    assert api.sim.is_open(stop.order_id)


async def test_duplicate_items_answer_each_order_twice(sim_factory: Any, api_for: ApiFor) -> None:
    api = await hostile(sim_factory, api_for, DUPLICATE_ITEMS)
    orders = api.sim.place_orders("BTCUSDT", 2, "d")
    _, answer = await api.batch("BTCUSDT", [{"orderId": o.order_id} for o in orders])
    named = [item["orderId"] for item in answer["data"]["successList"]]
    assert sorted(named) == sorted(2 * [o.order_id for o in orders])
    assert api.sim.open_orders() == []  # truthful, only repeated


async def test_null_data_acts_on_nothing(sim_factory: Any, api_for: ApiFor) -> None:
    api = await hostile(sim_factory, api_for, NULL_DATA)
    (order,) = api.sim.place_orders("BTCUSDT", 1, "n")
    _, answer = await api.batch("BTCUSDT", [{"orderId": order.order_id}])
    assert (answer["code"], answer["data"]) == ("00000", None)
    _, listed = await api.get(UNFILLED)
    assert (listed["code"], listed["data"]) == ("00000", None)
    assert api.sim.is_open(order.order_id)


async def test_null_data_means_nothing_where_it_is_the_documented_success(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await hostile(sim_factory, api_for, NULL_DATA, account="uta")
    stop = api.sim.place_order("BTCUSDT", kind="tpsl")
    _, answer = await api.post(V3_STRATEGY_CANCEL, {"orderId": stop.order_id})
    assert (answer["code"], answer["data"]) == ("00000", None)
    assert not api.sim.is_open(stop.order_id)  # the strategy cancel's own success
    assert api.sim.stats.injected == {}


async def test_a_short_v3_page_carries_a_cursor_to_the_rest(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await hostile(sim_factory, api_for, SHORT_PAGE_CURSOR, account="uta")
    placed = api.sim.place_orders("BTCUSDT", 7, "s")
    seen: list[str] = []
    params = {"category": "SPOT"}
    sizes = []
    for _ in range(10):
        _, answer = await api.get(V3_UNFILLED, params)
        rows, cursor = answer["data"]["list"], answer["data"]["cursor"]
        sizes.append(len(rows))
        seen.extend(r["orderId"] for r in rows)
        if cursor == params.get("cursor"):
            break  # an empty page whose cursor did not move
        params = {**params, "cursor": cursor}
    assert sizes == [3, 2, 1, 0]
    assert cursor != ""  # never "the end", though one order was never shown
    newest_first = sorted((o.order_id for o in placed), key=int, reverse=True)
    assert seen == newest_first[:6]


async def test_a_short_plan_page_says_there_is_more(sim_factory: Any, api_for: ApiFor) -> None:
    api = await hostile(sim_factory, api_for, SHORT_PAGE_CURSOR)
    placed = api.sim.place_orders("BTCUSDT", 4, "p", kind="plan")
    _, answer = await api.get(PLAN_LIST, {"symbol": "BTCUSDT"})
    data = answer["data"]
    assert len(data["orderList"]) == 2
    assert data["nextFlag"] is True
    assert data["idLessThan"] == data["orderList"][-1]["orderId"]
    assert len(api.sim.open_orders()) == len(placed)


async def test_an_html_challenge_page_with_http_200_acts_on_nothing(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await hostile(sim_factory, api_for, HTML_CHALLENGE)
    (order,) = api.sim.place_orders("BTCUSDT", 1, "h")
    status, text = await api.send(
        "POST", BATCH, body=f'{{"symbol":"BTCUSDT","orderList":[{{"orderId":"{order.order_id}"}}]}}'
    )
    assert status == 200
    assert text.startswith("<html>")
    assert api.sim.is_open(order.order_id)


async def test_the_strategy_listing_shows_futures_orders_when_it_ignores_the_category(
    sim_factory: Any, api_for: ApiFor
) -> None:
    api = await sim_factory(account="uta")
    client = api_for(api)
    spot = api.place_order("BTCUSDT", "spot-stop", kind="tpsl")
    futures = api.place_order("BTCUSDT", "fut-stop", kind=FUTURES_TPSL)
    _, answer = await client.get(V3_STRATEGY, {"category": "SPOT", "type": "tpsl"})
    assert [r["orderId"] for r in answer["data"]] == [spot.order_id]
    _, answer = await client.get(V3_STRATEGY, {"category": "USDT-FUTURES", "type": "tpsl"})
    assert [(r["orderId"], r["category"]) for r in answer["data"]] == [
        (futures.order_id, "USDT-FUTURES")
    ]
    api.faults = Faults(rate=1.0, kinds=(STRATEGY_IGNORES_CATEGORY,))
    _, answer = await client.get(V3_STRATEGY, {"category": "SPOT", "type": "tpsl"})
    assert {(r["orderId"], r["category"]) for r in answer["data"]} == {
        (spot.order_id, "SPOT"),
        (futures.order_id, "USDT-FUTURES"),
    }
    # cancel-strategy-order takes no category: it cancels the futures order by its id.
    _, answer = await client.post(V3_STRATEGY_CANCEL, {"orderId": futures.order_id})
    assert answer["code"] == "00000"
    assert not api.is_open(futures.order_id)
