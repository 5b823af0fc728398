"""What real deployments do to the shared budget: the store loses its keys (FLUSHALL, a restart
without persistence), and participants declare different rates. Real engine processes, a real
redis-server, the simulator counting arrivals (its 429 penalty off, so a 429 is a count)."""

from __future__ import annotations

from pathlib import Path

from .fleet import BATCH_CANCEL, fleet
from .helpers import client
from .server import RedisServer
from .test_engine_processes import assert_all_closed, no_429

ORDERS = 500  # per participant: 10 batch cancels, so work is left when the store loses its keys


async def test_keys_lost_to_flushall_hold_everyone_one_window(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with fleet(tmp_path, penalty_s=0) as group:
        before = [await group.add(n, orders=ORDERS, budget_url=redis_server.url) for n in "ab"]
        # The newcomer exists, but first asks Redis after the flush.
        after = await group.add("c", orders=ORDERS, budget_url=redis_server.url)
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
    orders = 200  # 4 batch cancels each
    async with fleet(tmp_path, penalty_s=0, keys=[second]) as group:
        fast = await group.add("fast", orders=orders, account_id="acct-mixed", rate_limit=10,
                               budget_url=redis_server.url)  # fmt: skip
        slow = await group.add("slow", orders=orders, account_id="acct-mixed", rate_limit=2,
                               key=second, budget_url=redis_server.url)  # fmt: skip
        await group.go()
        # Whoever finishes first: the other has had about as many turns by then.
        first = await fast.report()
        counts = (await group.sim.stats())["requests_by_key"]
        slow_result = await slow.report()
        stats = await no_429(group)
        assert_all_closed(first, orders)
        assert_all_closed(slow_result, orders)
        assert counts[group.sim.api_key] == 4
        assert counts.get(second[0], 0) >= 3  # before: 0 in 4 s, and 150 orders unresolved
        # The lowest rate (2 a second) held for the two together.
        assert stats["max_in_window"][BATCH_CANCEL] <= 2
        assert await group.sim.open() == 0
