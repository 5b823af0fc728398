"""``engine.panic_so_far()``: the running panic's report as it stands, for a program that must
quit at once (the CLI's second Ctrl-C). On virtual time against the fake venue."""

from __future__ import annotations

import asyncio

from bitget_cancel import CancelStatus

from .fake_venue import NORMAL, FakeVenue, engine_for


async def test_the_report_so_far_holds_the_answered_cancels_and_changes_nothing() -> None:
    venue = FakeVenue(latency=0.3)
    venue.place_many("BTCUSDT", 600)
    async with engine_for(venue) as engine:
        assert engine.panic_so_far() is None  # no panic yet
        task = engine.start_panic(use_symbol_cancel=False, deadline=None)
        await asyncio.sleep(1.0)  # a listing and the first batches answered (0.3 s each)
        so_far = engine.panic_so_far()
        closed_then = 600 - len(venue.open_orders(NORMAL))
        final = await task

    assert so_far is not None
    statuses = {o.status for o in so_far.outcomes}
    assert statuses == {CancelStatus.CANCELLED, CancelStatus.UNRESOLVED}
    cancelled = {o.target.order_id for o in so_far.cancelled}
    assert 0 < len(cancelled) <= closed_then < 600
    assert not so_far.account_empty
    assert not so_far.all_closed
    assert 0 < so_far.requests < final.requests  # the pass under way is counted
    # and the panic went on as if nobody had asked
    assert final.all_closed
    assert len(final.cancelled) == 600
    assert cancelled <= {o.target.order_id for o in final.cancelled}
    assert {o.attempts for o in final.outcomes} == {1}
