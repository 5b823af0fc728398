"""Connection factories: one Redis deployment (single, Cluster, Sentinel; TLS or not) behind one
face, so that the budget's Lua scripts and keys never change with the deployment.

``open_redis_store(budget_url)`` gives a ``RedisStore``: ``client`` runs commands and scripts
(a ``redis.asyncio.Redis``, or a ``RedisCluster`` that routes each call by its keys' hash tag),
``pubsub()`` listens for wake-ups, ``aclose()`` lets everything go. Every foreign setting is
chosen here: no handshake chatter (``CLIENT SETINFO``), the timeouts, one immediate retry.

Pub/sub on a Cluster: a ``PUBLISH`` reaches every node, so the listener is a plain connection to
one node of the list, the next one after each failure.
"""

from __future__ import annotations

import inspect
import itertools
import os
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from ._redis_url import StoreAddress, parse_budget_url

ENV_PASSWORD = "REDIS_PASSWORD"


def _quiet() -> dict[str, Any]:
    """Skip ``CLIENT SETINFO`` on connect: two round trips before the first command."""
    if "driver_info" in inspect.signature(aioredis.Redis.__init__).parameters:
        return {"driver_info": None}
    return {"lib_name": None, "lib_version": None}  # pragma: no cover - redis-py < 7


def _connection_options(address: StoreAddress, timeout: float) -> dict[str, Any]:
    password = address.password
    if password is None:
        password = os.environ.get(ENV_PASSWORD) or None
    options: dict[str, Any] = {
        "username": address.username,
        "password": password,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        **_quiet(),
    }
    if address.tls:
        options["ssl"] = True
        options.update(address.tls_options)
    return options


@dataclass
class RedisStore:
    """One deployment's client and wake-up listener; ``shown`` is the URL without secrets."""

    address: StoreAddress
    client: Any  # redis.asyncio.Redis or RedisCluster: the same commands and scripts
    #: The password in use (the URL's or $REDIS_PASSWORD), to scrub from foreign error texts.
    secret: str | None = field(default=None, repr=False)
    _listeners: list[aioredis.Redis] = field(default_factory=list)
    _sentinel: Sentinel | None = None
    _next: Any = None

    @property
    def shown(self) -> str:
        return self.address.shown

    def pubsub(self) -> Any:
        """A ``PubSub`` that hears the budget's wake-up channels."""
        if self.address.kind != "cluster":
            return self.client.pubsub()
        return next(self._next).pubsub()

    def failover_watch(self) -> Any | None:
        """For a Sentinel deployment, a ``PubSub`` on one Sentinel (the next one each call) to
        hear ``+switch-master`` on; None for the other deployments."""
        if self._sentinel is None:
            return None
        sentinels = self._sentinel.sentinels
        self._watched = (getattr(self, "_watched", -1) + 1) % len(sentinels)
        return sentinels[self._watched].pubsub()

    async def drop_connections(self) -> None:
        """Close every pooled connection: the next command connects to the master Sentinel
        names now (a connection to the old master would keep writing there)."""
        await self.client.connection_pool.disconnect()

    async def aclose(self) -> None:
        await self.client.aclose()
        for listener in self._listeners:
            await listener.aclose()
        if self._sentinel is not None:
            for sentinel in self._sentinel.sentinels:
                await sentinel.aclose()


def open_redis_store(budget_url: str, *, timeout: float = 1.0) -> RedisStore:
    """A client for the deployment ``budget_url`` names (any form ``_redis_url`` reads).

    Connects lazily; ``InvalidBudgetStore`` for a malformed URL, naming the part at fault.
    The dead man's switch and anything else that keeps state beside the budget use this.
    """
    return connect(parse_budget_url(budget_url), timeout=timeout)


def connect(address: StoreAddress, *, timeout: float) -> RedisStore:
    options = _connection_options(address, timeout)
    secret = options["password"]
    # One immediate retry: a pooled connection to a restarted server fails once.
    retry = Retry(NoBackoff(), 1)
    if address.kind == "single":
        (host, port), *_ = address.hosts
        client = aioredis.Redis(host=host, port=port, db=address.db, retry=retry, **options)
        return RedisStore(address, client, secret)
    if address.kind == "cluster":
        nodes = [ClusterNode(host, port) for host, port in address.hosts]
        cluster = RedisCluster(startup_nodes=nodes, retry=retry, **options)
        listeners = [aioredis.Redis(host=h, port=p, **options) for h, p in address.hosts]
        return RedisStore(address, cluster, secret, listeners, _next=itertools.cycle(listeners))
    sentinel_options = {k: v for k, v in options.items() if k not in ("username", "password")}
    sentinel = Sentinel(list(address.hosts), sentinel_kwargs=sentinel_options)
    assert address.master is not None
    client = sentinel.master_for(address.master, db=address.db, retry=retry, **options)
    return RedisStore(address, client, secret, _sentinel=sentinel)
