"""Hostile answer shapes that need the one rule for reading answers (issue 19, part A's
``_answers``), through the engine over real sockets: v2 field names in v3 items, v3 items of
unknown fields, one-order successes naming another order or none, a short v3 page with a
cursor. No false cancelled, not_open, complete listing or empty account."""

from __future__ import annotations

import pytest

from bitget_cancel.sim import (
    MISSING_ITEMS,
    OTHER_ID_SUCCESS,
    SHORT_PAGE_CURSOR,
    UNKNOWN_ITEM_FIELDS,
    V2_NAMES_ON_V3,
    SimAccount,
)
from tests.e2e.test_hostile_faults import (
    assert_listing_truthful,
    assert_truthful,
    engine_for,
    hostile,
    targets_of,
)


@pytest.mark.parametrize("kind", [V2_NAMES_ON_V3, UNKNOWN_ITEM_FIELDS])
async def test_v3_items_of_a_shape_the_page_does_not_have_are_never_a_success(kind: str) -> None:
    async with hostile(kind, account="uta") as sim:
        targets = targets_of(sim)
        async with engine_for(sim, account="uta") as engine:
            report = await engine.cancel(targets)
        assert sim.stats.injected[kind] > 0
        assert_truthful(report, sim)
        assert not report.cancelled
        assert len(report.unresolved) == len(targets)


@pytest.mark.parametrize(("kind", "account"), [
    (OTHER_ID_SUCCESS, "classic"), (OTHER_ID_SUCCESS, "uta"), (MISSING_ITEMS, "classic"),
])  # fmt: skip
async def test_a_one_order_success_that_does_not_name_the_order_closes_nothing(
    kind: str, account: SimAccount
) -> None:
    async with hostile(kind, account=account) as sim:
        targets = targets_of(sim, kind="tpsl", n=2)
        async with engine_for(sim, account=account) as engine:
            report = await engine.cancel(targets, confirm=False)
        assert sim.stats.injected[kind] > 0
        assert_truthful(report, sim)
        assert not report.cancelled


async def test_a_short_v3_page_with_a_cursor_is_not_the_last_page() -> None:
    async with hostile(SHORT_PAGE_CURSOR, account="uta", rate=0.5) as sim:
        targets_of(sim, n=40)
        async with engine_for(sim, account="uta") as engine:
            listing = await engine.open_orders(kinds=["normal"])
            assert_listing_truthful(listing, sim)
            report = await engine.panic_cancel(deadline=10, kinds=["normal"])
        assert sim.stats.injected[SHORT_PAGE_CURSOR] > 0
        assert_truthful(report, sim)
