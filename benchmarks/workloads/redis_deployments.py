"""The shared budget on the deployments users run: Redis local, Redis 10 ms away, a Redis
restart mid-run, a Redis Cluster.

python -m benchmarks.workloads.redis_deployments            # 4 processes x 2,500 orders
python -m benchmarks.workloads.redis_deployments --quick    # 4 x 500

Each participant is its own process (``tests/redis/engine_worker.py``) with a CancelEngine of
the same api_key and its own orders; all cancel at once on one simulator process (latency
2-30 ms, the account's 10 batch cancels per sliding second). "10 ms away": a relay delays
every byte 10 ms each way (``tests/redis/delay_proxy.py``). "Restart": the redis-server is
stopped once every participant is under way and started again empty (no persistence) on the
same port. "Cluster": three ``--cluster-enabled`` masters joined by ``redis-cli --cluster
create``. Reported: elapsed against the combined sliding-window bound, 429s, and Redis round
trips per request (the participants' own count of script calls and pings, over every request
the simulator saw from them).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bitget_cancel._redis_budget import RedisBudgets
from tests.redis import sim_server
from tests.redis.delay_proxy import DelayProxy
from tests.redis.deployments import LocalCluster
from tests.redis.fleet import BATCH_CANCEL, Fleet, fleet
from tests.redis.server import RedisServer

from ._common import Check, Section, run_standalone, secs
from .redis_processes import LATENCY_MS, PROCESSES, combined_bound, redis_binary

FULL_ORDERS, QUICK_ORDERS = 2_500, 500  # per process
TITLE = "The shared budget on real Redis deployments"

During = Callable[[Fleet], Awaitable[None]]


@dataclass
class Run:
    label: str
    elapsed: float
    requests: int
    throttled: int
    peak_in_window: int
    left_open: int
    fallbacks: int
    resets: int
    round_trips: int
    finished: bool


async def nothing(group: Fleet) -> None:
    return None


async def prime(url: str) -> None:
    """The store has served the account before: its epoch exists (a store's first use holds
    everyone one window, as after a reset; that cost is the restart row's)."""
    account = hashlib.sha256(sim_server.API_KEY.encode()).hexdigest()[:16]  # the engine's
    provider = RedisBudgets(url)
    try:
        slot = await provider.budget(account, "batch-cancel-order", 10).acquire()
        if slot is None or not slot.shared:
            raise RuntimeError("Redis did not answer")
        slot.give_back()
    finally:
        await provider.close()


async def one_run(label: str, orders: int, url: str, during: During = nothing) -> Run:
    await prime(url)
    with tempfile.TemporaryDirectory(prefix="redis-deployments-") as directory:
        async with fleet(Path(directory), penalty_s=0, latency_ms=LATENCY_MS) as group:
            for n in range(PROCESSES):
                await group.add(f"p{n}", orders=orders, symbols=5, budget_url=url)
            await group.go()
            await during(group)
            results = [await p.report() for p in group.participants]
            stats = await group.sim.stats()
            left_open = await group.sim.open()
    requests = sum(e["requests"] for e in stats["endpoints"].values())
    return Run(
        label=label,
        elapsed=max(r["finished"] for r in results) - min(r["started"] for r in results),
        requests=requests,
        throttled=stats["pacing_429"] + stats["penalty_429"],
        peak_in_window=stats["max_in_window"].get(BATCH_CANCEL, 0),
        left_open=left_open,
        fallbacks=sum(r["report"]["budgetFallbacks"] for r in results),
        resets=sum(r["resets"] for r in results),
        round_trips=sum(r["roundTrips"] for r in results),
        finished=all(r["closed"] == r["total"] == orders for r in results),
    )


@contextlib.asynccontextmanager
async def local_redis() -> AsyncIterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


async def runs(orders: int) -> list[Run]:
    found = []
    async with local_redis() as server:
        found.append(await one_run("Redis local", orders, server.url))
        async with DelayProxy(server.port, 0.010) as proxy:
            found.append(await one_run("Redis 10 ms away (each way)", orders, proxy.url))

        async def restart(group: Fleet) -> None:
            for participant in group.participants:
                await participant.under_way()
            await asyncio.sleep(1.0)  # well into the run
            server.stop()
            server.start()

        found.append(await one_run("Redis restarted mid-run", orders, server.url, restart))
    cluster = LocalCluster()
    cluster.start()
    try:
        found.append(await one_run("Redis Cluster (3 masters)", orders, cluster.url))
    finally:
        cluster.close()
    return found


async def run(quick: bool) -> Section:
    orders = QUICK_ORDERS if quick else FULL_ORDERS
    if redis_binary() is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        check = Check(_label(orders), reason, _target(), False)
        return Section(TITLE, f"Not measured: {reason}.", ["deployment", "result"],
                       [["all", reason]], [check])  # fmt: skip
    return section(orders, await runs(orders))


def _label(orders: int) -> str:
    return f"{PROCESSES} processes × {orders:,} orders, Redis local/remote/restarted/cluster"


def _target() -> str:
    return "0 × 429, nothing left open (the ratio is reported, not a target)"


def section(orders: int, found: list[Run]) -> Section:
    requests, bound = combined_bound(orders)
    rows = []
    for r in found:
        ratio = f"**{r.elapsed / bound:.3f}**" if r.finished else "— (not all closed)"
        rows.append([
            r.label, secs(r.elapsed), secs(bound), ratio, str(r.requests), str(r.throttled),
            str(r.peak_in_window), f"{r.left_open:,}", str(r.fallbacks), str(r.resets),
            f"{r.round_trips / max(r.requests, 1):.2f}",
        ])  # fmt: skip
    met = all(r.finished and r.throttled == 0 and r.left_open == 0 for r in found)
    summary = "; ".join(
        f"{r.label}: {r.elapsed / bound:.3f} × bound, {r.throttled} × 429" for r in found
    )
    intro = f"""
{PROCESSES} processes × {orders:,} orders (5 symbols each) on one account, all started
together, their budget in Redis deployed four ways (see the workload's docstring). Bound:
the combined sliding-window bound of the {PROCESSES * orders:,} orders, n = {requests}
batch cancels, `⌊(n − 1)/10⌋ s + mean latency` = {secs(bound)}. "Round trips / request":
the participants' Redis round trips (takes, releases, presence, pings) over the requests the
simulator saw; a burst's take serves up to 10 requests, a release is one per request, off the
request's path. "Resets": participants that saw the store lose its keys (a new epoch). The
store has served the account before each run (its epoch exists): a first use would hold
everyone one window, as the restart does."""
    headers = ["deployment", "elapsed", "bound", "elapsed ÷ bound", "requests", "429s",
               "peak / 1 s", "left open", "fallbacks", "resets",
               "Redis round trips / request"]  # fmt: skip
    return Section(TITLE, intro, headers, rows, [Check(_label(orders), summary, _target(), met)])


if __name__ == "__main__":
    run_standalone(run)
