"""D7 (issue 19): the check by id of a UTA (cancel-strategy-order, which takes no category and
no symbol) must never cancel an order that is not a spot order. Before the first check of a
call the account's futures TP/SL orders are listed (every futures category), and no id they
show is asked; a futures listing that cannot be read lets no check go. On virtual time."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelReport,
    CancelStatus,
    CancelTarget,
    Credentials,
    OrderKind,
)
from bitget_cancel._exceptions import RequestTimeout
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from . import uta_exchange as uta
from .uta_exchange import UtaExchange, envelope

CREDS = Credentials(api_key="unit-key", secret_key="unit-secret", passphrase="unit-pass")
MAX_ATTEMPTS = 3
GUARDS = len(uta.FUTURES_CATEGORIES)  # one listing of each futures category

Answer = Callable[[HttpRequest], HttpResponse]


class Watched:
    """The UTA exchange, counting the strategy listings by category and keeping the checks'
    bodies; ``futures`` answers the futures listings in its place when set."""

    def __init__(self, exchange: UtaExchange, futures: Answer | None = None) -> None:
        self.exchange = exchange
        self.futures = futures
        self.listed: list[str] = []  # the category of each strategy listing
        self.checks: list[dict[str, Any]] = []

    async def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path == uta.V3_STRATEGY:
            category = dict(parse_qsl(request.query))["category"]
            self.listed.append(category)
            if category != "SPOT" and self.futures is not None:
                self.exchange.requests[request.path] += 1
                return self.futures(request)
        if request.path == uta.V3_STRATEGY_CANCEL:
            self.checks.append(json.loads(request.body))
        return await self.exchange.handle(request)

    @property
    def futures_listings(self) -> list[str]:
        return [c for c in self.listed if c != "SPOT"]


async def cancel(
    watched: Watched, targets: list[CancelTarget], **kwargs: Any
) -> tuple[list[Any], CancelReport]:
    engine = CancelEngine(
        CREDS,
        transport=MockTransport(watched.handle),
        account="uta",
        max_attempts=MAX_ATTEMPTS,
        rng=random.Random(5),
    )
    async with engine:
        report = await engine.cancel(targets, **kwargs)
    return report.outcomes, report


async def test_d7_a_futures_tpsl_order_sharing_the_clientoid_is_not_asked_nor_cancelled() -> None:
    """The defect: the spot target by clientOid X does not exist; its check asked
    cancel-strategy-order for clientOid X, which cancelled the futures TP/SL order of that
    clientOid, and the target was reported "cancelled, found as plan"."""
    exchange = UtaExchange()
    futures = exchange.place("BTCUSDT", "hedge-1", kind="futures_tpsl")
    watched = Watched(exchange)
    (outcome,), report = await cancel(
        watched, [CancelTarget(symbol="BTCUSDT", client_oid="hedge-1")]
    )
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    assert outcome.found_as is None
    message = outcome.error_msg or ""
    assert "clientOid 'hedge-1' names a futures TP/SL order on USDT-FUTURES" in message
    assert "not asked of v3-cancel-strategy-order, so as not to cancel it" in message
    assert futures.order_id in exchange.orders  # still open
    assert exchange.cancelled[futures.order_id] == 0
    assert watched.checks == []
    assert sorted(watched.futures_listings) == sorted(uta.FUTURES_CATEGORIES)
    assert not report.all_closed
    assert report.problems
    # the cancel, the two spot listings, the three futures ones: all in the call's count
    assert report.requests == 1 + 2 + GUARDS


async def test_a_futures_orderid_filed_as_a_spot_order_is_not_asked() -> None:
    exchange = UtaExchange()
    futures = exchange.place("BTCUSDT", kind="futures_tpsl")
    watched = Watched(exchange)
    target = CancelTarget(symbol="BTCUSDT", order_id=futures.order_id)
    (outcome,), report = await cancel(watched, [target])
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    assert f"orderId '{futures.order_id}' names a futures TP/SL order on USDT-FUTURES" in (
        outcome.error_msg or ""
    )
    assert futures.order_id in exchange.orders
    assert watched.checks == []
    assert not report.all_closed


async def test_a_stale_orderid_is_checked_and_then_its_futures_clientoid_is_not() -> None:
    """Both ids: the orderId (no futures order's) is asked, the clientOid (a futures order's)
    is not; the order stays unresolved, the futures order open."""
    exchange = UtaExchange()
    futures = exchange.place("BTCUSDT", "hedge-2", kind="futures_tpsl")
    watched = Watched(exchange)
    target = CancelTarget(symbol="BTCUSDT", order_id="91", client_oid="hedge-2")
    (outcome,), _ = await cancel(watched, [target])
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    assert "clientOid 'hedge-2' names a futures TP/SL order" in (outcome.error_msg or "")
    assert watched.checks == [{"orderId": "91"}]
    assert futures.order_id in exchange.orders


def refused(request: HttpRequest) -> HttpResponse:
    return HttpResponse(400, envelope(None, "40034", "Parameter category does not exist"))


def cut(request: HttpRequest) -> HttpResponse:
    body = envelope([])
    return HttpResponse(200, body[: len(body) // 2])


def no_answer(request: HttpRequest) -> HttpResponse:
    raise RequestTimeout("no answer within 5s")


def nameless_row(request: HttpRequest) -> HttpResponse:
    row = {"clientOid": "x-1", "category": "USDT-FUTURES", "symbol": "BTCUSDT"}
    return HttpResponse(200, envelope([row]))


# A futures listing that cannot be read, and the words its problem says it with.
UNREADABLE = pytest.mark.parametrize(
    ("answer", "words"),
    [
        (refused, "listing refused, code 40034"),
        (cut, "unusable JSON body"),
        (no_answer, "no answer"),
        (nameless_row, "1 listed without an orderId"),
    ],
    ids=["refused", "garbled", "timeout", "row-without-orderId"],
)


@UNREADABLE
async def test_a_futures_listing_that_cannot_be_read_lets_no_check_go(
    answer: Answer, words: str
) -> None:
    """Never guess: a plan order the check would have found stays open and unresolved, saying
    why, rather than a check that might cancel a futures order."""
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", kind="plan")
    watched = Watched(exchange, futures=answer)
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id=plan.order_id),
        CancelTarget(symbol="BTCUSDT", client_oid="gone-7"),
    ]
    outcomes, report = await cancel(watched, targets)
    assert [o.status for o in outcomes] == [CancelStatus.UNRESOLVED] * 2, outcomes
    for outcome in outcomes:
        message = outcome.error_msg or ""
        assert "plan orders not checked by v3-cancel-strategy-order" in message, message
        assert "could not be listed" in message
        assert words in message, message
    assert watched.checks == []
    assert plan.order_id in exchange.orders
    assert not report.all_closed
    assert (
        report.requests
        == sum(exchange.requests.values()) - exchange.requests["/api/v2/public/time"]
    )


async def test_a_deadline_during_the_futures_listing_lets_no_check_go() -> None:
    exchange = UtaExchange()
    exchange.latency = 0.5

    def slow(request: HttpRequest) -> HttpResponse:
        raise RequestTimeout("no answer within 5s")

    watched = Watched(exchange, futures=slow)
    targets = [CancelTarget(symbol="BTCUSDT", order_id=str(960 + i)) for i in range(3)]
    outcomes, report = await cancel(watched, targets, deadline=2.0)
    assert [o.target for o in outcomes] == targets
    assert {o.status for o in outcomes} == {CancelStatus.UNRESOLVED}
    assert watched.checks == []
    assert not report.all_closed


async def test_concurrent_confirmations_share_one_read_of_the_futures_listings() -> None:
    """Six calls on one engine, each confirming a gone order by a check: one read of the
    futures listings serves them all (each call counts it), as their spot listings are."""
    exchange = UtaExchange()
    watched = Watched(exchange)
    engine = CancelEngine(CREDS, transport=MockTransport(watched.handle), account="uta")
    async with engine:
        reports = await asyncio.gather(
            *(
                engine.cancel([CancelTarget(symbol="BTCUSDT", client_oid=f"gone-{i}")])
                for i in range(6)
            )
        )
    assert all(r.all_closed for r in reports)
    assert all(o.status is CancelStatus.NOT_OPEN for r in reports for o in r.outcomes)
    assert sorted(watched.futures_listings) == sorted(uta.FUTURES_CATEGORIES)
    assert len(watched.checks) == 6
    assert all(r.requests >= 1 + GUARDS for r in reports)


async def test_no_check_due_no_futures_listing() -> None:
    """Cost: every order cancelled; or the only "does not exist" settled by a listing (open
    under another symbol); or a TP/SL target whose own 25204 came from the check's endpoint.
    None of these sends a check, so none lists the futures orders for a check (the TP/SL
    target's own cancel lists them, once: D7b)."""
    exchange = UtaExchange()
    normal = exchange.place_many("BTCUSDT", 3)
    moved = exchange.place("ETHUSDT", "moved-1")
    targets = [CancelTarget(symbol="BTCUSDT", order_id=o.order_id) for o in normal]
    targets.append(CancelTarget(symbol="BTCUSDT", order_id=moved.order_id))  # wrong symbol
    targets.append(CancelTarget(symbol="BTCUSDT", order_id="97", kind=OrderKind.TPSL))
    watched = Watched(exchange)
    outcomes, report = await cancel(watched, targets)
    statuses = [o.status for o in outcomes]
    assert statuses == [CancelStatus.CANCELLED] * 4 + [CancelStatus.NOT_OPEN], outcomes
    # read before the TP/SL target's own cancel (D7b), not again for a check
    assert sorted(watched.futures_listings) == sorted(uta.FUTURES_CATEGORIES)
    assert watched.checks == [{"orderId": "97"}]  # the TP/SL target's own cancel
    assert report.all_closed

    # and a call whose every answer is a success lists nothing at all
    exchange2 = UtaExchange()
    fine = exchange2.place_many("BTCUSDT", 4)
    watched2 = Watched(exchange2)
    _, report2 = await cancel(
        watched2, [CancelTarget(symbol="BTCUSDT", order_id=o.order_id) for o in fine]
    )
    assert watched2.listed == []
    assert report2.requests == 1


async def test_an_empty_futures_listing_lets_the_checks_go_as_before_once_for_the_call() -> None:
    """Futures orders of other ids do not stop a check; the three futures listings serve
    every order checked in the call."""
    exchange = UtaExchange()
    plans = exchange.place_many("BTCUSDT", 2, "stop", kind="plan")
    other = exchange.place("BTCUSDT", "hedge-3", kind="futures_tpsl")
    targets = [CancelTarget(symbol="BTCUSDT", order_id=plans[0].order_id)]
    targets.append(CancelTarget(symbol="BTCUSDT", client_oid=plans[1].client_oid))
    targets += [CancelTarget(symbol="BTCUSDT", order_id=str(980 + i)) for i in range(4)]
    watched = Watched(exchange)
    outcomes, report = await cancel(watched, targets)
    statuses = [o.status for o in outcomes]
    assert statuses == [CancelStatus.CANCELLED] * 2 + [CancelStatus.NOT_OPEN] * 4, outcomes
    assert [o.found_as and o.found_as.kind.value for o in outcomes[:2]] == ["plan", "plan"]
    assert len(watched.checks) == 6
    assert sorted(watched.futures_listings) == sorted(uta.FUTURES_CATEGORIES)  # once for the call
    assert other.order_id in exchange.orders
    assert report.all_closed
    batches = exchange.requests[uta.V3_BATCH]
    assert report.requests == batches + 2 + GUARDS + 6
    assert exchange.requests[uta.V3_UNFILLED] == 1
