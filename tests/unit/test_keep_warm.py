"""Connections kept warm for a long-lived engine (issue 23): ``warm_up()`` re-warms them every
``keep_warm`` seconds until ``close()``. On virtual time."""

from __future__ import annotations

import asyncio

import pytest

from bitget_cancel import InvalidArgument

from .fake_venue import TIME, Drop, FakeVenue, always, engine_for


async def test_warm_up_re_warms_its_connections_until_close() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 5)
    async with engine_for(venue) as engine:
        await engine.warm_up(3, keep_warm=20.0)
        assert venue.count(TIME) == 3
        await asyncio.sleep(65.0)
        assert venue.count(TIME) == 3 + 3 * 3  # at 20, 40 and 60 s, three at once each
        at = [c.at for c in venue.calls_to(TIME)[3:6]]
        assert len(set(at)) == 1  # at once: each holds its own connection
        report = await engine.cancel([])
        assert report.outcomes == []
    sent = venue.count(TIME)
    await asyncio.sleep(100.0)
    assert venue.count(TIME) == sent  # nothing after close()


async def test_keep_warm_none_warms_once() -> None:
    venue = FakeVenue()
    async with engine_for(venue) as engine:
        await engine.warm_up(2, keep_warm=None)
        await asyncio.sleep(300.0)
        assert venue.count(TIME) == 2


async def test_a_second_warm_up_replaces_the_re_warming() -> None:
    venue = FakeVenue()
    async with engine_for(venue) as engine:
        await engine.warm_up(2, keep_warm=10.0)
        await engine.warm_up(4, keep_warm=30.0)
        await asyncio.sleep(35.0)
        assert venue.count(TIME) == 2 + 4 + 4  # one re-warm of 4 at 30 s, none of 2 at 10 s


async def test_a_re_warm_without_answer_neither_raises_nor_stops_re_warming() -> None:
    venue = FakeVenue()
    async with engine_for(venue) as engine:
        await engine.warm_up(1, keep_warm=5.0)
        venue.script[TIME] = always(Drop())
        await asyncio.sleep(12.0)
        venue.script.pop(TIME)
        await asyncio.sleep(5.0)
    times = venue.calls_to(TIME)
    assert len(times) >= 4
    assert times[-1].status == 200


@pytest.mark.parametrize("keep_warm", [0, -1.0, float("inf"), float("nan"), "20", True])
async def test_a_bad_keep_warm_is_refused_before_any_request(keep_warm: object) -> None:
    venue = FakeVenue()
    async with engine_for(venue) as engine:
        with pytest.raises(InvalidArgument, match="keep_warm"):
            await engine.warm_up(2, keep_warm=keep_warm)  # type: ignore[arg-type]
    assert venue.calls == []
