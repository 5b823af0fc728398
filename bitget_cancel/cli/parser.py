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
from bitget_cancel import DEFAULT_BASE_URL, DEFAULT_PANIC_DEADLINE, MODES, OrderKindName

from .environment import (
    ACCOUNTS,
    ENV_ACCOUNT,
    ENV_ACCOUNT_ID,
    ENV_BASE_URL,
    ENV_BUDGET_URL,
    ENV_DEMO_TRADING,
    ENV_HELP,
)
from .exits import exit_help
from .options import ORDER_KIND_NAMES, ORDERS_DEADLINE, UTA_ORDER_CAP, DemoSettings, SimOptions
from .symbols import SymbolError, exchange_symbol
from .targets_file import FORMATS

LOG_LEVELS = ("debug", "info", "warning", "error")
_DEMO = DemoSettings()
_SIM = SimOptions()
_CANCEL_EXAMPLE = """\
example (orders.csv):
  symbol,orderId,clientOid,kind
  BTCUSDT,1234567890123456789,,
  ETH/USDT,,my-client-id-7,
  BTCUSDT,1234567890123456790,,plan
then: bitget-cancel cancel --file orders.csv --dry-run   (the requests it would send)
      bitget-cancel cancel --file orders.csv --report done.json
or, from what is open: bitget-cancel orders --symbol BTCUSDT --csv > open.csv
                       bitget-cancel cancel --file open.csv
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


def _kinds(text: str) -> tuple[OrderKindName, ...]:
    """``normal,tpsl,plan`` (any of them, any order; spaces allowed) -> in the usual order."""
    named = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [name for name in named if name not in ORDER_KIND_NAMES]
    if unknown or not named:
        raise argparse.ArgumentTypeError(
            f"expected kinds among {','.join(ORDER_KIND_NAMES)} separated by commas, got {text!r}"
        )
    return tuple(kind for kind in ORDER_KIND_NAMES if kind in named)


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
    orders: int | None,
    symbols: int,
    latency_ms: tuple[float, float],
    seed: int,
) -> None:
    default = (
        f"{orders}"
        if orders is not None
        else f"{_DEMO.orders:,}; {UTA_ORDER_CAP} on a uta, its cap"
    )
    parser.add_argument(
        "--orders",
        type=_count(0),
        default=orders,
        metavar="N",
        help=f"open (normal) orders to place (default {default})",
    )
    parser.add_argument(
        "--tpsl",
        type=_count(0),
        default=0,
        metavar="N",
        help="TP/SL orders to place too (default 0)",
    )
    parser.add_argument(
        "--plan",
        type=_count(0),
        default=0,
        metavar="N",
        help="trigger (plan) orders to place too (default 0)",
    )
    parser.add_argument(
        "--symbols",
        type=_count(1),
        default=symbols,
        metavar="K",
        help=f"spread the orders over K symbols (default {symbols})",
    )
    parser.add_argument(
        "--account",
        choices=("classic", "uta"),
        default="classic",
        help="the simulated account: classic (the v2 API) or uta, a unified trading account "
        "(the v3 API, at most 400 open orders) (default classic)",
    )
    parser.add_argument(
        "--no-order-cap",
        action="store_false",
        dest="order_cap",
        help="lift the unified account's cap of 400 open orders (load tests)",
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
    """Where the requests go, as which account, through what."""
    parser.add_argument(
        "--base-url",
        type=_base_url,
        metavar="URL",
        default=os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
        help=f"REST base URL (default: ${ENV_BASE_URL}, else {DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "--account",
        choices=ACCOUNTS,
        help="the account's API: classic (v2), uta (a unified trading account, v3), or auto: "
        "learnt from the exchange, by a probe or its first answer "
        f"(default: ${ENV_ACCOUNT}, else auto)",
    )
    parser.add_argument(
        "--demo-trading",
        action=argparse.BooleanOptionalAction,
        help="the key is a demo-trading key: send the paptrading header (default: "
        f"${ENV_DEMO_TRADING}=1, else off); the exchange answers 40099 to a mix-up",
    )
    parser.add_argument(
        "--proxy",
        metavar="URL",
        help="send every request through this HTTP proxy (http://[user:password@]host:port)",
    )
    parser.add_argument(
        "--trust-env",
        action="store_true",
        help="use the proxy of HTTPS_PROXY / HTTP_PROXY (and NO_PROXY), as curl does",
    )


def _add_budget_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--budget-url",
        metavar="URL",
        help="share the account's rate budget with every other process through this Redis "
        f"(redis://host:port/db; default: ${ENV_BUDGET_URL}, else this process only)",
    )
    parser.add_argument(
        "--account-id",
        metavar="ID",
        help="the account whose budget is shared: its UID, or a name every process of it "
        f"agrees on, so that several API keys of one account share one budget "
        f"(default: ${ENV_ACCOUNT_ID}, else one budget per API key)",
    )


def _add_run_options(
    parser: argparse.ArgumentParser, deadline: float | None = None, help_text: str = ""
) -> None:
    """How long a run may take, and whose rate budget it draws on."""
    default = "" if deadline is None else f" (default {deadline:g})"
    parser.add_argument(
        "--deadline",
        type=_positive_float,
        default=deadline,
        metavar="S",
        help=help_text or f"give up after S seconds; what is left is reported unresolved{default}",
    )
    _add_budget_option(parser)


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


def _client_oid_prefix(text: str) -> str:
    if not text or text.strip() != text:
        raise argparse.ArgumentTypeError(f"expected a clientOid prefix, got {text!r}")
    return text


def _add_prefix_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--client-oid-prefix",
        action="append",
        type=_client_oid_prefix,
        dest="client_oid_prefixes",
        metavar="P",
        help=f"only orders whose clientOid starts with P (one bot's orders; repeat for more): "
        f"{what}",
    )


def _add_scope_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--symbol",
        action="append",
        type=_symbol,
        dest="symbols",
        metavar="S",
        help="only this symbol (BTCUSDT or BTC/USDT; repeat for more); default: every symbol",
    )
    parser.add_argument(
        "--kinds",
        type=_kinds,
        default=ORDER_KIND_NAMES,
        metavar="K,...",
        help="the kinds of order: normal (limit, market), tpsl (take-profit / stop-loss), "
        f"plan (trigger orders), separated by commas (default {','.join(ORDER_KIND_NAMES)})",
    )


def _add_symbol_cancel_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-symbol-cancel",
        action="store_false",
        dest="use_symbol_cancel",
        help="cancel by id only, never with cancel-symbol-order",
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
        "and show the outcomes, the requests, the time against the rate-limit bound (each\n"
        "endpoint allows so many requests per sliding second, e.g. 10 for batch-cancel-order:\n"
        "request k cannot go before floor((k-1)/10) s; the kinds go concurrently, so the bound\n"
        "is the slowest endpoint's, plus one round trip), the 429s and the rule violations the\n"
        "simulator saw. Needs no account.",
        "exit codes:\n  0    every order closed\n  1    something stayed open\n"
        "  2    bad arguments\n",
    )
    _add_simulator_options(demo, None, _DEMO.symbols, _DEMO.latency_ms, _DEMO.seed)


def _orders_command(subparsers: Subparsers) -> None:
    orders = _subcommand(
        subparsers,
        "orders",
        "show the open spot orders (every kind), as a table, JSON or CSV",
        "List the open spot orders (of some symbols, or the whole account; normal, TP/SL and\n"
        "plan orders), every page, and show them: a table (ids whole, never wrapped) with the\n"
        "totals per symbol and kind, or --json, or --csv, which `bitget-cancel cancel --file`\n"
        "reads back as it is. Nothing is cancelled. A listing that could not be read to its\n"
        "end is said so on stderr, and the exit code is 4: more may be open than is shown.",
        "example:\n"
        "  bitget-cancel orders --symbol BTCUSDT --kinds normal,plan --csv > open.csv\n"
        "  bitget-cancel cancel --file open.csv\n\n" + ENV_HELP + "\n" + exit_help("orders"),
    )
    _add_scope_options(orders)
    _add_prefix_option(orders, "the others are not shown")
    output = orders.add_mutually_exclusive_group()
    output.add_argument(
        "--json",
        action="store_const",
        const="json",
        dest="output",
        default="table",
        help="print the listing as JSON on stdout (orders, totals, complete, problems)",
    )
    output.add_argument(
        "--csv",
        action="store_const",
        const="csv",
        dest="output",
        help="print symbol,orderId,clientOid,kind rows on stdout, for cancel --file",
    )
    _add_exchange_options(orders)
    _add_run_options(
        orders,
        ORDERS_DEADLINE,
        f"give up listing after S seconds, counted from the start: what was not listed by then "
        f"makes the listing incomplete (exit 4) (default {ORDERS_DEADLINE:g})",
    )


def _cancel_command(subparsers: Subparsers) -> None:
    cancel = _subcommand(
        subparsers,
        "cancel",
        "cancel the orders listed in a file",
        "Cancel the orders listed in a CSV file (a header naming symbol, orderId and/or\n"
        "clientOid, and optionally kind: normal, tpsl or plan; other columns are ignored), a\n"
        "JSON array of objects, or JSON lines (one object per line). Keys may also be spelled\n"
        "order_id, client_oid, or as ccxt writes them (id, clientOrderId), and ccxt symbols\n"
        "(BTC/USDT) are read as BTCUSDT. The format comes from the extension (.csv, .json,\n"
        ".jsonl/.ndjson) or, for `-` (stdin) and others, from the first character. The whole\n"
        "file is checked before any request is sent. A first Ctrl-C stops sending and waits\n"
        "for the answers in flight; a second one quits at once.",
        _CANCEL_EXAMPLE + "\n" + ENV_HELP + "\n" + exit_help("cancel"),
    )
    _add_targets_file_options(cancel)
    _add_prefix_option(cancel, "the file's other targets are left out, and said so")
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
    cancel.add_argument(
        "--no-confirm",
        action="store_false",
        dest="confirm",
        help='do not check "does not exist" answers against a listing of the account\'s open '
        "orders of every kind: not_open then means only that the exchange said so for the "
        "symbol and kind given (an order filed under the wrong symbol or kind stays open)",
    )
    _add_exchange_options(cancel)
    _add_run_options(cancel)
    _add_output_options(cancel)


def _panic_command(subparsers: Subparsers) -> None:
    panic = _subcommand(
        subparsers,
        "panic",
        "cancel every open spot order (of some symbols, or the whole account)",
        "List the open spot orders of every kind asked for (normal, TP/SL, plan) and cancel\n"
        "them, list again, and repeat until a listing of every kind shows nothing left (or the\n"
        "deadline). Symbols with many orders go through cancel-symbol-order. Unless --yes, it\n"
        "first lists what is open and asks, saying what it is about to cancel (a listing\n"
        "reads, it cancels nothing); a first Ctrl-C does not stop the panic (a second one\n"
        "quits at once).",
        ENV_HELP + "\n" + exit_help("panic"),
    )
    _add_scope_options(panic)
    _add_prefix_option(
        panic, "the others stay open; cancelled by id only, never by cancel-symbol-order"
    )
    panic.add_argument(
        "--yes", "-y", action="store_true", help="do not ask; needed when stdin is not a terminal"
    )
    _add_symbol_cancel_option(panic)
    _add_exchange_options(panic)
    _add_run_options(panic, DEFAULT_PANIC_DEADLINE)
    _add_output_options(panic)


def _sim_command(subparsers: Subparsers) -> None:
    sim = _subcommand(
        subparsers,
        "sim",
        "serve the simulated exchange until interrupted",
        "Serve the embedded Bitget exchange simulator over HTTP until Ctrl-C or SIGTERM,\n"
        "with open orders placed ahead, and print the base URL and the environment variables\n"
        "that point `bitget-cancel cancel/panic/orders` at it. The credentials are the\n"
        f"simulator's own (defaults {_SIM.api_key} / {_SIM.secret_key} / {_SIM.passphrase}),\n"
        "never real ones.",
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
    sim.add_argument(
        "--demo-trading",
        action="store_true",
        help=f"be Bitget's demo-trading environment: require the paptrading header (set "
        f"{ENV_DEMO_TRADING}=1 or pass --demo-trading to the client), else answer 40099",
    )
    for flag, default in (
        ("--api-key", _SIM.api_key),
        ("--secret-key", _SIM.secret_key),
        ("--passphrase", _SIM.passphrase),
    ):
        sim.add_argument(flag, default=default, metavar="X",
                         help=f"credential the simulator accepts (default {default})")  # fmt: skip


def _watchdog_command(subparsers: Subparsers) -> None:
    watchdog = _subcommand(
        subparsers,
        "watchdog",
        "run the panic for a dead man's switch that went silent",
        "Watch the dead man's switches of the account in Redis (engine.dead_man_switch(...,\n"
        "watchdog='redis'), on any host: a switch whose beat expired without a disarm (its\n"
        "strategy died, hung or lost its host) gets the panic over its scope, then the watch\n"
        "goes on. Redis unreachable: no panic (an outage must not flatten every account), a\n"
        "warning every timeout, unless --on-store-loss panic. Runs until Ctrl-C or SIGTERM.\n"
        "--pipe is the child a switch with watchdog='process' starts (orders on stdin).",
        "example:\n  bitget-cancel watchdog --budget-url redis://10.0.0.5:6379/0 "
        "--report panic.json\n\n"
        "exit codes:\n  0    stopped by Ctrl-C or SIGTERM; --pipe: disarmed\n"
        "  N    --pipe, after a panic: the exit code bitget-cancel panic gives its report\n"
        "  2    bad input: arguments, missing credentials or budget URL\n\n" + ENV_HELP,
    )
    watchdog.add_argument(
        "--pipe",
        action="store_true",
        help="be the watchdog child of a switch: orders and beats on stdin (started by the "
        "library; the other options are ignored)",
    )
    watchdog.add_argument(
        "--name",
        action="append",
        dest="names",
        metavar="N",
        help="only the switch named N (repeat for more); default: every switch of the account",
    )
    watchdog.add_argument(
        "--on-store-loss",
        choices=("warn", "panic"),
        default="warn",
        help="Redis unreachable for a timeout: warn (default) or panic for the switches last "
        "seen armed",
    )
    watchdog.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="write each panic's JSON report to FILE (atomically)",
    )
    _add_exchange_options(watchdog)
    _add_budget_option(watchdog)


def _guard_command(subparsers: Subparsers) -> None:
    guard = _subcommand(
        subparsers,
        "guard",
        "run a bot; cancel its orders if it fails",
        "Run CMD (a bot that does not use this library: freqtrade, hummingbot, a script) as\n"
        "a child. When it exits non-zero or is killed by a signal (or at any exit with\n"
        "--on-exit always), run the panic over the scope and print its summary; then exit\n"
        "with the child's status (128 + N when signal N ended it). Ctrl-C and SIGTERM go to\n"
        "the child first. A clean exit 0 cancels nothing by default.",
        "example:\n  bitget-cancel guard --symbol BTCUSDT -- freqtrade trade -c config.json\n\n"
        "exit codes:\n  N    the command's own exit code (128 + S when signal S ended it)\n"
        "  2    bad input (before the command runs)\n  127  the command cannot be run\n\n"
        + ENV_HELP,
    )
    guard.add_argument(
        "--on-exit",
        choices=("failure", "always"),
        default="failure",
        help="when to run the panic: failure (non-zero exit or a signal; default) or always",
    )
    _add_scope_options(guard)
    _add_prefix_option(guard, "other orders are left alone")
    _add_symbol_cancel_option(guard)
    _add_exchange_options(guard)
    _add_run_options(guard, DEFAULT_PANIC_DEADLINE)
    _add_output_options(guard)
    guard.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS",
                       help="the command to run, after --")  # fmt: skip


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
    _orders_command(subparsers)
    _cancel_command(subparsers)
    _panic_command(subparsers)
    _sim_command(subparsers)
    _watchdog_command(subparsers)
    _guard_command(subparsers)
    return parser
