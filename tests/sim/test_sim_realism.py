"""Realism settings: per-account limits, the penalty after a 429, the budget header, late
arrivals, symbol cancels that do nothing, release windows and hostile listings."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from bitget_cancel.sim import (
    DUPLICATE_ROWS,
    LATE_ARRIVAL,
    STUCK_CURSOR,
    SYMBOL_CANCEL_NOOP,
    Faults,
    SimExchange,
    SimKey,
)
from bitget_cancel.sim._limits import RateLimits
from bitget_cancel.sim._stats import SimStats

from .conftest import BATCH, PLAN_LIST, SYMBOL_CANCEL, TIME, UNFILLED, Api

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

ApiFor = Callable[[SimExchange], Api]
ONE = {"symbol": "BTCUSDT", "orderList": [{"orderId": "1"}]}
RELEASE_CODES = {"45001", "40725", "40808", "40015"}


def api_as(api_for: ApiFor, sim: SimExchange, key: str, secret: str, passphrase: str) -> Api:
    api = api_for(sim)
    api.api_key, api.secret, api.passphrase = key, secret, passphrase
    return api


async def test_keys_of_one_account_share_its_windows(sim_factory: Any, api_for: ApiFor) -> None:
    sim = await sim_factory(
        penalty_s=0,
        keys=[
            SimKey("second", "pass-2", secret_key="secret-2"),  # the main key's account
            SimKey("elsewhere", "pass-3", secret_key="secret-3", uid="999"),
        ],
    )
    main = api_for(sim)
    second = api_as(api_for, sim, "second", "secret-2", "pass-2")
    other = api_as(api_for, sim, "elsewhere", "secret-3", "pass-3")
    answers = await asyncio.gather(
        *(main.post(BATCH, ONE) for _ in range(6)),
        *(second.post(BATCH, ONE) for _ in range(5)),
        *(other.post(BATCH, ONE) for _ in range(10)),
    )
    statuses = [status for status, _ in answers]
    assert statuses.count(429) == 1
    assert statuses[11:] == [200] * 10  # another account, another window
    assert sim.stats.requests_by_key == {"sim-key": 6, "second": 5, "elsewhere": 10}
    assert sim.stats.total_violations == 0


async def test_limits_per_key_give_each_key_its_own_windows(
    sim_factory: Any, api_for: ApiFor
) -> None:
    sim = await sim_factory(limits_per="key", keys=[SimKey("second", "p2", secret_key="s2")])
    second = api_as(api_for, sim, "second", "s2", "p2")
    answers = await asyncio.gather(
        *(api_for(sim).post(BATCH, ONE) for _ in range(10)),
        *(second.post(BATCH, ONE) for _ in range(10)),
    )
    assert {status for status, _ in answers} == {200}
    with pytest.raises(ValueError, match="limits_per"):
        SimExchange(limits_per="ip")


def test_the_penalty_refuses_the_tripped_endpoint_until_it_runs_out() -> None:
    stats = SimStats()
    limits = RateLimits(stats, enabled=True, penalty_s=5.0)
    assert [limits.arrive("uid:1", BATCH, 2, t) for t in (0.0, 0.1)] == [1, 0]
    with pytest.raises(Exception, match="429"):
        limits.arrive("uid:1", BATCH, 2, 0.2)  # the window overflows: penalty starts
    assert limits.penalised("uid:1", BATCH, 0.2)
    for t in (1.5, 3.0, 5.1):  # the window is clear again, the penalty is not
        with pytest.raises(Exception, match="429"):
            limits.arrive("uid:1", BATCH, 2, t)
    assert limits.arrive("uid:1", UNFILLED, 2, 3.0) == 1  # other endpoints are not penalised
    assert limits.arrive("uid:2", BATCH, 2, 3.0) == 1  # nor other accounts
    assert limits.arrive("uid:1", BATCH, 2, 6.5) == 1
    assert (stats.pacing_429, stats.penalty_429, stats.throttled) == (1, 3, 4)
    assert stats.endpoint(BATCH).throttled == 4


async def test_after_a_429_the_default_penalty_keeps_refusing(sim: SimExchange, api: Api) -> None:
    assert sim.penalty_s == 300.0
    await asyncio.gather(*(api.post(BATCH, ONE) for _ in range(11)))
    await asyncio.sleep(1.05)  # the window alone would accept again
    status, answer = await api.post(BATCH, ONE)
    assert (status, answer["code"]) == (429, "429")
    status, _ = await api.get(UNFILLED)
    assert status == 200
    assert (sim.stats.pacing_429, sim.stats.penalty_429) == (1, 1)
    sim.penalty_s = 0.0
    with pytest.raises(ValueError, match="penalty_s"):
        sim.penalty_s = -1.0


async def test_every_limited_answer_says_what_is_left_of_the_budget(
    sim: SimExchange, api: Api
) -> None:
    left = []
    for _ in range(6):
        _status, _text, headers = await api.send_full("POST", BATCH, body=json.dumps(ONE))
        left.append(headers["x-mbx-used-remain-limit"])
    left.append((await api.send_full("GET", UNFILLED))[2]["x-mbx-used-remain-limit"])
    left.append((await api.send_full("POST", BATCH, body="{bad"))[2]["x-mbx-used-remain-limit"])
    assert left == ["9", "8", "7", "6", "5", "4", "19", "3"]
    rest = await asyncio.gather(*(api.send_full("POST", BATCH, body="{}") for _ in range(4)))
    assert sorted(h["x-mbx-used-remain-limit"] for _, _, h in rest) == ["0", "0", "1", "2"]
    async with api.session.get(sim.base_url + TIME) as resp:
        assert resp.headers["x-mbx-used-remain-limit"] == "19"
    async with api.session.get(sim.base_url + "/api/v2/nothing") as resp:
        assert "x-mbx-used-remain-limit" not in resp.headers


async def test_a_late_arrival_acts_after_the_client_gave_up(
    sim_factory: Any, api_for: ApiFor
) -> None:
    sim = await sim_factory(faults=Faults(rate=1.0, kinds=(LATE_ARRIVAL,), late_s=0.4))
    api = api_for(sim)
    order = sim.place_order("BTCUSDT")
    body = json.dumps({"symbol": "BTCUSDT", "orderList": [{"orderId": order.order_id}]})
    with pytest.raises(asyncio.TimeoutError):
        await api.send("POST", BATCH, body=body, timeout=0.15)
    assert order.is_open  # it has not reached the exchange yet
    assert sim.stats.max_in_window.get(BATCH, 0) == 0
    for _ in range(100):
        if not order.is_open:
            break
        await asyncio.sleep(0.02)
    assert not order.is_open
    assert sim.stats.max_in_window[BATCH] == 1  # counted on arrival, late
    assert sim.stats.injected == {LATE_ARRIVAL: 1}


async def test_a_symbol_cancel_can_be_accepted_and_do_nothing(
    sim_factory: Any, api_for: ApiFor
) -> None:
    sim = await sim_factory(
        faults=Faults(rate=1.0, kinds=(SYMBOL_CANCEL_NOOP,)), symbol_cancel_delay_ms=(10, 10)
    )
    api = api_for(sim)
    orders = sim.place_orders("BTCUSDT", 4)
    status, answer = await api.post(SYMBOL_CANCEL, {"symbol": "BTCUSDT"})
    assert (status, answer["data"]) == (200, {"symbol": "BTCUSDT"})
    await api.batch("BTCUSDT", [{"orderId": orders[0].order_id}])  # not a symbol cancel
    await asyncio.sleep(0.1)
    assert sim.open_orders() == orders[1:]
    assert sim.stats.injected == {SYMBOL_CANCEL_NOOP: 1}


async def test_symbol_cancel_delay_can_outlast_the_engines_settle_time(
    sim_factory: Any, api_for: ApiFor
) -> None:
    sim = await sim_factory(symbol_cancel_delay_ms=(2500.0, 4000.0))
    api = api_for(sim)
    sim.place_orders("BTCUSDT", 2)
    await api.post(SYMBOL_CANCEL, {"symbol": "BTCUSDT"})
    await asyncio.sleep(0.2)
    assert sim.count_open() == 2  # still there; the test does not wait 2.5 s to see them go


async def test_the_release_window_answers_retry_codes_and_acts_on_nothing(
    sim: SimExchange, api: Api
) -> None:
    order = sim.place_order("BTCUSDT")
    batch = {"symbol": "BTCUSDT", "orderList": [{"orderId": order.order_id}]}
    sim.open_release_window(30.0)
    assert sim.in_release_window
    codes = set()
    for _ in range(9):
        status, answer = await api.post(BATCH, batch)
        assert status in (400, 500)
        assert answer["data"] is None
        codes.add(answer["code"])
    assert codes <= RELEASE_CODES
    assert len(codes) > 1
    status, _ = await api.get(UNFILLED)
    assert status in (400, 500)
    async with api.session.get(sim.base_url + TIME) as resp:
        assert resp.status == 200  # public endpoints are not part of it
    assert order.is_open
    assert sim.stats.injected == {"release_window": 10}
    sim.close_release_window()
    _, answer = await api.post(BATCH, batch)
    assert answer["data"]["successList"][0]["orderId"] == order.order_id
    assert sim.stats.total_violations == 0


async def test_a_release_window_can_start_with_the_simulator(sim_factory: Any) -> None:
    later = await sim_factory(release_window=(30.0, 10.0))
    now = await sim_factory(release_window=(0.0, 30.0))
    assert (later.in_release_window, now.in_release_window) == (False, True)
    with pytest.raises(ValueError, match="rate"):
        now.open_release_window(1.0, rate=2.0)


async def test_duplicate_rows_repeat_rows_within_and_across_pages(
    sim_factory: Any, api_for: ApiFor
) -> None:
    sim = await sim_factory(seed=3)
    api = api_for(sim)
    sim.place_orders("BTCUSDT", 10)
    _, clean = await api.get(UNFILLED, {"limit": "4"})
    boundary = clean["data"][-1]["orderId"]
    sim.faults = Faults(rate=1.0, kinds=(DUPLICATE_ROWS,))
    _, first = await api.get(UNFILLED, {"limit": "4"})
    ids = [row["orderId"] for row in first["data"]]
    assert len(ids) == 5
    assert len(set(ids)) == 4
    _, second = await api.get(UNFILLED, {"limit": "4", "idLessThan": boundary})
    ids = [row["orderId"] for row in second["data"]]
    assert ids[0] == boundary  # the previous page's last row again
    assert len(ids) == 6
    assert len(set(ids)) == 5
    _, plans = await api.get(PLAN_LIST)  # nothing to repeat on an empty page
    assert plans["data"]["orderList"] == []
    assert sim.stats.injected == {DUPLICATE_ROWS: 2}


async def test_a_stuck_cursor_answers_the_first_page_again(
    sim_factory: Any, api_for: ApiFor
) -> None:
    sim = await sim_factory()
    api = api_for(sim)
    sim.place_orders("BTCUSDT", 6)
    sim.place_orders("BTCUSDT", 6, kind="plan")
    _, first = await api.get(UNFILLED, {"limit": "3"})
    _, plan_first = await api.get(PLAN_LIST, {"limit": "3"})
    sim.faults = Faults(rate=1.0, kinds=(STUCK_CURSOR,))
    _, again = await api.get(UNFILLED, {"limit": "3"})  # no cursor: nothing to get stuck on
    assert again == {**first, "requestTime": again["requestTime"]}
    _, again = await api.get(UNFILLED, {"limit": "3", "idLessThan": first["data"][-1]["orderId"]})
    assert again["data"] == first["data"]
    cursor = plan_first["data"]["idLessThan"]
    _, plan_again = await api.get(PLAN_LIST, {"limit": "3", "idLessThan": cursor})
    assert plan_again["data"]["orderList"] == plan_first["data"]["orderList"]
    assert (plan_again["data"]["idLessThan"], plan_again["data"]["nextFlag"]) == (cursor, True)
    assert sim.stats.injected == {STUCK_CURSOR: 2}


async def test_stats_count_requests_429s_and_violations_per_endpoint(
    sim_factory: Any, api_for: ApiFor
) -> None:
    sim = await sim_factory(penalty_s=0)
    api = api_for(sim)
    await api.get(UNFILLED, {"limit": "0"})
    await asyncio.gather(*(api.get(UNFILLED) for _ in range(20)))
    await api.post(BATCH, {"orderList": []})
    unfilled, batch = sim.stats.endpoint(UNFILLED), sim.stats.endpoint(BATCH)
    assert (unfilled.requests, unfilled.throttled, unfilled.violations) == (
        21,
        1,
        {"limit_param": 1},
    )
    assert (batch.requests, batch.throttled, batch.violations) == (1, 0, {"order_list_size": 1})
    assert sim.stats.endpoint(SYMBOL_CANCEL).requests == 0
    sim.reset_stats()
    assert sim.stats.endpoint(UNFILLED).requests == 0


async def test_duplicate_rows_never_hide_an_order_from_a_client_that_pages_on(
    sim_factory: Any, api_for: ApiFor
) -> None:
    sim = await sim_factory(seed=5, faults=Faults(rate=1.0, kinds=(DUPLICATE_ROWS,)))
    api = api_for(sim)
    plans = {o.order_id for o in sim.place_orders("BTCUSDT", 23, kind="plan")}
    seen: list[str] = []
    params = {"limit": "5"}
    while True:
        _, answer = await api.get(PLAN_LIST, params)
        data = answer["data"]
        seen.extend(row["orderId"] for row in data["orderList"])
        if not data["nextFlag"]:
            break
        params = {"limit": "5", "idLessThan": data["idLessThan"]}
    assert set(seen) == plans
    assert len(seen) > len(plans)
    sim.account = "uta"
    normal = {o.order_id for o in sim.place_orders("ETHUSDT", 23)}
    seen = []
    params = {"limit": "5"}
    while True:
        _, answer = await api.get("/api/v3/trade/unfilled-orders", params)
        rows = answer["data"]["list"]
        if not rows:
            break
        seen.extend(row["orderId"] for row in rows)
        params = {"limit": "5", "cursor": answer["data"]["cursor"]}
    assert set(seen) == normal
    assert len(seen) > len(normal)
