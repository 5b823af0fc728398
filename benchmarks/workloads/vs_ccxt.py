"""3. Side by side with ccxt on the same simulator, in the same run."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bitget_cancel import CancelEngine
from bitget_cancel.sim import SimExchange

from . import _ccxt
from ._common import (
    BATCH_CANCEL_PATH,
    Check,
    Section,
    credentials,
    fresh_api_key,
    place_targets,
    secs,
)

LATENCY_MS = (2.0, 30.0)
FULL_CASES = ((3_000, 300), (3_000, 20))
QUICK_CASES = ((600, 60), (500, 20))


@dataclass
class Side:
    elapsed: float
    requests: int
    throttled: int
    left_open: int
    failed: int  # engine: targets not closed; ccxt: chunks that raised


async def engine_side(total: int, n_symbols: int) -> Side:
    async with SimExchange(latency_ms=LATENCY_MS, seed=1, api_key=fresh_api_key()) as sim:
        targets = place_targets(sim, total, n_symbols)
        async with CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
            started = time.perf_counter()
            report = await engine.cancel(targets)
            elapsed = time.perf_counter() - started
        not_closed = len(report.failed) + len(report.unresolved)
        return Side(
            elapsed,
            sim.stats.requests.get(BATCH_CANCEL_PATH, 0),
            sim.stats.pacing_429,
            len(sim.open_orders()),
            not_closed,
        )


async def ccxt_side(total: int, n_symbols: int) -> Side:
    async with SimExchange(latency_ms=LATENCY_MS, seed=1, api_key=fresh_api_key()) as sim:
        targets = place_targets(sim, total, n_symbols)
        ids = _ccxt.ids_by_market([(t.symbol, t.order_id or "") for t in targets])
        client = _ccxt.make_client(
            sim.base_url, sim.api_key, sim.secret_key, sim.passphrase, rate_limit=True
        )
        try:
            await client.load_markets()
            sim.reset_stats()
            started = time.perf_counter()
            result = await _ccxt.cancel_all(client, ids)
            elapsed = time.perf_counter() - started
        finally:
            await client.close()
        return Side(
            elapsed,
            sim.stats.requests.get(BATCH_CANCEL_PATH, 0),
            sim.stats.pacing_429,
            len(sim.open_orders()),
            result.failed_chunks,
        )


def row(name: str, total: int, n_symbols: int, side: Side) -> list[str]:
    return [
        f"{total:,} / {n_symbols}",
        name,
        secs(side.elapsed),
        str(side.requests),
        str(side.throttled),
        f"**{side.left_open}**",
        str(side.failed),
    ]


async def run(quick: bool) -> Section:
    cases = QUICK_CASES if quick else FULL_CASES
    rows: list[list[str]] = []
    checks: list[Check] = []
    for total, n_symbols in cases:
        ours = await engine_side(total, n_symbols)
        theirs = await ccxt_side(total, n_symbols)
        rows.append(row("bitget_cancel", total, n_symbols, ours))
        rows.append(row("ccxt", total, n_symbols, theirs))
        ratio = theirs.elapsed / ours.elapsed
        rows.append(["", "ccxt ÷ bitget_cancel", f"{ratio:.2f} ×", "", "", "", ""])
        checks.append(
            Check(
                f"3. vs ccxt, {total:,} targets / {n_symbols} symbols",
                f"{secs(ours.elapsed)} vs {secs(theirs.elapsed)}; left open "
                f"{ours.left_open} vs {theirs.left_open}; 429s {ours.throttled} vs "
                f"{theirs.throttled}",
                "engine: 0 left open, 0 × 429",
                ours.left_open == 0 and ours.throttled == 0,
            )
        )
    intro = f"""
The same workload against a fresh simulator for each client (latency {LATENCY_MS[0]:g}–
{LATENCY_MS[1]:g} ms, strict 10/s window), one after the other in the same process and run.
ccxt {_ccxt.VERSION} async `bitget` with its own rate limiter on
(`enableRateLimit: True`), used as its documentation allows: `cancel_orders(ids, symbol)` per
symbol in chunks of 50, all chunks gathered, each chunk's exception caught and counted (one
pass, as a caller would write it). Elapsed excludes ccxt's `load_markets()`. Requests and 429s
are counted by the simulator; "left open" is `len(sim.open_orders())` afterwards.
"""
    return Section(
        3,
        "Side by side with ccxt",
        intro,
        [
            "targets / symbols",
            "client",
            "elapsed",
            "requests",
            "429s",
            "left open",
            "failed (engine: orders, ccxt: chunks)",
        ],
        rows,
        checks,
    )
