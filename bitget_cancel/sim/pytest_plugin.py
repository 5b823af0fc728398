"""Pytest fixtures for the simulator.

Enable with ``pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any, Protocol

import pytest_asyncio

from ._server import SimExchange


class SimFactory(Protocol):
    """Starts a :class:`SimExchange` with the given keyword arguments."""

    def __call__(self, **kwargs: Any) -> Awaitable[SimExchange]: ...


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[SimExchange]:
    """A started :class:`SimExchange` with default settings, stopped after the test."""
    async with SimExchange() as exchange:
        yield exchange


@pytest_asyncio.fixture
async def sim_factory() -> AsyncIterator[SimFactory]:
    """``await sim_factory(**kwargs)`` returns a started sim; all are stopped after the test."""
    started: list[SimExchange] = []

    async def make(**kwargs: Any) -> SimExchange:
        exchange = SimExchange(**kwargs)
        await exchange.start()
        started.append(exchange)
        return exchange

    try:
        yield make
    finally:
        for exchange in reversed(started):
            await exchange.stop()
