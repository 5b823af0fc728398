"""Several processes on one account: one budget in Redis vs a budget per process.

python -m benchmarks.workloads.redis_processes            # full: 4 processes x 2,500 orders
python -m benchmarks.workloads.redis_processes --quick    # 4 x 500, no penalty run

Each participant is its own process (``tests/redis/engine_worker.py``) with a CancelEngine and
its own orders; all cancel at once on one simulator process (``tests/redis/sim_server.py``,
latency 2-30 ms, the account's 10 batch cancels per sliding second). Needs a redis-server
binary; without one the section says so. ``run(quick)`` returns a ``Section`` for
``benchmarks/run.py``.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.redis_roundtrip import in_process, on_redis, row
from tests.redis.fleet import BATCH_CANCEL, fleet
from tests.redis.server import REDIS_SERVER, RedisServer

from ._common import Check, Section, min_requests, rate_bound, run_standalone, secs

PROCESSES = 4
LATENCY_MS = (2.0, 30.0)
MEAN_LATENCY = sum(LATENCY_MS) / 2 / 1000
PENALTY_S = 300.0  # what the exchange does after a 429 ("takes 5 minutes to recover")
PENALTY_DEADLINE = 30.0  # how long the in-process run with the penalty is given
MAX_RATIO = 1.05
FULL_ORDERS, QUICK_ORDERS = 2_500, 500  # per process
ROUNDTRIP_CYCLES, QUICK_CYCLES = 3000, 300
TITLE = "Several processes on one account: one budget in Redis"


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


def redis_binary() -> str | None:
    """The redis-server the benchmark would start, or None when it is not installed."""
    found = shutil.which("redis-server") or REDIS_SERVER
    return found if Path(found).exists() else None


async def run(quick: bool) -> Section:
    orders = QUICK_ORDERS if quick else FULL_ORDERS
    cycles = QUICK_CYCLES if quick else ROUNDTRIP_CYCLES
    if redis_binary() is None:
        return not_measured(orders, "redis-server is not installed (apt-get install redis-server)")
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
        costs = await roundtrip(server.url, cycles)
    finally:
        server.close()
    return section(orders, trials, costs, cycles)


def combined_bound(orders: int) -> tuple[int, float]:
    """The requests of every participant's orders together, and when the last is answered
    under the account's one window of 10 a second."""
    requests = min_requests(PROCESSES * orders)
    return requests, rate_bound(requests, MEAN_LATENCY)


def _target() -> str:
    return f"≤ {MAX_RATIO} × bound, 0 × 429"


def _label(orders: int) -> str:
    return f"{PROCESSES} processes × {orders:,} orders on one account (Redis budget)"


def not_measured(orders: int, reason: str) -> Section:
    """The section when the benchmark cannot run here: it says why, and its target is unmet."""
    return Section(
        TITLE,
        f"Not measured: {reason}.",
        ["budgets", "result"],
        [["Redis (one budget)", f"not measured: {reason}"]],
        [Check(_label(orders), f"not measured: {reason}", _target(), False)],
    )


def section(orders: int, trials: list[Trial], costs: list[str], cycles: int) -> Section:
    """The Section of measured trials (pure: the smoke test builds one from made-up trials)."""
    total = PROCESSES * orders
    requests, bound = combined_bound(orders)
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
    throttled = shared.pacing_429 + shared.penalty_429
    met = shared.finished and throttled == 0 and shared.left_open == 0 and ratio <= MAX_RATIO
    contrast = "; ".join(
        f"in-process, penalty {t.penalty_s:g} s: {t.pacing_429 + t.penalty_429} × 429, "
        f"{t.left_open:,} left open"
        for t in trials[1:]
    )
    penalty_run = len(trials) > 2
    intro = f"""
{PROCESSES} processes × {orders:,} orders (5 symbols each) on one account, all started
together; each process is a CancelEngine of the same api_key (`tests/redis/engine_worker.py`),
the simulator a process of its own (`tests/redis/sim_server.py`, latency
{LATENCY_MS[0]:g}–{LATENCY_MS[1]:g} ms, 10 batch cancels per sliding second per account).
Elapsed: from the first process's `cancel()` call to the last one's report
(`time.monotonic()`, one clock for the host).

**Bound** for the {total:,} orders together, n = {requests} requests of 50 under the
account's one window: request k (0-based) arrives no earlier than ⌊k/10⌋ s after the first,
the last is answered one latency later: `bound = ⌊(n − 1)/10⌋ s + {MEAN_LATENCY * 1000:g} ms`
= {secs(bound)}. Target (issue 12): Redis ≤ {MAX_RATIO} × bound, 0 × 429, nothing left open.
The in-process rows give each process its own budget of 10/s: with the simulator's penalty
off (0 s) they draw 429s, and an order whose request drew 429 on each of its 5 attempts stays
open (unresolved)"""
    if penalty_run:
        intro += (
            f"; with the exchange's {PENALTY_S:g} s penalty every request after the first 429 "
            f"is refused, and the run stops at its {PENALTY_DEADLINE:g} s deadline"
        )
    intro += "."
    notes = [
        "Redis round trip per request (`benchmarks/redis_roundtrip.py`, the same redis-server "
        f"on 127.0.0.1, {cycles:,} cycles):",
        "",
        "| store | part | median | p99 |",
        "|---|---|---|---|",
        *costs,
    ]
    check = Check(
        _label(orders),
        f"{ratio:.3f} × bound, {throttled} × 429, {shared.left_open} left open; {contrast}",
        _target(),
        met,
    )
    headers = ["budgets", "sim penalty", "elapsed", "bound", "elapsed ÷ bound", "requests",
               "pacing 429s", "penalty 429s", "peak / 1 s", "left open", "fallbacks"]  # fmt: skip
    apart = trials[1].pacing_429 + trials[1].penalty_429
    headline = (
        f"**Several processes, one account:** {PROCESSES} processes × {orders:,} orders "
        f"sharing one budget in Redis finish in {ratio:.3f} × the combined sliding-window bound "
        f"with {throttled} × 429; with a budget each, {apart} × 429."
    )
    return Section(TITLE, intro, headers, rows, [check], notes, [headline])


if __name__ == "__main__":
    run_standalone(run)
