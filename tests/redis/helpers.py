"""Small helpers shared by the Redis budget tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis

from bitget_cancel._redis_budget import RedisBudgets, budget_keys


async def redis_now(client: aioredis.Redis) -> float:
    """Redis's own clock, in seconds: the clock the budget's grants are stamped with."""
    seconds, micros = await client.time()
    return int(seconds) + int(micros) / 1_000_000


async def known(url: str, *accounts: str, prefix: str = "bitget-cancel") -> None:
    """Give the accounts an epoch born long ago, as a store that has served them for a while
    has: their first burst goes at once (a fresh epoch holds everyone for one window)."""
    async with client(url) as redis:
        for account in accounts:
            epoch = budget_keys(prefix, account, "any").epoch
            await redis.hset(epoch, mapping={"id": "known-epoch", "born": 0})


@asynccontextmanager
async def providers(
    url: str, n: int, *, known_accounts: tuple[str, ...] = (), **options: Any
) -> AsyncIterator[list[RedisBudgets]]:
    """``n`` providers on ``url``; ``known_accounts`` get an old epoch first (see ``known``)."""
    await known(url, *known_accounts)
    made = [RedisBudgets(url, **options) for _ in range(n)]
    try:
        yield made
    finally:
        for provider in made:
            await provider.close()


@asynccontextmanager
async def client(url: str, **options: Any) -> AsyncIterator[aioredis.Redis]:
    redis = aioredis.Redis.from_url(url, **options)
    try:
        yield redis
    finally:
        await redis.aclose()


def most_others_holding(grants: list[tuple[float, float]], period: float) -> int:
    """The most slots other than the one being granted that were held at any grant.

    ``grants`` are (granted_at, released_after) on Redis's clock, ``released_after`` read just
    before ``release()``: each slot was held from its grant until at least released_after +
    period. A budget of capacity c never grants while c others are held, so this is < c.
    """
    worst = 0
    for j, (granted, _) in enumerate(grants):
        held = sum(
            1
            for i, (other, released) in enumerate(grants)
            if i != j and other <= granted < released + period
        )
        worst = max(worst, held)
    return worst


async def until(predicate: Callable[[], bool], *, attempts: int = 200, step: float = 0.05) -> None:
    """Wait (bounded) until ``predicate()`` holds; fail the test if it never does."""
    for _ in range(attempts):
        if predicate():
            return
        await asyncio.sleep(step)
    raise AssertionError("condition never became true")
