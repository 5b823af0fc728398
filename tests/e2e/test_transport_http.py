"""The aiohttp transport over real sockets."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bitget_cancel._exceptions import TransportError
from bitget_cancel._transport import AiohttpTransport, HttpRequest


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
