"""``bitget-cancel watchdog``: what runs the panic when a dead man's switch goes silent.

- ``--pipe``: the child a switch starts (``watchdog="process"``). Its orders (credentials,
  the engine's settings, the scope) come on stdin, never argv or the environment; it
  re-creates the engine from them, tells the parent it is ready, and watches the beats.
- ``--budget-url URL``: on any host, every switch of the account in Redis
  (``watchdog="redis"``); a switch whose beat expired without a disarm gets the panic over
  its scope, then the watch goes on. Redis unreachable: a warning every timeout, no panic,
  unless ``--on-store-loss panic``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, cast

from rich.console import Console

from bitget_cancel import CancelEngine, Credentials, PanicReport, SwitchEntry, WatchdogPipe

from .commands import finish_panic
from .connect import engine_for
from .exits import EXIT_OK
from .options import ExchangeOptions, PanicOptions
from .verdict import say

StoreLoss = Literal["warn", "panic"]
DEFAULT_TIMEOUT = 10.0  # the switch's default: how often to warn before any switch was seen
MIN_POLL, MAX_POLL = 0.05, 1.0


@dataclass(frozen=True, slots=True)
class WatchdogOptions:
    exchange: ExchangeOptions = field(default_factory=ExchangeOptions)
    names: tuple[str, ...] | None = None  # None: every switch of the account
    report: Path | None = None
    on_store_loss: StoreLoss = "warn"


def _report(report: PanicReport, path: str | Path | None, err: Console, account: str | None) -> int:
    """The panic's summary on stderr (stdout is the parent's pipe, or a terminal), and the
    JSON report in ``path``."""
    options = PanicOptions(report=None if path is None else Path(path))
    try:
        return finish_panic(report, options, err, err, account)
    except OSError as exc:  # the panic is done; a report that cannot be written ends nothing
        err.print(f"watchdog: report not written to {path}: {exc}", markup=False, soft_wrap=True)
        return finish_panic(report, PanicOptions(), err, err, account)


class _Unbreakable(io.TextIOBase):
    """The watchdog's stderr, whose writes never raise: a log reader gone with the strategy
    (``strategy 2>&1 | tee log``, the pipeline killed) must not end the watch or the panic."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file

    def write(self, text: str) -> int:
        try:
            return self._file.write(text)
        except (OSError, ValueError):  # a broken pipe, a closed file
            return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._file.flush()


def _unbreakable(err: Console) -> Console:
    err.file = cast(IO[str], _Unbreakable(err.file))
    return err


# -- the process watchdog --------------------------------------------------------------------


async def run_pipe_watchdog(err: Console) -> int:
    err = _unbreakable(err)
    pipe = await WatchdogPipe.open()
    orders = pipe.orders
    async with CancelEngine(orders.credentials, **orders.engine) as engine:
        await engine.warm_up(1)  # a connection and the clock ready for the panic
        pipe.ready()
        ending = await pipe.watch()
        if ending == "disarmed":
            return EXIT_OK
        why = (
            "its pipe closed without a disarm (the strategy died)"
            if ending == "closed"
            else f"no beat for {orders.timeout:g} s (the strategy hangs)"
        )
        err.print(f"watchdog: switch {orders.name!r}: {why}: panic cancel", soft_wrap=True)
        report = await engine.panic_cancel(**orders.scope)
        account = engine.account_type
    return _report(report, orders.report_path, err, account)


# -- the Redis watchdog ----------------------------------------------------------------------


def _poll(switches: dict[str, SwitchEntry]) -> float:
    shortest = min((entry.timeout for entry in switches.values()), default=4 * MAX_POLL)
    return min(MAX_POLL, max(MIN_POLL, shortest / 4))


class _StoreWatch:
    """The watch of one account's switches; ``status`` is what it last knew."""

    def __init__(self, options: WatchdogOptions, err: Console, engine: CancelEngine) -> None:
        self._options = options
        self._err = err
        self._engine = engine
        self._board = engine.switch_board()
        self._names = frozenset(options.names) if options.names else None
        self.known: dict[str, SwitchEntry] = {}
        self.status = "starting"
        self._down_since: float | None = None
        self._warned_at: float | None = None
        self.panics = 0

    async def step(self) -> None:
        loop = asyncio.get_running_loop()
        reading = await self._board.read(self._names)
        if reading.problem is not None:
            await self._store_lost(reading.problem, loop.time())
            return
        if self._down_since is not None:
            self._err.print("watchdog: the switch store answers again", soft_wrap=True)
        self._down_since = self._warned_at = None
        for name in reading.switches.keys() - self.known.keys():
            entry = reading.switches[name]
            self._err.print(
                f"watchdog: switch {name!r} armed (timeout {entry.timeout:g} s)", soft_wrap=True
            )
        self.known = dict(reading.switches)
        self.status = f"watching {len(self.known)} switch(es)"
        for name in reading.silent:
            entry = reading.switches[name]
            if await self._board.claim(entry):  # one watchdog acts, and only if still silent
                self.known.pop(name, None)
                why = f"no beat for {entry.timeout:g} s without a disarm"
                await self._panic(entry, why)

    async def _store_lost(self, problem: str, now: float) -> None:
        if self._down_since is None:
            self._down_since = now
        every = min((entry.timeout for entry in self.known.values()), default=DEFAULT_TIMEOUT)
        self.status = f"switch store unreachable: {problem}"
        if self._warned_at is None or now - self._warned_at >= every:
            self._warned_at = now
            action = (
                "panic for the switches last seen"
                if self._options.on_store_loss == "panic"
                else "no panic (a store outage must not flatten every account)"
            )
            self._err.print(f"watchdog: {self.status}; {action}", soft_wrap=True, markup=False)
        if self._options.on_store_loss == "panic" and now - self._down_since >= every:
            lost, self.known = self.known, {}
            for entry in lost.values():
                await self._panic(entry, "the switch store is unreachable (--on-store-loss panic)")

    async def _panic(self, entry: SwitchEntry, why: str) -> None:
        self._err.print(f"watchdog: switch {entry.name!r}: {why}: panic cancel", soft_wrap=True)
        report = await self._engine.panic_cancel(**entry.scope)
        self.panics += 1
        _report(report, self._options.report, self._err, self._engine.account_type)

    async def close(self) -> None:
        await self._board.close()


async def run_store_watchdog(
    credentials: Credentials, options: WatchdogOptions, out: Console, err: Console
) -> int:
    err = _unbreakable(err)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    async with engine_for(credentials, options.exchange) as engine:
        watch = _StoreWatch(options, err, engine)
        try:
            which = ", ".join(options.names) if options.names else "every switch"
            err.print(f"watchdog: watching {which} of this account (Ctrl-C stops)", soft_wrap=True)
            while not stop.is_set():
                await watch.step()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), _poll(watch.known))
        finally:
            await watch.close()
    out.print(f"watchdog stopped: {watch.panics} panic(s) run; last status: {watch.status}")
    say(err, f"verdict: watchdog stopped after {watch.panics} panic(s) (exit {EXIT_OK})")
    return EXIT_OK
