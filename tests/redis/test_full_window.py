"""An answer saying the window is full (``x-mbx-used-remain-limit: 0``): the Redis scripts hold
the account only when another client used the window, as the in-process budget does. The
scripts run on a real redis-server, called directly, so each case is set up exactly."""

from __future__ import annotations

import redis.asyncio as aioredis

from bitget_cancel import _redis_lua as lua
from bitget_cancel._redis_budget import budget_keys

from .helpers import client, redis_now
from .server import RedisServer

KEYS = budget_keys("bitget-cancel", "account-full", "batch-cancel")
HOLD_US = 1_002_000  # period + margin
CAPACITY = 5


async def taken(redis: aioredis.Redis, *tokens: str) -> None:
    """Slots granted and not yet ended (in flight, or kept unsent for a next caller)."""
    lease_end = int((await redis_now(redis) + 10.0) * 1_000_000)
    await redis.zadd(KEYS.flying, dict.fromkeys(tokens, lease_end))


async def release(redis: aioredis.Redis, token: str, *, exhausted: bool) -> None:
    args: list[str | int] = [token, HOLD_US, 0, int(exhausted), 1_000_000, 30_000_000, 60_000]
    args += ["me", CAPACITY]
    await redis.eval(lua.RELEASE, 4, KEYS.flying, KEYS.window, KEYS.state, KEYS.wake, *args)


async def give_back(redis: aioredis.Redis, *tokens: str) -> None:
    names = (KEYS.flying, KEYS.window, KEYS.state, KEYS.wake)
    await redis.eval(lua.GIVE_BACK, 4, *names, "me", *tokens)


async def blocked_until(redis: aioredis.Redis) -> float | None:
    blocked = await redis.hget(KEYS.state, "blocked")
    return None if blocked is None else int(blocked) / 1_000_000


async def test_fewer_than_capacity_in_the_store_means_another_client_so_it_holds(
    redis_server: RedisServer,
) -> None:
    async with client(redis_server.url) as redis:
        await taken(redis, "a.1", "a.2", "b.1", "b.2")  # four, two participants
        answered = await redis_now(redis)
        await release(redis, "a.1", exhausted=True)
        blocked = await blocked_until(redis)
        assert blocked is not None
        assert blocked >= answered + HOLD_US / 1_000_000


async def test_the_accounts_own_count_at_capacity_holds_nothing_more(
    redis_server: RedisServer,
) -> None:
    async with client(redis_server.url) as redis:
        await taken(redis, "a.1", "a.2", "a.3", "b.1", "b.2")  # five, two participants
        await release(redis, "a.1", exhausted=True)
        await release(redis, "b.1", exhausted=True)  # answered in the window: still five
        assert await blocked_until(redis) is None
        assert await redis.hget(KEYS.state, "full") is not None
        # A plain answer neither holds nor drops what the full one said.
        await release(redis, "a.2", exhausted=False)
        assert await blocked_until(redis) is None


async def test_a_counted_slot_given_back_unsent_holds_after_all(
    redis_server: RedisServer,
) -> None:
    async with client(redis_server.url) as redis:
        # One sent, four of a burst kept for a next caller: the count reaches the capacity...
        await taken(redis, "a.1", "a.2", "a.3", "a.4", "a.5")
        answered = await redis_now(redis)
        await release(redis, "a.1", exhausted=True)
        assert await blocked_until(redis) is None
        # ...until the four go back unsent: another client filled the window.
        await give_back(redis, "a.2", "a.3", "a.4", "a.5")
        blocked = await blocked_until(redis)
        assert blocked is not None
        assert blocked >= answered + HOLD_US / 1_000_000
        assert await redis.hget(KEYS.state, "full") is None


async def test_a_full_mark_past_its_window_holds_nothing(redis_server: RedisServer) -> None:
    async with client(redis_server.url) as redis:
        await taken(redis, "a.1", "a.2")
        over = int((await redis_now(redis) - 0.5) * 1_000_000)
        await redis.hset(KEYS.state, "full", f"{over}:{CAPACITY}")
        await give_back(redis, "a.2")
        assert await blocked_until(redis) is None
        assert await redis.hget(KEYS.state, "full") is None
