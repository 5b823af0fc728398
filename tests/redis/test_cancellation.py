"""Cancelling waiters at any point leaves the shared budget whole."""

from __future__ import annotations

import asyncio
import random

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
