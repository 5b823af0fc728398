"""A target whose orderId and clientOid name two different orders (issue 19, found by the
fourth breaker). Its orderId answered "does not exist"; asked again by its clientOid, the
exchange cancelled the clientOid's order, of another orderId. That says nothing of the order
the target's orderId names: it is confirmed (listings, checks by id) before the target is
called cancelled. On virtual time."""

from __future__ import annotations

import random

from bitget_cancel import CancelEngine, CancelReport, CancelStatus, CancelTarget, OrderKind

from .test_check_guard import CREDS
from .uta_exchange import V3_STRATEGY_CANCEL, UtaExchange


async def cancel(
    exchange: UtaExchange, targets: list[CancelTarget], *, confirm: bool = True
) -> CancelReport:
    engine = CancelEngine(
        CREDS, transport=exchange.transport(), account="uta", rng=random.Random(5)
    )
    async with engine:
        return await engine.cancel(targets, confirm=confirm)


async def test_ids_naming_two_orders_leave_neither_open_behind_a_cancelled() -> None:
    """The defect: the normal order c4 was cancelled by clientOid and the target reported
    cancelled, all closed, while the plan order its orderId names stayed armed."""
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", "p-1", kind="plan")
    normal = exchange.place("XRPUSDT", "c4")
    report = await cancel(
        exchange, [CancelTarget(symbol="XRPUSDT", order_id=plan.order_id, client_oid="c4")]
    )
    (outcome,) = report.outcomes
    assert exchange.orders == {}  # both closed: the caller named both
    assert exchange.cancelled[normal.order_id] == exchange.cancelled[plan.order_id] == 1
    assert outcome.status is CancelStatus.CANCELLED, outcome
    assert outcome.found_as is not None
    assert outcome.found_as.kind is OrderKind.PLAN
    assert report.all_closed


async def test_a_stale_orderid_is_confirmed_gone_and_the_clientoids_order_reported_cancelled() -> (
    None
):
    exchange = UtaExchange()
    live = exchange.place("XRPUSDT", "c5")
    report = await cancel(
        exchange, [CancelTarget(symbol="XRPUSDT", order_id="77", client_oid="c5")]
    )
    (outcome,) = report.outcomes
    assert live.order_id not in exchange.orders
    assert outcome.status is CancelStatus.CANCELLED, outcome
    assert "orderId 77 confirmed open nowhere" in (outcome.error_msg or "")
    assert report.all_closed
    # its orderId checked where no listing shows (plan orders), after the listings
    assert exchange.requests[V3_STRATEGY_CANCEL] >= 1


async def test_without_confirmation_the_clientoids_cancel_stands_as_before() -> None:
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", "p-2", kind="plan")
    exchange.place("XRPUSDT", "c6")
    report = await cancel(
        exchange,
        [CancelTarget(symbol="XRPUSDT", order_id=plan.order_id, client_oid="c6")],
        confirm=False,
    )
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.CANCELLED
    assert plan.order_id in exchange.orders  # the risk confirm=False accepts
    assert exchange.requests[V3_STRATEGY_CANCEL] == 0


async def test_ids_naming_a_plan_order_and_a_listed_tpsl_order_close_both() -> None:
    """Its orderId a plan order (no UTA listing shows it), its clientOid a TP/SL order of
    the target's symbol (listed): the plan order is checked by orderId first, then the
    TP/SL order is cancelled by its listed orderId. Before, the TP/SL order alone was
    cancelled and the target reported cancelled with the plan order armed."""
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", "p-3", kind="plan")
    tpsl = exchange.place("XRPUSDT", "c7", kind="tpsl")
    report = await cancel(
        exchange, [CancelTarget(symbol="XRPUSDT", order_id=plan.order_id, client_oid="c7")]
    )
    (outcome,) = report.outcomes
    assert exchange.orders == {}
    assert exchange.cancelled[plan.order_id] == exchange.cancelled[tpsl.order_id] == 1
    assert outcome.status is CancelStatus.CANCELLED, outcome
    assert report.all_closed
