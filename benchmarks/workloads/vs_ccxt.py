"""Side by side with ccxt on the same simulator, in the same run: each timed until nothing it
was given is open, ccxt with the retry loop a careful user writes."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from bitget_cancel import CancelEngine
from bitget_cancel.sim import SimExchange

from . import _ccxt
from ._common import (
    BATCH_CANCEL_PATH,
    Check,
    Runs,
    Section,
    credentials,
    fresh_api_key,
    int_span,
    min_requests,
    place_targets,
    rate_bound,
    secs,
    spread,
)

LATENCY_MS = (2.0, 30.0)
MEAN_LATENCY = sum(LATENCY_MS) / 2 / 1000
UNFILLED_PATH = "/api/v2/spot/trade/unfilled-orders"
FULL_CASES = ((3_000, 300), (3_000, 20))
QUICK_CASES = ((200, 20),)
# How long the simulator refuses every request after a 429 of the client's own making: none,
# and the 5 minutes Bitget's FAQ gives for a tripped limit to recover (the simulator's default).
PENALTIES = (0.0, 300.0)
# Runs per side and case. A 300 s penalty costs ccxt over 5 minutes a run: set
# BENCH_CCXT_PENALTY_RUNS to repeat it (the default is one run).
PENALTY_RUNS = int(os.environ.get("BENCH_CCXT_PENALTY_RUNS", "1"))


@dataclass
class Side:
    elapsed: float
    requests: int  # batch-cancel requests the simulator received
    pages: int  # unfilled-orders requests the simulator received
    throttled: int  # 429s of the client's own making: pacing and during a penalty
    rounds: int  # cancel passes (the engine: 1 call)
    left_open: int  # orders still open in the simulator afterwards


def _sim(seed: int, penalty: float) -> SimExchange:
    return SimExchange(latency_ms=LATENCY_MS, seed=seed, api_key=fresh_api_key(), penalty_s=penalty)


def _side(sim: SimExchange, elapsed: float, rounds: int) -> Side:
    return Side(
        elapsed,
        sim.stats.requests.get(BATCH_CANCEL_PATH, 0),
        sim.stats.requests.get(UNFILLED_PATH, 0),
        sim.stats.throttled,
        rounds,
        len(sim.open_orders()),
    )


async def engine_side(total: int, n_symbols: int, seed: int = 0, penalty: float = 0.0) -> Side:
    """``await engine.cancel(targets)``: it returns once every target has an outcome."""
    async with _sim(seed, penalty) as sim:
        targets = place_targets(sim, total, n_symbols, seed=seed)
        async with CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
            started = time.perf_counter()
            await engine.cancel(targets)
            elapsed = time.perf_counter() - started
        return _side(sim, elapsed, 1)


async def ccxt_side(total: int, n_symbols: int, seed: int = 0, penalty: float = 0.0) -> Side:
    """The careful loop around ``cancel_orders``, after ``load_markets()`` (not timed)."""
    async with _sim(seed, penalty) as sim:
        targets = place_targets(sim, total, n_symbols, seed=seed)
        ids = _ccxt.ids_by_market([(t.symbol, t.order_id or "") for t in targets])
        client = _ccxt.make_client(
            sim.base_url, sim.api_key, sim.secret_key, sim.passphrase, rate_limit=True
        )
        try:
            await client.load_markets()
            sim.reset_stats()
            started = time.perf_counter()
            result = await _ccxt.cancel_until_closed(client, ids)
            elapsed = time.perf_counter() - started
        finally:
            await client.close()
        return _side(sim, elapsed, result.rounds)


def _penalty(seconds: float) -> str:
    return f"{seconds:g} s"


def _row(label: str, penalty: float, client: str, sides: list[Side]) -> list[str]:
    return [
        label,
        _penalty(penalty),
        client,
        str(len(sides)),
        Runs.of(s.elapsed for s in sides).show(secs),
        int_span(s.requests for s in sides),
        int_span(s.pages for s in sides),
        int_span(s.throttled for s in sides),
        int_span(s.rounds for s in sides),
        f"**{sum(s.left_open for s in sides):,}** ({int_span(s.left_open for s in sides)} a run)",
    ]


def _what_happened(total: int, sides: list[Side]) -> str:
    """ccxt's outcome in words: done, or stopped with orders left open."""
    left = [s.left_open for s in sides]
    if not any(left):
        return f"closed all {total:,} in {Runs.of(s.elapsed for s in sides).show(secs)}"
    return (
        f"gave up after {Runs.of(s.elapsed for s in sides).show(secs)} with "
        f"{int_span(left)} of {total:,} orders still open a run"
    )


def _why(total: int, n_symbols: int, ours: list[Side], theirs: list[Side]) -> str:
    """The reasons for the gap, named from what the simulator counted."""
    ratio = Runs.of(s.elapsed for s in theirs).median / Runs.of(s.elapsed for s in ours).median
    first_pass = sum(-(-count // _ccxt.CHUNK) for _, count in spread(total, n_symbols))
    packed = min_requests(total)
    parts = [f"{total:,} / {n_symbols}, penalty 0 s: ccxt takes {ratio:.1f} × as long."]
    if first_pass > packed:
        parts.append(
            f"Requests: its first pass alone is {first_pass} one-symbol requests, where the "
            f"engine packs {packed} across symbols (`batchMode=multiple`, which ccxt's "
            f"`cancel_orders(ids, symbol)` cannot express); at 10/s their floor is "
            f"{secs(rate_bound(first_pass, MEAN_LATENCY))} against "
            f"{secs(rate_bound(packed, MEAN_LATENCY))}."
        )
    else:
        parts.append(
            f"Requests: both send {packed} in the first pass; the engine sends its first 10 "
            "at once, ccxt's throttle one per 100 ms from the start."
        )
    parts.append(
        f"429s: {int_span(s.throttled for s in theirs)} per run: ccxt's throttle spaces requests "
        "evenly with no margin for arrival jitter (1–15 ms each way here), so now and then an "
        "11th arrives inside a sliding second; how many depends on timing, a run on another "
        "machine can see none. Retries: after a pass with refused chunks the loop lists the "
        f"account again ({int_span(s.pages for s in theirs)} listing pages per run) and "
        f"re-sends what is still open ({int_span(s.rounds for s in theirs)} passes per run)."
    )
    return " ".join(parts)


async def run(quick: bool) -> Section:
    cases = QUICK_CASES if quick else FULL_CASES
    penalties = PENALTIES[:1] if quick else PENALTIES
    rows: list[list[str]] = []
    checks: list[Check] = []
    notes: list[str] = []
    headline = ""
    for total, n_symbols in cases:
        label = f"{total:,} / {n_symbols}"
        outcome: dict[float, list[Side]] = {}
        for penalty in penalties:
            # a quick ccxt run takes ~13 s (its throttle, 429s, passes); a penalty minutes
            runs = 1 if quick else 3 if penalty == 0 else PENALTY_RUNS
            ours: list[Side] = []
            theirs: list[Side] = []
            for seed in range(runs):  # alternating, each run with a fresh simulator per side
                ours.append(await engine_side(total, n_symbols, seed, penalty))
                theirs.append(await ccxt_side(total, n_symbols, seed, penalty))
            outcome[penalty] = theirs
            rows.append(_row(label, penalty, "bitget_cancel", ours))
            rows.append(_row(label, penalty, "ccxt + retry loop", theirs))
            if penalty == 0:
                notes.append(_why(total, n_symbols, ours, theirs))
            engine_s = Runs.of(s.elapsed for s in ours)
            ccxt_s = Runs.of(s.elapsed for s in theirs)
            left = sum(s.left_open for s in ours)
            throttled = sum(s.throttled for s in ours)
            checks.append(
                Check(
                    f"vs ccxt, {label}, penalty {_penalty(penalty)}",
                    f"{secs(engine_s.median)} vs {secs(ccxt_s.median)} (medians of {runs}); "
                    f"requests {max(s.requests for s in ours)} vs "
                    f"{max(s.requests for s in theirs)}; 429s {throttled} vs "
                    f"{sum(s.throttled for s in theirs)}; left open 0 vs "
                    f"{sum(s.left_open for s in theirs):,}",
                    "engine: 0 left open, 0 × 429",
                    left == 0 and throttled == 0,
                )
            )
            if not headline and penalty == 0:
                headline = (
                    f"**Against ccxt** on the same simulator ({total:,} orders over "
                    f"{n_symbols} symbols, each side until nothing is open or it gives up): "
                    f"the engine closes all in {secs(engine_s.median)} with "
                    f"{max(s.requests for s in ours)} requests and 0 × 429, whatever the "
                    "penalty. ccxt with the retry loop a careful user writes"
                )
        if headline.endswith("writes"):
            said = [
                f"with a {_penalty(p)} penalty after a 429, {_what_happened(total, sides)} "
                f"({int_span(s.requests for s in sides)} batch requests, "
                f"{int_span(s.throttled for s in sides)} × 429, "
                f"{int_span(s.rounds for s in sides)} passes, {len(sides)} run"
                f"{'s' if len(sides) > 1 else ''})"
                for p, sides in outcome.items()
            ]
            headline += ": " + "; ".join(said) + "."
        elif headline:
            said = [
                f"with a {_penalty(p)} penalty {_what_happened(total, sides)}"
                for p, sides in outcome.items()
            ]
            headline += f" Over {n_symbols} symbols ccxt " + "; ".join(said) + "."
    intro = f"""
The same targets against a fresh simulator per side and run (latency
{LATENCY_MS[0]:g}–{LATENCY_MS[1]:g} ms, strict 10/s window), the two sides alternating in one
process; median (range) of the runs given. Each pair runs under two settings of the
simulator's penalty after a 429 of the client's own making: 0 s (the 429 costs only the
request) and 300 s (every request refused for 5 minutes, as Bitget's FAQ says a tripped limit
takes to recover). Both sides are timed until nothing they were given is open, or until they
give up. The engine: `await engine.cancel(targets)`, which returns once every target has an
outcome. ccxt {_ccxt.version()} async `bitget`, `enableRateLimit: True` and its default
`rateLimit` of {_ccxt.rate_limit_ms()} ms (batch-cancel-order costs 2: one request per 100 ms in
one queue for all endpoints, no burst), with the loop a careful user writes
(`benchmarks/workloads/_ccxt.py`, `cancel_until_closed`): `cancel_orders(ids, symbol)` per
symbol in chunks of 50, all gathered, each call's exception caught; an id not returned as
cancelled may be gone or still open (ccxt drops the `failureList`), so the loop lists the
account's open orders (`fetch_open_orders`, 100 a page) and re-sends those still open, until
none is or {_ccxt.MAX_ROUNDS} passes. `load_markets()` is not timed. Requests, pages and 429s
(pacing and during a penalty) are counted by the simulator; "left open" sums the orders open
afterwards over all runs. With the 300 s penalty each ccxt run takes minutes: it runs
{PENALTY_RUNS} time(s) per case (`BENCH_CCXT_PENALTY_RUNS` sets more).
"""
    return Section(
        "Side by side with ccxt",
        intro,
        [
            "targets / symbols",
            "penalty",
            "client",
            "runs",
            "until nothing open (or gave up)",
            "batch-cancel requests",
            "listing pages",
            "429s",
            "passes",
            "left open",
        ],
        rows,
        checks,
        ["Why the gap:", "", *(f"- {note}" for note in notes)],
        [headline],
    )
