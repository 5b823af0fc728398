"""D7b (issue 19) against the simulator over real HTTP on 127.0.0.1: on a unified account a
TP/SL or plan target is cancelled by cancel-strategy-order (no category, no symbol), which
reaches the account's futures TP/SL orders too. A TP/SL target by clientOid X cancelled the
futures TP/SL order of clientOid X and was reported "cancelled". The futures orders are now
listed before such a cancel, and an id they show is never sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, OrderKind
from bitget_cancel.sim import FUTURES_TPSL
from tests.e2e.test_check_guard import V3_STRATEGY, V3_STRATEGY_CANCEL, creds

if TYPE_CHECKING:
    from bitget_cancel.sim.pytest_plugin import SimFactory

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

TPSL, PLAN = OrderKind.TPSL, OrderKind.PLAN


async def test_d7b_a_futures_tpsl_order_is_never_cancelled_for_a_tpsl_or_plan_target(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(account="uta", latency_ms=(1.0, 5.0), seed=11)
    (hedge,) = sim.place_orders("BTCUSDT", 1, "hedge", kind=FUTURES_TPSL)
    (by_id,) = sim.place_orders("ETHUSDT", 1, kind=FUTURES_TPSL)
    spot_tpsl = sim.place_orders("BTCUSDT", 2, "tp", kind="tpsl")
    (plan,) = sim.place_orders("BTCUSDT", 1, "stop", kind="plan")
    assert hedge.client_oid is not None
    targets = [CancelTarget(symbol="BTCUSDT", order_id=o.order_id, kind=TPSL) for o in spot_tpsl]
    targets += [
        CancelTarget(symbol="BTCUSDT", order_id=plan.order_id, kind=PLAN),
        CancelTarget(symbol="BTCUSDT", client_oid=hedge.client_oid, kind=TPSL),  # a futures one
        CancelTarget(symbol="BTCUSDT", order_id=by_id.order_id, kind=PLAN),  # a futures orderId
    ]
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
        report = await engine.cancel(targets)
    outcomes = report.outcomes
    assert [o.target for o in outcomes] == targets
    statuses = [o.status for o in outcomes]
    assert statuses == [CancelStatus.CANCELLED] * 3 + [CancelStatus.UNRESOLVED] * 2, outcomes
    # the futures TP/SL orders are still open, and no cancel named them
    assert {o.order_id for o in sim.open_orders()} == {hedge.order_id, by_id.order_id}
    words = outcomes[3].error_msg or ""
    assert f"clientOid '{hedge.client_oid}' names a futures TP/SL order on USDT-FUTURES" in words
    assert "not cancelled, so as not to touch it" in words
    assert f"orderId '{by_id.order_id}' names a futures TP/SL order" in (
        outcomes[4].error_msg or ""
    )
    assert not report.all_closed
    # the three spot orders' cancels; one listing of each futures category for the call, and
    # the spot TP/SL one (D7c)
    assert sim.stats.endpoint(V3_STRATEGY_CANCEL).requests == 3
    assert sim.stats.endpoint(V3_STRATEGY).requests == 3 + 1
    assert report.requests == sum(sim.stats.requests.values())
    assert sim.stats.total_violations == 0, sim.stats.violations


async def test_a_uta_panic_lists_no_futures_orders_for_the_tpsl_orders_it_found(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(account="uta", latency_ms=(1.0, 5.0), seed=12)
    (hedge,) = sim.place_orders("BTCUSDT", 1, "hedge", kind=FUTURES_TPSL)
    sim.place_orders("BTCUSDT", 3, "tp", kind="tpsl")
    sim.place_orders("BTCUSDT", 4)
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
        report = await engine.panic_cancel(kinds=(OrderKind.NORMAL, TPSL))
    assert report.account_empty, report
    assert len(report.cancelled) == 7
    assert {o.order_id for o in sim.open_orders()} == {hedge.order_id}
    assert sim.stats.endpoint(V3_STRATEGY_CANCEL).requests == 3
    # the spot TP/SL listing of each of the two passes, no futures listing
    assert sim.stats.endpoint(V3_STRATEGY).requests == 2
    assert report.requests == sum(sim.stats.requests.values())


async def test_d7c_a_clientoid_target_on_the_wrong_symbol_cancels_nothing(
    sim_factory: SimFactory,
) -> None:
    """cancel-strategy-order by clientOid names no symbol: the ETHUSDT target of a clientOid
    open on BTCUSDT would cancel that order. The spot TP/SL listing shows where it is: not
    sent; the target on its right symbol goes by the orderId listed there."""
    sim = await sim_factory(account="uta", latency_ms=(1.0, 5.0), seed=13)
    (tp, right) = sim.place_orders("BTCUSDT", 2, "tp", kind="tpsl")
    assert tp.client_oid is not None
    assert right.client_oid is not None
    targets = [
        CancelTarget(symbol="ETHUSDT", client_oid=tp.client_oid, kind=TPSL),
        CancelTarget(symbol="BTCUSDT", client_oid=right.client_oid, kind=TPSL),
    ]
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
        report = await engine.cancel(targets)
    wrong, good = report.outcomes
    assert wrong.status is CancelStatus.UNRESOLVED, wrong
    assert f"clientOid '{tp.client_oid}' is listed as a TP/SL order on BTCUSDT, not ETHUSDT" in (
        wrong.error_msg or ""
    )
    assert good.status is CancelStatus.CANCELLED, good
    assert {o.order_id for o in sim.open_orders()} == {tp.order_id}
    assert not report.all_closed
    assert sim.stats.endpoint(V3_STRATEGY_CANCEL).requests == 1
    assert sim.stats.endpoint(V3_STRATEGY).requests == 3 + 1
    assert report.requests == sum(sim.stats.requests.values())
    assert sim.stats.total_violations == 0, sim.stats.violations
