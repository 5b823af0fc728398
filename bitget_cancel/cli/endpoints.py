"""The cancel endpoint of each kind of order, per account type: Bitget's documented facts that
the dry run and the demo reckon with (the engine keeps its own, privately)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CancelEndpoint:
    name: str
    path: str
    rate: int  # requests per sliding second, per account
    per_request: int  # orders one request can name


# TP/SL and plan orders go one a request; a unified account cancels both with one strategy
# endpoint (one budget).
CANCEL_ENDPOINTS: dict[str, dict[str, CancelEndpoint]] = {
    "classic": {
        "normal": CancelEndpoint("batch-cancel-order", "/api/v2/spot/trade/batch-cancel-order",
                                 10, 50),
        "tpsl": CancelEndpoint("cancel-order", "/api/v2/spot/trade/cancel-order", 10, 1),
        "plan": CancelEndpoint("cancel-plan-order", "/api/v2/spot/trade/cancel-plan-order", 20, 1),
    },
    "uta": {
        "normal": CancelEndpoint("cancel-batch", "/api/v3/trade/cancel-batch", 5, 20),
        "tpsl": CancelEndpoint("cancel-strategy-order", "/api/v3/trade/cancel-strategy-order",
                               10, 1),
        "plan": CancelEndpoint("cancel-strategy-order", "/api/v3/trade/cancel-strategy-order",
                               10, 1),
    },
}  # fmt: skip


def endpoints_of(account: str) -> dict[str, CancelEndpoint]:
    """The endpoints of ``account``; "auto" reckons as a classic account (the engine's start)."""
    return CANCEL_ENDPOINTS["uta" if account == "uta" else "classic"]
