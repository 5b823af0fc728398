"""A panic process beside cancel processes on one Redis budget: how many of their requests
overtook the panic once it waited for a slot (``tests/redis/test_panic_priority.py`` and
``benchmarks/workloads/strategy_contention.py``).

The panic's process marks in Redis when it began to wait (a field ``f:<participant>`` of the
budget's state, Redis's time); "overtaken" counts the cancel processes' requests that reached
the simulator after that and before the panic's first cancel (the simulator's update times of
the orders, in ms: one host, one clock). Arrival is not grant: a request granted before the
panic waited may arrive after that, and one granted just after the panic's grant may arrive
before the panic's request (its process busier). Requests within ``ON_THEIR_WAY`` (ten times
the simulator's latency) of either end are left out: their order is the machine's, not the
budget's.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bitget_cancel._redis_budget import budget_keys

from .fleet import Participant, fleet
from .helpers import client

PREFIX = "bitget-cancel"  # the Redis store's default key prefix
LATENCY_MS = 10.0
ON_THEIR_WAY = 10 * LATENCY_MS
PANIC = 20  # one symbol, fewer than cancel-symbol-order takes: the panic uses the batch lane


@dataclass(frozen=True)
class PanicBeside:
    overtaken: int  # the others' requests after the panic waited, before its first cancel
    waited_ms: float  # from when it began to wait to its first cancel
    all_closed: bool  # every order of every process closed, the panic's account empty
    pacing_429: int


async def _waiting_since_ms(url: str, state: str, panic: Participant) -> float:
    """When the panic's process began to wait for a batch-cancel slot (Redis time, ms)."""
    field = f"f:{panic.hello['participant']}"
    async with client(url) as redis:
        for _ in range(4000):  # bounded: 20 s
            found = await redis.hget(state, field)
            if found is not None:
                return int(found) / 1000
            await asyncio.sleep(0.005)
    raise AssertionError("the panic never waited for a slot")


async def panic_beside(url: str, directory: Path, *, cancels: int, orders: int) -> PanicBeside:
    """``cancels`` processes of ``orders`` orders each start; once each has its first
    outcome (the account's window is full), a panic process starts."""
    async with fleet(directory, penalty_s=0, latency_ms=(LATENCY_MS, LATENCY_MS)) as group:
        names = [f"c{i}" for i in range(cancels)]
        longs = [await group.add(n, orders=orders, symbols=8, budget_url=url) for n in names]
        panic = await group.add("p", orders=PANIC, symbols=1, panic=True, budget_url=url)
        state = budget_keys(PREFIX, panic.hello["account"], "batch-cancel-order").state
        for long in longs:
            await long.go()
        for long in longs:
            await long.under_way()
        await panic.go()
        since = await _waiting_since_ms(url, state, panic)
        panicked = await panic.report()
        results = [await long.report() for long in longs]
        first_panic = min(await group.sim.ask(f"cancelled {' '.join(panic.symbols)}"))
        overtaking = {
            at
            for long in longs
            for at in await group.sim.ask(f"cancelled {' '.join(long.symbols)}")
            if since + ON_THEIR_WAY < at < first_panic - ON_THEIR_WAY
        }
        stats = await group.sim.stats()
    closed = bool(panicked["report"]["allClosed"]) and all(r["closed"] == orders for r in results)
    return PanicBeside(len(overtaking), first_panic - since, closed, int(stats["pacing_429"]))
