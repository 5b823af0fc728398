"""Fidelity check: ccxt's own Bitget client, unmodified, works against the simulator.

ccxt signs with its own code, so zero signature/timestamp violations here means the sim's
verification agrees with an independent, widely used implementation of the exchange protocol.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bitget_cancel.sim import SimExchange

ccxt = pytest.importorskip("ccxt.async_support")

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

AUTH_RULES = ("api_key", "passphrase", "timestamp", "signature", "body_json", "content_type")


@pytest_asyncio.fixture
async def client(sim: SimExchange) -> AsyncIterator[Any]:
    exchange = ccxt.bitget(
        {
            "apiKey": sim.api_key,
            "secret": sim.secret_key,
            "password": sim.passphrase,
            "enableRateLimit": True,
            # Classic (non-UTA) spot account: skips the UTA probe and the swap market lists.
            "options": {"uta": False, "fetchMarkets": {"types": ["spot"]}},
        }
    )
    exchange.urls["api"] = dict.fromkeys(exchange.urls["api"], sim.base_url)
    try:
        yield exchange
    finally:
        await exchange.close()


async def test_ccxt_lists_and_cancels_everything_without_a_violation(
    sim: SimExchange, client: Any
) -> None:
    placed = sim.place_orders("BTCUSDT", 120, client_oid_prefix="grid")
    survivor = sim.place_order("ETHUSDT")

    await client.load_markets()
    assert "BTC/USDT" in client.markets
    server_ms = await client.fetch_time()
    assert abs(server_ms - sim.server_time_ms()) < 5_000

    cancelled: list[str] = []
    while True:
        listed = await client.fetch_open_orders("BTC/USDT")
        if not listed:
            break
        assert all(order["symbol"] == "BTC/USDT" for order in listed)
        assert all(order["status"] == "open" for order in listed)
        ids = [order["id"] for order in listed]
        for start in range(0, len(ids), 50):  # ccxt never splits; the exchange caps at 50
            chunk = ids[start : start + 50]
            result = await client.cancel_orders(chunk, "BTC/USDT")
            assert sorted(order["id"] for order in result) == sorted(chunk)
            cancelled.extend(chunk)

    assert sorted(cancelled) == sorted(o.order_id for o in placed)
    assert sim.open_orders() == [survivor]
    assert sim.stats.cancelled == 120
    assert not any(sim.stats.violations[rule] for rule in AUTH_RULES)
    assert sim.stats.total_violations == 0
    assert sim.stats.pacing_429 == 0


async def test_ccxt_signs_multi_parameter_queries_the_way_the_sim_checks_them(
    sim: SimExchange, client: Any
) -> None:
    placed = sim.place_orders("BTCUSDT", 30, client_oid_prefix="q")
    newest_first = sorted((int(o.order_id) for o in placed), reverse=True)
    below = str(newest_first[9])
    page = await client.fetch_open_orders(
        "BTC/USDT", limit=5, params={"idLessThan": below, "startTime": "0"}
    )
    # ccxt sorts what it returns by timestamp, oldest first: the page's order is ccxt's own
    # (it changes when the 30 orders were placed across a millisecond), the ids are the sim's.
    assert sorted((int(order["id"]) for order in page), reverse=True) == newest_first[10:15]
    assert [order["clientOrderId"] for order in page] == [
        sim.get_order(order["id"]).client_oid  # type: ignore[union-attr]
        for order in page
    ]
    assert sim.stats.total_violations == 0
