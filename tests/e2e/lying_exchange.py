"""A tiny Bitget v2 on 127.0.0.1 that can lie: open normal orders in a dict, answered like the
exchange, except on the paths a test hooks (``hooks[path] = handler``)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

BATCH = "/api/v2/spot/trade/batch-cancel-order"
UNFILLED = "/api/v2/spot/trade/unfilled-orders"
PLAN_LIST = "/api/v2/spot/trade/current-plan-order"
TIME = "/api/v2/public/time"

Hook = Callable[[web.Request, dict[str, Any], "Liar"], Awaitable[web.StreamResponse]]


def envelope(data: Any, code: str = "00000", msg: str = "success") -> web.Response:
    return web.Response(
        body=json.dumps({"code": code, "msg": msg, "requestTime": 1, "data": data}).encode(),
        content_type="application/json",
    )


class Liar:
    def __init__(self, open_orders: Mapping[str, tuple[str, str | None]]) -> None:
        self.open = dict(open_orders)  # orderId -> (symbol, clientOid)
        self.hooks: dict[str, Hook] = {}
        self.requests: list[str] = []
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    def cancel_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        success, failure = [], []
        for o in body["orderList"]:
            oid = o.get("orderId")
            if oid in self.open:
                del self.open[oid]
                success.append({"orderId": oid, "clientOid": None})
            else:
                failure.append(
                    {"orderId": oid, "errorCode": "43001", "errorMsg": "The order does not exist"}
                )
        return {"successList": success, "failureList": failure}

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"symbol": s, "orderId": oid, "clientOid": c, "status": "live"}
            for oid, (s, c) in sorted(self.open.items(), reverse=True)
        ]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path)
        raw = await request.read()
        body = json.loads(raw) if raw else {}
        hook = self.hooks.get(request.path)
        if hook is not None:
            return await hook(request, body, self)
        if request.path == BATCH:
            return envelope(self.cancel_batch(body))
        if request.path == UNFILLED:
            if request.query.get("tpslType"):
                return envelope([])
            return envelope(self.rows())
        if request.path == PLAN_LIST:
            return envelope({"nextFlag": False, "idLessThan": None, "orderList": []})
        if request.path == TIME:
            return envelope({"serverTime": str(int(time.time() * 1000))})
        return envelope(None, code="40404", msg="not found")

    async def __aenter__(self) -> Liar:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()
