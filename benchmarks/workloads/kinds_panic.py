"""Empty an account of every kind of order with ``engine.panic_cancel()``: normal, trigger (plan)
and TP/SL orders over 20 symbols, against the bound of the panic's slowest lane.

    python -m benchmarks.workloads.kinds_panic             # 10,000 + 1,000 + 200 orders
    python -m benchmarks.workloads.kinds_panic --quick     # 2,000 + 200 + 40 orders
    python -m benchmarks.workloads.kinds_panic --repeats 3 # median of 3

Prints markdown tables; exits 1 with ``--check`` if a run saw a 429, left an order open or did
not end with the account confirmed empty. ``run(quick)`` returns the same as a ``Section`` for
``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bitget_cancel import CancelEngine, KindSummary
from bitget_cancel.sim import ORDER_KINDS, SimExchange

from ._common import (
    Check,
    Section,
    credentials,
    fresh_api_key,
    median,
    secs,
    symbol_names,
    table,
)

NUMBER = 8  # its place among the workloads of benchmarks/run.py
LATENCY_MS = (2.0, 30.0)
L = sum(LATENCY_MS) / 2 / 1000  # mean latency, seconds
SYMBOL_DELAY_MS = (50.0, 200.0)  # the simulator's asynchronous cancel-symbol-order delay
D = sum(SYMBOL_DELAY_MS) / 2 / 1000
# Bitget's FAQ: a tripped limit "takes 5 minutes to recover". Set explicitly: a single 429 of
# the engine's own making would add minutes, so "0 × 429" is a requirement, not a nicety.
PENALTY_S = 300.0
PAGE = 100  # orders per unfilled-orders / current-plan-order page
SYMBOL_CANCEL_THRESHOLD = 50  # normal orders listed on a symbol before cancel-symbol-order
# (burst, rate) of the lanes, the simulator's per-account sliding windows
CANCEL_ORDER = (10, 10.0)  # TP/SL: one order a request
SYMBOL_CANCEL = (5, 5.0)
FULL = (10_000, 1_000, 200, 20)  # normal, plan, TP/SL orders; symbols
QUICK = (2_000, 200, 40, 20)

PATHS = {
    "unfilled-orders": "/api/v2/spot/trade/unfilled-orders",
    "current-plan-order": "/api/v2/spot/trade/current-plan-order",
    "cancel-symbol-order": "/api/v2/spot/trade/cancel-symbol-order",
    "batch-cancel-order": "/api/v2/spot/trade/batch-cancel-order",
    "batch-cancel-plan-order": "/api/v2/spot/trade/batch-cancel-plan-order",
    "cancel-plan-order": "/api/v2/spot/trade/cancel-plan-order",
    "cancel-order": "/api/v2/spot/trade/cancel-order",
}


@dataclass(frozen=True)
class Book:
    normal: int
    plan: int
    tpsl: int
    symbols: int

    def of(self, kind: str) -> int:
        return {"normal": self.normal, "plan": self.plan, "tpsl": self.tpsl}[kind]


@dataclass
class Trial:
    elapsed: float
    requests: dict[str, int]  # per endpoint, as the simulator counted them
    throttled: int  # 429s of the engine's own making (pacing and penalty)
    left_open: dict[str, int]  # per kind
    account_empty: bool
    by_kind: dict[str, KindSummary]
    problems: tuple[str, ...]


# -- the bounds ----------------------------------------------------------------------------


def tpsl_bound(book: Book) -> float:
    """TP/SL lane: the first TP/SL page (L), then T cancel-order requests, one order each, at
    10/s after a burst of 10: the last is sent (T − 10)/10 s later and answered one latency
    after; then the confirming listing (L)."""
    burst, rate = CANCEL_ORDER
    return L + max(0, book.tpsl - burst) / rate + L + L


def plan_bound(book: Book) -> float:
    """Plan lane: the first plan page (L) names the account's trigger orders, one
    batch-cancel-plan-order without symbolList closes all of them (L), the confirming listing
    (L). Its 5/s limit is never reached."""
    return L + L + L if book.plan else 0.0


def normal_bound(book: Book) -> float:
    """Normal lane: orders placed round-robin, listed newest first 100 a page, so every symbol
    reaches the 50 listed orders that earn it a cancel-symbol-order on page
    ⌈50·S/100⌉, after as many sequential pages (each needs the previous one's last id); then S
    symbol cancels at 5/s after a burst of 5; the last takes effect d (the simulator's mean
    asynchronous delay) after it arrives; the confirming page (L)."""
    burst, rate = SYMBOL_CANCEL
    pages = -(-SYMBOL_CANCEL_THRESHOLD * book.symbols // PAGE)
    return pages * L + max(0, book.symbols - burst) / rate + D + L


def lane_bounds(book: Book) -> dict[str, float]:
    return {"normal": normal_bound(book), "plan": plan_bound(book), "tpsl": tpsl_bound(book)}


# -- one run -------------------------------------------------------------------------------


async def trial(book: Book, *, seed: int) -> Trial:
    sim = SimExchange(
        latency_ms=LATENCY_MS,
        seed=seed,
        api_key=fresh_api_key(),
        symbol_cancel_delay_ms=SYMBOL_DELAY_MS,
        penalty_s=PENALTY_S,
    )
    async with sim:
        names = symbol_names(book.symbols)
        # Round-robin over the symbols, as strategies trading them at once would place them.
        for kind in ORDER_KINDS:
            for _ in range(book.of(kind) // book.symbols):
                for symbol in names:
                    sim.place_order(symbol, kind=kind)
        async with CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
            started = time.perf_counter()
            report = await engine.panic_cancel()
            elapsed = time.perf_counter() - started
        return Trial(
            elapsed=elapsed,
            requests={name: sim.stats.endpoint(path).requests for name, path in PATHS.items()},
            throttled=sim.stats.throttled,
            left_open={kind: sim.count_open(kind) for kind in ORDER_KINDS},
            account_empty=report.account_empty,
            by_kind=dict(report.by_kind),
            problems=report.problems,
        )


# -- the report ----------------------------------------------------------------------------


@dataclass
class Result:
    book: Book
    trials: list[Trial]

    @property
    def elapsed(self) -> float:
        return median([t.elapsed for t in self.trials])

    @property
    def bounds(self) -> dict[str, float]:
        return lane_bounds(self.book)

    @property
    def slowest(self) -> str:
        bounds = self.bounds
        return max(bounds, key=lambda kind: bounds[kind])

    @property
    def bound(self) -> float:
        return self.bounds[self.slowest]

    @property
    def clean(self) -> bool:
        return all(
            t.throttled == 0 and not any(t.left_open.values()) and t.account_empty
            for t in self.trials
        )


MAIN_HEADERS = [
    "run",
    "orders normal / TP/SL / plan",
    "symbols",
    "elapsed",
    "bound (slowest lane)",
    "elapsed ÷ bound",
    "429s",
    "left open normal / TP/SL / plan",
    "account empty",
]


def main_rows(result: Result) -> list[list[str]]:
    book = result.book
    rows = []
    for n, t in enumerate(result.trials, 1):
        rows.append(
            [
                str(n),
                " / ".join(f"{book.of(k):,}" for k in ORDER_KINDS),
                str(book.symbols),
                secs(t.elapsed),
                f"{secs(result.bound)} ({result.slowest})",
                f"**{t.elapsed / result.bound:.3f}**",
                str(t.throttled),
                " / ".join(str(t.left_open[k]) for k in ORDER_KINDS),
                "yes" if t.account_empty else "**no**",
            ]
        )
    return rows


def lanes_table(result: Result) -> list[str]:
    last = result.trials[-1]
    req = last.requests
    lanes = {
        "normal": (
            "cancel-symbol-order 5/s (+ batch-cancel-order 10/s)",
            f"{req['cancel-symbol-order']} + {req['batch-cancel-order']}",
            f"unfilled-orders {req['unfilled-orders']} (shared with TP/SL)",
        ),
        "plan": (
            "batch-cancel-plan-order 5/s (+ cancel-plan-order 20/s)",
            f"{req['batch-cancel-plan-order']} + {req['cancel-plan-order']}",
            f"current-plan-order {req['current-plan-order']}",
        ),
        "tpsl": (
            "cancel-order 10/s, one order a request",
            str(req["cancel-order"]),
            "unfilled-orders?tpslType=tpsl",
        ),
    }
    rows = []
    for kind in ("normal", "plan", "tpsl"):
        endpoint, sent, listing = lanes[kind]
        summary = last.by_kind.get(kind, KindSummary())
        rows.append(
            [
                kind,
                f"{result.book.of(kind):,}",
                endpoint,
                sent,
                listing,
                secs(result.bounds[kind]),
                f"{summary.listed:,} / {summary.cancelled:,}",
                "yes" if summary.confirmed_empty else "**no**",
            ]
        )
    headers = [
        "kind",
        "orders",
        "cancelled with",
        "cancel requests",
        "listing requests",
        "lane bound",
        "by_kind listed / cancelled",
        "confirmed empty",
    ]
    return table(headers, rows)


DECIDES = {
    "tpsl": "The TP/SL lane decides: one order a request at 10/s is a floor no client can beat.",
    "normal": "The normal lane decides here: 5 symbol cancels a second.",
    "plan": "The plan lane decides here.",
}


def intro(book: Book, repeats: int) -> str:
    return f"""
{book.normal:,} normal, {book.plan:,} trigger (plan) and {book.tpsl:,} TP/SL orders over
{book.symbols} symbols, each kind placed round-robin over the symbols; `await
engine.panic_cancel()` (whole account, every kind, symbol and plan bulk cancels on) from a fresh
engine. Simulator: latency {LATENCY_MS[0]:g}–{LATENCY_MS[1]:g} ms, every limit strict and per
account (unfilled-orders and current-plan-order 20/s, batch-cancel-order and cancel-order 10/s,
cancel-symbol-order and batch-cancel-plan-order 5/s, cancel-plan-order 20/s),
`penalty_s={PENALTY_S:g}` (a tripped limit stays refused 5 minutes, as on Bitget), and
cancel-symbol-order taking effect {SYMBOL_DELAY_MS[0]:g}–{SYMBOL_DELAY_MS[1]:g} ms after it
arrives. Elapsed: until the panic returns, i.e. a listing of every kind has shown nothing open.
{"Median of " + str(repeats) + " runs." if repeats > 1 else "One run."}

**Bound: the slowest lane.** The three kinds are cancelled concurrently, each under its own
budget, so the panic can end no earlier than its slowest lane (L = {L * 1000:g} ms, the mean
latency; the panic knows nothing in advance and ends with a listing sent after its last cancel):

- TP/SL: `L + max(0, T − 10)/10 + L + L` (first page; T one-order cancel-order requests at
  10/s after a burst of 10; the last answer; the confirming page) = **{secs(tpsl_bound(book))}**.
- plan: `3L` (first page; one batch-cancel-plan-order for the whole account; the confirming
  page) = {secs(plan_bound(book))}.
- normal: `⌈50·S/100⌉·L + max(0, S − 5)/5 + d + L` (the sequential pages until every symbol
  has the 50 listed orders that earn a cancel-symbol-order; S symbol cancels at 5/s after a
  burst of 5; the simulator's mean asynchronous delay d = {D * 1000:g} ms; the confirming page)
  = {secs(normal_bound(book))}.

{DECIDES[max(lane_bounds(book).items(), key=lambda item: item[1])[0]]} These are bounds on the
mean latency, not strict minima; listing every remaining page is not part of them.
"""


async def measure(book: Book, repeats: int) -> Result:
    trials = [await trial(book, seed=seed) for seed in range(repeats)]
    return Result(book, trials)


def section(result: Result, repeats: int) -> Section:
    book = result.book
    last = result.trials[-1]
    throttled = sum(t.throttled for t in result.trials)
    left = sum(sum(t.left_open.values()) for t in result.trials)
    ratio = result.elapsed / result.bound
    check = Check(
        f"{NUMBER}. empty {book.normal:,} normal + {book.plan:,} plan + {book.tpsl:,} TP/SL "
        f"orders / {book.symbols} symbols",
        f"{secs(result.elapsed)} = {ratio:.3f} × slowest-lane bound ({result.slowest}), "
        f"{throttled} × 429, {left} left open",
        "every kind confirmed empty, 0 × 429, 0 left open (ratio reported)",
        result.clean,
    )
    notes = lanes_table(result)
    if last.problems:
        notes += ["", "Problems reported: " + "; ".join(last.problems)]
    return Section(
        NUMBER,
        "Empty the account of every kind: normal, plan and TP/SL orders",
        intro(book, repeats),
        MAIN_HEADERS,
        main_rows(result),
        [check],
        notes,
    )


async def run(quick: bool) -> Section:
    """The workload for ``benchmarks/run.py``."""
    book = Book(*(QUICK if quick else FULL))
    repeats = 1
    return section(await measure(book, repeats), repeats)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.workloads.kinds_panic", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="2,000 + 200 + 40 orders")
    parser.add_argument("--repeats", type=int, default=1, help="runs; the median is reported")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every run was clean")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.repeats < 1:
        raise SystemExit("--repeats must be at least 1")
    logging.basicConfig(level=logging.ERROR)
    book = Book(*(QUICK if args.quick else FULL))
    result = asyncio.run(measure(book, args.repeats))
    print(section(result, args.repeats).markdown())
    command = " ".join(["python -m benchmarks.workloads.kinds_panic", *(argv or sys.argv[1:])])
    print(f"Command: `{command}`")
    return 1 if args.check and not result.clean else 0


if __name__ == "__main__":
    sys.exit(main())
