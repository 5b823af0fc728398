"""Two providers in one process share one budget through a real redis-server."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis

from bitget_cancel import InvalidBudgetStore
from bitget_cancel._budget import BudgetProvider
from bitget_cancel._redis_budget import (
    RedisBudget,
    RedisBudgets,
    _Slot,
    account_key,
    budget_keys,
)

from .helpers import client, most_others_holding, providers, redis_now
from .server import RedisServer

ACCOUNT = "account-7"
ENDPOINT = "batch-cancel"


def test_it_is_a_budget_provider() -> None:
    provider: BudgetProvider = RedisBudgets("redis://127.0.0.1:1/0")  # checked by mypy
    assert provider.budget("a", "e", 5).name == "e"  # no connection until the first acquire


async def test_two_providers_share_one_burst_then_wait(redis_server: RedisServer) -> None:
    async with providers(redis_server.url, 2, known_accounts=(ACCOUNT,)) as (p, q):
        a, b = p.budget(ACCOUNT, ENDPOINT, 5), q.budget(ACCOUNT, ENDPOINT, 5)
        loop = asyncio.get_running_loop()
        # One round trip takes the whole burst; what a leaves unused goes back at its flush.
        slots = [await a.acquire(deadline=loop.time()) for _ in range(3)]
        await p.flush()
        slots += [await b.acquire(deadline=loop.time()) for _ in range(2)]
        assert all(slot is not None and slot.shared for slot in slots)
        assert await a.acquire(deadline=loop.time()) is None
        assert await b.acquire(deadline=loop.time()) is None
        for slot in slots:
            assert slot is not None
            slot.give_back()  # never sent: nothing to count
        await p.flush()
        await q.flush()
        again = [await b.acquire(deadline=loop.time()) for _ in range(5)]
        assert all(slot is not None for slot in again)
        assert not p.degraded
        assert not q.degraded


async def test_paced_use_never_holds_more_than_capacity(redis_server: RedisServer) -> None:
    capacity, period = 4, 1.0
    grants: list[tuple[float, float]] = []
    rng = random.Random(5)
    async with (
        providers(redis_server.url, 2, known_accounts=(ACCOUNT,)) as (p, q),
        client(redis_server.url) as redis,
    ):

        async def user(budget: RedisBudget, n: int) -> None:
            for _ in range(n):
                slot = await budget.acquire()
                assert slot is not None
                assert slot.granted_at is not None
                await asyncio.sleep(rng.uniform(0.0, 0.02))  # the request's round trip
                released_after = await redis_now(redis)
                slot.release()
                grants.append((slot.granted_at, released_after))

        budgets = [p.budget(ACCOUNT, ENDPOINT, capacity), q.budget(ACCOUNT, ENDPOINT, capacity)]
        await asyncio.gather(*(user(budgets[i % 2], 3) for i in range(4)))
    assert len(grants) == 12
    # Saturated (capacity - 1 others held at some grant), never over.
    assert most_others_holding(grants, period) == capacity - 1


async def test_a_429_seen_by_one_pauses_all_then_one_probe(redis_server: RedisServer) -> None:
    cooldown = 0.4
    async with (
        providers(redis_server.url, 2, known_accounts=(ACCOUNT,), cooldown=cooldown) as (p, q),
        client(redis_server.url) as redis,
    ):
        a, b = p.budget(ACCOUNT, ENDPOINT, 5), q.budget(ACCOUNT, ENDPOINT, 5)
        loop = asyncio.get_running_loop()
        throttled = await a.acquire()
        assert throttled is not None
        seen_at = await redis_now(redis)
        throttled.release(throttled=True)
        await p.flush()
        # Room for four more, but everyone pauses: the other provider and this one.
        assert await b.acquire(deadline=loop.time()) is None
        assert await a.acquire(deadline=loop.time()) is None
        probe = await b.acquire()
        assert probe is not None
        assert probe.granted_at is not None
        assert probe.granted_at >= seen_at + cooldown
        # One probe at a time: nobody else goes while it is in flight.
        assert await a.acquire(deadline=loop.time() + 0.2) is None
        probe.release()
        await q.flush()
        # The probe succeeded: back to the full budget (5 minus the two in the window).
        more = [await a.acquire(deadline=loop.time()) for _ in range(4)]
        assert [slot is not None for slot in more] == [True, True, True, False]


async def test_an_exhausted_window_holds_every_participant(redis_server: RedisServer) -> None:
    async with (
        providers(redis_server.url, 2, known_accounts=(ACCOUNT,)) as (p, q),
        client(redis_server.url) as redis,
    ):
        a, b = p.budget(ACCOUNT, ENDPOINT, 5), q.budget(ACCOUNT, ENDPOINT, 5)
        loop = asyncio.get_running_loop()
        slot = await a.acquire()
        assert slot is not None
        answered = await redis_now(redis)
        # x-mbx-used-remain-limit: 0 while a's burst of five is still taken (one sent, four
        # kept for its next caller): the count reaches the capacity until those go back.
        slot.release(remaining=0)
        await p.flush()
        assert await b.acquire(deadline=loop.time()) is None  # four free, yet held
        held = await b.acquire()
        assert held is not None
        assert held.granted_at is not None
        assert held.granted_at >= answered + 1.0
        # A plain answer does not hold anything.
        held.release(remaining=3)
        await q.flush()
        assert await a.acquire(deadline=loop.time()) is not None


async def taken_by(
    *takers: tuple[RedisBudgets, RedisBudget, int],
) -> list[_Slot]:
    """Slots taken by each participant in turn, the unused rest of its burst given back."""
    loop = asyncio.get_running_loop()
    slots = []
    for provider, budget, count in takers:
        for _ in range(count):
            slot = await budget.acquire(deadline=loop.time())
            assert slot is not None
            slots.append(slot)
        await provider.flush()
    return slots


async def next_grant_at(budget: RedisBudget) -> float:
    """When Redis grants the next slot (its clock); the slot goes back unsent."""
    slot = await budget.acquire()
    assert slot is not None
    assert slot.granted_at is not None
    slot.give_back()
    return slot.granted_at


@dataclass
class TwoSharing:
    """Two participants sharing one budget, and a client to read Redis."""

    p: RedisBudgets
    q: RedisBudgets
    a: RedisBudget  # p's budget
    b: RedisBudget  # q's budget
    redis: aioredis.Redis

    async def flush(self) -> None:
        await self.p.flush()
        await self.q.flush()

    async def blocked_until(self) -> float | None:
        """The budget's hold in Redis (its clock), None if none was ever set."""
        blocked = await self.redis.hget(budget_keys("bitget-cancel", ACCOUNT, ENDPOINT).state,
                                        "blocked")  # fmt: skip
        return None if blocked is None else int(blocked) / 1_000_000


@asynccontextmanager
async def two_sharing(url: str, capacity: int, **options: Any) -> AsyncIterator[TwoSharing]:
    async with (
        providers(url, 2, known_accounts=(ACCOUNT,), **options) as (p, q),
        client(url) as redis,
    ):
        a, b = p.budget(ACCOUNT, ENDPOINT, capacity), q.budget(ACCOUNT, ENDPOINT, capacity)
        yield TwoSharing(p, q, a, b, redis)


async def test_a_full_window_used_by_another_client_holds_the_account(
    redis_server: RedisServer,
) -> None:
    # Four of five slots taken in the store (two participants), the exchange says none left:
    # someone outside the store took the fifth. Everyone waits for the window to roll.
    async with two_sharing(redis_server.url, 5) as two:
        slots = await taken_by((two.p, two.a, 2), (two.q, two.b, 2))
        for slot in slots[:-1]:
            slot.release(remaining=2)
        answered = await redis_now(two.redis)
        slots[-1].release(remaining=0)
        await two.flush()
        blocked = await two.blocked_until()
        assert blocked is not None
        assert blocked >= answered + 1.0
        loop = asyncio.get_running_loop()
        assert await two.a.acquire(deadline=loop.time()) is None  # one free, yet held
        assert await next_grant_at(two.b) >= answered + 1.0


async def test_a_window_the_account_filled_itself_is_not_held_past_its_own_count(
    redis_server: RedisServer,
) -> None:
    # All five slots of the window are the account's (two participants, one still in flight):
    # the store's count already holds the next request until the first of them leaves the
    # window. No hold from the last answer on top: far away it costs a round trip a window.
    async with two_sharing(redis_server.url, 5) as two:
        slots = await taken_by((two.p, two.a, 3), (two.q, two.b, 2))
        first_answered = await redis_now(two.redis)
        for slot in slots[1:4]:
            slot.release(remaining=2)
        await asyncio.sleep(0.2)
        slots[4].release(remaining=0)  # slots[0] still in flight: 1 + 4 = the capacity
        await two.flush()
        assert await two.blocked_until() is None
        # The count itself still refuses a sixth in this window...
        loop = asyncio.get_running_loop()
        assert await two.a.acquire(deadline=loop.time()) is None
        slots[0].release(remaining=0)  # in the window now: still 5, still no hold
        await two.flush()
        assert await two.blocked_until() is None
        # ...until the first answered leaves it, a period after its answer.
        assert await next_grant_at(two.b) >= first_answered + 1.0


async def test_a_full_window_holds_once_a_lease_it_counted_runs_out(
    redis_server: RedisServer,
) -> None:
    # The window's count reached the capacity with a slot whose holder died: when its lease
    # runs out the count falls short, so others must have filled the window: it holds after all.
    async with two_sharing(redis_server.url, 3, lease=0.3) as two:
        slots = await taken_by((two.p, two.a, 3))
        slots[0].release(remaining=1)
        answered = await redis_now(two.redis)
        slots[1].release(remaining=0)
        await two.flush()  # slots[2] never ends: its holder "died"
        assert await two.blocked_until() is None
        assert await next_grant_at(two.b) >= answered + 1.0  # not at the lease's end


async def test_an_answer_wakes_a_waiter_long_before_the_lease(redis_server: RedisServer) -> None:
    lease = 30.0
    async with providers(redis_server.url, 2, known_accounts=(ACCOUNT,), lease=lease) as (p, q):
        a, b = p.budget(ACCOUNT, ENDPOINT, 2), q.budget(ACCOUNT, ENDPOINT, 2)
        first, second = await a.acquire(), await a.acquire()
        assert first is not None
        assert second is not None
        assert first.granted_at is not None
        waiter = asyncio.ensure_future(b.acquire())
        await asyncio.sleep(0.05)
        assert not waiter.done()
        first.give_back()
        woken = await waiter
        assert woken is not None
        assert woken.granted_at is not None
        assert woken.granted_at < first.granted_at + lease / 10
        # A release frees the slot one period after the answer, not at the lease end either.
        second.release()
        after = await b.acquire()
        assert after is not None
        assert after.granted_at is not None
        assert first.granted_at + 1.0 <= after.granted_at < first.granted_at + lease / 10


async def test_a_stricter_rate_wins_and_budgets_are_per_endpoint(
    redis_server: RedisServer,
) -> None:
    async with providers(redis_server.url, 1, known_accounts=(ACCOUNT,)) as (p,):
        loose = p.budget(ACCOUNT, ENDPOINT, 10)
        assert p.budget(ACCOUNT, ENDPOINT, 3) is loose
        loop = asyncio.get_running_loop()
        got = [await loose.acquire(deadline=loop.time()) for _ in range(4)]
        assert [slot is not None for slot in got] == [True, True, True, False]
        other = p.budget(ACCOUNT, "cancel-symbol", 3)
        assert await other.acquire(deadline=loop.time()) is not None


async def test_redis_holds_a_hash_of_the_account_never_the_id(redis_server: RedisServer) -> None:
    account = "api-key-LOOKS-SECRET"
    async with (
        providers(redis_server.url, 1, known_accounts=(account,)) as (p,),
        client(redis_server.url) as redis,
    ):
        slot = await p.budget(account, ENDPOINT, 5).acquire()
        assert slot is not None
        slot.release()
        await p.flush()
        keys = [key.decode() async for key in redis.scan_iter("*")]
        assert keys
        assert not any(account in key for key in keys)
        assert all(account_key(account) in key for key in keys)
        names = budget_keys("bitget-cancel", account, ENDPOINT)
        assert await redis.zcard(names.window) == 1


async def test_the_password_comes_from_the_url_or_the_env_and_is_never_shown(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer(password="s3cret-pass")
    server.start()
    try:
        with_url = f"redis://:s3cret-pass@127.0.0.1:{server.port}/0"
        monkeypatch.setenv("REDIS_PASSWORD", "s3cret-pass")
        async with (
            providers(with_url, 1, known_accounts=(ACCOUNT,)) as (p,),
            providers(server.url, 1) as (q,),
        ):
            assert "s3cret-pass" not in repr(p)
            for provider in (p, q):
                slot = await provider.budget(ACCOUNT, ENDPOINT, 5).acquire()
                assert slot is not None
                assert slot.shared
                slot.give_back()
            assert not p.degraded
            assert not q.degraded
        monkeypatch.setenv("REDIS_PASSWORD", "wrong-pass")
        async with providers(server.url, 1) as (r,):
            slot = await r.budget(ACCOUNT, ENDPOINT, 5).acquire()
            assert slot is not None
            assert not slot.shared
            assert r.degraded
            assert r.fallbacks == 1
        text = caplog.text + repr(r)
        assert "not answering" in text
        assert "s3cret-pass" not in text
        assert "wrong-pass" not in text
    finally:
        server.close()


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("http://127.0.0.1:6379/0", {}),
        ("127.0.0.1:6379", {}),
        ("redis://127.0.0.1:6379/0", {"timeout": 0}),
        ("redis://127.0.0.1:6379/0", {"lease": float("nan")}),
        ("redis://127.0.0.1:6379/0", {"fallback_participants": 0}),
        ("redis://127.0.0.1:6379/0", {"margin": -1}),
        ("redis://127.0.0.1:6379/0", {"prefix": ""}),
        ("redis://:hunter2@127.0.0.1:port/0", {}),
        ("redis://:hunter2@127.0.0.1:6379/db", {}),
    ],
)
def test_bad_settings_are_refused_before_any_request(url: str, options: dict[str, float]) -> None:
    with pytest.raises(InvalidBudgetStore) as info:
        RedisBudgets(url, **options)  # type: ignore[arg-type]
    assert "hunter2" not in str(info.value)


def test_a_bad_url_never_shows_its_password() -> None:
    with pytest.raises(InvalidBudgetStore) as info:
        RedisBudgets("http://user:hunter2@127.0.0.1:6379/0")
    assert "hunter2" not in str(info.value)


async def test_keys_evicted_under_a_volatile_policy_hold_everyone_one_window(
    redis_server: RedisServer,
) -> None:
    # volatile-* evicts only keys with an expiry: the budget's, never the epoch. Before, the
    # loss went unseen and a newcomer took a second full burst inside the window (10 x 429).
    keys = budget_keys("bitget-cancel", ACCOUNT, ENDPOINT)
    async with (
        providers(redis_server.url, 1, known_accounts=(ACCOUNT,)) as (p,),
        client(redis_server.url) as redis,
    ):
        a = p.budget(ACCOUNT, ENDPOINT, 10)
        burst = [await a.acquire() for _ in range(10)]
        answered = await redis_now(redis)
        for slot in burst:
            assert slot is not None
            slot.release()
        await p.flush()
        assert await redis.zcard(keys.window) == 10
        used = int((await redis.info("memory"))["used_memory"])
        await redis.config_set("maxmemory-policy", "volatile-ttl")
        await redis.config_set("maxmemory", used + 200_000)
        for number in range(2_000):  # until the window is evicted
            await redis.set(f"filler:{number}", b"x" * 10_000, px=3_600_000)
            if not await redis.exists(keys.window):
                break
        await redis.config_set("maxmemory", 0)
        assert not await redis.exists(keys.window)
        assert await redis.exists(keys.epoch)
    async with providers(redis_server.url, 1) as (q,):
        b = q.budget(ACCOUNT, ENDPOINT, 10)
        loop = asyncio.get_running_loop()
        assert await b.acquire(deadline=loop.time()) is None
        held = await b.acquire()
        assert held is not None
        assert held.granted_at is not None
        assert held.granted_at >= answered + 1.0  # not inside the window the burst filled
        held.give_back()
