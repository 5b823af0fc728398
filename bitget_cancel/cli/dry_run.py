"""``cancel --dry-run``: what the planner would send, summed up per symbol; nothing is sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bitget_cancel import Batch, CancelTarget


@dataclass(frozen=True, slots=True)
class SymbolPlan:
    symbol: str
    orders: int
    requests: int  # requests that carry at least one of its orders


def plan_by_symbol(batches: list[Batch[CancelTarget]]) -> list[SymbolPlan]:
    """Orders and requests per symbol, most orders first."""
    orders: dict[str, int] = {}
    requests: dict[str, int] = {}
    for batch in batches:
        in_batch: dict[str, int] = {}
        for target in batch.targets:
            in_batch[target.symbol] = in_batch.get(target.symbol, 0) + 1
        for symbol, count in in_batch.items():
            orders[symbol] = orders.get(symbol, 0) + count
            requests[symbol] = requests.get(symbol, 0) + 1
    plans = [SymbolPlan(symbol, count, requests[symbol]) for symbol, count in orders.items()]
    plans.sort(key=lambda plan: (-plan.orders, plan.symbol))
    return plans


def plan_payload(batches: list[Batch[CancelTarget]], given: int, mode: str) -> dict[str, Any]:
    """The plan as JSON: totals, per symbol, and each request (mode, id kind, orders)."""
    return {
        "dryRun": True,
        "mode": mode,
        "targets": given,
        "orders": sum(len(batch) for batch in batches),
        "requests": len(batches),
        "symbols": [
            {"symbol": p.symbol, "orders": p.orders, "requests": p.requests}
            for p in plan_by_symbol(batches)
        ],
        "batches": [
            {
                "batchMode": batch.batch_mode,
                "symbol": batch.symbol,
                "byOrderId": batch.by_order_id,
                "orders": len(batch),
            }
            for batch in batches
        ],
    }
