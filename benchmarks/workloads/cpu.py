"""Client CPU per cancelled order: the engine, ccxt and a raw-aiohttp floor, as instructions
(valgrind) beside seconds; the simulator in another process, rate limits off."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bitget_cancel import CancelEngine, Credentials

from . import _ccxt, _valgrind, sim_process
from ._common import Check, Runs, Section
from ._reference import RawClient
from .cpu_driver import Rows, ccxt_cancel, engine_cancel, raw_cancel

ROOT = Path(__file__).resolve().parents[2]
SIM_SCRIPT = Path(sim_process.__file__)
MAX_SHARE = 0.25  # the engine's CPU per order at most a quarter of ccxt's
UNLIMITED = 1e6  # req/s: the engine's limiter never waits
CLIENTS = ("engine", "ccxt", "raw")
NAMES = {"engine": "bitget_cancel", "ccxt": "ccxt", "raw": "raw aiohttp (floor)"}


def child_env() -> dict[str, str]:
    """This checkout first on the path of a child process, hash seed fixed for steady counts."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


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
            env=child_env(),
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

    async def place(self, n_symbols: int, per_symbol: int) -> Rows:
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


def credentials() -> Credentials:
    return Credentials(api_key=sim_process.API_KEY, secret_key=sim_process.SECRET_KEY,
                       passphrase=sim_process.PASSPHRASE)  # fmt: skip


async def cpu_per_order(action: Awaitable[int]) -> float:
    """Process CPU time of ``action`` (which returns orders cancelled) per order, in µs."""
    gc.collect()  # start every measurement from the same collector state
    started = time.process_time()
    cancelled = await action
    spent = time.process_time() - started
    if cancelled == 0:
        raise RuntimeError("nothing was cancelled")
    return spent / cancelled * 1e6


async def seconds_per_order(
    sim: SimProcess, n_symbols: int, per_symbol: int, rounds: int
) -> dict[str, Runs]:
    """µs of process CPU per order in this process, the three clients alternating round by
    round; round 0 of each warms connections and caches and is not counted."""
    creds = credentials()
    engine = CancelEngine(creds, base_url=sim.base_url, rate_limit=UNLIMITED)
    key, secret, passphrase = sim_process.API_KEY, sim_process.SECRET_KEY, sim_process.PASSPHRASE
    client = _ccxt.make_client(sim.base_url, key, secret, passphrase, rate_limit=False)
    raw = RawClient(sim.base_url, key, secret, passphrase)
    cancels: dict[str, Callable[[Rows], Awaitable[int]]] = {
        "engine": lambda rows: engine_cancel(engine, rows),
        "ccxt": lambda rows: ccxt_cancel(client, rows),
        "raw": lambda rows: raw_cancel(raw, rows),
    }
    spent: dict[str, list[float]] = {name: [] for name in CLIENTS}
    try:
        for index in range(rounds + 1):
            for name in CLIENTS:
                rows = await sim.place(n_symbols, per_symbol)
                if name == "ccxt" and index == 0:
                    await client.load_markets()  # the simulator lists symbols with orders
                us = await cpu_per_order(cancels[name](rows))
                if index:
                    spent[name].append(us)
    finally:
        await client.close()
        await engine.close()
        await raw.close()
    return {name: Runs.of(values) for name, values in spent.items()}


async def instructions_per_order(
    sim: SimProcess, kind: str, n_symbols: int, per_symbol: int
) -> float:
    """Instructions per order of one measured round of ``kind``, counted by callgrind in a
    driver process (``cpu_driver.py``) after a warm-up round of a tenth the size."""
    warm = await sim.place(n_symbols, max(1, per_symbol // 10))
    measured = await sim.place(n_symbols, per_symbol)
    creds = credentials()
    job = {"base_url": sim.base_url, "key": creds.api_key, "secret": creds.secret_key,
           "passphrase": creds.passphrase, "warm": warm, "measured": measured}  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(job, handle)
    try:
        argv = [sys.executable, "-m", "benchmarks.workloads.cpu_driver", kind, handle.name]
        counted = await asyncio.to_thread(_valgrind.count, argv, child_env(), str(ROOT))
    finally:
        os.unlink(handle.name)
    cancelled = int(json.loads(counted.stdout.strip().splitlines()[-1])["cancelled"])
    if cancelled != len(measured):
        raise RuntimeError(
            f"{kind} cancelled {cancelled} of {len(measured)} under valgrind: {counted.stderr}"
        )
    return counted.instructions / cancelled


@dataclass
class Instructions:
    per_order: dict[str, float]
    missing: str  # why some or all are absent; "" when all were counted


async def count_instructions(
    sim: SimProcess, n_symbols: int, per_symbol: int, kinds: tuple[str, ...]
) -> Instructions:
    if _valgrind.valgrind() is None:
        return Instructions({}, "valgrind is not installed: instruction counts skipped")
    per_order = {}
    for kind in kinds:
        per_order[kind] = await instructions_per_order(sim, kind, n_symbols, per_symbol)
    skipped = [NAMES[k] for k in CLIENTS if k not in kinds]
    missing = f"{', '.join(skipped)} not counted in a --quick run" if skipped else ""
    return Instructions(per_order, missing)


async def run(quick: bool) -> Section:
    n_symbols, rounds = 20, (3 if quick else 9)
    per_symbol_s = 250 if quick else 500  # orders per symbol in a round timed in seconds
    per_symbol = 100 if quick else 500  # in the round counted under valgrind
    # Under valgrind each client takes 10–40 s (imports, mostly): a quick run counts the engine.
    kinds = ("engine",) if quick else CLIENTS
    sim = await SimProcess.start()
    try:
        seconds = await seconds_per_order(sim, n_symbols, per_symbol_s, rounds)
        counted = await count_instructions(sim, n_symbols, per_symbol, kinds)
        left_open = await sim.ask("open")
    finally:
        await sim.stop()
    return _section(n_symbols, (per_symbol_s, per_symbol), rounds, seconds, counted, left_open)


def _section(
    n_symbols: int,
    per_symbol: tuple[int, int],
    rounds: int,
    seconds: dict[str, Runs],
    counted: Instructions,
    left_open: int,
) -> Section:
    ir = counted.per_order
    rows = []
    for kind in CLIENTS:
        runs = seconds[kind]
        rows.append(
            [
                NAMES[kind],
                f"**{ir[kind]:,.0f}**" if kind in ir else "—",
                f"{ir[kind] / ir['engine']:.2f}" if kind in ir and "engine" in ir else "—",
                runs.show(lambda us: f"{us:.2f}"),
                f"{runs.median / seconds['engine'].median:.2f}",
            ]
        )
    share_s = seconds["engine"].median / seconds["ccxt"].median
    share_ir = ir["engine"] / ir["ccxt"] if "engine" in ir and "ccxt" in ir else None
    share = share_ir if share_ir is not None else share_s
    by = "instructions" if share_ir is not None else "seconds"
    intro = f"""
{n_symbols * per_symbol[0]:,} open orders over {n_symbols} symbols per round for seconds,
{n_symbols * per_symbol[1]:,} for instructions; the simulator runs in a separate process
(`benchmarks/workloads/sim_process.py`), rate limits off on every side (simulator
`rate_limits=False`, engine `rate_limit={UNLIMITED:,.0f}`, ccxt `enableRateLimit: False`, the
floor unpaced), so all requests go at once. The clients: `await engine.cancel(targets)`;
ccxt's `cancel_orders` per symbol in chunks of 50, gathered (one pass: nothing fails here);
the floor, raw aiohttp sending the engine's requests (50 orders across symbols, signed,
answers decoded with the standard json module), gathered (`cpu_driver.py`, `raw_cancel`).

- **Instructions**: each client in a program of its own (`cpu_driver.py`) under `valgrind
  --tool=callgrind --collect-atstart=no --toggle-collect=closure_fcn`: a warm-up round of a
  tenth the size (connections, caches, ccxt's markets; not counted), then the measured round
  run as a ctypes callback, the only code callgrind counts (`_valgrind.py`). One run each:
  instruction counts barely move between runs. Divided by orders cancelled.
- **Seconds**: `time.process_time()` of this process around the cancel, per order cancelled,
  `gc.collect()` before each; one client of each kind for the whole workload, a first round of
  each not counted, then {rounds} rounds alternating; median (range). Seconds move with the
  machine's other loads (shared here); instructions do not.
"""
    notes = [f"Orders left open at the end: {left_open}."]
    if counted.missing:
        notes.append(f"Instructions: {counted.missing}.")
    check = Check(
        "client CPU per order",
        (f"{ir['engine']:,.0f} vs ccxt {ir['ccxt']:,.0f} instructions = {share:.2f} ×; "
         if share_ir is not None else "")
        + f"{seconds['engine'].median:.2f} vs {seconds['ccxt'].median:.2f} µs = {share_s:.2f} ×",
        f"≤ {MAX_SHARE:g} × ccxt (by {by})",
        share <= MAX_SHARE and left_open == 0,
    )  # fmt: skip
    if share_ir is not None:
        headline = (
            f"**Client CPU:** {ir['engine']:,.0f} instructions per cancelled order (valgrind), "
            f"{share_ir:.2f} × ccxt's {ir['ccxt']:,.0f} and {ir['engine'] / ir['raw']:.2f} × a "
            f"raw-aiohttp floor's {ir['raw']:,.0f}; in seconds {seconds['engine'].median:.2f} µs "
            f"against ccxt's {seconds['ccxt'].median:.2f} µs."
        )
    else:
        headline = (
            f"**Client CPU:** {seconds['engine'].median:.2f} µs per cancelled order against "
            f"ccxt's {seconds['ccxt'].median:.2f} µs ({share_s:.2f} ×); {counted.missing}."
        )
    return Section(
        "Client CPU per cancelled order",
        intro,
        [
            "client",
            "instructions / order",
            "÷ engine",
            "µs CPU / order",
            "÷ engine",
        ],
        rows,
        [check],
        notes,
        [headline],
    )
