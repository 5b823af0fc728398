"""D7b (issue 19): on a UTA a TP/SL or plan *target* is itself cancelled by
cancel-strategy-order, which takes no category and no symbol, so it also reaches the account's
futures TP/SL orders. A target sharing a futures order's clientOid (or naming its orderId) had
that futures order cancelled and was reported "cancelled". Now the futures TP/SL orders are
listed before the first such cancel of a call (unless a spot listing proved the target), and
no cancel is sent by an id they show. On virtual time."""

from __future__ import annotations

import asyncio

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, OrderKind
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from . import uta_exchange as uta
from .test_check_guard import (
    CREDS,
    GUARDS,
    UNREADABLE,
    Answer,
    Watched,
    cancel,
)
from .uta_exchange import UtaExchange

TPSL, PLAN = OrderKind.TPSL, OrderKind.PLAN
# Before a TP/SL or plan target's cancel: the futures listings and the spot TP/SL one (D7c).
TARGET_GUARDS = GUARDS + 1
NOT_TOUCHED = "not cancelled, so as not to touch it"


def sent_requests(exchange: UtaExchange) -> int:
    """What the call sent (the engine's clock sync is not the call's)."""
    return sum(exchange.requests.values()) - exchange.requests[uta.V2_TIME]


@pytest.mark.parametrize("kind", [TPSL, PLAN])
async def test_d7b_a_target_sharing_a_futures_clientoid_is_not_cancelled(kind: OrderKind) -> None:
    """The defect: the target by clientOid X was sent to cancel-strategy-order, which cancelled
    the futures TP/SL order of clientOid X, and the target was reported "cancelled"."""
    exchange = UtaExchange()
    futures = exchange.place("BTCUSDT", "hedge-1", kind="futures_tpsl")
    watched = Watched(exchange)
    target = CancelTarget(symbol="BTCUSDT", client_oid="hedge-1", kind=kind)
    (outcome,), report = await cancel(watched, [target])
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    message = outcome.error_msg or ""
    assert "clientOid 'hedge-1' names a futures TP/SL order on USDT-FUTURES" in message
    assert NOT_TOUCHED in message
    assert futures.order_id in exchange.orders
    assert exchange.cancelled[futures.order_id] == 0
    assert watched.checks == []  # no cancel-strategy-order at all
    assert sorted(watched.futures_listings) == sorted(uta.FUTURES_CATEGORIES)
    assert not report.all_closed
    assert report.problems
    assert report.requests == TARGET_GUARDS == sent_requests(exchange)


@pytest.mark.parametrize("kind", [TPSL, PLAN])
async def test_a_target_naming_a_futures_orderid_is_not_cancelled(kind: OrderKind) -> None:
    exchange = UtaExchange()
    futures = exchange.place("ETHUSDT", kind="futures_tpsl")
    watched = Watched(exchange)
    target = CancelTarget(symbol="BTCUSDT", order_id=futures.order_id, kind=kind)
    (outcome,), report = await cancel(watched, [target])
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    message = outcome.error_msg or ""
    assert f"orderId '{futures.order_id}' names a futures TP/SL order on USDT-FUTURES" in message
    assert NOT_TOUCHED in message
    assert futures.order_id in exchange.orders
    assert watched.checks == []
    assert not report.all_closed
    assert report.requests == TARGET_GUARDS


async def test_a_stale_orderid_goes_and_then_its_futures_clientoid_does_not() -> None:
    """Both ids: the orderId (no futures order's) is asked; after its "does not exist" the
    clientOid (a futures order's) is not: unresolved, the futures order untouched."""
    exchange = UtaExchange()
    futures = exchange.place("BTCUSDT", "hedge-2", kind="futures_tpsl")
    watched = Watched(exchange)
    target = CancelTarget(symbol="BTCUSDT", order_id="91", client_oid="hedge-2", kind=TPSL)
    (outcome,), report = await cancel(watched, [target])
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    message = outcome.error_msg or ""
    assert "clientOid 'hedge-2' names a futures TP/SL order on USDT-FUTURES" in message
    assert NOT_TOUCHED in message
    assert watched.checks == [{"orderId": "91"}]
    assert futures.order_id in exchange.orders
    assert sorted(watched.futures_listings) == sorted(uta.FUTURES_CATEGORIES)  # read once
    assert report.requests == TARGET_GUARDS + 1 == sent_requests(exchange)


@UNREADABLE
async def test_a_futures_listing_that_cannot_be_read_lets_no_cancel_go(
    answer: Answer, words: str
) -> None:
    """Never guess: the TP/SL and plan orders stay open and unresolved, saying why, rather than
    a cancel that might reach a futures order. Normal orders go as before."""
    exchange = UtaExchange()
    tpsl = exchange.place("BTCUSDT", "tp-1", kind="tpsl")
    plan = exchange.place("BTCUSDT", kind="plan")
    normal = exchange.place("BTCUSDT")
    watched = Watched(exchange, futures=answer)
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id=tpsl.order_id, kind=TPSL),
        CancelTarget(symbol="BTCUSDT", client_oid="tp-1", kind=TPSL),
        CancelTarget(symbol="BTCUSDT", order_id=plan.order_id, kind=PLAN),
        CancelTarget(symbol="BTCUSDT", order_id=normal.order_id),
    ]
    outcomes, report = await cancel(watched, targets)
    statuses = [o.status for o in outcomes]
    assert statuses == [CancelStatus.UNRESOLVED] * 3 + [CancelStatus.CANCELLED], outcomes
    for outcome in outcomes[:3]:
        message = outcome.error_msg or ""
        assert "not cancelled by v3-cancel-strategy-order" in message, message
        assert "could not be listed" in message, message
        assert words in message, message
    assert watched.checks == []
    assert tpsl.order_id in exchange.orders
    assert plan.order_id in exchange.orders
    assert normal.order_id not in exchange.orders
    assert not report.all_closed
    assert report.requests == sent_requests(exchange)


async def test_a_deadline_during_the_futures_listing_lets_no_cancel_go() -> None:
    """The listings are still in flight at the deadline: abandoned, and nothing is sent."""
    exchange = UtaExchange()
    exchange.latency = 3.0  # each request: 3 s
    watched = Watched(exchange)
    tpsl = exchange.place_many("BTCUSDT", 3, "tp", kind="tpsl")
    targets = [CancelTarget(symbol="BTCUSDT", order_id=o.order_id, kind=TPSL) for o in tpsl]
    outcomes, report = await cancel(watched, targets, deadline=2.0)
    assert [o.target for o in outcomes] == targets
    assert {o.status for o in outcomes} == {CancelStatus.UNRESOLVED}
    for outcome in outcomes:
        message = outcome.error_msg or ""
        assert "could not be listed (deadline of 2s passed before they were read)" in message
    assert watched.checks == []
    assert all(o.order_id in exchange.orders for o in tpsl)
    assert not report.all_closed
    assert report.elapsed == pytest.approx(2.0)
    assert report.requests == TARGET_GUARDS == sent_requests(exchange)  # sent, counted


async def test_empty_guard_listings_cost_four_requests_and_change_nothing_else() -> None:
    """Futures orders of other ids do not stop a cancel; the three futures listings and the
    spot TP/SL one, read once for the call, are the only extra requests, counted in its
    report."""
    exchange = UtaExchange()
    tpsl = exchange.place_many("BTCUSDT", 3, "tp", kind="tpsl")
    plan = exchange.place("ETHUSDT", "stop-1", kind="plan")
    other = exchange.place("BTCUSDT", "hedge-3", kind="futures_tpsl")
    watched = Watched(exchange)
    targets = [CancelTarget(symbol="BTCUSDT", order_id=o.order_id, kind=TPSL) for o in tpsl]
    targets.append(CancelTarget(symbol="ETHUSDT", client_oid="stop-1", kind=PLAN))
    outcomes, report = await cancel(watched, targets)
    assert [o.status for o in outcomes] == [CancelStatus.CANCELLED] * 4, outcomes
    assert all(o.found_as is None for o in outcomes)
    assert report.all_closed
    assert plan.order_id not in exchange.orders
    assert other.order_id in exchange.orders
    assert sorted(watched.futures_listings) == sorted(uta.FUTURES_CATEGORIES)
    assert len(watched.checks) == 4
    assert report.requests == 4 + TARGET_GUARDS == sent_requests(exchange)
    assert len(set(exchange.arrivals[uta.V3_STRATEGY])) == 1  # sent together: one round trip


async def test_normal_targets_alone_list_no_futures_orders() -> None:
    exchange = UtaExchange()
    normal = exchange.place_many("BTCUSDT", 4)
    watched = Watched(exchange)
    targets = [CancelTarget(symbol="BTCUSDT", order_id=o.order_id) for o in normal]
    _, report = await cancel(watched, targets)
    assert report.all_closed
    assert watched.listed == []
    assert report.requests == 1


async def test_concurrent_calls_share_one_read_of_the_futures_listings() -> None:
    exchange = UtaExchange()
    tpsl = exchange.place_many("BTCUSDT", 6, "tp", kind="tpsl")
    watched = Watched(exchange)
    engine = CancelEngine(CREDS, transport=MockTransport(watched.handle), account="uta")
    async with engine:
        reports = await asyncio.gather(
            *(
                engine.cancel([CancelTarget(symbol="BTCUSDT", order_id=o.order_id, kind=TPSL)])
                for o in tpsl
            )
        )
    assert all(r.all_closed for r in reports)
    assert not exchange.open_of("tpsl")
    assert sorted(watched.futures_listings) == sorted(uta.FUTURES_CATEGORIES)
    # every call counts the listings it was served by
    assert [r.requests for r in reports] == [1 + TARGET_GUARDS] * 6


async def test_a_panic_cancels_the_tpsl_orders_it_listed_without_a_futures_listing() -> None:
    """The spot strategy listing (category=SPOT) proves its orders spot: cancelling them by
    orderId needs no guard, so a UTA panic's request count is what it was."""
    exchange = UtaExchange()
    tpsl = exchange.place_many("BTCUSDT", 2, "tp", kind="tpsl")
    exchange.place_many("BTCUSDT", 3)
    futures = exchange.place("BTCUSDT", "hedge-4", kind="futures_tpsl")
    watched = Watched(exchange)
    engine = CancelEngine(CREDS, transport=MockTransport(watched.handle), account="uta")
    async with engine:
        report = await engine.panic_cancel(kinds=(OrderKind.NORMAL, TPSL))
    assert report.account_empty, report
    assert not exchange.open_of("tpsl")
    assert futures.order_id in exchange.orders
    assert watched.futures_listings == []
    assert sorted(c["orderId"] for c in watched.checks) == [o.order_id for o in tpsl]
    # pass 1: unfilled-orders (its cursor followed to an empty page: 2), strategy (SPOT), one
    # cancel-batch, 2 strategy cancels; pass 2: unfilled-orders and strategy, both empty
    assert report.requests == 2 + 1 + 1 + 2 + 2 == sent_requests(exchange)


async def test_a_tpsl_target_the_confirmation_found_listed_needs_no_guard() -> None:
    """A TP/SL order named as a normal one: its "does not exist" is settled by the spot TP/SL
    listing, which proves it spot: its cancel by that orderId needs no futures listing."""
    exchange = UtaExchange()
    (tpsl,) = exchange.place_many("BTCUSDT", 1, "tp", kind="tpsl")
    watched = Watched(exchange)
    (outcome,), report = await cancel(
        watched, [CancelTarget(symbol="BTCUSDT", order_id=tpsl.order_id)]
    )
    assert outcome.status is CancelStatus.CANCELLED, outcome
    assert outcome.found_as is not None
    assert outcome.found_as.kind is TPSL
    assert watched.futures_listings == []
    assert watched.checks == [{"orderId": tpsl.order_id}]
    assert report.requests == sent_requests(exchange)


async def test_a_listed_order_asked_again_by_clientoid_is_guarded() -> None:
    """The spot listing proves the orderId it showed, not the clientOid: the order filled
    before its cancel ("does not exist"), asked again by its clientOid, which a futures TP/SL
    order shares, is not sent."""
    exchange = UtaExchange()
    spot = exchange.place("BTCUSDT", "hedge-5", kind="tpsl")
    futures = exchange.place("BTCUSDT", "hedge-5", kind="futures_tpsl")

    class FilledFirst(Watched):
        async def handle(self, request: HttpRequest) -> HttpResponse:
            if request.path == uta.V3_STRATEGY_CANCEL:
                exchange.orders.pop(spot.order_id, None)  # filled just before the cancel
            return await super().handle(request)

    watched = FilledFirst(exchange)
    engine = CancelEngine(CREDS, transport=MockTransport(watched.handle), account="uta")
    async with engine:
        report = await engine.panic_cancel(kinds=(TPSL,))
    assert watched.checks == [{"orderId": spot.order_id}]  # not {"clientOid": "hedge-5"}
    assert futures.order_id in exchange.orders
    assert exchange.cancelled[futures.order_id] == 0
    assert sorted(watched.futures_listings) == sorted(uta.FUTURES_CATEGORIES)
    assert report.requests == sent_requests(exchange)
    # the next pass's listing no longer shows it: not open (and the account empty of spot ones)
    assert [o.status for o in report.outcomes] == [CancelStatus.NOT_OPEN]
    assert report.account_empty
