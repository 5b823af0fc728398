"""Thirty calls on one engine cancelling the same orders, already gone: each hears "does not
exist" and must confirm it; one listing serves them all (issue 24). Real simulator, real
sockets; the requests are counted by the simulator."""

from __future__ import annotations

import asyncio

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel.sim import SimExchange

CREDS = Credentials(api_key="sim-key", secret_key="sim-secret", passphrase="sim-pass")
LISTINGS = ("/api/v2/spot/trade/unfilled-orders", "/api/v2/spot/trade/current-plan-order")


def listing_requests(sim: SimExchange) -> int:
    return sum(sim.stats.endpoint(path).requests for path in LISTINGS)


async def test_thirty_calls_of_gone_orders_share_one_confirmation() -> None:
    async with SimExchange(latency_ms=(5, 10), seed=241) as sim:
        placed = sim.place_orders("BTCUSDT", 60, "gone")
        targets = [CancelTarget(symbol="BTCUSDT", order_id=o.order_id) for o in placed]
        async with CancelEngine(CREDS, base_url=sim.base_url, account="classic") as engine:
            first = await engine.cancel(targets)  # now they are gone
            assert first.all_closed
            before = listing_requests(sim)
            calls = [targets[i : i + 2] for i in range(0, 60, 2)]
            reports = await asyncio.gather(*(engine.cancel(call) for call in calls))
            shared = listing_requests(sim) - before
            same = await asyncio.gather(*(engine.cancel(targets[:2]) for _ in range(30)))
        assert sim.open_orders() == []
    for report in [*reports, *same]:
        assert report.all_closed, report.problems
        assert {o.status for o in report.outcomes} == {CancelStatus.NOT_OPEN}
    # One listing of each kind the account lists (normal and TP/SL share unfilled-orders)
    # for the 30 calls answered by the same two requests, where each call running its own
    # confirmation sent 3 (90 in all).
    assert shared == 3
    # The same two orders in 30 calls: 30 requests (no id twice in one request), answered in
    # bursts of the account's window; a listing serves the calls answered within 20 ms before
    # it began (how many bursts depends on timing): fewer than a listing each (90).
    assert listing_requests(sim) - before - shared < 90
