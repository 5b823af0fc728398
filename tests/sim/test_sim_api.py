"""The simulator's Python surface: orders, stats, lifecycle, latency model, fixtures."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

import bitget_cancel.sim as sim_pkg
from bitget_cancel.sim import SimExchange

from .conftest import TIME, UNFILLED, Api

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]


def test_public_names_are_exactly_all_sorted() -> None:
    public = {name for name in dir(sim_pkg) if not name.startswith("_")}
    public -= {"annotations", "pytest_plugin"}
    assert set(sim_pkg.__all__) == public
    # Ruff's (isort-style) order: CONSTANTS, then Classes, then functions.
    kind = {True: 0, False: 1}
    assert sim_pkg.__all__ == sorted(sim_pkg.__all__, key=lambda n: (kind[n.isupper()], n))


def test_order_ids_are_numeric_strictly_increasing_and_client_ids_follow_the_prefix() -> None:
    sim = SimExchange()
    first = sim.place_orders("BTCUSDT", 3, client_oid_prefix="grid")
    more = sim.place_orders("ETHUSDT", 2, client_oid_prefix="grid")
    bare = sim.place_orders("BTCUSDT", 2)
    ids = [int(o.order_id) for o in first + more + bare]
    assert ids == sorted(set(ids))
    assert ids[0] >= 1_200_000_000_000_000_000
    assert [o.client_oid for o in first + more] == [f"grid-{i}" for i in range(5)]
    assert [o.client_oid for o in bare] == [None, None]
    assert first[0].symbol == "BTCUSDT"
    assert first[0].status == "live"


def test_order_queries_and_placement_errors() -> None:
    sim = SimExchange()
    btc = sim.place_order("BTCUSDT", client_oid="one")
    eth = sim.place_order("ETHUSDT")
    assert sim.open_orders() == [btc, eth]
    assert sim.open_orders("ETHUSDT") == [eth]
    assert sim.is_open(btc.order_id)
    assert not sim.is_open("42")
    assert sim.get_order(eth.order_id) is eth
    with pytest.raises(ValueError, match="duplicate"):
        sim.place_order("BTCUSDT", client_oid="one")
    with pytest.raises(ValueError, match="symbol"):
        sim.place_order("btc/usdt")
    with pytest.raises(RuntimeError):
        _ = sim.base_url


async def test_reset_stats_zeroes_the_same_live_object(sim: SimExchange, api: Api) -> None:
    stats = sim.stats
    await api.get(UNFILLED, {"limit": "500"})
    assert stats.requests == {UNFILLED: 1}
    assert stats.total_violations == 1
    sim.reset_stats()
    assert sim.stats is stats
    assert (stats.requests, stats.total_violations, stats.max_in_window) == ({}, 0, {})


async def test_latency_is_paid_per_request(
    sim_factory: Any, api_for: Callable[[SimExchange], Api]
) -> None:
    slow = await sim_factory(latency_ms=(120.0, 120.0))
    api = api_for(slow)
    started = time.perf_counter()
    await api.get(UNFILLED)
    assert time.perf_counter() - started >= 0.12


async def test_handshake_is_paid_once_per_connection(
    sim_factory: Any, api_for: Callable[[SimExchange], Api]
) -> None:
    sim = await sim_factory(handshake_ms=150.0)
    api = api_for(sim)
    elapsed = []
    for _ in range(2):  # the session keeps the connection alive between the two
        started = time.perf_counter()
        async with api.session.get(sim.base_url + TIME) as resp:
            await resp.read()
        elapsed.append(time.perf_counter() - started)
    assert elapsed[0] >= 0.15
    assert elapsed[1] < 0.1


async def test_factory_starts_sims_with_settings_and_stop_is_idempotent(sim_factory: Any) -> None:
    one = await sim_factory(api_key="k1", seed=3)
    two = await sim_factory(api_key="k2")
    assert one.base_url != two.base_url
    assert (one.api_key, two.api_key) == ("k1", "k2")
    await one.stop()
    await one.stop()
