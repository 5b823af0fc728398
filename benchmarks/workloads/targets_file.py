"""Targets files and reports at scale: 200,000 rows read (CSV, JSON array, JSON lines) by
``bitget-cancel cancel``'s loader, and a 200,000-outcome report encoded as ``--json`` prints it.

Run alone: ``python -m benchmarks.workloads.targets_file [--quick]``.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from rich.console import Console

from bitget_cancel import CancelOutcome, CancelReport, CancelStatus, CancelTarget
from bitget_cancel.cli.display import print_report
from bitget_cancel.cli.report import encode, report_payload
from bitget_cancel.cli.targets_file import load_targets

from ._common import Check, Section, run_standalone, symbol_names

SIZES = (20_000, 200_000)
QUICK_SIZES = (5_000, 50_000)
SYMBOLS = 300
CLIENT_OID_SHARE = 0.1  # rows naming their order by clientOid only
CCXT_SHARE = 0.1  # rows whose symbol is written the ccxt way, BTC/USDT
MAX_LOAD_SECONDS = 3.0  # 200k rows of any format
MAX_REPORT_SECONDS = 2.0  # 200k outcomes to indented JSON
MAX_GROWTH = 1.5  # time per row at the largest size over the smallest: linear is 1.0
FORMATS = ("csv", "json", "jsonl")


def make_rows(size: int, seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    names = symbol_names(SYMBOLS)
    rows = []
    for i in range(size):
        symbol = names[rng.randrange(SYMBOLS)]
        if rng.random() < CCXT_SHARE:
            symbol = symbol.removesuffix("USDT") + "/USDT"
        if rng.random() < CLIENT_OID_SHARE:
            rows.append({"symbol": symbol, "orderId": "", "clientOid": f"c-{i}"})
        else:
            order_id = str(1_200_000_000_000_000_000 + i)
            rows.append({"symbol": symbol, "orderId": order_id, "clientOid": ""})
    return rows


def write_file(folder: Path, fmt: str, rows: list[dict[str, str]]) -> Path:
    path = folder / f"orders-{len(rows)}.{fmt}"
    with path.open("w", newline="") as file:
        if fmt == "csv":
            writer = csv.DictWriter(file, ["symbol", "orderId", "clientOid"])
            writer.writeheader()
            writer.writerows(rows)
        elif fmt == "json":
            json.dump(rows, file, indent=1)
        else:
            file.writelines(json.dumps(row) + "\n" for row in rows)
    return path


def timed(action: Callable[[], object], repeats: int) -> float:
    """The best of ``repeats`` runs: on a shared machine the noise only ever adds."""
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def make_report(size: int) -> CancelReport:
    outcomes = [
        CancelOutcome(
            CancelTarget(symbol="BTCUSDT", order_id=str(1_200_000_000_000_000_000 + i)),
            CancelStatus.CANCELLED,
            attempts=1,
        )
        for i in range(size)
    ]
    return CancelReport(outcomes, requests=size // 50, elapsed=size / 500)


def show_report(report: CancelReport) -> int:
    """What ``cancel --json`` and the tables do with a report; the bytes it would print."""
    data = encode(report_payload(report))
    print_report(Console(file=io.StringIO(), width=120), report)
    return len(data)


def dry_run_seconds(path: Path) -> float:
    """The whole command, as a user runs it: start, load, plan, print the plan as JSON."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "bitget_cancel", "cancel", "-f", str(path), "--dry-run",
               "--json"]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


@dataclass
class Timings:
    """Best-of-N seconds: loads by (format, size), reports by size, whole commands by format."""

    sizes: tuple[int, int]
    repeats: int
    load: dict[tuple[str, int], float] = field(default_factory=dict)
    report: dict[int, float] = field(default_factory=dict)
    whole: dict[str, float] = field(default_factory=dict)


async def run(quick: bool) -> Section:
    timings = Timings(QUICK_SIZES if quick else SIZES, 3 if quick else 5)
    # Quick: the whole command once, on the format that used to be quadratic.
    whole_formats = ("json",) if quick else FORMATS
    with tempfile.TemporaryDirectory() as folder:
        for size in timings.sizes:
            rows = make_rows(size)
            for fmt in FORMATS:
                path = write_file(Path(folder), fmt, rows)
                loaded = load_targets(str(path))
                assert len(loaded) == size
                del loaded
                timings.load[fmt, size] = timed(partial(load_targets, str(path)), timings.repeats)
                if size == timings.sizes[-1] and fmt in whole_formats:
                    timings.whole[fmt] = dry_run_seconds(path)
            report = make_report(size)
            timings.report[size] = timed(partial(show_report, report), timings.repeats)
            del report
    return section(timings)


def budget(per_200k: float, rows: int) -> float:
    """A target given for 200,000 rows, at ``rows`` rows (linear: per row the same)."""
    return per_200k * rows / 200_000


def section(t: Timings) -> Section:
    """The Section of measured timings (pure: the smoke test builds one from made-up ones)."""
    small, large = t.sizes
    rows_out = []
    for fmt in FORMATS:
        whole = t.whole.get(fmt)
        rows_out.append(
            [
                f"load {fmt}",
                *(f"{t.load[fmt, size]:.3f} s" for size in t.sizes),
                f"{t.load[fmt, large] / large * 1e6:.2f} µs",
                "not run" if whole is None else f"{whole:.2f} s",
            ]
        )
    rows_out.append(
        [
            "report: JSON + tables",
            *(f"{t.report[size]:.3f} s" for size in t.sizes),
            f"{t.report[large] / large * 1e6:.2f} µs",
            "",
        ]
    )
    growth = max(
        *(t.load[fmt, large] / large / (t.load[fmt, small] / small) for fmt in FORMATS),
        t.report[large] / large / (t.report[small] / small),
    )
    slowest_load = max(t.load[fmt, large] for fmt in FORMATS)
    max_load, max_report = budget(MAX_LOAD_SECONDS, large), budget(MAX_REPORT_SECONDS, large)
    full = large == 200_000
    scaled = "" if full else f" (pro rata at {large:,} rows: {max_load:g} s and {max_report:g} s)"
    intro = f"""
The command line's targets-file loader (`bitget_cancel.cli.targets_file.load_targets`) on
files of {small:,} and {large:,} rows over {SYMBOLS} symbols ({CLIENT_OID_SHARE:.0%} by
clientOid only, {CCXT_SHARE:.0%} with ccxt symbols like `S001/USDT`), from reading the bytes
to the list of `CancelTarget`; and a report of {large:,} outcomes made into what `--json`
prints (msgspec, indented) and the summary tables. Best of {t.repeats} runs, each after
`gc.collect()`. "dry run" is the whole command in a fresh process, `cancel --file F --dry-run
--json` (start-up, load, plan, print the plan), wall time of one run. Before: JSON arrays
parsed in quadratic time (16k rows: 15 s; 200k: not done after 10 minutes). Targets (issue
14: "200k rows load and print in seconds"): {MAX_LOAD_SECONDS:g} s to load and
{MAX_REPORT_SECONDS:g} s to print 200k rows{scaled}, and time per row not growing with size.
"""
    checks = [
        Check(
            f"targets files: {large:,} rows load in seconds",
            f"slowest format {slowest_load:.2f} s",
            f"≤ {max_load:g} s" + ("" if full else f" ({MAX_LOAD_SECONDS:g} s per 200k rows)"),
            slowest_load <= max_load,
        ),
        Check(
            f"reports: {large:,} outcomes print in seconds",
            f"{t.report[large]:.2f} s",
            f"≤ {max_report:g} s" + ("" if full else f" ({MAX_REPORT_SECONDS:g} s per 200k rows)"),
            t.report[large] <= max_report,
        ),
        Check(
            "targets files and reports: linear",
            f"time per row, {large:,} over {small:,}: at most {growth:.2f} ×",
            f"≤ {MAX_GROWTH} ×",
            growth <= MAX_GROWTH,
        ),
    ]
    return Section(
        "Targets files and reports at scale",
        intro,
        ["what", *(f"{size:,} rows" for size in t.sizes), "per row", "dry run, whole command"],
        rows_out,
        checks,
        headline=[
            f"**Targets files:** {large:,} rows load in {slowest_load:.2f} s (slowest of CSV, "
            f"JSON, JSON lines) and a report of {large:,} outcomes prints in "
            f"{t.report[large]:.2f} s; time per row grows at most {growth:.2f} × from "
            f"{small:,} rows (before: JSON arrays parsed in quadratic time)."
        ],
    )


if __name__ == "__main__":
    run_standalone(run)
