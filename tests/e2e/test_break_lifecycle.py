"""Found by trying to break the engine as a careless caller would: calls left running while the
engine closes, against the simulator on 127.0.0.1."""

from __future__ import annotations

import asyncio

from bitget_cancel import CancelEngine, Credentials
from bitget_cancel._limit import RateBudget
from bitget_cancel._wire import SERVER_TIME
from bitget_cancel.sim import SimExchange

CREDS = Credentials(api_key="sim-key", secret_key="sim-secret", passphrase="sim-pass")


async def test_break_resync_clock_running_during_close_sends_nothing_afterwards() -> None:
    """Bug found: ``resync_clock()`` is not one of the calls ``close()`` waits for. Started while
    the time endpoint's budget is busy and then left behind by ``close()``, it gets its slot
    after the engine is closed, opens a new connection pool (never closed: aiohttp warns
    "Unclosed client session") and sends a request from a closed engine.

    Should: ``close()`` waits for (or stops) a running ``resync_clock()`` like any other call,
    and once ``close()`` has returned the exchange sees no request from that engine."""
    async with SimExchange() as sim:
        engine = CancelEngine(CREDS, base_url=sim.base_url, account="classic")
        budget = engine._session_here().budget(SERVER_TIME)
        assert isinstance(budget, RateBudget)  # the in-process store
        held = [budget.try_acquire() for _ in range(20)]
        assert all(slot is not None for slot in held)  # the time endpoint's second is used up
        resync = asyncio.create_task(engine.resync_clock())
        await asyncio.sleep(0)  # it is waiting for a slot

        def end_held() -> None:
            for slot in held:
                assert slot is not None
                slot.release()

        # The held slots end a moment later (then free one second after), close() or not.
        asyncio.get_running_loop().call_later(0.05, end_held)
        await engine.close()
        sent_before_close_returned = sim.stats.endpoint(SERVER_TIME.path).requests
        await resync
        await asyncio.sleep(0.05)  # anything it sent has arrived
        assert sim.stats.endpoint(SERVER_TIME.path).requests == sent_before_close_returned
        assert budget.in_flight == 0
