"""Smoke test of benchmarks/: every workload's measuring code runs at its smallest size.

It checks that the benchmark code works and that its runs are clean (no 429, nothing left
open); it asserts no timing, which lives in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a directory of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.run import render  # noqa: E402
from benchmarks.workloads import (  # noqa: E402
    burst,
    cpu,
    empty_account,
    planning,
    throughput,
    vs_ccxt,
)
from benchmarks.workloads._common import Check, Section, rate_bound, spread  # noqa: E402


def test_the_rate_bound_is_a_burst_of_ten_then_ten_a_second_plus_one_latency() -> None:
    assert rate_bound(10, 0.016) == 0.016
    assert rate_bound(60, 0.016) == 5.016
    assert rate_bound(200, 0.016) == 19.016
    assert sum(n for _, n in spread(10_000, 300)) == 10_000


async def test_throughput_trial_is_clean() -> None:
    trial = await throughput.trial(200, 5, seed=0)
    assert (trial.requests, trial.throttled, trial.left_open) == (4, 0, 0)


async def test_burst_trial_closes_everything_after_warm_up() -> None:
    trial = await burst.burst_trial(0, warm=True)
    assert trial.all_closed
    assert trial.requests == 10
    assert trial.warm_up > 0


async def test_both_sides_of_the_ccxt_comparison_run() -> None:
    ours = await vs_ccxt.engine_side(100, 2)
    theirs = await vs_ccxt.ccxt_side(100, 2)
    assert (ours.requests, ours.throttled, ours.left_open) == (2, 0, 0)
    assert theirs.requests == 2


async def test_cpu_measurement_runs_against_the_simulator_process() -> None:
    sim = await cpu.SimProcess.start()
    try:
        rows = await sim.place(2, 50)
        engine = cpu.CancelEngine(cpu.Credentials(api_key=cpu.sim_process.API_KEY,
                                                  secret_key=cpu.sim_process.SECRET_KEY,
                                                  passphrase=cpu.sim_process.PASSPHRASE),
                                  base_url=sim.base_url, rate_limit=cpu.UNLIMITED)  # fmt: skip
        async with engine:
            targets = [cpu.CancelTarget(symbol=s, order_id=o) for s, o in rows]
            assert await cpu.cpu_per_order(cpu._engine_cancel(engine, targets)) > 0
        assert await sim.ask("open") == 0
    finally:
        await sim.stop()


async def test_planning_measure_reports_time_and_memory() -> None:
    point = planning.measure(planning.make_targets(1_000), repeats=1)
    assert point.batches >= 20
    assert point.seconds > 0
    assert point.peak_bytes > 0


async def test_panic_trials_empty_the_account_both_ways() -> None:
    for use_symbol_cancel in (False, True):
        trial = await empty_account.trial(200, 4, use_symbol_cancel=use_symbol_cancel, seed=0)
        assert trial.account_empty
        assert (trial.throttled, trial.left_open) == (0, 0)


def test_render_writes_the_summary_table() -> None:
    section = Section(1, "t", "intro", ["a"], [["1"]], [Check("c", "m", "t", True)])
    text = render([section], ["--quick"], quick=True, elapsed=1.0)
    assert "## Summary" in text
    assert "| c | m | t | yes |" in text
    assert "python benchmarks/run.py --quick" in text
