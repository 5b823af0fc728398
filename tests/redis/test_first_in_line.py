"""A panic's requests go first on a Redis budget too (issue 24): in its process ahead of the
ordinary waiters, and ahead of every other participant's while it waits. Real redis-server;
the participants are providers in this process (each its own participant, as in its own
process: ``test_panic_priority.py`` has real processes)."""

from __future__ import annotations

import asyncio

from benchmarks.workloads.shared_engine import panic_trial
from bitget_cancel import FirstInLine, Slot
from bitget_cancel._redis_budget import RedisBudget, budget_keys

from .helpers import client, providers
from .server import RedisServer

ACCOUNT = "account-24"
ENDPOINT = "batch-cancel"
PREFIX = "bitget-cancel"


async def full(budget: RedisBudget, capacity: int) -> list[Slot]:
    """Every slot of the budget, held."""
    loop = asyncio.get_running_loop()
    held: list[Slot] = []
    for _ in range(capacity):
        slot = await budget.acquire(deadline=loop.time() + 5)
        assert slot is not None
        held.append(slot)
    return held


class Queue:
    """Waiters on budgets, and the order in which they were served."""

    def __init__(self) -> None:
        self.served: list[str] = []

    def wait(self, budget: RedisBudget, name: str, *, first: bool = False) -> asyncio.Task[None]:
        async def waiter() -> None:
            slot = await (budget.acquire_first() if first else budget.acquire())
            assert slot is not None
            self.served.append(name)

        return asyncio.get_running_loop().create_task(waiter())


def test_a_redis_budget_can_serve_a_waiter_first() -> None:
    from bitget_cancel._redis_budget import RedisBudgets

    assert isinstance(RedisBudgets("redis://127.0.0.1:1/0").budget("a", "e", 5), FirstInLine)


async def test_in_its_process_a_panic_goes_ahead_of_the_waiters_queued_before_it(
    redis_server: RedisServer,
) -> None:
    async with providers(redis_server.url, 1, known_accounts=(ACCOUNT,)) as (p,):
        budget = p.budget(ACCOUNT, ENDPOINT, 2)
        held = await full(budget, 2)
        queue = Queue()
        waiters = [queue.wait(budget, "cancel"), queue.wait(budget, "cancel2")]
        await asyncio.sleep(0.05)  # both queued
        panic = queue.wait(budget, "panic", first=True)
        await asyncio.sleep(0.05)
        for slot in held:
            slot.give_back()
            await asyncio.sleep(0.05)
        await asyncio.wait_for(panic, 5)
        await asyncio.wait_for(waiters[0], 5)
        waiters[1].cancel()
    assert queue.served[:2] == ["panic", "cancel"]


async def test_a_waiting_panic_goes_ahead_of_every_other_participant(
    redis_server: RedisServer,
) -> None:
    async with (
        providers(redis_server.url, 2, known_accounts=(ACCOUNT,)) as (p, q),
        client(redis_server.url) as redis,
    ):
        mine, theirs = p.budget(ACCOUNT, ENDPOINT, 2), q.budget(ACCOUNT, ENDPOINT, 2)
        # One slot each: by the shares, the next free one would be the one waiting longest
        # (released, not given back: a give-back says its participant no longer waits).
        held = [*await full(theirs, 1), *await full(mine, 1)]
        queue = Queue()
        waiting = queue.wait(theirs, "cancel")  # waits longest
        await asyncio.sleep(0.05)
        panic = queue.wait(mine, "panic", first=True)
        state = budget_keys(PREFIX, ACCOUNT, ENDPOINT).state
        for _ in range(200):
            if await redis.hget(state, f"f:{p.participant}") is not None:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the panic never marked that it waits")
        held[0].release()  # sent: its slot frees when it leaves the window (1 s)
        await asyncio.wait_for(panic, 5)
        assert await redis.hget(state, f"f:{p.participant}") is None  # served: the mark goes
        held[1].release()
        await asyncio.wait_for(waiting, 5)
    assert queue.served == ["panic", "cancel"]


async def test_a_panic_that_gives_up_waiting_holds_nobody_back(redis_server: RedisServer) -> None:
    async with (
        providers(redis_server.url, 2, known_accounts=(ACCOUNT,)) as (p, q),
        client(redis_server.url) as redis,
    ):
        mine, theirs = p.budget(ACCOUNT, ENDPOINT, 1), q.budget(ACCOUNT, ENDPOINT, 1)
        (held,) = await full(theirs, 1)
        loop = asyncio.get_running_loop()
        assert await mine.acquire_first(deadline=loop.time() + 0.2) is None  # gave up
        state = budget_keys(PREFIX, ACCOUNT, ENDPOINT).state
        for _ in range(200):
            if await redis.hget(state, f"f:{p.participant}") is None:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the mark of a panic that gave up stayed")
        held.give_back()
        assert await theirs.acquire(deadline=loop.time() + 0.5) is not None


async def test_an_engines_panic_behind_its_long_cancel_goes_first_on_redis(
    redis_server: RedisServer,
) -> None:
    # The benchmark's trial (benchmarks/workloads/shared_engine.py): the simulator on
    # 127.0.0.1, the engine's budgets in this Redis; the long cancel just sent its first burst.
    found = await panic_trial(1, behind=600, budget_url=redis_server.url)
    assert found.all_closed
    assert found.overtaken == 0  # before: 9 (the Redis budget served in arrival order)


async def test_a_panics_privilege_takes_its_own_slots_not_its_processs_queue(
    redis_server: RedisServer,
) -> None:
    async with providers(redis_server.url, 2, known_accounts=(ACCOUNT,)) as (p, q):
        mine, theirs = p.budget(ACCOUNT, ENDPOINT, 4), q.budget(ACCOUNT, ENDPOINT, 4)
        held = [*await full(theirs, 2), *await full(mine, 2)]  # the shares: two each
        queue = Queue()
        tasks = [queue.wait(mine, f"mine-{n}") for n in range(2)]
        tasks.append(queue.wait(theirs, "theirs"))
        await asyncio.sleep(0.05)
        tasks.append(queue.wait(mine, "panic", first=True))
        await asyncio.sleep(0.05)
        for slot in held[:2]:
            slot.release()  # two slots free in a second, while the panic waits
        await asyncio.wait_for(tasks[-1], 5)
        await asyncio.wait_for(tasks[2], 5)
        # The two slots free together: the panic's and theirs are granted in one instant, and
        # which task resumes first is the machine's. What counts: not one of mine (over my
        # share) went with the panic's privilege.
        assert sorted(queue.served) == ["panic", "theirs"]
        for task in tasks[:2]:
            task.cancel()
