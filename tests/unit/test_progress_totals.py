"""Progress totals are honest: an order asked again by its clientOid is one order, not two."""

from __future__ import annotations

from bitget_cancel import CancelTarget

from .fake_venue import FakeVenue, engine_for


async def test_an_order_asked_again_by_client_oid_keeps_the_total_and_ends_at_100_percent() -> None:
    venue = FakeVenue()
    orders = venue.place_many("BTCUSDT", 30, client_prefix="bot")
    # Each names an orderId the exchange does not know beside its real clientOid.
    stale = [
        CancelTarget(symbol=o.symbol, order_id="9" + o.order_id, client_oid=o.client_oid)
        for o in orders
    ]
    seen: list[tuple[int, int]] = []
    async with engine_for(venue) as engine:
        report = await engine.cancel(stale, progress=lambda d, t: seen.append((d, t)))

    assert len(report.cancelled) == 30
    assert {total for _, total in seen} == {30}
    assert seen[-1] == (30, 30)
