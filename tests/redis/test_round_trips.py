"""A burst costs one Redis round trip, and the others count a newcomer in one of theirs;
counted by Redis itself (``MONITOR``), against a real redis-server."""

from __future__ import annotations

import asyncio

from bitget_cancel import CancelEngine, CancelTarget, Credentials
from bitget_cancel import _redis_lua as lua
from bitget_cancel._redis_budget import _TAKE
from bitget_cancel.sim import SimExchange

from .helpers import Monitor, client, known, providers
from .server import RedisServer

ACCOUNT = "account-rt"


async def load_scripts(url: str) -> None:
    """As on a store that has served for a while: Redis knows the scripts already."""
    async with client(url) as redis:
        for body in (lua.TAKE, lua.RELEASE, lua.GIVE_BACK, lua.SEED, lua.PRESENCE):
            await redis.script_load(body)


async def test_ten_waiters_cost_one_take(redis_server: RedisServer) -> None:
    await load_scripts(redis_server.url)
    async with providers(redis_server.url, 1, known_accounts=(ACCOUNT,)) as (p,):
        budget = p.budget(ACCOUNT, "batch-cancel", 10)
        async with Monitor(redis_server.url) as seen:
            slots = await asyncio.gather(*(budget.acquire() for _ in range(10)))
        assert all(slot is not None and slot.shared for slot in slots)
        assert seen.calls(_TAKE.sha) == 1  # before: 10, one after the other
        assert len({slot.token for slot in slots if slot is not None}) == 10
        for slot in slots:
            assert slot is not None
            slot.give_back()


async def test_an_engines_first_burst_costs_one_take(redis_server: RedisServer) -> None:
    await load_scripts(redis_server.url)
    async with SimExchange(latency_ms=(2, 5)) as sim:
        orders = sim.place_orders("BTCUSDT", 500)
        engine = CancelEngine(
            Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase),
            base_url=sim.base_url,
            account="classic",
            budget_url=redis_server.url,
            account_id=ACCOUNT,
        )
        await known(redis_server.url, engine._account_id)
        async with engine, Monitor(redis_server.url) as seen:
            report = await engine.cancel(
                [CancelTarget(symbol=o.symbol, order_id=o.order_id) for o in orders]
            )
        assert report.counts()["cancelled"] == 500
        assert sim.stats.endpoint("/api/v2/spot/trade/batch-cancel-order").requests == 10
        assert sim.stats.pacing_429 == 0
        assert seen.calls(_TAKE.sha) == 1  # ten requests, one Redis round trip to take them


async def test_a_newcomer_is_counted_in_one_round_trip(redis_server: RedisServer) -> None:
    # A presence refresh every 20 s: only the takes can tell who is there.
    async with providers(redis_server.url, 2, known_accounts=(ACCOUNT,), presence_ttl=60) as (
        old,
        new,
    ):
        first = await old.budget(ACCOUNT, "ep", 10).acquire()
        assert first is not None
        assert old.participants(ACCOUNT) == 1
        joined = await new.budget(ACCOUNT, "ep", 10).acquire()
        assert joined is not None
        assert new.participants(ACCOUNT) == 2  # it sees the old one in its first round trip
        again = await old.budget(ACCOUNT, "ep", 10).acquire()  # one round trip of the old one
        assert again is not None
        assert old.participants(ACCOUNT) == 2  # before: at its next refresh, up to 1.7 s
        for slot in (first, joined, again):
            slot.give_back()
