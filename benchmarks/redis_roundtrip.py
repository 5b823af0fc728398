"""What the Redis budget costs per request, beside the in-process budget.

python benchmarks/redis_roundtrip.py                      # starts its own redis-server
python benchmarks/redis_roundtrip.py --url redis://host:6379/0 --cycles 5000

Each cycle is one slot: ``acquire()`` (on the request's path: one Lua script round trip for
Redis), then ``release()`` (off the path: sent from a background task) and, for Redis, a wait
until that release has reached the server, so the cycle counts both round trips. The budget is
large enough that nobody waits for a window: this is the store's own cost. Prints a markdown
table of the median and the 99th percentile.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make ``tests`` and the package importable
    sys.path.insert(0, str(ROOT))

from bitget_cancel._limit import RateBudget  # noqa: E402
from bitget_cancel._redis_budget import RedisBudgets  # noqa: E402

RATE = 1_000_000  # never a wait: the store's cost alone


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(
    cycle: Callable[[], Awaitable[float]], cycles: int
) -> tuple[list[float], list[float]]:
    """(acquire times, whole-cycle times) in microseconds."""
    for _ in range(min(200, cycles)):  # warm up: connections, script cache
        await cycle()
    acquires, wholes = [], []
    for _ in range(cycles):
        start = time.perf_counter()
        acquired = await cycle()
        wholes.append((time.perf_counter() - start) * 1e6)
        acquires.append((acquired - start) * 1e6)
    return acquires, wholes


async def in_process(cycles: int) -> tuple[list[float], list[float]]:
    budget = RateBudget(RATE, 1.0, name="bench")

    async def cycle() -> float:
        slot = await budget.acquire()
        acquired = time.perf_counter()
        if slot is None:
            raise RuntimeError("the in-process budget gave no slot")
        slot.release()
        return acquired

    return await measure(cycle, cycles)


async def on_redis(url: str, cycles: int) -> tuple[list[float], list[float]]:
    provider = RedisBudgets(url)
    budget = provider.budget("bench-account", "bench", RATE)

    async def cycle() -> float:
        slot = await budget.acquire()
        acquired = time.perf_counter()
        if slot is None or not slot.shared:
            raise RuntimeError("Redis did not answer")
        slot.release()
        await provider.flush()
        return acquired

    try:
        return await measure(cycle, cycles)
    finally:
        await provider.close()


def row(store: str, part: str, samples: list[float]) -> str:
    return (
        f"| {store} | {part} | {statistics.median(samples):,.1f} µs "
        f"| {percentile(samples, 0.99):,.1f} µs |"
    )


async def main(url: str | None, cycles: int) -> None:
    server = None
    if url is None:
        from tests.redis.server import RedisServer

        server = RedisServer()
        server.start()
        url = server.url
    try:
        local_acquire, local_cycle = await in_process(cycles)
        redis_acquire, redis_cycle = await on_redis(url, cycles)
    finally:
        if server is not None:
            server.close()
    where = "a local redis-server" if server else "the given URL"
    print(f"{cycles:,} cycles each; Redis at {where}\n")
    print("| store | part | median | p99 |")
    print("|---|---|---|---|")
    print(row("in-process", "acquire", local_acquire))
    print(row("in-process", "acquire + release", local_cycle))
    print(row("Redis", "acquire (one round trip, on the request's path)", redis_acquire))
    print(row("Redis", "acquire + release (two round trips)", redis_cycle))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an existing Redis (default: start a redis-server)")
    parser.add_argument("--cycles", type=int, default=3000)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.cycles))
