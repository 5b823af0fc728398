"""Panic cancel on a unified trading account, against the simulator over real HTTP: every kind
listed on v3, an honest ``account_empty``, the account type learnt in the middle of the panic."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bitget_cancel import CancelEngine, CancelTarget, Credentials, PanicReport
from bitget_cancel.sim import Faults, SimExchange

if TYPE_CHECKING:
    from bitget_cancel.sim.pytest_plugin import SimFactory

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

V3_UNFILLED = "/api/v3/trade/unfilled-orders"
V3_STRATEGY = "/api/v3/trade/unfilled-strategy-orders"
V3_SYMBOL_CANCEL = "/api/v3/trade/cancel-symbol-order"
V3_STRATEGY_CANCEL = "/api/v3/trade/cancel-strategy-order"


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


def fill(sim: SimExchange) -> None:
    """A busy UTA: 230 normal orders (one symbol with 120: pages and a symbol cancel), TP/SL."""
    sim.place_orders("BTCUSDT", 120, "b")
    for n in range(11):
        sim.place_orders(f"A{n}USDT", 10)
    sim.place_orders("ETHUSDT", 4, "tp", kind="tpsl")
    sim.place_orders("XRPUSDT", 3, kind="tpsl")


def assert_each_closed_once(report: PanicReport) -> None:
    targets = [o.target for o in report.outcomes]
    assert len(targets) == len(set(targets))
    assert report.all_closed, report.counts()


async def test_uta_panic_empties_normal_and_tpsl_and_says_so(sim_factory: SimFactory) -> None:
    sim = await sim_factory(account="uta", latency_ms=(1.0, 10.0), seed=1)
    fill(sim)
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
        report = await engine.panic_cancel(kinds=("normal", "tpsl"), deadline=60)
    assert sim.open_orders() == []
    assert report.account_empty
    assert report.problems == ()
    assert_each_closed_once(report)
    assert report.by_kind["normal"].listed + report.by_kind["tpsl"].listed >= 7
    assert sim.stats.endpoint(V3_SYMBOL_CANCEL).requests >= 1  # BTCUSDT: 120 listed
    assert sim.stats.endpoint(V3_STRATEGY_CANCEL).requests == 7
    assert sim.stats.endpoint(V3_UNFILLED).requests >= 3  # two pages, then an empty one
    assert sim.stats.account_mismatch == 0
    assert sim.stats.total_violations == 0
    assert sim.stats.throttled == 0


async def test_uta_panic_over_every_kind_reports_plan_orders_unconfirmed(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(account="uta", latency_ms=(1.0, 10.0), seed=2)
    fill(sim)
    trigger = sim.place_order("BTCUSDT", kind="plan")
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
        report = await engine.panic_cancel(deadline=60)  # normal, tpsl and plan
    # Bitget documents no v3 listing of a UTA's spot trigger orders: never "empty" for them.
    assert sim.open_orders() == [trigger]
    assert not report.account_empty
    assert report.by_kind["normal"].confirmed_empty
    assert report.by_kind["tpsl"].confirmed_empty
    plan = report.by_kind["plan"]
    assert not plan.confirmed_empty
    assert plan.listed == 0
    assert plan.problem == "not listable on a uta account"
    assert report.problems == ("plan orders: not listable on a uta account",)


async def test_auto_panic_learns_the_uta_mid_panic_under_faults(sim_factory: SimFactory) -> None:
    faults = Faults(rate=0.2, order_transient=0.1, slow_s=1.0)
    sim = await sim_factory(account="uta", latency_ms=(1.0, 10.0), faults=faults, seed=3)
    fill(sim)
    explicit = sim.place_orders("DOGEUSDT", 3)
    targets = [CancelTarget(symbol=o.symbol, order_id=o.order_id) for o in explicit]
    async with CancelEngine(creds(sim), base_url=sim.base_url, request_timeout=0.5) as engine:
        assert engine.account_type is None
        report = await engine.panic_cancel(targets=targets, kinds=("normal", "tpsl"), deadline=60)
        assert engine.account_type == "uta"
    assert sim.open_orders() == []
    assert report.account_empty
    assert_each_closed_once(report)
    assert sim.stats.account_mismatch >= 1  # the first v2 listing (and cancels) said 40085
    assert sum(sim.stats.injected.values()) > 0
    assert sim.stats.total_violations == 0
    assert sim.stats.pacing_429 == 0


async def test_the_panic_on_a_full_uta_of_400_orders(sim_factory: SimFactory) -> None:
    sim = await sim_factory(account="uta", latency_ms=(1.0, 10.0), seed=4)
    for n in range(20):
        sim.place_orders(f"F{n}USDT", 20)
    with pytest.raises(ValueError, match="400"):
        sim.place_order("F0USDT")  # the UTA's cap: the account is full
    async with CancelEngine(creds(sim), base_url=sim.base_url) as engine:
        await engine.warm_up(2)
        report = await engine.panic_cancel(kinds=("normal", "tpsl"), deadline=60)
    assert sim.open_orders() == []
    assert_each_closed_once(report)
    assert len(report.outcomes) == 400
    assert report.account_empty
    # 400 orders, 20 on each symbol: one request each, a batch of 20 or a symbol cancel
    assert report.cancel_requests + report.symbol_cancels == 20
    # warm_up() told the account type: its probe's one v2 read was answered 40085
    assert sim.stats.account_mismatch == 1
    assert sim.stats.total_violations == 0
    assert sim.stats.throttled == 0
