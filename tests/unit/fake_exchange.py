"""An in-process exchange behind MockTransport, for engine unit tests on virtual time.

It keeps a book of open orders, answers batch-cancel-order and public/time like the exchange,
records when each request arrived (loop time), and can be scripted per request: ``script(n,
body)`` returns the behaviour of the n-th batch-cancel request (0-based).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bitget_cancel._exceptions import RequestTimeout, TransportError
from bitget_cancel._transport import HttpRequest, HttpResponse

from .exchange_book import ExchangeBook, envelope

OK = "ok"
HTML_502 = "html_502"
THROTTLE = "429"
TIMEOUT_AFTER = "timeout_after_cancel"  # performs the cancels, then the client times out
GARBAGE_AFTER = "garbage_after_cancel"  # performs the cancels, then answers a cut JSON body
DROP_BEFORE = "drop_before"  # the connection fails before the exchange sees anything
HANG = "hang"  # never answers (the client's timeout must fire)

Script = Callable[[int, dict[str, Any]], str]


@dataclass
class FakeExchange(ExchangeBook):
    jitter: Callable[[], float] | None = None  # if set, each request's latency instead
    script: Script | None = None
    order_transient: Callable[[str], bool] = lambda order_id: False

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        loop = asyncio.get_running_loop()
        if request.path == "/api/v2/public/time":
            self.time_requests += 1
            await asyncio.sleep(self.latency)
            now_ms = int((self.wall_clock() + self.server_time_offset) * 1000)
            return HttpResponse(200, envelope({"serverTime": str(now_ms)}))
        assert request.path == "/api/v2/spot/trade/batch-cancel-order", request.path
        body: dict[str, Any] = json.loads(request.body)
        index = len(self.bodies)
        self.bodies.append(body)
        behaviour = self.script(index, body) if self.script else OK
        if behaviour == DROP_BEFORE:
            raise TransportError("ClientConnectorError: connection refused")
        latency = self.jitter() if self.jitter else self.latency
        await asyncio.sleep(latency / 2)
        self.arrivals.append(loop.time())
        if behaviour == HANG:
            await asyncio.sleep(3600)
        timestamp = int(request.headers["ACCESS-TIMESTAMP"]) / 1000
        skew = timestamp - (self.wall_clock() + self.server_time_offset)
        if abs(skew) > 30:
            await asyncio.sleep(latency / 2)
            return HttpResponse(400, envelope(None, "40008", "Request timestamp expired"))
        if behaviour == HTML_502:
            await asyncio.sleep(latency / 2)
            return HttpResponse(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>")
        if behaviour == THROTTLE:
            await asyncio.sleep(latency / 2)
            return HttpResponse(429, envelope(None, "429", "Too Many Requests"))
        if behaviour.startswith("code:"):
            code = behaviour.split(":", 1)[1]
            await asyncio.sleep(latency / 2)
            return HttpResponse(400, envelope(None, code, f"error {code}"))
        data = self._cancel(body)
        await asyncio.sleep(latency / 2)
        if behaviour == TIMEOUT_AFTER:
            raise RequestTimeout("no complete answer within 5s")
        answer = envelope(data)
        if behaviour == GARBAGE_AFTER:
            return HttpResponse(200, answer[: len(answer) // 2])
        return HttpResponse(200, answer)

    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        single = body.get("batchMode", "single") == "single"
        success, failure = [], []
        for order in body["orderList"]:
            symbol = body["symbol"] if single else order["symbol"]
            order_id = order.get("orderId")
            client_oid = order.get("clientOid")
            if order_id is None:
                order_id = self.client_oids.get((symbol, client_oid))
            key = (symbol, order_id or "")
            if order_id is not None and self.order_transient(order_id) and key in self.open_orders:
                failure.append(
                    {"orderId": order_id, "clientOid": client_oid, "errorCode": "40725",
                     "errorMsg": "service return an error"}
                )  # fmt: skip
            elif key in self.open_orders:
                oid = self.close(key)
                success.append({"orderId": order_id, "clientOid": oid})
            else:
                failure.append(
                    {"orderId": order.get("orderId"), "clientOid": client_oid,
                     "errorCode": "43001", "errorMsg": "The order does not exist"}
                )  # fmt: skip
        return {"successList": success[::-1], "failureList": failure}
