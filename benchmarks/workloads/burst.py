"""Panic burst: 500 targets over 10 symbols go out at once; time until every outcome, beside the
reference client."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bitget_cancel import CancelEngine
from bitget_cancel._session import KEEP_WARM
from bitget_cancel.sim import SimExchange

from ._common import (
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

TARGETS = 500
SYMBOLS = 10
LATENCY = 0.020
ALLOWANCE = 0.010  # the target: one latency plus this
PAUSE = 0.05  # between warm_up() and the burst: the panic comes later, not on its heels


@dataclass
class BurstTrial:
    elapsed: float  # wall time of the cancel call
    warm_up: float  # wall time of warm_up(), 0 when not called
    requests: int
    all_closed: bool


def burst_sim(seed: int, latency: float, handshake: float) -> SimExchange:
    return SimExchange(
        latency_ms=(latency * 1000, latency * 1000),
        handshake_ms=handshake * 1000,
        seed=seed,
        api_key=fresh_api_key(),
    )


async def burst_trial(
    seed: int,
    *,
    warm: bool,
    latency: float = LATENCY,
    handshake: float = 0.0,
    idle: float = PAUSE,
    base_url: str | None = None,
    sim: SimExchange | None = None,
    keep_warm: float | None = KEEP_WARM,
) -> BurstTrial:
    """One burst from a fresh engine (warmed up or not, re-warmed every ``keep_warm`` s),
    against a fresh simulator unless one is given; ``base_url`` points the engine elsewhere
    (a proxy in front of ``sim``)."""
    if sim is None:
        async with burst_sim(seed, latency, handshake) as fresh:
            return await burst_trial(
                seed, warm=warm, idle=idle, base_url=base_url, sim=fresh, keep_warm=keep_warm
            )
    targets = place_targets(sim, TARGETS, SYMBOLS, seed=seed)
    async with CancelEngine(credentials(sim), base_url=base_url or sim.base_url) as engine:
        warm_up = 0.0
        if warm:
            started = time.perf_counter()
            await engine.warm_up(keep_warm=keep_warm)
            warm_up = time.perf_counter() - started
            await asyncio.sleep(idle)
        started = time.perf_counter()
        report = await engine.cancel(targets)
        elapsed = time.perf_counter() - started
    closed = report.all_closed and not sim.open_orders()
    return BurstTrial(elapsed, warm_up, report.requests, closed)


async def reference_burst(seed: int, *, warm: bool, latency: float = LATENCY) -> BurstTrial:
    """The same burst from the reference client; warm: 10 connections opened beforehand."""
    async with burst_sim(seed, latency, 0.0) as sim, reference_for(sim, (0.0, 0.0)) as ref:
        targets = place_targets(sim, TARGETS, SYMBOLS, seed=seed)
        if warm:
            await ref.open_connections(10)
            await asyncio.sleep(PAUSE)
        run = await ref.cancel([(t.symbol, t.order_id or "") for t in targets])
        return BurstTrial(run.elapsed, 0.0, run.requests, not sim.open_orders())


async def run(quick: bool) -> Section:
    repeats = 5 if quick else 21
    target = LATENCY + ALLOWANCE
    rows: list[list[str]] = []
    checks: list[Check] = []
    warm_ratio = 0.0
    warm_elapsed = 0.0
    for warm in (False, True):
        ours: list[BurstTrial] = []
        ref: list[BurstTrial] = []
        for seed in range(repeats):
            ours.append(await burst_trial(seed, warm=warm))
            ref.append(await reference_burst(seed, warm=warm))
        engine_s = Runs.of(t.elapsed for t in ours)
        ref_s = Runs.of(t.elapsed for t in ref)
        closed = all(t.all_closed for t in ours + ref)
        label = "after `warm_up()`" if warm else "cold (connections opened by the burst)"
        vs_ref = engine_s.median / ref_s.median
        rows.append(
            [
                label,
                str(ours[0].requests),
                engine_s.show(ms),
                ref_s.show(ms),
                f"**{engine_s.median / LATENCY:.2f}**",
                f"**{vs_ref:.2f}**",
                yes_no(closed),
            ]
        )
        checks.append(
            Check(
                f"panic burst, {'warm' if warm else 'cold'}",
                f"{ms(engine_s.median)} = {engine_s.median / LATENCY:.2f} latencies, "
                f"{vs_ref:.2f} × reference",
                f"≤ {ms(target)}",
                engine_s.median <= target and closed,
            )
        )
        if warm:
            warm_ratio, warm_elapsed = vs_ref, engine_s.median
    # The same burst with no latency at all: what the CPU work of both sides costs.
    floor = Runs.of(
        [(await burst_trial(seed, warm=True, latency=0.0)).elapsed for seed in range(repeats)]
    )
    ref_floor = Runs.of(
        [(await reference_burst(seed, warm=True, latency=0.0)).elapsed for seed in range(repeats)]
    )
    rows.append(
        [
            "after warming, latency 0 (CPU only)",
            "10",
            floor.show(ms),
            ref_floor.show(ms),
            "—",
            f"{floor.median / ref_floor.median:.2f}",
            "",
        ]
    )
    intro = f"""
{TARGETS} targets over {SYMBOLS} symbols (10 requests of 50), fixed latency
{LATENCY * 1000:g} ms, strict 10/s window: the whole burst fits the window, so every request
can be in flight at once and the bound is one latency. Time: wall time until every outcome is
known (engine: `engine.cancel()` returns; reference: the 10 answers of the raw aiohttp client
are read), each run from a fresh client and simulator, engine and reference alternating;
median (range) of {repeats} runs. Warm: the engine after `await engine.warm_up()`, the
reference after 10 parallel reads of the server time, then a {PAUSE * 1000:g} ms pause. Target:
≤ one latency + {ALLOWANCE * 1000:g} ms = {target * 1000:g} ms. Client and simulator share one
event loop and one core, so the simulator's work is inside every figure; the last row runs the
burst with no latency to show that CPU work.
"""
    return Section(
        "Panic burst",
        intro,
        [
            "client state",
            "requests",
            "engine: time to all outcomes",
            "reference",
            "engine in latencies",
            "engine ÷ reference",
            "all closed",
        ],
        rows,
        checks,
        headline=[
            f"**Panic burst:** all outcomes of {TARGETS} orders (10 requests) arrive in "
            f"{ms(warm_elapsed)} at {LATENCY * 1000:g} ms latency after `warm_up()`, "
            f"{warm_ratio:.2f} × a raw-aiohttp client sending the same 10 requests."
        ],
    )
