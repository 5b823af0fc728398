"""An in-process exchange for the v3 unit tests: a book of spot orders of every kind, the v3
endpoints of a unified trading account, and the account-type answers (a UTA answers v2 trade
endpoints 40085, a classic account answers v3 ones 40084).

It checks each cancel-batch as it arrives against the UTA page's rules (an array of 1..20
items, one category, a symbol and one id per item, no id twice) and records violations instead
of raising. ``script`` holds one behaviour per v3 request (cancel-batch, listings, strategy
cancels alike), consumed in order, then ``OK`` forever.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from bitget_cancel._exceptions import RequestTimeout, TransportError
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

V2_BATCH = "/api/v2/spot/trade/batch-cancel-order"
V2_TIME = "/api/v2/public/time"
V2_UNFILLED = "/api/v2/spot/trade/unfilled-orders"
V3_BATCH = "/api/v3/trade/cancel-batch"
V3_SYMBOL = "/api/v3/trade/cancel-symbol-order"
V3_UNFILLED = "/api/v3/trade/unfilled-orders"
V3_STRATEGY = "/api/v3/trade/unfilled-strategy-orders"
V3_STRATEGY_CANCEL = "/api/v3/trade/cancel-strategy-order"
# The strategy listing's futures categories: cancel-strategy-order reaches their orders too.
FUTURES_CATEGORIES = ("USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES")

UTA_ON_V2 = (
    "40085",
    "You are in Unified Account mode, and the Classic Account API is not supported",
)
CLASSIC_ON_V3 = (
    "40084",
    "You are in Classic Account mode, and the Unified Account API is not supported",
)

# behaviours of one v3 request
OK = "ok"
HTML_502 = "html_502"  # a proxy's page; nothing done
THROTTLE = "429"  # nothing done
TRANSIENT = "transient"  # 40015 for the whole request; nothing done
DROP = "drop"  # connection error before the exchange saw it
TIMEOUT_AFTER = "timeout_after"  # performed, then no answer
GARBAGE_AFTER = "garbage_after"  # performed, then a cut body
NULL_DATA = "null_data"  # performed, then {"code": "00000", "data": null}
ITEM_TRANSIENT = "item_transient"  # cancel-batch: every item 40725 (stays open)
FOREIGN_ITEMS = "foreign_items"  # cancel-batch: ids as numbers, an item for an unsent order,
# one order left out of the answer (it stays open), the others doubled


def envelope(data: Any, code: str = "00000", msg: str = "success") -> bytes:
    return json.dumps({"code": code, "msg": msg, "requestTime": 1, "data": data}).encode()


@dataclass
class Order:
    symbol: str
    order_id: str
    client_oid: str | None
    kind: str  # "normal", "tpsl" or "plan"; or "futures_tpsl" (USDT-FUTURES, not spot)


@dataclass
class UtaExchange:
    account: str = "uta"  # or "classic"
    latency: float = 0.010
    wall_clock: Callable[[], float] = lambda: 1_700_000_000.0
    not_exist_code: str = "25204"
    script: list[str] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)  # open orders by orderId
    requests: Counter[str] = field(default_factory=Counter)  # by path
    arrivals: dict[str, list[float]] = field(default_factory=dict)  # loop times, by path
    bodies: list[Any] = field(default_factory=list)  # every cancel-batch body
    violations: list[str] = field(default_factory=list)
    cancelled: Counter[str] = field(default_factory=Counter)  # orderId -> times cancelled
    _ids: Any = field(default_factory=lambda: itertools.count(1_000_000))
    v3_reads_for_classic: bool = False  # a classic key's v3 GETs answer OK and empty
    v2_reads_refused: bool = False  # v2 GETs answer 40085 whatever the account
    v2_refused: bool = False  # every v2 trade request answers 40085 whatever the account

    # -- the book ------------------------------------------------------------------------

    def place(self, symbol: str, client_oid: str | None = None, kind: str = "normal") -> Order:
        order = Order(symbol, str(next(self._ids)), client_oid, kind)
        self.orders[order.order_id] = order
        return order

    def place_many(
        self, symbol: str, n: int, prefix: str | None = None, kind: str = "normal"
    ) -> list[Order]:
        return [self.place(symbol, f"{prefix}-{i}" if prefix else None, kind) for i in range(n)]

    def open_of(self, kind: str) -> list[Order]:
        return [o for o in self.orders.values() if o.kind == kind]

    def find(
        self, symbol: str | None, order_id: str | None, client_oid: str | None
    ) -> Order | None:
        if order_id is not None:
            order = self.orders.get(order_id)
        else:
            order = next((o for o in self.orders.values() if o.client_oid == client_oid), None)
        if order is None or (symbol is not None and order.symbol != symbol):
            return None
        return order

    def close(self, order: Order) -> None:
        del self.orders[order.order_id]
        self.cancelled[order.order_id] += 1

    def max_in_window(self, path: str, window: float = 1.0) -> int:
        times = sorted(self.arrivals.get(path, []))
        return max((sum(1 for b in times if a <= b < a + window) for a in times), default=0)

    # -- HTTP ----------------------------------------------------------------------------

    def transport(self) -> MockTransport:
        return MockTransport(self.handle)

    async def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        self.requests[path] += 1
        if path == V2_TIME:
            await asyncio.sleep(self.latency)
            return HttpResponse(200, envelope({"serverTime": str(int(self.wall_clock() * 1000))}))
        v3 = path.startswith("/api/v3/")
        step = OK
        if v3 and self.account == "uta":
            step = self.script.pop(0) if self.script else OK
            if step == DROP:
                raise TransportError("ClientConnectorError: connection refused")
        await asyncio.sleep(self.latency / 2)
        self.arrivals.setdefault(path, []).append(asyncio.get_running_loop().time())
        if v3 and self.account == "classic":
            if self.v3_reads_for_classic and request.method == "GET":
                # A lenient exchange: a classic key reads v3 and sees nothing there.
                return await self._answer(200, envelope([] if path == V3_STRATEGY else
                                                        {"list": [], "cursor": ""}))  # fmt: skip
            return await self._answer(400, envelope(None, *CLASSIC_ON_V3))
        if not v3 and self.account == "uta":
            return await self._answer(400, envelope(None, *UTA_ON_V2))
        if path == V2_UNFILLED:
            return await self._answer(*self._v2_unfilled(request))
        if not v3 and self.v2_refused:
            return await self._answer(400, envelope(None, *UTA_ON_V2))
        if not v3:
            return await self._answer(200, self._v2_batch(json.loads(request.body)))
        if step == HTML_502:
            return await self._answer(502, b"<html><body>502 Bad Gateway</body></html>")
        if step == THROTTLE:
            return await self._answer(429, envelope(None, "429", "Too Many Requests"))
        if step == TRANSIENT:
            return await self._answer(400, envelope(None, "40015", "System is abnormal"))
        try:
            data = self._v3(request, step)
        except _Refused as refused:
            return await self._answer(400, envelope(None, refused.code, refused.msg))
        if step == TIMEOUT_AFTER:
            raise RequestTimeout("no answer within 5s")
        if step == NULL_DATA:
            return await self._answer(200, envelope(None))
        answer = envelope(data)
        if step == GARBAGE_AFTER:
            return await self._answer(200, answer[: len(answer) // 2])
        return await self._answer(200, answer)

    async def _answer(self, status: int, body: bytes) -> HttpResponse:
        await asyncio.sleep(self.latency / 2)
        return HttpResponse(status, body)

    def _v2_unfilled(self, request: HttpRequest) -> tuple[int, bytes]:
        if self.account == "uta" or self.v2_reads_refused:
            return 400, envelope(None, *UTA_ON_V2)
        limit = int(dict(parse_qsl(request.query)).get("limit", "100"))
        rows = [self._row(o) for o in reversed(self.open_of("normal"))]
        return 200, envelope(rows[:limit])

    def _v2_batch(self, body: dict[str, Any]) -> bytes:
        success, failure = [], []
        for item in body["orderList"]:
            order = self.find(
                item.get("symbol") or body.get("symbol"), item.get("orderId"), item.get("clientOid")
            )
            if order is None or order.kind != "normal":
                failure.append({**item, "errorCode": "43001", "errorMsg": "does not exist"})
            else:
                self.close(order)
                success.append({"orderId": order.order_id, "clientOid": order.client_oid})
        return envelope({"successList": success, "failureList": failure})

    def _v3(self, request: HttpRequest, step: str) -> Any:
        path = request.path
        if path == V3_BATCH:
            return self._cancel_batch(json.loads(request.body), step)
        if path == V3_UNFILLED:
            return self._unfilled(dict(parse_qsl(request.query)))
        if path == V3_STRATEGY:
            query = dict(parse_qsl(request.query))
            assert set(query) == {"category", "type"}, query
            assert query["type"] == "tpsl", query
            category = query["category"]
            assert category in ("SPOT", *FUTURES_CATEGORIES), query
            if category == "SPOT":
                return [self._row(o) for o in reversed(self.open_of("tpsl"))]
            futures = self.open_of("futures_tpsl") if category == "USDT-FUTURES" else []
            return [self._row(o, category) for o in reversed(futures)]
        if path == V3_STRATEGY_CANCEL:
            body = json.loads(request.body)
            assert set(body) in ({"orderId"}, {"clientOid"}), body
            order = self.find(None, body.get("orderId"), body.get("clientOid"))
            if order is None or order.kind == "normal":
                raise _Refused("25204", "Order does not exist")
            self.close(order)
            return None  # the page's example: data null
        if path == V3_SYMBOL:
            body = json.loads(request.body)
            assert body.get("category") == "SPOT", body
            doomed = [o for o in self.open_of("normal") if o.symbol == body.get("symbol")]
            for order in doomed:
                self.close(order)
            return {"list": [{"orderId": o.order_id, "clientOid": o.client_oid} for o in doomed]}
        raise AssertionError(f"unexpected path {path}")

    def _cancel_batch(self, body: Any, step: str) -> list[dict[str, Any]]:
        index = len(self.bodies)
        self.bodies.append(body)
        self._check(index, body)
        results: list[dict[str, Any]] = []
        skipped: dict[str, Any] | None = None
        for item in body:
            order_id, client_oid = item.get("orderId"), item.get("clientOid")
            order = self.find(item.get("symbol"), order_id, client_oid)
            if step == FOREIGN_ITEMS and skipped is None and order is not None:
                skipped = item  # not acted on, and the answer will not mention it
                continue
            if order is None or order.kind != "normal":
                code = self.not_exist_code
                msg = "Order does not exist" if code == "25204" else "notExisted"
                results.append(
                    {"orderId": order_id, "clientOid": client_oid, "code": code, "msg": msg}
                )
            elif step == ITEM_TRANSIENT:
                results.append({"orderId": order_id, "clientOid": client_oid, "code": "40725",
                                "msg": "service return an error"})  # fmt: skip
            else:
                self.close(order)
                results.append({"orderId": order.order_id, "clientOid": order.client_oid})
        if step == FOREIGN_ITEMS:
            # Ids as numbers, every item twice, and in an orderId batch a success item for an
            # order never sent that carries the clientOid of the one left out.
            results = [_numeric_id(r) for r in results] * 2
            if skipped is not None and "orderId" in skipped:
                left = self.orders[skipped["orderId"]]
                results.append({"orderId": "999999999", "clientOid": left.client_oid})
        return results

    def _check(self, index: int, body: Any) -> None:
        if not isinstance(body, list) or not 1 <= len(body) <= 20:
            self.violations.append(f"#{index}: not an array of 1..20 items")
            return
        if {item.get("category") for item in body} != {"SPOT"}:
            self.violations.append(f"#{index}: category not SPOT in every item")
        for item in body:
            if not item.get("symbol") or ("orderId" in item) == ("clientOid" in item):
                self.violations.append(f"#{index}: an item without symbol or with not one id")
            if "batchMode" in item:
                self.violations.append(f"#{index}: batchMode in an item")
        ids = [item.get("orderId") or item.get("clientOid") for item in body]
        if len(ids) != len(set(ids)):
            self.violations.append(f"#{index}: an id twice")

    def _unfilled(self, query: dict[str, str]) -> dict[str, Any]:
        assert query.get("category") == "SPOT", query
        limit = int(query.get("limit", "100"))
        assert 1 <= limit <= 100, query
        rows = [o for o in reversed(self.open_of("normal"))]  # newest first
        if "symbol" in query:
            rows = [o for o in rows if o.symbol == query["symbol"]]
        if "cursor" in query:
            rows = [o for o in rows if int(o.order_id) < int(query["cursor"])]
        page = rows[:limit]
        return {"list": [self._row(o) for o in page], "cursor": page[-1].order_id if page else ""}

    @staticmethod
    def _row(order: Order, category: str = "SPOT") -> dict[str, Any]:
        return {"orderId": order.order_id, "clientOid": order.client_oid, "category": category,
                "symbol": order.symbol, "orderStatus": "live"}  # fmt: skip


class _Refused(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(code, msg)
        self.code, self.msg = code, msg


def _numeric_id(item: dict[str, Any]) -> dict[str, Any]:
    order_id = item.get("orderId")
    if isinstance(order_id, str) and order_id.isdigit():
        return {**item, "orderId": int(order_id)}
    return item
