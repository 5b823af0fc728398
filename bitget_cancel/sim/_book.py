"""The simulated account's orders: placement, lookup, cancellation, newest-first paging.

An order has a kind: ``normal`` (limit orders), ``tpsl`` (take-profit / stop-loss) or ``plan``
(trigger orders). Each kind is indexed on its own, because each is listed and cancelled by its
own endpoints.
"""

from __future__ import annotations

import random
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

LIVE = "live"
CANCELLED = "cancelled"

NORMAL: Final = "normal"
TPSL: Final = "tpsl"
PLAN: Final = "plan"
ORDER_KINDS: tuple[str, ...] = (NORMAL, TPSL, PLAN)
# A TP/SL order of the same (unified) account's USDT-futures line: no spot endpoint lists it,
# but cancel-strategy-order (which takes no category) cancels it by id. A spot cancel that
# touches one touched what it was never asked to.
FUTURES_TPSL: Final = "futures_tpsl"
# The kinds the simulator's public methods take, spelt out for a type checker.
SimKind = Literal["normal", "tpsl", "plan", "futures_tpsl"]
BOOK_KINDS: tuple[str, ...] = (*ORDER_KINDS, FUTURES_TPSL)

FIRST_ORDER_ID = 1_200_000_000_000_000_000

_SYMBOL = re.compile(r"[A-Z0-9]{2,30}")


@dataclass(slots=True, eq=False)
class SimOrder:
    """One order of the simulated account.

    ``status`` is ``"live"`` or ``"cancelled"``; ``kind`` is ``"normal"``, ``"tpsl"`` or
    ``"plan"``; ``trigger_price`` is set for TP/SL and plan orders.
    """

    symbol: str
    order_id: str
    client_oid: str | None
    side: str
    price: str
    size: str
    c_time: int
    u_time: int
    status: str = LIVE
    kind: str = NORMAL
    trigger_price: str | None = None

    @property
    def is_open(self) -> bool:
        """True while the order can still be cancelled."""
        return self.status == LIVE


def check_kind(kind: str) -> str:
    """``kind`` if it names an order kind, else ValueError."""
    if kind not in BOOK_KINDS:
        raise ValueError(f"kind must be one of {BOOK_KINDS!r}, got {kind!r}")
    return kind


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


_EMPTY = _OpenIndex()


class OrderBook:
    """All orders ever placed, with indexes of the open ones for cheap newest-first paging.

    ``cap`` (None: no cap) bounds the open normal orders, as a unified trading account's is.
    """

    def __init__(self, rng: random.Random, clock_ms: Callable[[], int]) -> None:
        self._rng = rng
        self._clock_ms = clock_ms
        self._next_id = FIRST_ORDER_ID
        self._by_id: dict[str, SimOrder] = {}
        self._by_client_oid: dict[str, SimOrder] = {}
        self._open_all: dict[str, _OpenIndex] = {kind: _OpenIndex() for kind in BOOK_KINDS}
        self._open_by_symbol: dict[tuple[str, str], _OpenIndex] = {}
        self._open_count: Counter[str] = Counter()
        self._prefix_next: dict[str, int] = {}
        self.symbols: set[str] = set()
        self.cap: int | None = None

    def _check_cap(self, kind: str, n: int) -> None:
        cap = self.cap
        if cap is not None and kind == NORMAL and self._open_count[NORMAL] + n > cap:
            raise ValueError(
                f"a unified trading account holds at most {cap} open spot orders "
                f"({self._open_count[NORMAL]} open, {n} more asked); "
                "SimExchange(uta_order_cap=None) lifts the cap"
            )

    def place(
        self,
        symbol: str,
        client_oid: str | None = None,
        *,
        side: str | None = None,
        price: str | None = None,
        size: str | None = None,
        kind: str = NORMAL,
        trigger_price: str | None = None,
    ) -> SimOrder:
        if not _SYMBOL.fullmatch(symbol):
            raise ValueError(f"symbol must look like 'BTCUSDT', got {symbol!r}")
        check_kind(kind)
        if client_oid is not None:
            if not client_oid:
                raise ValueError("client_oid must be None or a non-empty string")
            if client_oid in self._by_client_oid:
                raise ValueError(f"duplicate clientOrderId {client_oid!r}")
        self._check_cap(kind, 1)
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
        if trigger_price is None and kind != NORMAL:
            trigger_price = f"{rng.uniform(1000.0, 2000.0):.2f}"
        now = self._clock_ms()
        order = SimOrder(
            symbol, str(key), client_oid, side, price, size, now, now, LIVE, kind, trigger_price
        )
        self._by_id[order.order_id] = order
        if client_oid is not None:
            self._by_client_oid[client_oid] = order
        self._open_all[kind].add(key, order)
        index = self._open_by_symbol.get((kind, symbol))
        if index is None:
            index = self._open_by_symbol[kind, symbol] = _OpenIndex()
        index.add(key, order)
        self._open_count[kind] += 1
        self.symbols.add(symbol)
        return order

    def place_many(
        self, symbol: str, n: int, client_oid_prefix: str | None, kind: str = NORMAL
    ) -> list[SimOrder]:
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n!r}")
        check_kind(kind)
        self._check_cap(kind, n)  # all or nothing
        if client_oid_prefix is None:
            return [self.place(symbol, kind=kind) for _ in range(n)]
        # A per-prefix counter keeps client ids unique when a prefix is reused.
        start = self._prefix_next.get(client_oid_prefix, 0)
        self._prefix_next[client_oid_prefix] = start + n
        return [self.place(symbol, f"{client_oid_prefix}-{start + i}", kind=kind) for i in range(n)]

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
        self._open_all[order.kind].discard()
        self._open_by_symbol[order.kind, order.symbol].discard()
        self._open_count[order.kind] -= 1
        return True

    def count_open(self, kind: str) -> int:
        """How many orders of ``kind`` are open."""
        return self._open_count[kind]

    def _index(self, symbol: str | None, kind: str) -> _OpenIndex:
        if symbol is None:
            return self._open_all[kind]
        return self._open_by_symbol.get((kind, symbol), _EMPTY)

    def open_orders(self, symbol: str | None = None, kind: str | None = None) -> list[SimOrder]:
        """Open orders (every kind when ``kind`` is None), oldest first."""
        if kind is not None:
            return self._index(symbol, check_kind(kind)).open_orders()
        merged = [o for k in BOOK_KINDS for o in self._index(symbol, k).open_orders()]
        merged.sort(key=lambda order: int(order.order_id))
        return merged

    def page(
        self,
        symbol: str | None,
        limit: int,
        id_less_than: int | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        kind: str = NORMAL,
    ) -> list[SimOrder]:
        """Up to ``limit`` open orders, newest (largest id) first, ids below ``id_less_than``."""
        return self._index(symbol, kind).page(limit, id_less_than, start_ms, end_ms)
