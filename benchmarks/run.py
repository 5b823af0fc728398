"""Run the benchmarks against the simulator on 127.0.0.1 and write benchmarks/RESULTS.md.

python benchmarks/run.py            # full run, a few minutes; writes benchmarks/RESULTS.md
python benchmarks/run.py --quick    # every workload at reduced size, < 1 minute (CI smoke)
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
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.workloads import WORKLOADS, Section  # noqa: E402
from benchmarks.workloads._common import table, yes_no  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes, < 60 s in all")
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


def summary(sections: list[Section]) -> list[str]:
    rows = [
        [check.label, check.measured, check.target, yes_no(check.met)]
        for section in sections
        for check in section.checks
    ]
    return table(["workload", "measured", "target", "met"], rows)


def render(sections: list[Section], argv: list[str], quick: bool, elapsed: float) -> str:
    size = "quick (reduced sizes)" if quick else "full"
    lines = [
        "# Benchmark results",
        "",
        "Every workload runs against the simulator (`bitget_cancel.sim`) on 127.0.0.1: "
        "real HTTP, real signatures, the exchange's sliding-window limits. Ratios are measured "
        "side by side in one run; absolute times are noisy and are medians of repeats.",
        "",
        *environment(argv),
        f"- Run: {size}, {elapsed:.0f} s",
        "",
        "## Summary",
        "",
        *summary(sections),
        "",
        "## Workloads",
        "",
    ]
    return "\n".join(lines) + "\n" + "\n".join(s.markdown() for s in sections)


async def run_one(name: str, quick: bool) -> Section:
    return await WORKLOADS[name](quick)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the engine warns on 429s; ccxt's are counted
    names = args.only or list(WORKLOADS)
    sections = []
    started = time.perf_counter()
    for name in names:
        began = time.perf_counter()
        # A fresh event loop per workload: nothing (budgets, connections) carries over.
        sections.append(asyncio.run(run_one(name, args.quick)))
        print(f"[{name}: {time.perf_counter() - began:.1f} s]", file=sys.stderr, flush=True)
    text = render(sections, argv, args.quick, time.perf_counter() - started)
    print(text)
    output = args.output
    if output is None and not args.quick and not args.only:
        output = RESULTS
    if output is not None:
        output.write_text(text)
        print(f"written to {output}", file=sys.stderr)
    missed = [c.label for s in sections for c in s.checks if not c.met]
    if missed:
        print("targets not met: " + "; ".join(missed), file=sys.stderr)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
