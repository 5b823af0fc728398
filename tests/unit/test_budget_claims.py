"""Engines of one key with different ``rate_limit`` share a budget: the strictest live one is
in force, and a closed engine's rate is released (issue 19, item 13)."""

from __future__ import annotations

import asyncio
import gc
import json
import random

from bitget_cancel import CancelEngine, CancelTarget, Credentials
from bitget_cancel._limit import InProcessBudgets, RateBudget
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport
from bitget_cancel._wire import BATCH_CANCEL

from .exchange_book import envelope

CREDS = Credentials(api_key="claims-key", secret_key="s", passphrase="p")


def engine(budgets: InProcessBudgets, arrivals: list[float], rate: float = 10.0) -> CancelEngine:
    loop = asyncio.get_running_loop()

    async def handler(request: HttpRequest) -> HttpResponse:
        body = json.loads(request.body)
        arrivals.append(loop.time())
        await asyncio.sleep(0.005)
        success = [{"orderId": o["orderId"], "clientOid": None} for o in body["orderList"]]
        return HttpResponse(200, envelope({"successList": success, "failureList": []}))

    return CancelEngine(
        CREDS,
        transport=MockTransport(handler),
        wall_clock=lambda: 1_700_000_000.0,
        rng=random.Random(1),
        rate_limit=rate,
        budgets=budgets,
    )


def targets(n: int) -> list[CancelTarget]:
    return [CancelTarget(symbol=f"S{i}USDT", order_id=str(i + 1)) for i in range(n)]


async def test_the_strictest_live_engine_sets_the_pace() -> None:
    budgets, arrivals = InProcessBudgets(), list[float]()
    slow, fast = engine(budgets, arrivals, rate=2.0), engine(budgets, arrivals)
    try:
        slow_budget = slow._session_here().budget(BATCH_CANCEL)
        fast_budget = fast._session_here().budget(BATCH_CANCEL)
        assert isinstance(slow_budget, RateBudget)
        assert fast_budget is slow_budget
        assert slow_budget.capacity == 2
    finally:
        await slow.close()
        await fast.close()


async def test_after_a_closed_slow_engine_a_default_engine_paces_at_ten_a_second() -> None:
    loop = asyncio.get_running_loop()
    budgets, arrivals = InProcessBudgets(), list[float]()
    async with engine(budgets, arrivals, rate=1.0) as slow:
        report = await slow.cancel(targets(3), mode="single")
    assert report.all_closed
    arrivals.clear()
    await asyncio.sleep(1.1)  # the slow engine's requests leave the window
    async with engine(budgets, arrivals) as fast:
        start = loop.time()
        # 20 symbols in single mode: 20 requests, 10 at once, 10 more once the window rolls.
        report = await fast.cancel(targets(20), mode="single")
    assert report.all_closed
    assert len(arrivals) == 20
    assert len([t for t in arrivals if t < start + 0.5]) == 10
    assert max(arrivals) < start + 1.1


class _Owner:
    """Stands in for an engine's session (weakly held by the store)."""


async def test_a_forgotten_or_collected_owner_no_longer_binds_the_budget() -> None:
    budgets = InProcessBudgets()
    slow, fast = _Owner(), _Owner()
    budget = budgets.budget("acct", "cancel", 1.0, owner=slow)
    assert budgets.budget("acct", "cancel", 10.0, owner=fast) is budget
    assert (budget.capacity, budget.period) == (1, 1.0)
    del slow
    gc.collect()
    assert budgets.budget("acct", "cancel", 10.0, owner=fast).capacity == 10
    budgets.budget("acct", "cancel", 5.0, owner=_keep)
    assert budget.capacity == 5
    budgets.forget(_keep)
    assert budget.capacity == 10
    budgets.budget("acct", "cancel", 2.0)  # no owner: a claim for good
    budgets.forget(fast)
    assert budget.capacity == 2


_keep = _Owner()
