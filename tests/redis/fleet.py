"""Drive a simulator process and engine processes (``sim_server``, ``engine_worker``).

For the multi-process tests and ``benchmarks/workloads/redis_processes.py``: every participant
is a real process with its own CancelEngine; they meet only at the simulator (one process on
127.0.0.1) and, when given a budget URL, at Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from . import sim_server

ROOT = Path(__file__).resolve().parents[2]
BATCH_CANCEL = "/api/v2/spot/trade/batch-cancel-order"
READ_TIMEOUT = 120.0  # a participant that says nothing this long has hung: fail, don't wait


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "BITGET_BUDGET_URL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


async def _spawn(module: str, *args: str, env: dict[str, str] | None = None) -> Any:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        env=_env(env), cwd=ROOT, limit=16 * 2**20,
    )  # fmt: skip


async def _read(process: asyncio.subprocess.Process, what: str) -> Any:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), READ_TIMEOUT)
    if not line:
        raise RuntimeError(f"{what} exited (code {await process.wait()})")
    return json.loads(line)


async def _write(process: asyncio.subprocess.Process, line: str) -> None:
    assert process.stdin is not None
    process.stdin.write(line.encode() + b"\n")
    await process.stdin.drain()


async def _end(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
    await process.wait()


class SimProcess:
    """The simulator in its own process (``tests/redis/sim_server.py``)."""

    api_key = sim_server.API_KEY
    secret_key = sim_server.SECRET_KEY
    passphrase = sim_server.PASSPHRASE

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.base_url = f"http://127.0.0.1:{port}"

    @classmethod
    async def start(
        cls,
        *,
        penalty_s: float,
        latency_ms: tuple[float, float] = (2.0, 30.0),
        keys: Sequence[tuple[str, str, str]] = (),
    ) -> SimProcess:
        args = ["--penalty-s", str(penalty_s), "--latency-ms", *map(str, latency_ms)]
        for key in keys:
            args += ["--key", ":".join(key)]
        process = await _spawn("tests.redis.sim_server", *args)
        try:
            hello = await _read(process, "the simulator")
        except BaseException:
            await _end(process)
            raise
        return cls(process, int(hello["port"]))

    async def ask(self, command: str) -> Any:
        await _write(self.process, command)
        return await _read(self.process, "the simulator")

    async def place(self, symbol: str, count: int) -> list[str]:
        ids: list[str] = await self.ask(f"place {symbol} {count}")
        return ids

    async def open(self, symbols: Sequence[str] = ()) -> int:
        count: int = await self.ask(" ".join(["open", *symbols]))
        return count

    async def stats(self) -> dict[str, Any]:
        found: dict[str, Any] = await self.ask("stats")
        return found

    async def stop(self) -> None:
        if self.process.returncode is None:
            await _write(self.process, "quit")
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.process.wait(), 10)
        await _end(self.process)


class Participant:
    """One ``engine_worker`` process; its symbols are its own."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, symbols: list[str]):
        self.name = name
        self.process = process
        self.symbols = symbols
        self.hello: dict[str, Any] = {}

    async def event(self) -> dict[str, Any]:
        found: dict[str, Any] = await _read(self.process, f"participant {self.name}")
        return found

    async def go(self) -> None:
        await _write(self.process, "go")

    async def under_way(self) -> None:
        """Wait until its first order has an outcome."""
        event = await self.event()
        assert "progress" in event, event

    async def report(self) -> dict[str, Any]:
        """The report of its current phase (skipping the progress line, if unread); after the
        last phase, once the process has exited cleanly."""
        while "report" not in (event := await self.event()):
            pass
        if event["last"]:
            code = await asyncio.wait_for(self.process.wait(), READ_TIMEOUT)
            assert code == 0, f"participant {self.name} exited with {code}"
        return event


class Fleet:
    """Participants on one simulator; ends every process it started."""

    def __init__(self, sim: SimProcess, directory: Path) -> None:
        self.sim = sim
        self.directory = directory
        self.participants: list[Participant] = []

    async def add(
        self,
        name: str,
        *,
        orders: int | Sequence[int] = 0,
        symbols: int = 2,
        panic: bool = False,
        budget_url: str | None = None,
        account_id: str | None = None,
        key: tuple[str, str, str] | None = None,
        env: dict[str, str] | None = None,
        request_timeout: float = 5.0,
        deadline: float = 120.0,
        rate_limit: float = 10.0,
    ) -> Participant:
        """Start a participant and wait until it is ready.

        ``orders``: per phase (one ``cancel()`` each, or the panic), placed over ``symbols``
        symbols of its own for that phase.
        """
        phases = [orders] if isinstance(orders, int) else list(orders)
        names, files = [], []
        for number, count in enumerate(phases):
            rows = await self._place(f"{name.upper()}{number}", count, symbols)
            names += sorted({symbol for symbol, _ in rows})
            files.append(self.directory / f"{name}-{number}.json")
            files[-1].write_text(json.dumps(rows))
        api_key, secret_key, passphrase = key or (
            self.sim.api_key,
            self.sim.secret_key,
            self.sim.passphrase,
        )
        args = [
            "--base-url", self.sim.base_url, "--api-key", api_key,
            "--secret-key", secret_key, "--passphrase", passphrase,
            "--request-timeout", str(request_timeout), "--deadline", str(deadline),
            "--rate-limit", str(rate_limit),
        ]  # fmt: skip
        if panic:
            args += ["--panic", ",".join(names)]
        else:
            for path in files:
                args += ["--targets", str(path)]
        if budget_url is not None:
            args += ["--budget-url", budget_url]
        if account_id is not None:
            args += ["--account-id", account_id]
        process = await _spawn("tests.redis.engine_worker", *args, env=env)
        participant = Participant(name, process, names)
        self.participants.append(participant)
        participant.hello = await participant.event()
        assert participant.hello.get("ready"), participant.hello
        return participant

    async def _place(self, prefix: str, orders: int, symbols: int) -> list[tuple[str, str]]:
        rows = []
        for i in range(symbols):
            symbol = f"{prefix}S{i:02d}USDT"
            count = orders // symbols + (1 if i < orders % symbols else 0)
            rows += [(symbol, order_id) for order_id in await self.sim.place(symbol, count)]
        return rows

    async def go(self) -> None:
        """Every participant starts now (they were all ready)."""
        for participant in self.participants:
            await participant.go()

    async def close(self) -> None:
        for participant in self.participants:
            await _end(participant.process)


@asynccontextmanager
async def fleet(directory: Path, *, penalty_s: float, **sim_options: Any) -> AsyncIterator[Fleet]:
    sim = await SimProcess.start(penalty_s=penalty_s, **sim_options)
    group = Fleet(sim, directory)
    try:
        yield group
    finally:
        await group.close()
        await sim.stop()
