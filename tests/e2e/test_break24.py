"""Issue 24 broken on purpose, against the simulator over real sockets."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import aiohttp
import pytest

from bitget_cancel import CancelEngine, CancelReport, CancelStatus, CancelTarget, Credentials
from bitget_cancel.sim import SimExchange

if TYPE_CHECKING:
    from bitget_cancel.sim.pytest_plugin import SimFactory

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


async def test_a_session_the_caller_closed_is_a_network_problem_not_an_internal_error(
    sim_factory: SimFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sim = await sim_factory(seed=11)
    targets = [
        CancelTarget(symbol="OWNUSDT", order_id=o.order_id)
        for o in sim.place_orders("OWNUSDT", 3, "own")
    ]
    own = aiohttp.ClientSession()
    await own.close()  # the bot closed it (shutting down, or a bug) while the engine lives
    with caplog.at_level(logging.DEBUG, logger="bitget_cancel"):
        async with CancelEngine(creds(sim), base_url=sim.base_url, session=own) as engine:
            report = await engine.cancel(targets, deadline=5.0)
    assert not any(r.exc_info for r in caplog.records)  # no traceback: nothing went wrong inside
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    assert all("session" in (o.error_msg or "") for o in report.outcomes)
    assert all(o.attempts >= 1 for o in report.outcomes)
    assert all(sim.is_open(t.order_id or "") for t in targets)  # and it says so: unresolved


def test_a_session_of_another_event_loop_is_a_network_problem_naming_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A bot makes its aiohttp session in one asyncio.run and the engine runs in a second one.
    async def make_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    async def cancel_with(own: aiohttp.ClientSession) -> tuple[CancelReport, bool]:
        async with SimExchange() as sim:
            targets = [
                CancelTarget(symbol="OWNUSDT", order_id=o.order_id)
                for o in sim.place_orders("OWNUSDT", 2, "own")
            ]
            async with CancelEngine(creds(sim), base_url=sim.base_url, session=own) as engine:
                report = await engine.cancel(targets, deadline=5.0)
            return report, all(sim.is_open(t.order_id or "") for t in targets)

    own = asyncio.run(make_session())
    with caplog.at_level(logging.DEBUG, logger="bitget_cancel"):
        report, still_open = asyncio.run(cancel_with(own))
    asyncio.run(own.close())
    assert not any(r.exc_info for r in caplog.records)
    assert still_open
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    assert all("another event loop" in (o.error_msg or "") for o in report.outcomes)
