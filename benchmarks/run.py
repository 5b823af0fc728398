"""Run the benchmarks against the simulator on 127.0.0.1 and write benchmarks/RESULTS.md.

python benchmarks/run.py            # full run, about 16 minutes; writes benchmarks/RESULTS.md
                                    # and copies its headline figures into README.md
python benchmarks/run.py --quick    # every workload at reduced size, about 90 s (CI smoke)
python benchmarks/run.py --quick --only uta --only redis-processes   # some workloads

To add a workload: a module in benchmarks/workloads/ with ``async def run(quick) -> Section``,
and one line in ``WORKLOADS`` below.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(ROOT))

from benchmarks import readme  # noqa: E402
from benchmarks.workloads import (  # noqa: E402
    burst,
    confirm,
    cpu,
    deadman,
    empty_account,
    far,
    kinds_panic,
    planning,
    redis_deployments,
    redis_processes,
    shared_engine,
    strategy_contention,
    targets_file,
    throughput,
    uta,
    vs_ccxt,
    warm_up,
)
from benchmarks.workloads._common import Section, table, yes_no  # noqa: E402

RESULTS = readme.RESULTS

Workload = Callable[[bool], Awaitable[Section]]

# The one place a workload is registered: its name for --only, and its run function.
# Reported, and numbered from 1, in this order.
WORKLOADS: dict[str, Workload] = {
    "throughput": throughput.run,
    "burst": burst.run,
    "ccxt": vs_ccxt.run,
    "cpu": cpu.run,
    "planning": planning.run,
    "warm-up": warm_up.run,
    "panic": empty_account.run,
    "panic-kinds": kinds_panic.run,
    "uta": uta.run,
    "redis-processes": redis_processes.run,
    "targets-file": targets_file.run,
    "shared-engine": shared_engine.run,
    "confirm": confirm.run,
    "deadman": deadman.run,
    "redis-deployments": redis_deployments.run,
    "far": far.run,
    "strategy-contention": strategy_contention.run,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes, about 90 s in all")
    parser.add_argument(
        "--only", action="append", choices=sorted(WORKLOADS), help="run only these workloads"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the results (default: benchmarks/RESULTS.md for a full run of "
        "every workload; a --quick or --only run writes nothing unless given)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is not met")
    parser.add_argument(
        "--shared",
        action="store_true",
        help="say in the results that the machine was running other work meanwhile",
    )
    return parser.parse_args(argv)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment(argv: list[str]) -> list[str]:
    command = "python " + shlex.join(["benchmarks/run.py", *argv])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"- Command: `{command}`",
        f"- Date: {now}; git revision {git_revision()} (plus uncommitted changes, if any)",
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores, {platform.platform()}",
        f"- Python {platform.python_version()}, aiohttp {version('aiohttp')}, msgspec "
        f"{version('msgspec')}, ccxt {version('ccxt')}, bitget-cancel "
        f"{version('bitget-cancel')}",
    ]


Numbered = list[tuple[int, Section]]  # a section and its workload's place in WORKLOADS


def summary(sections: Numbered) -> list[str]:
    rows = [
        [f"{number}. {check.label}", check.measured, check.target, yes_no(check.met)]
        for number, section in sections
        for check in section.checks
    ]
    return table(["workload", "measured", "target", "met"], rows)


def figures(sections: Numbered, argv: list[str], elapsed: float) -> list[str]:
    """The headline figures, the block README.md quotes (see benchmarks/readme.py)."""
    command = "python " + shlex.join(["benchmarks/run.py", *argv])
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    return [
        readme.START,
        "",
        f"From `{command}` ({elapsed / 60:.0f} min) on {day}, {cpu_model()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; every workload against "
        "the simulator on 127.0.0.1. Absolute times depend on the machine; the ratios to the "
        "raw-aiohttp reference client measured in the same run are what carry.",
        "",
        *(f"- {line}" for _, section in sections for line in section.headline),
        "",
        readme.END,
    ]


def render(
    sections: Numbered, argv: list[str], quick: bool, elapsed: float, shared: bool = False
) -> str:
    size = "quick (reduced sizes)" if quick else "full"
    lines = [
        "# Benchmark results",
        "",
        "Every workload runs against the simulator (`bitget_cancel.sim`) on 127.0.0.1: "
        "real HTTP, real signatures, the exchange's sliding-window limits. Workloads compared "
        "with a bound also run a minimal raw-aiohttp reference client (`workloads/_reference.py`)"
        " in the same run; both ratios are reported, and the ratio to the reference is the one "
        "that carries across machines.",
        "",
        *environment(argv),
        f"- Run: {size}, {elapsed:.0f} s",
    ]
    if shared:
        lines.append(
            "- The machine was shared with other work during this run: absolute times are "
            "noisier than on an idle machine; the ratios to the same-run reference client are "
            "what carry."
        )
    lines += [
        "",
        "## Headline figures",
        "",
        *figures(sections, argv, elapsed),
        "",
        "## Summary",
        "",
        *summary(sections),
        "",
        "## Workloads",
        "",
    ]
    body = "\n".join(section.markdown(number) for number, section in sections)
    return "\n".join(lines) + "\n" + body


async def run_one(name: str, quick: bool) -> Section:
    return await WORKLOADS[name](quick)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the engine warns on 429s; ccxt's are counted
    chosen = set(args.only or WORKLOADS)
    sections: Numbered = []
    started = time.perf_counter()
    for number, name in enumerate(WORKLOADS, 1):
        if name not in chosen:
            continue
        began = time.perf_counter()
        # A fresh event loop per workload: nothing (budgets, connections) carries over.
        sections.append((number, asyncio.run(run_one(name, args.quick))))
        print(f"[{name}: {time.perf_counter() - began:.1f} s]", file=sys.stderr, flush=True)
    text = render(sections, argv, args.quick, time.perf_counter() - started, args.shared)
    print(text)
    output = args.output
    if output is None and not args.quick and not args.only:
        output = RESULTS
    if output is not None:
        output.write_text(text)
        print(f"written to {output}", file=sys.stderr)
    if output is not None and output.resolve() == RESULTS:
        readme.sync()
        print(f"figures copied into {readme.README}", file=sys.stderr)
    missed = [c.label for _, s in sections for c in s.checks if not c.met]
    if missed:
        print("targets not met: " + "; ".join(missed), file=sys.stderr)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
