"""What each command is asked to do, as plain data: the parser fills it, the commands read it.

Kept apart from both so the parser can show the defaults without importing the commands (and
through them the simulator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bitget_cancel import DEFAULT_BASE_URL, DEFAULT_PANIC_DEADLINE, Mode, OrderKindName

from .environment import Account

# OrderKind's values, in the order shown
ORDER_KIND_NAMES: tuple[OrderKindName, ...] = ("normal", "tpsl", "plan")
# The UTA pages: at most 400 open orders across spot and margin (the simulator's default too).
UTA_ORDER_CAP = 400
# Listing open orders: a page of 100 a round trip, one after the other, so 10,000 orders at
# 300 ms take about 30 s (engine.open_orders()'s own default): twice that, as the panic has.
ORDERS_DEADLINE = 60.0
SimAccount = Literal["classic", "uta"]
OrdersOutput = Literal["table", "json", "csv"]


@dataclass(frozen=True, slots=True)
class ExchangeOptions:
    """Where the requests go and as which account: the engine's settings."""

    base_url: str = DEFAULT_BASE_URL
    account: Account = "auto"
    budget_url: str | None = None  # None: the engine reads BITGET_BUDGET_URL
    account_id: str | None = None  # whose budget: None = derived from the api key
    demo_trading: bool = False
    proxy: str | None = None
    trust_env: bool = False


@dataclass(frozen=True, slots=True)
class DemoSettings:
    orders: int = 1000
    symbols: int = 20
    latency_ms: tuple[float, float] = (2.0, 30.0)
    faults: float = 0.0
    seed: int = 1
    account: SimAccount = "classic"
    tpsl: int = 0  # TP/SL orders to place beside the normal ones
    plan: int = 0  # trigger (plan) orders
    order_cap: bool = True  # a unified account's cap of open orders


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
    account: SimAccount = "classic"
    tpsl: int = 0
    plan: int = 0
    order_cap: bool = True
    demo_trading: bool = False  # require the paptrading header; without: refuse it (40099)
    verbose: int = 0  # -v: a line a second of what arrived


@dataclass(frozen=True, slots=True)
class CancelOptions:
    exchange: ExchangeOptions = field(default_factory=ExchangeOptions)
    mode: Mode = "auto"
    deadline: float | None = None
    as_json: bool = False
    report: Path | None = None  # where to write the JSON report, atomically
    dry_run: bool = False
    client_oid_prefixes: tuple[str, ...] | None = None  # only targets of this bot
    confirm: bool = True  # check every "does not exist" against the account's listings


@dataclass(frozen=True, slots=True)
class PanicOptions:
    exchange: ExchangeOptions = field(default_factory=ExchangeOptions)
    symbols: tuple[str, ...] | None = None  # None: the whole account
    kinds: tuple[OrderKindName, ...] = ORDER_KIND_NAMES
    deadline: float = DEFAULT_PANIC_DEADLINE
    use_symbol_cancel: bool = True
    as_json: bool = False
    report: Path | None = None
    client_oid_prefixes: tuple[str, ...] | None = None  # one bot's orders: by id only


@dataclass(frozen=True, slots=True)
class OrdersOptions:
    exchange: ExchangeOptions = field(default_factory=ExchangeOptions)
    symbols: tuple[str, ...] | None = None
    kinds: tuple[OrderKindName, ...] = ORDER_KIND_NAMES
    deadline: float = ORDERS_DEADLINE
    output: OrdersOutput = "table"
    client_oid_prefixes: tuple[str, ...] | None = None
