"""``bitget-cancel``: the command line, a layer on the public API of ``bitget_cancel``.

``main`` parses (parser.py), then hands the options to the commands (commands.py, imported only
then); the simulator is imported only by the commands that run it (demo, sim).

    parser.py        arguments, one function per command and per group of options
    options.py       what each command is asked to do, as plain data
    environment.py   the environment variables read, checked, and named in the help
    commands.py      orders, cancel, panic, sim: run, show, write the report, Ctrl-C
    connect.py       the engine, from the exchange options
    listing.py       what is open: summary, tables, JSON, CSV that cancel --file reads
    demo.py          the in-process demo on the simulator
    sim_orders.py    orders placed on the simulator (sim, demo)
    targets_file.py  CSV / JSON / JSON-lines targets, read in one linear pass
    resume.py        cancel --file REPORT.json: the targets a report did not close
    panic_tally.py   the panic's figures against its prompt's listing
    logs.py          the library's log on stderr, each distinct warning once
    scope.py         --client-oid-prefix: one bot's targets and orders, and the scope's name
    sim_watch.py     sim -v, and the stop line's refusals by cause
    verdict.py       the one-line verdict every command ends with
    symbols.py       BTC/USDT -> BTCUSDT; names that cannot exist are refused
    dry_run.py       cancel --dry-run: the plan, per symbol
    report.py        JSON reports: payload, msgspec encoding, atomic files
    display.py       progress bars and tables (rich)
    exits.py         exit codes and the one a report earns
    watchdog.py      watchdog: the panic for a dead man's switch gone silent (pipe, Redis)
    guard.py         guard: a bot as a child; the panic when it fails
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bitget_cancel import InvalidArgument

from .exits import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK
from .logs import logging_to
from .options import ExchangeOptions, PanicOptions
from .parser import build_parser
from .verdict import begin_verdicts, say, say_default

if TYPE_CHECKING:
    from rich.console import Console

_QUIET_BY_DEFAULT = {"demo", "sim"}  # their warnings are about faults injected on purpose


def _demo(args: argparse.Namespace, out: Console, err: Console) -> int:
    import asyncio

    from .commands import run_demo
    from .options import UTA_ORDER_CAP, DemoSettings

    orders = args.orders
    if orders is None:  # the default: 1,000, or as many as a unified account holds
        capped = args.account == "uta" and args.order_cap
        orders = min(DemoSettings().orders, UTA_ORDER_CAP) if capped else DemoSettings().orders
    settings = DemoSettings(
        orders=orders,
        symbols=args.symbols,
        latency_ms=args.latency_ms,
        faults=args.faults,
        seed=args.seed,
        account=args.account,
        tpsl=args.tpsl,
        plan=args.plan,
        order_cap=args.order_cap,
    )
    return asyncio.run(run_demo(settings, out, err))


def _exchange(args: argparse.Namespace) -> ExchangeOptions:
    """The exchange options: the command line's, else the environment's."""
    from .environment import ENV_ACCOUNT_ID, account, demo_trading

    return ExchangeOptions(
        base_url=args.base_url,
        account=args.account or account(),
        budget_url=args.budget_url,
        account_id=args.account_id or os.environ.get(ENV_ACCOUNT_ID) or None,
        demo_trading=demo_trading() if args.demo_trading is None else args.demo_trading,
        proxy=args.proxy,
        trust_env=args.trust_env,
    )


def _symbols(args: argparse.Namespace) -> tuple[str, ...] | None:
    return tuple(dict.fromkeys(args.symbols)) if args.symbols else None


def _prefixes(args: argparse.Namespace) -> tuple[str, ...] | None:
    given = args.client_oid_prefixes
    return tuple(dict.fromkeys(given)) if given else None


def _orders(args: argparse.Namespace, out: Console, err: Console) -> int:
    import asyncio

    from .commands import credentials, run_orders
    from .options import OrdersOptions

    options = OrdersOptions(
        exchange=_exchange(args),
        symbols=_symbols(args),
        kinds=args.kinds,
        deadline=args.deadline,
        output=args.output,
        client_oid_prefixes=_prefixes(args),
    )
    keys = credentials()
    try:
        return asyncio.run(run_orders(keys, options, out, err))
    except KeyboardInterrupt:
        err.print("\ninterrupted: nothing was cancelled")
        return EXIT_INTERRUPTED


def _cancel(args: argparse.Namespace, out: Console, err: Console) -> int:
    import asyncio

    from .commands import (
        credentials,
        load_targets,
        run_cancel,
        run_dry_run,
        signals_as_ctrl_c,
        write_abandoned,
    )
    from .options import CancelOptions
    from .report import check_report_path
    from .resume import NothingLeft
    from .scope import in_scope

    options = CancelOptions(
        exchange=_exchange(args),
        mode=args.mode,
        deadline=args.deadline,
        as_json=args.as_json,
        report=args.report,
        dry_run=args.dry_run,
        client_oid_prefixes=_prefixes(args),
        confirm=args.confirm,
    )
    if options.report is not None:
        check_report_path(options.report)
    try:
        with signals_as_ctrl_c():  # a pipe's writer may take long: SIGTERM, SIGHUP too
            targets = load_targets(args.file, args.fmt, err, show=not options.as_json)
    except KeyboardInterrupt:
        said = "interrupted while reading the file: nothing was sent"
        err.print(said)
        write_abandoned(options, said, err)
        return EXIT_INTERRUPTED
    except NothingLeft:
        say(err, "verdict: nothing to resume: the report closed every target it names "
                    "(exit 0)")  # fmt: skip
        return EXIT_OK
    if options.client_oid_prefixes is not None:
        targets = in_scope(targets, options.client_oid_prefixes, err)
    if not targets:
        # Bad input, not an all-clear: a listing that failed upstream (orders --csv) writes
        # nothing, and "nothing to cancel" must not read as "all closed".
        err.print(
            f"error: no targets in {'standard input' if args.file == '-' else args.file}: "
            "nothing to cancel (was the file that lists them written to its end?)",
            markup=False,
            soft_wrap=True,
        )
        return EXIT_BAD_INPUT
    if options.dry_run:
        return run_dry_run(targets, options, out, err)
    keys = credentials()
    return asyncio.run(run_cancel(targets, keys, options, out, err))


def _panic_options(args: argparse.Namespace) -> PanicOptions:
    """What a panic is asked to do (``panic``, ``guard``); a report path that cannot be
    written is bad input now, before anything runs."""
    from .report import check_report_path

    options = PanicOptions(
        exchange=_exchange(args),
        symbols=_symbols(args),
        kinds=args.kinds,
        deadline=args.deadline,
        use_symbol_cancel=args.use_symbol_cancel,
        as_json=args.as_json,
        report=args.report,
        client_oid_prefixes=_prefixes(args),
    )
    if options.report is not None:
        check_report_path(options.report)
    return options


def _panic(args: argparse.Namespace, out: Console, err: Console) -> int:
    import asyncio

    from .commands import PanicPhase, credentials, needs_terminal, run_panic, write_abandoned

    options = _panic_options(args)
    keys = credentials()
    if not args.yes:
        refused = needs_terminal(options, err)
        if refused is not None:
            return refused
    phase = PanicPhase()
    try:
        return asyncio.run(run_panic(keys, options, out, err, confirm=not args.yes, phase=phase))
    except KeyboardInterrupt:
        if phase.cancelling:
            raise
        err.show_cursor(True)
        said = "interrupted before the panic began: no cancel was sent"
        err.print("\n" + said)
        write_abandoned(options, said, err)
        return EXIT_INTERRUPTED


def _sim(args: argparse.Namespace, out: Console, err: Console) -> int:
    import asyncio

    from .commands import run_sim
    from .options import SimOptions

    options = SimOptions(
        host=args.host,
        port=args.port,
        orders=args.orders,
        symbols=args.symbols,
        api_key=args.api_key,
        secret_key=args.secret_key,
        passphrase=args.passphrase,
        latency_ms=args.latency_ms,
        faults=args.faults,
        seed=args.seed,
        account=args.account,
        tpsl=args.tpsl,
        plan=args.plan,
        order_cap=args.order_cap,
        demo_trading=args.demo_trading,
        verbose=args.verbose,
    )
    return asyncio.run(run_sim(options, out, err))


def _watchdog(args: argparse.Namespace, out: Console, err: Console) -> int:
    import asyncio

    from .commands import credentials
    from .watchdog import WatchdogOptions, run_pipe_watchdog, run_store_watchdog

    if args.pipe:
        return asyncio.run(run_pipe_watchdog(err))
    if args.report is not None:
        from .report import check_report_path

        check_report_path(args.report)
    options = WatchdogOptions(
        exchange=_exchange(args),
        names=tuple(dict.fromkeys(args.names)) if args.names else None,
        report=args.report,
        on_store_loss=args.on_store_loss,
    )
    return asyncio.run(run_store_watchdog(credentials(), options, out, err))


def _guard(args: argparse.Namespace, out: Console, err: Console) -> int:
    import asyncio

    from .commands import credentials
    from .guard import GuardOptions, run_guard

    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not command:
        raise InvalidArgument("guard needs a command to run: bitget-cancel guard -- CMD ARGS...")
    options = GuardOptions(tuple(command), _panic_options(args), args.on_exit)
    return asyncio.run(run_guard(credentials(), options, out, err))


Command = Callable[[argparse.Namespace, "Console", "Console"], int]
_COMMANDS: dict[str, Command] = {
    "demo": _demo,
    "orders": _orders,
    "cancel": _cancel,
    "panic": _panic,
    "sim": _sim,
    "watchdog": _watchdog,
    "guard": _guard,
}


def _log_level(args: argparse.Namespace) -> int:
    if args.log_level is not None:
        return int(getattr(logging, args.log_level.upper()))
    base = logging.ERROR if args.command in _QUIET_BY_DEFAULT else logging.WARNING
    return int(max(logging.DEBUG, base - 10 * args.verbose))


def _tolerate_narrow_encodings() -> None:
    """A terminal or pipe that is ASCII (LANG=C, PYTHONIOENCODING=ascii) gets ``?`` for the few
    characters it cannot show (×, →), not a UnicodeEncodeError halfway through a report."""
    for stream in (sys.stdout, sys.stderr):
        # "surrogateescape" is what Python picks for the C/POSIX locale: it raises here too.
        if isinstance(stream, io.TextIOWrapper) and stream.errors in ("strict", "surrogateescape"):
            try:
                "×→…".encode(stream.encoding)
            except (UnicodeEncodeError, LookupError):
                stream.reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bitget-cancel``; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    from rich.console import Console
    from rich.text import Text

    _tolerate_narrow_encodings()
    out = Console()
    err = Console(stderr=True)
    begin_verdicts()
    try:
        with logging_to(err, _log_level(args)):
            code = _COMMANDS[args.command](args, out, err)
    except InvalidArgument as exc:
        err.print(Text.assemble(("error: ", "red"), str(exc)), soft_wrap=True)
        code = EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err.show_cursor(True)
        err.print("\ninterrupted: orders not yet answered for may still be open")
        code = EXIT_INTERRUPTED
    # demo and sim end with their own summary; a switch's watchdog child speaks only when it
    # acted (its stderr is the strategy's)
    if args.command not in _QUIET_BY_DEFAULT and not getattr(args, "pipe", False):
        say_default(err, code)
    return code


__all__ = ["EXIT_OK", "build_parser", "main"]
