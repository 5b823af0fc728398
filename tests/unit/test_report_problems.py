"""``report.problems`` names what keeps a report from an all-clear: unresolved and failed
outcomes and a passed deadline, so the README's ``raise RuntimeError(f"some orders may still
be open: {report.problems}")`` says why (issue 19, item 11)."""

from __future__ import annotations

import random

from bitget_cancel import CancelEngine, CancelTarget, Credentials

from .fake_exchange import HANG, HTML_502, FakeExchange

CREDS = Credentials(api_key="unit-key", secret_key="unit-secret", passphrase="unit-pass")


def engine_for(exchange: FakeExchange, **kwargs: object) -> CancelEngine:
    return CancelEngine(
        CREDS,
        transport=exchange.transport(),
        wall_clock=exchange.wall_clock,
        rng=random.Random(5),
        **kwargs,  # type: ignore[arg-type]
    )


def targets(exchange: FakeExchange, n: int) -> list[CancelTarget]:
    out = []
    for i in range(n):
        exchange.place("BTCUSDT", str(100 + i))
        out.append(CancelTarget(symbol="BTCUSDT", order_id=str(100 + i)))
    return out


async def test_a_passed_deadline_and_its_unresolved_orders_are_problems() -> None:
    exchange = FakeExchange(script=lambda n, body: HANG)
    async with engine_for(exchange, request_timeout=30.0) as engine:
        report = await engine.cancel(targets(exchange, 3), deadline=2)
    assert len(report.unresolved) == 3
    assert report.problems == (
        "deadline of 2s passed before every order had its answer",
        "3 orders unresolved (may still be open)",
    )
    assert not report.all_closed


async def test_orders_that_ran_out_of_attempts_are_a_problem_without_a_deadline() -> None:
    exchange = FakeExchange(script=lambda n, body: HTML_502)
    async with engine_for(exchange, max_attempts=2) as engine:
        report = await engine.cancel(targets(exchange, 1))
    assert report.problems == ("1 order unresolved (may still be open)",)


async def test_failed_orders_are_a_problem() -> None:
    exchange = FakeExchange(script=lambda n, body: "code:40014")
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets(exchange, 2))
    assert len(report.failed) == 2
    assert "2 orders failed (not cancelled; see their outcomes)" in report.problems


async def test_an_all_clear_has_no_problems() -> None:
    exchange = FakeExchange()
    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets(exchange, 4), deadline=5)
    assert report.all_closed
    assert report.problems == ()
