"""Issue 24 broken on purpose, against the simulator over real sockets."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import aiohttp
import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
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
