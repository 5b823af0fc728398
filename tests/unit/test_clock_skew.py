"""A local clock far from the exchange's: 40008 -> server time read -> offset fixed -> success,
without the caller noticing beyond a debug line (virtual time)."""

from __future__ import annotations

import logging
import random

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from .scripted_exchange import ScriptedExchange

CREDS = Credentials(api_key="skew-key", secret_key="skew-secret", passphrase="skew-pass")


def book(exchange: ScriptedExchange, n: int) -> list[CancelTarget]:
    targets = []
    for i in range(n):
        symbol = ("BTCUSDT", "ETHUSDT")[i % 2]
        exchange.place(symbol, str(5_000 + i))
        targets.append(CancelTarget(symbol=symbol, order_id=str(5_000 + i)))
    return targets


@pytest.mark.parametrize("local_minus_exchange", [45.0, -45.0, 31.0, -3600.0])
async def test_a_skewed_clock_is_corrected_silently(
    local_minus_exchange: float, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    exchange = ScriptedExchange(server_time_offset=-local_minus_exchange)
    targets = book(exchange, 20 * 50)  # 20 requests: the first 10 all meet the skew at once
    engine = CancelEngine(
        CREDS, transport=exchange.transport(), wall_clock=exchange.wall_clock, rng=random.Random(2)
    )
    async with engine:
        report = await engine.cancel(targets)
        assert engine.clock_offset == pytest.approx(-local_minus_exchange, abs=0.05)
    assert report.all_closed
    assert {o.status for o in report.outcomes} == {CancelStatus.CANCELLED}
    assert not exchange.open_orders
    assert exchange.time_requests == 1  # one read of the clock for the whole burst
    assert len(exchange.bodies) == 30  # the 10 refused requests are sent once more, no more
    assert max(o.attempts for o in report.outcomes) == 2
    # The caller notices nothing beyond debug lines, one of which names the new offset.
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
    assert any("clock offset" in r.getMessage() for r in caplog.records)


async def test_a_small_skew_needs_no_correction() -> None:
    exchange = ScriptedExchange(server_time_offset=-20.0)  # within the exchange's 30 s
    targets = book(exchange, 10)
    engine = CancelEngine(CREDS, transport=exchange.transport(), wall_clock=exchange.wall_clock)
    async with engine:
        report = await engine.cancel(targets)
    assert report.all_closed
    assert exchange.time_requests == 0


async def test_when_the_clock_cannot_be_read_the_orders_say_so() -> None:
    exchange = ScriptedExchange(server_time_offset=-45.0)
    targets = book(exchange, 3)

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path.endswith("/public/time"):
            exchange.time_requests += 1
            return HttpResponse(503, b"<html>503 Service Unavailable</html>")
        return await exchange.handle(request)

    engine = CancelEngine(
        CREDS, transport=MockTransport(handle), wall_clock=exchange.wall_clock, max_attempts=3
    )
    async with engine:
        report = await engine.cancel(targets)
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    assert {o.error_code for o in report.outcomes} == {"40008"}
    assert all("timestamp" in (o.error_msg or "") for o in report.outcomes)
    assert exchange.time_requests == 3  # one read per refused attempt, not a storm
