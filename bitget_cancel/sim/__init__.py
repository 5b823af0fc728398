"""An embedded Bitget spot exchange for tests, demos and benchmarks.

It speaks the v2 REST protocol over real HTTP, verifies signatures with its own HMAC code,
enforces the per-endpoint sliding-window rate limits and injects seeded faults.
"""

from ._book import SimOrder
from ._faults import (
    ALL_FAULT_KINDS,
    DROP_AFTER_CANCEL,
    HTML_5XX,
    ORDER_TRANSIENT,
    SLOW_AFTER_CANCEL,
    SPURIOUS_429,
    TRUNCATED_JSON,
    Faults,
)
from ._server import SimExchange
from ._stats import SimStats

__all__ = [
    "ALL_FAULT_KINDS",
    "DROP_AFTER_CANCEL",
    "HTML_5XX",
    "ORDER_TRANSIENT",
    "SLOW_AFTER_CANCEL",
    "SPURIOUS_429",
    "TRUNCATED_JSON",
    "Faults",
    "SimExchange",
    "SimOrder",
    "SimStats",
]
