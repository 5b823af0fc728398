"""Cancelling waiters at any point leaves the shared budget whole."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import pytest
from redis.asyncio.client import PubSub

from bitget_cancel._redis_budget import budget_keys

from .helpers import client, providers
from .server import RedisServer

ACCOUNT = "account-3"
ENDPOINT = "batch-cancel"


async def test_cancelled_waiters_take_nothing_and_holders_give_back(
    redis_server: RedisServer,
) -> None:
    capacity = 3
    rng = random.Random(20261125)
    cancelled_while_acquiring = 0
    async with (
        providers(redis_server.url, 2, known_accounts=(ACCOUNT,)) as (p, q),
        client(redis_server.url) as redis,
    ):
        budgets = [p.budget(ACCOUNT, ENDPOINT, capacity), q.budget(ACCOUNT, ENDPOINT, capacity)]
        stage: dict[int, str] = {}

        async def user(n: int) -> None:
            stage[n] = "acquiring"
            slot = await rng.choice(budgets).acquire()
            assert slot is not None
            stage[n] = "holding"
            try:
                await asyncio.sleep(rng.choice((0.0, 0.0, 0.001, 0.003)))
            finally:
                slot.give_back()  # never sent: the budget must be whole again after
            stage[n] = "done"

        n = 0
        for _ in range(80):
            tasks = {}
            for _ in range(rng.randint(1, 8)):
                n += 1
                tasks[n] = asyncio.ensure_future(user(n))
            for _ in range(rng.randint(0, 8)):  # cancel at a random point of the protocol
                await asyncio.sleep(rng.choice((0.0, 0.0, 0.0, 0.0005)))
            for key, task in tasks.items():
                if rng.random() < 0.5 and not task.done():
                    cancelled_while_acquiring += stage.get(key) == "acquiring"
                    task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
        await p.flush()
        await q.flush()

        names = budget_keys("bitget-cancel", ACCOUNT, ENDPOINT)
        assert await redis.zcard(names.flying) == 0
        assert await redis.zcard(names.window) == 0
        assert [budget.in_flight for budget in budgets] == [0, 0]
        loop = asyncio.get_running_loop()
        # One takes the whole burst at once; then nothing is left for the other.
        whole = [await budgets[0].acquire(deadline=loop.time()) for _ in range(capacity)]
        whole.append(await budgets[1].acquire(deadline=loop.time()))
        assert [slot is not None for slot in whole] == [True] * capacity + [False]
    assert cancelled_while_acquiring >= 20  # the interesting case was exercised
    assert not p.degraded
    assert not q.degraded


async def test_close_returns_when_the_redis_client_holds_on_to_a_cancelled_read(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A pub/sub read that does not let go of its cancels (as redis-py's was once seen to
    under load) must not hang ``close()``: it waits ``timeout``, cancels again, waits as long
    and goes on, saying so."""
    stuck = asyncio.Event()
    let_go = asyncio.Event()
    swallowed: list[int] = []
    blocking_reads: list[bool] = []
    real_get_message = PubSub.get_message

    async def holding_on(self: PubSub, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout", 0.0) is None:
            blocking_reads.append(True)
        # The first blocking read is the subscription's confirmation; the second, the wait
        # for wake-ups that lasts as long as the provider.
        if len(blocking_reads) != 2 or stuck.is_set():
            return await real_get_message(self, *args, **kwargs)
        stuck.set()
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                swallowed.append(1)
                if let_go.is_set():  # the test's own clean-up, below
                    raise

    monkeypatch.setattr(PubSub, "get_message", holding_on)
    async with providers(redis_server.url, 1, timeout=0.5, known_accounts=(ACCOUNT,)) as (p,):
        slot = await p.budget(ACCOUNT, ENDPOINT, 3).acquire()
        assert slot is not None
        slot.give_back()
        await asyncio.wait_for(stuck.wait(), 30)
        reader = p._listener
        await asyncio.wait_for(p.close(), 60)  # hung for ever before
    assert len(swallowed) >= 2  # cancelled, waited, cancelled again, then left
    assert "a Redis reader did not stop within 0.5 s" in caplog.text
    assert reader is not None
    assert not reader.done()
    let_go.set()
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
