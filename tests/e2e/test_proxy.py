"""Proxies, over real sockets: an explicit ``proxy=``, ``trust_env`` (HTTP_PROXY), proxy
credentials; every request goes through the proxy to the simulator, and no proxy password
shows up in an error."""

from __future__ import annotations

import asyncio
import base64
import traceback

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel._exceptions import TransportError
from bitget_cancel._transport import AiohttpTransport, HttpRequest
from bitget_cancel.sim import SimExchange
from tests.e2e.forward_proxy import ForwardProxy

TIME_PATH = "/api/v2/public/time"
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                   "all_proxy", "NO_PROXY", "no_proxy")  # fmt: skip


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


def targets(sim: SimExchange, n: int) -> list[CancelTarget]:
    orders = [*sim.place_orders("BTCUSDT", n // 2, "b"), *sim.place_orders("ETHUSDT", n - n // 2)]
    return [CancelTarget(symbol=o.symbol, order_id=o.order_id) for o in orders]


def sim_requests(sim: SimExchange) -> int:
    return sum(sim.stats.requests.values())


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


async def test_every_request_goes_through_the_proxy_to_the_sim(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    async with SimExchange() as sim, ForwardProxy() as proxy:
        wanted = targets(sim, 120)
        transport = AiohttpTransport(sim.base_url, proxy=proxy.url)
        async with CancelEngine(creds(sim), transport=transport) as engine:
            await engine.warm_up(3)  # unsigned GETs of the server time
            report = await engine.cancel(wanted)
        assert {o.status for o in report.outcomes} == {CancelStatus.CANCELLED}
        assert sim.open_orders() == []
        assert len(proxy.passed) == sim_requests(sim) >= 6  # 3 clock reads + 3 batches
        assert {p.url.partition("/api/")[0] for p in proxy.passed} == {sim.base_url}
        assert [p.method for p in proxy.passed].count("POST") == sim.stats.requests[
            "/api/v2/spot/trade/batch-cancel-order"
        ]


async def test_the_query_string_reaches_the_sim_through_the_proxy_as_signed(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    async with SimExchange() as sim, ForwardProxy() as proxy:
        sim.place_orders("BTCUSDT", 3)
        transport = AiohttpTransport(sim.base_url, proxy=proxy.url)
        async with CancelEngine(creds(sim), transport=transport) as engine:
            report = await engine.panic_cancel(["BTCUSDT"], use_symbol_cancel=False, deadline=30)
        assert report.all_closed
        assert sim.open_orders() == []
        listed = [p.url for p in proxy.passed if "unfilled-orders?" in p.url]
        assert listed  # signed GETs with a query went through the proxy and were accepted
        assert sim.stats.total_violations == 0


async def test_proxy_credentials_from_the_url_are_sent_to_the_proxy(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    async with SimExchange() as sim, ForwardProxy(user="trader", password="p@ss:w0rd") as proxy:
        request = HttpRequest("GET", TIME_PATH, "", b"", {}, 5.0)
        without = AiohttpTransport(sim.base_url, proxy=proxy.url)
        with_auth = AiohttpTransport(
            sim.base_url, proxy=proxy.url.replace("://", "://trader:p%40ss%3Aw0rd@")
        )
        try:
            assert (await without.send(request)).status == 407
            assert (await with_auth.send(request)).status == 200
        finally:
            await without.close()
            await with_auth.close()
        assert proxy.refused == 1
        assert len(proxy.passed) == 1 == sim_requests(sim)
        expected = "Basic " + base64.b64encode(b"trader:p@ss:w0rd").decode()
        assert proxy.passed[0].headers["Proxy-Authorization"] == expected


async def test_trust_env_takes_the_proxy_from_http_proxy(no_proxy_env: pytest.MonkeyPatch) -> None:
    async with SimExchange() as sim, ForwardProxy() as proxy:
        no_proxy_env.setenv("HTTP_PROXY", proxy.url)
        request = HttpRequest("GET", TIME_PATH, "", b"", {}, 5.0)
        trusting = AiohttpTransport(sim.base_url, trust_env=True)
        default = AiohttpTransport(sim.base_url)
        try:
            assert (await trusting.send(request)).status == 200
            assert (len(proxy.passed), sim_requests(sim)) == (1, 1)
            assert (await default.send(request)).status == 200  # straight to the sim
            assert (len(proxy.passed), sim_requests(sim)) == (1, 2)
        finally:
            await trusting.close()
            await default.close()


async def test_an_explicit_proxy_wins_over_the_environment(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    async with SimExchange() as sim, ForwardProxy() as env_proxy, ForwardProxy() as explicit:
        no_proxy_env.setenv("HTTP_PROXY", env_proxy.url)
        transport = AiohttpTransport(sim.base_url, proxy=explicit.url, trust_env=True)
        try:
            await transport.send(HttpRequest("GET", TIME_PATH, "", b"", {}, 5.0))
        finally:
            await transport.close()
        assert (len(explicit.passed), len(env_proxy.passed), sim_requests(sim)) == (1, 0, 1)


def shown(error: BaseException) -> str:
    """Everything a user or a log could print of an exception, its causes included."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for linked in (error.__cause__, error.__context__):
        if linked is not None:
            texts += [str(linked), repr(linked), repr(getattr(linked, "args", ()))]
    return "\n".join(texts)


@pytest.mark.parametrize("target", ["http", "https"])
async def test_an_unreachable_proxy_never_shows_its_password(
    target: str, no_proxy_env: pytest.MonkeyPatch
) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()  # nothing listens on this port now
    transport = AiohttpTransport(
        f"{target}://127.0.0.1:9", proxy=f"http://trader:hunter2secret@127.0.0.1:{port}"
    )
    try:
        with pytest.raises(TransportError) as info:
            await transport.send(HttpRequest("GET", TIME_PATH, "", b"", {}, 5.0))
    finally:
        await transport.close()
    text = shown(info.value)
    assert "ProxyConnectionError" in text
    assert "hunter2secret" not in text
    assert base64.b64encode(b"trader:hunter2secret").decode() not in text


async def test_a_proxy_refusing_the_tunnel_never_shows_its_password(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    async with ForwardProxy(user="trader", password="other") as proxy:
        transport = AiohttpTransport(
            "https://127.0.0.1:9", proxy=proxy.url.replace("://", "://trader:hunter2secret@")
        )
        try:
            with pytest.raises(TransportError, match="proxy answered 407") as info:
                await transport.send(HttpRequest("GET", TIME_PATH, "", b"", {}, 5.0))
        finally:
            await transport.close()
    assert proxy.refused == 1
    text = shown(info.value)
    assert "hunter2secret" not in text
    assert base64.b64encode(b"trader:hunter2secret").decode() not in text
