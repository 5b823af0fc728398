"""watchdog="process": a strategy SIGKILLed, hung, or leaving cleanly, in real processes
against the simulator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from bitget_cancel.sim import SimExchange

from .helpers import (
    PATIENCE,
    ROOT,
    STARTED,
    STARTED_PIDS,
    Strategy,
    clean_env,
    eventually,
    gone,
)

SYMBOLS = [f"S{i}USDT" for i in range(4)]


def _place(sim: SimExchange, per_symbol: int = 50) -> None:
    for symbol in SYMBOLS:
        sim.place_orders(symbol, per_symbol)


async def test_a_killed_strategy_leaves_no_order_open(tmp_path: Path) -> None:
    report = tmp_path / "panic.json"
    async with SimExchange() as sim:
        _place(sim)
        strategy = await Strategy.start(sim.base_url, "--timeout", "1", "--report", str(report))
        assert strategy.armed["armed"]["state"] == "armed"
        strategy.process.kill()
        assert await eventually(lambda: sim.count_open() == 0)
        code, done, stderr = await strategy.finish()
        assert strategy.watchdog_pid is not None
        assert await eventually(lambda: gone(strategy.watchdog_pid or 0))
    assert code == -signal.SIGKILL
    assert done is None  # it never got to say anything
    assert stderr.count("panic cancel") == 1
    assert "pipe closed without a disarm" in stderr
    written = json.loads(report.read_text())
    assert written["accountEmpty"] is True
    assert written["counts"]["cancelled"] == 200


async def test_a_strategy_whose_loop_is_blocked_is_flattened() -> None:
    async with SimExchange() as sim:
        _place(sim)
        strategy = await Strategy.start(sim.base_url, "--timeout", "1", "--mode", "block")
        assert await eventually(lambda: sim.count_open() == 0)
        assert strategy.watchdog_pid is not None
        assert await eventually(lambda: gone(strategy.watchdog_pid or 0))
        strategy.process.kill()
        _, _, stderr = await strategy.finish()
    assert stderr.count("panic cancel") == 1
    assert "no beat for 1 s" in stderr


async def test_a_clean_exit_cancels_nothing_and_leaves_no_watchdog() -> None:
    async with SimExchange() as sim:
        _place(sim)
        strategy = await Strategy.start(
            sim.base_url, "--timeout", "3", "--mode", "clean", "--hold", "2.5"
        )
        code, done, stderr = await strategy.finish()
        assert sim.count_open() == 200
        assert sim.stats.cancelled == 0
    assert code == 0
    assert done is not None
    assert done["state"] == "disarmed"
    assert done["beats_sent"] >= 1
    assert done["beats_failed"] == 0
    assert strategy.watchdog_pid is not None
    assert gone(strategy.watchdog_pid)
    assert "panic" not in stderr
    assert "verdict" not in stderr  # a disarmed watchdog says nothing in the strategy's log


# "raise": the strategy runs the panic itself; "close-raise": it cannot (its engine is closed),
# so the watchdog, let go without a disarm, runs it.
@pytest.mark.parametrize(("mode", "by_the_watchdog"), [("raise", False), ("close-raise", True)])
async def test_an_exception_runs_the_panic(mode: str, by_the_watchdog: bool) -> None:
    async with SimExchange() as sim:
        _place(sim)
        strategy = await Strategy.start(sim.base_url, "--timeout", "3", "--mode", mode)
        code, done, stderr = await strategy.finish()
        assert sim.count_open() == 0
    assert code == 1
    assert done is not None
    assert done["state"] == "panicked"
    assert ("pipe closed without a disarm" in stderr) is by_the_watchdog
    assert ("watchdog:" in stderr) is by_the_watchdog
    assert strategy.watchdog_pid is not None
    assert gone(strategy.watchdog_pid)


async def test_the_scope_reaches_the_watchdog() -> None:
    async with SimExchange() as sim:
        _place(sim, 10)
        strategy = await Strategy.start(
            sim.base_url, "--timeout", "1", "--symbols", "S0USDT", "S1USDT", "--kinds", "normal"
        )
        strategy.process.kill()
        assert await eventually(
            lambda: not sim.open_orders("S0USDT") and not sim.open_orders("S1USDT")
        )
        await strategy.finish()
        assert sim.count_open() == 20  # S2 and S3 untouched


async def test_a_client_oid_prefix_scopes_the_watchdogs_panic_to_one_bot() -> None:
    async with SimExchange() as sim:
        sim.place_orders("BTCUSDT", 30, client_oid_prefix="bot1")
        sim.place_orders("BTCUSDT", 20, client_oid_prefix="bot2")
        strategy = await Strategy.start(
            sim.base_url, "--timeout", "1", "--client-oid-prefix", "bot1"
        )
        strategy.process.kill()
        assert await eventually(lambda: sim.count_open() == 20)
        await strategy.finish()
        left = {
            order.client_oid.partition("-")[0] for order in sim.open_orders() if order.client_oid
        }
        assert left == {"bot2"}


async def test_the_watchdog_outlives_a_signal_to_the_strategys_process_group() -> None:
    async with SimExchange() as sim:
        _place(sim)
        strategy = await Strategy.start(sim.base_url, "--timeout", "1", new_session=True)
        os.killpg(strategy.process.pid, signal.SIGTERM)  # as a supervisor stopping the group
        assert await eventually(lambda: sim.count_open() == 0)
        code, _, stderr = await strategy.finish()
    assert code == -signal.SIGTERM
    assert stderr.count("panic cancel") == 1


def _shown(pid: int) -> bytes:
    """What ps (or anyone reading /proc) sees of a process: its argv and its environment."""
    return Path(f"/proc/{pid}/cmdline").read_bytes() + Path(f"/proc/{pid}/environ").read_bytes()


async def test_the_credentials_reach_the_watchdog_through_the_pipe_only() -> None:
    async with SimExchange() as sim:
        strategy = await Strategy.start(sim.base_url, "--timeout", "3", "--mode", "forever")
        pid = strategy.watchdog_pid
        assert pid is not None
        shown = _shown(pid)
        assert b"watchdog\x00--pipe" in shown
        for secret in (b"sim-secret", b"sim-pass"):
            assert secret not in shown
        # Its own session: a signal to the strategy's group or terminal does not reach it.
        assert os.getsid(pid) == pid
        strategy.process.kill()
        await strategy.finish()


async def test_a_watchdog_that_does_not_come_up_is_a_watchdog_failure() -> None:
    from bitget_cancel import Credentials, WatchdogFailed, WatchdogOrders
    from bitget_cancel._watchdog_pipe import PipeWatchdog

    keys = Credentials(api_key="k", secret_key="s", passphrase="p")
    command = [sys.executable, "-c", "import sys; sys.stdin.readline(); sys.exit(3)"]
    watchdog = PipeWatchdog(WatchdogOrders(keys, {}, {}, 2.0), command)
    with pytest.raises(WatchdogFailed, match="exit code 3"):
        await watchdog.start()
    assert watchdog.pid is not None
    assert gone(watchdog.pid)


async def test_a_watchdog_whose_log_reader_died_with_the_strategy_still_panics(
    tmp_path: Path,
) -> None:
    # `strategy 2>&1 | tee log`, the whole pipeline killed: the watchdog (its own session)
    # lives on with a stderr nobody reads; its first word would be a broken pipe.
    report = tmp_path / "panic.json"
    async with SimExchange() as sim:
        _place(sim)
        reader, writer = os.pipe()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.switch.strategy", sim.base_url,
            "--timeout", "1", "--report", str(report),
            stdout=asyncio.subprocess.PIPE, stderr=writer, env=clean_env(), cwd=ROOT,
        )  # fmt: skip
        STARTED.append(process)
        os.close(writer)
        assert process.stdout is not None
        armed = json.loads(await asyncio.wait_for(process.stdout.readline(), PATIENCE))
        watchdog_pid = armed["pid"]
        STARTED_PIDS.append(watchdog_pid)
        os.close(reader)  # the log's reader is gone
        process.kill()
        await process.wait()
        assert await eventually(lambda: sim.count_open() == 0)
        assert await eventually(lambda: gone(watchdog_pid))
    assert json.loads(report.read_text())["accountEmpty"] is True
