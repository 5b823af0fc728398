"""Rate limits: sliding one-second window per account and endpoint, counted on arrival."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from bitget_cancel.sim import SimExchange
from bitget_cancel.sim._window import SlidingWindow

from .conftest import BATCH, SYMBOL_CANCEL, UNFILLED, Api

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

ONE = {"symbol": "BTCUSDT", "orderList": [{"orderId": "1"}]}


def test_window_holds_arrivals_of_the_last_second_only() -> None:
    window = SlidingWindow()
    counts = [window.hit(t / 10) for t in range(10)]
    assert counts == list(range(1, 11))
    # At t=1.0 the arrival at t=0.0 is exactly one second old: out of (0.0, 1.0].
    assert window.hit(1.0) == 10
    assert window.hit(2.5) == 1


async def test_eleven_at_once_get_exactly_one_429_and_a_second_later_it_accepts(
    sim_factory: Any, api_for: Callable[[SimExchange], Api]
) -> None:
    sim = await sim_factory(penalty_s=0)  # the window alone, no penalty after the 429
    api = api_for(sim)
    answers = await asyncio.gather(*(api.post(BATCH, ONE) for _ in range(11)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 10 + [429]
    (limited,) = [answer for status, answer in answers if status == 429]
    assert limited["code"] == "429"
    assert limited["msg"] == "Too Many Requests"
    assert limited["data"] is None
    assert sim.stats.pacing_429 == 1
    assert sim.stats.max_in_window[BATCH] == 11
    await asyncio.sleep(1.0)
    status, _ = await api.post(BATCH, ONE)
    assert status == 200
    assert sim.stats.pacing_429 == 1
    assert sim.stats.total_violations == 0


async def test_each_endpoint_has_its_own_budget(sim: SimExchange, api: Api) -> None:
    sim.place_orders("BTCUSDT", 1)
    unfilled = [api.get(UNFILLED) for _ in range(20)]
    symbol = [api.post(SYMBOL_CANCEL, {"symbol": "ETHUSDT"}) for _ in range(5)]
    batch = [api.post(BATCH, ONE) for _ in range(10)]
    answers = await asyncio.gather(*unfilled, *symbol, *batch)
    assert {status for status, _ in answers} == {200}
    status, _ = await api.post(SYMBOL_CANCEL, {"symbol": "ETHUSDT"})
    assert status == 429
    assert sim.stats.pacing_429 == 1


async def test_an_unknown_key_counts_in_a_window_of_its_own(sim: SimExchange, api: Api) -> None:
    other = Api(api.session, sim)
    other.api_key = "someone-else"  # refused with 40006, but in its own window
    answers = await asyncio.gather(
        *(api.post(BATCH, ONE) for _ in range(10)), *(other.post(BATCH, ONE) for _ in range(5))
    )
    assert sorted(status for status, _ in answers) == [200] * 10 + [400] * 5
    assert sim.stats.pacing_429 == 0


async def test_without_rate_limits_nothing_is_refused_but_peaks_are_recorded(
    sim_factory: Any, api_for: Callable[[SimExchange], Api]
) -> None:
    fast = await sim_factory(rate_limits=False)
    api = api_for(fast)
    answers = await asyncio.gather(*(api.post(BATCH, ONE) for _ in range(30)))
    assert {status for status, _ in answers} == {200}
    assert fast.stats.pacing_429 == 0
    assert fast.stats.max_in_window[BATCH] == 30


async def test_refused_requests_keep_the_window_full(
    sim_factory: Any, api_for: Callable[[SimExchange], Api]
) -> None:
    sim = await sim_factory(penalty_s=0)  # the window alone, no penalty after the 429
    api = api_for(sim)
    await asyncio.gather(*(api.post(BATCH, ONE) for _ in range(10)))
    for _ in range(3):
        status, _ = await api.send("POST", BATCH, body=json.dumps(ONE))
        assert status == 429
    assert sim.stats.pacing_429 == 3
    assert sim.stats.max_in_window[BATCH] == 13
