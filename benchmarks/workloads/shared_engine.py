"""One engine shared by a strategy's tasks: concurrent small cancels share requests; a panic's
first request behind a long cancel (issue 24, items 1, 3 and 4)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bitget_cancel import AiohttpTransport, CancelEngine, CancelTarget, HttpRequest, HttpResponse
from bitget_cancel.sim import SimExchange

from ._common import (
    BATCH_CANCEL_PATH,
    Check,
    Runs,
    Section,
    credentials,
    fresh_api_key,
    ms,
    place_targets,
    yes_no,
)
from ._reference import reference_for

LATENCY = 0.020
TASKS = 30
PER_TASK = 2
PANIC_ORDERS = 20
PANIC_SYMBOL = "PANICUSDT"


def _sim(seed: int) -> SimExchange:
    return SimExchange(
        latency_ms=(LATENCY * 1000, LATENCY * 1000), seed=seed, api_key=fresh_api_key()
    )


@dataclass
class SharedTrial:
    requests: int
    elapsed: float  # until every call returned
    slowest: float  # the longest single call
    all_closed: bool


def calls_of(
    sim: SimExchange, seed: int, *, together: bool
) -> tuple[list[CancelTarget], list[list[CancelTarget]]]:
    """TASKS * PER_TASK open orders, one per symbol and task; the calls that cancel them:
    TASKS calls of PER_TASK orders, or one call of all of them."""
    targets = place_targets(sim, TASKS * PER_TASK, TASKS, seed=seed)
    return targets, [targets[i::TASKS] for i in range(TASKS)] if together else [targets]


async def tasks_trial(seed: int, *, together: bool) -> SharedTrial:
    """TASKS calls of PER_TASK orders at once, or one call of all of them."""
    async with _sim(seed) as sim:
        _, groups = calls_of(sim, seed, together=together)
        async with CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
            await engine.warm_up()
            sim.reset_stats()
            times: list[float] = []

            async def one(group: list[CancelTarget]) -> bool:
                started = time.perf_counter()
                report = await engine.cancel(group)
                times.append(time.perf_counter() - started)
                return report.all_closed

            started = time.perf_counter()
            closed = await asyncio.gather(*(one(group) for group in groups))
            elapsed = time.perf_counter() - started
        requests = sim.stats.endpoint(BATCH_CANCEL_PATH).requests
        return SharedTrial(requests, elapsed, max(times), all(closed) and not sim.open_orders())


async def reference_trial(seed: int) -> SharedTrial:
    async with _sim(seed) as sim, reference_for(sim, (LATENCY * 1000, LATENCY * 1000)) as ref:
        targets = place_targets(sim, TASKS * PER_TASK, TASKS, seed=seed)
        await ref.open_connections(2)
        run = await ref.cancel([(t.symbol, t.order_id or "") for t in targets])
        return SharedTrial(run.requests, run.elapsed, run.elapsed, not sim.open_orders())


class Recording(AiohttpTransport):
    """The built-in transport, noting which batch-cancel requests go out, in order."""

    __slots__ = ("sent",)

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.sent: list[bool] = []  # per batch-cancel request: does it name the panic's symbol

    async def send(self, request: HttpRequest) -> HttpResponse:
        if request.path == BATCH_CANCEL_PATH:
            self.sent.append(PANIC_SYMBOL.encode() in request.body)
        return await super().send(request)


@dataclass
class PanicTrial:
    first_outcome: float  # from the panic call to its first final outcome
    elapsed: float  # the whole panic
    overtaken: int  # batch requests of the long cancel sent after the panic began, before its first
    all_closed: bool


async def panic_trial(seed: int, *, behind: int, budget_url: str | None = None) -> PanicTrial:
    """A panic on one symbol (PANIC_ORDERS orders), alone or ``behind`` a cancel of that many
    orders that has just sent its first burst; ``budget_url``: the budget in that Redis."""
    async with _sim(seed) as sim:
        big = place_targets(sim, behind, max(1, behind // 50), seed=seed) if behind else []
        for order in sim.place_orders(PANIC_SYMBOL, PANIC_ORDERS):
            del order  # open: the panic finds them by listing
        recording = Recording(sim.base_url)
        async with CancelEngine(
            credentials(sim), transport=recording, budget_url=budget_url
        ) as engine:
            await engine.warm_up()
            burst_out = asyncio.Event()
            long_call = None
            if big:
                long_call = asyncio.create_task(
                    engine.cancel(big, progress=lambda done, total: burst_out.set())
                )
                await burst_out.wait()
            before = len(recording.sent)
            first: list[float] = []
            started = time.perf_counter()

            def progress(done: int, total: int) -> None:
                if not first and done:
                    first.append(time.perf_counter() - started)

            report = await engine.panic_cancel([PANIC_SYMBOL], kinds=["normal"], progress=progress)
            elapsed = time.perf_counter() - started
            if long_call is not None:
                await long_call
        panic_left = sim.open_orders(PANIC_SYMBOL)
        after = recording.sent[before:]
        overtaken = after.index(True) if True in after else -1
        return PanicTrial(
            first[0] if first else elapsed, elapsed, overtaken, report.all_closed and not panic_left
        )


async def run(quick: bool) -> Section:
    repeats = 3 if quick else 7
    behind = 1000 if quick else 3000
    rows: list[list[str]] = []
    checks: list[Check] = []
    trials = {
        "30 tasks × 2 orders, one engine": [
            await tasks_trial(seed, together=True) for seed in range(repeats)
        ],
        "one call of the same 60 orders": [
            await tasks_trial(seed, together=False) for seed in range(repeats)
        ],
        "reference client, 60 orders": [await reference_trial(seed) for seed in range(repeats)],
    }
    for label, runs in trials.items():
        rows.append(
            [
                label,
                "/".join(sorted({str(t.requests) for t in runs})),
                Runs.of(t.elapsed for t in runs).show(ms),
                Runs.of(t.slowest for t in runs).show(ms),
                yes_no(all(t.all_closed for t in runs)),
            ]
        )
    shared, single = (
        trials["30 tasks × 2 orders, one engine"],
        trials["one call of the same 60 orders"],
    )
    shared_s, single_s = Runs.of(t.elapsed for t in shared), Runs.of(t.elapsed for t in single)
    checks.append(
        Check(
            "30 concurrent cancels of 2 orders",
            f"{max(t.requests for t in shared)} requests, {ms(shared_s.median)} "
            f"({shared_s.median / single_s.median:.2f} × one call)",
            f"the requests of one call ({max(t.requests for t in single)})",
            max(t.requests for t in shared) <= max(t.requests for t in single)
            and all(t.all_closed for t in shared),
        )
    )
    alone = [await panic_trial(seed, behind=0) for seed in range(repeats)]
    loaded = [await panic_trial(seed, behind=behind) for seed in range(repeats)]
    panic_rows = []
    for label, panics, behind_it in (
        ("panic alone", alone, False),
        (f"panic behind a {behind:,}-order cancel", loaded, True),
    ):
        panic_rows.append(
            [
                label,
                Runs.of(t.first_outcome for t in panics).show(ms),
                Runs.of(t.elapsed for t in panics).show(ms),
                "/".join(sorted({str(t.overtaken) for t in panics})) if behind_it else "—",
                yes_no(all(t.all_closed for t in panics)),
            ]
        )
    checks.append(
        Check(
            "a panic behind a long cancel",
            f"overtaken by {max(t.overtaken for t in loaded)} queued requests",
            "0 (the next free slot is the panic's)",
            max(t.overtaken for t in loaded) == 0 and all(t.all_closed for t in loaded),
        )
    )
    intro = f"""
One engine, one account, the simulator at a fixed {LATENCY * 1000:g} ms latency and the
exchange's 10 batch cancels per sliding second; engines warmed up (`warm_up()`) before the
clock starts. Top table: {TASKS} tasks each cancelling {PER_TASK} orders of its own symbol at
once (a grid bot pulling its levels), against one call of the same {TASKS * PER_TASK} orders
and the raw-aiohttp reference client sending them in the fewest requests; requests as the
simulator counted them; "slowest call" is the longest single `cancel()`. Before calls shared
requests (main at 9b54df9) the 30 tasks sent 30 requests. Bottom table: a panic on one symbol
({PANIC_ORDERS} orders, found by listing) started right after a {behind:,}-order `cancel()`
sent its first burst of 10 requests, so the account's window is full: "overtaken" counts the
long cancel's requests sent after the panic began and before the panic's first answer (0: the
panic had the next free slot). The panic cannot beat the window itself: its first cancel goes
when the first slot of the burst frees, about one second after the burst. Median (range) of
{repeats} runs.
"""
    notes = [
        "| panic | first outcome | whole panic | overtaken | all closed |",
        "|---|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in panic_rows),
    ]
    return Section(
        "One engine shared by a strategy",
        intro,
        ["calls", "requests", "time until all returned", "slowest call", "all closed"],
        rows,
        checks,
        notes=notes,
        headline=[
            f"**Shared engine:** {TASKS} concurrent cancels of {PER_TASK} orders send "
            f"{max(t.requests for t in shared)} requests (one call of the {TASKS * PER_TASK} "
            f"sends {max(t.requests for t in single)}); a panic behind a {behind:,}-order "
            "cancel takes the next free slot."
        ],
    )


if __name__ == "__main__":
    from ._common import run_standalone

    run_standalone(run)
