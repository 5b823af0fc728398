"""2. Panic burst: 500 targets over 10 symbols go out at once; time until every outcome."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bitget_cancel import CancelEngine
from bitget_cancel.sim import SimExchange

from ._common import Check, Section, credentials, fresh_api_key, median, ms, place_targets, yes_no

TARGETS = 500
SYMBOLS = 10
LATENCY = 0.020
ALLOWANCE = 0.010  # the target: one latency plus this


@dataclass
class BurstTrial:
    elapsed: float  # wall time of the cancel call
    warm_up: float  # wall time of warm_up(), 0 when not called
    requests: int
    all_closed: bool


async def burst_trial(
    seed: int, *, warm: bool, latency: float = LATENCY, handshake: float = 0.0
) -> BurstTrial:
    """One burst against a fresh simulator, from a fresh engine (warmed up or not)."""
    sim = SimExchange(
        latency_ms=(latency * 1000, latency * 1000),
        handshake_ms=handshake * 1000,
        seed=seed,
        api_key=fresh_api_key(),
    )
    async with sim:
        targets = place_targets(sim, TARGETS, SYMBOLS, seed=seed)
        async with CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
            warm_up = 0.0
            if warm:
                started = time.perf_counter()
                await engine.warm_up()
                warm_up = time.perf_counter() - started
                await asyncio.sleep(0.05)  # the panic comes later, not on the warm-up's heels
            started = time.perf_counter()
            report = await engine.cancel(targets)
            elapsed = time.perf_counter() - started
        closed = report.all_closed and not sim.open_orders()
        return BurstTrial(elapsed, warm_up, report.requests, closed)


async def run(quick: bool) -> Section:
    repeats = 5 if quick else 21
    target = LATENCY + ALLOWANCE
    rows: list[list[str]] = []
    checks: list[Check] = []
    for warm in (False, True):
        trials = [await burst_trial(seed, warm=warm) for seed in range(repeats)]
        times = [t.elapsed for t in trials]
        elapsed = median(times)
        closed = all(t.all_closed for t in trials)
        label = "after `warm_up()`" if warm else "cold (connections opened by the burst)"
        rows.append(
            [
                label,
                str(trials[0].requests),
                ms(elapsed),
                f"**{elapsed / LATENCY:.2f}**",
                f"{ms(min(times))} / {ms(max(times))}",
                yes_no(closed),
            ]
        )
        checks.append(
            Check(
                f"2. panic burst, {'warm' if warm else 'cold'}",
                f"{ms(elapsed)} = {elapsed / LATENCY:.2f} latencies",
                f"≤ {ms(target)}",
                elapsed <= target and closed,
            )
        )
    # The same burst with no latency at all: what the CPU work of both sides costs.
    floor = median(
        [(await burst_trial(seed, warm=True, latency=0.0)).elapsed for seed in range(repeats)]
    )
    rows.append(["after `warm_up()`, latency 0 (CPU only)", "10", ms(floor), "—", "", ""])
    intro = f"""
{TARGETS} targets over {SYMBOLS} symbols (10 requests of 50), fixed latency
{LATENCY * 1000:g} ms, strict 10/s window: the whole burst fits the window, so every request
can be in flight at once and the floor is one latency. Time: wall time of `engine.cancel()`
until the report (every outcome known), median of {repeats} runs, each from a fresh engine.
Target: ≤ one latency + {ALLOWANCE * 1000:g} ms = {target * 1000:g} ms. The client and the
simulator share one event loop and one core, so the simulator's own work is inside the figure;
the last row runs the same burst with no latency to show that CPU work (client and simulator
together; about a third of it is the simulator's, by profile).
"""
    return Section(
        2,
        "Panic burst",
        intro,
        [
            "engine",
            "requests",
            "time to all outcomes (median)",
            "in latencies",
            "min / max",
            "all closed",
        ],
        rows,
        checks,
    )
