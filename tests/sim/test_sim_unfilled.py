"""unfilled-orders: newest first, idLessThan paging, limit rule, row shape."""

from __future__ import annotations

from bitget_cancel.sim import SimExchange

from .conftest import UNFILLED, Api

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]


async def test_pages_newest_first_with_id_less_than_over_many_orders(
    sim: SimExchange, api: Api
) -> None:
    placed = sim.place_orders("BTCUSDT", 260, client_oid_prefix="p")
    sim.place_orders("ETHUSDT", 30)
    seen: list[str] = []
    params = {"symbol": "BTCUSDT"}
    page_sizes = []
    while True:
        status, answer = await api.get(UNFILLED, params)
        assert status == 200
        rows = answer["data"]
        page_sizes.append(len(rows))
        if not rows:
            break
        seen.extend(row["orderId"] for row in rows)
        params = {"symbol": "BTCUSDT", "idLessThan": rows[-1]["orderId"]}
    assert page_sizes == [100, 100, 60, 0]
    assert [int(i) for i in seen] == sorted((int(o.order_id) for o in placed), reverse=True)


async def test_without_symbol_lists_every_symbol_and_limit_caps_the_page(
    sim: SimExchange, api: Api
) -> None:
    sim.place_orders("BTCUSDT", 3)
    sim.place_orders("ETHUSDT", 3)
    _, answer = await api.get(UNFILLED)
    assert {row["symbol"] for row in answer["data"]} == {"BTCUSDT", "ETHUSDT"}
    _, answer = await api.get(UNFILLED, {"limit": "4"})
    assert len(answer["data"]) == 4


async def test_limit_over_100_or_malformed_is_refused(sim: SimExchange, api: Api) -> None:
    for limit in ("101", "0", "ten"):
        status, answer = await api.get(UNFILLED, {"limit": limit})
        assert (status, answer["code"], answer["data"]) == (400, "40017", None)
    status, answer = await api.get(UNFILLED, {"idLessThan": "abc"})
    assert (status, answer["code"]) == (400, "40017")
    assert sim.stats.violations == {"limit_param": 3, "id_less_than": 1}


async def test_rows_look_like_the_exchange_and_cancelled_orders_vanish(
    sim: SimExchange, api: Api
) -> None:
    kept, gone = sim.place_order("BTCUSDT", client_oid="k"), sim.place_order("BTCUSDT")
    await api.batch("BTCUSDT", [{"orderId": gone.order_id}])
    _, answer = await api.get(UNFILLED, {"symbol": "BTCUSDT"})
    (row,) = answer["data"]
    assert row["orderId"] == kept.order_id
    assert row["clientOid"] == "k"
    assert row["status"] == "live"
    assert row["orderType"] == "limit"
    assert row["side"] in ("buy", "sell")
    assert row["enterPointSource"] == "API"
    for field in ("userId", "priceAvg", "size", "basePrice", "baseVolume", "quoteVolume"):
        assert isinstance(row[field], str)
    assert row["cTime"] == str(kept.c_time)
    assert row["uTime"].isdigit()


async def test_paging_stays_right_after_most_orders_are_cancelled(
    sim: SimExchange, api: Api
) -> None:
    placed = sim.place_orders("BTCUSDT", 400)
    doomed = placed[::2] + placed[-60:]  # every other one, then the newest block
    doomed_ids = list(dict.fromkeys(o.order_id for o in doomed))
    for start in range(0, len(doomed_ids), 50):
        chunk = doomed_ids[start : start + 50]
        await api.batch("BTCUSDT", [{"orderId": i} for i in chunk])
    listed: list[str] = []
    params = {"symbol": "BTCUSDT", "limit": "37"}
    while rows := (await api.get(UNFILLED, params))[1]["data"]:
        listed.extend(row["orderId"] for row in rows)
        params = {"symbol": "BTCUSDT", "limit": "37", "idLessThan": rows[-1]["orderId"]}
    expected = [o.order_id for o in reversed(sim.open_orders("BTCUSDT"))]
    assert listed == expected
    assert len(expected) == 400 - len(doomed_ids)
