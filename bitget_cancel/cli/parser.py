"""``bitget-cancel``'s arguments: one function per command and one per group of options.

Light on purpose: it imports neither the commands nor the simulator, so ``--help``, ``--version``
and usage errors answer at once. Values are checked here (types, ranges, symbols) so that a
mistake is a usage error before anything else happens.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

import bitget_cancel
from bitget_cancel import DEFAULT_BASE_URL, ENV_API_KEY, ENV_PASSPHRASE, ENV_SECRET_KEY, MODES

from .exits import exit_help
from .options import DemoSettings, SimOptions
from .symbols import SymbolError, exchange_symbol
from .targets_file import FORMATS

ENV_BASE_URL = "BITGET_BASE_URL"
LOG_LEVELS = ("debug", "info", "warning", "error")
_DEMO = DemoSettings()
_SIM = SimOptions()

_ENV_HELP = f"""\
environment:
  {ENV_API_KEY}, {ENV_SECRET_KEY}, {ENV_PASSPHRASE}
                        the API credentials (never printed)
  {ENV_BASE_URL}       the REST base URL (default {DEFAULT_BASE_URL}); --base-url wins
"""
_CANCEL_EXAMPLE = """\
example (orders.csv):
  symbol,orderId,clientOid
  BTCUSDT,1234567890123456789,
  ETH/USDT,,my-client-id-7
then: bitget-cancel cancel --file orders.csv --dry-run   (the requests it would send)
      bitget-cancel cancel --file orders.csv --report done.json
"""


def version() -> str:
    """The installed distribution's version, else the package's own (a source checkout)."""
    try:
        return importlib.metadata.version("bitget-cancel")
    except importlib.metadata.PackageNotFoundError:
        return bitget_cancel.__version__


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
    return value


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


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1], got {text!r}")
    return value


def _base_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// URL, got {text!r}")
    return text.rstrip("/")


def _symbol(text: str) -> str:
    try:
        return exchange_symbol(text)
    except SymbolError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# -- option groups -----------------------------------------------------------------------------


def _add_logging_options(parser: argparse.ArgumentParser, default: object) -> None:
    """-v and --log-level; given again after the command, with SUPPRESS keeping the outer."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default if default is argparse.SUPPRESS else 0,
        help="log more (-v: info, -vv: debug), on stderr",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        type=str.lower,
        default=default,
        metavar="LEVEL",
        help=f"log from LEVEL up, on stderr: {', '.join(LOG_LEVELS)} (wins over -v)",
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
        type=_probability,
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


def _add_exchange_options(parser: argparse.ArgumentParser) -> None:
    """Where the requests go. (--proxy, --demo-trading, --account join here.)"""
    parser.add_argument(
        "--base-url",
        type=_base_url,
        metavar="URL",
        default=os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
        help=f"REST base URL (default: ${ENV_BASE_URL}, else {DEFAULT_BASE_URL})",
    )


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """How long a run may take. (--budget-url joins here.)"""
    parser.add_argument(
        "--deadline",
        type=_positive_float,
        metavar="S",
        help="give up after S seconds; what is left is reported unresolved",
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        dest="as_json",
        help="print the whole report as JSON on stdout (no progress bar)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="also write the JSON report to FILE (atomically; also on Ctrl-C, with what was "
        "never sent marked not_sent)",
    )


def _add_targets_file_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--file", "-f", required=True, metavar="F", help="the targets file; - for standard input"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        dest="fmt",
        help="the file's format, if the extension does not tell",
    )


# -- commands ----------------------------------------------------------------------------------

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _subcommand(
    subparsers: Subparsers, name: str, summary: str, description: str, epilog: str = ""
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_logging_options(parser, argparse.SUPPRESS)
    return parser


def _demo_command(subparsers: Subparsers) -> None:
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


def _cancel_command(subparsers: Subparsers) -> None:
    cancel = _subcommand(
        subparsers,
        "cancel",
        "cancel the orders listed in a file",
        "Cancel the orders listed in a CSV file (a header naming symbol, orderId and/or\n"
        "clientOid; other columns are ignored), a JSON array of objects, or JSON lines (one\n"
        "object per line). Keys may also be spelled order_id, client_oid, or as ccxt writes\n"
        "them (id, clientOrderId), and ccxt symbols (BTC/USDT) are read as BTCUSDT. The format\n"
        "comes from the extension (.csv, .json, .jsonl/.ndjson) or, for `-` (stdin) and\n"
        "others, from the first character. The whole file is checked before any request is\n"
        "sent. A first Ctrl-C stops sending and waits for the answers in flight; a second\n"
        "one quits at once.",
        _CANCEL_EXAMPLE + "\n" + _ENV_HELP + "\n" + exit_help("cancel"),
    )
    _add_targets_file_options(cancel)
    cancel.add_argument(
        "--mode",
        choices=MODES,
        default="auto",
        help="batchMode of the requests; auto sends the fewest (default)",
    )
    cancel.add_argument(
        "--dry-run",
        action="store_true",
        help="show the requests that would be sent (count, mode, per symbol); send nothing, "
        "need no credentials",
    )
    _add_exchange_options(cancel)
    _add_run_options(cancel)
    _add_output_options(cancel)


def _panic_command(subparsers: Subparsers) -> None:
    panic = _subcommand(
        subparsers,
        "panic",
        "cancel every open spot order (of some symbols, or the whole account)",
        "List the open spot orders and cancel them, list again, and repeat until a listing\n"
        "shows nothing left (or the deadline). Symbols with many orders go through\n"
        "cancel-symbol-order. Asks for confirmation unless --yes; a first Ctrl-C does not stop\n"
        "it (a second one quits at once).",
        _ENV_HELP + "\n" + exit_help("panic"),
    )
    panic.add_argument(
        "--symbol",
        action="append",
        type=_symbol,
        dest="symbols",
        metavar="S",
        help="only this symbol (BTCUSDT or BTC/USDT; repeat for more); default: every symbol",
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
    _add_exchange_options(panic)
    _add_run_options(panic)
    _add_output_options(panic)


def _sim_command(subparsers: Subparsers) -> None:
    sim = _subcommand(
        subparsers,
        "sim",
        "serve the simulated exchange until interrupted",
        "Serve the embedded Bitget exchange simulator over HTTP until Ctrl-C or SIGTERM,\n"
        "with open orders placed ahead, and print the base URL and the environment variables\n"
        "that point `bitget-cancel cancel/panic` at it. The credentials are the simulator's\n"
        f"own (defaults {_SIM.api_key} / {_SIM.secret_key} / {_SIM.passphrase}), never real ones.",
        "exit codes:\n  0    stopped cleanly\n"
        "  2    bad arguments, or the address cannot be served (port in use...)\n",
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bitget-cancel",
        description="Cancel Bitget spot orders in bulk, as fast as the rate limit allows.",
        epilog="Start with `bitget-cancel demo`. Each command has its own --help.\n\n"
        + exit_help("all"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    _add_logging_options(parser, None)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _demo_command(subparsers)
    _cancel_command(subparsers)
    _panic_command(subparsers)
    _sim_command(subparsers)
    return parser
