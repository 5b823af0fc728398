"""The panic's two lanes of normal orders (symbol cancels, batches by id) planned by their
throughput so that they finish together (issue 23), on v2 and v3. On virtual time."""

from __future__ import annotations

import asyncio
import random

from bitget_cancel import CancelEngine

from .fake_venue import BATCH_CANCEL, SYMBOL_CANCEL, FakeVenue
from .fake_venue import engine_for as v2_engine_for
from .test_v3_engine import CREDS
from .uta_exchange import V3_BATCH, V3_SYMBOL, UtaExchange


def uta_engine(exchange: UtaExchange) -> CancelEngine:
    return CancelEngine(
        CREDS,
        transport=exchange.transport(),
        wall_clock=exchange.wall_clock,
        rng=random.Random(7),
        account="uta",
    )


async def test_a_full_uta_is_split_half_symbol_cancels_half_batches() -> None:
    """400 orders, 20 on each of 20 symbols: a symbol cancel (5 a second) closes 20 orders, a
    batch (5 a second) 20 as well. All 20 by symbol cancel take 4 windows; 10 and 10, two."""
    exchange = UtaExchange(latency=0.3)
    for _ in range(20):
        for s in range(20):
            exchange.place(f"S{s}USDT")
    loop = asyncio.get_running_loop()
    async with uta_engine(exchange) as engine:
        start = loop.time()
        report = await engine.panic_cancel(kinds=["normal"])
        took = loop.time() - start
    assert report.account_empty, report.problems
    assert not exchange.orders
    assert exchange.requests[V3_SYMBOL] == 10
    assert exchange.requests[V3_BATCH] == 10
    assert exchange.max_in_window(V3_SYMBOL) <= 5
    assert exchange.max_in_window(V3_BATCH) <= 5
    assert took < 4.0, took  # 20 symbol cancels alone: 4 windows, over 5 s


async def test_v2_symbols_are_split_between_the_lanes_as_the_listing_goes() -> None:
    """2,000 orders, 100 on each of 20 symbols, far away: a symbol cancel (5 a second) closes
    100, two batches (10 a second) as many. Neither lane takes them all: the symbol lane takes
    what it can send as soon as the batch lane would, and more once it has drained; each
    symbol goes one way only."""
    venue = FakeVenue(latency=0.3)
    for _ in range(100):
        for s in range(20):
            venue.place(f"S{s}USDT")
    async with v2_engine_for(venue) as engine:
        report = await engine.panic_cancel(kinds=["normal"])
    assert report.account_empty, report.problems
    assert not venue.open_orders()
    assert venue.over_limit == 0
    symbol_cancels = venue.count(SYMBOL_CANCEL)
    by_symbol = {c.body["symbol"] for c in venue.calls_to(SYMBOL_CANCEL)}
    batched = {
        item.get("symbol") or call.body.get("symbol")  # batchMode "single": one symbol on top
        for call in venue.calls_to(BATCH_CANCEL)
        for item in call.body["orderList"]
    }
    assert 10 <= symbol_cancels < 20
    assert len(by_symbol) == symbol_cancels
    assert not by_symbol & batched
    assert len(batched) == 20 - symbol_cancels
    assert venue.count(BATCH_CANCEL) == 2 * (20 - symbol_cancels)


async def test_big_symbols_go_to_the_symbol_lane_first() -> None:
    """One symbol of 1,000 orders and ten of 20: the big one by symbol cancel (one request
    instead of 20 batches), the small ones in batches."""
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 1_000)
    for s in range(10):
        venue.place_many(f"S{s}USDT", 20)
    async with v2_engine_for(venue) as engine:
        report = await engine.panic_cancel(kinds=["normal"])
    assert report.account_empty
    symbol_bodies = [c.body for c in venue.calls_to(SYMBOL_CANCEL)]
    assert symbol_bodies == [{"symbol": "BTCUSDT"}]
    assert venue.count(BATCH_CANCEL) == 4
