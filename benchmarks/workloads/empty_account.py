"""7. Empty an account with ``engine.panic_cancel()``, with and without cancel-symbol-order."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bitget_cancel import CancelEngine
from bitget_cancel.sim import SimExchange

from ._common import Check, Section, credentials, fresh_api_key, median, secs, symbol_names

LATENCY_MS = (2.0, 30.0)
L = sum(LATENCY_MS) / 2 / 1000  # mean latency, seconds
SYMBOL_DELAY_MS = (50.0, 200.0)  # the simulator's asynchronous cancel-symbol-order delay
MAX_RATIO = 1.05
PAGE = 100  # orders per unfilled-orders page
LIST_BURST, LIST_RATE = 20, 20.0
BATCH, BATCH_BURST, BATCH_RATE = 50, 10, 10.0
SYMBOL_BURST, SYMBOL_RATE = 5, 5.0


@dataclass
class PanicTrial:
    elapsed: float
    requests: int
    cancel_requests: int
    symbol_cancels: int
    list_requests: int
    throttled: int
    left_open: int
    account_empty: bool


def list_pages(orders: int) -> int:
    """Pages of one complete listing, plus the page that finds the account empty."""
    return -(-orders // PAGE) + 1


def batch_bound(orders: int) -> float:
    """Batch lane only: listing and cancelling overlap; the slower lane decides.

    Listing: P pages, each sent no earlier than max(0, p − 19)/20 s (20/s window).
    Cancelling: the first batch needs the first page (one latency), then B = ⌈n/50⌉ requests
    at 10/s, the last answered one latency after it is sent. Then one more page (one latency)
    finds the account empty.
    """
    pages = list_pages(orders)
    batches = -(-orders // BATCH)
    listing = max(0, pages - LIST_BURST) / LIST_RATE
    cancelling = L + max(0, batches - BATCH_BURST) / BATCH_RATE + L
    return max(listing, cancelling) + L


def symbol_bound(symbols: int) -> float:
    """Symbol lane: one page names the symbols (one latency), then S symbol cancels at 5/s;
    the last takes effect the exchange's asynchronous delay (its mean) after it arrives, and
    the confirming page, sent no earlier, is answered one latency later.

    Orders a symbol cancel closes need not be listed first, so the listing of every order is
    not part of this bound (the panic lists fewer pages than there are orders / 100).
    """
    mean_delay = sum(SYMBOL_DELAY_MS) / 2 / 1000
    return L + max(0, symbols - SYMBOL_BURST) / SYMBOL_RATE + mean_delay + L


async def trial(orders: int, n_symbols: int, *, use_symbol_cancel: bool, seed: int) -> PanicTrial:
    sim = SimExchange(latency_ms=LATENCY_MS, seed=seed, api_key=fresh_api_key(),
                      symbol_cancel_delay_ms=SYMBOL_DELAY_MS)  # fmt: skip
    async with sim:
        names = symbol_names(n_symbols)
        # Placed round-robin over the symbols, as many strategies trading at once would.
        for _ in range(orders // n_symbols):
            for symbol in names:
                sim.place_order(symbol)
        async with CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
            started = time.perf_counter()
            report = await engine.panic_cancel(use_symbol_cancel=use_symbol_cancel)
            elapsed = time.perf_counter() - started
        return PanicTrial(
            elapsed=elapsed,
            requests=report.requests,
            cancel_requests=report.cancel_requests,
            symbol_cancels=report.symbol_cancels,
            list_requests=report.list_requests,
            throttled=sim.stats.pacing_429 + report.throttled,
            left_open=len(sim.open_orders()),
            account_empty=report.account_empty,
        )


async def run(quick: bool) -> Section:
    orders, n_symbols = (2_000, 20) if quick else (10_000, 20)
    repeats = 1 if quick else 2
    rows: list[list[str]] = []
    checks: list[Check] = []
    for use_symbol_cancel in (False, True):
        trials = [
            await trial(orders, n_symbols, use_symbol_cancel=use_symbol_cancel, seed=seed)
            for seed in range(repeats)
        ]
        elapsed = median([t.elapsed for t in trials])
        bound = symbol_bound(n_symbols) if use_symbol_cancel else batch_bound(orders)
        ratio = elapsed / bound
        last = trials[-1]
        left = sum(t.left_open for t in trials)
        throttled = sum(t.throttled for t in trials)
        empty = all(t.account_empty for t in trials)
        name = "with cancel-symbol-order" if use_symbol_cancel else "batch-cancel only"
        rows.append(
            [
                name,
                secs(elapsed),
                secs(bound),
                f"**{ratio:.3f}**",
                f"{last.list_requests} / {last.cancel_requests} / {last.symbol_cancels}",
                str(throttled),
                str(left),
                "yes" if empty else "**no**",
            ]
        )
        checks.append(
            Check(
                f"7. empty {orders:,} orders / {n_symbols} symbols, {name}",
                f"{secs(elapsed)} = {ratio:.3f} × bound, {throttled} × 429, {left} left open",
                "account empty, 0 × 429 (ratio reported)",
                empty and left == 0 and throttled == 0,
            )
        )
    intro = f"""
{orders:,} open orders over {n_symbols} symbols (placed round-robin), `await
engine.panic_cancel(use_symbol_cancel=...)` on the whole account from a fresh engine, latency
{LATENCY_MS[0]:g}–{LATENCY_MS[1]:g} ms, every limit strict (unfilled-orders 20/s,
batch-cancel 10/s, cancel-symbol-order 5/s), cancel-symbol-order taking effect
{SYMBOL_DELAY_MS[0]:g}–{SYMBOL_DELAY_MS[1]:g} ms after it arrives (the exchange processes
it asynchronously). Elapsed: until the panic returns, i.e. a listing has shown the account
empty. Median of {repeats} run(s).

**Bounds** (L = {L * 1000:g} ms, the mean latency; n orders, S symbols). The panic knows
nothing in advance: the first cancel needs the answer of a first listing page (L), and the
panic ends with a listing page that finds the account empty, sent once the last cancel is done
and answered one latency later (L). Listing pages (100 orders each, each needing the previous
page's last id) are limited to 20/s: page p (0-based) no earlier than max(0, p − 19)/20 s.

- batch-cancel only: every order must be listed once (its id is needed), P = ⌈n/100⌉ + 1
  pages with the confirming one, and B = ⌈n/50⌉ batch requests at 10/s (burst 10), the last
  answered one latency after it is sent. Listing and cancelling overlap; the slower decides:
  `bound = max(max(0, P − 20)/20, L + max(0, B − 10)/10 + L) + L`.
  n = {orders:,}: **{secs(batch_bound(orders))}** (the batch lane decides).
- with cancel-symbol-order: one page names all S symbols here (orders are placed
  round-robin), then S requests at 5/s (burst 5); the last takes effect d =
  {sum(SYMBOL_DELAY_MS) / 2:g} ms later (the simulator's mean asynchronous delay; the
  confirming page must arrive after that): `bound = L + max(0, S − 5)/5 + d + L`.
  S = {n_symbols}: **{secs(symbol_bound(n_symbols))}**. Orders a symbol cancel closes need
  not be listed, so listing every order is not part of this bound.

Both are lower bounds (the sequential chain of pages, at ≤ 30 ms a page, is never the
binding constraint here).
"""
    return Section(
        7,
        "Empty the account: `panic_cancel()`",
        intro,
        [
            "panic_cancel",
            "elapsed (median)",
            "bound",
            "elapsed ÷ bound",
            "requests: list / batch / symbol",
            "429s",
            "left open",
            "account empty",
        ],
        rows,
        checks,
    )
