"""Shared pieces of the workloads: simulator and engine set-up, targets, bounds, tables."""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import sys
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bitget_cancel import CancelTarget, Credentials

if TYPE_CHECKING:  # a type only: the simulator pulls in aiohttp.web
    from bitget_cancel.sim import SimExchange


BATCH_CANCEL_PATH = "/api/v2/spot/trade/batch-cancel-order"
MAX_BATCH = 50  # orders per batch-cancel request
BATCH_BURST = 10  # batch-cancel: at most 10 arrivals in any sliding second

_keys = itertools.count(1)


def fresh_api_key() -> str:
    """A new account name for one repeat.

    Engines of one api key in one event loop share the account's rate window, so a repeat under
    the key of the previous one would start by waiting out the previous repeat's last second.
    """
    return f"bench-key-{next(_keys)}"


def credentials(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


def symbol_names(count: int) -> list[str]:
    return [f"S{i:03d}USDT" for i in range(count)]


def spread(total: int, n_symbols: int) -> list[tuple[str, int]]:
    """``total`` orders over ``n_symbols``, as evenly as possible: (symbol, count) pairs."""
    base, extra = divmod(total, n_symbols)
    return [(s, base + (1 if i < extra else 0)) for i, s in enumerate(symbol_names(n_symbols))]


def place_targets(
    sim: SimExchange, total: int, n_symbols: int, *, seed: int = 0
) -> list[CancelTarget]:
    """Place ``total`` open orders spread over ``n_symbols``; their targets, shuffled.

    Shuffled so the planner does the grouping, as with a list a strategy hands over.
    """
    targets = [
        CancelTarget(symbol=symbol, order_id=order.order_id)
        for symbol, count in spread(total, n_symbols)
        for order in sim.place_orders(symbol, count)
    ]
    random.Random(seed).shuffle(targets)
    return targets


def min_requests(orders: int) -> int:
    return -(-orders // MAX_BATCH)


def rate_bound(requests: int, latency: float, cap: int = BATCH_BURST, period: float = 1.0) -> float:
    """Earliest time the last of ``requests`` is answered under a sliding-window limit.

    At most ``cap`` arrivals in any ``period``: request k (0-based) arrives no earlier than
    ⌊k / cap⌋ × period after the first, so the last is sent at ⌊(n − 1) / cap⌋ × period and
    answered one ``latency`` later. Right for any n, not only multiples of ``cap``.
    """
    if requests <= 0:
        return 0.0
    return (requests - 1) // cap * period + latency


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@dataclass(frozen=True)
class Runs:
    """Repeated measurements of one quantity: reported as the median and the range."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Iterable[float]) -> Runs:
        collected = tuple(values)
        if not collected:
            raise ValueError("no runs to summarise")
        return cls(collected)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def show(self, unit: Callable[[float], str]) -> str:
        """``median (low–high)``, or the value alone for one run."""
        if len(self.values) == 1:
            return unit(self.median)
        return f"{unit(self.median)} ({unit(self.low)}–{unit(self.high)})"


def span(values: Sequence[float], digits: int = 3) -> str:
    """``low–high`` of ratios, or one value when they agree at this precision."""
    low, high = f"{min(values):.{digits}f}", f"{max(values):.{digits}f}"
    return low if low == high else f"{low}–{high}"


def int_span(values: Iterable[int]) -> str:
    """``low–high`` of counts over runs, or one value when all runs agree."""
    collected = sorted(values)
    low, high = collected[0], collected[-1]
    return str(low) if low == high else f"{low}–{high}"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.3f} s"


def yes_no(met: bool) -> str:
    return "yes" if met else "**no**"


@dataclass
class Check:
    """One target of the issue: what was measured against what was asked."""

    label: str
    measured: str
    target: str
    met: bool


@dataclass
class Section:
    """The result of one workload: an explanation, a table, the checks it decides, and the
    headline sentences the README quotes (through RESULTS.md, see benchmarks/readme.py)."""

    title: str
    intro: str
    headers: list[str]
    rows: list[list[str]]
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    headline: list[str] = field(default_factory=list)

    def markdown(self, number: int) -> str:
        lines = [f"### {number}. {self.title}", "", reflow(self.intro), ""]
        lines.extend(table(self.headers, self.rows))
        if self.notes:
            lines.append("")
            lines.extend(reflow(note) for note in self.notes)
        return "\n".join(lines) + "\n"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out.extend("| " + " | ".join(row) + " |" for row in rows)
    return out


def reflow(text: str) -> str:
    """One line per paragraph and per list item, so wrapped source text renders cleanly."""
    blocks = []
    for paragraph in text.strip().split("\n\n"):
        items: list[str] = []
        for line in paragraph.splitlines():
            if line.startswith("- ") or not items:
                items.append(line.strip())
            else:
                items[-1] += " " + line.strip()
        blocks.append("\n".join(items))
    return "\n\n".join(blocks)


def run_standalone(run: Callable[[bool], Coroutine[Any, Any, Section]]) -> None:
    """``python -m benchmarks.workloads.NAME [--quick]``: one workload, printed as markdown."""
    result = asyncio.run(run("--quick" in sys.argv[1:]))
    print(result.markdown(1))
    for check in result.checks:
        print(f"- {check.label}: {check.measured} (target {check.target}): "
              f"{'met' if check.met else 'NOT met'}")  # fmt: skip
