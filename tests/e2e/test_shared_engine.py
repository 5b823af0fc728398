"""One engine shared by a strategy's tasks, against the simulator over real sockets."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel.sim import SimExchange

if TYPE_CHECKING:
    from bitget_cancel.sim.pytest_plugin import SimFactory

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

BATCH_PATH = "/api/v2/spot/trade/batch-cancel-order"


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


def open_targets(sim: SimExchange, symbol: str, n: int) -> list[CancelTarget]:
    return [
        CancelTarget(symbol=symbol, order_id=order.order_id)
        for order in sim.place_orders(symbol, n, symbol.lower())
    ]


async def test_a_call_past_its_deadline_sends_nothing_while_a_long_cancel_holds_the_budget(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(latency_ms=(5.0, 10.0), seed=3)
    big = [t for i in range(20) for t in open_targets(sim, f"B{i}USDT", 50)]  # 1,000 orders
    small = open_targets(sim, "SMALLUSDT", 5)
    async with CancelEngine(creds(sim), base_url=sim.base_url) as engine:
        answered = asyncio.Event()  # the first burst (10 requests) went out together
        long_call = asyncio.create_task(engine.cancel(big, progress=lambda d, t: answered.set()))
        await answered.wait()
        report = await engine.cancel(small, deadline=0.3)
        long_report = await long_call
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    assert report.requests == 0
    assert long_report.all_closed
    # The exchange never heard of the small call: its orders are all still open, and every
    # batch request it received was the long call's.
    assert all(sim.is_open(t.order_id or "") for t in small)
    assert sim.stats.endpoint(BATCH_PATH).requests == long_report.requests == 20
