"""watchdog="redis": strategies beat into a real redis-server; ``bitget-cancel watchdog`` in
another process panics for a switch gone silent, keeps watching, and never panics because
Redis itself went away (unless told to)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bitget_cancel import CancelEngine, Credentials, SwitchBoard, SwitchEntry
from bitget_cancel.sim import SimExchange
from tests.redis.server import RedisServer

from .helpers import PATIENCE, ROOT, SIM_ENV, STARTED, Strategy, clean_env, eventually, run


class Watchdog:
    """``bitget-cancel watchdog --budget-url URL`` in its own process; stderr read as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode())

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    @classmethod
    async def start(cls, sim: SimExchange, url: str, *args: str) -> Watchdog:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bitget_cancel", "watchdog", "--budget-url", url,
            "--base-url", sim.base_url, *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=clean_env(**SIM_ENV), cwd=ROOT,
        )  # fmt: skip
        STARTED.append(process)
        watchdog = cls(process)
        assert await eventually(lambda: watchdog.count("watching") == 1)
        return watchdog

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), PATIENCE)
        await self._reader
        return code


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[tuple[SimExchange, RedisServer]]:
    server = RedisServer(tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    server.start()
    try:
        async with SimExchange() as sim:
            yield sim, server
    finally:
        server.close()


async def _strategy(sim: SimExchange, url: str, name: str, *args: str) -> Strategy:
    return await Strategy.start(
        sim.base_url, "--watchdog", "redis", "--budget-url", url, "--name", name, *args
    )


async def test_a_killed_strategy_is_flattened_by_the_watchdog_on_another_process(
    watched: tuple[SimExchange, RedisServer], tmp_path: Path
) -> None:
    sim, server = watched
    report = tmp_path / "report.json"
    watchdog = await Watchdog.start(sim, server.url, "--report", str(report))
    sim.place_orders("AUSDT", 100)
    first = await _strategy(sim, server.url, "a", "--timeout", "1", "--symbols", "AUSDT")
    first.process.kill()
    assert await eventually(lambda: sim.count_open() == 0)
    await first.finish()
    assert await eventually(report.exists)  # written once the panic's last listing is in
    assert json.loads(report.read_text())["accountEmpty"] is True
    # It keeps watching: a second switch, killed later, is flattened too.
    sim.place_orders("BUSDT", 100)
    second = await _strategy(sim, server.url, "b", "--timeout", "1", "--symbols", "BUSDT")
    second.process.kill()
    assert await eventually(lambda: sim.count_open() == 0)
    await second.finish()
    assert await watchdog.stop() == 0
    assert watchdog.count("panic cancel") == 2
    assert watchdog.count("switch 'a': no beat") == 1
    assert watchdog.count("switch 'b': no beat") == 1


async def test_a_clean_exit_is_not_mistaken_for_silence(
    watched: tuple[SimExchange, RedisServer],
) -> None:
    sim, server = watched
    watchdog = await Watchdog.start(sim, server.url)
    sim.place_orders("AUSDT", 50)
    strategy = await _strategy(sim, server.url, "a", "--timeout", "1", "--mode", "clean",
                               "--hold", "1.5")  # fmt: skip
    code, done, _ = await strategy.finish()
    await asyncio.sleep(1.5)  # longer than the timeout: an expired beat would show by now
    assert await watchdog.stop() == 0
    assert code == 0
    assert done is not None
    assert done["state"] == "disarmed"
    assert sim.count_open() == 50
    assert watchdog.count("panic cancel") == 0


async def test_redis_down_warns_and_never_panics(watched: tuple[SimExchange, RedisServer]) -> None:
    sim, server = watched
    watchdog = await Watchdog.start(sim, server.url)
    sim.place_orders("AUSDT", 50)
    strategy = await _strategy(sim, server.url, "a", "--timeout", "1", "--mode", "forever")
    assert await eventually(lambda: watchdog.count("switch 'a' armed") == 1)
    server.stop()
    strategy.process.kill()
    await strategy.finish()
    assert await eventually(lambda: watchdog.count("switch store unreachable") >= 2)
    assert sim.count_open() == 50  # a store outage flattened nothing
    assert watchdog.count("panic cancel") == 0
    assert watchdog.count("no panic") >= 2
    assert await watchdog.stop() == 0


async def test_redis_down_panics_when_asked_to(watched: tuple[SimExchange, RedisServer]) -> None:
    sim, server = watched
    watchdog = await Watchdog.start(sim, server.url, "--on-store-loss", "panic")
    sim.place_orders("AUSDT", 50)
    strategy = await _strategy(sim, server.url, "a", "--timeout", "1", "--mode", "forever")
    assert await eventually(lambda: watchdog.count("switch 'a' armed") == 1)
    server.stop()
    assert await eventually(lambda: sim.count_open() == 0)
    assert await watchdog.stop() == 0
    assert watchdog.count("panic cancel") == 1
    strategy.process.kill()
    await strategy.finish()


async def test_a_silent_switch_is_claimed_once_and_only_while_silent(
    watched: tuple[SimExchange, RedisServer],
) -> None:
    _, server = watched
    strategy_side, first, second = (SwitchBoard(server.url, "acct") for _ in range(3))
    try:
        assert await strategy_side.beat("a", 1.0, {"kinds": ["normal"]}) is None
        reading = await first.read()
        assert reading.problem is None
        assert list(reading.switches) == ["a"]
        assert reading.switches["a"].scope == {"kinds": ["normal"]}
        assert reading.silent == ()
        entry = reading.switches["a"]
        assert not await first.claim(entry)  # it still beats: nothing to take
        silent = await _until_silent(first, "a")
        assert await first.claim(silent)
        assert not await second.claim(silent)  # one watchdog acts, never two
        assert (await second.read()).switches == {}
        # A switch that beats again between the reading and the claim is left alone.
        assert await strategy_side.beat("b", 1.0, {}) is None
        late = await _until_silent(first, "b")
        assert await strategy_side.beat("b", 1.0, {}) is None
        assert not await first.claim(late)
        assert await strategy_side.disarm("b") is None
        assert (await first.read()).switches == {}
    finally:
        for board in (strategy_side, first, second):
            await board.close()


async def _until_silent(board: SwitchBoard, name: str) -> SwitchEntry:
    for _ in range(int(PATIENCE / 0.05)):
        reading = await board.read()
        if name in reading.silent:
            return reading.switches[name]
        await asyncio.sleep(0.05)
    raise AssertionError(f"switch {name!r} never went silent")


async def test_a_watchdog_with_names_leaves_the_other_switches_alone(
    watched: tuple[SimExchange, RedisServer],
) -> None:
    sim, server = watched
    watchdog = await Watchdog.start(sim, server.url, "--name", "a")
    sim.place_orders("AUSDT", 20)
    sim.place_orders("BUSDT", 20)
    other = await _strategy(sim, server.url, "b", "--timeout", "1", "--symbols", "BUSDT")
    mine = await _strategy(sim, server.url, "a", "--timeout", "1", "--symbols", "AUSDT")
    other.process.kill()
    await other.finish()
    engine = CancelEngine(
        Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase),
        budget_url=server.url,
    )
    board = engine.switch_board()  # the board of the simulator's account, as its engines use
    try:
        await _until_silent(board, "b")  # from here on, a watchdog of b would take it
        mine.process.kill()
        assert await eventually(lambda: not sim.open_orders("AUSDT"))
        await mine.finish()
        assert await watchdog.stop() == 0
        assert "b" in (await board.read()).switches  # never claimed
    finally:
        await board.close()
        await engine.close()
    assert len(sim.open_orders("BUSDT")) == 20
    assert watchdog.count("panic cancel") == 1


async def test_a_report_that_cannot_be_written_is_bad_input_before_watching() -> None:
    args = ["watchdog", "--budget-url", "redis://127.0.0.1:9/0", "--report", "/nonexistent/r.json"]
    code, _, err = await run(sys.executable, "-m", "bitget_cancel", *args, env=clean_env(**SIM_ENV))
    assert code == 2
    assert "watching" not in err


@pytest.mark.parametrize("userinfo", ["s3cr/et", ":s3cr/et", ":s3cr#et", "default:s3cr?et"])
async def test_the_watchdog_reads_a_password_as_the_budget_does_and_never_shows_it(
    tmp_path: Path, userinfo: str
) -> None:
    # Before: redis-py's own reading took ``s3cr`` (before the '/') for the host name and
    # printed it in every problem; with '#' it connected to localhost without the password.
    password = userinfo.rpartition(":")[2]
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis", password=password)
    server.start()
    try:
        good = SwitchBoard(f"redis://{userinfo}@127.0.0.1:{server.port}/0", "acct")
        wrong = SwitchBoard(f"redis://{userinfo}x@127.0.0.1:{server.port}/0", "acct")
        try:
            assert await good.beat("a", 5.0, {}) is None
            assert list((await good.read()).switches) == ["a"]
            problem = (await wrong.read()).problem
            assert problem is not None
            assert "s3cr" not in problem
        finally:
            await good.close()
            await wrong.close()
    finally:
        server.close()


async def test_a_second_strategy_with_the_same_name_cannot_mask_the_firsts_death(
    watched: tuple[SimExchange, RedisServer],
) -> None:
    # One beat key per name: a second strategy beating it would keep a dead first one "alive".
    sim, server = watched
    watchdog = await Watchdog.start(sim, server.url)
    sim.place_orders("AUSDT", 40)
    sim.place_orders("BUSDT", 40)
    first = await _strategy(sim, server.url, "a", "--timeout", "1", "--symbols", "AUSDT")
    code, out, err = await run(
        sys.executable, "-m", "tests.switch.strategy", sim.base_url, "--watchdog", "redis",
        "--budget-url", server.url, "--name", "a", "--timeout", "1", "--symbols", "BUSDT",
        env=clean_env(),
    )  # fmt: skip
    assert code == 1
    assert '"armed"' not in out
    assert "a switch named 'a' already beats for this account" in err
    first.process.kill()
    assert await eventually(lambda: not sim.open_orders("AUSDT"))
    await first.finish()
    assert await watchdog.stop() == 0
    assert len(sim.open_orders("BUSDT")) == 40
    assert watchdog.count("switch 'a': no beat") == 1
