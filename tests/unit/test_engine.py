"""The engine loop on virtual time against the in-process fake exchange."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelStatus,
    CancelTarget,
    Credentials,
    EngineClosed,
    InvalidMode,
    InvalidTarget,
    OrderKind,
)
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from .exchange_book import envelope
from .fake_exchange import (
    DROP_BEFORE,
    GARBAGE_AFTER,
    HANG,
    HTML_502,
    OK,
    THROTTLE,
    TIMEOUT_AFTER,
    FakeExchange,
)

CREDS = Credentials(api_key="unit-key", secret_key="unit-secret", passphrase="unit-pass")


def book(exchange: FakeExchange, symbols: int, per_symbol: int) -> list[CancelTarget]:
    targets = []
    for s in range(symbols):
        for k in range(per_symbol):
            symbol, order_id = f"S{s}USDT", f"{s}{k:05d}"
            exchange.place(symbol, order_id)
            targets.append(CancelTarget(symbol=symbol, order_id=order_id))
    return targets


def engine_for(exchange: FakeExchange, **kwargs: Any) -> CancelEngine:
    kwargs.setdefault("rng", random.Random(7))
    return CancelEngine(
        CREDS, transport=exchange.transport(), wall_clock=exchange.wall_clock, **kwargs
    )


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    return max((sum(1 for b in times if a <= b < a + window) for a in times), default=0)


async def test_cancels_everything_in_the_fewest_requests() -> None:
    exchange = FakeExchange()
    targets = book(exchange, symbols=7, per_symbol=130)
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets)
    assert not exchange.open_orders
    assert report.all_closed
    assert [o.target for o in report.outcomes] == targets
    assert {o.status for o in report.outcomes} == {CancelStatus.CANCELLED}
    assert report.requests == len(exchange.bodies) == 19  # ceil(910 / 50)
    assert all(o.attempts == 1 for o in report.outcomes)


async def test_the_first_burst_is_in_flight_at_once() -> None:
    exchange = FakeExchange(latency=0.020)
    targets = book(exchange, symbols=10, per_symbol=50)
    loop = asyncio.get_running_loop()
    async with engine_for(exchange) as engine:
        start = loop.time()
        report = await engine.cancel(targets)
    assert exchange.max_in_flight == 10
    assert report.elapsed == pytest.approx(0.020)
    assert loop.time() - start == pytest.approx(0.020)


async def test_never_more_than_ten_arrivals_in_any_second_despite_jitter() -> None:
    rng = random.Random(3)
    exchange = FakeExchange(jitter=lambda: rng.uniform(0.002, 0.030))
    targets = book(exchange, symbols=30, per_symbol=100)  # 60 requests
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets)
    assert report.all_closed
    assert len(exchange.arrivals) == 60
    assert max_in_window(exchange.arrivals) == 10
    # ...and the budget is not wasted: 5 full windows after the first burst, plus round trips.
    assert report.elapsed < 5.0 + 6 * 0.035


async def test_identical_targets_are_cancelled_once_and_reported_once() -> None:
    exchange = FakeExchange()
    exchange.place("BTCUSDT", "1", "c1")
    a = CancelTarget(symbol="BTCUSDT", order_id="1")
    both = CancelTarget(symbol="BTCUSDT", order_id="1", client_oid="c1")
    async with engine_for(exchange) as engine:
        report = await engine.cancel([a, both, a, a])
    assert [o.target for o in report.outcomes] == [a, both]
    assert [o.status for o in report.outcomes] == [CancelStatus.CANCELLED] * 2
    assert exchange.bodies == [
        {"symbol": "BTCUSDT", "batchMode": "single", "orderList": [{"orderId": "1"}]}
    ]


async def test_client_oid_targets_go_in_their_own_request() -> None:
    exchange = FakeExchange()
    exchange.place("BTCUSDT", "1")
    exchange.place("BTCUSDT", "2", "mine-2")
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id="1"),
        CancelTarget(symbol="BTCUSDT", client_oid="mine-2"),
    ]
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets)
    assert report.all_closed
    assert len(report.cancelled) == 2
    lists = sorted(json.dumps(b["orderList"]) for b in exchange.bodies)
    assert lists == ['[{"clientOid": "mine-2"}]', '[{"orderId": "1"}]']


async def test_multiple_mode_puts_the_symbol_on_each_order() -> None:
    exchange = FakeExchange()
    targets = book(exchange, symbols=3, per_symbol=2)
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets, mode="multiple")
    assert report.all_closed
    (body,) = exchange.bodies
    assert body["batchMode"] == "multiple"
    assert "symbol" not in body
    assert [o["symbol"] for o in body["orderList"]] == ["S0USDT"] * 2 + ["S1USDT"] * 2 + [
        "S2USDT"
    ] * 2


async def test_orders_that_are_not_open_are_reported_not_open() -> None:
    exchange = FakeExchange()
    exchange.place("BTCUSDT", "1")
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id="1"),
        CancelTarget(symbol="BTCUSDT", order_id="gone"),
    ]
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets)
    assert [o.status for o in report.outcomes] == [CancelStatus.CANCELLED, CancelStatus.NOT_OPEN]
    assert report.outcomes[1].error_code == "43001"
    assert report.all_closed


@pytest.mark.parametrize("fault", [HTML_502, DROP_BEFORE, GARBAGE_AFTER, TIMEOUT_AFTER, THROTTLE])
async def test_a_failed_request_is_retried_and_nothing_is_lost(fault: str) -> None:
    exchange = FakeExchange(script=lambda n, body: fault if n == 0 else OK)
    targets = book(exchange, symbols=2, per_symbol=10)
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets)
    assert not exchange.open_orders
    assert report.all_closed
    assert len(report.outcomes) == 20
    assert all(o.attempts == 2 for o in report.outcomes)
    performed_before = fault in (GARBAGE_AFTER, TIMEOUT_AFTER)
    expected = CancelStatus.NOT_OPEN if performed_before else CancelStatus.CANCELLED
    assert {o.status for o in report.outcomes} == {expected}
    assert report.throttled == (1 if fault == THROTTLE else 0)


async def test_only_orders_that_still_need_it_are_replanned_together() -> None:
    # One order in each of three first requests fails transiently; the retry carries all three.
    exchange = FakeExchange(order_transient=lambda order_id: order_id.endswith("00007"))
    targets = book(exchange, symbols=3, per_symbol=50)
    flaky = {"000007", "100007", "200007"}
    seen = {"count": 0}

    def once(order_id: str) -> bool:
        if order_id in flaky and seen["count"] < 3:
            seen["count"] += 1
            return True
        return False

    exchange.order_transient = once
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets)
    assert report.all_closed
    assert len(report.cancelled) == 150
    assert len(exchange.bodies) == 4
    retry = exchange.bodies[3]
    assert retry["batchMode"] == "multiple"
    assert sorted(o["orderId"] for o in retry["orderList"]) == sorted(flaky)
    attempts = {o.target.order_id: o.attempts for o in report.outcomes}
    assert all(attempts[k] == (2 if k in flaky else 1) for k in attempts)


@pytest.mark.parametrize("code", ["40009", "40006", "40011", "40014"])
async def test_auth_errors_fail_at_once_without_retries(code: str) -> None:
    exchange = FakeExchange(script=lambda n, body: f"code:{code}")
    targets = book(exchange, symbols=3, per_symbol=60)
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets)
    assert len(exchange.bodies) == 4  # ceil(180 / 50), none repeated
    assert {o.status for o in report.outcomes} == {CancelStatus.FAILED}
    assert {o.error_code for o in report.outcomes} == {code}
    assert not report.all_closed


async def test_attempts_run_out_into_unresolved_with_the_last_error() -> None:
    exchange = FakeExchange(script=lambda n, body: HTML_502)
    targets = book(exchange, symbols=1, per_symbol=3)
    async with engine_for(exchange, max_attempts=3) as engine:
        report = await engine.cancel(targets)
    assert len(exchange.bodies) == 3
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    (outcome, *_) = report.outcomes
    assert outcome.attempts == 3
    assert outcome.error_msg is not None
    assert "gave up after 3 attempts" in outcome.error_msg
    assert "HTTP 502" in outcome.error_msg


async def test_retries_back_off_exponentially() -> None:
    loop = asyncio.get_running_loop()
    exchange = FakeExchange(latency=0.0, script=lambda n, body: HTML_502)
    targets = book(exchange, symbols=1, per_symbol=1)
    async with engine_for(exchange, max_attempts=5, backoff_base=0.1) as engine:
        start = loop.time()
        await engine.cancel(targets)
    gaps = [b - a for a, b in zip(exchange.arrivals, exchange.arrivals[1:], strict=False)]
    assert exchange.arrivals[0] == pytest.approx(start)
    for n, gap in enumerate(gaps):
        ceiling = 0.1 * 2**n
        assert ceiling / 2 <= gap <= ceiling + 1e-9


async def test_the_deadline_cuts_the_call_and_leaves_no_target_out() -> None:
    loop = asyncio.get_running_loop()
    exchange = FakeExchange(script=lambda n, body: HANG)
    targets = book(exchange, symbols=30, per_symbol=50)  # 30 requests: 10 in flight, 20 queued
    async with engine_for(exchange, request_timeout=5.0) as engine:
        start = loop.time()
        report = await engine.cancel(targets, deadline=2.0)
        took = loop.time() - start
    assert took == pytest.approx(2.0, abs=0.01)
    assert len(report.outcomes) == 1500
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    in_flight = [o for o in report.outcomes if "waiting for the answer" in (o.error_msg or "")]
    never_sent = [o for o in report.outcomes if "before it could be sent" in (o.error_msg or "")]
    assert len(in_flight) == 500
    assert len(never_sent) == 1000
    assert all("deadline of 2s passed" in (o.error_msg or "") for o in report.outcomes)


async def test_a_429_slows_the_engine_down_instead_of_repeating_it() -> None:
    exchange = FakeExchange(script=lambda n, body: THROTTLE if n == 0 else OK)
    targets = book(exchange, symbols=1, per_symbol=50 * 12)
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets)
    assert report.all_closed
    assert report.throttled == 1
    first_429_answered = exchange.arrivals[0] + 0.005
    later = [a for a in exchange.arrivals if a > exchange.arrivals[9] + 0.001]
    # Nothing new is sent during the 1 s pause after the 429.
    assert min(later) >= first_429_answered + 1.0


async def test_a_stale_clock_is_corrected_from_server_time() -> None:
    exchange = FakeExchange(server_time_offset=45.0)
    targets = book(exchange, symbols=1, per_symbol=5)
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets)
        assert engine.clock_offset == pytest.approx(45.0, abs=0.05)
    assert report.all_closed
    assert len(report.cancelled) == 5
    assert exchange.time_requests == 1


async def test_cancel_of_nothing_sends_nothing() -> None:
    exchange = FakeExchange()
    async with engine_for(exchange) as engine:
        report = await engine.cancel([])
    assert report.outcomes == []
    assert report.requests == 0
    assert report.all_closed
    assert exchange.bodies == []


async def test_bad_arguments_raise_before_any_request() -> None:
    exchange = FakeExchange()
    targets = book(exchange, symbols=1, per_symbol=1)
    async with engine_for(exchange) as engine:
        with pytest.raises(InvalidMode):
            await engine.cancel(targets, mode="fast")  # type: ignore[arg-type]
        with pytest.raises(InvalidTarget):
            await engine.cancel([*targets, {"symbol": "BTCUSDT"}])  # type: ignore[list-item]
    assert exchange.bodies == []


async def test_a_closed_engine_refuses_work() -> None:
    engine = engine_for(FakeExchange())
    await engine.close()
    with pytest.raises(EngineClosed):
        await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id="1")])


def answer_with(items: dict[str, Any]) -> MockTransport:
    async def handler(request: HttpRequest) -> HttpResponse:
        await asyncio.sleep(0.01)
        return HttpResponse(200, envelope(items))

    return MockTransport(handler)


async def test_answer_items_are_matched_by_order_id_then_client_oid() -> None:
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id="1", client_oid="a"),
        CancelTarget(symbol="BTCUSDT", order_id="2", client_oid="b"),
        CancelTarget(symbol="BTCUSDT", order_id="3"),
        CancelTarget(symbol="BTCUSDT", order_id="4"),
    ]
    items = {
        "successList": [
            {"orderId": None, "clientOid": "b"},  # null orderId: matched by clientOid
            {"orderId": 1, "clientOid": ""},  # a number for an id
            {"orderId": "999", "clientOid": "zzz"},  # matches nothing: ignored
        ],
        "failureList": [
            {"orderId": "3", "errorMsg": "The order does not exist"},  # no errorCode
            {"orderId": "4", "errorCode": "40402", "errorMsg": "orderId format error"},
            {"orderId": "1", "errorCode": "43001", "errorMsg": "duplicate item, ignored"},
        ],
    }
    engine = CancelEngine(CREDS, transport=answer_with(items))
    report = await engine.cancel(targets, confirm=False)  # this answer is all there is
    statuses = [(o.status, o.error_code) for o in report.outcomes]
    assert statuses == [
        (CancelStatus.CANCELLED, None),
        (CancelStatus.CANCELLED, None),
        (CancelStatus.NOT_OPEN, None),
        (CancelStatus.FAILED, "40402"),
    ]
    assert report.requests == 1


async def test_an_order_the_answer_does_not_mention_is_asked_again() -> None:
    engine = CancelEngine(CREDS, transport=answer_with({"successList": [], "failureList": []}),
                          max_attempts=2)  # fmt: skip
    report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id="1")])
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.UNRESOLVED
    assert outcome.attempts == 2
    assert "did not mention" in (outcome.error_msg or "")


async def test_a_tpsl_target_without_order_id_fails_on_v2_without_a_request() -> None:
    """Bug found: a TP/SL target named by clientOid alone was sent to cancel-order, which takes
    the orderId only (the exchange refuses 40017). Now it fails at once, saying why."""
    sent: list[HttpRequest] = []

    async def handler(request: HttpRequest) -> HttpResponse:
        sent.append(request)
        return HttpResponse(500, b"")

    engine = CancelEngine(CREDS, transport=MockTransport(handler), account="classic")
    target = CancelTarget(symbol="BTCUSDT", client_oid="tp-1", kind=OrderKind.TPSL)
    async with engine:
        report = await engine.cancel([target])
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.FAILED
    assert "orderId only" in (outcome.error_msg or "")
    assert sent == []
