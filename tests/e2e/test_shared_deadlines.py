"""A shared request set by the call with the shortest deadline still serves the others: their
orders are cancelled by it, not re-sent nor left unresolved (issue 24). Real simulator."""

from __future__ import annotations

import asyncio

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel.sim import SimExchange

CREDS = Credentials(api_key="sim-key", secret_key="sim-secret", passphrase="sim-pass")
BATCH_CANCEL = "/api/v2/spot/trade/batch-cancel-order"


async def test_a_short_deadline_does_not_cut_the_shared_request_for_the_others() -> None:
    # Each answer takes 0.8 s: longer than the short call's deadline and its guard after it.
    async with SimExchange(latency_ms=(800, 800), seed=243) as sim:
        mine = [
            CancelTarget(symbol="AUSDT", order_id=o.order_id) for o in sim.place_orders("AUSDT", 2)
        ]
        theirs = [
            CancelTarget(symbol="BUSDT", order_id=o.order_id) for o in sim.place_orders("BUSDT", 2)
        ]
        async with CancelEngine(CREDS, base_url=sim.base_url, account="classic") as engine:
            await engine.warm_up()
            before = sim.stats.endpoint(BATCH_CANCEL).requests
            loop = asyncio.get_running_loop()
            short = loop.create_task(engine.cancel(mine, deadline=0.3))  # its slot comes first
            long = loop.create_task(engine.cancel(theirs, deadline=10.0))
            hasty, patient = await asyncio.gather(short, long)
        assert sim.open_orders() == []  # the one request cancelled all four
    assert sim.stats.endpoint(BATCH_CANCEL).requests - before == 1
    assert {o.status for o in hasty.outcomes} == {CancelStatus.UNRESOLVED}
    assert [o.status for o in patient.outcomes] == [CancelStatus.CANCELLED] * 2
    assert [o.attempts for o in patient.outcomes] == [1, 1]
