"""The simulated account's orders: placement, lookup, cancellation, newest-first paging."""

from __future__ import annotations

import random
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

LIVE = "live"
CANCELLED = "cancelled"

FIRST_ORDER_ID = 1_200_000_000_000_000_000

_SYMBOL = re.compile(r"[A-Z0-9]{2,30}")


@dataclass(slots=True, eq=False)
class SimOrder:
    """One order of the simulated account. ``status`` is ``"live"`` or ``"cancelled"``."""

    symbol: str
    order_id: str
    client_oid: str | None
    side: str
    price: str
    size: str
    c_time: int
    u_time: int
    status: str = LIVE

    @property
    def is_open(self) -> bool:
        """True while the order can still be cancelled."""
        return self.status == LIVE


class _OpenIndex:
    """Orders in id order with lazy removal: cancelling is O(1) amortised, paging bisects.

    Ids are handed out increasing, so appending keeps the index sorted. Cancelled orders stay
    until they outnumber the open ones, then the index is compacted.
    """

    __slots__ = ("_dead", "_keys", "_orders")

    def __init__(self) -> None:
        self._keys: list[int] = []
        self._orders: list[SimOrder] = []
        self._dead = 0

    def add(self, key: int, order: SimOrder) -> None:
        self._keys.append(key)
        self._orders.append(order)

    def discard(self) -> None:
        """Note that one indexed order is no longer open."""
        self._dead += 1
        if self._dead > 64 and 2 * self._dead > len(self._keys):
            self._orders = [order for order in self._orders if order.status == LIVE]
            self._keys = [int(order.order_id) for order in self._orders]
            self._dead = 0

    def open_orders(self) -> list[SimOrder]:
        return [order for order in self._orders if order.status == LIVE]

    def page(
        self, limit: int, below: int | None, start_ms: int | None, end_ms: int | None
    ) -> list[SimOrder]:
        orders = self._orders
        index = len(orders) if below is None else bisect_left(self._keys, below)
        out: list[SimOrder] = []
        while index > 0 and len(out) < limit:
            index -= 1
            order = orders[index]
            if order.status != LIVE:
                continue
            if start_ms is not None and order.c_time < start_ms:
                continue
            if end_ms is not None and order.c_time > end_ms:
                continue
            out.append(order)
        return out


class OrderBook:
    """All orders ever placed, with indexes of the open ones for cheap newest-first paging."""

    def __init__(self, rng: random.Random, clock_ms: Callable[[], int]) -> None:
        self._rng = rng
        self._clock_ms = clock_ms
        self._next_id = FIRST_ORDER_ID
        self._by_id: dict[str, SimOrder] = {}
        self._by_client_oid: dict[str, SimOrder] = {}
        self._open_all = _OpenIndex()
        self._open_by_symbol: dict[str, _OpenIndex] = {}
        self._prefix_next: dict[str, int] = {}
        self.symbols: set[str] = set()

    def place(
        self,
        symbol: str,
        client_oid: str | None = None,
        *,
        side: str | None = None,
        price: str | None = None,
        size: str | None = None,
    ) -> SimOrder:
        if not _SYMBOL.fullmatch(symbol):
            raise ValueError(f"symbol must look like 'BTCUSDT', got {symbol!r}")
        if client_oid is not None:
            if not client_oid:
                raise ValueError("client_oid must be None or a non-empty string")
            if client_oid in self._by_client_oid:
                raise ValueError(f"duplicate clientOrderId {client_oid!r}")
        rng = self._rng
        # Real ids grow with gaps; gaps make idLessThan paging bugs visible.
        self._next_id += rng.randint(1, 4096)
        key = self._next_id
        if side is None:
            side = rng.choice(("buy", "sell"))
        if price is None:
            price = f"{rng.uniform(1000.0, 2000.0):.2f}"
        if size is None:
            size = f"{rng.uniform(0.001, 0.5):.4f}"
        now = self._clock_ms()
        order = SimOrder(symbol, str(key), client_oid, side, price, size, now, now)
        self._by_id[order.order_id] = order
        if client_oid is not None:
            self._by_client_oid[client_oid] = order
        self._open_all.add(key, order)
        index = self._open_by_symbol.get(symbol)
        if index is None:
            index = self._open_by_symbol[symbol] = _OpenIndex()
        index.add(key, order)
        self.symbols.add(symbol)
        return order

    def place_many(self, symbol: str, n: int, client_oid_prefix: str | None) -> list[SimOrder]:
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n!r}")
        if client_oid_prefix is None:
            return [self.place(symbol) for _ in range(n)]
        # A per-prefix counter keeps client ids unique when a prefix is reused.
        start = self._prefix_next.get(client_oid_prefix, 0)
        self._prefix_next[client_oid_prefix] = start + n
        return [self.place(symbol, f"{client_oid_prefix}-{start + i}") for i in range(n)]

    def by_id(self, order_id: str) -> SimOrder | None:
        return self._by_id.get(order_id)

    def by_client_oid(self, client_oid: str) -> SimOrder | None:
        return self._by_client_oid.get(client_oid)

    def cancel(self, order: SimOrder) -> bool:
        """Cancel ``order``; False if it was not open."""
        if order.status != LIVE:
            return False
        order.status = CANCELLED
        order.u_time = self._clock_ms()
        self._open_all.discard()
        self._open_by_symbol[order.symbol].discard()
        return True

    def _index(self, symbol: str | None) -> _OpenIndex:
        if symbol is None:
            return self._open_all
        return self._open_by_symbol.get(symbol) or _OpenIndex()

    def open_orders(self, symbol: str | None = None) -> list[SimOrder]:
        """Open orders, oldest first."""
        return self._index(symbol).open_orders()

    def page(
        self,
        symbol: str | None,
        limit: int,
        id_less_than: int | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[SimOrder]:
        """Up to ``limit`` open orders, newest (largest id) first, ids below ``id_less_than``."""
        return self._index(symbol).page(limit, id_less_than, start_ms, end_ms)
