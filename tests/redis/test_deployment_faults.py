"""What real deployments do to the shared budget: the store loses its keys (FLUSHALL, a restart
without persistence), and participants declare different rates. Real engine processes, a real
redis-server, the simulator counting arrivals (its 429 penalty off, so a 429 is a count)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bitget_cancel import CancelEngine, CancelTarget, Credentials
from bitget_cancel.sim import SimExchange, SimKey

from .fleet import BATCH_CANCEL, fleet
from .helpers import client, known, until
from .server import RedisServer
from .test_engine_processes import assert_all_closed, no_429


def targets(orders: list[Any]) -> list[CancelTarget]:
    return [CancelTarget(symbol=o.symbol, order_id=o.order_id) for o in orders]


ORDERS = 500  # per participant: 10 batch cancels, so work is left when the store loses its keys


async def test_keys_lost_to_flushall_hold_everyone_one_window(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with fleet(tmp_path, penalty_s=0) as group:
        before = [await group.add(n, orders=ORDERS, budget_url=redis_server.url) for n in "ab"]
        # The newcomer exists, but first asks Redis after the flush.
        after = await group.add("c", orders=ORDERS, budget_url=redis_server.url)
        await known(redis_server.url, after.hello["account"])  # the store served it before
        for participant in before:
            await participant.go()
        for participant in before:
            await participant.under_way()
        async with client(redis_server.url) as redis:
            await redis.flushall()
        await after.go()
        results = [await p.report() for p in group.participants]
        stats = await no_429(group)  # without the epoch: the newcomer's fresh burst, 10 x 429
        for result in results:
            assert_all_closed(result, ORDERS)
        assert stats["max_in_window"][BATCH_CANCEL] <= 10
        assert await group.sim.open() == 0


async def test_a_restart_without_persistence_holds_everyone_one_window(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with fleet(tmp_path, penalty_s=0) as group:
        before = [await group.add(n, orders=ORDERS, budget_url=redis_server.url) for n in "ab"]
        after = await group.add("c", orders=ORDERS, budget_url=redis_server.url)
        await known(redis_server.url, after.hello["account"])  # the store served it before
        for participant in before:
            await participant.go()
        for participant in before:
            await participant.under_way()
        redis_server.stop()
        redis_server.start()  # same port, empty: --save "" --appendonly no
        await after.go()
        results = [await p.report() for p in group.participants]
        stats = await no_429(group)
        for result in results:
            assert_all_closed(result, ORDERS)
        assert stats["max_in_window"][BATCH_CANCEL] <= 10
        assert await group.sim.open() == 0


async def test_mixed_rates_share_the_lowest_and_nobody_starves(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    second = ("redis-procs-key-2", "redis-procs-secret-2", "redis-procs-pass-2")
    orders = 300  # 6 batch cancels each
    async with fleet(tmp_path, penalty_s=0, keys=[second]) as group:
        fast = await group.add("fast", orders=orders, account_id="acct-mixed", rate_limit=10,
                               budget_url=redis_server.url)  # fmt: skip
        slow = await group.add("slow", orders=orders, account_id="acct-mixed", rate_limit=2,
                               key=second, budget_url=redis_server.url)  # fmt: skip
        await known(redis_server.url, slow.hello["account"])
        # The slower declares its rate first; then both cancel, side by side.
        await slow.go()
        await slow.under_way()
        before = (await group.sim.stats())["requests_by_key"].get(second[0], 0)
        await fast.go()
        first = await fast.report()
        counts = (await group.sim.stats())["requests_by_key"]
        slow_result = await slow.report()
        stats = await no_429(group)
        assert_all_closed(first, orders)
        assert_all_closed(slow_result, orders)
        assert counts[group.sim.api_key] == 6
        # While the faster sent its 6, the slower had about as many turns (each holds at most
        # its share while the other waits). Before: 0 in 4 s, and 150 orders unresolved.
        assert counts.get(second[0], 0) - before >= 4
        assert stats["max_in_window"][BATCH_CANCEL] <= 10
        assert await group.sim.open() == 0


async def test_the_lowest_declared_rate_holds_for_everyone(redis_server: RedisServer) -> None:
    """Two engines of one account at 10 and 2 a second: together, 2 a second."""
    async with SimExchange(latency_ms=(2, 30), keys=[SimKey("k2", "p2", secret_key="s2")]) as sim:
        slow_orders, fast_orders = (
            sim.place_orders("AAAUSDT", 300),
            sim.place_orders("BBBUSDT", 300),
        )
        slow = CancelEngine(Credentials(api_key="k2", secret_key="s2", passphrase="p2"),
                            base_url=sim.base_url, budget_url=redis_server.url,
                            account_id="acct-mixed", rate_limit=2)  # fmt: skip
        fast = CancelEngine(Credentials(api_key=sim.api_key, secret_key=sim.secret_key,
                                        passphrase=sim.passphrase),
                            base_url=sim.base_url, budget_url=redis_server.url,
                            account_id="acct-mixed", rate_limit=10)  # fmt: skip
        await known(redis_server.url, slow._account_id)
        async with slow, fast:
            first = asyncio.ensure_future(slow.cancel(targets(slow_orders)))
            # The slower has declared its rate (it has sent) before the faster starts.
            await until(lambda: sim.stats.endpoint(BATCH_CANCEL).requests > 0, step=0.005)
            reports = [await fast.cancel(targets(fast_orders)), await first]
        assert all(report.all_closed for report in reports)
        assert sim.stats.throttled == 0
        assert sim.stats.max_in_window[BATCH_CANCEL] <= 2  # not the faster one's 10
