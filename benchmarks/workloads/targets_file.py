"""8. Targets files and reports at scale: 200,000 rows read (CSV, JSON array, JSON lines) by
``bitget-cancel cancel``'s loader, and a 200,000-outcome report encoded as ``--json`` prints it.

Run alone: ``python -m benchmarks.workloads.targets_file [--quick]``.
"""

from __future__ import annotations

import asyncio
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
from pathlib import Path

from rich.console import Console

from bitget_cancel import CancelOutcome, CancelReport, CancelStatus, CancelTarget
from bitget_cancel.cli.display import print_report
from bitget_cancel.cli.report import encode, report_payload
from bitget_cancel.cli.targets_file import load_targets

from ._common import Check, Section, symbol_names

SIZES = (20_000, 200_000)
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


async def run(quick: bool) -> Section:
    repeats = 2 if quick else 5
    load: dict[tuple[str, int], float] = {}
    report_time: dict[int, float] = {}
    whole: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in SIZES:
            rows = make_rows(size)
            for fmt in FORMATS:
                path = write_file(Path(folder), fmt, rows)
                loaded = load_targets(str(path))
                assert len(loaded) == size
                del loaded
                load[fmt, size] = timed(lambda p=path: load_targets(str(p)), repeats)  # type: ignore[misc]
                if size == SIZES[-1]:
                    whole[fmt] = dry_run_seconds(path)
            report = make_report(size)
            report_time[size] = timed(lambda r=report: show_report(r), repeats)  # type: ignore[misc]
            del report
    small, large = SIZES
    rows_out = []
    for fmt in FORMATS:
        rows_out.append(
            [
                f"load {fmt}",
                *(f"{load[fmt, size]:.3f} s" for size in SIZES),
                f"{load[fmt, large] / large * 1e6:.2f} µs",
                f"{whole[fmt]:.2f} s",
            ]
        )
    rows_out.append(
        [
            "report: JSON + tables",
            *(f"{report_time[size]:.3f} s" for size in SIZES),
            f"{report_time[large] / large * 1e6:.2f} µs",
            "",
        ]
    )
    growth = max(
        *(load[fmt, large] / large / (load[fmt, small] / small) for fmt in FORMATS),
        report_time[large] / large / (report_time[small] / small),
    )
    slowest_load = max(load[fmt, large] for fmt in FORMATS)
    intro = f"""
The command line's targets-file loader (`bitget_cancel.cli.targets_file.load_targets`) on
files of {small:,} and {large:,} rows over {SYMBOLS} symbols ({CLIENT_OID_SHARE:.0%} by
clientOid only, {CCXT_SHARE:.0%} with ccxt symbols like `S001/USDT`), from reading the bytes
to the list of `CancelTarget`; and a report of {large:,} outcomes made into what `--json`
prints (msgspec, indented) and the summary tables. Best of {repeats} runs, each after
`gc.collect()`. "dry run" is the whole command in a fresh process, `cancel --file F --dry-run
--json` (start-up, load, plan, print the plan), wall time of one run. Before: JSON arrays
parsed in quadratic time (16k rows: 15 s; 200k: not done after 10 minutes).
"""
    checks = [
        Check(
            "8. targets files: 200k rows load in seconds",
            f"slowest format {slowest_load:.2f} s",
            f"≤ {MAX_LOAD_SECONDS:g} s",
            slowest_load <= MAX_LOAD_SECONDS,
        ),
        Check(
            "8. reports: 200k outcomes print in seconds",
            f"{report_time[large]:.2f} s",
            f"≤ {MAX_REPORT_SECONDS:g} s",
            report_time[large] <= MAX_REPORT_SECONDS,
        ),
        Check(
            "8. targets files and reports: linear",
            f"time per row, {large:,} over {small:,}: at most {growth:.2f} ×",
            f"≤ {MAX_GROWTH} ×",
            growth <= MAX_GROWTH,
        ),
    ]
    return Section(
        8,
        "Targets files and reports at scale",
        intro,
        ["what", *(f"{size:,} rows" for size in SIZES), "per row", "dry run, whole command"],
        rows_out,
        checks,
    )


def main() -> None:
    section = asyncio.run(run(quick="--quick" in sys.argv[1:]))
    print(section.markdown())
    for check in section.checks:
        print(f"- {check.label}: {check.measured} (target {check.target}): "
              f"{'met' if check.met else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
