"""The exchange's business rules for each endpoint, free of HTTP concerns.

Each handler takes the parsed JSON body (POST) and query (GET) and returns the ``data`` of
a success envelope, or raises :class:`SimError` to refuse the whole request.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from ._book import OrderBook, SimOrder
from ._faults import ORDER_TRANSIENT, TRANSIENT_ORDER_ERRORS
from ._stats import SimStats
from ._wire import SimError, coin_row, split_symbol, symbol_row, unfilled_row

MAX_BATCH = 50
MAX_PAGE = 100
DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")

NOT_EXIST_CODE = "43001"
NOT_EXIST_MSG = "The order does not exist"
# The documented failureList example has no errorCode; answer that way this often.
NO_ERROR_CODE_RATE = 0.3

Body = dict[str, Any]
Query = Mapping[str, str]
Scheduler = Callable[[float, Callable[[], None]], None]

_ABSENT = object()


def _bad_param(violation: str) -> SimError:
    return SimError(400, "40017", "Parameter verification failed", violation)


def _opt_str(value: object) -> str | None:
    """A string field where null and "" both mean absent; other types are a format error."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SimError(400, "40402", "orderId or clientOId format error", "id_format")
    return value


def _opt_int(query: Query, name: str, violation: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise _bad_param(violation)
    return int(raw)


class Venue:
    """Orders plus the rules of the four spot endpoints and the public ones ccxt needs."""

    def __init__(
        self,
        book: OrderBook,
        rng: random.Random,
        stats: SimStats,
        clock_ms: Callable[[], int],
        schedule: Scheduler,
        symbol_cancel_delay_ms: tuple[float, float],
    ) -> None:
        self.book = book
        self.order_transient = 0.0
        self._rng = rng
        self._stats = stats
        self._clock_ms = clock_ms
        self._schedule = schedule
        self._symbol_delay_ms = symbol_cancel_delay_ms

    # -- trade endpoints ----------------------------------------------------------------

    def batch_cancel(self, body: Body, query: Query) -> Any:
        """``POST /api/v2/spot/trade/batch-cancel-order``."""
        order_list = body.get("orderList")
        if not isinstance(order_list, list) or not order_list:
            raise _bad_param("order_list_size")
        if len(order_list) > MAX_BATCH:
            raise SimError(400, "40912", "single cancel cannot exceed 50", "order_list_size")
        mode = body.get("batchMode")
        if mode is None or mode == "":
            mode = "single"
        if mode not in ("single", "multiple"):
            raise _bad_param("batch_mode")
        top_symbol = body.get("symbol")
        if not isinstance(top_symbol, str):
            top_symbol = ""
        if mode == "single" and not top_symbol:
            raise _bad_param("missing_symbol")

        # Validate the whole list before touching any order: a refused request cancels nothing.
        targets: list[tuple[str, str | None, str | None]] = []
        for entry in order_list:
            if not isinstance(entry, dict):
                raise _bad_param("order_item")
            order_id = _opt_str(entry.get("orderId"))
            client_oid = _opt_str(entry.get("clientOid"))
            if order_id is None and client_oid is None:
                raise SimError(400, "40924", "orderId and clientOid must have one", "missing_id")
            if order_id is not None and not (order_id.isascii() and order_id.isdigit()):
                raise SimError(400, "40402", "orderId or clientOId format error", "id_format")
            symbol = top_symbol
            if mode == "multiple":
                own = entry.get("symbol")
                if not (isinstance(own, str) and own):
                    raise _bad_param("missing_symbol")
                symbol = own
            targets.append((symbol, order_id, client_oid))

        any_order_id = any(order_id is not None for _, order_id, _ in targets)
        success: list[dict[str, Any]] = []
        failure: list[dict[str, Any]] = []
        seen: set[int] = set()
        violations = self._stats.violations
        for symbol, order_id, client_oid in targets:
            if any_order_id and order_id is None:
                # Documented: orders identified only by clientOid fail when mixed with orderIds.
                violations["mixed_ids"] += 1
                failure.append(
                    self._failure(
                        order_id, client_oid, "40017", "Parameter verification failed", False
                    )
                )
                continue
            order: SimOrder | None
            if order_id is not None:
                order = self.book.by_id(order_id)
                if order is not None and client_oid is not None and order.client_oid != client_oid:
                    violations["id_mismatch"] += 1
                    order = None
            else:
                assert client_oid is not None
                order = self.book.by_client_oid(client_oid)
            if order is not None:
                if id(order) in seen:
                    violations["duplicate_id"] += 1
                seen.add(id(order))
            if order is None or not order.is_open or order.symbol != symbol:
                failure.append(
                    self._failure(order_id, client_oid, NOT_EXIST_CODE, NOT_EXIST_MSG, True)
                )
                continue
            if self.order_transient and self._rng.random() < self.order_transient:
                self._stats.injected[ORDER_TRANSIENT] += 1
                code, msg = self._rng.choice(TRANSIENT_ORDER_ERRORS)
                failure.append(self._failure(order_id, client_oid, code, msg, False))
                continue
            self.book.cancel(order)
            self._stats.cancelled += 1
            success.append({"orderId": order.order_id, "clientOid": order.client_oid})
        self._rng.shuffle(success)
        self._rng.shuffle(failure)
        return {"successList": success, "failureList": failure}

    def _failure(
        self,
        order_id: str | None,
        client_oid: str | None,
        code: str,
        msg: str,
        code_optional: bool,
    ) -> dict[str, Any]:
        """A failureList item: ids echoed as sent; an id not sent is null, "" or absent."""
        item: dict[str, Any] = {}
        for name, value in (("orderId", order_id), ("clientOid", client_oid)):
            if value is not None:
                item[name] = value
            else:
                missing = self._rng.choice((None, "", _ABSENT))
                if missing is not _ABSENT:
                    item[name] = missing
        item["errorMsg"] = msg
        if not (code_optional and self._rng.random() < NO_ERROR_CODE_RATE):
            item["errorCode"] = code
        return item

    def cancel_symbol(self, body: Body, query: Query) -> Any:
        """``POST /api/v2/spot/trade/cancel-symbol-order``: answers now, cancels later."""
        symbol = body.get("symbol")
        if not (isinstance(symbol, str) and symbol):
            raise _bad_param("missing_symbol")
        # Orders placed after the request are not part of it.
        doomed = self.book.open_orders(symbol)
        low, high = self._symbol_delay_ms
        delay_s = self._rng.uniform(low, high) / 1000.0

        def finish() -> None:
            for order in doomed:
                if self.book.cancel(order):
                    self._stats.cancelled += 1

        self._schedule(delay_s, finish)
        return {"symbol": symbol}

    def unfilled_orders(self, body: Body, query: Query) -> Any:
        """``GET /api/v2/spot/trade/unfilled-orders``: open orders, newest first."""
        symbol = query.get("symbol") or None
        limit = _opt_int(query, "limit", "limit_param")
        if limit is None:
            limit = MAX_PAGE
        elif not 1 <= limit <= MAX_PAGE:
            raise _bad_param("limit_param")
        id_less_than = _opt_int(query, "idLessThan", "id_less_than")
        start_ms = _opt_int(query, "startTime", "time_param")
        end_ms = _opt_int(query, "endTime", "time_param")
        rows = self.book.page(symbol, limit, id_less_than, start_ms, end_ms)
        return [unfilled_row(order) for order in rows]

    # -- public endpoints ---------------------------------------------------------------

    def server_time(self, body: Body, query: Query) -> Any:
        """``GET /api/v2/public/time``."""
        return {"serverTime": str(self._clock_ms())}

    def _listed_symbols(self) -> list[str]:
        return sorted(self.book.symbols.union(DEFAULT_SYMBOLS))

    def symbols(self, body: Body, query: Query) -> Any:
        """``GET /api/v2/spot/public/symbols``: default pairs plus every pair with orders."""
        wanted = query.get("symbol")
        listed = self._listed_symbols()
        if wanted:
            listed = [s for s in listed if s == wanted]
        return [symbol_row(s) for s in listed]

    def coins(self, body: Body, query: Query) -> Any:
        """``GET /api/v2/spot/public/coins``: the coins of the listed pairs."""
        names: set[str] = set()
        for symbol in self._listed_symbols():
            names.update(split_symbol(symbol))
        wanted = query.get("coin")
        ordered = sorted(n for n in names if not wanted or n == wanted)
        return [coin_row(name, index + 1) for index, name in enumerate(ordered)]

    def margin_currencies(self, body: Body, query: Query) -> Any:
        """``GET /api/v2/margin/currencies``: this account trades no margin pairs."""
        return []
