"""Smoke test of benchmarks/: the bounds, and every workload's measuring code at its smallest size.

It checks that the benchmark code works and that its runs are clean (no 429, nothing left
open, every request counted); it asserts no timing, which lives in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a directory of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import readme  # noqa: E402
from benchmarks.run import render  # noqa: E402
from benchmarks.workloads import (  # noqa: E402
    _ccxt,
    _valgrind,
    burst,
    cpu,
    empty_account,
    planning,
    sim_process,
    throughput,
    vs_ccxt,
)
from benchmarks.workloads._common import (  # noqa: E402
    Check,
    Section,
    credentials,
    place_targets,
    rate_bound,
    spread,
)
from benchmarks.workloads._idle_proxy import IdleClosingProxy  # noqa: E402
from bitget_cancel import CancelEngine  # noqa: E402
from bitget_cancel.sim import SPURIOUS_429, Faults, SimExchange  # noqa: E402


def test_the_sliding_window_bound_holds_for_any_request_count() -> None:
    assert rate_bound(0, 0.016) == 0.0
    assert rate_bound(1, 0.016) == pytest.approx(0.016)
    assert rate_bound(10, 0.016) == pytest.approx(0.016)
    # The 11th request waits for the first to leave the window: a full second, not 0.1 s.
    assert rate_bound(11, 0.0) == pytest.approx(1.0)
    assert rate_bound(11, 0.016) == pytest.approx(1.016)
    assert rate_bound(51, 0.016) == pytest.approx(5.016)
    assert rate_bound(60, 0.016) == pytest.approx(5.016)
    assert rate_bound(200, 0.016) == pytest.approx(19.016)
    assert rate_bound(6, 0.0, cap=5) == pytest.approx(1.0)
    assert sum(n for _, n in spread(10_000, 300)) == 10_000


def test_the_panic_bounds_follow_the_sliding_windows() -> None:
    latency, delay = empty_account.L, empty_account.D
    # 21 pages: the 21st waits a second for the 20/s listing window.
    assert empty_account.list_bound(2_001) == pytest.approx(1.0 + latency)
    # 200 batches at 10/s after the first page, answered, then a confirming page.
    assert empty_account.batch_bound(10_000) == pytest.approx(latency + 19.0 + 2 * latency)
    # 6 symbols at 5/s: the 6th waits a second, not 0.2 s.
    assert empty_account.symbol_bound(6) == pytest.approx(latency + 1.0 + delay + latency)


async def test_throughput_trials_of_engine_and_reference_are_clean() -> None:
    ours = await throughput.trial(200, 5, seed=0)
    assert (ours.requests, ours.throttled, ours.left_open) == (4, 0, 0)
    # 11 requests: the reference's 11th waits for a slot of the window, and draws no 429.
    ref = await throughput.reference_trial(550, 300, seed=0)
    assert (ref.requests, ref.throttled, ref.left_open, ref.peak_in_window) == (11, 0, 0, 10)


async def test_burst_trials_close_everything_after_warm_up() -> None:
    ours = await burst.burst_trial(0, warm=True)
    assert ours.all_closed
    assert ours.requests == 10
    assert ours.warm_up > 0
    ref = await burst.reference_burst(0, warm=True)
    assert (ref.requests, ref.all_closed) == (10, True)


async def test_both_sides_of_the_ccxt_comparison_empty_the_account() -> None:
    ours = await vs_ccxt.engine_side(100, 2)
    theirs = await vs_ccxt.ccxt_side(100, 2)
    assert (ours.requests, ours.throttled, ours.left_open) == (2, 0, 0)
    assert (theirs.requests, theirs.rounds, theirs.left_open) == (2, 1, 0)


async def test_the_careful_ccxt_loop_relists_and_resends_what_stayed_open() -> None:
    # Seeded: some calls draw a 429, some orders a transient failure ccxt does not report.
    faults = Faults(rate=0.2, kinds=(SPURIOUS_429,), order_transient=0.1)
    async with SimExchange(seed=0, faults=faults) as sim:
        targets = place_targets(sim, 100, 2)
        ids = _ccxt.ids_by_market([(t.symbol, t.order_id or "") for t in targets])
        client = _ccxt.make_client(sim.base_url, sim.api_key, sim.secret_key, sim.passphrase,
                                   rate_limit=True)  # fmt: skip
        try:
            await client.load_markets()
            result = await _ccxt.cancel_until_closed(client, ids)
        finally:
            await client.close()
        assert sim.stats.injected["spurious_429"] == result.failed_calls + result.failed_pages
        assert result.failed_calls > 0
        assert sim.stats.injected["order_transient"] > 0
        assert result.rounds >= 2  # what stayed open was listed and sent again
        assert result.pages == sim.stats.requests["/api/v2/spot/trade/unfilled-orders"] > 0
        assert result.still_open == 0
        assert result.confirmed == 100
        assert sim.open_orders() == []


async def test_cpu_seconds_run_every_client_against_the_simulator_process() -> None:
    sim = await cpu.SimProcess.start()
    try:
        seconds = await cpu.seconds_per_order(sim, 2, 50, rounds=1)
        assert sorted(seconds) == sorted(cpu.CLIENTS)
        assert all(runs.median > 0 for runs in seconds.values())
        assert await sim.ask("open") == 0
    finally:
        await sim.stop()


async def test_the_cpu_driver_cancels_every_order_of_its_measured_round(tmp_path: Path) -> None:
    sim = await cpu.SimProcess.start()
    try:
        for kind in ("engine", "raw"):
            measured = await sim.place(2, 60)
            job = {"base_url": sim.base_url, "key": sim_process.API_KEY,
                   "secret": sim_process.SECRET_KEY, "passphrase": sim_process.PASSPHRASE,
                   "warm": await sim.place(2, 5), "measured": measured}  # fmt: skip
            (tmp_path / "job.json").write_text(json.dumps(job))
            driver = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.workloads.cpu_driver", kind,
                str(tmp_path / "job.json"), stdout=subprocess.PIPE, env=cpu.child_env(),
                cwd=str(ROOT),
            )  # fmt: skip
            out, _ = await driver.communicate()
            assert driver.returncode == 0
            assert json.loads(out)["cancelled"] == len(measured) == 120
            assert await sim.ask("open") == 0  # the warm-up round closed too
    finally:
        await sim.stop()


def test_callgrind_counts_only_the_code_run_as_a_ctypes_callback() -> None:
    program = (
        "import sys; sys.path.insert(0, {root!r})\n"
        "from benchmarks.workloads._valgrind import inside_callback\n"
        "sum(range(300_000))  # outside: not counted\n"
        "inside_callback(lambda: print(sum(range({n}))))\n"
    )
    small = _valgrind.count([sys.executable, "-c", program.format(root=str(ROOT), n=1_000)])
    large = _valgrind.count([sys.executable, "-c", program.format(root=str(ROOT), n=101_000)])
    assert small.stdout.strip() == str(sum(range(1_000)))
    # 100,000 more iterations inside the callback: at least one instruction each, counted;
    # the 300,000 outside are not (a count including them would exceed 300,000 in both runs).
    assert large.instructions - small.instructions > 100_000
    assert small.instructions < 300_000


async def test_cpu_instruction_counts_are_optional_without_valgrind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_valgrind, "valgrind", lambda: None)
    counted = await cpu.count_instructions(None, 2, 5, ("engine",))  # type: ignore[arg-type]
    assert counted.per_order == {}
    assert "valgrind is not installed" in counted.missing


async def test_planning_measure_reports_time_and_memory() -> None:
    point = planning.measure(planning.make_targets(1_000), repeats=1)
    assert point.batches >= 20
    assert point.seconds > 0
    assert point.peak_bytes > 0


async def test_panic_trials_of_engine_and_reference_empty_the_account_both_ways() -> None:
    for use_symbol_cancel in (False, True):
        for trial in (empty_account.trial, empty_account.reference_trial):
            run = await trial(200, 4, use_symbol_cancel=use_symbol_cancel, seed=0)
            assert run.account_empty
            assert (run.throttled, run.left_open) == (0, 0)
            if use_symbol_cancel:
                assert (run.cancel_requests, run.symbol_cancels) == (0, 4)


async def test_the_relay_closes_idle_connections_and_the_engine_reconnects() -> None:
    async with burst.burst_sim(0, 0.0, 0.0) as sim, IdleClosingProxy(sim.port, 0.1) as relay:
        targets = place_targets(sim, 100, 2)
        async with CancelEngine(credentials(sim), base_url=relay.base_url) as engine:
            await engine.warm_up()
            await asyncio.sleep(0.3)
            assert relay.closed_idle == engine.burst  # every warmed connection was closed
            report = await engine.cancel(targets)
        assert report.all_closed
        assert sim.open_orders() == []


def test_render_writes_the_summary_and_the_figures_block() -> None:
    section = Section("t", "intro", ["a"], [["1"]], [Check("c", "m", "t", True)],
                      headline=["**T:** figure"])  # fmt: skip
    text = render([(3, section)], ["--quick"], quick=True, elapsed=1.0)
    assert "## Summary" in text
    assert "| 3. c | m | t | yes |" in text
    assert "### 3. t" in text
    assert "python benchmarks/run.py --quick" in text
    assert "- **T:** figure" in readme.block(text, "rendered")
