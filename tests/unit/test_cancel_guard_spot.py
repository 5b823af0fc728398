"""D7c (issue 19): on a UTA a TP/SL or plan target asked by clientOid is cancelled by
cancel-strategy-order, which names no symbol. With a spot TP/SL order of clientOid c1 open on
BTCUSDT and another on ETHUSDT, the target (ETHUSDT, c1) cancelled the BTCUSDT one and was
reported "cancelled", all closed, while the ETHUSDT one stayed open. Now the spot TP/SL listing
is read with the futures ones: a clientOid listed on the target's symbol goes by that orderId;
listed on other symbols only, it is not sent. On virtual time."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from bitget_cancel import CancelStatus, CancelTarget, OrderKind
from bitget_cancel._transport import HttpRequest, HttpResponse

from . import uta_exchange as uta
from .test_cancel_guard import TARGET_GUARDS, sent_requests
from .test_check_guard import UNREADABLE, Answer, Watched, cancel
from .uta_exchange import UtaExchange

TPSL, PLAN = OrderKind.TPSL, OrderKind.PLAN


class SpotAnswered(Watched):
    """The UTA exchange, with ``spot`` answering the spot TP/SL listing in its place."""

    def __init__(self, exchange: UtaExchange, spot: Answer) -> None:
        super().__init__(exchange)
        self.spot = spot

    async def handle(self, request: HttpRequest) -> HttpResponse:
        query = dict(parse_qsl(request.query))
        if request.path == uta.V3_STRATEGY and query["category"] == "SPOT":
            self.listed.append("SPOT")
            self.exchange.requests[request.path] += 1
            return self.spot(request)
        return await super().handle(request)


@pytest.mark.parametrize("kind", [TPSL, PLAN])
async def test_d7c_a_clientoid_listed_on_another_symbol_only_is_not_sent(kind: OrderKind) -> None:
    """The defect: the cancel by clientOid c1 cancelled the BTCUSDT order, and the ETHUSDT
    target was reported cancelled, all closed."""
    exchange = UtaExchange()
    btc = exchange.place("BTCUSDT", "c1", kind="tpsl")
    watched = Watched(exchange)
    (outcome,), report = await cancel(
        watched, [CancelTarget(symbol="ETHUSDT", client_oid="c1", kind=kind)]
    )
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    assert outcome.error_msg == (
        "clientOid 'c1' is listed as a TP/SL order on BTCUSDT, not ETHUSDT: not cancelled by "
        "clientOid, which names no symbol"
    )
    assert watched.checks == []  # no cancel-strategy-order at all
    assert btc.order_id in exchange.orders
    assert not report.all_closed
    assert report.problems
    assert report.requests == TARGET_GUARDS == sent_requests(exchange)


async def test_d7c_the_breakers_repro_cancels_the_target_symbols_order_by_its_orderid() -> None:
    """c1 open on both symbols: the ETHUSDT target goes by the orderId listed on ETHUSDT, and
    the BTCUSDT order stays open."""
    exchange = UtaExchange()
    btc = exchange.place("BTCUSDT", "c1", kind="tpsl")
    eth = exchange.place("ETHUSDT", "c1", kind="tpsl")
    watched = Watched(exchange)
    targets = [CancelTarget(symbol="ETHUSDT", client_oid="c1", kind=TPSL)]
    (outcome,), report = await cancel(watched, targets)
    assert outcome.status is CancelStatus.CANCELLED, outcome
    assert watched.checks == [{"orderId": eth.order_id}]
    assert eth.order_id not in exchange.orders
    assert btc.order_id in exchange.orders
    assert exchange.cancelled[btc.order_id] == 0
    assert report.all_closed
    assert report.requests == TARGET_GUARDS + 1 == sent_requests(exchange)


async def test_a_stale_orderid_asked_again_by_clientoid_goes_by_the_listed_orderid() -> None:
    """Both ids, the orderId gone: asked again by clientOid, it goes by the orderId listed
    under that clientOid on its symbol, not by the clientOid (open on BTCUSDT too)."""
    exchange = UtaExchange()
    btc = exchange.place("BTCUSDT", "c2", kind="tpsl")
    eth = exchange.place("ETHUSDT", "c2", kind="tpsl")
    watched = Watched(exchange)
    target = CancelTarget(symbol="ETHUSDT", order_id="91", client_oid="c2", kind=TPSL)
    (outcome,), report = await cancel(watched, [target])
    assert outcome.status is CancelStatus.CANCELLED, outcome
    assert watched.checks == [{"orderId": "91"}, {"orderId": eth.order_id}]
    assert btc.order_id in exchange.orders
    assert report.all_closed
    # then orderId 91 is confirmed open nowhere (the listings of normal and TP/SL orders)
    # before the target is called cancelled: it closed the order of another orderId
    assert "orderId 91 confirmed open nowhere" in (outcome.error_msg or "")
    assert report.requests == TARGET_GUARDS + 2 + 2 == sent_requests(exchange)


@UNREADABLE
async def test_an_unreadable_spot_listing_sends_no_cancel_by_clientoid(
    answer: Answer, words: str
) -> None:
    """Never guess the symbol: the targets by clientOid stay open and unresolved, saying why;
    those by orderId go as before (an orderId is the account's)."""
    exchange = UtaExchange()
    by_oid = exchange.place("ETHUSDT", "c3", kind="tpsl")
    by_id = exchange.place("ETHUSDT", "c4", kind="tpsl")
    plan = exchange.place("ETHUSDT", "c5", kind="plan")
    watched = SpotAnswered(exchange, answer)
    targets = [
        CancelTarget(symbol="ETHUSDT", client_oid="c3", kind=TPSL),
        CancelTarget(symbol="ETHUSDT", client_oid="c5", kind=PLAN),
        CancelTarget(symbol="ETHUSDT", order_id=by_id.order_id, kind=TPSL),
    ]
    outcomes, report = await cancel(watched, targets)
    statuses = [o.status for o in outcomes]
    assert statuses == [CancelStatus.UNRESOLVED] * 2 + [CancelStatus.CANCELLED], outcomes
    for outcome in outcomes[:2]:
        message = outcome.error_msg or ""
        assert "the spot TP/SL listing could not be read" in message, message
        assert words in message, message
    assert watched.checks == [{"orderId": by_id.order_id}]
    assert by_oid.order_id in exchange.orders
    assert plan.order_id in exchange.orders
    assert not report.all_closed
    assert report.requests == sent_requests(exchange)


async def test_targets_by_orderid_are_unchanged_by_the_spot_listing() -> None:
    """A clientOid repeated across symbols does not concern a target by orderId: each goes by
    its own orderId; the spot listing costs its one request, read with the futures ones."""
    exchange = UtaExchange()
    orders = [exchange.place(s, "c6", kind="tpsl") for s in ("BTCUSDT", "ETHUSDT")]
    watched = Watched(exchange)
    targets = [CancelTarget(symbol=o.symbol, order_id=o.order_id, kind=TPSL) for o in orders]
    outcomes, report = await cancel(watched, targets)
    assert [o.status for o in outcomes] == [CancelStatus.CANCELLED] * 2, outcomes
    assert sorted(c["orderId"] for c in watched.checks) == sorted(o.order_id for o in orders)
    assert watched.listed.count("SPOT") == 1
    assert report.all_closed
    assert report.requests == 2 + TARGET_GUARDS == sent_requests(exchange)
    assert len(set(exchange.arrivals[uta.V3_STRATEGY])) == 1  # one round trip
