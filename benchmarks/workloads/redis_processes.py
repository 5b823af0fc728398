"""Several processes on one account: one budget in Redis vs a budget per process.

python -m benchmarks.workloads.redis_processes            # full: 4 processes x 2,500 orders
python -m benchmarks.workloads.redis_processes --quick    # 4 x 500, no penalty run

Each participant is its own process (``tests/redis/engine_worker.py``) with a CancelEngine and
its own orders; all cancel at once on one simulator process (``tests/redis/sim_server.py``,
latency 2-30 ms, the account's 10 batch cancels per sliding second). Prints a markdown table;
``run(quick)`` returns it as a ``Section`` for ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.redis_roundtrip import in_process, on_redis, row
from tests.redis.fleet import BATCH_CANCEL, fleet
from tests.redis.server import RedisServer

from ._common import Check, Section, min_requests, rate_bound, secs, table

PROCESSES = 4
LATENCY_MS = (2.0, 30.0)
MEAN_LATENCY = sum(LATENCY_MS) / 2 / 1000
PENALTY_S = 300.0  # what the exchange does after a 429 ("takes 5 minutes to recover")
PENALTY_DEADLINE = 30.0  # how long the in-process run with the penalty is given
MAX_RATIO = 1.05
ROUNDTRIP_CYCLES = 3000


@dataclass
class Trial:
    """One run of every participant together."""

    label: str
    penalty_s: float
    elapsed: float  # from the first participant's start to the last one's report
    requests: int
    pacing_429: int
    penalty_429: int
    left_open: int
    peak_in_window: int
    fallbacks: int
    finished: bool  # every participant closed all its orders


async def trial(
    label: str,
    orders: int,
    *,
    budget_url: str | None,
    penalty_s: float,
    deadline: float = 120.0,
) -> Trial:
    with tempfile.TemporaryDirectory(prefix="redis-processes-") as directory:
        async with fleet(Path(directory), penalty_s=penalty_s, latency_ms=LATENCY_MS) as group:
            for n in range(PROCESSES):
                await group.add(f"p{n}", orders=orders, symbols=5, budget_url=budget_url,
                                deadline=deadline)  # fmt: skip
            await group.go()
            results = [await p.report() for p in group.participants]
            stats = await group.sim.stats()
            left_open = await group.sim.open()
    batch = stats["endpoints"].get(BATCH_CANCEL, {})
    return Trial(
        label=label,
        penalty_s=penalty_s,
        elapsed=max(r["finished"] for r in results) - min(r["started"] for r in results),
        requests=batch.get("requests", 0),
        pacing_429=stats["pacing_429"],
        penalty_429=stats["penalty_429"],
        left_open=left_open,
        peak_in_window=stats["max_in_window"].get(BATCH_CANCEL, 0),
        fallbacks=sum(r["report"]["budgetFallbacks"] for r in results),
        finished=all(r["closed"] == r["total"] == orders for r in results),
    )


async def roundtrip(url: str, cycles: int) -> list[str]:
    """The rows of ``benchmarks/redis_roundtrip.py``: what the store costs per request."""
    local_acquire, local_cycle = await in_process(cycles)
    redis_acquire, redis_cycle = await on_redis(url, cycles)
    return [
        row("in-process", "acquire", local_acquire),
        row("in-process", "acquire + release", local_cycle),
        row("Redis", "acquire (one round trip, on the request's path)", redis_acquire),
        row("Redis", "acquire + release (two round trips)", redis_cycle),
    ]


async def run(quick: bool) -> Section:
    orders = 500 if quick else 2_500
    total = PROCESSES * orders
    requests = min_requests(total)
    bound = rate_bound(requests, MEAN_LATENCY)
    server = RedisServer()
    server.start()
    try:
        trials = [
            await trial("Redis (one budget)", orders, budget_url=server.url, penalty_s=PENALTY_S),
            await trial("in-process (a budget each)", orders, budget_url=None, penalty_s=0.0),
        ]
        if not quick:
            trials.append(
                await trial(
                    "in-process (a budget each)",
                    orders,
                    budget_url=None,
                    penalty_s=PENALTY_S,
                    deadline=PENALTY_DEADLINE,
                )
            )
        costs = await roundtrip(server.url, 500 if quick else ROUNDTRIP_CYCLES)
    finally:
        server.close()
    return _section(orders, total, requests, bound, trials, costs, quick)


def _section(
    orders: int,
    total: int,
    requests: int,
    bound: float,
    trials: list[Trial],
    costs: list[str],
    quick: bool,
) -> Section:
    rows = []
    for t in trials:
        shown = f"**{t.elapsed / bound:.3f}**" if t.finished else "— (not all closed)"
        rows.append([
            t.label, f"{t.penalty_s:g} s", secs(t.elapsed), secs(bound), shown,
            str(t.requests), str(t.pacing_429), str(t.penalty_429), str(t.peak_in_window),
            f"{t.left_open:,}", str(t.fallbacks),
        ])  # fmt: skip
    shared = trials[0]
    ratio = shared.elapsed / bound
    zero_429 = shared.pacing_429 + shared.penalty_429 == 0
    met = shared.finished and zero_429 and shared.left_open == 0 and ratio <= MAX_RATIO
    intro = f"""
{PROCESSES} processes × {orders:,} orders (5 symbols each) on one account, all started
together; each process is a CancelEngine of the same api_key (`tests/redis/engine_worker.py`),
the simulator a process of its own (`tests/redis/sim_server.py`, latency 2–30 ms, 10 batch
cancels per sliding second per account). Elapsed: from the first process's `cancel()` call to
the last one's report (`time.monotonic()`, one clock for the host).

**Bound** for the {total:,} orders together, n = {requests} requests of 50: the first 10 at
t = 0, request k (k ≥ 10) no earlier than (k − 9)/10 s, the last answered one latency later:
`bound = (n − 10)/10 s + 16 ms` = {bound:.3f} s. Target: Redis ≤ {MAX_RATIO} × bound, 0 × 429.
The in-process rows give each process its own budget of 10/s: with the simulator's penalty off
(0 s) they draw 429s, and an order whose request drew 429 on each of its 5 attempts stays open
(unresolved); with the exchange's {PENALTY_S:g} s penalty every request after the first 429 is
refused, and the run stops at its {PENALTY_DEADLINE:g} s deadline.
"""
    notes = [
        "Redis round trip per request (`benchmarks/redis_roundtrip.py`, the same redis-server "
        f"on 127.0.0.1, {500 if quick else ROUNDTRIP_CYCLES:,} cycles):",
        "",
        "| store | part | median | p99 |",
        "|---|---|---|---|",
        *costs,
    ]
    check = Check(
        f"8. {PROCESSES} processes × {orders:,} orders on one account (Redis)",
        f"{ratio:.3f} × bound, {shared.pacing_429 + shared.penalty_429} × 429, "
        f"{shared.left_open} left open; in-process: {trials[1].pacing_429} × 429",
        f"≤ {MAX_RATIO} × bound, 0 × 429",
        met,
    )
    headers = ["budgets", "sim penalty", "elapsed", "bound", "elapsed ÷ bound", "requests",
               "pacing 429s", "penalty 429s", "peak / 1 s", "left open", "fallbacks"]  # fmt: skip
    return Section(8, "Several processes on one account", intro, headers, rows, [check], notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 x 500 orders, no penalty run")
    args = parser.parse_args()
    section = asyncio.run(run(args.quick))
    print(section.markdown())
    print("\n".join(table(["check", "measured", "target", "met"],
                          [[c.label, c.measured, c.target, "yes" if c.met else "**no**"]
                           for c in section.checks])))  # fmt: skip


if __name__ == "__main__":
    main()
