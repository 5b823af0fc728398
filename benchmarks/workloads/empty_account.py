"""Empty an account with ``engine.panic_cancel()``, with and without cancel-symbol-order, beside
the reference client doing the same, against sliding-window bounds."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bitget_cancel import CancelEngine
from bitget_cancel.sim import SimExchange

from ._common import (
    Check,
    Runs,
    Section,
    credentials,
    fresh_api_key,
    int_span,
    rate_bound,
    secs,
    symbol_names,
)
from ._reference import Reference, reference_for

LATENCY_MS = (2.0, 30.0)
L = sum(LATENCY_MS) / 2 / 1000  # mean latency, seconds
# The simulator's asynchronous cancel-symbol-order delay. The real exchange's is undocumented;
# the engine re-lists for 2 s before it falls back to cancelling by id, which it never needs
# at this setting.
SYMBOL_DELAY_MS = (50.0, 200.0)
D = sum(SYMBOL_DELAY_MS) / 2 / 1000  # its mean, seconds
PAGE = 100  # orders per unfilled-orders page
BATCH = 50
LIST_CAP, BATCH_CAP, SYMBOL_CAP = 20, 10, 5  # arrivals per sliding second

ASSUMED = (
    f"latency {LATENCY_MS[0]:g}–{LATENCY_MS[1]:g} ms (mean L = {L * 1000:g} ms); limits per API "
    "key, a 429 forgotten once its second has slid by (no penalty); no request arriving after "
    "the client gave up on it; cancel-symbol-order taking effect "
    f"{SYMBOL_DELAY_MS[0]:g}–{SYMBOL_DELAY_MS[1]:g} ms after it arrives (mean d = "
    f"{D * 1000:g} ms), always within the engine's 2 s settle time"
)


@dataclass
class PanicTrial:
    elapsed: float
    list_requests: int
    cancel_requests: int
    symbol_cancels: int
    throttled: int
    left_open: int
    account_empty: bool


def list_bound(orders: int) -> float:
    """When the last page naming an order can be answered: pages go one after another (each
    needs the last id of the one before), page p no earlier than p × L nor ⌊p/20⌋ s."""
    last = max(0, -(-orders // PAGE) - 1)
    return max(last * L, rate_bound(last + 1, 0.0, LIST_CAP)) + L


def batch_bound(orders: int) -> float:
    """Batch-cancel only. The first batch needs the first page's answer (L); batch k goes no
    earlier than L + ⌊k/10⌋ s, nor before the page naming its orders is answered; its answer
    comes one latency later, and the confirming page one more."""
    batches = -(-orders // BATCH)
    last_sent = max(L + rate_bound(batches, 0.0, BATCH_CAP), list_bound(orders))
    return last_sent + L + L


def symbol_bound(symbols: int) -> float:
    """With cancel-symbol-order: one page names every symbol (orders placed round-robin), then
    symbol cancel k no earlier than L + ⌊k/5⌋ s; the last arrives L/2 later and takes effect d
    after that; the confirming page arrives after that and is answered L/2 later."""
    return L + rate_bound(symbols, 0.0, SYMBOL_CAP) + L / 2 + D + L / 2


def _sim(seed: int, orders: int, n_symbols: int) -> SimExchange:
    sim = SimExchange(latency_ms=LATENCY_MS, seed=seed, api_key=fresh_api_key(),
                      symbol_cancel_delay_ms=SYMBOL_DELAY_MS)  # fmt: skip
    names = symbol_names(n_symbols)
    # Placed round-robin over the symbols, as many strategies trading at once would.
    for _ in range(orders // n_symbols):
        for symbol in names:
            sim.place_order(symbol)
    return sim


async def trial(orders: int, n_symbols: int, *, use_symbol_cancel: bool, seed: int) -> PanicTrial:
    """The engine: ``await engine.panic_cancel(use_symbol_cancel=...)`` from a fresh engine."""
    async with _sim(seed, orders, n_symbols) as sim:
        async with CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
            started = time.perf_counter()
            report = await engine.panic_cancel(use_symbol_cancel=use_symbol_cancel)
            elapsed = time.perf_counter() - started
        return PanicTrial(
            elapsed=elapsed,
            list_requests=report.list_requests,
            cancel_requests=report.cancel_requests,
            symbol_cancels=report.symbol_cancels,
            throttled=sim.stats.pacing_429 + report.throttled,
            left_open=len(sim.open_orders()),
            account_empty=report.account_empty,
        )


async def reference_trial(
    orders: int, n_symbols: int, *, use_symbol_cancel: bool, seed: int
) -> PanicTrial:
    """The reference client emptying an identical account the same way."""
    async with _sim(seed, orders, n_symbols) as sim, reference_for(sim, LATENCY_MS) as ref:
        empty: Callable[[Reference], Awaitable[object]] = (
            Reference.empty_by_symbols if use_symbol_cancel else Reference.empty_by_batches
        )
        started = time.perf_counter()
        await empty(ref)
        elapsed = time.perf_counter() - started
        requests = sim.stats.requests
        left = len(sim.open_orders())
        return PanicTrial(
            elapsed=elapsed,
            list_requests=requests.get("/api/v2/spot/trade/unfilled-orders", 0),
            cancel_requests=requests.get("/api/v2/spot/trade/batch-cancel-order", 0),
            symbol_cancels=requests.get("/api/v2/spot/trade/cancel-symbol-order", 0),
            throttled=sim.stats.pacing_429,
            left_open=left,
            account_empty=left == 0,
        )


def _requests(trials: list[PanicTrial]) -> str:
    return " / ".join(
        int_span(getattr(t, name) for t in trials)
        for name in ("list_requests", "cancel_requests", "symbol_cancels")
    )


async def run(quick: bool) -> Section:
    orders, n_symbols = (1_000, 10) if quick else (10_000, 20)
    # The batch lane takes 20 s a run at full size: 2 runs of it, 3 of the symbol lane.
    runs_of = {False: 1, True: 1} if quick else {False: 2, True: 3}
    rows: list[list[str]] = []
    checks: list[Check] = []
    figures: dict[bool, tuple[float, float, float]] = {}
    for use_symbol_cancel in (False, True):
        repeats = runs_of[use_symbol_cancel]
        ours: list[PanicTrial] = []
        ref: list[PanicTrial] = []
        for seed in range(repeats):
            for side, trials in ((trial, ours), (reference_trial, ref)):
                trials.append(
                    await side(orders, n_symbols, use_symbol_cancel=use_symbol_cancel, seed=seed)
                )
        engine_s = Runs.of(t.elapsed for t in ours)
        ref_s = Runs.of(t.elapsed for t in ref)
        bound = symbol_bound(n_symbols) if use_symbol_cancel else batch_bound(orders)
        vs_bound, vs_ref = engine_s.median / bound, engine_s.median / ref_s.median
        figures[use_symbol_cancel] = (engine_s.median, vs_bound, vs_ref)
        left = sum(t.left_open for t in ours)
        throttled = sum(t.throttled for t in ours)
        empty = all(t.account_empty for t in ours)
        name = "with cancel-symbol-order" if use_symbol_cancel else "batch-cancel only"
        for client, trials, runs in (("engine", ours, engine_s), ("reference", ref, ref_s)):
            rows.append(
                [
                    name if client == "engine" else "",
                    client,
                    runs.show(secs),
                    secs(bound) if client == "engine" else "",
                    f"**{runs.median / bound:.3f}**",
                    f"**{vs_ref:.3f}**" if client == "engine" else "",
                    _requests(trials),
                    str(sum(t.throttled for t in trials)),
                    str(sum(t.left_open for t in trials)),
                ]
            )
        checks.append(
            Check(
                f"empty {orders:,} orders / {n_symbols} symbols, {name}",
                f"{secs(engine_s.median)} = {vs_bound:.3f} × bound, {vs_ref:.3f} × reference, "
                f"{throttled} × 429, {left} left open",
                "account empty, 0 × 429 (ratios reported)",
                empty and left == 0 and throttled == 0,
            )
        )
    batch, symbol = figures[False], figures[True]
    intro = f"""
{orders:,} open orders over {n_symbols} symbols (placed round-robin); the engine runs `await
engine.panic_cancel(use_symbol_cancel=...)` on the whole account from a fresh engine, until a
listing shows the account empty. The reference client (`_reference.py`) empties an identical
account the same way with raw aiohttp: batch-cancel only, it lists page after page and sends
each 50 orders as soon as they are listed, then lists again; with cancel-symbol-order, it
cancels each symbol on the first page and lists until the account is empty. Engine and
reference alternate, a fresh simulator each; median (range) of {runs_of[False]} run(s) with
batch-cancel only and {runs_of[True]} with cancel-symbol-order (request counts: range over
the runs).

**Simulator settings the bounds assume** (they are the simulator's, not the exchange's):
{ASSUMED}.

**Bounds**, sliding windows right for any count: listing 20/s, batch-cancel 10/s,
cancel-symbol-order 5/s, request k of a lane no earlier than ⌊k/cap⌋ s after its first.

- batch-cancel only: every order must be listed to learn its id, ⌈n/100⌉ pages one after
  another; B = ⌈n/50⌉ batches, the first after the first page (L), the last no earlier than
  L + ⌊(B − 1)/10⌋ s nor before the last page is answered; its answer one latency later, and
  the confirming page one more: `bound = max(L + ⌊(B − 1)/10⌋, listing) + 2L`. n =
  {orders:,}: **{secs(batch_bound(orders))}**.
- with cancel-symbol-order: `bound = L + ⌊(S − 1)/5⌋ + d + L` (first page, S symbol
  cancels, the last taking effect d after it arrives, the confirming page). S =
  {n_symbols}: **{secs(symbol_bound(n_symbols))}**; this figure rests on d, which the real
  exchange does not document.
"""
    return Section(
        "Empty the account: `panic_cancel()`",
        intro,
        [
            "panic_cancel",
            "client",
            "until empty",
            "bound",
            "÷ bound",
            "engine ÷ reference",
            "requests: list / batch / symbol",
            "429s",
            "left open",
        ],
        rows,
        checks,
        [
            "To switch on once the simulator has them (and re-run): per-account limits, a "
            "penalty after a 429, requests arriving after the client's timeout, symbol-cancel "
            "delays beyond the engine's 2 s settle time (the by-id fallback then runs), and the "
            "release-window codes. Each changes what these bounds assume."
        ],
        [
            f"**`panic_cancel()`** empties {orders:,} orders over {n_symbols} symbols in "
            f"{secs(batch[0])} with batch-cancel only ({batch[1]:.3f} × its bound, "
            f"{batch[2]:.3f} × the reference client), or {secs(symbol[0])} with "
            f"cancel-symbol-order ({symbol[1]:.3f} × its bound, {symbol[2]:.3f} × the "
            f"reference; the bound assumes the simulator's {D * 1000:g} ms mean delay for a "
            "symbol cancel to take effect, which the exchange does not document)."
        ],
    )
