"""Attacks from the third breaker of issues 19, 23 and 24, on virtual time."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from .exchange_book import envelope
from .fake_exchange import FakeExchange
from .uta_exchange import V3_BATCH, V3_STRATEGY_CANCEL, UtaExchange

CREDS = Credentials(api_key="unit-key", secret_key="unit-secret", passphrase="unit-pass")
BATCH = "/api/v2/spot/trade/batch-cancel-order"


def classic_engine(exchange: FakeExchange, transport: MockTransport) -> CancelEngine:
    return CancelEngine(
        CREDS,
        transport=transport,
        account="classic",
        rng=random.Random(1),
        wall_clock=exchange.wall_clock,
    )


async def test_an_order_in_both_the_success_and_the_failure_list_is_asked_again() -> None:
    """The first answer names order 101 in successList and in failureList (40015) and cancels
    nothing: it was reported cancelled (all_closed) while it stayed open."""
    exchange = FakeExchange()
    exchange.place("BTCUSDT", "101", "a")
    batches: list[HttpRequest] = []

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == BATCH:
            batches.append(request)
            if len(batches) == 1:
                body = json.loads(request.body)
                assert [o["orderId"] for o in body["orderList"]] == ["101"]
                failed = {"orderId": "101", "clientOid": "a", "errorCode": "40015",
                          "errorMsg": "System is abnormal"}  # fmt: skip
                data = {"successList": [{"orderId": "101", "clientOid": "a"}],
                        "failureList": [failed]}  # fmt: skip
                return HttpResponse(200, envelope(data))
        return await exchange.handle(request)

    target = CancelTarget(symbol="BTCUSDT", order_id="101", client_oid="a")
    async with classic_engine(exchange, MockTransport(handle)) as engine:
        report = await engine.cancel([target])
    (outcome,) = report.outcomes
    assert len(batches) == 2  # asked again, and the exchange cancelled it then
    assert not exchange.open_orders
    assert outcome.status is CancelStatus.CANCELLED, outcome
    assert report.all_closed


async def test_targets_disagreeing_on_a_stale_orderids_clientoid_are_never_confirmed() -> None:
    """Two targets name orderId 105 (filled) with clientOids "gone" and "y"; "y" is open as
    order 108. Neither clientOid is asked (it would answer for an order the other target never
    named), and both were "confirmed: open nowhere on the account" (not_open, all_closed)."""
    exchange = FakeExchange()
    exchange.place("BTCUSDT", "108", "y")
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id="105", client_oid="gone"),
        CancelTarget(symbol="BTCUSDT", order_id="105", client_oid="y"),
    ]
    async with classic_engine(exchange, exchange.transport()) as engine:
        report = await engine.cancel(targets)
    assert [o.status for o in report.outcomes] == [CancelStatus.UNRESOLVED] * 2
    for outcome in report.outcomes:
        assert "clientOid 'y' is open on BTCUSDT as orderId 108" in (outcome.error_msg or "")
    assert ("BTCUSDT", "108") in exchange.open_orders
    assert not report.all_closed
    assert [[o["orderId"] for o in b["orderList"]] for b in exchange.bodies] == [["105"]]


async def test_on_a_uta_disagreeing_clientoids_no_check_asked_are_never_confirmed() -> None:
    """The same on a unified account, where plan orders cannot be listed: the check asked
    cancel-strategy-order by orderId only, heard 25204, and confirmed both targets while the
    plan order of clientOid "stop-y" stayed armed."""
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", "stop-y", kind="plan")
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id="77", client_oid="gone"),
        CancelTarget(symbol="BTCUSDT", order_id="77", client_oid="stop-y"),
    ]
    async with CancelEngine(
        CREDS, transport=exchange.transport(), account="uta", rng=random.Random(1)
    ) as engine:
        report = await engine.cancel(targets)
    assert [o.status for o in report.outcomes] == [CancelStatus.UNRESOLVED] * 2
    message = report.outcomes[0].error_msg or ""
    assert "clientOids 'gone', 'stop-y' not checked as plan orders" in message, message
    assert plan.order_id in exchange.orders
    assert exchange.requests[V3_STRATEGY_CANCEL] == 1  # by orderId 77 only
    assert not report.all_closed


@pytest.mark.parametrize(
    "data", [{}, {"orderId": None, "clientOid": None}, {"orderId": "", "clientOid": ""}]
)
async def test_a_strategy_cancel_success_whose_data_names_no_order_cancels_nothing(
    data: dict[str, Any],
) -> None:
    """Only ``data: null`` is cancel-strategy-order's nameless success. Data it sent that names
    no order (``{}``, null or empty ids) was read as that same null: the plan order, named as
    a normal one and checked by its id, was reported cancelled (all_closed) and stayed armed."""
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", "stop-1", kind="plan")
    checks = 0

    async def handle(request: HttpRequest) -> HttpResponse:
        nonlocal checks
        if request.path == V3_STRATEGY_CANCEL:
            checks += 1
            return HttpResponse(200, envelope(data))  # nothing cancelled
        return await exchange.handle(request)

    async with CancelEngine(
        CREDS, transport=MockTransport(handle), account="uta", max_attempts=3, rng=random.Random(1)
    ) as engine:
        report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id=plan.order_id)])
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    assert "could not be confirmed" in (outcome.error_msg or "")
    assert checks == 3  # asked again within the attempts, as a garbled answer is
    assert plan.order_id in exchange.orders
    assert not report.all_closed


@pytest.mark.parametrize(
    "item",
    [
        {"orderId": "101", "errorCode": {"code": "43001"}},
        {"orderId": "101", "errorCode": ["40015"]},
        {"orderId": "101", "errorMsg": {"m": "failed"}},
    ],
)
async def test_a_success_item_with_a_garbled_code_is_asked_again_on_v2(
    item: dict[str, Any],
) -> None:
    """successList naming the order with an errorCode (or errorMsg) that is an object or a
    list, nothing cancelled: read as a success (cancelled, all_closed) while it stayed open."""
    exchange = FakeExchange()
    exchange.place("BTCUSDT", "101", "a")
    answers = [HttpResponse(200, envelope({"successList": [item], "failureList": []}))]

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == BATCH and answers:
            return answers.pop()
        return await exchange.handle(request)

    async with classic_engine(exchange, MockTransport(handle)) as engine:
        report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id="101")])
    assert report.outcomes[0].status is CancelStatus.CANCELLED
    assert not exchange.open_orders  # asked again: cancelled for real
    assert len(exchange.bodies) == 1


@pytest.mark.parametrize("fields", [{"code": {"c": "25204"}}, {"msg": ["failed"]}, {"code": False}])
async def test_a_v3_item_with_a_garbled_code_is_asked_again(fields: dict[str, Any]) -> None:
    exchange = UtaExchange()
    order = exchange.place("BTCUSDT", "a")
    answers = [HttpResponse(200, envelope([{"orderId": order.order_id, **fields}]))]

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == V3_BATCH and answers:
            return answers.pop()
        return await exchange.handle(request)

    async with CancelEngine(
        CREDS, transport=MockTransport(handle), account="uta", rng=random.Random(1)
    ) as engine:
        report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id=order.order_id)])
    assert report.outcomes[0].status is CancelStatus.CANCELLED
    assert not exchange.orders  # asked again: cancelled for real
    assert len(exchange.bodies) == 1


async def test_a_stale_orderid_whose_clientoid_another_target_asks_is_checked_by_it() -> None:
    """Two plan targets on a UTA: one by a stale orderId with clientOid "c", one by "c" alone.
    The first is not asked again by "c" (the second asks it), and the second is throttled to
    unresolved; the check then skipped cancel-strategy-order for the first as "already asked"
    though it had asked by orderId only: "confirmed: open nowhere on the account" while the
    plan order "c" stayed armed."""
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", "c", kind="plan")
    by_client_oid: list[HttpRequest] = []

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == V3_STRATEGY_CANCEL and json.loads(request.body) == {"clientOid": "c"}:
            by_client_oid.append(request)
            return HttpResponse(429, envelope(None, "429", "Too Many Requests"))
        return await exchange.handle(request)

    targets = [
        CancelTarget(symbol="BTCUSDT", order_id="55", client_oid="c", kind="plan"),
        CancelTarget(symbol="BTCUSDT", client_oid="c", kind="plan"),
    ]
    async with CancelEngine(
        CREDS, transport=MockTransport(handle), account="uta", max_attempts=3, rng=random.Random(1)
    ) as engine:
        report = await engine.cancel(targets)
    assert [o.status for o in report.outcomes] == [CancelStatus.UNRESOLVED] * 2
    assert "checking plan orders" in (report.outcomes[0].error_msg or "")
    assert len(by_client_oid) == 6  # the second target's 3 attempts, and the check's 3
    assert plan.order_id in exchange.orders
