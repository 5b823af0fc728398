"""An embedded Bitget spot exchange for tests, demos and benchmarks.

It speaks the v2 REST protocol (classic accounts) and the v3 one (unified trading accounts)
over real HTTP, holds normal, TP/SL and plan orders, verifies signatures with its own HMAC
(and, with the ``[rsa]`` extra, RSA) code, enforces the per-account sliding-window rate limits
with a penalty after a 429, and injects seeded faults.
"""

from ._auth import SimKey
from ._book import FUTURES_TPSL, NORMAL, ORDER_KINDS, PLAN, TPSL, SimKind, SimOrder
from ._faults import (
    ALL_FAULT_KINDS,
    DROP_AFTER_CANCEL,
    DUPLICATE_ITEMS,
    DUPLICATE_ROWS,
    HARSH_FAULT_KINDS,
    HOSTILE_FAULT_KINDS,
    HTML_5XX,
    HTML_CHALLENGE,
    LATE_ARRIVAL,
    MISSING_ITEMS,
    NULL_DATA,
    ORDER_TRANSIENT,
    OTHER_ID_SUCCESS,
    SHORT_PAGE_CURSOR,
    SLOW_AFTER_CANCEL,
    SPURIOUS_429,
    STRATEGY_IGNORES_CATEGORY,
    STUCK_CURSOR,
    SYMBOL_CANCEL_NOOP,
    TRUNCATED_JSON,
    UNKNOWN_ITEM_FIELDS,
    V2_NAMES_ON_V3,
    Faults,
)
from ._pipeline import SimAccount
from ._server import SimBindError, SimExchange
from ._stats import EndpointStats, SimStats

__all__ = [
    "ALL_FAULT_KINDS",
    "DROP_AFTER_CANCEL",
    "DUPLICATE_ITEMS",
    "DUPLICATE_ROWS",
    "FUTURES_TPSL",
    "HARSH_FAULT_KINDS",
    "HOSTILE_FAULT_KINDS",
    "HTML_5XX",
    "HTML_CHALLENGE",
    "LATE_ARRIVAL",
    "MISSING_ITEMS",
    "NORMAL",
    "NULL_DATA",
    "ORDER_KINDS",
    "ORDER_TRANSIENT",
    "OTHER_ID_SUCCESS",
    "PLAN",
    "SHORT_PAGE_CURSOR",
    "SLOW_AFTER_CANCEL",
    "SPURIOUS_429",
    "STRATEGY_IGNORES_CATEGORY",
    "STUCK_CURSOR",
    "SYMBOL_CANCEL_NOOP",
    "TPSL",
    "TRUNCATED_JSON",
    "UNKNOWN_ITEM_FIELDS",
    "V2_NAMES_ON_V3",
    "EndpointStats",
    "Faults",
    "SimAccount",
    "SimBindError",
    "SimExchange",
    "SimKey",
    "SimKind",
    "SimOrder",
    "SimStats",
]
