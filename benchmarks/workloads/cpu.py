"""4. Client CPU per cancelled order, simulator in another process, rate limits off."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from bitget_cancel import CancelEngine, CancelTarget, Credentials

from . import _ccxt, sim_process
from ._common import Check, Section, median

SIM_SCRIPT = Path(sim_process.__file__)
MAX_SHARE = 0.25  # the engine's CPU per order at most a quarter of ccxt's
UNLIMITED = 1e6  # req/s: the engine's limiter never waits


class SimProcess:
    """The simulator subprocess and its line protocol."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.base_url = f"http://127.0.0.1:{port}"

    @classmethod
    async def start(cls) -> SimProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(SIM_SCRIPT),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            limit=64 * 2**20,  # one line carries every placed order
        )  # fmt: skip
        hello = await cls._read(process)
        return cls(process, int(hello["port"]))

    @staticmethod
    async def _read(process: asyncio.subprocess.Process) -> Any:
        assert process.stdout is not None
        line = await process.stdout.readline()
        if not line:
            raise RuntimeError("the simulator process exited")
        return json.loads(line)

    async def ask(self, command: str) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        return await self._read(self.process)

    async def place(self, n_symbols: int, per_symbol: int) -> list[tuple[str, str]]:
        rows = await self.ask(f"place {n_symbols} {per_symbol}")
        return [(symbol, order_id) for symbol, order_id in rows]

    async def stop(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.write(b"quit\n")
            await self.process.stdin.drain()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()


async def cpu_per_order(action: Awaitable[int]) -> float:
    """Process CPU time of ``action`` (which returns orders cancelled) per order, in µs."""
    gc.collect()  # start every measurement from the same collector state
    started = time.process_time()
    cancelled = await action
    spent = time.process_time() - started
    if cancelled == 0:
        raise RuntimeError("nothing was cancelled")
    return spent / cancelled * 1e6


async def run(quick: bool) -> Section:
    n_symbols, per_symbol = 20, 250 if quick else 500
    rounds = 3 if quick else 9
    total = n_symbols * per_symbol
    sim = await SimProcess.start()
    creds = Credentials(api_key=sim_process.API_KEY, secret_key=sim_process.SECRET_KEY,
                        passphrase=sim_process.PASSPHRASE)  # fmt: skip
    engine = CancelEngine(creds, base_url=sim.base_url, rate_limit=UNLIMITED)
    client = _ccxt.make_client(sim.base_url, creds.api_key, creds.secret_key, creds.passphrase,
                               rate_limit=False)  # fmt: skip
    ours: list[float] = []
    theirs: list[float] = []
    try:
        # Round 0 of each side warms connections and caches; it is not counted.
        for index in range(rounds + 1):
            targets = [
                CancelTarget(symbol=s, order_id=o)
                for s, o in await sim.place(n_symbols, per_symbol)
            ]
            engine_us = await cpu_per_order(_engine_cancel(engine, targets))
            ids = _ccxt.ids_by_market(await sim.place(n_symbols, per_symbol))
            if index == 0:
                await client.load_markets()  # the simulator lists the symbols with orders
            ccxt_us = await cpu_per_order(_ccxt_cancel(client, ids))
            if index:
                ours.append(engine_us)
                theirs.append(ccxt_us)
        left_open = await sim.ask("open")
    finally:
        await client.close()
        await engine.close()
        await sim.stop()
    return _section(total, rounds, ours, theirs, left_open)


async def _engine_cancel(engine: CancelEngine, targets: list[CancelTarget]) -> int:
    report = await engine.cancel(targets)
    return len(report.cancelled)


async def _ccxt_cancel(client: Any, ids: dict[str, list[str]]) -> int:
    result = await _ccxt.cancel_all(client, ids)
    return result.cancelled


def _section(
    total: int, rounds: int, ours: list[float], theirs: list[float], left_open: int
) -> Section:
    engine_us, ccxt_us = median(ours), median(theirs)
    share = engine_us / ccxt_us
    rows = [
        ["bitget_cancel", f"**{engine_us:.2f}**", f"{min(ours):.2f} / {max(ours):.2f}"],
        ["ccxt", f"**{ccxt_us:.2f}**", f"{min(theirs):.2f} / {max(theirs):.2f}"],
        ["bitget_cancel ÷ ccxt", f"**{share:.2f}**", ""],
    ]
    intro = f"""
{total:,} open orders over 20 symbols per round; the simulator runs in a separate process
(`benchmarks/workloads/sim_process.py`), rate limits off on both sides (simulator
`rate_limits=False`, engine `rate_limit={UNLIMITED:,.0f}`, ccxt `enableRateLimit: False`), so
all requests go at once. CPU: `time.process_time()` of the client process around the cancel
(engine: `await engine.cancel(targets)`; ccxt: the gathered `cancel_orders` chunks of 50),
divided by orders cancelled; `gc.collect()` before each measurement. One engine and one ccxt
client for the whole workload; a first warm-up round of each is not counted, then {rounds}
rounds alternating, median. Target: the engine ≤ {MAX_SHARE:g} × ccxt.
"""
    check = Check(
        "4. client CPU per order",
        f"{engine_us:.2f} µs vs ccxt {ccxt_us:.2f} µs = {share:.2f} ×",
        f"≤ {MAX_SHARE:g} × ccxt",
        share <= MAX_SHARE and left_open == 0,
    )
    return Section(
        4,
        "Client CPU per cancelled order",
        intro,
        ["client", "µs CPU / order (median)", "min / max"],
        rows,
        [check],
        [f"Orders left open at the end: {left_open}."],
    )
