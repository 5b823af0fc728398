"""CancelEngines in real processes on one account: one simulator process, one redis-server.

Each participant is a process of its own (``engine_worker``) with its own orders; together they
ask for far more than the account's 10 batch cancels a second, so only a shared budget keeps
the simulator from answering 429. The simulator's penalty after a 429 is off, so a 429 shows up
as a count here instead of stalling the run.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bitget_cancel._redis_budget import _presence_key, account_key, budget_keys

from .fleet import BATCH_CANCEL, Fleet, fleet
from .helpers import client, providers
from .server import RedisServer

ORDERS = 500  # per participant: 10 batch cancels of 50
PREFIX = "bitget-cancel"  # the Redis store's default key prefix


def assert_all_closed(result: dict[str, Any], orders: int) -> None:
    assert result["total"] == orders
    assert result["closed"] == orders
    assert result["report"]["counts"]["unresolved"] == 0
    assert result["report"]["counts"]["failed"] == 0


async def until(probe: Callable[[], Awaitable[Any]], wanted: Any) -> None:
    """Poll ``probe()`` until it returns ``wanted`` (bounded: fail rather than hang)."""
    for _ in range(2000):
        if await probe() == wanted:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never got {wanted!r}")


async def scores(redis: aioredis.Redis, key: str) -> dict[bytes, float]:
    """The members of a sorted set and their scores."""
    members: list[Any] = await redis.zrange(key, 0, -1, withscores=True)
    return {member: float(score) for member, score in members}


async def everyone_present(redis: aioredis.Redis, account: str, participants: int) -> None:
    """Wait until each participant has seen all of them in the presence set: it renewed its
    presence after the last one joined (renewals answer the count the fallback divides by)."""
    key = _presence_key(PREFIX, account_key(account))
    await until(lambda: redis.zcard(key), participants)
    joined = await scores(redis, key)

    async def renewed() -> bool:
        now = await scores(redis, key)
        return all(now.get(member, 0.0) > score for member, score in joined.items())

    await until(renewed, True)


async def no_429(group: Fleet) -> dict[str, Any]:
    stats = await group.sim.stats()
    assert stats["pacing_429"] == 0
    assert stats["penalty_429"] == 0
    assert stats["violations"] == 0
    return stats


async def test_four_processes_share_one_budget(redis_server: RedisServer, tmp_path: Path) -> None:
    async with fleet(tmp_path, penalty_s=0) as group:
        for name in "abcd":
            await group.add(name, orders=ORDERS, budget_url=redis_server.url)
        await group.go()
        results = [await p.report() for p in group.participants]
        stats = await no_429(group)
        for result in results:
            assert_all_closed(result, ORDERS)
            assert result["report"]["throttled"] == 0
            assert result["report"]["budgetFallbacks"] == 0
        assert await group.sim.open() == 0
        # 40 batch cancels against 10 a second: the window was used to the full, never more.
        assert stats["endpoints"][BATCH_CANCEL]["requests"] == 4 * ORDERS // 50
        assert stats["max_in_window"][BATCH_CANCEL] == 10


async def test_two_keys_of_one_account_share_its_budget(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    second = ("redis-procs-key-2", "redis-procs-secret-2", "redis-procs-pass-2")
    orders = 750  # 15 batch cancels each: 30 against 10 a second
    async with fleet(tmp_path, penalty_s=0, keys=[second]) as group:
        # One names the store in the environment (BITGET_BUDGET_URL), the other as an argument.
        await group.add("a", orders=orders, account_id="acct-1",
                        env={"BITGET_BUDGET_URL": redis_server.url})  # fmt: skip
        await group.add("b", orders=orders, account_id="acct-1", key=second,
                        budget_url=redis_server.url)  # fmt: skip
        await group.go()
        results = [await p.report() for p in group.participants]
        stats = await no_429(group)
        for result in results:
            assert_all_closed(result, orders)
        assert await group.sim.open() == 0
        # Both keys did send: the simulator counted them against one account (one UID).
        assert stats["requests_by_key"] == {group.sim.api_key: 15, second[0]: 15}
        assert stats["max_in_window"][BATCH_CANCEL] == 10


async def test_a_participant_killed_mid_run(redis_server: RedisServer, tmp_path: Path) -> None:
    async with fleet(tmp_path, penalty_s=0) as group, client(redis_server.url) as redis:
        survivors = [await group.add(n, orders=ORDERS, budget_url=redis_server.url) for n in "abc"]
        # Its lease: request_timeout + 2 s. Longer than the answers, short for the test.
        # Twice the work: a burst is taken whole, so it must not be done after its first.
        victim = await group.add("v", orders=2 * ORDERS, budget_url=redis_server.url,
                                 request_timeout=1.0)  # fmt: skip
        flying = budget_keys(PREFIX, victim.hello["account"], "batch-cancel-order").flying
        mine = f"{victim.hello['participant']}:".encode()
        await group.go()
        await victim.under_way()
        # Kill it while Redis counts slots of its in flight: freeze it, look, kill or go on.
        held: dict[bytes, float] = {}
        while not held:
            victim.process.send_signal(signal.SIGSTOP)
            members = await scores(redis, flying)
            held = {token: lease for token, lease in members.items() if token.startswith(mine)}
            if not held:
                victim.process.send_signal(signal.SIGCONT)
                await asyncio.sleep(0.001)
        victim.process.send_signal(signal.SIGKILL)
        assert await victim.process.wait() == -signal.SIGKILL

        results = [await p.report() for p in survivors]
        await no_429(group)
        for result in results:
            assert_all_closed(result, ORDERS)
        assert await group.sim.open([s for p in survivors for s in p.symbols]) == 0
        assert await group.sim.open(victim.symbols) > 0  # it died with work left

        # Its slots come back, and not before their lease ran out: all 10 can be taken again.
        async with providers(redis_server.url, 1) as (probe,):
            budget = probe.budget(victim.hello["account"], "batch-cancel-order", 10)
            loop = asyncio.get_running_loop()
            slots = [await budget.acquire(deadline=loop.time() + 10) for _ in range(10)]
            assert all(slot is not None and slot.shared for slot in slots)
            last = slots[-1]
            assert last is not None
            assert last.granted_at is not None
            assert last.granted_at * 1e6 >= max(held.values())
            assert not any(token.startswith(mine) for token in await scores(redis, flying))


async def test_redis_stopped_mid_run(redis_server: RedisServer, tmp_path: Path) -> None:
    orders = 750  # 15 batch cancels each: work left for everyone when Redis goes
    async with fleet(tmp_path, penalty_s=0) as group:
        for name in "abcd":
            await group.add(name, orders=orders, budget_url=redis_server.url)
        await group.go()
        # Stop it once every participant knows that four share the account (the divisor)...
        async with client(redis_server.url) as redis:
            await everyone_present(redis, group.participants[0].hello["account"], 4)
        sent = (await group.sim.stats())["endpoints"].get(BATCH_CANCEL, {}).get("requests", 0)
        redis_server.stop()
        left = {p.name: await group.sim.open(p.symbols) for p in group.participants}
        # ...which they knew before the account's first window rolled: counting once every
        # presence_ttl / 3 instead, those that joined first divided by 1, 2, 3 (14-32 x 429).
        assert sent <= 10

        results = [await p.report() for p in group.participants]
        await no_429(group)
        for result in results:
            assert_all_closed(result, orders)
        assert await group.sim.open() == 0
        # Everyone with work left when Redis went had to fall back, and its report says so.
        assert all(left.values()), left
        for participant, result in zip(group.participants, results, strict=True):
            assert result["report"]["budgetFallbacks"] >= 1, participant.name


async def test_the_fallback_counts_what_others_used_before_the_outage(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with fleet(tmp_path, penalty_s=0) as group:
        # Phase 1: one request each, so that both are in Redis's presence set.
        # Phase 2: a takes 9 of the 10 slots; Redis goes; b must not spend them again.
        a = await group.add("a", orders=[50, 450], symbols=1, budget_url=redis_server.url)
        b = await group.add("b", orders=[50, 500], symbols=1, budget_url=redis_server.url)
        await group.go()
        for result in [await a.report(), await b.report()]:
            assert_all_closed(result, 50)
        async with client(redis_server.url) as redis:
            await everyone_present(redis, a.hello["account"], 2)
        await a.go()
        first = await a.report()
        redis_server.stop()
        await b.go()
        second = await b.report()
        # Without a pause of one window after the outage, b's share (5) goes at once: 14.
        await no_429(group)
        assert_all_closed(first, 450)
        assert_all_closed(second, 500)
        assert first["report"]["budgetFallbacks"] == 0
        assert await group.sim.open() == 0


async def test_a_panic_beside_three_cancel_processes(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with fleet(tmp_path, penalty_s=0) as group:
        workers = [await group.add(n, orders=ORDERS, budget_url=redis_server.url) for n in "abc"]
        # 25 orders on each of 20 symbols: too few for cancel-symbol-order, so the panic's
        # cancels go to the batch lane the three others fill.
        panic = await group.add("p", orders=ORDERS, symbols=20, panic=True,
                                budget_url=redis_server.url)  # fmt: skip
        await group.go()
        results = [await p.report() for p in workers]
        panicked = await panic.report()
        stats = await no_429(group)
        for result in results:
            assert_all_closed(result, ORDERS)
        assert panicked["report"]["accountEmpty"]
        assert panicked["report"]["allClosed"]
        assert panicked["closed"] == ORDERS
        assert await group.sim.open() == 0
        # The panic did cancel in the shared lane, and listed on lanes of their own.
        assert panicked["report"]["cancelRequests"] >= 1
        assert panicked["report"]["symbolCancels"] == 0
        batch = stats["endpoints"][BATCH_CANCEL]["requests"]
        assert batch == 3 * ORDERS // 50 + panicked["report"]["cancelRequests"]
        assert stats["max_in_window"][BATCH_CANCEL] == 10
        assert panicked["report"]["listRequests"] >= 20
