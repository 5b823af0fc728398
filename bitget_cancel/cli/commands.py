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
import select
import shlex
import signal
import socket
import sys
import termios
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from bitget_cancel import (
    ENV_API_KEY,
    ENV_PASSPHRASE,
    ENV_SECRET_KEY,
    CancelEngine,
    CancelReport,
    CancelTarget,
    Credentials,
    InvalidArgument,
    InvalidCredentials,
    OpenOrders,
    OrderKindName,
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
    progress_counter,
)
from .dry_run import make_plan, plan_payload
from .environment import ENV_BASE_URL, ENV_DEMO_TRADING
from .exits import (
    EXIT_BAD_INPUT,
    EXIT_CREDENTIALS_REFUSED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    REFUSED_HINT,
    UNLISTABLE_PLAN_HINT,
    cancel_exit_code,
    cancel_verdict,
    credentials_refused,
    listing_refused,
    orders_exit_code,
    orders_verdict,
    panic_exit_code,
    panic_verdict,
)
from .listing import (
    csv_text,
    incomplete_warning,
    listing_payload,
    orders_table,
    sorted_orders,
    summary,
    totals_table,
    unattributed_warning,
    unlisted_kinds,
)
from .options import CancelOptions, DemoSettings, OrdersOptions, PanicOptions, SimOptions
from .panic_tally import closed_of, with_prompt_orders
from .report import (
    NOT_SENT,
    QUIT_PANIC,
    abandoned_payload,
    emit,
    encode,
    report_payload,
    write_atomically,
)
from .resume import NothingLeft, report_outcomes, resume_targets
from .scope import scope_payload, scope_text
from .sim_watch import log_arrivals, refusal_breakdown
from .targets_file import Format, format_of, parse_targets, read_source
from .verdict import say

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
    """The targets of ``path``; a progress bar on stderr while a big file loads. A report this
    tool wrote gives the targets it did not close (resume.py), and says how many."""
    source, data = read_source(path)
    outcomes = report_outcomes(data) if fmt in (None, "json") else None
    if outcomes is not None:
        resumed = resume_targets(outcomes, source)
        err.print(resumed.summary(source), markup=False, highlight=False, soft_wrap=True)
        if outcomes and not resumed.targets:
            raise NothingLeft
        return resumed.targets
    fmt = format_of(path, data, fmt)
    if not show or len(data) < LOADING_BAR_BYTES:
        return parse_targets(data, fmt, source)
    with progress_bar(err, f"loading {Path(source).name}") as progress:
        return parse_targets(data, fmt, source, progress)


# -- Ctrl-C ------------------------------------------------------------------------------------


def _hung_up(fd: int) -> bool:
    """``fd`` is a terminal that hung up (its window closed): any write to it fails (EIO)."""
    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return bool(exc.args and exc.args[0] == errno.EIO)
    return False


def detach_hung_up_terminal() -> None:
    """On SIGHUP: standard output and error that went to a terminal now closed go to /dev/null,
    so the command still ends its work, writes its report and exits with its own code rather
    than die of EIO on a progress bar. Pipes, files and a terminal still open are left alone."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            if _hung_up(fd):
                os.dup2(devnull, fd)
    finally:
        os.close(devnull)


@contextlib.contextmanager
def signals_as_ctrl_c() -> Iterator[None]:
    """SIGTERM and SIGHUP do what Ctrl-C does here, before anything is sent (a panic's listing
    and prompt, cancel reading its targets): stop, say so and write the report, rather than die
    without a word and leave an earlier run's report in place."""

    def forward(signum: int, frame: object) -> None:
        if signum == signal.SIGHUP:
            detach_hung_up_terminal()
        signal.raise_signal(signal.SIGINT)

    previous: dict[signal.Signals, Any] = {}
    try:
        for signum in STOP_SIGNALS:
            if signum is not signal.SIGINT:
                previous[signum] = signal.signal(signum, forward)
    except ValueError:  # not the main thread: signals are not ours to route
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# The signals a command answers: Ctrl-C, a polite kill, a closed terminal (tmux, ssh).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupts:
    """SIGINT, SIGTERM and SIGHUP while a command runs on the event loop.

    The first one calls ``on_first(signal)``; a second one quits at once: it calls
    ``last_words()`` (e.g. to write the report file), gives the terminal its cursor back (a
    live progress bar hides it) and exits 130 without unwinding. A signal that comes while
    the loop runs plain code (writing the final report) waits for the next turn of the loop.
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
        if signum == signal.SIGHUP:
            detach_hung_up_terminal()
        self._presses += 1
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
        for signum in STOP_SIGNALS:
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
        # soft_wrap: a path cut over two lines cannot be copied.
        err.print(
            f"report written to {options.report}", markup=False, highlight=False, soft_wrap=True
        )


def write_abandoned(
    options: CancelOptions | PanicOptions,
    message: str,
    err: Console,
    targets: Sequence[CancelTarget] = (),
) -> None:
    """--report when nothing was sent: the targets known so far (if any), none claimed (an
    earlier run's report must not stay in place looking like this run's)."""
    _write_report(options, abandoned_payload(targets, 0, message), err)


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
    would = f"{plan.requests:,} request{'' if plan.requests == 1 else 's'} would go"
    say(err, f"verdict: dry run, nothing sent: {would} (exit 0)")
    return EXIT_OK


def _cancel_payload(
    report: CancelReport, options: CancelOptions, interrupted: bool
) -> dict[str, Any]:
    payload = report_payload(report, interrupted=interrupted)
    if options.client_oid_prefixes is not None:
        payload["scope"] = scope_payload(None, options.client_oid_prefixes)
    return payload


def finish_cancel(
    report: CancelReport,
    options: CancelOptions,
    out: Console,
    err: Console,
    *,
    interrupted: bool = False,
    account: str | None = None,
    payload: dict[str, Any] | None = None,
) -> int:
    """Show the report; ``payload``: its JSON form, already written to --report."""
    if payload is None:
        payload = _cancel_payload(report, options, interrupted)
        _write_report(options, payload, err)
    if options.as_json:
        emit(payload)
    else:
        print_report(out, report, interrupted=interrupted)
        out.print(cost_table(report, account))
    never_sent = payload["counts"].get(NOT_SENT, 0)
    if interrupted:
        err.print(
            f"interrupted: {never_sent} orders were never sent (open, if they were open)",
            soft_wrap=True,
        )
    if credentials_refused(report):
        err.print(REFUSED_HINT, markup=False, highlight=False, soft_wrap=True)
    code = EXIT_INTERRUPTED if interrupted else cancel_exit_code(report)
    say(err, cancel_verdict(report, code, never_sent))
    return code


async def run_cancel(
    targets: Sequence[CancelTarget],
    credentials: Credentials,
    options: CancelOptions,
    out: Console,
    err: Console,
) -> int:
    stop = asyncio.Event()
    answered = 0
    final: dict[str, Any] | None = None  # the report's payload, once written

    def on_first(signum: signal.Signals) -> None:
        stop.set()
        what = "stopping: nothing more is sent; waiting for the answers in flight"
        err.print(f"{signum.name}: {what} (Ctrl-C again to quit now)", soft_wrap=True)

    def last_words(message: str | None = None) -> None:
        if final is None:  # the whole report, if written, says more than this
            extra = {} if message is None else {"message": message}
            _write_report(options, abandoned_payload(targets, answered, **extra), err)

    def counted(progress: Progress | None) -> Progress:
        def update(done: int, total: int) -> None:
            nonlocal answered
            answered = done
            if progress is not None:
                progress(done, total)

        return update

    interrupts = Interrupts(err, on_first, last_words)
    try:
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
                # Written while the signal handlers are still ours: a second Ctrl-C now waits
                # for the file instead of cutting it short.
                interrupted = stop.is_set()
                final = _cancel_payload(report, options, interrupted)
                _write_report(options, final, err)
            account = engine.account_type
    except InvalidArgument:
        raise  # refused before anything was sent (exit 2)
    except Exception as exc:
        last_words(f"quit on an error before the end ({type(exc).__name__}): outcomes unknown")
        raise
    return finish_cancel(
        report, options, out, err, interrupted=interrupted, account=account, payload=final
    )


# -- orders ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listed:
    """A listing, and whether the exchange answered anything before the deadline."""

    orders: OpenOrders
    silent: bool  # no listing answered before the deadline


def _silent(listing: OpenOrders) -> bool:
    """Nothing listed, and only for want of an answer (not a refusal, not a broken cursor)."""
    unanswered = ("no answer", "stopped at the deadline", "listing stopped", "not listed")
    return (
        not listing.complete
        and not listing.orders
        and all(any(word in p for word in unanswered) for p in listing.problems)
    )


async def list_open(
    engine: CancelEngine,
    symbols: Sequence[str] | None,
    kinds: Sequence[OrderKindName],
    ends_at: float,
    err: Console,
    prefixes: Sequence[str] | None = None,
) -> Listed:
    """Every open order of ``kinds`` (on ``symbols``, or all), with a spinner on a terminal,
    all of it by ``ends_at`` (``time.monotonic()``: the command's deadline, counted from its
    start).

    ``warm_up(1)`` first: the clock measured and, with ``--account auto``, the account's type
    learnt, so the listing asks the right API (one connection: a listing needs no more).
    """
    with err.status("listing open orders") as status:

        def listed_so_far(count: int) -> None:
            status.update(f"listing open orders: {count:,} so far (the total comes last)")

        with contextlib.suppress(asyncio.TimeoutError):  # then the listing has no time left
            await asyncio.wait_for(engine.warm_up(1), timeout=ends_at - time.monotonic())
        left = _left(ends_at)
        if left is None:
            passed = "not listed: the deadline passed before the listing could begin"
            listing = OpenOrders([], complete=False, problems=(passed,))
        else:
            listing = await engine.open_orders(
                symbols,
                kinds=kinds,
                deadline=left,
                client_oid_prefix=prefixes,
                on_listed=listed_so_far,
            )
    return Listed(listing, _silent(listing))


def _left(ends_at: float) -> float | None:
    """Seconds to ``ends_at``, None once it passed."""
    left = ends_at - time.monotonic()
    return left if left > 0 else None


def no_answer(base_url: str, deadline: float) -> str:
    return f"the exchange at {base_url} did not answer within the deadline of {deadline:g}s"


def show_listing(
    listed: Listed, options: OrdersOptions, account: str | None, out: Console, err: Console
) -> None:
    listing = listed.orders
    if options.output == "json":
        payload = listing_payload(listing, options.kinds, options.symbols, account)
        payload["scope"] = scope_payload(options.symbols, options.client_oid_prefixes)
        emit(payload)
    elif options.output == "csv":
        # Incomplete: nothing on stdout, so that no pipe into cancel --file takes a part for
        # the whole (an empty input is bad input there). --json shows what was seen.
        if listing.complete:
            sys.stdout.write(csv_text(listing.orders, listing.info))
            sys.stdout.flush()
    else:
        unknown = unlisted_kinds(listing.problems, options.kinds)
        orders = sorted_orders(listing.orders)
        if orders:
            out.print(orders_table(orders, out.width, listing.info), crop=False)
            out.print(totals_table(orders, options.kinds, unknown))
        where = "" if options.symbols is None else f" of {', '.join(options.symbols)}"
        if options.client_oid_prefixes is not None:
            where += f" (clientOid {' or '.join(options.client_oid_prefixes)}...)"
        head = f"Open{where}" if listing.complete else f"INCOMPLETE listing, seen open{where}"
        unnamed = f", {listing.unattributed:,} without clientOid" if listing.unattributed else ""
        out.print(
            f"{head}: {summary(orders, options.kinds, unknown)}{unnamed} ({listing.requests} "
            f"listing requests{'' if account is None else ', ' + account + ' account'})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if listed.silent:
        err.print(no_answer(options.exchange.base_url, options.deadline), soft_wrap=True)
    if not listing.complete:
        err.print(incomplete_warning(listing.problems), soft_wrap=True)
    if listing.unattributed and options.client_oid_prefixes is not None:
        warning = unattributed_warning(listing.unattributed, options.client_oid_prefixes)
        err.print(warning, markup=False, highlight=False, soft_wrap=True)
    if listing_refused(listing):
        err.print(REFUSED_HINT, markup=False, highlight=False, soft_wrap=True)
    if "plan" in unlisted_kinds(listing.problems, options.kinds):
        err.print(UNLISTABLE_PLAN_HINT, markup=False, highlight=False, soft_wrap=True)


async def run_orders(
    credentials: Credentials, options: OrdersOptions, out: Console, err: Console
) -> int:
    ends_at = time.monotonic() + options.deadline
    async with engine_for(credentials, options.exchange) as engine:
        listed = await list_open(
            engine, options.symbols, options.kinds, ends_at, err, options.client_oid_prefixes
        )
        account = engine.account_type
    show_listing(listed, options, account, out, err)
    code = orders_exit_code(listed.orders)
    say(err, orders_verdict(listed.orders, code))
    return code


# -- panic -------------------------------------------------------------------------------------


@dataclass
class PanicPhase:
    """How far a panic command got: Ctrl-C before any cancel was sent says so."""

    cancelling: bool = False


def needs_terminal(options: PanicOptions, err: Console) -> int | None:
    """Before anything is sent: a panic without --yes needs a terminal to ask on."""
    if sys.stdin.isatty():
        return None
    scope = scope_text(options.symbols, options.client_oid_prefixes)
    err.print(
        f"refusing to cancel {scope} without confirmation: stdin is not a terminal; "
        "pass --yes to confirm",
        markup=False,
        soft_wrap=True,
    )
    return EXIT_BAD_INPUT


def _ask_on_terminal(err: Console, prompt: str) -> str:
    """The answer to ``prompt``. Stdin is polled before it is read: the kernel may hand Ctrl-C
    (or SIGTERM, SIGHUP) to another thread (the resolver's), and a main thread blocked in
    read() would not notice it before Enter; polling, it does within a fraction of a second."""
    err.print(prompt, markup=False, highlight=False, end="")
    try:
        stdin = sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):  # not a file (io.UnsupportedOperation)
        stdin = None
    while stdin is not None and not select.select([stdin], [], [], 0.2)[0]:
        pass
    return input()


async def confirm_panic(
    engine: CancelEngine,
    options: PanicOptions,
    err: Console,
    ask: Callable[[str], str] | None = None,
) -> int | OpenOrders:
    """List what is open, say it, and ask (on stderr, so stdout stays clean for --json).
    The listing to go on, else the exit code. The listing reads; nothing is cancelled before
    "yes". It holds --deadline from the command's start; the panic after "yes" has its own.
    """
    ends_at = time.monotonic() + options.deadline
    listed = await list_open(
        engine, options.symbols, options.kinds, ends_at, err, options.client_oid_prefixes
    )
    listing = listed.orders
    if listing_refused(listing):
        err.print(incomplete_warning(listing.problems), soft_wrap=True)
        err.print(f"{REFUSED_HINT}; no cancel was sent", markup=False, highlight=False,
                  soft_wrap=True)  # fmt: skip
        write_abandoned(options, "the exchange refused the credentials: no cancel was sent",
                        err, listing.orders)  # fmt: skip
        return EXIT_CREDENTIALS_REFUSED
    where = options.exchange.base_url + (
        "" if options.symbols is None else f", only {', '.join(options.symbols)}"
    )
    if options.client_oid_prefixes is not None:
        where += f", only clientOid {' or '.join(options.client_oid_prefixes)}..."
    if listed.silent:
        err.print(no_answer(options.exchange.base_url, options.deadline), soft_wrap=True)
    if not listing.complete:
        err.print(incomplete_warning(listing.problems), soft_wrap=True)
    if listing.orders:
        least = "" if listing.complete else "at least "
        unknown = unlisted_kinds(listing.problems, options.kinds)
        what = f"This cancels {least}{summary(listing.orders, options.kinds, unknown)}"
    elif listing.complete:
        what = f"Nothing is open ({', '.join(options.kinds)}); the panic still lists again and "
        what += "cancels whatever it finds"
    else:
        what = "What is open is not known (the listing is incomplete)"
    err.print(f"{what} (listed just now at {where}).", markup=False, highlight=False,
              soft_wrap=True)  # fmt: skip
    if not listing.complete:
        err.print("The panic lists again and cancels whatever it finds.", soft_wrap=True)
    try:
        prompt = "Type 'yes' to go on: "
        with keyboard_interrupts():
            answer = ask(prompt) if ask is not None else _ask_on_terminal(err, prompt)
    except EOFError:
        answer = ""
    except KeyboardInterrupt:
        said = "interrupted at the prompt: no cancel was sent"
        err.print("\n" + said)
        write_abandoned(options, said, err, listing.orders)
        return EXIT_INTERRUPTED
    if answer.strip().lower() not in ("y", "yes"):
        said = "not confirmed; no cancel was sent"
        err.print(said)
        write_abandoned(options, said, err, listing.orders)
        return EXIT_BAD_INPUT
    return listing


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

    prompt: OpenOrders | None = None
    running: CancelEngine | None = None  # once the panic may have begun

    def last_words() -> None:
        so_far = None if running is None else running.panic_so_far()
        if so_far is None:
            # What the prompt listed, none claimed closed: cancel --file on it asks again.
            listed = () if prompt is None else prompt.orders
            _write_report(options, abandoned_payload(listed, 0), err)
            return
        # Every outcome known now (the answered requests' too), the rest unresolved.
        if prompt is not None:
            so_far = with_prompt_orders(so_far, prompt.orders)
        payload = panic_payload(so_far, options)
        payload.update(interrupted=True, message=QUIT_PANIC)
        _write_report(options, payload, err)

    interrupts = Interrupts(err, on_first, last_words)
    async with engine_for(credentials, options.exchange) as engine:
        if confirm:
            with signals_as_ctrl_c():
                answer = await confirm_panic(engine, options, err)
            if isinstance(answer, int):
                return answer
            prompt = answer
        if phase is not None:
            phase.cancelling = True
        running = engine
        with interrupts.installed(), _panic_progress(err, options, prompt) as progress:
            report = await engine.panic_cancel(
                options.symbols,
                deadline=options.deadline,
                use_symbol_cancel=options.use_symbol_cancel,
                kinds=options.kinds,
                progress=progress,
                client_oid_prefix=options.client_oid_prefixes,
            )
            if prompt is not None:
                report = with_prompt_orders(report, prompt.orders)
            if progress is not None and report.outcomes:
                # The last word: orders closed by a bulk cancel and confirmed by a later
                # listing are not counted by the run's progress.
                progress(*closed_of(report))
            # Written before the bar stops, while the signal handlers are still ours.
            payload = panic_payload(report, options)
            _write_report(options, payload, err)
        account = engine.account_type
    return finish_panic(
        report, options, out, err, account, counted=prompt is not None, payload=payload
    )


@contextlib.contextmanager
def _panic_progress(
    err: Console, options: PanicOptions, prompt: OpenOrders | None
) -> Iterator[Progress | None]:
    """A bar out of the prompt's complete listing (what the panic is to close, known ahead);
    otherwise a counter: the total grows as pages arrive, so no percentage."""
    if options.as_json:
        yield None
    elif prompt is not None and prompt.complete and prompt.orders:
        least = len(prompt.orders)
        with progress_bar(err, "closing", least) as bar:
            yield lambda done, total: bar(done, max(total, least))
    else:
        with progress_counter(err, "closing") as counter:
            yield counter


def panic_payload(report: PanicReport, options: PanicOptions) -> dict[str, Any]:
    payload: dict[str, Any] = {**report.to_dict()}
    payload["scope"] = scope_payload(options.symbols, options.client_oid_prefixes)
    return payload


def finish_panic(
    report: PanicReport,
    options: PanicOptions,
    out: Console,
    err: Console,
    account: str | None = None,
    *,
    counted: bool = False,
    payload: dict[str, Any] | None = None,
) -> int:
    """``counted``: the prompt's listing named every order, so the counts include those a
    bulk cancel closed unseen. ``payload``: the report's JSON, already written to --report."""
    if payload is None:
        payload = panic_payload(report, options)
        _write_report(options, payload, err)
    if options.as_json:
        emit(payload)
    else:
        print_report(out, report)
        out.print(kinds_table(report))
        scope = scope_text(options.symbols, options.client_oid_prefixes)
        out.print(panic_table(report, account, scope, counted_from_prompt=counted))
    if credentials_refused(report):
        err.print(REFUSED_HINT, markup=False, highlight=False, soft_wrap=True)
    if "plan" in unlisted_kinds(report.problems, options.kinds):
        err.print(UNLISTABLE_PLAN_HINT, markup=False, highlight=False, soft_wrap=True)
    code = panic_exit_code(report)
    say(err, panic_verdict(report, code))
    return code


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
        # Bitget's two environments: demo requires the paptrading header, live refuses it
        # (40099 either way), so a live key sent with --demo-trading is refused here too.
        demo_trading=options.demo_trading,
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
        if options.verbose:
            watcher = loop.create_task(log_arrivals(sim, err))
            await stop.wait()
            watcher.cancel()
        else:
            await stop.wait()
        stats = sim.stats
        out.print(
            f"stopped: {sum(stats.requests.values())} requests, {stats.cancelled} orders "
            f"cancelled, {len(sim.open_orders())} still open, {stats.pacing_429} pacing "
            f"429s, {refusal_breakdown(stats.violations)}",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        await sim.stop()
    return EXIT_OK
