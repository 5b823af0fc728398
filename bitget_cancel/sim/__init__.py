"""An embedded Bitget spot exchange for tests, demos and benchmarks.

It speaks the v2 REST protocol (classic accounts) and the v3 one (unified trading accounts)
over real HTTP, holds normal, TP/SL and plan orders, verifies signatures with its own HMAC
(and, with the ``[rsa]`` extra, RSA) code, enforces the per-account sliding-window rate limits
with a penalty after a 429, and injects seeded faults.
"""

from ._auth import SimKey
from ._book import NORMAL, ORDER_KINDS, PLAN, TPSL, SimOrder
from ._faults import (
    ALL_FAULT_KINDS,
    DROP_AFTER_CANCEL,
    DUPLICATE_ROWS,
    HARSH_FAULT_KINDS,
    HTML_5XX,
    LATE_ARRIVAL,
    ORDER_TRANSIENT,
    SLOW_AFTER_CANCEL,
    SPURIOUS_429,
    STUCK_CURSOR,
    SYMBOL_CANCEL_NOOP,
    TRUNCATED_JSON,
    Faults,
)
from ._server import SimBindError, SimExchange
from ._stats import EndpointStats, SimStats

__all__ = [
    "ALL_FAULT_KINDS",
    "DROP_AFTER_CANCEL",
    "DUPLICATE_ROWS",
    "HARSH_FAULT_KINDS",
    "HTML_5XX",
    "LATE_ARRIVAL",
    "NORMAL",
    "ORDER_KINDS",
    "ORDER_TRANSIENT",
    "PLAN",
    "SLOW_AFTER_CANCEL",
    "SPURIOUS_429",
    "STUCK_CURSOR",
    "SYMBOL_CANCEL_NOOP",
    "TPSL",
    "TRUNCATED_JSON",
    "EndpointStats",
    "Faults",
    "SimBindError",
    "SimExchange",
    "SimKey",
    "SimOrder",
    "SimStats",
]
