"""What the command line shows: a live progress bar and summary tables (rich)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from bitget_cancel import Batch, CancelReport, CancelStatus, CancelTarget, PanicReport
from bitget_cancel import Progress as ProgressCallback

from .dry_run import plan_by_symbol
from .exits import problems as panic_problems

_STATUS_STYLE = {
    CancelStatus.CANCELLED: "green",
    CancelStatus.NOT_OPEN: "cyan",
    CancelStatus.FAILED: "red",
    CancelStatus.UNRESOLVED: "yellow",
}
_STATUS_HELP = {
    CancelStatus.CANCELLED: "the exchange confirmed the cancel",
    CancelStatus.NOT_OPEN: "nothing to cancel (filled, cancelled before, or unknown)",
    CancelStatus.FAILED: "refused; retrying would not help",
    CancelStatus.UNRESOLVED: "no final answer before the attempts or the deadline ran out",
}


@contextmanager
def progress_bar(
    console: Console, description: str, total: int | None = None
) -> Iterator[ProgressCallback]:
    """A live bar for a ``progress(done, total)`` callback.

    With ``total`` it shows at once; without, it shows from the first call, which brings the
    total: the bar never shows a count without one ("0/?").
    """
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    bar = Progress(*columns, console=console, transient=False)
    task = bar.add_task(description, total=total)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)
        if not bar.live.is_started:
            bar.start()

    if total is not None:
        bar.start()
    try:
        yield update
    finally:
        if bar.live.is_started:
            bar.stop()


def outcomes_table(report: CancelReport, title: str = "Outcomes") -> Table:
    """Counts by status, one row each, with what the status means."""
    table = Table(title=title, title_justify="left")
    table.add_column("status")
    table.add_column("orders", justify="right")
    table.add_column("meaning", style="dim")
    counts = report.counts()
    for status in CancelStatus:
        count = counts[status.value]
        style = _STATUS_STYLE[status] if count else "dim"
        table.add_row(f"[{style}]{status.value}[/]", str(count), _STATUS_HELP[status])
    table.add_row("[bold]total[/]", f"[bold]{len(report.outcomes)}[/]", "distinct targets")
    return table


MESSAGE_MIN_WIDTH = 20


def problems_table(report: CancelReport, width: int, limit: int = 20) -> Table | None:
    """The targets that are not closed (failed, unresolved), with the exchange's last word.

    Ids are copied from here into other tools, so they are never wrapped nor cut: each id
    column is as wide as its longest id, the message gives way, and on a terminal narrower
    than that (``width``) the table is wider than the terminal; print it with ``crop=False``
    (print_problems does).
    """
    problems = report.failed + report.unresolved
    if not problems:
        return None
    shown = problems[:limit]
    title = "Not closed" + (f" (first {limit} of {len(problems)})" if len(problems) > limit else "")
    whole = {
        "symbol": [o.target.symbol for o in shown],
        "orderId": [o.target.order_id or "" for o in shown],
        "clientOid": [o.target.client_oid or "" for o in shown],
        "status": [o.status.value for o in shown],
        "code": [o.error_code or "" for o in shown],
        "attempts": [str(o.attempts) for o in shown],
    }
    widths = {name: max(len(name), *map(len, values)) for name, values in whole.items()}
    columns = len(widths) + 1  # and the message
    needed = sum(widths.values()) + MESSAGE_MIN_WIDTH + 3 * columns + 1  # padding and rules
    table = Table(title=title, title_justify="left", width=needed if needed > width else None)
    for name in ("symbol", "orderId", "clientOid", "status", "code"):
        table.add_column(name, no_wrap=True, overflow="ignore", min_width=widths[name])
    table.add_column("message", overflow="fold", ratio=1, min_width=MESSAGE_MIN_WIDTH)
    table.add_column("attempts", justify="right", no_wrap=True, min_width=widths["attempts"])
    for outcome in shown:
        target = outcome.target
        # Text, not markup: ids and messages come from files and the exchange.
        table.add_row(
            Text(target.symbol),
            Text(target.order_id or ""),
            Text(target.client_oid or ""),
            Text(outcome.status.value, style=_STATUS_STYLE[outcome.status]),
            Text(outcome.error_code or ""),
            Text(outcome.error_msg or ""),
            str(outcome.attempts),
        )
    return table


def print_report(console: Console, report: CancelReport) -> None:
    """The counts by status, then what is not closed (ids whole, whatever the width)."""
    console.print(outcomes_table(report))
    problems = problems_table(report, console.width)
    if problems is not None:
        console.print(problems, crop=False)


def _facts(title: str, rows: list[tuple[str, str | Text]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for name, value in rows:
        table.add_row(name, value)
    return table


def cost_table(report: CancelReport) -> Table:
    return _facts(
        "Cost",
        [
            ("requests", str(report.requests)),
            ("elapsed", f"{report.elapsed:.3f} s"),
            ("HTTP 429 answers", str(report.throttled)),
        ],
    )


def panic_table(report: PanicReport) -> Table:
    empty = "[green]yes[/]" if report.account_empty else "[yellow]no[/]"
    # Problems come from the exchange's words: Text keeps their brackets from reading as markup.
    problems = [("[red]problem[/]", Text(p)) for p in panic_problems(report)]
    return _facts(
        "Panic",
        [
            *problems,
            ("nothing left open in scope", empty),
            ("passes (list, cancel, list again)", str(report.passes)),
            ("batch-cancel requests", str(report.cancel_requests)),
            ("cancel-symbol-order requests", str(report.symbol_cancels)),
            ("unfilled-orders requests", str(report.list_requests)),
            ("requests in all", str(report.requests)),
            ("HTTP 429 answers", str(report.throttled)),
            ("elapsed", f"{report.elapsed:.3f} s"),
        ],
    )


def fewest_requests(by_order_id: int, by_client_oid: int, batch: int = 50) -> int:
    """The fewest batch-cancel requests for this many distinct orders of each id kind."""
    return math.ceil(by_order_id / batch) + math.ceil(by_client_oid / batch)


def rate_limit_bound(
    requests: int, round_trip: float, burst: int = 10, period: float = 1.0
) -> float:
    """The least time any client could take to send ``requests`` and hear the last answer.

    The exchange counts arrivals in a sliding window: at most ``burst`` in any ``period``. So
    the k-th request (1-based) cannot arrive before ``floor((k - 1) / burst) * period`` after
    the first, and its answer comes a round trip later. (A token bucket's ``(n - burst) / rate``
    would be lower, but a client pacing that way trips a sliding window.)
    """
    if requests <= 0:
        return 0.0
    return ((requests - 1) // burst) * period + round_trip


@dataclass(frozen=True, slots=True)
class DemoFacts:
    """What the demo measured besides the report itself."""

    given: int  # targets handed to cancel(), duplicates included
    fewest: int  # fewest possible requests for the distinct targets
    round_trip: float  # mean configured latency, seconds
    pacing_429: int  # 429s the simulator sent because the client went too fast
    injected_429: int  # 429s the simulator made up (fault injection)
    violations: int  # requests or orders the simulator refused for breaking a rule
    faults_injected: int  # every fault the simulator injected
    left_open: int  # orders still open on the simulator afterwards


def demo_table(report: CancelReport, facts: DemoFacts) -> Table:
    bound = rate_limit_bound(report.requests, facts.round_trip)
    ratio = f" ({report.elapsed / bound:.2f}× the bound)" if bound > 0 else ""
    left = facts.left_open
    return _facts(
        "Demo",
        [
            ("targets given", f"{facts.given} ({facts.given - len(report.outcomes)} duplicates)"),
            ("requests", f"{report.requests} (fewest possible: {facts.fewest})"),
            ("elapsed", f"{report.elapsed:.3f} s{ratio}"),
            (
                "rate-limit bound",
                f"{bound:.3f} s = floor(({report.requests} - 1) / 10) s "
                f"+ one round trip ({facts.round_trip * 1000:.0f} ms); 10 requests per second",
            ),
            (
                "HTTP 429s",
                f"engine saw {report.throttled}; from its own pacing {facts.pacing_429}; "
                f"injected by the sim {facts.injected_429}",
            ),
            ("faults injected", str(facts.faults_injected)),
            ("rule violations seen by the sim", str(facts.violations)),
            ("orders left open", f"[{'green' if not left else 'red'}]{left}[/]"),
        ],
    )


# -- dry run -----------------------------------------------------------------------------------


def plan_tables(
    batches: list[Batch[CancelTarget]], given: int, mode: str, limit: int = 30
) -> list[Table]:
    """The requests a cancel would send: totals, then per symbol (the biggest ``limit``)."""
    orders = sum(len(batch) for batch in batches)
    by_order_id = sum(len(batch) for batch in batches if batch.by_order_id)
    single = sum(1 for batch in batches if batch.batch_mode == "single")
    by_client, multi = orders - by_order_id, len(batches) - single
    bound = rate_limit_bound(len(batches), 0.0)
    totals = _facts(
        "Dry run: nothing was sent",
        [
            ("targets given", f"{given} ({given - orders} duplicates)"),
            ("distinct orders", f"{orders} ({by_order_id} by orderId, {by_client} by clientOid)"),
            ("requests", f"{len(batches)} (mode {mode}: {single} single-symbol, {multi} multi)"),
            ("least time", f"{bound:g} s plus the round trips, at 10 requests per second"),
        ],
    )
    plans = plan_by_symbol(batches)
    title = "Per symbol" + (f" (first {limit} of {len(plans)})" if len(plans) > limit else "")
    table = Table(title=title, title_justify="left")
    table.add_column("symbol", no_wrap=True)
    table.add_column("orders", justify="right")
    table.add_column("requests", justify="right")
    for plan in plans[:limit]:
        table.add_row(Text(plan.symbol), str(plan.orders), str(plan.requests))
    return [totals, table]


def expected_total(targets: Sequence[CancelTarget]) -> int:
    """The orders a cancel of ``targets`` works on, for the bar's total before any answer:
    targets naming one order (by orderId if given, else by clientOid) count once."""
    return len(
        {
            (t.symbol, True, t.order_id)
            if t.order_id is not None
            else (t.symbol, False, t.client_oid)
            for t in targets
        }
    )
