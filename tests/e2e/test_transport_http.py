"""The aiohttp transport over real sockets."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bitget_cancel import CancelEngine, CancelTarget, Credentials
from bitget_cancel._exceptions import TransportError
from bitget_cancel._transport import AiohttpTransport, HttpRequest
from bitget_cancel.sim import SimExchange
from tests.e2e.forward_proxy import ForwardProxy


async def test_a_dropped_get_is_not_resent_behind_the_rate_budget() -> None:
    arrivals = 0

    async def drop(request: web.Request) -> web.StreamResponse:
        nonlocal arrivals
        arrivals += 1
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.05)
        return web.Response(text="never delivered")

    app = web.Application()
    app.router.add_get("/api/v2/public/time", drop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    transport = AiohttpTransport(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(TransportError):
            await transport.send(HttpRequest("GET", "/api/v2/public/time", "", b"", {}, 2.0))
        assert arrivals == 1  # aiohttp would have sent it twice
    finally:
        await transport.close()
        await runner.cleanup()


async def test_demo_trading_marks_every_request_sent_signed_or_not() -> None:
    seen: list[tuple[str, str | None]] = []

    async def record(request: web.BaseRequest) -> web.StreamResponse:
        seen.append((request.method, request.headers.get("paptrading")))
        return web.json_response({"code": "00000", "msg": "success", "data": "1700000000000"})

    runner = web.ServerRunner(web.Server(record))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    signed = {"ACCESS-KEY": "k", "ACCESS-SIGN": "s", "Content-Type": "application/json"}
    try:
        for demo in (True, False):
            transport = AiohttpTransport(base_url, demo_trading=demo)
            try:
                await transport.send(HttpRequest("GET", "/api/v2/public/time", "", b"", {}, 2.0))
                await transport.send(HttpRequest("POST", "/p", "", b"{}", signed, 2.0))
                await transport.warm_up("/api/v2/public/time", 2, 2.0)
            finally:
                await transport.close()
    finally:
        await runner.cleanup()
    assert seen == [("GET", "1"), ("POST", "1"), ("GET", "1"), ("GET", "1"),
                    ("GET", None), ("POST", None), ("GET", None), ("GET", None)]  # fmt: skip


async def test_the_engine_on_a_demo_transport_sends_the_header_on_every_request() -> None:
    async with SimExchange() as sim, ForwardProxy() as recorder:
        sim.place_orders("BTCUSDT", 60)
        orders = sim.place_orders("ETHUSDT", 5)
        transport = AiohttpTransport(sim.base_url, proxy=recorder.url, demo_trading=True)
        creds = Credentials(
            api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase
        )
        async with CancelEngine(creds, transport=transport) as engine:
            await engine.warm_up(2)
            report = await engine.cancel(
                [CancelTarget(symbol="ETHUSDT", order_id=o.order_id) for o in orders]
            )
            panic = await engine.panic_cancel(["BTCUSDT"], deadline=30)
        assert report.all_closed
        assert panic.all_closed
        assert sim.open_orders() == []
        kinds = {(p.method, p.url.partition("/api/")[2].partition("?")[0]) for p in recorder.passed}
        assert {("GET", "v2/public/time"), ("POST", "v2/spot/trade/batch-cancel-order"),
                ("GET", "v2/spot/trade/unfilled-orders")} <= kinds  # fmt: skip
        assert len(recorder.passed) == sum(sim.stats.requests.values())
        assert {p.headers.get("paptrading") for p in recorder.passed} == {"1"}
