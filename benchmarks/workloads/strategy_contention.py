"""One engine shared by a strategy, part 2 (issue 24): a deadline behind a long cancel, thirty
calls confirming "does not exist" together, and a panic on a Redis budget (in its process and
beside cancel processes).

Run alone: ``python -m benchmarks.workloads.strategy_contention [--quick]``.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, HttpRequest, HttpResponse
from tests.redis.panic_fleet import PanicBeside, panic_beside
from tests.redis.server import RedisServer

from ._common import (
    BATCH_CANCEL_PATH,
    Check,
    Runs,
    Section,
    credentials,
    ms,
    place_targets,
    yes_no,
)
from .confirm import LISTINGS
from .shared_engine import LATENCY, PER_TASK, TASKS, PanicTrial, Recording, calls_of, panic_trial
from .shared_engine import _sim as sim_for

DEADLINE = 0.3  # the short call's
SHORT = 5
CALLS, PER_CALL = TASKS, PER_TASK  # a grid bot pulling its levels, as in shared_engine


class Timed(Recording):
    """The built-in transport, noting when each batch cancel naming ``symbol`` went out."""

    __slots__ = ("naming", "symbol")

    def __init__(self, base_url: str, symbol: str) -> None:
        super().__init__(base_url)
        self.symbol = symbol
        self.naming: list[float] = []  # perf_counter() at each send

    async def send(self, request: HttpRequest) -> HttpResponse:
        if request.path == BATCH_CANCEL_PATH and self.symbol.encode() in request.body:
            self.naming.append(time.perf_counter())
        return await super().send(request)


@dataclass
class DeadlineTrial:
    returned: float  # seconds from the call to its report
    after_deadline: int  # requests naming its orders sent after its deadline
    unresolved: int
    never_sent: int  # unresolved and never named by a request: certainly still open


async def deadline_trial(seed: int, *, behind: int) -> DeadlineTrial:
    """``cancel(SHORT orders, deadline=DEADLINE)`` right after a ``behind``-order cancel sent
    its first burst (the account's window is full for about a second)."""
    async with sim_for(seed) as sim:
        big = place_targets(sim, behind, max(1, behind // 50), seed=seed)
        short = [
            CancelTarget(symbol="SHORTUSDT", order_id=o.order_id)
            for o in sim.place_orders("SHORTUSDT", SHORT)
        ]
        timed = Timed(sim.base_url, "SHORTUSDT")
        async with CancelEngine(credentials(sim), transport=timed) as engine:
            await engine.warm_up()
            burst_out = asyncio.Event()
            long_call = asyncio.create_task(
                engine.cancel(big, progress=lambda done, total: burst_out.set())
            )
            await burst_out.wait()
            started = time.perf_counter()
            report = await engine.cancel(short, deadline=DEADLINE)
            returned = time.perf_counter() - started
            await long_call
        late = sum(1 for at in timed.naming if at > started + DEADLINE)
        unresolved = report.unresolved
        never = sum(1 for o in unresolved if o.attempts == 0)
        return DeadlineTrial(returned, late, len(unresolved), never)


@dataclass
class ConfirmTrial:
    listings: int  # listing requests the simulator counted
    elapsed: float  # until every call returned
    all_not_open: bool  # every outcome not_open (confirmed), every report all closed


async def confirm_trial(seed: int, *, together: bool) -> ConfirmTrial:
    """CALLS calls of PER_CALL orders already gone at once, or one call of all of them."""
    async with sim_for(seed) as sim:
        targets, groups = calls_of(sim, seed, together=together)
        async with CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
            await engine.warm_up()
            await engine.cancel(targets)  # now they are gone
            await asyncio.sleep(1.0)  # out of the rate window of those requests
            sim.reset_stats()
            started = time.perf_counter()
            reports = await asyncio.gather(*(engine.cancel(group) for group in groups))
            elapsed = time.perf_counter() - started
        listings = sum(sim.stats.requests.get(path, 0) for path in LISTINGS)
        confirmed = all(
            report.all_closed and all(o.status is CancelStatus.NOT_OPEN for o in report.outcomes)
            for report in reports
        )
        return ConfirmTrial(listings, elapsed, confirmed)


async def run(quick: bool) -> Section:
    repeats = 3 if quick else 5
    behind = 1000 if quick else 3000
    checks: list[Check] = []
    # -- a deadline behind a long cancel (item 1) ---------------------------------------------
    deadlines = [await deadline_trial(seed, behind=1000) for seed in range(repeats)]
    returned = Runs.of(t.returned for t in deadlines)
    rows = [
        [
            f"`cancel({SHORT} orders, deadline={DEADLINE:g})` behind a 1,000-order cancel",
            returned.show(ms),
            str(max(t.after_deadline for t in deadlines)),
            f"{max(t.unresolved for t in deadlines)} ({min(t.never_sent for t in deadlines)} "
            "never sent)",
        ]
    ]
    checks.append(
        Check(
            "a deadline behind a long cancel",
            f"returned after {ms(returned.median)}, "
            f"{max(t.after_deadline for t in deadlines)} requests after the deadline",
            f"returns by its deadline ({ms(DEADLINE)}), nothing sent after it",
            returned.high <= DEADLINE + 0.05 and max(t.after_deadline for t in deadlines) == 0,
        )
    )
    # -- thirty calls confirming together (shared listings) ------------------------------------
    together = [await confirm_trial(seed, together=True) for seed in range(repeats)]
    alone = [await confirm_trial(seed, together=False) for seed in range(repeats)]
    confirm_rows = [
        [
            label,
            "/".join(sorted({str(t.listings) for t in trials})),
            Runs.of(t.elapsed for t in trials).show(ms),
            yes_no(all(t.all_not_open for t in trials)),
        ]
        for label, trials in (
            (f"{CALLS} calls × {PER_CALL} gone orders, one engine", together),
            (f"one call of the same {CALLS * PER_CALL}", alone),
        )
    ]
    checks.append(
        Check(
            f"{CALLS} calls confirming together",
            f"{max(t.listings for t in together)} listing requests",
            f"the listings of one call ({max(t.listings for t in alone)})",
            max(t.listings for t in together) <= max(t.listings for t in alone)
            and all(t.all_not_open for t in together),
        )
    )
    # -- a panic on a Redis budget (item 4) -------------------------------------------------
    panics: list[PanicTrial] = []
    beside: list[PanicBeside] = []
    directory = Path(tempfile.mkdtemp(prefix="bench-contention-"))
    server = RedisServer(directory / "redis")
    try:
        (directory / "redis").mkdir()
        server.start()
        for seed in range(repeats):
            panics.append(await panic_trial(seed, behind=behind, budget_url=server.url))
            run_dir = directory / f"fleet-{seed}"
            run_dir.mkdir()
            beside.append(await panic_beside(server.url, run_dir, cancels=5, orders=400))
    finally:
        server.close()
        shutil.rmtree(directory, ignore_errors=True)
    panic_rows = [
        [
            f"in its process, behind a {behind:,}-order cancel",
            "/".join(sorted({str(t.overtaken) for t in panics})),
            Runs.of(t.first_outcome for t in panics).show(ms),
            yes_no(all(t.all_closed for t in panics)),
        ],
        [
            "in its own process, beside 5 cancel processes × 400 orders",
            "/".join(sorted({str(t.overtaken) for t in beside})),
            Runs.of(t.waited_ms / 1000 for t in beside).show(ms),
            yes_no(all(t.all_closed and t.pacing_429 == 0 for t in beside)),
        ],
    ]
    overtaken = max([t.overtaken for t in panics] + [t.overtaken for t in beside])
    checks.append(
        Check(
            "a panic on a Redis budget",
            f"overtaken by {overtaken} requests",
            "0 (the next free slot is the panic's, in any process)",
            overtaken == 0
            and all(t.all_closed for t in panics)
            and all(t.all_closed and t.pacing_429 == 0 for t in beside),
        )
    )
    intro = f"""
One engine, one account, the simulator at a fixed {LATENCY * 1000:g} ms latency and the
exchange's 10 batch cancels per sliding second; engines warmed up before the clock starts.
Top table (item 1): a call of {SHORT} orders with a {DEADLINE:g} s deadline right after a
1,000-order cancel sent its first burst: the account's window is full for about a second, so
the call cannot send before its deadline; "after deadline" counts requests naming its orders
sent after it (on main at 9b54df9 it returned after 0.98 s, its request sent 0.68 s after the
deadline). Median (range) of {repeats} runs.
"""
    notes = [
        f'Confirming "does not exist": {CALLS} calls of {PER_CALL} orders already cancelled, at '
        "once on one engine, against one call of them all; listing requests as the simulator "
        "counted them (each call running its own confirmation sent 3, 90 in all).",
        "",
        "| calls | listing requests | time until all returned | all confirmed not open |",
        "|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in confirm_rows),
        "",
        "A panic (20 orders on one symbol, found by listing) on a Redis budget "
        "(`budget_url=`, a local redis-server): in the process of a long cancel that just sent "
        'its first burst ("overtaken": the cancel\'s requests sent after the panic began and '
        'before its first; "first": to its first outcome), and in a process of its own beside '
        'five cancel processes that filled the window ("overtaken": their requests that reached '
        "the simulator after the panic began to wait and before its first cancel, leaving out "
        'those already on their way; "first": that wait). Before, the in-process panic was '
        "overtaken by 9 requests (a Redis budget served in arrival order) and, beside five "
        "processes, by 1 or 2.",
        "",
        "| panic on a Redis budget | overtaken | first | all closed, no 429 |",
        "|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in panic_rows),
    ]
    return Section(
        "One engine shared by a strategy: deadlines, shared confirmations, a panic on Redis",
        intro,
        ["call", "returned after", "requests after deadline", "unresolved"],
        rows,
        checks,
        notes=notes,
    )


if __name__ == "__main__":
    from ._common import run_standalone

    run_standalone(run)
