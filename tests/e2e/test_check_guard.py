"""D7 (issue 19) against the simulator over real HTTP on 127.0.0.1: on a unified account the
check by id of a "does not exist" (cancel-strategy-order, no category, no symbol) reached the
account's futures TP/SL orders. A spot target by clientOid X that does not exist made the
engine cancel the futures TP/SL order of clientOid X and report it as the target "found as
plan". The futures orders are now listed first, and an id they show is never asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials, OrderKind
from bitget_cancel.sim import FUTURES_TPSL, SimExchange

if TYPE_CHECKING:
    from bitget_cancel.sim.pytest_plugin import SimFactory

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

V3_STRATEGY = "/api/v3/trade/unfilled-strategy-orders"
V3_STRATEGY_CANCEL = "/api/v3/trade/cancel-strategy-order"


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


async def test_d7_a_futures_tpsl_order_is_never_cancelled_for_a_spot_target(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(account="uta", latency_ms=(1.0, 5.0), seed=7)
    (futures,) = sim.place_orders("BTCUSDT", 1, "hedge", kind=FUTURES_TPSL)
    (by_id,) = sim.place_orders("ETHUSDT", 1, kind=FUTURES_TPSL)
    (plan,) = sim.place_orders("BTCUSDT", 1, "stop", kind="plan")
    normal = sim.place_orders("BTCUSDT", 3)
    assert futures.client_oid is not None
    targets = [CancelTarget(symbol="BTCUSDT", order_id=o.order_id) for o in normal]
    targets += [
        CancelTarget(symbol="BTCUSDT", client_oid=futures.client_oid),  # not a spot order
        CancelTarget(symbol="BTCUSDT", order_id=by_id.order_id),  # a futures orderId
        CancelTarget(symbol="BTCUSDT", order_id=plan.order_id),  # a plan order named as normal
        CancelTarget(symbol="BTCUSDT", client_oid="never-placed"),
    ]
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
        report = await engine.cancel(targets)
    outcomes = report.outcomes
    assert [o.target for o in outcomes] == targets
    statuses = [o.status for o in outcomes]
    assert statuses == [CancelStatus.CANCELLED] * 3 + [
        CancelStatus.UNRESOLVED,
        CancelStatus.UNRESOLVED,
        CancelStatus.CANCELLED,
        CancelStatus.NOT_OPEN,
    ], outcomes
    # the futures TP/SL orders are still open, and were never asked
    assert sim.is_open(futures.order_id)
    assert sim.is_open(by_id.order_id)
    assert {o.order_id for o in sim.open_orders()} == {futures.order_id, by_id.order_id}
    words = outcomes[3].error_msg or ""
    assert f"clientOid '{futures.client_oid}' names a futures TP/SL order on USDT-FUTURES" in words
    assert "so as not to cancel it" in words
    assert f"orderId '{by_id.order_id}' names a futures TP/SL order" in (
        outcomes[4].error_msg or ""
    )
    # the plan order was found by its check as before
    assert outcomes[5].found_as is not None
    assert outcomes[5].found_as.kind is OrderKind.PLAN
    assert not report.all_closed
    # checks only for the plan order and the unknown clientOid; one listing of each futures
    # category for the whole call (and the spot TP/SL listing), all in the report's count
    assert sim.stats.endpoint(V3_STRATEGY_CANCEL).requests == 2
    assert sim.stats.endpoint(V3_STRATEGY).requests == 1 + 3
    assert report.requests == sum(sim.stats.requests.values())
    assert sim.stats.total_violations == 0, sim.stats.violations


async def test_no_futures_listing_when_no_check_is_due(sim_factory: SimFactory) -> None:
    sim = await sim_factory(account="uta", latency_ms=(1.0, 5.0), seed=8)
    sim.place_orders("BTCUSDT", 1, "hedge", kind=FUTURES_TPSL)
    normal = sim.place_orders("BTCUSDT", 5)
    targets = [CancelTarget(symbol="BTCUSDT", order_id=o.order_id) for o in normal]
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
        report = await engine.cancel(targets)
    assert report.all_closed
    assert sim.stats.endpoint(V3_STRATEGY).requests == 0
    assert sim.stats.endpoint(V3_STRATEGY_CANCEL).requests == 0
    assert report.requests == 1
