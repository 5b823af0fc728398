"""Redis trouble never blocks: a local share while it is out, shared again when it is back."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bitget_cancel._redis_budget import budget_keys

from .helpers import client, providers, until
from .server import RedisServer, free_port

ACCOUNT = "account-9"
ENDPOINT = "batch-cancel"


def outage_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno == logging.WARNING and "not answering" in record.getMessage()
    ]


async def test_redis_stopped_then_restarted(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bitget_cancel")
    options = {"presence_ttl": 0.6, "retry_interval": 0.2}
    async with providers(redis_server.url, 2, known_accounts=(ACCOUNT,), **options) as (p, q):
        a, b = p.budget(ACCOUNT, ENDPOINT, 4), q.budget(ACCOUNT, ENDPOINT, 4)
        loop = asyncio.get_running_loop()
        for budget in (a, b):
            slot = await budget.acquire()
            assert slot is not None
            assert slot.shared
            slot.give_back()
        await until(lambda: p.participants(ACCOUNT) == 2 and q.participants(ACCOUNT) == 2)

        redis_server.stop()
        # Every acquire still succeeds, from a local share of half the rate (2 of 4).
        first = await a.acquire(deadline=loop.time() + 5)
        second = await a.acquire(deadline=loop.time())
        assert first is not None
        assert second is not None
        assert not first.shared
        assert not second.shared
        assert await a.acquire(deadline=loop.time()) is None
        assert p.degraded
        assert p.fallbacks == 1
        assert p.fallback_grants == 2
        await until(lambda: q.degraded)
        other = await b.acquire(deadline=loop.time() + 5)  # q holds from when it noticed
        assert other is not None
        assert not other.shared
        other.give_back()
        await asyncio.sleep(0.5)  # several reconnection attempts fail meanwhile
        assert len(outage_warnings(caplog)) == 2  # one per provider, not one per attempt
        assert (p.fallbacks, q.fallbacks) == (1, 1)

        redis_server.start()
        await until(lambda: not p.degraded and not q.degraded)
        # Back to shared: p's two fallback slots are carried into Redis with its new one.
        third = await a.acquire(deadline=loop.time() + 5)
        assert third is not None
        assert third.shared
        await p.flush()  # the rest of the burst its take got goes back
        got = [await b.acquire(deadline=loop.time()) for _ in range(2)]
        assert [slot is not None and slot.shared for slot in got] == [True, False]
        async with client(redis_server.url) as redis:
            names = budget_keys("bitget-cancel", ACCOUNT, ENDPOINT)
            assert await redis.zcard(names.flying) == 4
            for slot in (first, second, third, got[0]):
                assert slot is not None
                slot.give_back()
            await p.flush()
            await q.flush()
            assert await redis.zcard(names.flying) == 0
        assert len(outage_warnings(caplog)) == 2
        assert (p.fallbacks, q.fallbacks) == (1, 1)


async def test_an_outage_carries_own_use_into_the_fallback(redis_server: RedisServer) -> None:
    async with providers(redis_server.url, 1, known_accounts=(ACCOUNT,), retry_interval=0.2) as (
        p,
    ):
        budget = p.budget(ACCOUNT, ENDPOINT, 4)
        loop = asyncio.get_running_loop()
        answered, in_flight = await budget.acquire(), await budget.acquire()
        assert answered is not None
        assert in_flight is not None
        redis_server.stop()
        await until(lambda: p.degraded)
        answered.release()  # after the outage began: in the window for one more second
        # Nothing for one period: what others took from Redis before it went is invisible.
        assert await budget.acquire(deadline=loop.time()) is None
        # Alone on the account, the fallback has the whole rate, minus what this one used.
        got = [await budget.acquire(deadline=loop.time() + 5) for _ in range(2)]
        assert all(slot is not None and not slot.shared for slot in got)
        assert await budget.acquire(deadline=loop.time()) is None
        in_flight.release()  # it ends into the fallback too: still nothing free
        assert await budget.acquire(deadline=loop.time()) is None
        assert p.degraded
        assert p.fallbacks == 1


async def test_a_frozen_redis_is_an_outage_after_the_timeout(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with providers(
        redis_server.url, 1, known_accounts=(ACCOUNT,), timeout=0.5, retry_interval=0.2
    ) as (p,):
        budget = p.budget(ACCOUNT, ENDPOINT, 4)
        slot = await budget.acquire()
        assert slot is not None
        assert slot.shared
        await p.flush()  # the rest of the burst its take got goes back
        redis_server.pause()  # connections stay open; nothing answers
        try:
            slot.release()
            frozen = await budget.acquire()
            assert frozen is not None
            assert not frozen.shared
            assert p.degraded
            assert p.fallbacks == 1
        finally:
            redis_server.resume()
        await until(lambda: not p.degraded)
        frozen.release()
        back = await budget.acquire()
        assert back is not None
        assert back.shared
        assert len(outage_warnings(caplog)) == 1


async def test_an_unreachable_redis_from_the_start(caplog: pytest.LogCaptureFixture) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    async with providers(url, 1, fallback_participants=2, retry_interval=0.2) as (p,):
        budget = p.budget(ACCOUNT, ENDPOINT, 4)
        loop = asyncio.get_running_loop()
        got = [await budget.acquire(deadline=loop.time()) for _ in range(3)]
        assert [slot is not None for slot in got] == [True, True, False]  # 4 / 2
        assert p.degraded
        assert p.fallbacks == 1
        await asyncio.sleep(0.5)
        assert len(outage_warnings(caplog)) == 1
