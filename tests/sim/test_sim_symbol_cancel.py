"""cancel-symbol-order: answers at once, cancels later."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bitget_cancel.sim import SimExchange

from .conftest import SYMBOL_CANCEL, Api

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]


async def test_orders_vanish_after_the_delay_not_with_the_answer(
    sim_factory: Any, api_for: Callable[[SimExchange], Api]
) -> None:
    sim = await sim_factory(symbol_cancel_delay_ms=(100.0, 100.0))
    api = api_for(sim)
    sim.place_orders("BTCUSDT", 30)
    other = sim.place_order("ETHUSDT")
    status, answer = await api.post(SYMBOL_CANCEL, {"symbol": "BTCUSDT"})
    assert (status, answer["code"], answer["data"]) == (200, "00000", {"symbol": "BTCUSDT"})
    assert len(sim.open_orders("BTCUSDT")) == 30
    late = sim.place_order("BTCUSDT")  # placed after the request: not part of it
    await asyncio.sleep(0.2)
    assert sim.open_orders("BTCUSDT") == [late]
    assert sim.is_open(other.order_id)
    assert sim.stats.cancelled == 30


async def test_missing_symbol_is_refused(sim: SimExchange, api: Api) -> None:
    status, answer = await api.post(SYMBOL_CANCEL, {})
    assert (status, answer["code"]) == (400, "40017")
    assert sim.stats.violations == {"missing_symbol": 1}


async def test_stop_drops_pending_symbol_cancels(
    sim_factory: Any, api_for: Callable[[SimExchange], Api]
) -> None:
    sim = await sim_factory(symbol_cancel_delay_ms=(50.0, 50.0))
    sim.place_orders("BTCUSDT", 2)
    await api_for(sim).post(SYMBOL_CANCEL, {"symbol": "BTCUSDT"})
    await sim.stop()
    await asyncio.sleep(0.1)
    assert len(sim.open_orders()) == 2
