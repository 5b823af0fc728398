"""Fourth breaker (issue 19): what the UTA check by id may ask, given what the listings of
the same confirmation showed. On virtual time."""

from __future__ import annotations

import random

import pytest

from bitget_cancel import CancelEngine, CancelReport, CancelStatus, CancelTarget, OrderKind
from bitget_cancel._transport import HttpRequest, HttpResponse

from .test_check_guard import CREDS, Watched
from .test_check_guard import cancel as guarded_cancel
from .uta_exchange import V3_STRATEGY_CANCEL, UtaExchange, envelope


async def cancel(exchange: UtaExchange, targets: list[CancelTarget]) -> CancelReport:
    engine = CancelEngine(
        CREDS, transport=exchange.transport(), account="uta", rng=random.Random(5)
    )
    async with engine:
        return await engine.cancel(targets)


async def test_a_stale_orderids_clientoid_listed_as_tpsl_on_another_symbol_is_not_asked() -> None:
    """The defect: the target (BTCUSDT, a stale orderId, clientOid X) was checked by clientOid
    X at cancel-strategy-order, which names no symbol: it cancelled the TP/SL order X on
    ETHUSDT that the confirmation's own listing had just shown, and the target was reported
    cancelled "as a plan order" on BTCUSDT."""
    exchange = UtaExchange()
    other = exchange.place("ETHUSDT", "shared-1", kind="tpsl")
    report = await cancel(
        exchange, [CancelTarget(symbol="BTCUSDT", order_id="91", client_oid="shared-1")]
    )
    (outcome,) = report.outcomes
    assert other.order_id in exchange.orders  # not ours: left open
    assert exchange.cancelled[other.order_id] == 0
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    assert outcome.found_as is None
    assert "clientOid 'shared-1' names a tpsl order on ETHUSDT (listed open)" in (
        outcome.error_msg or ""
    )
    assert not report.all_closed
    # asked by its orderId only (the plan check), never by the listed clientOid
    assert exchange.requests[V3_STRATEGY_CANCEL] == 1


async def test_a_stale_orderids_clientoid_listed_as_normal_elsewhere_confirms_nothing() -> None:
    """The defect: the plan order 'shared-2' of the target's symbol stayed armed, 'not_open,
    confirmed: open nowhere': the check by clientOid (no symbol) was answered for the normal
    order 'shared-2' on ETHUSDT the listing had shown, whose "does not exist" says nothing of
    the target's."""
    exchange = UtaExchange()
    normal = exchange.place("ETHUSDT", "shared-2")
    plan = exchange.place("BTCUSDT", "shared-2", kind="plan")
    report = await cancel(
        exchange, [CancelTarget(symbol="BTCUSDT", order_id="92", client_oid="shared-2")]
    )
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    assert "clientOid 'shared-2' names a normal order on ETHUSDT (listed open)" in (
        outcome.error_msg or ""
    )
    assert normal.order_id in exchange.orders
    assert plan.order_id in exchange.orders
    assert exchange.requests[V3_STRATEGY_CANCEL] == 1  # by its orderId only
    assert not report.all_closed


async def test_targets_found_as_one_order_are_each_answered() -> None:
    """The defect: three targets naming one orderId under three wrong symbols were all found
    open on its true symbol and queued there under one wire key; the planner sends a key once
    and dropped the other two, never sent again: 'unresolved: the call stopped before a retry
    could be sent' (no deadline, nothing stopped), not all_closed, on a flat account."""
    exchange = UtaExchange()
    order = exchange.place("SOLUSDT", "c-1")
    targets = [
        CancelTarget(symbol=symbol, order_id=order.order_id)
        for symbol in ("BTCUSDT", "ETHUSDT", "XRPUSDT")
    ]
    report = await cancel(exchange, targets)
    assert order.order_id not in exchange.orders
    assert exchange.violations == []  # never one id twice in a request
    statuses = sorted(o.status.value for o in report.outcomes)
    assert statuses == ["cancelled", "not_open", "not_open"], report.outcomes
    for outcome in report.outcomes:
        assert outcome.found_as is not None
        assert outcome.found_as.symbol == "SOLUSDT"
        assert "stopped" not in (outcome.error_msg or ""), outcome
    assert report.problems == ()
    assert report.all_closed


async def test_targets_of_two_wrong_kinds_found_as_one_normal_order_are_each_answered() -> None:
    """The same, on one symbol: a user unsure of the kind names one normal order as TP/SL and
    as plan; both are found as the normal order."""
    exchange = UtaExchange()
    order = exchange.place("BTCUSDT")
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id=order.order_id, kind=kind)
        for kind in (OrderKind.TPSL, OrderKind.PLAN)
    ]
    report = await cancel(exchange, targets)
    assert order.order_id not in exchange.orders
    assert {o.status for o in report.outcomes} <= {CancelStatus.CANCELLED, CancelStatus.NOT_OPEN}
    assert all("stopped" not in (o.error_msg or "") for o in report.outcomes), report.outcomes
    assert report.all_closed


@pytest.mark.parametrize("pad", [" {} ", "{}\t"])
async def test_a_futures_listing_padding_an_id_still_guards_it(pad: str) -> None:
    """The defect: the futures TP/SL listing showed the order's orderId (or clientOid) padded
    with whitespace; the guard kept it as listed, so the target's own id was not found there,
    the check asked cancel-strategy-order by it and cancelled the futures order."""
    exchange = UtaExchange()
    futures = exchange.place("BTCUSDT", "hedge-9", kind="futures_tpsl")

    def padded(request: HttpRequest) -> HttpResponse:
        row = {"orderId": pad.format(futures.order_id), "clientOid": pad.format("hedge-9"),
               "category": "USDT-FUTURES", "symbol": "BTCUSDT"}  # fmt: skip
        return HttpResponse(200, envelope([row]))

    watched = Watched(exchange, futures=padded)
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id=futures.order_id),
        CancelTarget(symbol="BTCUSDT", client_oid="hedge-9"),
    ]
    outcomes, report = await guarded_cancel(watched, targets)
    assert futures.order_id in exchange.orders  # not ours: left open
    assert watched.checks == []
    assert [o.status for o in outcomes] == [CancelStatus.UNRESOLVED] * 2, outcomes
    assert not report.all_closed
