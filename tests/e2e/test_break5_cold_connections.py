"""The early reuse of slots (``_arrival``) on cold connections, against the simulator over real
HTTP: a request that opens its connection goes up slower by the handshake, so a burst of them
must not teach the estimate an up-leg that later requests, on warm connections, beat."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp

from bitget_cancel import CancelEngine, Credentials
from bitget_cancel._transport import AiohttpTransport, HttpRequest

if TYPE_CHECKING:
    from bitget_cancel.sim import SimExchange
    from bitget_cancel.sim.pytest_plugin import SimFactory

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

UNFILLED = "/api/v2/spot/trade/unfilled-orders"
SYMBOLS = [f"S{s}USDT" for s in range(20)]


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


async def test_a_cold_burst_of_listings_never_overfills_the_window(
    sim_factory: SimFactory,
) -> None:
    """20 symbols listed at once on 20 new connections (a 300 ms handshake each, as TLS far
    away): 20 samples, all slowed by a handshake, made the estimate trusted, and the next 20
    pages, on warm connections, arrived while the first 20 were still in the window: 40 in
    one window and 20 429s (a 300 s penalty on the exchange)."""
    sim = await sim_factory(latency_ms=(100.0, 120.0), handshake_ms=300.0, seed=5, penalty_s=0.0)
    for _ in range(300):
        for symbol in SYMBOLS:
            sim.place_order(symbol)
    placed = {o.order_id for o in sim.open_orders()}
    engine = CancelEngine(creds(sim), base_url=sim.base_url, account="classic", early_reuse=True)
    async with engine:
        listed = await engine.open_orders(kinds=["normal"], symbols=SYMBOLS)
    assert listed.complete, listed.problems
    assert {t.order_id for t in listed.orders} == placed
    assert sim.stats.max_in_window[UNFILLED] <= 20
    assert sim.stats.throttled == 0
    assert sim.stats.total_violations == 0, sim.stats.violations


async def test_the_transport_says_when_a_request_left_and_on_which_connection(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory()
    transport = AiohttpTransport(sim.base_url)
    request = HttpRequest("GET", "/api/v2/public/time", "", b"", {}, 5.0)
    try:
        first = await transport.send(request)
        second = await transport.send(request)
    finally:
        await transport.close()
    assert first.status == second.status == 200
    assert (first.fresh, second.fresh) == (True, False)
    assert first.sent is not None
    assert second.sent is not None
    assert first.sent < second.sent


async def test_a_session_handed_in_says_it_too(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    request = HttpRequest("GET", "/api/v2/public/time", "", b"", {}, 5.0)
    async with aiohttp.ClientSession() as own:
        transport = AiohttpTransport(sim.base_url, session=own)
        first = await transport.send(request)
        second = await transport.send(request)
        await transport.close()
        assert not own.closed
    assert (first.fresh, second.fresh) == (True, False)
    assert second.sent is not None
