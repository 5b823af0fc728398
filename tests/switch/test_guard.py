"""``bitget-cancel guard -- CMD``: the panic when the bot fails, nothing when it ends well, and
the child's status as the guard's own; real processes against the simulator."""

from __future__ import annotations

import asyncio
import signal
import sys

from bitget_cancel.sim import SimExchange

from .helpers import PATIENCE, ROOT, SIM_ENV, clean_env, run

ENV = clean_env(**SIM_ENV)


def _guard(sim: SimExchange, *args: str) -> list[str]:
    return [sys.executable, "-m", "bitget_cancel", "guard", "--base-url", sim.base_url, *args]


def _bot(code: str) -> list[str]:
    return ["--", sys.executable, "-c", code]


async def test_a_bot_that_exits_1_gets_the_panic_and_its_status() -> None:
    async with SimExchange() as sim:
        sim.place_orders("BTCUSDT", 60)
        sim.place_orders("ETHUSDT", 40)
        code, out, err = await run(*_guard(sim, *_bot("import sys; sys.exit(1)")), env=ENV)
        assert sim.count_open() == 0
    assert code == 1
    assert "exited 1: panic cancel" in err
    assert err.rstrip().endswith(
        "verdict: python exited 1; the panic: nothing left open in scope; the bot's status (exit 1)"
    )
    assert "nothing left open in scope" in out


async def test_a_killed_bot_gets_the_panic_and_the_shells_status() -> None:
    async with SimExchange() as sim:
        sim.place_orders("BTCUSDT", 60)
        bot = _bot("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
        code, _, err = await run(*_guard(sim, *bot), env=ENV)
        assert sim.count_open() == 0
    assert code == 128 + signal.SIGKILL
    assert "killed by SIGKILL: panic cancel" in err


async def test_a_clean_exit_cancels_nothing() -> None:
    async with SimExchange() as sim:
        sim.place_orders("BTCUSDT", 60)
        code, _, err = await run(*_guard(sim, *_bot("print('bye')")), env=ENV)
        assert sim.count_open() == 60
        assert sim.stats.cancelled == 0
    assert code == 0
    assert "exited 0: nothing cancelled" in err
    assert err.rstrip().endswith("verdict: python exited 0, nothing cancelled (exit 0)")


async def test_on_exit_always_cancels_after_a_clean_exit_too() -> None:
    async with SimExchange() as sim:
        sim.place_orders("BTCUSDT", 30)
        sim.place_orders("ETHUSDT", 30)
        args = _guard(sim, "--on-exit", "always", "--symbol", "ETHUSDT", *_bot("pass"))
        code, _, _ = await run(*args, env=ENV)
        assert sim.open_orders("ETHUSDT") == []
        assert len(sim.open_orders("BTCUSDT")) == 30  # the scope holds
    assert code == 0


async def test_sigterm_goes_to_the_bot_first() -> None:
    async with SimExchange() as sim:
        sim.place_orders("BTCUSDT", 60)
        bot = _bot("import sys, time; print('up', flush=True); time.sleep(120)")
        process = await asyncio.create_subprocess_exec(
            *_guard(sim, *bot), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=ENV, cwd=ROOT,
        )  # fmt: skip
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), PATIENCE) == b"up\n"
        process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), PATIENCE)
        assert sim.count_open() == 0
    # The bot died by the forwarded SIGTERM; the guard lived to run the panic.
    assert process.returncode == 128 + signal.SIGTERM
    assert "killed by SIGTERM: panic cancel" in err.decode()


async def test_a_command_that_cannot_run_exits_127() -> None:
    async with SimExchange() as sim:
        code, _, err = await run(*_guard(sim, "--", "/nonexistent/bot"), env=ENV)
    assert code == 127
    assert "cannot run" in err


async def test_guard_without_a_command_is_bad_input() -> None:
    async with SimExchange() as sim:
        code, _, err = await run(*_guard(sim), env=ENV)
    assert code == 2
    assert "needs a command" in err


async def test_a_client_oid_prefix_keeps_the_guard_to_its_bots_orders() -> None:
    async with SimExchange() as sim:
        sim.place_orders("BTCUSDT", 30, client_oid_prefix="bot1")
        sim.place_orders("BTCUSDT", 20, client_oid_prefix="bot2")
        args = _guard(sim, "--client-oid-prefix", "bot1", *_bot("import sys; sys.exit(2)"))
        code, _, _ = await run(*args, env=ENV)
        assert {order.client_oid for order in sim.open_orders()} == {f"bot2-{i}" for i in range(20)}
    assert code == 2
