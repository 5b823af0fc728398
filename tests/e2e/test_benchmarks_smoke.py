"""Smoke test of benchmarks/: the bounds, and every workload's measuring code at its smallest size.

It checks that the benchmark code works and that its runs are clean (no 429, nothing left
open, every request counted); it asserts no timing, which lives in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a directory of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import readme  # noqa: E402
from benchmarks.run import WORKLOADS, render  # noqa: E402
from benchmarks.workloads import (  # noqa: E402
    _ccxt,
    _valgrind,
    burst,
    confirm,
    cpu,
    empty_account,
    far,
    kinds_panic,
    planning,
    redis_deployments,
    redis_processes,
    shared_engine,
    sim_process,
    targets_file,
    throughput,
    uta,
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
from benchmarks.workloads._reference import RawClient  # noqa: E402
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


async def test_the_cpu_simulator_takes_requests_signed_minutes_before_they_arrive() -> None:
    # Under valgrind ccxt's requests queue for a pooled connection minutes after it signed
    # them: the CPU workload's simulator must not refuse them (40008), the exchange's 30 s
    # check is not what it measures.
    sim = await cpu.SimProcess.start()
    late = RawClient(sim.base_url, sim_process.API_KEY, sim_process.SECRET_KEY,
                     sim_process.PASSPHRASE, clock=lambda: time.time() - 300)  # fmt: skip
    try:
        await sim.place(1, 3)
        page = await late.open_page(None)
        assert page is not None  # None: the answer was an error (40008 before)
        assert len(page) == 3
    finally:
        await late.close()
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


def test_the_new_workloads_are_registered_in_order() -> None:
    assert list(WORKLOADS)[7:] == [
        "panic-kinds",
        "uta",
        "redis-processes",
        "targets-file",
        "shared-engine",
        "confirm",
        "deadman",
        "redis-deployments",
        "far",
        "strategy-contention",
    ]
    assert WORKLOADS["confirm"] is confirm.run
    assert WORKLOADS["far"] is far.run
    assert WORKLOADS["panic-kinds"] is kinds_panic.run
    assert WORKLOADS["uta"] is uta.run
    assert WORKLOADS["redis-processes"] is redis_processes.run
    assert WORKLOADS["targets-file"] is targets_file.run
    assert WORKLOADS["shared-engine"] is shared_engine.run
    assert WORKLOADS["redis-deployments"] is redis_deployments.run


# -- far from the exchange (issue 23) ------------------------------------------------------


def test_the_far_listing_bound_is_the_budget_after_the_first_page() -> None:
    # 10,000 orders: 101 pages (the last one short or empty), 20 a sliding second.
    assert far.listing_bound(10_000, 0.3) == pytest.approx(5.0 + 0.3)
    # 2,000 orders: 21 pages; the 21st a second after the first.
    assert far.listing_bound(2_000, 0.02) == pytest.approx(1.0 + 0.02)
    # Fewer pages than a window: the first page's answer, then the rest at once.
    assert far.listing_bound(500, 0.3) == pytest.approx(0.3 + 0.3)


def test_the_far_panic_is_bounded_by_its_slowest_lane() -> None:
    lanes = far.lane_bounds(far.FULL_MIX, 0.3)
    # 20 symbol cancels at 5/s: the last 3 s after the first, then d to take effect.
    assert lanes["normal"] == pytest.approx(0.3 + 3.0 + 0.3 + far.D)
    assert lanes["tpsl"] == pytest.approx(0.3 + 1.0 + 0.6)
    assert lanes["plan"] == pytest.approx(0.6)


# -- panic over every kind -----------------------------------------------------------------


def test_the_kinds_panic_is_bounded_by_its_slowest_lane() -> None:
    latency = kinds_panic.L
    # 200 TP/SL orders one a request at 10/s: the 200th goes 19 s after the first.
    assert kinds_panic.tpsl_bound(200) == pytest.approx(latency + 19.0 + 2 * latency)
    assert kinds_panic.tpsl_bound(10) == pytest.approx(3 * latency)
    assert kinds_panic.plan_bound(1_000) == pytest.approx(2 * latency)
    # Normal orders: the faster of the two routes (20 symbol cancels at 5/s: 3 s + d).
    assert kinds_panic.normal_bound(10_000, 20) == pytest.approx(empty_account.symbol_bound(20))
    assert kinds_panic.normal_bound(100, 20) == pytest.approx(empty_account.batch_bound(100))
    slowest, limit = kinds_panic.bound(kinds_panic.FULL)
    assert slowest == "tpsl"
    assert limit == pytest.approx(19.0 + 3 * latency)
    assert kinds_panic.bound(kinds_panic.QUICK)[0] == "tpsl"  # quick keeps the same shape
    assert kinds_panic.bound(kinds_panic.Mix(10_000, 0, 0, 20))[0] == "normal"


def _kinds_trial(elapsed: float, *, throttled: int = 0, left: int = 0) -> kinds_panic.KindsTrial:
    requests = {kinds_panic.CANCEL_ORDER_PATH: 30, kinds_panic.CANCEL_SYMBOL_PATH: 10}
    left_open = {"normal": left, "plan": 0, "tpsl": 0}
    confirmed = {"normal": left == 0, "plan": True, "tpsl": True}
    return kinds_panic.KindsTrial(elapsed, requests, throttled, left_open, left == 0, confirmed)


def test_the_kinds_section_reports_ratios_and_checks_429s_and_orders_left() -> None:
    mix = kinds_panic.QUICK
    _, limit = kinds_panic.bound(mix)
    clean = kinds_panic.section(mix, [_kinds_trial(limit * 1.1)], [_kinds_trial(limit * 1.05)])
    (check,) = clean.checks
    assert check.met
    assert f"{1.1:.3f} × bound, {1.1 / 1.05:.3f} × reference, 0 × 429, 0 left open" in (
        check.measured
    )
    assert [row[0] for row in clean.rows] == ["engine", "reference"]
    assert any("| TP/SL | 30 |" in note and "| 30 | 30 |" in note for note in clean.notes)
    assert "**Panic over every kind:**" in clean.headline[0]
    for bad in (_kinds_trial(limit, throttled=1), _kinds_trial(limit, left=3)):
        assert not kinds_panic.section(mix, [bad], [_kinds_trial(limit)]).checks[0].met
    # A reference run that was not clean makes the comparison void too.
    unclean_reference = kinds_panic.section(
        mix, [_kinds_trial(limit)], [_kinds_trial(limit, left=1)]
    )
    assert not unclean_reference.checks[0].met


async def test_kinds_panic_trials_of_engine_and_reference_close_every_kind() -> None:
    mix = kinds_panic.Mix(normal=100, plan=10, tpsl=5, symbols=2)
    for side in (kinds_panic.trial, kinds_panic.reference_trial):
        run = await side(mix, 0)
        assert run.account_empty
        assert run.confirmed == {"normal": True, "plan": True, "tpsl": True}
        assert (run.throttled, run.left) == (0, 0)
        assert run.requests[kinds_panic.CANCEL_ORDER_PATH] == 5  # TP/SL: one a request
        assert run.requests[kinds_panic.BATCH_CANCEL_PLAN_PATH] >= 1


# -- unified trading accounts --------------------------------------------------------------


def test_the_uta_bounds_follow_the_v3_windows() -> None:
    latency, delay = uta.L, uta.D
    # 3,000 targets: 150 requests of 20; the first 5 at once, then 5 a second: 29 s + L.
    assert uta.min_requests(3_000) == 150
    assert uta.throughput_bound(3_000) == pytest.approx(29.0 + latency)
    assert uta.throughput_bound(100) == pytest.approx(latency)  # 5 requests: one burst
    assert uta.throughput_bound(120) == pytest.approx(1.0 + latency)  # the 6th waits 1 s
    # A full UTA: 20 batches (3 s), or 20 symbol cancels (3 s + d), or both windows at once.
    assert uta.batch_panic_bound(400) == pytest.approx(3.0 + 3 * latency)
    assert uta.symbol_panic_bound(20) == pytest.approx(3.0 + 2 * latency + delay)
    assert uta.split_panic_bound(400, 20) == pytest.approx(1.0 + 2 * latency + delay)
    assert uta.split_panic_bound(400, 20) <= min(uta.batch_panic_bound(400),
                                                 uta.symbol_panic_bound(20))  # fmt: skip


def _uta_trial(elapsed: float, *, throttled: int = 0, left: int = 0) -> uta.Trial:
    return uta.Trial(elapsed, 10, 0, throttled, left, 5, left == 0)


def _uta_run(ratio: float, *, auto: bool, panic_throttled: int = 0) -> uta.UtaRun:
    tp = uta.throughput_bound(300)
    sym, batch = uta.symbol_panic_bound(10), uta.batch_panic_bound(200)
    return uta.UtaRun(
        (300, 30),
        (200, 10),
        cancel=[_uta_trial(tp * ratio)],
        raw=[_uta_trial(tp)],
        by_symbol=[_uta_trial(sym * 1.1, throttled=panic_throttled)],
        raw_symbol=[_uta_trial(sym)],
        by_batch=[_uta_trial(batch * 1.1)],
        raw_batch=[_uta_trial(batch)],
        auto=[_uta_trial(sym * 1.2)] if auto else [],
    )


def test_the_uta_section_checks_throughput_against_its_bound_and_the_panic_for_429s() -> None:
    section = uta.section(_uta_run(1.04, auto=True))
    throughput, panic = section.checks
    assert (throughput.met, panic.met) == (True, True)
    assert throughput.label == "UTA throughput 300 targets / 30 symbols (15 requests)"
    assert "1.040 × bound, 1.040 × reference" in throughput.measured
    assert 'account="auto": ' in panic.measured
    assert len(section.rows) == 7  # 2 throughput, 3 + auto panic by symbol, 2 batch only
    assert len(uta.section(_uta_run(1.04, auto=False)).rows) == 6
    assert not uta.section(_uta_run(1.06, auto=False)).checks[0].met  # above 1.05 × bound
    assert not uta.section(_uta_run(1.0, auto=False, panic_throttled=1)).checks[1].met
    assert "0.157 s" in section.notes[0]  # 10 symbols split over both windows


async def test_uta_trials_of_engine_and_reference_are_clean() -> None:
    for cancel in (uta.engine_cancel, uta.raw_cancel):
        run = await cancel(100, 4, 0)
        assert (run.batches, run.throttled, run.left_open, run.peak) == (5, 0, 0, 5)
    for use_symbol_cancel in (True, False):
        ours = await uta.engine_panic(80, 4, 0, account="uta",
                                      use_symbol_cancel=use_symbol_cancel)  # fmt: skip
        ref = await uta.raw_panic(80, 4, 0, use_symbol_cancel=use_symbol_cancel)
        for run in (ours, ref):
            assert run.account_empty
            assert (run.throttled, run.left_open) == (0, 0)
            if use_symbol_cancel:  # 20 orders a symbol: a full v3 batch, so by symbol
                assert (run.batches, run.symbol_cancels) == (0, 4)
            else:
                assert (run.batches, run.symbol_cancels) == (4, 0)


# -- several processes on Redis ------------------------------------------------------------


def _redis_trial(label: str, elapsed: float, *, pacing: int = 0) -> redis_processes.Trial:
    return redis_processes.Trial(label, 0.0, elapsed, 200, pacing, 0, 0, 10, 0, True)


def test_the_redis_section_holds_the_shared_budget_to_the_combined_bound() -> None:
    requests, limit = redis_processes.combined_bound(2_500)
    assert requests == 200
    assert limit == pytest.approx(19.0 + redis_processes.MEAN_LATENCY)
    trials = [_redis_trial("Redis", limit * 1.04), _redis_trial("in-process", limit, pacing=7)]
    section = redis_processes.section(2_500, trials, ["| a | b | c | d |"], 10)
    (check,) = section.checks
    assert check.met
    assert "1.040 × bound, 0 × 429" in check.measured
    assert "in-process, penalty 0 s: 7 × 429" in check.measured
    assert "with a budget each, 7 × 429" in section.headline[0]
    slow = [_redis_trial("Redis", limit * 1.06), trials[1]]
    assert not redis_processes.section(2_500, slow, [], 10).checks[0].met
    throttled = [_redis_trial("Redis", limit, pacing=1), trials[1]]
    assert not redis_processes.section(2_500, throttled, [], 10).checks[0].met


async def test_without_redis_server_the_section_says_so_and_its_target_is_unmet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redis_processes, "redis_binary", lambda: None)
    section = await redis_processes.run(True)
    (check,) = section.checks
    assert not check.met
    assert "redis-server is not installed" in check.measured
    assert "redis-server is not installed" in section.markdown(10)


# -- targets files -------------------------------------------------------------------------


def _timings(sizes: tuple[int, int], per_row: float) -> targets_file.Timings:
    timings = targets_file.Timings(sizes, 2)
    for size in sizes:
        for fmt in targets_file.FORMATS:
            timings.load[fmt, size] = per_row * size
        timings.report[size] = per_row * size / 2
    timings.whole["json"] = 1.0
    return timings


def test_the_targets_file_section_holds_smaller_runs_to_targets_pro_rata() -> None:
    assert targets_file.budget(3.0, 50_000) == pytest.approx(0.75)
    quick = targets_file.section(_timings((5_000, 50_000), 10e-6))  # 0.5 s at 50k rows
    load, report, linear = quick.checks
    assert (load.met, report.met, linear.met) == (True, True, True)
    assert load.target == "≤ 0.75 s (3 s per 200k rows)"
    assert [row[-1] for row in quick.rows] == ["not run", "1.00 s", "not run", ""]
    slow = targets_file.section(_timings((5_000, 50_000), 20e-6))  # 1 s at 50k: too slow
    assert [c.met for c in slow.checks] == [False, True, True]
    full = targets_file.section(_timings((20_000, 200_000), 10e-6))
    assert full.checks[0].target == "≤ 3 s"
    growing = _timings((5_000, 50_000), 10e-6)
    growing.load["csv", 50_000] *= 2  # time per row doubles with size
    assert not targets_file.section(growing).checks[2].met


async def test_shared_engine_trials_share_requests_and_put_the_panic_first() -> None:
    shared = await shared_engine.tasks_trial(1, together=True)
    assert shared.requests == 2
    assert shared.all_closed
    panic = await shared_engine.panic_trial(1, behind=600)
    assert panic.overtaken == 0
    assert panic.all_closed
