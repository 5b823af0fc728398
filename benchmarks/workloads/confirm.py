"""The cost of confirming "does not exist" (issue 19): 3,000 targets of which 5 % were filled
before the cancel, with ``cancel(confirm=True)`` (the default) and ``confirm=False``.

Run alone: ``python -m benchmarks.workloads.confirm [--quick]``.

A filled order answers "does not exist" like an order filed under the wrong symbol or kind;
the confirmation lists the account's open orders of every kind (one page per 100 open, at
least one per kind) before the report may say ``not_open``. With nothing answered "does not
exist" it costs nothing, which the last row checks.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bitget_cancel import CancelEngine
from bitget_cancel.sim import SimExchange

from ._common import Check, Runs, Section, credentials, fresh_api_key, place_targets, secs

TARGETS = 3_000
SYMBOLS = 30
FILLED = 0.05
LATENCY_MS = (2.0, 30.0)
LISTINGS = ("/api/v2/spot/trade/unfilled-orders", "/api/v2/spot/trade/current-plan-order")


@dataclass
class Trial:
    requests: int
    listings: int
    elapsed: float
    not_open: int
    all_closed: bool
    left_open: int


async def trial(seed: int, targets: int, filled: float, *, confirm: bool) -> Trial:
    async with SimExchange(latency_ms=LATENCY_MS, seed=seed, api_key=fresh_api_key()) as sim:
        given = place_targets(sim, targets, SYMBOLS, seed=seed)
        gone = given[: round(len(given) * filled)]
        async with CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
            await engine.cancel(gone, confirm=False)  # "filled" before the cancel
            await asyncio.sleep(1.0)  # out of the rate window of those requests
            sim.reset_stats()
            started = time.perf_counter()
            report = await engine.cancel(given, confirm=confirm)
            elapsed = time.perf_counter() - started
        listings = sum(sim.stats.requests.get(path, 0) for path in LISTINGS)
        return Trial(
            report.requests,
            listings,
            elapsed,
            len(report.not_open),
            report.all_closed,
            sim.count_open(),
        )


async def run(quick: bool) -> Section:
    repeats = 1 if quick else 5
    targets = 600 if quick else TARGETS
    cases = [
        (f"{FILLED:.0%} filled, `confirm=True`", FILLED, True),
        (f"{FILLED:.0%} filled, `confirm=False`", FILLED, False),
        ("none filled, `confirm=True`", 0.0, True),
    ]
    results: list[list[Trial]] = []
    for _, filled, confirm in cases:
        results.append(
            [await trial(seed, targets, filled, confirm=confirm) for seed in range(repeats)]
        )
    rows = []
    for (label, *_), trials in zip(cases, results, strict=True):
        rows.append(
            [
                label,
                f"{trials[0].not_open}",
                Runs.of(t.requests for t in trials).show(lambda v: f"{v:g}"),
                Runs.of(t.listings for t in trials).show(lambda v: f"{v:g}"),
                Runs.of(t.elapsed for t in trials).show(secs),
                "yes" if all(t.all_closed and t.left_open == 0 for t in trials) else "**no**",
            ]
        )
    confirmed, unconfirmed, clean = (Runs.of(t.elapsed for t in r).median for r in results)
    extra_requests = (
        Runs.of(t.requests for t in results[0]).median
        - Runs.of(t.requests for t in results[1]).median
    )
    free = all(t.listings == 0 for t in results[2])
    intro = f"""
{targets} normal orders on {SYMBOLS} symbols (latency {LATENCY_MS[0]:g}–{LATENCY_MS[1]:g} ms),
of which {FILLED:.0%} were closed before the cancel (by an engine, then the simulator's counters
reset): the cancel hears "does not exist" for those. With `confirm=True` every such answer is
checked against one listing of each kind (normal, TP/SL, plan) of the whole account, read to its
last page. Median (range) of {repeats} runs, each on a fresh simulator and engine.
"""
    check = Check(
        "confirmation",
        f"{FILLED:.0%} of {targets} filled: +{extra_requests:g} requests, "
        f"+{secs(confirmed - unconfirmed)}; none filled: {'no' if free else 'some'} listing",
        "the normal path costs no request",
        free,
    )
    return Section(
        'Confirming "does not exist"',
        intro,
        ["case", "not_open", "requests", "of which listings", "time to the report", "all closed"],
        rows,
        [check],
        [
            f"The listing is one page per 100 open orders of each kind, whatever the number of "
            f"ambiguous answers: asking the order-detail endpoint instead would cost one request "
            f"per ambiguous order ({round(targets * FILLED)} here, at 20 requests/s)."
        ],
        [
            f"**Confirmation:** with {FILLED:.0%} of {targets} targets filled before the cancel, "
            f'confirming their "does not exist" costs {extra_requests:g} listing requests and '
            f"{secs(confirmed - unconfirmed)} ({secs(unconfirmed)} → {secs(confirmed)}); "
            f"nothing when no answer was ambiguous ({secs(clean)})."
        ],
    )


if __name__ == "__main__":
    from ._common import run_standalone

    run_standalone(run)
