"""The dead man's switch: from a strategy's death (SIGKILL) or hang (its loop blocked) to the
account confirmed empty, for the process watchdog and the Redis watchdog, against the switch's
timeout plus the panic's own bound, beside the same panic run directly in the same run.

python -m benchmarks.workloads.deadman [--quick]

The strategy is ``tests/switch/strategy.py`` in its own process, its switch's watchdog the
package's own (a child process, or ``bitget-cancel watchdog --budget-url`` in another process
on a real redis-server); the simulator serves from this process on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bitget_cancel import CancelEngine
from bitget_cancel.sim import SimExchange
from tests.redis.server import REDIS_SERVER, RedisServer
from tests.switch.helpers import ROOT, SIM_ENV, Strategy, clean_env, eventually

from ._common import Check, Runs, Section, credentials, fresh_api_key, secs, symbol_names
from .empty_account import LATENCY_MS, SYMBOL_DELAY_MS, D, L, symbol_bound

FULL, QUICK = (1_000, 10, 2.0, 3), (200, 4, 1.0, 1)  # orders, symbols, timeout, repeats
TITLE = "Dead man's switch: from the strategy's death to the account confirmed empty"
Trial = Callable[[SimExchange, Path, float], Awaitable[float]]


def _sim(orders: int, n_symbols: int, api_key: str = "sim-key") -> SimExchange:
    sim = SimExchange(
        latency_ms=LATENCY_MS, api_key=api_key, symbol_cancel_delay_ms=SYMBOL_DELAY_MS
    )
    names = symbol_names(n_symbols)
    for _ in range(orders // n_symbols):
        for symbol in names:
            sim.place_order(symbol)
    return sim


def _account_empty(report: Path) -> bool:
    return bool(json.loads(report.read_text())["accountEmpty"])


async def _confirmed(report: Path, since: float) -> float:
    """Seconds from ``since`` until the watchdog's report (written once its panic's last
    listing showed the account empty) exists."""
    assert await eventually(report.exists, within=600)
    elapsed = time.monotonic() - since
    assert _account_empty(report)
    return elapsed


async def process_killed(sim: SimExchange, work: Path, timeout: float) -> float:
    report = work / "killed.json"
    strategy = await Strategy.start(
        sim.base_url, "--timeout", str(timeout), "--report", str(report)
    )
    started = time.monotonic()
    strategy.process.send_signal(signal.SIGKILL)
    elapsed = await _confirmed(report, started)
    await strategy.finish()
    return elapsed


async def process_hung(sim: SimExchange, work: Path, timeout: float) -> float:
    report = work / "hung.json"
    strategy = await Strategy.start(
        sim.base_url, "--timeout", str(timeout), "--report", str(report), "--mode", "block"
    )
    started = time.monotonic()  # the loop blocks right after its arming beat
    elapsed = await _confirmed(report, started)
    strategy.process.kill()
    await strategy.finish()
    return elapsed


def redis_killed(url: str) -> Trial:
    async def trial(sim: SimExchange, work: Path, timeout: float) -> float:
        report = work / "redis.json"
        watchdog = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bitget_cancel", "watchdog", "--budget-url", url,
            "--base-url", sim.base_url, "--report", str(report),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            env=clean_env(**SIM_ENV), cwd=ROOT,
        )  # fmt: skip
        assert watchdog.stderr is not None
        strategy = await Strategy.start(
            sim.base_url, "--timeout", str(timeout), "--watchdog", "redis", "--budget-url", url
        )
        while b"armed" not in await watchdog.stderr.readline():  # it has seen the switch
            pass
        started = time.monotonic()
        strategy.process.send_signal(signal.SIGKILL)
        elapsed = await _confirmed(report, started)
        await strategy.finish()
        watchdog.send_signal(signal.SIGTERM)
        await watchdog.communicate()
        return elapsed

    return trial


async def panic_alone(orders: int, n_symbols: int) -> float:
    """The same panic, run directly by an engine in this process (already connected, as the
    watchdog's is after its warm-up)."""
    sim = _sim(orders, n_symbols, fresh_api_key())
    async with sim, CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
        await engine.warm_up(1)
        started = time.monotonic()
        report = await engine.panic_cancel()
        elapsed = time.monotonic() - started
    assert report.account_empty
    return elapsed


async def _repeat(trial: Trial, orders: int, n_symbols: int, timeout: float, n: int) -> Runs:
    values = []
    for _ in range(n):
        with tempfile.TemporaryDirectory() as work:
            async with _sim(orders, n_symbols) as sim:
                values.append(await trial(sim, Path(work), timeout))
                assert sim.count_open() == 0
    return Runs.of(values)


def _redis() -> RedisServer | None:
    if not (shutil.which("redis-server") or Path(REDIS_SERVER).exists()):
        return None
    server = RedisServer()
    server.start()
    return server


async def run(quick: bool) -> Section:
    orders, n_symbols, timeout, repeats = QUICK if quick else FULL
    panic = symbol_bound(n_symbols)
    poll = min(1.0, timeout / 4)  # the Redis watchdog reads the store this often
    alone = Runs.of([await panic_alone(orders, n_symbols) for _ in range(repeats)])
    # (case, trial, how long the watchdog may take to notice, that allowance as a formula)
    cases: list[tuple[str, Trial, float, str]] = [
        ("process watchdog, strategy SIGKILLed", process_killed, 0.0, "0 (the pipe closes)"),
        ("process watchdog, strategy's loop blocked", process_hung, timeout, "T"),
    ]
    redis = _redis()
    if redis is not None:
        cases.append(
            ("Redis watchdog, strategy SIGKILLed", redis_killed(redis.url), timeout + poll,
             "T + poll")
        )  # fmt: skip
    rows = [["panic alone (an engine in this process)", "—", secs(alone.median), secs(panic),
             f"**{alone.median / panic:.3f}**", "—"]]  # fmt: skip
    checks = []
    try:
        for label, trial, notice, formula in cases:
            runs = await _repeat(trial, orders, n_symbols, timeout, repeats)
            bound = notice + panic
            one_panic = notice + alone.median
            rows.append([label, formula, secs(runs.median), secs(bound),
                         f"**{runs.median / bound:.3f}**",
                         f"**{runs.median / one_panic:.3f}**"])  # fmt: skip
            checks.append(Check(f"dead man's switch: {label}",
                                f"{runs.median / one_panic:.3f} × (notice + one panic)",
                                "≤ 1.10", runs.median <= 1.10 * one_panic))  # fmt: skip
    finally:
        if redis is not None:
            redis.close()
    intro = (
        f"{orders:,} open orders on {n_symbols} symbols (latency {LATENCY_MS[0]:g}–"
        f"{LATENCY_MS[1]:g} ms, mean L = {L * 1000:g} ms; cancel-symbol-order effective after "
        f"a mean d = {D * 1000:g} ms); the switch's timeout T = {timeout:g} s; median of "
        f"{repeats} run(s). Elapsed: from the SIGKILL (or, for the hang, the arming beat after "
        "which the loop blocks) to the watchdog's report on disk, written once its panic's last "
        "listing showed the account empty (`time.monotonic()` of this process).\n\n"
        "**Bounds.** The watchdog notices a killed strategy at once (its pipe closes), a hung "
        "one `T` after its last beat; the Redis watchdog sees the beat key expire `T` after "
        f"the last beat and reads the store every `min(1 s, T/4)` = {poll:g} s. Then the "
        "panic: its bound is the panic workload's with cancel-symbol-order (`L + ⌊(s − 1)/5⌋ "
        f"s + L + d` = {secs(panic)} for s = {n_symbols} symbols; it counts the normal "
        "orders' requests only, not the listings of the other kinds nor the waits for a symbol "
        'cancel to show). "One panic" is the same panic run directly by an engine '
        "in this process, measured in the same run: the target is the issue's, the account "
        "empty within the notice time plus one panic."
    )
    return Section(
        title=TITLE,
        intro=intro,
        headers=[
            "case",
            "notice",
            "elapsed",
            "notice + panic bound",
            "elapsed ÷ that bound",
            "elapsed ÷ (notice + one panic)",
        ],
        rows=rows,
        checks=checks,
        notes=[] if redis is not None else ["redis-server is not installed: no Redis row."],
    )


if __name__ == "__main__":
    from ._common import run_standalone

    run_standalone(run)
