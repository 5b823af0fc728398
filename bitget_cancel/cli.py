"""``bitget-cancel``: argument parsing and dispatch; the work is in _commands and _demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence

from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from ._auth import ENV_API_KEY, ENV_PASSPHRASE, ENV_SECRET_KEY, Credentials
from ._commands import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CancelOptions,
    PanicOptions,
    SimOptions,
    confirm_panic,
    emit_json,
    run_cancel,
    run_panic,
    run_sim,
)
from ._demo import DemoSettings, run_demo
from ._engine import DEFAULT_BASE_URL
from ._exceptions import InvalidArgument, InvalidCredentials
from ._models import CancelReport
from ._plan import MODES
from ._targets_file import FORMATS, load_targets
from .sim import Faults

ENV_BASE_URL = "BITGET_BASE_URL"
_DEMO = DemoSettings()
_SIM = SimOptions()

_ENV_HELP = f"""\
environment:
  {ENV_API_KEY}, {ENV_SECRET_KEY}, {ENV_PASSPHRASE}
                        the API credentials (never printed)
  {ENV_BASE_URL}       the REST base URL (default {DEFAULT_BASE_URL}); --base-url wins
"""
_EXIT_HELP = """\
exit codes:
  0    every target is closed (cancelled, or was not open)
  1    some target is not closed (failed, or unresolved at the deadline)
  2    bad input: arguments, a malformed file, missing credentials{confirm}
  130  interrupted
"""
_PANIC_EXIT_HELP = _EXIT_HELP.format(confirm=", no confirmation").replace(
    "every target is closed (cancelled, or was not open)",
    "a final listing shows nothing open in scope, every order seen is closed",
)
_CANCEL_EXAMPLE = """\
example (orders.csv):
  symbol,orderId,clientOid
  BTCUSDT,1234567890123456789,
  ETHUSDT,,my-client-id-7
then: bitget-cancel cancel --file orders.csv  (or --json for the whole report)
"""


# -- argument types ----------------------------------------------------------------------------


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}: {text!r}")
        return value

    return parse


def _port(text: str) -> int:
    value = _count(0)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}")
    return int(value)


def _latency(text: str) -> tuple[float, float]:
    """``A-B`` (uniform between A and B ms) or ``A`` (always A ms)."""
    low_text, _, high_text = text.partition("-")
    try:
        low = float(low_text)
        high = float(high_text) if high_text else low
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected A-B in milliseconds, got {text!r}") from None
    if not (math.isfinite(high) and 0 <= low <= high):
        raise argparse.ArgumentTypeError(f"expected 0 <= A <= B, got {text!r}")
    return low, high


def _fault_rate(text: str) -> float:
    try:
        Faults.parse(text)
        return float(text)
    except ValueError:
        message = f"expected a probability in [0, 1], got {text!r}"
        raise argparse.ArgumentTypeError(message) from None


def _base_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// URL, got {text!r}")
    return text.rstrip("/")


# -- the parser --------------------------------------------------------------------------------


def _subcommand(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str,
    epilog: str = "",
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_verbose(parser, argparse.SUPPRESS)  # also after the command; SUPPRESS keeps the outer
    return parser


def _add_verbose(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="log more (-v: info, -vv: debug), on stderr",
    )


def _add_simulator_options(
    parser: argparse.ArgumentParser,
    orders: int,
    symbols: int,
    latency_ms: tuple[float, float],
    seed: int,
) -> None:
    parser.add_argument(
        "--orders",
        type=_count(0),
        default=orders,
        metavar="N",
        help=f"open orders to place (default {orders})",
    )
    parser.add_argument(
        "--symbols",
        type=_count(1),
        default=symbols,
        metavar="K",
        help=f"spread the orders over K symbols (default {symbols})",
    )
    parser.add_argument(
        "--latency-ms",
        type=_latency,
        default=latency_ms,
        metavar="A-B",
        help=f"round-trip latency, uniform in [A, B] ms (default {latency_ms[0]:g}-"
        f"{latency_ms[1]:g})",
    )
    parser.add_argument(
        "--faults",
        type=_fault_rate,
        default=0.0,
        metavar="P",
        help="inject faults: each request faulty with probability P (HTML 5xx, "
        "spurious 429, dropped or slow answers, truncated JSON), each order "
        "transiently refused with P/2 (default 0)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=seed,
        metavar="S",
        help=f"seed of every random choice of the simulator (default {seed})",
    )


def _add_remote_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        type=_base_url,
        metavar="URL",
        default=os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
        help=f"REST base URL (default: ${ENV_BASE_URL}, else {DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "--deadline",
        type=_positive_float,
        metavar="S",
        help="give up after S seconds; what is left is reported unresolved",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        dest="as_json",
        help="print the whole report as JSON on stdout (no progress bar)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bitget-cancel",
        description="Cancel Bitget spot orders in bulk, as fast as the rate limit allows.",
        epilog="Start with `bitget-cancel demo`. Each command has its own --help.",
    )
    _add_verbose(parser, 0)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = _subcommand(
        subparsers,
        "demo",
        "cancel orders on an in-process simulated exchange and show what it cost",
        "Start the embedded exchange simulator, place open orders on it, then cancel them all\n"
        "(by orderId, by clientOid only, plus unknown ids and duplicates) with a progress bar,\n"
        "and show the outcomes, the requests, the time against the rate-limit bound (10\n"
        "requests per sliding second: request k cannot go before floor((k-1)/10) s, plus one\n"
        "round trip), the 429s and the rule violations the simulator saw. Needs no account.",
        "exit codes:\n  0    every order closed\n  1    something stayed open\n"
        "  2    bad arguments\n",
    )
    _add_simulator_options(demo, _DEMO.orders, _DEMO.symbols, _DEMO.latency_ms, _DEMO.seed)

    cancel = _subcommand(
        subparsers,
        "cancel",
        "cancel the orders listed in a file",
        "Cancel the orders listed in a CSV file (a header naming symbol, orderId and/or\n"
        "clientOid; other columns are ignored), a JSON array of objects, or JSON lines (one\n"
        "object per line). Keys may also be spelled order_id, client_oid. The format comes\n"
        "from the extension (.csv, .json, .jsonl/.ndjson) or, for `-` (stdin) and others,\n"
        "from the first character. The whole file is checked before any request is sent.",
        _CANCEL_EXAMPLE + "\n" + _ENV_HELP + "\n" + _EXIT_HELP.format(confirm=""),
    )
    cancel.add_argument(
        "--file", "-f", required=True, metavar="F", help="the targets file; - for standard input"
    )
    cancel.add_argument(
        "--format",
        choices=FORMATS,
        dest="fmt",
        help="the file's format, if the extension does not tell",
    )
    cancel.add_argument(
        "--mode",
        choices=MODES,
        default="auto",
        help="batchMode of the requests; auto sends the fewest (default)",
    )
    _add_remote_options(cancel)

    panic = _subcommand(
        subparsers,
        "panic",
        "cancel every open spot order (of some symbols, or the whole account)",
        "List the open spot orders and cancel them, list again, and repeat until a listing\n"
        "shows nothing left (or the deadline). Symbols with many orders go through\n"
        "cancel-symbol-order. Asks for confirmation unless --yes; a first Ctrl-C does not stop\n"
        "it (a second one quits at once).",
        _ENV_HELP + "\n" + _PANIC_EXIT_HELP,
    )
    panic.add_argument(
        "--symbol",
        action="append",
        dest="symbols",
        metavar="S",
        help="only this symbol (repeat for more); default: every symbol",
    )
    panic.add_argument(
        "--yes", "-y", action="store_true", help="do not ask; needed when stdin is not a terminal"
    )
    panic.add_argument(
        "--no-symbol-cancel",
        action="store_false",
        dest="use_symbol_cancel",
        help="cancel by id only, never with cancel-symbol-order",
    )
    _add_remote_options(panic)

    sim = _subcommand(
        subparsers,
        "sim",
        "serve the simulated exchange until interrupted",
        "Serve the embedded Bitget exchange simulator over HTTP until Ctrl-C or SIGTERM,\n"
        "with open orders placed ahead, and print the base URL and the environment variables\n"
        "that point `bitget-cancel cancel/panic` at it. The credentials are the simulator's\n"
        "own (defaults sim-key / sim-secret / sim-pass), never real ones.",
        "exit codes:\n  0    stopped cleanly\n  2    bad arguments\n",
    )
    sim.add_argument("--host", default=_SIM.host, help="address to bind (default %(default)s)")
    sim.add_argument(
        "--port",
        type=_port,
        default=_SIM.port,
        metavar="P",
        help="port to bind; 0 picks a free one (default 0)",
    )
    _add_simulator_options(sim, _SIM.orders, _SIM.symbols, _SIM.latency_ms, _SIM.seed)
    for flag, default in (
        ("--api-key", _SIM.api_key),
        ("--secret-key", _SIM.secret_key),
        ("--passphrase", _SIM.passphrase),
    ):
        sim.add_argument(flag, default=default, metavar="X",
                         help=f"credential the simulator accepts (default {default})")  # fmt: skip
    return parser


# -- the commands ------------------------------------------------------------------------------


def _credentials() -> Credentials:
    try:
        return Credentials.from_env()
    except InvalidCredentials as exc:
        names = f"{ENV_API_KEY}, {ENV_SECRET_KEY} and {ENV_PASSPHRASE}"
        raise InvalidCredentials(f"{exc}; set {names} (try `bitget-cancel sim`)") from None


def _demo(args: argparse.Namespace, out: Console, err: Console) -> int:
    settings = DemoSettings(
        orders=args.orders,
        symbols=args.symbols,
        latency_ms=args.latency_ms,
        faults=args.faults,
        seed=args.seed,
    )
    return asyncio.run(run_demo(settings, out, err))


def _cancel(args: argparse.Namespace, out: Console, err: Console) -> int:
    targets = load_targets(args.file, args.fmt)
    credentials = _credentials()
    options = CancelOptions(
        base_url=args.base_url, mode=args.mode, deadline=args.deadline, as_json=args.as_json
    )
    if not targets:
        err.print(f"no targets in {args.file}: nothing to cancel", markup=False, soft_wrap=True)
        if options.as_json:
            emit_json(CancelReport([]).to_dict())
        return EXIT_OK
    return asyncio.run(run_cancel(targets, credentials, options, out, err))


def _panic(args: argparse.Namespace, out: Console, err: Console) -> int:
    credentials = _credentials()
    options = PanicOptions(
        base_url=args.base_url,
        symbols=tuple(dict.fromkeys(args.symbols)) if args.symbols else None,
        deadline=args.deadline,
        use_symbol_cancel=args.use_symbol_cancel,
        as_json=args.as_json,
    )
    if not args.yes and not confirm_panic(options, err):
        return EXIT_BAD_INPUT
    return asyncio.run(run_panic(credentials, options, out, err))


def _sim(args: argparse.Namespace, out: Console, err: Console) -> int:
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
    )
    return asyncio.run(run_sim(options, out))


_COMMANDS = {"demo": _demo, "cancel": _cancel, "panic": _panic, "sim": _sim}
_QUIET_BY_DEFAULT = {"demo", "sim"}  # their warnings are about faults injected on purpose


@contextlib.contextmanager
def _logging(err: Console, level: int) -> Iterator[None]:
    logger = logging.getLogger("bitget_cancel")
    handler = RichHandler(console=err, show_path=False, rich_tracebacks=False)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bitget-cancel``; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    out = Console()
    err = Console(stderr=True)
    base = logging.ERROR if args.command in _QUIET_BY_DEFAULT else logging.WARNING
    level = max(logging.DEBUG, base - 10 * args.verbose)
    try:
        with _logging(err, level):
            return _COMMANDS[args.command](args, out, err)
    except InvalidArgument as exc:
        err.print(Text.assemble(("error: ", "red"), str(exc)), soft_wrap=True)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err.print("interrupted: orders not yet answered for may still be open")
        return EXIT_INTERRUPTED


__all__ = ["EXIT_OK", "build_parser", "main"]
