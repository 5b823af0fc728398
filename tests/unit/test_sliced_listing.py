"""Listings read in id ranges at once (issue 23): complete only when every slice is, each slice
by the cursor rules, within the listing budget. On virtual time, so the timings are exact."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bitget_cancel._listing import lanes_for

from .fake_venue import (
    PLAN_LIST,
    UNFILLED,
    Call,
    FakeVenue,
    Refuse,
    StuckCursor,
    engine_for,
)

FAR = 0.3  # a round trip from far away: one chain of pages reads 3.3 pages a second


def _peak_per_second(calls: list[Call]) -> int:
    arrivals = sorted(c.at for c in calls if c.at is not None)
    return max((sum(1 for t in arrivals if a <= t < a + 1.0) for a in arrivals), default=0)


def _below(call: Call) -> int | None:
    raw = call.query.get("idLessThan")
    return None if raw is None else int(raw)


async def test_a_far_listing_is_read_in_slices_within_the_budget_and_is_whole() -> None:
    venue = FakeVenue(latency=FAR)
    placed = venue.place_many("BTCUSDT", 2_000) + venue.place_many("ETHUSDT", 1_000)
    loop = asyncio.get_running_loop()
    async with engine_for(venue) as engine:
        start = loop.time()
        listed = await engine.open_orders(kinds=["normal"])
        took = loop.time() - start
    assert listed.complete, listed.problems
    assert sorted(t.order_id or "" for t in listed.orders) == sorted(o.order_id for o in placed)
    assert venue.over_limit == 0
    assert _peak_per_second(venue.calls_to(UNFILLED)) <= 20
    # 31 pages one after another take 31 round trips (9.3 s); in slices, the budget (20 a
    # second, each slot counted from its answer) and a few round trips.
    assert took < 4.0, took
    pages = len(placed) // 100 + 1
    assert pages <= listed.requests <= 1.5 * pages


async def test_a_near_listing_is_one_chain_of_pages() -> None:
    """At a short round trip one chain is faster than the budget: no slice, no extra request."""
    venue = FakeVenue(latency=0.01)
    venue.place_many("BTCUSDT", 1_250)
    async with engine_for(venue) as engine:
        listed = await engine.open_orders(kinds=["normal"])
    assert listed.complete
    assert len(listed.orders) == 1_250
    assert venue.count(UNFILLED) == 13
    cursors = [_below(c) for c in venue.calls_to(UNFILLED)]
    assert cursors[0] is None
    ids = [c for c in cursors[1:] if c is not None]
    assert len(ids) == 12
    assert all(b < a for a, b in itertools.pairwise(ids))


async def test_one_refused_slice_makes_the_listing_incomplete() -> None:
    venue = FakeVenue(latency=FAR)
    venue.place_many("BTCUSDT", 2_000)
    speculative: list[int] = []

    def script(call: Call) -> Refuse | None:
        # The first request of the first slice started below the top (a guessed id range).
        below = _below(call)
        if below is not None and not speculative and call.index == 1:
            speculative.append(below)
        return Refuse(400, "40017", "bad parameter") if below in speculative else None

    venue.script[UNFILLED] = script
    async with engine_for(venue) as engine:
        listed = await engine.open_orders(kinds=["normal"])
    assert speculative, "the listing was not sliced"
    assert not listed.complete
    assert any("40017" in p for p in listed.problems), listed.problems
    # Every other slice was read: what it saw is listed all the same.
    assert 1_000 < len(listed.orders) < 2_000


async def test_a_slice_whose_cursor_does_not_move_on_makes_the_listing_incomplete() -> None:
    venue = FakeVenue(latency=FAR)
    venue.place_many("BTCUSDT", 2_000)
    venue.script[UNFILLED] = lambda call: StuckCursor() if call.index == 3 else None
    async with engine_for(venue) as engine:
        listed = await engine.open_orders(kinds=["normal"])
    assert not listed.complete
    assert any("cursor does not move on" in p for p in listed.problems), listed.problems


async def test_transient_failures_in_slices_are_retried_and_the_listing_is_whole() -> None:
    venue = FakeVenue(latency=FAR)
    placed = venue.place_many("BTCUSDT", 2_000)
    refused = Refuse(503, "40015", "System is abnormal")
    venue.script[UNFILLED] = lambda call: refused if call.index % 3 == 1 else None
    async with engine_for(venue) as engine:
        listed = await engine.open_orders(kinds=["normal"])
    assert listed.complete, listed.problems
    assert len(listed.orders) == len(placed)
    assert venue.over_limit == 0


async def test_plan_orders_are_sliced_too_and_every_kind_is_whole() -> None:
    venue = FakeVenue(latency=FAR)
    normal = venue.place_many("BTCUSDT", 600)
    plan = venue.place_many("ETHUSDT", 700, "plan")
    async with engine_for(venue) as engine:
        listed = await engine.open_orders()
    assert listed.complete, listed.problems
    got = {t.order_id for t in listed.orders}
    assert got == {o.order_id for o in normal + plan}
    assert venue.count(PLAN_LIST) > 7  # more plan pages than one chain needs: it was sliced


async def test_a_far_panic_over_the_whole_account_lists_in_slices_and_ends_empty() -> None:
    venue = FakeVenue(latency=FAR)
    venue.place_many("BTCUSDT", 1_500)
    venue.place_many("ETHUSDT", 1_500)
    loop = asyncio.get_running_loop()
    async with engine_for(venue) as engine:
        start = loop.time()
        report = await engine.panic_cancel(use_symbol_cancel=False)
        took = loop.time() - start
    assert report.account_empty, report.problems
    assert not venue.open_orders()
    assert venue.over_limit == 0
    # Cancelling (60 batches at 10 a second) is the bound now, not 30 listing round trips.
    assert took < 9.0, took


@pytest.mark.parametrize(
    ("rate", "round_trip", "lanes"),
    [(20, 0.01, 1), (20, 0.05, 1), (20, 0.1, 3), (20, 0.3, 7), (20, 0.4, 9), (20, 5.0, 20)],
)
def test_lanes_keep_the_budget_busy_and_no_more(rate: float, round_trip: float, lanes: int) -> None:
    assert lanes_for(rate, round_trip) == lanes


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_a_far_listing_of_ten_thousand_orders_reads_few_pages_past_the_floor(
    seed: int,
) -> None:
    """Slices of a few pages each: few boundaries to overlap at, and none leaves a gap. The
    floor is 101 pages (the end shows as a short page); one page a slice read about 121."""
    venue = FakeVenue(latency=FAR, seed=seed)
    for _ in range(500):
        for s in range(20):
            venue.place_many(f"S{s}USDT", 1)
    async with engine_for(venue) as engine:
        listed = await engine.open_orders(kinds=["normal"])
    assert listed.complete, listed.problems
    assert len({t.order_id for t in listed.orders}) == 10_000
    assert venue.over_limit == 0
    assert 101 <= venue.count(UNFILLED) <= 117
