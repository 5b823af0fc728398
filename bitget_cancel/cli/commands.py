"""The work behind ``bitget-cancel orders``, ``cancel``, ``panic`` and ``sim``; the parser only
parses.

The simulator (and with it aiohttp.web) is imported inside ``run_sim`` and ``run_demo`` only, so
the other commands, ``--help`` and usage errors never load it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shlex
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from bitget_cancel import (
    ENV_API_KEY,
    ENV_PASSPHRASE,
    ENV_SECRET_KEY,
    CancelEngine,
    CancelReport,
    CancelTarget,
    Credentials,
    InvalidCredentials,
    OpenOrders,
    PanicReport,
    Progress,
)

from .connect import engine_for
from .display import (
    cost_table,
    expected_total,
    kinds_table,
    panic_table,
    plan_tables,
    print_report,
    progress_bar,
)
from .dry_run import make_plan, plan_payload
from .environment import ENV_BASE_URL, ENV_DEMO_TRADING
from .exits import (
    EXIT_BAD_INPUT,
    EXIT_CREDENTIALS_REFUSED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    REFUSED_HINT,
    cancel_exit_code,
    listing_refused,
    orders_exit_code,
    panic_exit_code,
)
from .listing import (
    csv_text,
    incomplete_warning,
    listing_payload,
    orders_table,
    sorted_orders,
    summary,
    totals_table,
)
from .options import CancelOptions, DemoSettings, OrdersOptions, PanicOptions, SimOptions
from .report import NOT_SENT, abandoned_payload, emit, encode, report_payload, write_atomically
from .targets_file import Format, format_of, parse_targets, read_source

if TYPE_CHECKING:
    from bitget_cancel.sim import SimExchange

LOADING_BAR_BYTES = 1 << 20  # files this big show a bar while they load


def credentials() -> Credentials:
    try:
        return Credentials.from_env()
    except InvalidCredentials as exc:
        names = f"{ENV_API_KEY}, {ENV_SECRET_KEY} and {ENV_PASSPHRASE}"
        raise InvalidCredentials(f"{exc}; set {names} (try `bitget-cancel sim`)") from None


@contextlib.contextmanager
def keyboard_interrupts() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt in here, even inside ``asyncio.run`` (whose own handler
    only cancels the main task: a blocking ``input()`` would not notice)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread: signals are not ours to route
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def load_targets(path: str, fmt: Format | None, err: Console, show: bool) -> list[CancelTarget]:
    """The targets of ``path``; a progress bar on stderr while a big file loads."""
    source, data = read_source(path)
    fmt = format_of(path, data, fmt)
    if not show or len(data) < LOADING_BAR_BYTES:
        return parse_targets(data, fmt, source)
    with progress_bar(err, f"loading {Path(source).name}") as progress:
        return parse_targets(data, fmt, source, progress)


# -- Ctrl-C ------------------------------------------------------------------------------------


class Interrupts:
    """SIGINT and SIGTERM while a command runs on the event loop.

    The first one calls ``on_first(signal)``; a second Ctrl-C quits at once: it calls
    ``last_words()`` (e.g. to write the report file), gives the terminal its cursor back (a
    live progress bar hides it) and exits 130 without unwinding.
    """

    def __init__(
        self,
        err: Console,
        on_first: Callable[[signal.Signals], None],
        last_words: Callable[[], None] = lambda: None,
    ) -> None:
        self._err = err
        self._on_first = on_first
        self._last_words = last_words
        self._presses = 0
        self.signalled = False

    def _handle(self, signum: signal.Signals) -> None:
        self._presses += signum == signal.SIGINT
        if self._presses >= 2:
            self.quit_now()
        if not self.signalled:
            self.signalled = True
            self._on_first(signum)

    def quit_now(self) -> None:
        try:
            self._last_words()
        finally:
            self._err.show_cursor(True)
            self._err.print("\nquitting now: orders not yet answered for may still be open")
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)

    @contextlib.contextmanager
    def installed(self) -> Iterator[Interrupts]:
        loop = asyncio.get_running_loop()
        installed = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, self._handle, signum)
                installed.append(signum)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or no signal support on this platform
        try:
            yield self
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)


@contextlib.contextmanager
def _maybe_progress(
    err: Console, show: bool, description: str, total: int | None = None
) -> Iterator[Progress | None]:
    if not show:
        yield None
        return
    with progress_bar(err, description, total) as update:
        yield update


def _write_report(options: CancelOptions | PanicOptions, payload: object, err: Console) -> None:
    if options.report is None:
        return
    write_atomically(options.report, encode(payload))
    if not options.as_json:
        err.print(f"report written to {options.report}", markup=False, highlight=False)


# -- cancel ------------------------------------------------------------------------------------


def run_dry_run(
    targets: Sequence[CancelTarget], options: CancelOptions, out: Console, err: Console
) -> int:
    """Plan as ``cancel`` would, print it, send nothing."""
    plan = make_plan(list(targets), options.mode, options.exchange.account)
    payload = plan_payload(plan)
    _write_report(options, payload, err)
    if options.as_json:
        emit(payload)
    else:
        for table in plan_tables(plan):
            out.print(table)
    return EXIT_OK


def finish_cancel(
    report: CancelReport,
    options: CancelOptions,
    out: Console,
    err: Console,
    *,
    interrupted: bool = False,
    account: str | None = None,
) -> int:
    payload = report_payload(report, interrupted=interrupted)
    _write_report(options, payload, err)
    if options.as_json:
        emit(payload)
    else:
        print_report(out, report)
        out.print(cost_table(report, account))
    if interrupted:
        never_sent = payload["counts"][NOT_SENT]
        err.print(
            f"interrupted: {never_sent} orders were never sent (open, if they were open)",
            soft_wrap=True,
        )
        return EXIT_INTERRUPTED
    return cancel_exit_code(report)


async def run_cancel(
    targets: Sequence[CancelTarget],
    credentials: Credentials,
    options: CancelOptions,
    out: Console,
    err: Console,
) -> int:
    stop = asyncio.Event()
    answered = 0

    def on_first(signum: signal.Signals) -> None:
        stop.set()
        what = "stopping: nothing more is sent; waiting for the answers in flight"
        err.print(f"{signum.name}: {what} (Ctrl-C again to quit now)", soft_wrap=True)

    def last_words() -> None:
        _write_report(options, abandoned_payload(targets, answered), err)

    def counted(progress: Progress | None) -> Progress:
        def update(done: int, total: int) -> None:
            nonlocal answered
            answered = done
            if progress is not None:
                progress(done, total)

        return update

    interrupts = Interrupts(err, on_first, last_words)
    async with engine_for(credentials, options.exchange) as engine:
        total = expected_total(targets)
        with (
            interrupts.installed(),
            _maybe_progress(err, not options.as_json, "cancelling", total) as progress,
        ):
            report = await engine.cancel(
                targets,
                mode=options.mode,
                deadline=options.deadline,
                progress=counted(progress),
                stop=stop,
                confirm=options.confirm,
            )
        account = engine.account_type
    interrupted = stop.is_set()
    return finish_cancel(report, options, out, err, interrupted=interrupted, account=account)


# -- orders ------------------------------------------------------------------------------------


async def list_open(
    engine: CancelEngine,
    symbols: Sequence[str] | None,
    kinds: Sequence[str],
    deadline: float,
    err: Console,
) -> OpenOrders:
    """Every open order of ``kinds`` (on ``symbols``, or all), with a spinner on a terminal.

    ``warm_up(1)`` first: the clock measured and, with ``--account auto``, the account's type
    learnt, so the listing asks the right API (one connection: a listing needs no more).
    """
    await engine.warm_up(1)
    with err.status("listing open orders"):
        return await engine.open_orders(symbols, kinds=kinds, deadline=deadline)


def show_listing(
    listing: OpenOrders, options: OrdersOptions, account: str | None, out: Console, err: Console
) -> None:
    if options.output == "json":
        emit(listing_payload(listing, options.kinds, options.symbols, account))
    elif options.output == "csv":
        sys.stdout.write(csv_text(listing.orders))
        sys.stdout.flush()
    else:
        orders = sorted_orders(listing.orders)
        if orders:
            out.print(orders_table(orders, out.width), crop=False)
            out.print(totals_table(orders, options.kinds))
        where = "" if options.symbols is None else f" of {', '.join(options.symbols)}"
        out.print(
            f"Open{where}: {summary(orders, options.kinds)} ({listing.requests} listing "
            f"requests{'' if account is None else ', ' + account + ' account'})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if not listing.complete:
        err.print(incomplete_warning(listing.problems), soft_wrap=True)
    if listing_refused(listing):
        err.print(REFUSED_HINT, markup=False, highlight=False, soft_wrap=True)


async def run_orders(
    credentials: Credentials, options: OrdersOptions, out: Console, err: Console
) -> int:
    async with engine_for(credentials, options.exchange) as engine:
        listing = await list_open(engine, options.symbols, options.kinds, options.deadline, err)
        account = engine.account_type
    show_listing(listing, options, account, out, err)
    return orders_exit_code(listing)


# -- panic -------------------------------------------------------------------------------------


@dataclass
class PanicPhase:
    """How far a panic command got: Ctrl-C before any cancel was sent says so."""

    cancelling: bool = False


def needs_terminal(options: PanicOptions, err: Console) -> int | None:
    """Before anything is sent: a panic without --yes needs a terminal to ask on."""
    if sys.stdin.isatty():
        return None
    scope = "every open spot order" + (
        "" if options.symbols is None else " of " + ", ".join(options.symbols)
    )
    err.print(
        f"refusing to cancel {scope} without confirmation: stdin is not a terminal; "
        "pass --yes to confirm",
        markup=False,
        soft_wrap=True,
    )
    return EXIT_BAD_INPUT


async def confirm_panic(
    engine: CancelEngine,
    options: PanicOptions,
    err: Console,
    ask: Callable[[str], str] | None = None,
) -> int | None:
    """List what is open, say it, and ask (on stderr, so stdout stays clean for --json).
    None to go on, else the exit code. The listing reads; nothing is cancelled before "yes"."""
    listing = await list_open(engine, options.symbols, options.kinds, options.deadline, err)
    if listing_refused(listing):
        err.print(incomplete_warning(listing.problems), soft_wrap=True)
        err.print(f"{REFUSED_HINT}; no cancel was sent", markup=False, highlight=False,
                  soft_wrap=True)  # fmt: skip
        return EXIT_CREDENTIALS_REFUSED
    where = options.exchange.base_url + (
        "" if options.symbols is None else f", only {', '.join(options.symbols)}"
    )
    if listing.orders:
        what = f"This cancels {summary(listing.orders, options.kinds)}"
    else:
        what = f"Nothing is open ({', '.join(options.kinds)}); the panic still lists again and "
        what += "cancels whatever it finds"
    err.print(f"{what} (listed just now at {where}).", markup=False, highlight=False,
              soft_wrap=True)  # fmt: skip
    if not listing.complete:
        err.print(incomplete_warning(listing.problems), soft_wrap=True)
        err.print("The panic lists again and cancels whatever it finds.", soft_wrap=True)
    try:
        prompt = "Type 'yes' to go on: "
        with keyboard_interrupts():
            answer = ask(prompt) if ask is not None else err.input(prompt, markup=False)
    except EOFError:
        answer = ""
    except KeyboardInterrupt:
        err.print("\ninterrupted at the prompt: no cancel was sent")
        return EXIT_INTERRUPTED
    if answer.strip().lower() not in ("y", "yes"):
        err.print("not confirmed; no cancel was sent")
        return EXIT_BAD_INPUT
    return None


async def run_panic(
    credentials: Credentials,
    options: PanicOptions,
    out: Console,
    err: Console,
    *,
    confirm: bool,
    phase: PanicPhase | None = None,
) -> int:
    def on_first(signum: signal.Signals) -> None:
        err.print(
            f"{signum.name}: the panic cancel keeps going until done or its deadline "
            "(Ctrl-C again to quit now, leaving orders open)",
            soft_wrap=True,
        )

    def last_words() -> None:
        _write_report(options, abandoned_payload((), 0), err)

    interrupts = Interrupts(err, on_first, last_words)
    async with engine_for(credentials, options.exchange) as engine:
        if confirm:
            refused = await confirm_panic(engine, options, err)
            if refused is not None:
                return refused
        if phase is not None:
            phase.cancelling = True
        with (
            interrupts.installed(),
            _maybe_progress(err, not options.as_json, "closing") as progress,
        ):
            report = await engine.panic_cancel(
                options.symbols,
                deadline=options.deadline,
                use_symbol_cancel=options.use_symbol_cancel,
                kinds=options.kinds,
                progress=progress,
            )
            if progress is not None and report.outcomes:
                # The last word: orders closed by cancel-symbol-order and confirmed by a later
                # listing are not counted by the run's progress.
                closed = len(report.cancelled) + len(report.not_open)
                progress(closed, len(report.outcomes))
        account = engine.account_type
    return finish_panic(report, options, out, err, account)


def finish_panic(
    report: PanicReport,
    options: PanicOptions,
    out: Console,
    err: Console,
    account: str | None = None,
) -> int:
    payload = report.to_dict()
    _write_report(options, payload, err)
    if options.as_json:
        emit(payload)
    else:
        print_report(out, report)
        out.print(kinds_table(report))
        out.print(panic_table(report, account))
    return panic_exit_code(report)


# -- demo and sim ------------------------------------------------------------------------------


async def run_demo(settings: DemoSettings, out: Console, err: Console) -> int:
    from .demo import run_demo as demo  # the simulator: only now

    return await demo(settings, out, err)


def sim_exports(sim: SimExchange) -> list[str]:
    """Shell lines pointing ``bitget-cancel`` at the simulator (its own made-up credentials)."""
    pairs: tuple[tuple[str, str], ...] = (
        (ENV_BASE_URL, sim.base_url),
        (ENV_API_KEY, sim.api_key),
        (ENV_SECRET_KEY, sim.secret_key),
        (ENV_PASSPHRASE, sim.passphrase),
    )
    if sim.demo_trading:
        pairs += ((ENV_DEMO_TRADING, "1"),)
    return [f"export {name}={shlex.quote(value)}" for name, value in pairs]


def bind_error(host: str, port: int, exc: OSError) -> str:
    """One line saying why the simulator cannot listen where it was asked to."""
    where = f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        return f"cannot serve on {where}: unknown host {host!r}"
    reasons = {
        errno.EADDRINUSE: "the port is in use (pick another --port, or 0 for a free one)",
        errno.EADDRNOTAVAIL: "this machine has no such address (--host)",
        errno.EACCES: "permission denied (ports below 1024 need privileges)",
    }
    reason = reasons.get(exc.errno or 0) or exc.strerror or str(exc)
    return f"cannot serve on {where}: {reason}"


async def run_sim(options: SimOptions, out: Console, err: Console) -> int:
    from bitget_cancel.sim import Faults, SimExchange  # aiohttp.web: only now

    from .sim_orders import order_cap, place

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
        account=options.account,
        uta_order_cap=order_cap(options.order_cap),
        demo_trading=True if options.demo_trading else None,
    )
    # Before serving: a count the account cannot hold is bad input, nothing served.
    placed = place(sim, "sim", options.orders, options.tpsl, options.plan, options.symbols)
    try:
        await sim.start()
    except OSError as exc:
        err.print(bind_error(options.host, options.port, exc), markup=False, soft_wrap=True)
        return EXIT_BAD_INPUT
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
        symbols = len({order.symbol for order in placed})
        where = f"{options.orders} open orders"
        if options.tpsl or options.plan:
            where += f", {options.tpsl} TP/SL and {options.plan} plan orders"
        where += f" on {symbols} symbols, a {options.account} account"
        if options.demo_trading:
            where += ", demo trading"
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
        await sim.stop()
    return EXIT_OK
