"""Throughput against the sliding-window bound of the 10 req/s batch-cancel limit, beside the
reference client in the same run."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bitget_cancel import CancelEngine
from bitget_cancel.sim import SimExchange

from ._common import (
    BATCH_CANCEL_PATH,
    Check,
    Runs,
    Section,
    credentials,
    fresh_api_key,
    min_requests,
    place_targets,
    rate_bound,
    secs,
    span,
)
from ._reference import reference_for

LATENCY_MS = (2.0, 30.0)
MEAN_LATENCY = sum(LATENCY_MS) / 2 / 1000  # uniform latency: its mean, in seconds
MAX_RATIO = 1.05

# 2,525 targets make 51 requests: a count that is not a multiple of the window's 10.
FULL_CASES = ((3_000, 20), (3_000, 300), (2_525, 300), (10_000, 300))
QUICK_CASES = ((1_025, 300),)


@dataclass
class Trial:
    elapsed: float
    requests: int
    throttled: int
    left_open: int
    peak_in_window: int


def _sim(seed: int) -> SimExchange:
    return SimExchange(latency_ms=LATENCY_MS, seed=seed, api_key=fresh_api_key())


def _trial(sim: SimExchange, elapsed: float, requests: int, throttled: int = 0) -> Trial:
    return Trial(
        elapsed=elapsed,
        requests=requests,
        throttled=sim.stats.pacing_429 + throttled,
        left_open=len(sim.open_orders()),
        peak_in_window=sim.stats.max_in_window.get(BATCH_CANCEL_PATH, 0),
    )


async def trial(total: int, n_symbols: int, seed: int) -> Trial:
    """The engine: wall time of ``await engine.cancel(targets)``."""
    async with _sim(seed) as sim:
        targets = place_targets(sim, total, n_symbols, seed=seed)
        async with CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
            started = time.perf_counter()
            report = await engine.cancel(targets)
            elapsed = time.perf_counter() - started
        return _trial(sim, elapsed, report.requests, report.throttled)


async def reference_trial(total: int, n_symbols: int, seed: int) -> Trial:
    """The reference client on an identical simulator and account."""
    async with _sim(seed) as sim, reference_for(sim, LATENCY_MS) as reference:
        targets = place_targets(sim, total, n_symbols, seed=seed)
        run = await reference.cancel([(t.symbol, t.order_id or "") for t in targets])
        return _trial(sim, run.elapsed, run.requests)


async def run(quick: bool) -> Section:
    cases = QUICK_CASES if quick else FULL_CASES
    repeats = 1 if quick else 3
    rows: list[list[str]] = []
    checks: list[Check] = []
    ratios: list[float] = []
    vs_refs: list[float] = []
    excess = (0.0, 0.0)  # engine, reference: seconds above the bound, last case
    for total, n_symbols in cases:
        ours: list[Trial] = []
        ref: list[Trial] = []
        for seed in range(repeats):  # alternating, so both sides share the machine's moods
            ours.append(await trial(total, n_symbols, seed))
            ref.append(await reference_trial(total, n_symbols, seed))
        n = min_requests(total)
        bound = rate_bound(n, MEAN_LATENCY)
        engine_s = Runs.of(t.elapsed for t in ours)
        ref_s = Runs.of(t.elapsed for t in ref)
        vs_bound = engine_s.median / bound
        vs_ref = engine_s.median / ref_s.median
        ratios.append(vs_bound)
        excess = (engine_s.median - bound, ref_s.median - bound)
        vs_refs.append(vs_ref)
        throttled = sum(t.throttled for t in ours)
        left = sum(t.left_open for t in ours)
        ref_clean = sum(t.throttled + t.left_open for t in ref) == 0
        rows.append(
            [
                f"{total:,} / {n_symbols}",
                f"{max(t.requests for t in ours)} (min {n})",
                secs(bound),
                engine_s.show(secs),
                ref_s.show(secs),
                f"**{vs_bound:.3f}**",
                f"**{vs_ref:.3f}**",
                f"{ref_s.median / bound:.3f}",
                f"{throttled} / {sum(t.throttled for t in ref)}",
                str(max(t.peak_in_window for t in ours)),
                f"{left} / {sum(t.left_open for t in ref)}",
            ]
        )
        checks.append(
            Check(
                f"throughput {total:,} targets / {n_symbols} symbols ({n} requests)",
                f"{vs_bound:.3f} × bound, {vs_ref:.3f} × reference, {throttled} × 429, "
                f"{left} left open",
                f"≤ {MAX_RATIO} × bound, 0 × 429, 0 left open",
                vs_bound <= MAX_RATIO and throttled == 0 and left == 0 and ref_clean,
            )
        )
    intro = f"""
Latency {LATENCY_MS[0]:g}–{LATENCY_MS[1]:g} ms (uniform, half before arrival, half after),
the simulator's strict sliding-window limit of 10 batch-cancel arrivals per second, every
target an open order, targets shuffled. Engine: wall time of `await engine.cancel(targets)`.
Reference: `benchmarks/workloads/_reference.py`, raw aiohttp sending the same number of
requests (50 orders each, `batchMode=multiple`), each slot of the window reused
{1000 - LATENCY_MS[0]:g} ms after the answer that held it (1 s minus the simulator's least
round trip, which only it knows). Engine and reference alternate, each run with a fresh
simulator and account; {repeats} run(s) each, median (range).

**Bound** for n requests, right for any n: at most 10 arrivals in any sliding second, so
request k (0-based) arrives no earlier than ⌊k/10⌋ s after the first; the last is sent at
⌊(n − 1)/10⌋ s and answered one latency later: `bound = ⌊(n − 1)/10⌋ s +
{MEAN_LATENCY * 1000:g} ms` (the mean of the latency range). n = 51 gives 5.016 s, as n = 60
does. Target: engine ÷ bound ≤ {MAX_RATIO}, zero 429s, nothing left open. Engine ÷ reference
is the figure that carries across machines.
"""
    return Section(
        "Throughput vs the rate-limit bound and the reference client",
        intro,
        [
            "targets / symbols",
            "requests",
            "bound",
            "engine",
            "reference",
            "engine ÷ bound",
            "engine ÷ reference",
            "reference ÷ bound",
            "429s (engine / ref)",
            "peak arrivals / 1 s",
            "left open (engine / ref)",
        ],
        rows,
        checks,
        [_excess(cases[-1][0], excess)],
        [
            f"**Throughput:** {_orders(cases)} orders over {_symbols(cases)} symbols finish in "
            f"{span(ratios)} × the sliding-window bound (⌊(n − 1)/10⌋ s + one latency, n "
            f"requests), with zero 429s: {span(vs_refs)} × a raw-aiohttp reference client "
            "pacing the same requests perfectly in the same run."
        ],
    )


def _excess(total: int, excess: tuple[float, float]) -> str:
    """Where the time above the bound goes, per 1-second cycle of the window."""
    cycles = (min_requests(total) - 1) // 10
    engine, reference = (1000 * e / cycles for e in excess)
    return (
        "Where the time above the bound goes: the bound assumes a client that sees arrival "
        "times. A client sees only answers, so a slot of the window comes back one round trip "
        f"(mean {MEAN_LATENCY * 1000:g} ms) after the second it covers, less what the client "
        "knows of the least latency (the reference: 2 ms; the engine: nothing, it adds 2 ms "
        "instead), plus however late the machine wakes its timers. Measured at "
        f"{total:,} targets ({cycles} cycles): {reference:.1f} ms per cycle for the reference, "
        f"{engine:.1f} ms for the engine."
    )


def _orders(cases: tuple[tuple[int, int], ...]) -> str:
    low, high = min(c[0] for c in cases), max(c[0] for c in cases)
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def _symbols(cases: tuple[tuple[int, int], ...]) -> str:
    low, high = min(c[1] for c in cases), max(c[1] for c in cases)
    return f"{low}" if low == high else f"{low}–{high}"
