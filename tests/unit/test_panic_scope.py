"""A panic scoped to one bot's orders (``client_oid_prefix``), on virtual time: only those
orders are cancelled, never by a bulk cancel, and "empty" means none of them is open."""

from __future__ import annotations

import asyncio

import pytest

from bitget_cancel import InvalidArgument

from .fake_venue import (
    BATCH_CANCEL_PLAN,
    NORMAL,
    PLAN,
    SYMBOL_CANCEL,
    FakeVenue,
    engine_for,
)


def _open_by_owner(venue: FakeVenue) -> dict[str, int]:
    counts: dict[str, int] = {}
    for order in venue.open_orders():
        owner = (order.client_oid or "hand-").split("-")[0]
        counts[owner] = counts.get(owner, 0) + 1
    return counts


async def test_a_scoped_panic_closes_its_bot_only_and_never_bulk_cancels() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 120, client_prefix="a")  # a symbol cancel would pay off
    venue.place_many("BTCUSDT", 70, client_prefix="b")
    venue.place_many("BTCUSDT", 5, kind=PLAN, client_prefix="a-plan")
    venue.place_many("BTCUSDT", 3, kind=PLAN, client_prefix="b-plan")
    venue.place_many("BTCUSDT", 4)  # by hand: no clientOid
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(client_oid_prefix="a-")

    assert _open_by_owner(venue) == {"b": 73, "hand": 4}
    assert venue.count(SYMBOL_CANCEL, BATCH_CANCEL_PLAN) == 0
    assert report.symbol_cancels == 0
    assert len(report.cancelled) == 125
    assert {o.target.client_oid[:2] for o in report.outcomes if o.target.client_oid} == {"a-"}
    # The 4 orders placed by hand have no clientOid: nothing says they are not the bot's, so
    # the scope is not called empty (they are not cancelled either: they may be someone's).
    assert report.account_empty is False
    assert report.all_closed is False
    assert not report.by_kind["normal"].confirmed_empty
    assert report.by_kind["plan"].confirmed_empty
    (problem,) = report.problems
    assert problem.startswith("normal orders: 4 listed orders have no clientOid"), problem
    assert "(a-)" in problem


async def test_a_scoped_panic_whose_listings_attribute_every_order_says_empty() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 30, client_prefix="a")
    venue.place_many("BTCUSDT", 20, client_prefix="b")
    venue.place_many("ETHUSDT", 4)  # no clientOid, but outside the symbol scope
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(symbols=["BTCUSDT"], client_oid_prefix="a-")
    assert _open_by_owner(venue) == {"b": 20, "hand": 4}
    assert report.account_empty is True
    assert report.all_closed is True
    assert report.problems == ()


async def test_a_second_scoped_call_joins_and_widens_the_scope() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 60, client_prefix="a")
    venue.place_many("ETHUSDT", 60, client_prefix="b")
    venue.place_many("ETHUSDT", 60, client_prefix="c")
    async with engine_for(venue) as engine:
        first = engine.start_panic(client_oid_prefix="a-")
        second = engine.start_panic(client_oid_prefix=["b-"])
        assert first is second  # joined
        report = await asyncio.shield(first)

    assert _open_by_owner(venue) == {"c": 60}
    assert venue.count(SYMBOL_CANCEL, BATCH_CANCEL_PLAN) == 0
    assert report.account_empty is True
    assert len(report.cancelled) == 120


async def test_open_orders_lists_only_the_scope() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 30, client_prefix="a")
    venue.place_many("BTCUSDT", 30, client_prefix="b")
    venue.place_many("BTCUSDT", 2)
    async with engine_for(venue) as engine:
        listing = await engine.open_orders(kinds=[NORMAL], client_oid_prefix=("b-", "zz"))

    assert listing.complete is True
    assert sorted(o.client_oid or "" for o in listing.orders) == sorted(f"b-{i}" for i in range(30))
    # The 2 placed by hand have no clientOid: they may be the scope's (the panic's rule), so
    # they are counted, not listed.
    assert listing.unattributed == 2


async def test_open_orders_counts_the_unattributed_of_its_symbol_scope_only() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 5, client_prefix="a")
    venue.place_many("BTCUSDT", 3)  # by hand, in the symbol scope
    venue.place_many("ETHUSDT", 4)  # by hand, outside it
    venue.place_many("BTCUSDT", 2, kind=PLAN)  # by hand, plan orders
    async with engine_for(venue) as engine:
        scoped = await engine.open_orders(["BTCUSDT"], client_oid_prefix="a-")
        unscoped = await engine.open_orders(["BTCUSDT"])
        whole = await engine.open_orders(client_oid_prefix="a-")
    assert len(scoped.orders) == 5
    assert scoped.unattributed == 3 + 2
    assert unscoped.unattributed == 0  # no prefix: every order is listed
    assert len(unscoped.orders) == 10
    assert whole.unattributed == 3 + 4 + 2


@pytest.mark.parametrize("prefix", ["", "  a", ("a", ""), (), 7, [None]])
async def test_a_scope_that_is_no_scope_is_bad_input_before_any_request(prefix: object) -> None:
    venue = FakeVenue()
    async with engine_for(venue) as engine:
        with pytest.raises(InvalidArgument, match="client_oid_prefix"):
            await engine.open_orders(client_oid_prefix=prefix)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match="client_oid_prefix"):
            engine.start_panic(client_oid_prefix=prefix)  # type: ignore[arg-type]
    assert venue.calls == []


async def test_on_listed_counts_the_orders_as_pages_arrive_and_a_broken_one_is_ignored() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 250, client_prefix="a")
    seen: list[int] = []

    def broken(count: int) -> None:
        raise RuntimeError("a display bug")

    async with engine_for(venue) as engine:
        listing = await engine.open_orders(kinds=[NORMAL], on_listed=seen.append)
        again = await engine.open_orders(kinds=[NORMAL], on_listed=broken)
        with pytest.raises(InvalidArgument, match="on_listed"):
            await engine.open_orders(on_listed=42)  # type: ignore[arg-type]

    assert len(seen) >= 3  # one call a page (100 rows a page)
    assert seen == sorted(seen)
    assert seen[-1] == len(listing.orders) == 250
    assert again.complete is True
    assert len(again.orders) == 250


async def test_a_scoped_panic_attributes_a_clientoid_the_exchange_lists_padded() -> None:
    """Listed as " a-7 ", the order is the bot's: cancelled by its orderId, never left open
    behind an "empty" scope."""
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 3, client_prefix="a")
    padded = venue.place("BTCUSDT", NORMAL, " a-7 ")
    other = venue.place("BTCUSDT", NORMAL, " b-7 ")
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(client_oid_prefix="a-")
    assert [o.order_id for o in venue.open_orders()] == [other.order_id]
    assert padded.order_id in {o.target.order_id for o in report.cancelled}
    assert report.account_empty is True


async def test_open_orders_attributes_a_clientoid_the_exchange_lists_padded_as_the_panic() -> None:
    """What the scoped panic would cancel, the scoped listing shows (by orderId)."""
    venue = FakeVenue()
    mine = venue.place_many("BTCUSDT", 2, client_prefix="a")
    padded = venue.place("BTCUSDT", NORMAL, " a-7 ")
    venue.place("BTCUSDT", NORMAL, " b-7 ")
    venue.place("BTCUSDT", NORMAL, "   ")  # blank: no clientOid
    async with engine_for(venue) as engine:
        listing = await engine.open_orders(client_oid_prefix="a-")
    listed = {o.order_id: o.client_oid for o in listing.orders}
    assert listed == {mine[0].order_id: "a-0", mine[1].order_id: "a-1", padded.order_id: None}
    assert listing.unattributed == 1
