"""Deadline and overload on virtual time: a server that stops answering, a 429 storm."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from bitget_cancel import CancelEngine, CancelReport, CancelStatus, CancelTarget, Credentials
from bitget_cancel._limit import RateBudget
from bitget_cancel._policy import MIN_REQUEST_TIMEOUT
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport
from bitget_cancel._wire import BATCH_CANCEL

from .scripted_exchange import HANG_AFTER, OK, THROTTLE, ScriptedExchange, Step

CREDS = Credentials(api_key="deadline-key", secret_key="deadline-secret", passphrase="dl-pass")


def book(exchange: ScriptedExchange, n: int) -> list[CancelTarget]:
    targets = []
    for i in range(n):
        symbol = f"S{i % 7}USDT"
        exchange.place(symbol, str(90_000 + i))
        targets.append(CancelTarget(symbol=symbol, order_id=str(90_000 + i)))
    return targets


def engine_for(transport: Any, exchange: ScriptedExchange, **kwargs: Any) -> CancelEngine:
    kwargs.setdefault("rng", random.Random(5))
    return CancelEngine(CREDS, transport=transport, wall_clock=exchange.wall_clock, **kwargs)


def why(report: CancelReport) -> set[str]:
    return {o.error_msg or "" for o in report.unresolved}


@pytest.mark.parametrize("request_timeout", [0.3, 1.0, 5.0, 60.0])
@pytest.mark.parametrize("answered_first", [0, 3, 12])
async def test_a_server_that_stops_answering_cannot_hold_the_call_past_its_deadline(
    request_timeout: float, answered_first: int
) -> None:
    # The first ``answered_first`` requests are answered, then the server goes silent.
    exchange = ScriptedExchange(steps=[Step(OK)] * answered_first + [Step(HANG_AFTER)] * 10_000)
    targets = book(exchange, 1500)
    loop = asyncio.get_running_loop()
    async with engine_for(exchange.transport(), exchange, request_timeout=request_timeout) as eng:
        start = loop.time()
        report = await eng.cancel(targets, deadline=2)
        took = loop.time() - start
    assert took <= 2.0 + 1e-6
    # It uses the time it has: it returns early only when too little is left to send anything.
    assert took >= 2.0 - MIN_REQUEST_TIMEOUT - 1e-6
    assert report.elapsed == pytest.approx(took)
    assert [o.target for o in report.outcomes] == targets  # every target present
    assert len(report.cancelled) == 50 * answered_first
    assert len(report.unresolved) == len(targets) - 50 * answered_first
    for msg in why(report):
        assert msg.startswith("deadline of 2s passed"), msg
        assert any(
            reason in msg
            for reason in ("before it could be sent", "waiting for the answer", "before a retry")
        ), msg


async def test_a_deadline_shorter_than_one_round_trip_still_reports_everything() -> None:
    exchange = ScriptedExchange(latency=0.5)
    targets = book(exchange, 120)
    async with engine_for(exchange.transport(), exchange) as eng:
        report = await eng.cancel(targets, deadline=0.1)
    assert report.elapsed == pytest.approx(0.1)
    assert len(report.unresolved) == 120
    assert why(report) == {
        "deadline of 0.1s passed while waiting for the answer (the cancel may have happened)"
    }


async def test_nothing_outlives_the_call() -> None:
    exchange = ScriptedExchange(steps=[Step(HANG_AFTER)] * 100)
    targets = book(exchange, 200)
    async with engine_for(exchange.transport(), exchange) as eng:
        await eng.cancel(targets, deadline=1)
        for _ in range(5):
            await asyncio.sleep(0)  # let the cancelled requests unwind
        assert exchange.in_flight == 0
        budget = eng._session_here().budget(BATCH_CANCEL)
        assert isinstance(budget, RateBudget)
        assert budget.in_flight == 0  # every slot given back


# -- a 429 storm ----------------------------------------------------------------------------------


class Storm:
    """Every batch-cancel request arriving before ``until`` (loop time) gets a 429."""

    def __init__(self, exchange: ScriptedExchange, until: float) -> None:
        self.exchange = exchange
        self.until = until
        self.sent_at: list[float] = []
        self.throttled_at: list[float] = []

    async def handle(self, request: HttpRequest) -> HttpResponse:
        now = asyncio.get_running_loop().time()
        if request.path.endswith("/batch-cancel-order"):
            self.sent_at.append(now)
            if now < self.until:
                self.throttled_at.append(now)
                self.exchange.bodies.append({})
                await asyncio.sleep(self.exchange.latency)
                return HttpResponse(429, b'{"code":"429","msg":"Too Many Requests","data":null}')
        return await self.exchange.handle(request)


async def test_a_429_storm_slows_the_engine_down_instead_of_amplifying_it() -> None:
    """Bug found: the ten 429s of one burst counted as ten strikes, so a single burst paused
    the engine for the 30 s maximum instead of 1 s."""
    exchange = ScriptedExchange()
    targets = book(exchange, 1000)  # 20 requests
    loop = asyncio.get_running_loop()
    storm = Storm(exchange, until=loop.time() + 3.0)
    async with engine_for(MockTransport(storm.handle), exchange, max_attempts=8) as eng:
        report = await eng.cancel(targets)
    assert report.all_closed
    assert not exchange.open_orders
    # During the storm: the first burst, then one probe at a time with growing pauses.
    assert len(storm.throttled_at) <= 10 + 2
    probes = storm.throttled_at[10:]
    gaps = [b - a for a, b in zip([storm.throttled_at[9], *probes], probes, strict=False)]
    assert all(gap >= 1.0 for gap in gaps), gaps
    assert report.throttled == len(storm.throttled_at)
    # ...and once it is over, the engine is back at full speed, not still cowering.
    assert report.elapsed < 3.0 + 2.5, report.elapsed


async def test_a_429_storm_with_a_deadline_returns_on_time_with_every_target() -> None:
    exchange = ScriptedExchange(steps=[Step(THROTTLE)] * 10_000)
    targets = book(exchange, 500)
    async with engine_for(exchange.transport(), exchange, max_attempts=100) as eng:
        report = await eng.cancel(targets, deadline=5)
    assert 5.0 - MIN_REQUEST_TIMEOUT - 1e-6 <= report.elapsed <= 5.0 + 1e-6
    assert [o.target for o in report.outcomes] == targets
    assert {o.status for o in report.unresolved} == {CancelStatus.UNRESOLVED}
    # 10 in the first burst, then probes 1 s and 2 s later (the next pause runs past 5 s).
    assert len(exchange.bodies) <= 12
    assert exchange.max_in_flight == 10


def test_the_429s_of_one_burst_are_one_strike() -> None:
    budget = RateBudget(10, 1.0, margin=0.0, cooldown=1.0)
    for _ in range(10):
        assert budget.take(0.0)
    for i in range(10):
        budget.release(0.010 + i * 0.001, throttled=True)
    assert budget.blocked_until == pytest.approx(1.019)  # 1 s after the last 429, not 30 s
    assert budget.take(1.02)  # the probe
    budget.release(1.03, throttled=True)  # refused again: now the pause doubles
    assert budget.blocked_until == pytest.approx(3.03)
