"""Far from the exchange (200-400 ms round trips), against the simulator over real HTTP
(issue 23): listings read in id slices at once stay whole and within the budget; the panic
splits symbols between symbol cancels and batches. Outcomes and request counts only."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bitget_cancel import CancelEngine, CancelTarget, Credentials
from bitget_cancel._limit import RateBudget
from bitget_cancel._wire import UNFILLED_ORDERS

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.workloads._idle_proxy import IdleClosingProxy

if TYPE_CHECKING:
    from bitget_cancel.sim import SimExchange
    from bitget_cancel.sim.pytest_plugin import SimFactory

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

FAR = (200.0, 400.0)
UNFILLED = "/api/v2/spot/trade/unfilled-orders"
SYMBOL_CANCEL = "/api/v2/spot/trade/cancel-symbol-order"
BATCH_CANCEL = "/api/v2/spot/trade/batch-cancel-order"
V3_SYMBOL_CANCEL = "/api/v3/trade/cancel-symbol-order"
V3_BATCH = "/api/v3/trade/cancel-batch"


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


def interleave(sim: SimExchange, symbols: int, per_symbol: int, prefix: str = "S") -> None:
    """Orders placed in turn on each symbol, as a grid of many markets grows."""
    for _ in range(per_symbol):
        for s in range(symbols):
            sim.place_order(f"{prefix}{s}USDT")


def assert_clean(sim: SimExchange) -> None:
    assert sim.stats.total_violations == 0, sim.stats.violations
    assert sim.stats.throttled == 0


async def test_a_far_listing_of_the_whole_account_is_whole(sim_factory: SimFactory) -> None:
    sim = await sim_factory(latency_ms=FAR, seed=23)
    interleave(sim, symbols=20, per_symbol=150)
    placed = {o.order_id for o in sim.open_orders()}
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="classic") as engine:
        listed = await engine.open_orders(kinds=["normal"])
    assert listed.complete, listed.problems
    assert [t.order_id for t in listed.orders if t.order_id not in placed] == []
    assert {t.order_id for t in listed.orders} == placed
    pages = len(placed) // 100 + 1
    requests = sim.stats.endpoint(UNFILLED).requests
    assert listed.requests == requests
    assert pages <= requests <= 1.5 * pages
    assert_clean(sim)


async def test_a_far_panic_over_every_kind_ends_confirmed_empty(sim_factory: SimFactory) -> None:
    sim = await sim_factory(latency_ms=FAR, seed=24)
    interleave(sim, symbols=20, per_symbol=150)
    for s in range(20):
        sim.place_orders(f"S{s}USDT", 1, kind="tpsl")
        sim.place_orders(f"S{s}USDT", 1, kind="plan")
    total = len(sim.open_orders())
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="classic") as engine:
        report = await engine.panic_cancel(deadline=120)
    assert sim.open_orders() == []
    assert report.account_empty, report.problems
    # A symbol cancel also closes orders of its symbol that no page had shown yet: those are
    # not in the report (nothing named them), the rest are, each once.
    targets = [o.target for o in report.outcomes]
    assert len(targets) == len(set(targets)) <= total
    assert report.all_closed
    assert report.by_kind["tpsl"].cancelled == report.by_kind["plan"].cancelled == 20
    # Both lanes carry normal orders: 150 a symbol is a symbol cancel (1 of 5 a second) or
    # three batches (of 10 a second), and neither lane alone is as fast as both.
    symbol_cancels = sim.stats.endpoint(SYMBOL_CANCEL).requests
    assert 0 < symbol_cancels < 20
    assert sim.stats.endpoint(BATCH_CANCEL).requests >= 2 * (20 - symbol_cancels)
    assert_clean(sim)


async def test_a_far_panic_on_a_full_uta_uses_both_lanes(sim_factory: SimFactory) -> None:
    sim = await sim_factory(account="uta", latency_ms=FAR, seed=25)
    interleave(sim, symbols=20, per_symbol=20, prefix="F")
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
        report = await engine.panic_cancel(kinds=("normal",), deadline=60)
    assert sim.open_orders() == []
    assert report.account_empty, report.problems
    # Orders a symbol cancel closed before any page showed them are not in the report.
    targets = [o.target for o in report.outcomes]
    assert len(targets) == len(set(targets)) <= 400
    assert report.all_closed
    # 20 orders a symbol: a symbol cancel and a batch close as many, each lane 5 a second:
    # both lanes carry some, each symbol goes one way.
    symbol_cancels = sim.stats.endpoint(V3_SYMBOL_CANCEL).requests
    batches = sim.stats.endpoint(V3_BATCH).requests
    assert 5 <= symbol_cancels <= 15, (symbol_cancels, batches)
    assert symbol_cancels + batches <= 21, (symbol_cancels, batches)
    assert_clean(sim)


@pytest.mark.parametrize("keep_warm", [0.3, None])
async def test_kept_warm_connections_outlive_the_servers_idle_close(
    sim_factory: SimFactory, keep_warm: float | None
) -> None:
    """A relay closes connections idle for 1.5 s. Re-warmed every 0.3 s, the 4 connections of
    ``warm_up(4)`` are still open 4 s later, and no other was opened; once only, the relay has
    closed them all."""
    sim = await sim_factory(latency_ms=(5.0, 5.0), seed=26)
    orders = [sim.place_order(f"S{s}USDT") for s in range(4) for _ in range(50)]
    targets = [CancelTarget(symbol=o.symbol, order_id=o.order_id) for o in orders]
    async with IdleClosingProxy(sim.port, idle_timeout=1.5) as proxy:
        async with CancelEngine(creds(sim), base_url=proxy.base_url, account="classic") as engine:
            await engine.warm_up(4, keep_warm=keep_warm)
            assert proxy.opened == 4
            await asyncio.sleep(4.0)
            # What the idle time did to the warmed connections, before the burst uses any.
            closed, opened = proxy.closed_idle, proxy.opened
            report = await engine.cancel(targets, mode="single")
        assert report.all_closed
        assert sim.open_orders() == []
        if keep_warm is None:
            assert (closed, opened) == (4, 4)  # all four closed for idleness
        else:
            assert (closed, opened) == (0, 4)  # the same four, re-warmed, still open


async def test_far_listings_reusing_slots_early_never_overfill_a_window(
    sim_factory: SimFactory,
) -> None:
    """The early reuse of slots (requestTime, ``_arrival``) at a jittered 200-400 ms against
    six accounts at once, each listed again and again by one engine (about 1,600 requests
    in all, the windows full whenever the machine keeps up): every listing whole, no window
    overfilled, no 429, and the rule in force to the end."""
    sims = [await sim_factory(latency_ms=FAR, seed=40 + n) for n in range(6)]
    for sim in sims:
        interleave(sim, symbols=20, per_symbol=100)

    async def list_again_and_again(sim: SimExchange, n: int) -> None:
        placed = {o.order_id for o in sim.open_orders()}
        async with CancelEngine(
            creds(sim),
            base_url=sim.base_url,
            account="classic",
            account_id=f"early-{n}",
            early_reuse=True,
        ) as engine:
            for _ in range(12):
                listed = await engine.open_orders(kinds=["normal"])
                assert listed.complete, listed.problems
                assert {t.order_id for t in listed.orders} == placed
            budget = engine._session_here().budget(UNFILLED_ORDERS)
            assert isinstance(budget, RateBudget)
            assert budget.early_reuse
            assert budget._arrivals is not None
            assert len(budget._arrivals._times) >= budget._arrivals.min_samples

    await asyncio.gather(*(list_again_and_again(sim, n) for n, sim in enumerate(sims)))
    for sim in sims:
        assert sim.stats.endpoint(UNFILLED).requests >= 12 * 21
        assert sim.stats.max_in_window[UNFILLED] <= 20
        assert_clean(sim)
