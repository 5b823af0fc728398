"""A panic beside long cancels in other processes, on one budget in Redis (issue 24): once the
panic waits for a slot, the next free slot of the account is its own.

Real processes, a real redis-server and the simulator in its own process (one host: Redis's
clock and the simulator's are the same). The panic's process marks in Redis when it began to
wait (a field ``f:<participant>`` of the budget's state, Redis's time); "overtaken" counts the
long cancels' requests that reached the simulator after that and before the panic's first
cancel (the simulator's update times of the orders, in ms), leaving out those granted before
it that were still on their way (``ON_THEIR_WAY``: ten times the simulator's latency).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bitget_cancel._redis_budget import budget_keys

from .fleet import Participant, fleet
from .helpers import client
from .server import RedisServer

PREFIX = "bitget-cancel"  # the Redis store's default key prefix
LONG = 400  # per long cancel: 8 batch cancels of 50; five of them fill four windows
ON_THEIR_WAY = 100.0  # ms
PANIC = 20  # one symbol, fewer than cancel-symbol-order takes: the panic uses the batch lane


async def waiting_since_ms(url: str, state: str, panic: Participant) -> float:
    """When the panic's process began to wait for a batch-cancel slot (Redis time, ms)."""
    field = f"f:{panic.hello['participant']}"
    async with client(url) as redis:
        for _ in range(4000):  # bounded: 20 s
            found = await redis.hget(state, field)
            if found is not None:
                return int(found) / 1000
            await asyncio.sleep(0.005)
    raise AssertionError("the panic never waited for a slot")


async def test_a_waiting_panic_takes_the_next_free_slot_ahead_of_other_processes(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    url = redis_server.url
    async with fleet(tmp_path, penalty_s=0, latency_ms=(10.0, 10.0)) as group:
        longs = [await group.add(name, orders=LONG, symbols=8, budget_url=url) for name in "abcde"]
        panic = await group.add("p", orders=PANIC, symbols=1, panic=True, budget_url=url)
        state = budget_keys(PREFIX, panic.hello["account"], "batch-cancel-order").state
        for long in longs:
            await long.go()
        for long in longs:
            await long.under_way()
        await panic.go()
        since = await waiting_since_ms(url, state, panic)
        panicked = await panic.report()
        results = [await long.report() for long in longs]
        first_panic = min(await group.sim.ask(f"cancelled {' '.join(panic.symbols)}"))
        overtaking = {
            at
            for long in longs
            for at in await group.sim.ask(f"cancelled {' '.join(long.symbols)}")
            if since + ON_THEIR_WAY < at < first_panic
        }
        stats = await group.sim.stats()
    assert panicked["report"]["allClosed"]
    assert all(result["closed"] == LONG for result in results)
    assert stats["pacing_429"] == 0
    assert stats["violations"] == 0
    assert sorted(overtaking) == []
