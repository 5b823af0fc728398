"""``cancel --dry-run``: what the planner would send, summed up per symbol; nothing is sent.

Normal orders go in batches (``plan_batches``, as ``cancel()`` plans them); TP/SL and plan
orders one a request, each kind on its own endpoint and budget, concurrently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bitget_cancel import Batch, CancelTarget, Mode, plan_batches

from .endpoints import CancelEndpoint, endpoints_of


@dataclass(frozen=True, slots=True)
class SymbolPlan:
    symbol: str
    orders: int
    requests: int  # requests that carry only its orders
    packed: int = 0  # requests packed across symbols that carry some of its orders (shared)


@dataclass(frozen=True, slots=True)
class DryPlan:
    """What a cancel of the targets would send."""

    given: int  # targets, duplicates included
    mode: str
    account: str  # "classic", "uta", or "auto" (reckoned as classic)
    batches: list[Batch[CancelTarget]]  # the normal orders' requests
    singles: dict[str, list[CancelTarget]]  # TP/SL and plan orders: one request each

    @property
    def orders(self) -> int:
        return sum(len(b) for b in self.batches) + sum(map(len, self.singles.values()))

    @property
    def requests(self) -> int:
        return len(self.batches) + sum(map(len, self.singles.values()))

    def by_kind(self) -> dict[str, tuple[int, int, CancelEndpoint]]:
        """kind -> (orders, requests, endpoint), for the kinds with orders."""
        endpoints = endpoints_of(self.account)
        kinds: dict[str, tuple[int, int, CancelEndpoint]] = {}
        if self.batches:
            orders = sum(len(batch) for batch in self.batches)
            kinds["normal"] = (orders, len(self.batches), endpoints["normal"])
        for kind, targets in self.singles.items():
            kinds[kind] = (len(targets), len(targets), endpoints[kind])
        return kinds

    def lanes(self) -> dict[str, tuple[int, int]]:
        """endpoint -> (requests, rate): each endpoint has its own budget."""
        lanes: dict[str, tuple[int, int]] = {}
        for _, requests, endpoint in self.by_kind().values():
            before = lanes.get(endpoint.name, (0, endpoint.rate))[0]
            lanes[endpoint.name] = (before + requests, endpoint.rate)
        return lanes


def make_plan(targets: list[CancelTarget], mode: Mode, account: str) -> DryPlan:
    normal = [t for t in targets if t.kind.value == "normal"]
    singles: dict[str, list[CancelTarget]] = {}
    seen: set[tuple[str, str, bool, str]] = set()
    for target in targets:
        kind = target.kind.value
        key = (kind, target.symbol, target.by_order_id, target.wire_id)
        if kind != "normal" and key not in seen:
            seen.add(key)
            singles.setdefault(kind, []).append(target)
    size = endpoints_of(account)["normal"].per_request
    return DryPlan(len(targets), mode, account, plan_batches(normal, mode, size), singles)


def packed_requests(plan: DryPlan) -> int:
    """Requests that carry orders of several symbols (each counted once, under no symbol)."""
    return sum(1 for batch in plan.batches if len({t.symbol for t in batch.targets}) > 1)


def plan_by_symbol(plan: DryPlan) -> list[SymbolPlan]:
    """Orders and requests per symbol, most orders first. A request packed across symbols is
    no symbol's own (``packed`` says which symbols it carries): the requests of the rows and
    ``packed_requests`` add up to the plan's."""
    orders: dict[str, int] = {}
    requests: dict[str, int] = {}
    packed: dict[str, int] = {}
    for batch in plan.batches:
        in_batch: dict[str, int] = {}
        for target in batch.targets:
            in_batch[target.symbol] = in_batch.get(target.symbol, 0) + 1
        shared = len(in_batch) > 1
        for symbol, count in in_batch.items():
            orders[symbol] = orders.get(symbol, 0) + count
            requests.setdefault(symbol, 0)
            if shared:
                packed[symbol] = packed.get(symbol, 0) + 1
            else:
                requests[symbol] += 1
    for targets in plan.singles.values():
        for target in targets:
            orders[target.symbol] = orders.get(target.symbol, 0) + 1
            requests[target.symbol] = requests.get(target.symbol, 0) + 1
    plans = [
        SymbolPlan(symbol, count, requests[symbol], packed.get(symbol, 0))
        for symbol, count in orders.items()
    ]
    plans.sort(key=lambda p: (-p.orders, p.symbol))
    return plans


def plan_payload(plan: DryPlan) -> dict[str, Any]:
    """The plan as JSON: totals, per kind, per symbol, and each request (mode, id kind,
    orders); TP/SL and plan orders are one request each, so they are counted, not listed."""
    return {
        "dryRun": True,
        "mode": plan.mode,
        "account": plan.account,
        "targets": plan.given,
        "orders": plan.orders,
        "requests": plan.requests,
        "byKind": {
            kind: {
                "orders": orders,
                "requests": requests,
                "endpoint": endpoint.name,
                "ratePerSecond": endpoint.rate,
            }
            for kind, (orders, requests, endpoint) in plan.by_kind().items()
        },
        "symbols": [
            {
                "symbol": p.symbol,
                "orders": p.orders,
                "requests": p.requests,
                "inPackedRequests": p.packed,
            }
            for p in plan_by_symbol(plan)
        ],
        "packedRequests": packed_requests(plan),
        "batches": [
            {
                "batchMode": batch.batch_mode,
                "symbol": batch.symbol,
                "byOrderId": batch.by_order_id,
                "orders": len(batch),
            }
            for batch in plan.batches
        ],
    }
