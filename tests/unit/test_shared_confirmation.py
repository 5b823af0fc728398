"""Concurrent calls of one engine share their confirmation listings (issue 24): one listing
serves every call that asked before it began; a call's own deadline still holds; a call that
heard "does not exist" after a listing began is not served by it. Virtual time."""

from __future__ import annotations

import asyncio

from bitget_cancel import CancelReport, CancelStatus, CancelTarget
from bitget_cancel._policy import CallScope, Deadline
from bitget_cancel._session import CallStats
from bitget_cancel._shared_listing import SharedListings

from .fake_venue import BATCH_CANCEL, PLAN_LIST, UNFILLED, FakeVenue, engine_for

LISTINGS = (UNFILLED, PLAN_LIST)


def gone(call: int, n: int = 2) -> list[CancelTarget]:
    """Orders never open: each is answered "does not exist", then confirmed by a listing."""
    return [
        CancelTarget(symbol=f"S{call}USDT", order_id=str(9_000 + 10 * call + i)) for i in range(n)
    ]


async def test_thirty_calls_of_gone_orders_send_the_listings_one_call_would() -> None:
    alone = FakeVenue()
    async with engine_for(alone) as engine:
        await engine.warm_up()
        one = await engine.cancel([t for call in range(30) for t in gone(call)])
    assert one.all_closed
    venue = FakeVenue()
    async with engine_for(venue) as engine:
        await engine.warm_up()
        reports = await asyncio.gather(*(engine.cancel(gone(call)) for call in range(30)))
    assert all(r.all_closed for r in reports)
    assert all(o.status is CancelStatus.NOT_OPEN for r in reports for o in r.outcomes)
    assert venue.count(*LISTINGS) == alone.count(*LISTINGS) == 3  # unfilled ×2 kinds, plan
    # Each report counts the shared listing's requests it was served by.
    assert {r.requests - 1 for r in reports} <= {0, 3}


async def test_a_short_deadline_does_not_cut_the_listing_another_call_waits_for() -> None:
    venue = FakeVenue(latency=0.2)  # each request: 0.2 s
    async with engine_for(venue) as engine:
        await engine.warm_up()
        short, patient = await asyncio.gather(
            engine.cancel(gone(1), deadline=0.35), engine.cancel(gone(2), deadline=5.0)
        )
    assert [o.status for o in short.outcomes] == [CancelStatus.UNRESOLVED] * 2
    assert patient.all_closed, patient.problems
    assert venue.count(*LISTINGS) == 3  # one listing, read to its end for the patient call


async def test_a_call_answered_after_a_listing_began_gets_a_listing_of_its_own() -> None:
    venue = FakeVenue(latency=0.2)
    loop = asyncio.get_running_loop()
    async with engine_for(venue) as engine:
        await engine.warm_up()
        first = loop.create_task(engine.cancel(gone(1)))
        await asyncio.sleep(0.5)  # its cancel answered, its listing on the way
        assert venue.count(*LISTINGS) > 0
        began = min(c.sent_at for c in venue.calls_to(*LISTINGS))
        late: CancelReport = await engine.cancel(gone(2))
        await first
    assert late.all_closed
    cancel = venue.calls_to(BATCH_CANCEL)[-1]
    assert cancel.answered_at is not None
    assert cancel.answered_at > began
    after = [c for c in venue.calls_to(*LISTINGS) if c.sent_at >= cancel.answered_at]
    assert len(after) == 3  # read after its "does not exist" came back


async def test_a_call_stopped_during_a_shared_listing_returns_and_the_others_confirm() -> None:
    venue = FakeVenue(latency=0.2)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    async with engine_for(venue) as engine:
        await engine.warm_up()
        stopped = loop.create_task(engine.cancel(gone(1), stop=stop))
        patient = loop.create_task(engine.cancel(gone(2)))
        await asyncio.sleep(0.3)  # both answered "does not exist", their listing under way
        assert venue.count(*LISTINGS) > 0
        stop.set()
        stopped_report = await stopped
        returned_at = loop.time()
        patient_report = await patient
    (listing_end,) = {c.answered_at for c in venue.calls_to(*LISTINGS)}
    assert listing_end is not None
    assert returned_at < listing_end  # it did not wait for the listing
    assert [o.status for o in stopped_report.outcomes] == [CancelStatus.UNRESOLVED] * 2
    assert patient_report.all_closed, patient_report.problems


async def test_a_listing_nobody_waits_for_any_more_is_never_joined() -> None:
    listings = SharedListings[str, int](asyncio.get_running_loop())
    started: list[int] = []

    async def lister(scope: CallScope, stats: CallStats) -> int:
        started.append(len(started))
        return len(started)

    def read() -> asyncio.Task[int]:
        scope = CallScope(Deadline(None, asyncio.get_running_loop()))
        return asyncio.ensure_future(listings.read("k", lister, scope, CallStats(), alone=True))

    first = read()
    await asyncio.sleep(0)  # it asked, its listing gathers
    first.cancel()
    # It leaves before the second asks, which asks before the listing the first left hears
    # that it is to stop: that listing is not to be joined.
    second = read()
    assert await second == 1
    assert started == [0]
