"""A shared request carries orders of several calls: the call whose deadline is shortest must
not cut it short for the others (issue 24). Virtual time."""

from __future__ import annotations

import asyncio

from bitget_cancel import CancelStatus, CancelTarget

from .fake_venue import BATCH_CANCEL, FakeVenue, engine_for


async def test_the_shortest_deadline_does_not_set_the_shared_requests_timeout() -> None:
    venue = FakeVenue(latency=1.0)  # longer than the short deadline and the guard after it
    mine = [CancelTarget(symbol="AUSDT", order_id=o.order_id) for o in venue.place_many("AUSDT", 2)]
    theirs = [
        CancelTarget(symbol="BUSDT", order_id=o.order_id) for o in venue.place_many("BUSDT", 2)
    ]
    loop = asyncio.get_running_loop()
    async with engine_for(venue) as engine:
        await engine.warm_up()
        owner = loop.create_task(engine.cancel(mine, deadline=0.3))  # its slot comes first
        rider = loop.create_task(engine.cancel(theirs, deadline=5.0))
        short, long = await asyncio.gather(owner, rider)
    (request,) = venue.calls_to(BATCH_CANCEL)  # one request carried all four
    assert len(request.ids()) == 4
    assert {o.status for o in short.outcomes} == {CancelStatus.UNRESOLVED}  # its deadline
    assert [o.status for o in long.outcomes] == [CancelStatus.CANCELLED] * 2
    assert [o.attempts for o in long.outcomes] == [1, 1]
    assert venue.open_orders() == []
