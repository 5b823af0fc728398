"""What the in-process fake exchanges share: the book of open orders, the envelope, counters."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport


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
            return await self._handle(request)
        finally:
            self.in_flight -= 1

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError
