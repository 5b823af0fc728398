"""What the Redis budget costs per request, beside the in-process budget; and how soon a
burst leaves with Redis far away.

python benchmarks/redis_roundtrip.py                      # starts its own redis-server
python benchmarks/redis_roundtrip.py --url redis://host:6379/0 --cycles 5000
python benchmarks/redis_roundtrip.py --burst              # Redis 1, 10, 50 ms away

``--burst``: a CancelEngine cancels 500 orders (10 batch cancels, the account's burst) on the
simulator, its budget in a redis-server behind a TCP relay that delays every byte by 1, 10 or
50 ms each way (``tests/redis/delay_proxy.py``). The store is warm (an earlier cancel loaded
the scripts and opened a connection; that request has left the window). Measured: when the
10th request leaves the engine (its transport's ``send``), from the ``cancel()`` call, against
one Redis round trip through the relay (a ``PING``, median of 5) and the same cancel with the
in-process budget just before (what the engine itself takes); the median of 3 runs.

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
from typing import Any

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


class _Timed:
    """The engine's transport, noting when each request leaves."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sent: list[float] = []

    async def send(self, request: Any) -> Any:
        self.sent.append(asyncio.get_running_loop().time())
        return await self.inner.send(request)

    async def warm_up(self, path: str, connections: int, timeout: float) -> None:
        await self.inner.warm_up(path, connections, timeout)

    async def close(self) -> None:
        await self.inner.close()


async def burst_behind(redis_port: int | None, delay: float) -> tuple[float, float, int]:
    """(one Redis round trip, when the 10th request left, Redis round trips for the burst):
    seconds, seconds, count; Redis ``delay`` seconds away each way. ``redis_port=None``: the
    in-process budget (the same run's reference: what the engine itself takes)."""
    import redis.asyncio as aioredis

    from bitget_cancel import CancelEngine, CancelTarget, Credentials
    from bitget_cancel._transport import AiohttpTransport
    from bitget_cancel.sim import SimExchange
    from tests.redis.delay_proxy import DelayProxy

    loop = asyncio.get_running_loop()
    port = redis_port or 1  # unused without Redis
    async with DelayProxy(port, delay) as proxy, SimExchange(latency_ms=(1, 2)) as sim:
        trips = [0.0]
        if redis_port is not None:
            ping = aioredis.Redis(port=proxy.port)
            try:
                for _ in range(5):
                    start = loop.time()
                    await ping.ping()
                    trips.append(loop.time() - start)
                trips.pop(0)
            finally:
                await ping.aclose()
        transport = _Timed(AiohttpTransport(sim.base_url))
        creds = Credentials(api_key=sim.api_key, secret_key=sim.secret_key,
                            passphrase=sim.passphrase)  # fmt: skip
        engine = CancelEngine(creds, base_url=sim.base_url, account="classic",
                              budget_url=proxy.url if redis_port else None,
                              account_id=f"burst-{delay}",
                              transport=transport)  # fmt: skip
        async with engine:
            warm = sim.place_orders("WARMUSDT", 1)
            await engine.cancel([CancelTarget(symbol=o.symbol, order_id=o.order_id) for o in warm])
            await asyncio.sleep(1.2)  # that request leaves the window
            orders = sim.place_orders("BTCUSDT", 500)
            transport.sent.clear()
            before = getattr(engine._budgets, "round_trips", 0)
            start = loop.time()
            report = await engine.cancel(
                [CancelTarget(symbol=o.symbol, order_id=o.order_id) for o in orders]
            )
            tenth = sorted(transport.sent)[9] - start
            takes = getattr(engine._budgets, "round_trips", 0) - before
        if report.counts()["cancelled"] != 500:
            raise RuntimeError(f"the burst did not cancel everything: {report.counts()}")
    return statistics.median(trips), tenth, takes


Burst = tuple[float, float, float, float, int]
REPEATS = 3


async def bursts(delays: list[float]) -> list[Burst]:
    """(delay, round trip, 10th request, the in-process budget's 10th request measured just
    before, Redis round trips during the cancel) per delay."""
    from tests.redis.server import RedisServer

    server = RedisServer()
    server.start()
    found = []
    try:
        for delay in delays:
            runs = []
            for _ in range(REPEATS):  # the median run: one can hit a stall of the machine
                _, alone, _ = await burst_behind(None, delay)
                trip, tenth, trips = await burst_behind(server.port, delay)
                runs.append((tenth - alone - trip, (delay, trip, tenth, alone, trips)))
            found.append(sorted(runs)[len(runs) // 2][1])
    finally:
        server.close()
    return found


def burst_rows(measured: list[Burst]) -> list[str]:
    rows = []
    for delay, trip, tenth, alone, trips in measured:
        extra = tenth - alone - trip
        within = "yes" if extra <= 0.005 else "**no**"
        rows.append(
            f"| {delay * 1000:g} ms | {trip * 1000:.1f} ms | {alone * 1000:.1f} ms "
            f"| {tenth * 1000:.1f} ms | {extra * 1000:+.1f} ms | {within} | {trips} |"
        )
    return rows


BURST_HEADER = [
    "| Redis away (each way) | one round trip | 10th request leaves: in-process budget "
    "| with Redis | Redis − in-process − one round trip | ≤ 5 ms "
    "| Redis round trips during the cancel (1 take + 10 releases) |",
    "|---|---|---|---|---|---|---|",
]


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
    parser.add_argument("--burst", action="store_true", help="the burst with Redis far away")
    args = parser.parse_args()
    if args.burst:
        print("\n".join(BURST_HEADER + burst_rows(asyncio.run(bursts([0.001, 0.010, 0.050])))))
    else:
        asyncio.run(main(args.url, args.cycles))
