"""The shared budget on a real Redis Cluster, a real Sentinel pair (with a failover during a
cancel) and a real TLS server: the same scripts and keys, other connection factories."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bitget_cancel._redis_budget import budget_keys
from bitget_cancel._redis_store import open_redis_store

from .deployments import LocalCluster, LocalSentinel, tls_server
from .fleet import BATCH_CANCEL, fleet
from .helpers import known, providers
from .test_engine_processes import assert_all_closed, no_429

ORDERS = 500  # per participant: 10 batch cancels


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    made = LocalCluster()
    made.start()
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def sentinel() -> Iterator[LocalSentinel]:
    made = LocalSentinel()
    made.start()
    try:
        yield made
    finally:
        made.close()


async def test_engines_share_one_budget_on_a_cluster(cluster: LocalCluster, tmp_path: Path) -> None:
    async with fleet(tmp_path, penalty_s=0) as group:
        for name in "abc":
            await group.add(name, orders=ORDERS, budget_url=cluster.url)
        await known(cluster.url, group.participants[0].hello["account"])
        await group.go()
        results = [await p.report() for p in group.participants]
        stats = await no_429(group)
        for result in results:
            assert_all_closed(result, ORDERS)
            assert result["report"]["budgetFallbacks"] == 0
        assert stats["max_in_window"][BATCH_CANCEL] == 10
        assert await group.sim.open() == 0
        # Every key of the account hashes to one slot: each script runs on one shard.
        store = open_redis_store(cluster.url)
        try:
            account = group.participants[0].hello["account"]
            names = [*vars(budget_keys("bitget-cancel", account, "batch-cancel-order")).values()]
            names += [*vars(budget_keys("bitget-cancel", account, "other-endpoint")).values()]
            slots = {await store.client.cluster_keyslot(name) for name in names}
            assert len(slots) == 1
            assert await store.client.exists(names[1], names[2]) == 2  # used, on that shard
        finally:
            await store.aclose()


async def test_a_sentinel_failover_during_a_cancel(sentinel: LocalSentinel, tmp_path: Path) -> None:
    orders = 750  # 15 batch cancels each: work left when the master changes
    async with fleet(tmp_path, penalty_s=0) as group:
        for name in "abc":
            await group.add(name, orders=orders, budget_url=sentinel.url)
        await known(sentinel.url, group.participants[0].hello["account"])
        await group.go()
        for participant in group.participants:
            await participant.under_way()
        before = sentinel.master_port()
        await asyncio.to_thread(sentinel.failover)
        results = [await p.report() for p in group.participants]
        stats = await no_429(group)
        assert sentinel.master_port() != before
        for result in results:
            assert_all_closed(result, orders)  # nothing lost
        assert stats["max_in_window"][BATCH_CANCEL] <= 10
        assert await group.sim.open() == 0
    # After the failover the budget is shared again, on the new master.
    async with providers(sentinel.url, 1) as (provider,):
        slot = await provider.budget("acct", "ep", 5).acquire()
        assert slot is not None
        assert slot.shared
        slot.give_back()


async def test_tls_with_a_self_signed_certificate(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, certificate = tls_server(tmp_path)
    server.start()
    try:
        trusted = f"rediss://127.0.0.1:{server.port}/0?ssl_ca_certs={certificate}"
        async with providers(trusted, 2) as (p, q):
            slots = [await p.budget("acct", "ep", 4).acquire() for _ in range(2)]
            await p.flush()
            slots += [await q.budget("acct", "ep", 4).acquire() for _ in range(2)]
            assert all(slot is not None and slot.shared for slot in slots)
            for slot in slots:
                assert slot is not None
                slot.give_back()
        # Without the certificate to trust, the handshake fails: an outage, never plain text.
        caplog.set_level(logging.WARNING, logger="bitget_cancel")
        untrusted = f"rediss://:tls-secret@127.0.0.1:{server.port}/0"
        async with providers(untrusted, 1) as (r,):
            slot = await r.budget("acct", "ep", 4).acquire()
            assert slot is not None
            assert not slot.shared
            assert r.degraded
        assert "not answering" in caplog.text
        assert "tls-secret" not in caplog.text
    finally:
        server.close()
