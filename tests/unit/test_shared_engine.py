"""One engine shared by many tasks: deadlines hold under contention, the panic goes first,
concurrent calls share batches. Virtual time: every timing asserted here is exact."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel._limit import RateBudget
from bitget_cancel._policy import MIN_REQUEST_TIMEOUT

from .scripted_exchange import ScriptedExchange

CREDS = Credentials(api_key="shared-key", secret_key="shared-secret", passphrase="shared-pass")


def book(exchange: ScriptedExchange, n: int, prefix: int = 90_000) -> list[CancelTarget]:
    targets = []
    for i in range(n):
        symbol = f"S{i % 7}USDT"
        exchange.place(symbol, str(prefix + i))
        targets.append(CancelTarget(symbol=symbol, order_id=str(prefix + i)))
    return targets


def engine_for(exchange: ScriptedExchange, **kwargs: Any) -> CancelEngine:
    kwargs.setdefault("rng", random.Random(5))
    return CancelEngine(
        CREDS, transport=exchange.transport(), wall_clock=exchange.wall_clock, **kwargs
    )


def sent_ids(exchange: ScriptedExchange) -> list[str]:
    return [o["orderId"] for body in exchange.bodies for o in body["orderList"]]


# -- item 1: a deadline holds while another call runs ----------------------------------------


async def test_a_queued_waiter_gives_up_at_its_own_deadline_not_at_its_turn() -> None:
    loop = asyncio.get_running_loop()
    budget = RateBudget(1, 1.0, margin=0.0)
    held = await budget.acquire()
    assert held is not None
    patient = loop.create_task(budget.acquire())  # first in line, no deadline
    await asyncio.sleep(0)
    start = loop.time()
    assert await budget.acquire(deadline=start + 0.3) is None
    assert loop.time() - start == pytest.approx(0.3)
    assert not patient.done()
    held.release()
    slot = await patient
    assert slot is not None
    slot.release()


async def test_a_waiter_that_gave_up_does_not_hold_back_the_ones_behind_it() -> None:
    loop = asyncio.get_running_loop()
    budget = RateBudget(1, 1.0, margin=0.0)
    held = await budget.acquire()
    assert held is not None
    quitter = loop.create_task(budget.acquire(deadline=loop.time() + 0.1))
    behind = loop.create_task(budget.acquire())
    await asyncio.sleep(0.2)
    assert quitter.done()
    assert quitter.result() is None
    held.release()  # the slot frees one period after the release
    slot = await behind
    assert slot is not None
    slot.release()


async def test_a_call_with_a_deadline_sends_nothing_behind_a_long_cancel_and_returns_on_time() -> (
    None
):
    exchange = ScriptedExchange(latency=0.05)
    big = book(exchange, 1000)
    small = book(exchange, 5, prefix=50_000)
    loop = asyncio.get_running_loop()
    async with engine_for(exchange) as engine:
        long_call = loop.create_task(engine.cancel(big))
        await asyncio.sleep(0.01)  # the first ten batches of the long call are on their way
        start = loop.time()
        report = await engine.cancel(small, deadline=0.3)
        took = loop.time() - start
        await long_call
    assert took <= 0.3
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    assert all("before it could be sent" in (o.error_msg or "") for o in report.outcomes)
    assert not set(sent_ids(exchange)) & {t.order_id for t in small}
    assert report.requests == 0


async def test_a_request_is_not_sent_when_the_deadline_leaves_no_useful_timeout() -> None:
    # rate 1/s: the second call's slot frees 1.002 s after the first answer (at 1.102 s),
    # 0.018 s before its deadline: too little for a request, so nothing is sent.
    exchange = ScriptedExchange(latency=0.1)
    first = book(exchange, 1)
    second = book(exchange, 1, prefix=50_000)
    loop = asyncio.get_running_loop()
    async with engine_for(exchange, rate_limit=1) as engine:
        await engine.cancel(first)
        start = loop.time() - 0.1  # the first request went 0.1 s ago
        report = await engine.cancel(second, deadline=1.12 - 0.1)
        took = loop.time() - start
    assert len(exchange.bodies) == 1
    assert report.outcomes[0].status is CancelStatus.UNRESOLVED
    assert "before it could be sent" in (report.outcomes[0].error_msg or "")
    assert took == pytest.approx(1.12 - MIN_REQUEST_TIMEOUT)
