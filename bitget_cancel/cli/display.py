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
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from bitget_cancel import CancelOutcome, CancelReport, CancelStatus, CancelTarget, PanicReport
from bitget_cancel import Progress as ProgressCallback

from .dry_run import DryPlan, packed_requests, plan_by_symbol
from .exits import problems as panic_problems
from .report import NOT_SENT, never_sent

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
    with _live(bar, task, counts_total=True, start_now=total is not None) as update:
        yield update


@contextmanager
def _live(
    bar: Progress, task: TaskID, *, counts_total: bool, start_now: bool
) -> Iterator[ProgressCallback]:
    """``update(done, n)`` sets ``completed``, and ``n`` as the total (else as the ``seen``
    field of a counter); it shows from the first ``n`` that is not 0 (never "0/0 0%"), or at
    once; it stops on the way out."""

    def update(done: int, count: int) -> None:
        if counts_total:
            bar.update(task, completed=done, total=count)
        else:
            bar.update(task, completed=done, seen=count)
        if not bar.live.is_started and count:
            bar.start()

    if start_now:
        bar.start()
    try:
        yield update
    finally:
        if bar.live.is_started:
            bar.stop()


def _shown_status(outcome: CancelOutcome, interrupted: bool) -> str:
    """The status as the report file says it: after an interruption, never sent is not_sent."""
    return NOT_SENT if interrupted and never_sent(outcome) else outcome.status.value


@contextmanager
def progress_counter(console: Console, description: str) -> Iterator[ProgressCallback]:
    """A live counter for a ``progress(done, seen)`` whose total is not known (a panic finds
    orders as pages arrive): counts, never a percentage. Shows from the first call."""
    columns = (
        TextColumn("[progress.description]{task.description}"),
        TextColumn("{task.completed:,.0f} closed of {task.fields[seen]:,} seen so far"),
        TimeElapsedColumn(),
    )
    bar = Progress(*columns, console=console, transient=False)
    task = bar.add_task(description, total=None, seen=0)
    with _live(bar, task, counts_total=False, start_now=False) as update:
        yield update


def outcomes_table(
    report: CancelReport, title: str = "Outcomes", *, interrupted: bool = False
) -> Table:
    """Counts by status, one row each, with what the status means; after an interruption,
    the orders never sent on a row of their own, as in the report file."""
    table = Table(title=title, title_justify="left")
    table.add_column("status")
    table.add_column("orders", justify="right")
    table.add_column("meaning", style="dim")
    counts = report.counts()
    unsent = sum(1 for o in report.unresolved if never_sent(o)) if interrupted else 0
    counts[CancelStatus.UNRESOLVED.value] -= unsent
    for status in CancelStatus:
        count = counts[status.value]
        style = _STATUS_STYLE[status] if count else "dim"
        table.add_row(f"[{style}]{status.value}[/]", str(count), _STATUS_HELP[status])
    if interrupted:
        style = "yellow" if unsent else "dim"
        table.add_row(f"[{style}]{NOT_SENT}[/]", str(unsent), _NOT_SENT_HELP)
    table.add_row("[bold]total[/]", f"[bold]{len(report.outcomes)}[/]", "distinct targets")
    return table


_NOT_SENT_HELP = "interrupted before any request named it: still open if it was"
MESSAGE_MIN_WIDTH = 20


def problems_table(
    report: CancelReport, width: int, limit: int = 20, *, interrupted: bool = False
) -> Table | None:
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
        "kind": [o.target.kind.value for o in shown],
        "orderId": [o.target.order_id or "" for o in shown],
        "clientOid": [o.target.client_oid or "" for o in shown],
        "status": [_shown_status(o, interrupted) for o in shown],
        "code": [o.error_code or "" for o in shown],
        "attempts": [str(o.attempts) for o in shown],
    }
    widths = {name: max(len(name), *map(len, values)) for name, values in whole.items()}
    columns = len(widths) + 1  # and the message
    needed = sum(widths.values()) + MESSAGE_MIN_WIDTH + 3 * columns + 1  # padding and rules
    table = Table(title=title, title_justify="left", width=needed if needed > width else None)
    for name in ("symbol", "kind", "orderId", "clientOid", "status", "code"):
        table.add_column(name, no_wrap=True, overflow="ignore", min_width=widths[name])
    table.add_column("message", overflow="fold", ratio=1, min_width=MESSAGE_MIN_WIDTH)
    table.add_column("attempts", justify="right", no_wrap=True, min_width=widths["attempts"])
    for outcome in shown:
        target = outcome.target
        # Text, not markup: ids and messages come from files and the exchange.
        table.add_row(
            Text(target.symbol),
            Text(target.kind.value),
            Text(target.order_id or ""),
            Text(target.client_oid or ""),
            Text(_shown_status(outcome, interrupted), style=_STATUS_STYLE[outcome.status]),
            Text(outcome.error_code or ""),
            Text(outcome.error_msg or ""),
            str(outcome.attempts),
        )
    return table


def print_report(console: Console, report: CancelReport, *, interrupted: bool = False) -> None:
    """The counts by status, then what is not closed (ids whole, whatever the width)."""
    console.print(outcomes_table(report, interrupted=interrupted))
    problems = problems_table(report, console.width, interrupted=interrupted)
    if problems is not None:
        console.print(problems, crop=False)


def _facts(title: str, rows: list[tuple[str, str | Text]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for name, value in rows:
        table.add_row(name, value)
    return table


def _problem_rows(report: CancelReport) -> list[tuple[str, str | Text]]:
    # The engine's (and the exchange's) words: Text keeps their brackets from reading as markup.
    return [("[red]problem[/]", Text(p)) for p in panic_problems(report)]


def _account_rows(account: str | None) -> list[tuple[str, str | Text]]:
    if account is None:
        return []
    return [("account", {"classic": "classic (v2 API)", "uta": "unified (v3 API)"}.get(
        account, account))]  # fmt: skip


def _fallback_rows(report: CancelReport) -> list[tuple[str, str | Text]]:
    if not report.budget_fallbacks:
        return []
    what = f"{report.budget_fallbacks} (a local share of the rate stood in)"
    return [("[yellow]shared budget unreachable[/]", what)]


def cost_table(report: CancelReport, account: str | None = None) -> Table:
    """What the cancel cost, and whatever kept it from an all-clear besides the outcomes
    (refused credentials, with what to change)."""
    return _facts(
        "Cost",
        [
            *_problem_rows(report),
            *_account_rows(account),
            ("requests", str(report.requests)),
            ("elapsed", f"{report.elapsed:.3f} s"),
            ("HTTP 429 answers", str(report.throttled)),
            *_fallback_rows(report),
        ],
    )


_UNCOUNTED = (
    "bulk cancels close orders the panic may never list one by one: those are not in these "
    "counts (without --yes, the prompt's listing counts them)"
)


def panic_table(
    report: PanicReport,
    account: str | None = None,
    scope: str | None = None,
    *,
    counted_from_prompt: bool = False,
) -> Table:
    empty = "[green]yes[/]" if report.account_empty else "[yellow]no[/]"
    uncounted = report.symbol_cancels and not counted_from_prompt
    return _facts(
        "Panic",
        [
            *_problem_rows(report),
            *([("scope", Text(scope))] if scope is not None else []),
            ("nothing left open in scope", empty),
            *_account_rows(account),
            ("passes (list, cancel, list again)", str(report.passes)),
            ("cancel requests", str(report.cancel_requests)),
            ("bulk cancel requests (symbol, plan)", str(report.symbol_cancels)),
            *([("[yellow]note[/]", Text(_UNCOUNTED))] if uncounted else []),
            ("listing requests", str(report.list_requests)),
            ("requests in all", str(report.requests)),
            ("HTTP 429 answers", str(report.throttled)),
            *_fallback_rows(report),
            ("elapsed", f"{report.elapsed:.3f} s"),
        ],
    )


def kinds_table(report: PanicReport) -> Table:
    """One row per kind of order the panic worked on: what it saw and did, and whether a
    complete listing confirmed none left (why not: the problems of the panic table)."""
    table = Table(title="Per kind (confirmed: a complete listing showed none left)",
                  title_justify="left")  # fmt: skip
    table.add_column("kind", no_wrap=True)
    for name in ("listed", "cancelled", "not_open", "failed", "unresolved"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("confirmed", no_wrap=True)
    for kind, summary in report.by_kind.items():
        confirmed = "[green]yes[/]" if summary.confirmed_empty else "[yellow]no[/]"
        table.add_row(
            Text(kind),
            str(summary.listed),
            str(summary.cancelled),
            str(summary.not_open),
            Text(str(summary.failed), style="red" if summary.failed else ""),
            Text(str(summary.unresolved), style="yellow" if summary.unresolved else ""),
            confirmed,
        )
    return table


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
class Lane:
    """One cancel endpoint: its own budget, so the endpoints go concurrently."""

    endpoint: str
    rate: int  # requests per sliding second
    requests: int  # requests it received
    fewest: int  # the fewest that could have cancelled its orders

    def bound(self, round_trip: float) -> float:
        return rate_limit_bound(self.requests, round_trip, self.rate)


@dataclass(frozen=True, slots=True)
class DemoFacts:
    """What the demo measured besides the report itself."""

    given: int  # targets handed to cancel(), duplicates included
    lanes: tuple[Lane, ...]  # the cancel endpoints that carried requests
    round_trip: float  # mean configured latency, seconds
    pacing_429: int  # 429s the simulator sent because the client went too fast
    injected_429: int  # 429s the simulator made up (fault injection)
    violations: int  # requests or orders the simulator refused for breaking a rule
    faults_injected: int  # every fault the simulator injected
    left_open: int  # orders still open on the simulator afterwards

    @property
    def fewest(self) -> int:
        return sum(lane.fewest for lane in self.lanes)

    def slowest(self) -> Lane | None:
        busy = [lane for lane in self.lanes if lane.requests]
        return max(busy, key=lambda lane: lane.bound(self.round_trip), default=None)


def demo_table(report: CancelReport, facts: DemoFacts) -> Table:
    slowest = facts.slowest()
    bound = 0.0 if slowest is None else slowest.bound(facts.round_trip)
    ratio = f" ({report.elapsed / bound:.2f}× the bound)" if bound > 0 else ""
    left = facts.left_open
    rows: list[tuple[str, str | Text]] = [
        ("targets given", f"{facts.given} ({facts.given - len(report.outcomes)} duplicates)"),
        ("requests", f"{report.requests} (fewest possible: {facts.fewest})"),
    ]
    if len(facts.lanes) > 1:
        per_lane = ", ".join(f"{lane.endpoint} {lane.requests} ({lane.rate}/s)"
                             for lane in facts.lanes)  # fmt: skip
        rows.append(("by endpoint (concurrently)", per_lane))
    rows.append(("elapsed", f"{report.elapsed:.3f} s{ratio}"))
    if slowest is not None:
        rows.append((
            "rate-limit bound",
            f"{bound:.3f} s = floor(({slowest.requests} - 1) / {slowest.rate}) s "
            f"+ one round trip ({facts.round_trip * 1000:.0f} ms); {slowest.endpoint}: "
            f"{slowest.rate} requests per second",
        ))  # fmt: skip
    rows += [
        (
            "HTTP 429s",
            f"engine saw {report.throttled}; from its own pacing {facts.pacing_429}; "
            f"injected by the sim {facts.injected_429}",
        ),
        ("faults injected", str(facts.faults_injected)),
        ("rule violations seen by the sim", str(facts.violations)),
        ("orders left open", f"[{'green' if not left else 'red'}]{left}[/]"),
    ]
    return _facts("Demo", rows)


# -- dry run -----------------------------------------------------------------------------------


def _count(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def plan_tables(plan: DryPlan, limit: int = 30) -> list[Table]:
    """The requests a cancel would send: totals, per kind, then per symbol (the biggest
    ``limit``)."""
    batches = plan.batches
    normal = sum(len(batch) for batch in batches)
    by_order_id = sum(len(batch) for batch in batches if batch.by_order_id)
    single = sum(1 for batch in batches if batch.batch_mode == "single")
    by_client, multi = normal - by_order_id, len(batches) - single
    lanes = plan.lanes()
    bound = max((rate_limit_bound(n, 0.0, rate) for n, rate in lanes.values()), default=0.0)
    pace = ", ".join(f"{name} {rate}/s" for name, (_, rate) in lanes.items())
    reckoned = (
        " (reckoned as classic; --account uta for a unified one)" if plan.account == "auto" else ""
    )
    rows: list[tuple[str, str | Text]] = [
        ("targets given", f"{plan.given} ({plan.given - plan.orders} duplicates)"),
        ("distinct orders", str(plan.orders)),
        ("requests", f"{plan.requests} in all"),
    ]
    if batches:
        rows.append((
            "normal orders",
            f"{normal} ({by_order_id} by orderId, {by_client} by clientOid): "
            f"{_count(len(batches), 'request')}, mode {plan.mode} ({single} single-symbol, "
            f"{multi} multi)",
        ))  # fmt: skip
    for kind, (orders, requests, endpoint) in plan.by_kind().items():
        if kind != "normal":
            each = f"{_count(requests, 'request')}, one each, {endpoint.name}"
            rows.append((f"{kind} orders", f"{orders}: {each}"))
    rows += [
        ("account", f"{plan.account}{reckoned}"),
        ("least time", f"{bound:g} s plus the round trips ({pace or 'nothing to send'})"),
    ]
    totals = _facts("Dry run: nothing was sent", rows)
    plans = plan_by_symbol(plan)
    title = "Per symbol" + (f" (first {limit} of {len(plans)})" if len(plans) > limit else "")
    packed = packed_requests(plan)
    table = Table(title=title, title_justify="left")
    table.add_column("symbol", no_wrap=True)
    table.add_column("orders", justify="right")
    table.add_column("requests", justify="right")
    if packed:
        table.add_column("in packed requests", justify="right")
    for p in plans[:limit]:
        shared = (str(p.packed),) if packed else ()
        table.add_row(Text(p.symbol), str(p.orders), str(p.requests), *shared)
    if packed:
        # Counted once here, not under each symbol it carries: the column adds up.
        table.add_row("[dim]packed, several symbols[/]", "", str(packed), "")
    return [totals, table]


def expected_total(targets: Sequence[CancelTarget]) -> int:
    """The orders a cancel of ``targets`` works on, for the bar's total before any answer:
    targets naming one order (by orderId if given, else by clientOid) count once."""
    return len({(t.kind, t.symbol, t.by_order_id, t.wire_id) for t in targets})
