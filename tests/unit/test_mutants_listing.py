"""Listings and verdicts, pinned where mutation testing showed nothing noticed a change
(issue 13).

Each test names the mutants it kills (``mutmut`` names, or the curated ones of
``tests/mutation/run_mutations.py``) and the behaviour it protects.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from bitget_cancel import CancelEngine, Credentials, HttpRequest, HttpResponse, MockTransport
from bitget_cancel._classify import Verdict, classify_answer
from bitget_cancel._listing import MAX_PAGES

from .fake_venue import (
    PLAN,
    PLAN_LIST,
    UNFILLED,
    Cursor,
    FakeVenue,
    IgnoreSymbol,
    Refuse,
    always,
    engine_for,
)
from .uta_exchange import V3_UNFILLED, UtaExchange
from .uta_exchange import envelope as uta_envelope

# -- open_orders(): what a listing says, and when it is complete ----------------------------


async def test_open_orders_returns_only_the_symbols_asked_for() -> None:
    """Kills ``listing.open_orders_scope_dropped``.

    The exchange (or a proxy cache) ignores the symbol parameter and lists every symbol."""
    venue = FakeVenue()
    btc = venue.place_many("BTCUSDT", 3)
    venue.place_many("ETHUSDT", 4)
    venue.script[UNFILLED] = always(IgnoreSymbol())
    async with engine_for(venue) as engine:
        listed = await engine.open_orders(["BTCUSDT"], kinds=["normal"])
    assert listed.complete
    assert sorted(t.order_id or "" for t in listed.orders) == sorted(o.order_id for o in btc)
    assert listed.by_symbol() == {"BTCUSDT": 3}


async def test_open_orders_lists_every_page_and_every_kind() -> None:
    """Kills the ``_listing.x_list_open_orders`` mutants (no unit test reached it): orders of
    each kind, every page, each once, with the ids the exchange gives."""
    venue = FakeVenue()
    normal = venue.place_many("BTCUSDT", 130, client_prefix="n")
    tpsl = venue.place_many("ETHUSDT", 2, "tpsl")
    plan = venue.place_many("ETHUSDT", 105, PLAN)
    async with engine_for(venue) as engine:
        listed = await engine.open_orders()
    assert listed.complete
    assert listed.problems == ()
    assert listed.refused_code is None
    assert listed.requests == venue.count(UNFILLED, PLAN_LIST) == 2 + 1 + 2
    got = {(t.kind.value, t.symbol, t.order_id, t.client_oid) for t in listed.orders}
    want = {(o.kind, o.symbol, o.order_id, o.client_oid) for o in normal + tpsl + plan}
    assert got == want
    assert len(listed.orders) == len(want)


@pytest.mark.parametrize(
    ("status", "code", "why"),
    [
        (400, "40017", "listing refused, code 40017"),
        (400, "40006", "credentials refused"),
        (200, "40006", "credentials refused"),
    ],
)
async def test_open_orders_with_a_refused_listing_is_incomplete_and_says_why(
    status: int, code: str, why: str
) -> None:
    """Kills ``listing.open_orders_complete_despite_problems`` and the ``Listing(True, ...)``
    mutants of ``list_pages`` on a refusal (``_mutmut_124``, ``_33``...): a refused listing is
    never "everything that is open"."""
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 3)
    venue.script[UNFILLED] = always(Refuse(status, code, "refused"))
    async with engine_for(venue) as engine:
        listed = await engine.open_orders(kinds=["normal"])
    assert not listed.complete
    assert listed.orders == []
    (problem,) = listed.problems
    assert problem.startswith("normal orders: "), problem
    assert why in problem, problem
    if why == "credentials refused":
        assert listed.refused_code == code


async def test_open_orders_stopped_by_its_deadline_is_incomplete() -> None:
    """Kills ``listing.stopped_read_as_complete`` and ``_listing.x_list_pages__mutmut_178``
    (a listing the deadline cut short read as complete)."""
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 3)
    venue.script[UNFILLED] = always(Refuse(503, "40015", "System is abnormal"))
    async with engine_for(venue, max_attempts=50) as engine:
        listed = await engine.open_orders(kinds=["normal"], deadline=1.0)
    assert not listed.complete
    (problem,) = listed.problems
    assert "deadline" in problem or "stopped" in problem, problem


async def test_failures_on_one_page_do_not_count_against_the_next() -> None:
    """Kills ``listing.failures_not_reset`` and ``_listing.x_list_pages__mutmut_52`` / ``_53``.

    With two attempts a page, each page fails once and then answers: the listing is whole."""
    venue = FakeVenue()
    orders = venue.place_many("BTCUSDT", 250)
    refused = Refuse(503, "40015", "System is abnormal")
    venue.script[UNFILLED] = lambda call: refused if call.index % 2 == 0 else None
    async with engine_for(venue, max_attempts=2) as engine:
        listed = await engine.open_orders(kinds=["normal"])
    assert listed.complete, listed.problems
    assert len(listed.orders) == len(orders)
    assert venue.count(UNFILLED) == 6


# -- cursors that never end --------------------------------------------------------------------


async def test_a_plan_cursor_that_climbs_is_broken_at_the_second_page() -> None:
    """Kills ``listing.cursor_not_advancing_accepted``.

    Every plan page hands back a higher cursor than the last: the listing is broken as soon
    as the cursor does not go down, not after thousands of pages."""
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 3, PLAN)
    venue.script[PLAN_LIST] = lambda call: Cursor(str(500 + call.index))
    async with engine_for(venue) as engine:
        listed = await engine.open_orders(kinds=["plan"], deadline=None)
    assert not listed.complete
    assert "cursor" in listed.problems[0]
    assert venue.count(PLAN_LIST) == 2


async def test_a_cursor_that_goes_down_forever_ends_at_the_page_limit() -> None:
    """Kills ``listing.page_limit_dropped`` and ``_listing.x_list_pages__mutmut_8``, ``_54``
    .. ``_56``, ``_61``, ``_69`` (the page count off by one, or never reaching the limit).

    Each page hands back a lower cursor than the last, and more: never the last page."""
    venue = FakeVenue()
    venue.script[PLAN_LIST] = lambda call: Cursor(str(10**18 - call.index))
    async with engine_for(venue) as engine:
        listed = await engine.open_orders(kinds=["plan"], deadline=None)
    assert not listed.complete
    assert "cursor" in listed.problems[0]
    assert venue.count(PLAN_LIST) == MAX_PAGES


async def test_a_v3_cursor_that_comes_back_is_broken_at_once() -> None:
    """Kills ``listing.repeated_cursor_accepted`` and ``_listing.x_list_pages__mutmut_62``,
    ``_89`` (cursors seen before not remembered).

    The v3 cursor is opaque: it only has to change. This one alternates between two values,
    with a full page each time: the third page repeats a cursor, and the listing is broken
    there instead of running to the page limit."""
    exchange = UtaExchange()
    exchange.place_many("BTCUSDT", 150)
    pages = 0

    async def handle(request: HttpRequest) -> HttpResponse:
        nonlocal pages
        if request.path != V3_UNFILLED:
            return await exchange.handle(request)
        pages += 1
        query = dict(pair.split("=", 1) for pair in request.query.split("&") if pair)
        limit = int(query.get("limit", "100"))
        rows = list(exchange.orders.values())[:limit]
        data: dict[str, Any] = {
            "list": [exchange._row(o) for o in rows],
            "cursor": "7" if pages % 2 else "5",
        }
        return HttpResponse(200, uta_envelope(data))

    engine = CancelEngine(
        Credentials(api_key="k", secret_key="s", passphrase="p"),
        transport=MockTransport(handle),
        wall_clock=exchange.wall_clock,
        rng=random.Random(1),
        account="uta",
    )
    async with engine:
        listed = await engine.open_orders(kinds=["normal"], deadline=None)
    assert not listed.complete
    assert "cursor" in listed.problems[0]
    assert pages == 3


# -- verdicts at the edges of "success" ---------------------------------------------------------


@pytest.mark.parametrize("orders", [0, 1, 50])
def test_a_300_answer_is_not_a_success(orders: int) -> None:
    """Kills ``_classify.x_classify_answer__mutmut_28``, ``_29``, ``_44``, ``_45`` (HTTP 300
    read as 2xx)."""
    assert classify_answer(300, "00000", "success", readable=True, orders=orders) is Verdict.RETRY
    assert classify_answer(300, None, None, readable=True, orders=orders) is Verdict.FAIL
    assert classify_answer(299, "00000", "success", readable=True, orders=orders) is Verdict.OK


@pytest.mark.parametrize("orders", [0, 1, 50])
def test_a_readable_success_without_a_code_is_ok(orders: int) -> None:
    """Kills ``_classify.x_classify_answer__mutmut_30`` (a readable 2xx answer without a code,
    as some endpoints give a bare list, asked again forever)."""
    assert classify_answer(200, None, None, readable=True, orders=orders) is Verdict.OK
    assert classify_answer(200, None, None, readable=False, orders=orders) is Verdict.RETRY
