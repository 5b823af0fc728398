"""The work behind ``bitget-cancel cancel``, ``panic`` and ``sim``; cli.py only parses."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from rich.console import Console

from ._auth import ENV_API_KEY, ENV_PASSPHRASE, ENV_SECRET_KEY, Credentials
from ._demo import symbol_names
from ._display import cost_table, outcomes_table, panic_table, problems_table, progress_bar
from ._engine import CancelEngine
from ._models import CancelReport, CancelTarget
from ._plan import Mode
from ._run import Progress
from .sim import Faults, SimExchange

EXIT_OK = 0  # every target closed (cancelled or not open)
EXIT_NOT_CLOSED = 1  # some target failed or is unresolved
EXIT_BAD_INPUT = 2  # bad arguments, a malformed file, missing credentials, no confirmation
EXIT_INTERRUPTED = 130  # Ctrl-C


def emit_json(payload: object) -> None:
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def _maybe_progress(err: Console, show: bool, description: str) -> Iterator[Progress | None]:
    if not show:
        yield None
        return
    with progress_bar(err, description) as update:
        yield update


def _show_report(out: Console, report: CancelReport) -> None:
    out.print(outcomes_table(report))
    problems = problems_table(report)
    if problems is not None:
        out.print(problems)


# -- cancel ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CancelOptions:
    base_url: str
    mode: Mode = "auto"
    deadline: float | None = None
    as_json: bool = False


async def run_cancel(
    targets: Sequence[CancelTarget],
    credentials: Credentials,
    options: CancelOptions,
    out: Console,
    err: Console,
) -> int:
    async with CancelEngine(credentials, base_url=options.base_url) as engine:
        with _maybe_progress(err, not options.as_json, "cancelling") as progress:
            report = await engine.cancel(
                targets, mode=options.mode, deadline=options.deadline, progress=progress
            )
    if options.as_json:
        emit_json(report.to_dict())
    else:
        _show_report(out, report)
        out.print(cost_table(report))
    return EXIT_OK if report.all_closed else EXIT_NOT_CLOSED


# -- panic -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PanicOptions:
    base_url: str
    symbols: tuple[str, ...] | None = None  # None: the whole account
    deadline: float | None = None
    use_symbol_cancel: bool = True
    as_json: bool = False


def confirm_panic(
    options: PanicOptions, err: Console, ask: Callable[[str], str] | None = None
) -> bool:
    """Ask on the terminal (the prompt on stderr, so stdout stays clean for --json); never
    proceed on a non-interactive stdin."""
    scope = "ALL open spot orders" if options.symbols is None else (
        "every open spot order of " + ", ".join(options.symbols)
    )  # fmt: skip
    if not sys.stdin.isatty():
        err.print(
            f"refusing to cancel {scope} without confirmation: stdin is not a terminal; "
            "pass --yes to confirm",
            markup=False,
            soft_wrap=True,
        )
        return False
    err.print(
        f"This cancels {scope} at {options.base_url}", markup=False, highlight=False, soft_wrap=True
    )
    try:
        prompt = "Type 'yes' to go on: "
        answer = ask(prompt) if ask is not None else err.input(prompt, markup=False)
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        err.print("not confirmed; nothing was sent")
        return False
    return True


@contextlib.contextmanager
def _keep_going_on_interrupt(err: Console) -> Iterator[None]:
    """A panic must finish: the first Ctrl-C (or SIGTERM) is noted, a second Ctrl-C quits."""
    loop = asyncio.get_running_loop()
    presses = 0

    def on_signal(signum: signal.Signals) -> None:
        nonlocal presses
        presses += signum == signal.SIGINT
        if presses >= 2:
            err.print("quitting now: some orders may still be open")
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        err.print(
            f"{signum.name}: the panic cancel keeps going until done or its deadline "
            "(Ctrl-C again to quit now, leaving orders open)",
            soft_wrap=True,
        )

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or no signal support on this platform
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def run_panic(
    credentials: Credentials, options: PanicOptions, out: Console, err: Console
) -> int:
    async with CancelEngine(credentials, base_url=options.base_url) as engine:
        with (
            _keep_going_on_interrupt(err),
            _maybe_progress(err, not options.as_json, "closing") as progress,
        ):
            report = await engine.panic_cancel(
                options.symbols,
                deadline=options.deadline,
                use_symbol_cancel=options.use_symbol_cancel,
                progress=progress,
            )
    if options.as_json:
        emit_json(report.to_dict())
    else:
        _show_report(out, report)
        out.print(panic_table(report))
    closed = report.all_closed and report.account_empty
    return EXIT_OK if closed else EXIT_NOT_CLOSED


# -- sim ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimOptions:
    host: str = "127.0.0.1"
    port: int = 0
    orders: int = 0
    symbols: int = 4
    api_key: str = "sim-key"
    secret_key: str = "sim-secret"
    passphrase: str = "sim-pass"
    latency_ms: tuple[float, float] = (0.0, 0.0)
    faults: float = 0.0
    seed: int = 0


def sim_exports(sim: SimExchange) -> list[str]:
    """Shell lines pointing ``bitget-cancel`` at the simulator (its own made-up credentials)."""
    pairs = (
        ("BITGET_BASE_URL", sim.base_url),
        (ENV_API_KEY, sim.api_key),
        (ENV_SECRET_KEY, sim.secret_key),
        (ENV_PASSPHRASE, sim.passphrase),
    )
    return [f"export {name}={shlex.quote(value)}" for name, value in pairs]


async def run_sim(options: SimOptions, out: Console) -> int:
    faults = Faults.parse(options.faults) if options.faults else Faults()
    sim = SimExchange(
        api_key=options.api_key,
        secret_key=options.secret_key,
        passphrase=options.passphrase,
        latency_ms=options.latency_ms,
        faults=faults,
        seed=options.seed,
        host=options.host,
        port=options.port,
    )
    symbols = symbol_names(options.symbols)
    for index in range(options.orders):
        sim.place_order(symbols[index % len(symbols)], f"sim-{index}")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # no loop signal handlers here: Ctrl-C ends it as KeyboardInterrupt instead
    try:
        async with sim:
            where = f"{options.orders} open orders on {len(symbols)} symbols"
            print(f"Simulated Bitget exchange at {sim.base_url} ({where})", flush=True)
            print("Point bitget-cancel at it with:", flush=True)
            for line in sim_exports(sim):
                print("  " + line, flush=True)
            print("Ctrl-C stops it.", flush=True)
            await stop.wait()
            stats = sim.stats
            out.print(
                f"stopped: {sum(stats.requests.values())} requests, {stats.cancelled} orders "
                f"cancelled, {len(sim.open_orders())} still open, {stats.pacing_429} pacing "
                f"429s, {stats.total_violations} rule violations",
                soft_wrap=True,
            )
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
    return EXIT_OK
