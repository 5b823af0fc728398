"""What the in-process fake exchanges share: the book of open orders, the envelope, counters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

_PLAN_LIST = "/api/v2/spot/trade/current-plan-order"
_LISTINGS = frozenset({"/api/v2/spot/trade/unfilled-orders", _PLAN_LIST})


def envelope(data: Any, code: str = "00000", msg: str = "success") -> bytes:
    return json.dumps({"code": code, "msg": msg, "requestTime": 1, "data": data}).encode()


@dataclass
class ExchangeBook:
    latency: float = 0.010
    wall_clock: Callable[[], float] = lambda: 1_700_000_000.0
    server_time_offset: float = 0.0  # exchange clock minus the client's wall clock, seconds
    # (symbol, orderId) -> clientOid of every open order
    open_orders: dict[tuple[str, str], str | None] = field(default_factory=dict)
    client_oids: dict[tuple[str, str], str] = field(default_factory=dict)
    arrivals: list[float] = field(default_factory=list)  # loop time of each batch arrival
    bodies: list[dict[str, Any]] = field(default_factory=list)
    time_requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    list_requests: int = 0  # listings (a cancel's confirmation of "does not exist")

    def place(self, symbol: str, order_id: str, client_oid: str | None = None) -> None:
        self.open_orders[(symbol, order_id)] = client_oid
        if client_oid is not None:
            self.client_oids[(symbol, client_oid)] = order_id

    def close(self, key: tuple[str, str]) -> str | None:
        """Take an open order off the book; its clientOid (None if it had none)."""
        symbol = key[0]
        client_oid = self.open_orders.pop(key)
        if client_oid is not None:
            self.client_oids.pop((symbol, client_oid), None)
        return client_oid

    def transport(self) -> MockTransport:
        return MockTransport(self.handle)

    async def handle(self, request: HttpRequest) -> HttpResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if request.path in _LISTINGS:
                self.list_requests += 1
                await asyncio.sleep(self.latency)
                return HttpResponse(200, envelope(self._listing(request)))
            return await self._handle(request)
        finally:
            self.in_flight -= 1

    def _listing(self, request: HttpRequest) -> Any:
        """The account's open orders as the v2 listings show them (this book holds normal
        orders only): what a cancel's confirmation of "does not exist" reads."""
        query = dict(parse_qsl(request.query))
        if request.path == _PLAN_LIST:
            return {"nextFlag": False, "idLessThan": "", "orderList": []}
        if query.get("tpslType") == "tpsl":
            return []
        rows = sorted(self.open_orders.items(), key=lambda item: -int(item[0][1]))
        below = query.get("idLessThan")
        if below is not None:
            rows = [r for r in rows if int(r[0][1]) < int(below)]
        if "symbol" in query:
            rows = [r for r in rows if r[0][0] == query["symbol"]]
        limit = int(query.get("limit", "100"))
        return [
            {"symbol": symbol, "orderId": order_id, "clientOid": client_oid, "status": "live"}
            for (symbol, order_id), client_oid in rows[:limit]
        ]

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError
