"""Small helpers shared by the Redis budget tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis

from bitget_cancel._redis_budget import RedisBudgets, budget_keys
from bitget_cancel._redis_store import open_redis_store


async def redis_now(client: aioredis.Redis) -> float:
    """Redis's own clock, in seconds: the clock the budget's grants are stamped with."""
    seconds, micros = await client.time()
    return int(seconds) + int(micros) / 1_000_000


_KNOWN = """
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
redis.call('HSET', KEYS[1], 'id', 'known-epoch', 'born', 0, 'run', run)
"""


async def known(url: str, *accounts: str, prefix: str = "bitget-cancel") -> None:
    """Give the accounts an epoch born long ago, as a store that has served them for a while
    has: their first burst goes at once (a fresh epoch holds everyone for one window)."""
    if not accounts:
        return
    store = open_redis_store(url)
    try:
        for account in accounts:
            epoch = budget_keys(prefix, account, "any").epoch
            await store.client.eval(_KNOWN, 1, epoch)  # on the server (shard) that holds it
    finally:
        await store.aclose()


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


class Monitor:
    """Every command Redis executes meanwhile, as Redis saw it (``MONITOR``)."""

    def __init__(self, url: str) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self.commands: list[str] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Monitor:
        monitor: Any = self._redis.monitor()  # redis-py leaves its context methods untyped
        await monitor.__aenter__()
        self._monitor = monitor

        async def collect() -> None:
            while True:
                self.commands.append(str((await monitor.next_command())["command"]))

        self._task = asyncio.get_running_loop().create_task(collect())
        return self

    async def __aexit__(self, *exc: object) -> None:
        # A last command marks the end: once it is seen, all before it have been relayed.
        await self._redis.echo("monitor-end")
        for _ in range(400):
            if any("monitor-end" in command for command in self.commands):
                break
            await asyncio.sleep(0.005)
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._monitor.__aexit__()
        await self._redis.aclose()

    def calls(self, script_sha: str) -> int:
        """How many times a script ran by its SHA."""
        return sum(1 for command in self.commands if command.startswith(f"EVALSHA {script_sha}"))
