"""Panic on virtual time through the in-process venue (no sockets): listings, bulk cancels,
passes, deadlines, and a report that never says "empty" without the exchange's word for it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterable
from typing import Any

import pytest

from bitget_cancel import CancelStatus, CancelTarget, HttpRequest, OrderKind, PanicReport
from bitget_cancel._panic import BULK_SETTLE, MAX_PASSES
from bitget_cancel._policy import RetryPolicy

from .fake_venue import (
    BATCH_CANCEL,
    BATCH_CANCEL_PLAN,
    CANCEL_ORDER,
    CANCEL_PLAN,
    NORMAL,
    PLAN,
    PLAN_LIST,
    SIGNED,
    SYMBOL_CANCEL,
    TIME,
    TPSL,
    UNFILLED,
    Call,
    Cursor,
    Drop,
    DuplicateRows,
    FakeVenue,
    Hang,
    IgnoreSymbol,
    ItemCode,
    Raw,
    Refuse,
    StuckCursor,
    always,
    engine_for,
    envelope,
    script_signed,
    seq,
)

KIND_OF = {NORMAL: OrderKind.NORMAL, TPSL: OrderKind.TPSL, PLAN: OrderKind.PLAN}
CANCELS_OF = {
    NORMAL: (BATCH_CANCEL, SYMBOL_CANCEL),
    TPSL: (CANCEL_ORDER,),
    PLAN: (CANCEL_PLAN, BATCH_CANCEL_PLAN),
}


def listings_of(venue: FakeVenue, kind: str) -> list[Call]:
    return [c for c in venue.calls_to(UNFILLED, PLAN_LIST) if c.kind == kind]


def first_listing(venue: FakeVenue, kind: str) -> list[Call]:
    """The pages of the first listing of ``kind`` (up to the next request without a cursor)."""
    calls = listings_of(venue, kind)
    ends = [i for i, c in enumerate(calls) if i and "idLessThan" not in c.query]
    return calls[: ends[0]] if ends else calls


def assert_truthful(
    report: PanicReport,
    venue: FakeVenue,
    symbols: Iterable[str] | None = None,
    kinds: Iterable[str] = (NORMAL, TPSL, PLAN),
) -> None:
    """An all-clear is backed by the venue: nothing of the requested kinds open in scope.
    And the panic never tripped an endpoint's rate limit on the way."""
    assert venue.over_limit == 0
    scope = None if symbols is None else set(symbols)
    wanted = set(kinds)
    left = [
        o for o in venue.open_orders() if o.kind in wanted and (scope is None or o.symbol in scope)
    ]
    if report.account_empty:
        assert left == [], f"account_empty with {len(left)} orders open"
        assert report.all_closed or report.failed or report.unresolved
    if report.account_empty:
        # Confirmed empty, so nothing in scope can still be "unknown".
        unknown = [
            o
            for o in report.unresolved
            if o.target.kind.value in wanted and (scope is None or o.target.symbol in scope)
        ]
        assert unknown == [], f"account_empty with {len(unknown)} unresolved: {unknown[:2]}"
    for kind, summary in report.by_kind.items():
        if summary.confirmed_empty:
            assert not [o for o in left if o.kind == kind], f"{kind} confirmed with orders open"


def assert_confirmed_after_last_cancel(venue: FakeVenue, kinds: Iterable[str]) -> None:
    """The last listing of each kind arrived after the last cancel of that kind acted."""
    for kind in kinds:
        cancels = [c.at for c in venue.calls_to(*CANCELS_OF[kind]) if c.at is not None]
        if not cancels:
            continue
        acted = max(cancels)
        if kind == NORMAL and venue.count(SYMBOL_CANCEL) and venue.symbol_cancel_delay:
            acted = max(
                acted,
                *(c.at + venue.symbol_cancel_delay for c in venue.calls_to(SYMBOL_CANCEL) if c.at),
            )
        last = listings_of(venue, kind)[-1]
        assert last.at is not None
        assert last.at > acted, kind


# -- listing, streaming, bulk cancels -----------------------------------------------------------


@pytest.mark.parametrize("use_symbol_cancel", [True, False])
async def test_every_page_is_listed_and_every_order_cancelled(use_symbol_cancel: bool) -> None:
    venue = FakeVenue()
    for s in range(5):
        venue.place_many(f"S{s}USDT", 49)  # under the symbol-cancel threshold: by id
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(use_symbol_cancel=use_symbol_cancel)
    assert venue.open_orders() == []
    assert report.account_empty
    assert report.all_closed
    assert report.by_kind["normal"].listed == 245
    assert report.by_kind["normal"].cancelled == 245
    assert len(report.cancelled) == 245
    assert venue.count(SYMBOL_CANCEL) == 0
    cursors = [c.query.get("idLessThan") for c in first_listing(venue, NORMAL)]
    assert len(cursors) == 3  # 100 + 100 + 45 rows
    assert cursors[0] is None
    assert int(cursors[1] or 0) > int(cursors[2] or 0)  # the cursor moves down
    assert_confirmed_after_last_cancel(venue, (NORMAL,))
    assert_truthful(report, venue)


async def test_cancelling_starts_with_the_first_page() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 250)
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(use_symbol_cancel=False)
    assert report.account_empty
    assert venue.open_orders() == []
    pages = first_listing(venue, NORMAL)
    assert len(pages) == 3
    first_cancel = venue.calls_to(BATCH_CANCEL)[0]
    assert first_cancel.at is not None
    assert pages[2].at is not None
    assert first_cancel.at < pages[2].at  # streamed: before the last page was asked for


async def test_a_symbol_cancel_is_confirmed_by_a_listing_begun_after_it_took_effect() -> None:
    venue = FakeVenue(symbol_cancel_delay=0.5)
    orders = venue.place_many("BTCUSDT", 120)
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel()
    assert venue.count(SYMBOL_CANCEL) == 1
    assert venue.count(BATCH_CANCEL) == 0
    assert venue.open_orders() == []
    assert {o.target.order_id for o in report.cancelled} == {o.order_id for o in orders}
    assert report.account_empty
    assert report.symbol_cancels == 1
    assert_confirmed_after_last_cancel(venue, (NORMAL,))
    assert_truthful(report, venue)


@pytest.mark.parametrize("max_attempts", [1, 5])
async def test_a_symbol_cancel_that_does_nothing_goes_by_id_after_the_settle_time_and_stays(
    max_attempts: int,
) -> None:
    venue = FakeVenue(symbol_cancel_delay=None)  # accepted, never acted on
    venue.place_many("BTCUSDT", 120)
    # The first by-id round fails transiently: with one attempt they are listed again in a
    # later pass, still 120 of them, and must still go by id, not to another symbol cancel.
    venue.script[BATCH_CANCEL] = seq(ItemCode("40725", "service return an error"))
    async with engine_for(venue, max_attempts=max_attempts) as engine:
        report = await engine.panic_cancel()
    assert venue.open_orders() == []
    assert report.account_empty
    assert venue.count(SYMBOL_CANCEL) == 1
    symbol_cancel_at = venue.calls_to(SYMBOL_CANCEL)[0].at
    assert symbol_cancel_at is not None
    by_id = venue.calls_to(BATCH_CANCEL)
    assert len(by_id) >= 3
    assert all(c.at is not None and c.at >= symbol_cancel_at + BULK_SETTLE for c in by_id)
    assert len(report.cancelled) == 120
    assert_truthful(report, venue)


async def test_orders_placed_during_the_panic_are_caught_by_a_later_pass() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 10)
    late: list[str] = []

    def place_late(call: Call) -> None:
        if call.endpoint == BATCH_CANCEL and not late:
            late.extend(o.order_id for o in venue.place_many("BTCUSDT", 5))
            late.append(venue.place("ETHUSDT", TPSL).order_id)

    venue.on_arrival = place_late
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel()
    assert venue.open_orders() == []
    assert report.account_empty
    assert report.passes == 3  # cancel; catch the late ones; confirm empty
    assert {o.target.order_id for o in report.cancelled} >= set(late)
    assert_confirmed_after_last_cancel(venue, (NORMAL, TPSL))
    assert_truthful(report, venue)


async def test_the_deadline_ends_the_panic_and_every_unresolved_outcome_says_why() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 30)
    venue.place_many("ETHUSDT", 30)
    venue.script[BATCH_CANCEL] = always(Hang())
    loop = asyncio.get_running_loop()
    async with engine_for(venue, request_timeout=1.0) as engine:
        start = loop.time()
        report = await engine.panic_cancel(deadline=3)
        took = loop.time() - start
    assert took == pytest.approx(3.0, abs=0.05)
    assert not report.account_empty
    assert not report.all_closed
    assert len(report.unresolved) == 60
    for outcome in report.unresolved:
        assert "deadline" in (outcome.error_msg or ""), outcome
    assert any("deadline" in p for p in report.problems), report.problems
    assert report.by_kind["normal"].unresolved == 60
    assert len(venue.open_orders()) == 60
    assert_truthful(report, venue)


# -- the three kinds -----------------------------------------------------------------------------


def mixed_book(venue: FakeVenue) -> None:
    venue.place_many("BTCUSDT", 30)
    venue.place_many("ETHUSDT", 12)
    venue.place_many("BTCUSDT", 4, TPSL)
    venue.place_many("ETHUSDT", 2, TPSL)
    venue.place_many("BTCUSDT", 7, PLAN)
    venue.place_many("ETHUSDT", 3, PLAN)


async def test_every_kind_is_listed_and_cancelled_by_its_own_endpoints() -> None:
    venue = FakeVenue()
    mixed_book(venue)
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel()
    assert venue.open_orders() == []
    assert report.account_empty
    assert report.all_closed
    expected = {"normal": 42, "tpsl": 6, "plan": 10}
    for kind, n in expected.items():
        summary = report.by_kind[kind]
        assert (summary.listed, summary.cancelled, summary.confirmed_empty) == (n, n, True)
        assert summary.problem is None
    tpsl_cancels = venue.calls_to(CANCEL_ORDER)
    assert len(tpsl_cancels) == 6
    assert all(c.body["tpslType"] == "tpsl" for c in tpsl_cancels)
    plan_bulk = venue.calls_to(BATCH_CANCEL_PLAN)
    assert len(plan_bulk) == 1
    assert "symbolList" not in plan_bulk[0].body  # the whole account's trigger orders
    assert venue.count(CANCEL_PLAN) == 0
    assert {c.kind for c in venue.calls_to(UNFILLED)} == {NORMAL, TPSL}
    assert_confirmed_after_last_cancel(venue, (NORMAL, TPSL, PLAN))
    assert_truthful(report, venue)
    assert venue.over_limit == 0


@pytest.mark.parametrize("use_symbol_cancel", [True, False])
async def test_a_scoped_panic_touches_nothing_outside_its_symbols(use_symbol_cancel: bool) -> None:
    venue = FakeVenue()
    mixed_book(venue)
    venue.place_many("BTCUSDT", 60)  # above the threshold
    outside = {o.order_id for o in venue.orders if o.symbol == "ETHUSDT"}
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(["BTCUSDT"], use_symbol_cancel=use_symbol_cancel)
    assert {o.order_id for o in venue.open_orders()} == outside
    assert report.account_empty
    assert {o.target.symbol for o in report.outcomes} == {"BTCUSDT"}
    assert all(c.query.get("symbol") == "BTCUSDT" for c in venue.calls_to(UNFILLED, PLAN_LIST))
    for call in venue.calls_to(BATCH_CANCEL, CANCEL_ORDER, SYMBOL_CANCEL):
        assert "ETHUSDT" not in str(call.body)
    if use_symbol_cancel:
        assert [c.body for c in venue.calls_to(BATCH_CANCEL_PLAN)] == [{"symbolList": ["BTCUSDT"]}]
        assert venue.count(SYMBOL_CANCEL) == 1
    else:
        assert venue.count(BATCH_CANCEL_PLAN, SYMBOL_CANCEL) == 0
        assert venue.count(CANCEL_PLAN) == 7
    assert_truthful(report, venue, ["BTCUSDT"])


@pytest.mark.parametrize("use_symbol_cancel", [True, False])
async def test_rows_of_other_symbols_in_a_listing_do_not_widen_the_scope(
    use_symbol_cancel: bool,
) -> None:
    # An exchange (or proxy cache) that ignores the symbol parameter: every symbol's rows.
    venue = FakeVenue()
    mixed_book(venue)
    venue.place_many("BTCUSDT", 60)
    outside = {o.order_id for o in venue.orders if o.symbol == "ETHUSDT"}
    venue.script[UNFILLED] = always(IgnoreSymbol())
    venue.script[PLAN_LIST] = always(IgnoreSymbol())
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(["BTCUSDT"], use_symbol_cancel=use_symbol_cancel)
    assert {o.order_id for o in venue.open_orders()} == outside
    assert {o.target.symbol for o in report.outcomes} == {"BTCUSDT"}
    for call in venue.calls_to(BATCH_CANCEL, CANCEL_ORDER, CANCEL_PLAN, SYMBOL_CANCEL):
        assert "ETHUSDT" not in str(call.body)
    assert_truthful(report, venue, ["BTCUSDT"])
    assert report.account_empty


@pytest.mark.parametrize("plan_orders", [0, 3])
async def test_a_kind_whose_listing_is_refused_is_unconfirmed_never_empty(plan_orders: int) -> None:
    # One copy of the docs makes current-plan-order's symbol required: 40017 without it.
    venue = FakeVenue(plan_list_requires_symbol=True)
    venue.place_many("BTCUSDT", 20)
    venue.place_many("BTCUSDT", plan_orders, PLAN)
    loop = asyncio.get_running_loop()
    async with engine_for(venue) as engine:
        start = loop.time()
        report = await engine.panic_cancel(deadline=30)
        took = loop.time() - start
    assert not report.account_empty
    assert not report.all_closed
    plan = report.by_kind["plan"]
    assert not plan.confirmed_empty
    assert plan.problem is not None
    assert "40017" in plan.problem
    assert any("plan" in p and "40017" in p for p in report.problems), report.problems
    assert report.by_kind["normal"].confirmed_empty
    assert report.by_kind["tpsl"].confirmed_empty
    assert venue.open_orders(NORMAL) == []
    assert took < 5  # a refusal that repeating cannot change does not wait for the deadline
    assert_truthful(report, venue)


async def test_a_plan_listing_by_symbol_confirms_what_the_whole_account_listing_could_not() -> None:
    venue = FakeVenue(plan_list_requires_symbol=True)
    venue.place_many("BTCUSDT", 3, PLAN)
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(["BTCUSDT"])
    assert report.account_empty
    assert report.by_kind["plan"].confirmed_empty
    assert venue.open_orders() == []


NOT_A_LISTING = [
    envelope(None),
    b'{"code":"00000","msg":"success","requestTime":1}',
    envelope("no orders"),
    envelope({"orderList": None, "nextFlag": False}),
]


@pytest.mark.parametrize("body", NOT_A_LISTING, ids=["null", "absent", "text", "null-list"])
@pytest.mark.parametrize("kind", [NORMAL, TPSL, PLAN])
async def test_a_success_code_without_a_listing_is_never_read_as_empty(
    kind: str, body: bytes
) -> None:
    venue = FakeVenue()
    venue.place("BTCUSDT", kind)
    endpoint = PLAN_LIST if kind == PLAN else UNFILLED
    venue.script[endpoint] = lambda call: Raw(200, body) if call.kind == kind else None
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(deadline=4)
    assert not report.account_empty
    summary = report.by_kind[kind]
    assert not summary.confirmed_empty
    assert summary.problem is not None
    if kind == PLAN:
        # Never listed, but the whole-scope batch-cancel-plan-order was sent all the same: the
        # trigger order is gone, and the report still does not claim it (unconfirmed).
        assert venue.open_orders(kind) == []
        assert "sent all the same: accepted" in summary.problem
    else:
        assert venue.open_orders(kind) != []  # it was never listed, so never cancelled
    others = [k for k in (NORMAL, TPSL, PLAN) if k != kind]
    assert all(report.by_kind[k].confirmed_empty for k in others)
    assert_truthful(report, venue)


@pytest.mark.parametrize("kind", [NORMAL, TPSL, PLAN])
async def test_a_null_listing_once_is_asked_again(kind: str) -> None:
    venue = FakeVenue()
    venue.place("BTCUSDT", kind)
    endpoint = PLAN_LIST if kind == PLAN else UNFILLED
    nulls = iter([Raw(200, envelope(None))])
    venue.script[endpoint] = lambda call: next(nulls, None) if call.kind == kind else None
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel()
    assert report.account_empty
    assert venue.open_orders() == []


# -- listings that never end -----------------------------------------------------------------------


async def test_a_listing_cursor_that_does_not_move_is_broken_not_empty() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 49)
    venue.place_many("ETHUSDT", 49)
    venue.place_many("SOLUSDT", 49)
    # Every order refuses to go (an unknown code: FAILED), and the second page is the first again.
    venue.script[BATCH_CANCEL] = always(ItemCode("49999", "something new"))
    venue.script[UNFILLED] = lambda call: StuckCursor() if "idLessThan" in call.query else None
    loop = asyncio.get_running_loop()
    async with engine_for(venue) as engine:
        start = loop.time()
        report = await engine.panic_cancel(deadline=30)
        took = loop.time() - start
    assert took < 5
    assert venue.count(UNFILLED) <= 6
    assert not report.account_empty
    normal = report.by_kind["normal"]
    assert not normal.confirmed_empty
    assert normal.problem is not None
    assert "cursor" in normal.problem
    assert len(venue.open_orders()) == 147
    assert_truthful(report, venue)


@pytest.mark.parametrize(
    "cursors",
    [["500", "400", "500"], ["500", "500"], ["500", "600"]],
    ids=["cycle", "same", "up"],
)
async def test_a_plan_cursor_that_cycles_or_climbs_ends_the_listing_as_broken(
    cursors: list[str],
) -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 3, PLAN)

    def script(call: Call) -> Cursor:
        # Each pass starts the listing afresh: where it is in the cursor list is the page.
        given = call.query.get("idLessThan")
        page = 0 if given is None else cursors.index(given) + 1
        return Cursor(cursors[min(page, len(cursors) - 1)])

    venue.script[PLAN_LIST] = script
    loop = asyncio.get_running_loop()
    async with engine_for(venue) as engine:
        start = loop.time()
        report = await engine.panic_cancel(deadline=30)
        took = loop.time() - start
    # Ended by its own judgment (the listing is broken, the bulk cancel had its settle time),
    # not by running out of passes or time.
    assert took <= BULK_SETTLE + 1
    assert report.passes < MAX_PASSES
    plan = report.by_kind["plan"]
    assert not plan.confirmed_empty
    assert not report.account_empty
    assert plan.problem is not None
    assert "cursor" in plan.problem
    assert_truthful(report, venue)


@pytest.mark.parametrize(("orders", "symbol_cancels"), [(30, 0), (49, 0), (50, 1)])
async def test_duplicate_rows_do_not_count_twice_toward_the_symbol_cancel_threshold(
    orders: int, symbol_cancels: int
) -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", orders)
    venue.script[UNFILLED] = always(DuplicateRows())
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel()
    assert venue.count(SYMBOL_CANCEL) == symbol_cancels
    assert report.by_kind["normal"].listed == orders
    assert len(report.outcomes) == orders
    assert venue.open_orders() == []
    assert report.account_empty
    for call in venue.calls_to(BATCH_CANCEL):
        ids = call.ids()
        assert len(ids) == len(set(ids))


# -- refusals that stop the panic ------------------------------------------------------------------

CREDENTIAL_CODES = ["40006", "40009", "40011", "40012", "40014", "40018", "40037"]


def one_target_of_each_kind(venue: FakeVenue) -> list[CancelTarget]:
    return [
        CancelTarget(
            symbol="BTCUSDT", order_id=venue.place("BTCUSDT", kind).order_id, kind=KIND_OF[kind]
        )
        for kind in (NORMAL, TPSL, PLAN)
    ]


@pytest.mark.parametrize("status", [200, 400])
@pytest.mark.parametrize("code", CREDENTIAL_CODES)
async def test_refused_credentials_stop_the_panic_within_one_round(code: str, status: int) -> None:
    venue = FakeVenue()
    venue.place_many("ETHUSDT", 70)
    targets = one_target_of_each_kind(venue)
    script_signed(venue, always(Refuse(status, code, "refused")))
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(targets=targets)
    counts = venue.counts()
    assert max(counts.values()) == 1, counts  # one round: no endpoint asked twice
    assert report.passes == 1
    assert not report.account_empty
    assert not report.all_closed
    assert any(code in p and "credentials" in p for p in report.problems), report.problems
    explicit = [o for o in report.outcomes if o.target in targets]
    assert len(explicit) == 3
    for outcome in explicit:
        assert (outcome.status, outcome.error_code) == (CancelStatus.FAILED, code), outcome
    assert_truthful(report, venue)


async def test_a_wrong_key_stops_the_panic_at_the_first_answer() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 5)
    engine = engine_for(venue)
    venue.api_key = "another-key"  # the engine's key is not the account's: 40006, HTTP 400
    async with engine:
        report = await engine.panic_cancel()
    assert max(venue.counts().values()) == 1
    assert {c.code for c in venue.calls} == {"40006"}
    assert not report.account_empty
    assert not report.all_closed
    assert any("40006" in p for p in report.problems), report.problems


TIME_ANSWERS = {
    "broken": Raw(500, b"<html><body>500 Internal Server Error</body></html>"),
    "wrong": Raw(200, envelope({"serverTime": "1700000000000"})),  # answers, never agrees
}


@pytest.mark.parametrize("time_answer", TIME_ANSWERS.values(), ids=TIME_ANSWERS.keys())
async def test_a_clock_refused_forever_ends(time_answer: Raw) -> None:
    venue = FakeVenue(server_time_offset=120.0)  # every signature is 120 s off: 40008
    venue.place_many("BTCUSDT", 5)
    target = CancelTarget(symbol="BTCUSDT", order_id=venue.orders[0].order_id)
    venue.script[TIME] = always(time_answer)
    loop = asyncio.get_running_loop()
    async with engine_for(venue) as engine:
        start = loop.time()
        report = await engine.panic_cancel(targets=[target], deadline=30)
        took = loop.time() - start
    assert took < 10
    assert venue.count(*SIGNED) <= 4 * 5  # a handful of refusals per request, not until 30 s
    (outcome,) = report.outcomes
    assert outcome.error_code == "40008"
    if time_answer is TIME_ANSWERS["wrong"]:
        # Each resync "worked" and changed nothing: the resync limit ends it.
        assert venue.count(TIME) <= RetryPolicy().max_clock_resyncs
        assert outcome.status is CancelStatus.FAILED
        assert "clock" in (outcome.error_msg or "")
    else:
        # No clock to read: every attempt asks again, and the attempts run out.
        assert venue.count(TIME) <= RetryPolicy().max_attempts
        assert outcome.status is CancelStatus.UNRESOLVED
    assert any("could not list" in p and "40008" in p for p in report.problems), report.problems
    assert not report.account_empty
    assert not report.all_closed
    assert report.problems
    assert len(venue.open_orders()) == 5


async def test_an_unreachable_exchange_fails_fast_and_says_it_could_not_list() -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 5)
    script_signed(venue, always(Drop()))
    venue.script[TIME] = always(Drop())
    loop = asyncio.get_running_loop()
    async with engine_for(venue) as engine:
        start = loop.time()
        report = await engine.panic_cancel()
        took = loop.time() - start
    assert took < 5  # not the 60 s default deadline
    assert venue.count(UNFILLED, PLAN_LIST) <= 3 * 5
    assert not report.account_empty
    assert not report.all_closed
    assert any("could not list" in p for p in report.problems), report.problems


# -- whose ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_symbol_cancel", [True, False])
async def test_a_stale_order_id_with_the_right_client_oid_is_cancelled_by_the_listed_id(
    use_symbol_cancel: bool,
) -> None:
    venue = FakeVenue()
    real = venue.place("BTCUSDT", NORMAL, "my-order-1")
    stale = str(int(real.order_id) - 17)  # a well-formed id the exchange does not know
    target = CancelTarget(symbol="BTCUSDT", order_id=stale, client_oid="my-order-1")
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(targets=[target], use_symbol_cancel=use_symbol_cancel)
    assert not real.open
    assert report.account_empty
    (outcome,) = [o for o in report.outcomes if o.target == target]
    assert outcome.status is CancelStatus.CANCELLED, outcome
    assert report.not_open == []


async def test_a_stale_tpsl_order_id_with_the_right_client_oid_is_cancelled_too() -> None:
    venue = FakeVenue()
    real = venue.place("BTCUSDT", TPSL, "my-stop-1")
    stale = str(int(real.order_id) - 17)
    target = CancelTarget(
        symbol="BTCUSDT", order_id=stale, client_oid="my-stop-1", kind=OrderKind.TPSL
    )
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(targets=[target])
    assert not real.open
    assert report.account_empty
    (outcome,) = [o for o in report.outcomes if o.target == target]
    assert outcome.status is CancelStatus.CANCELLED, outcome


# -- joining ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("join_after", [0.0, 0.004, 0.011, 0.016, 0.025, 0.05, 0.12])
async def test_a_joined_panic_that_widens_the_scope_lists_it_before_finishing(
    join_after: float,
) -> None:
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 10)
    venue.place_many("ETHUSDT", 10)
    venue.place_many("ETHUSDT", 2, TPSL)
    venue.place_many("SOLUSDT", 3, PLAN)
    async with engine_for(venue) as engine:
        first = asyncio.ensure_future(engine.panic_cancel(["BTCUSDT"], kinds=["normal"]))
        await asyncio.sleep(join_after)
        second = await engine.panic_cancel()
        narrow = await first
    assert_truthful(narrow, venue, ["BTCUSDT"], [NORMAL])
    assert_truthful(second, venue)
    assert second.account_empty
    assert set(second.by_kind) == {"normal", "tpsl", "plan"}
    assert venue.open_orders() == []


# -- the venue itself: as strict as the simulator, as the docs say ---------------------------------


async def answer_of(venue: FakeVenue, request: HttpRequest) -> tuple[int, Any]:
    response = await venue.handle(request)
    body = json.loads(response.body)
    return response.status, body if body["code"] != "00000" else body["data"]


async def test_the_venue_refuses_a_whole_batch_for_one_malformed_order_id() -> None:
    venue = FakeVenue()
    orders = venue.place_many("BTCUSDT", 3)
    ids = [{"orderId": o.order_id} for o in orders] + [{"orderId": "12-x"}]
    body = {"symbol": "BTCUSDT", "batchMode": "single", "orderList": ids}
    status, answer = await answer_of(venue, venue.signed("POST", BATCH_CANCEL, body=body))
    assert (status, answer["code"]) == (400, "40402")
    assert len(venue.open_orders()) == 3  # refused whole: nothing cancelled
    no_id = {"symbol": "BTCUSDT", "batchMode": "single", "orderList": [{"symbol": "BTCUSDT"}]}
    status, answer = await answer_of(venue, venue.signed("POST", BATCH_CANCEL, body=no_id))
    assert (status, answer["code"]) == (400, "40924")
    too_many = {"symbol": "BTCUSDT", "orderList": [{"orderId": str(i)} for i in range(51)]}
    status, answer = await answer_of(venue, venue.signed("POST", BATCH_CANCEL, body=too_many))
    assert (status, answer["code"]) == (400, "40912")


async def test_each_kind_of_order_goes_only_by_its_own_endpoints() -> None:
    venue = FakeVenue(symbol_cancel_delay=0.1)
    normal, tpsl, plan = (venue.place("BTCUSDT", kind) for kind in (NORMAL, TPSL, PLAN))
    batch = {
        "batchMode": "multiple",
        "orderList": [{"orderId": o.order_id, "symbol": "BTCUSDT"} for o in (tpsl, plan)],
    }
    _, answer = await answer_of(venue, venue.signed("POST", BATCH_CANCEL, body=batch))
    assert answer["successList"] == []
    assert len(answer["failureList"]) == 2
    await answer_of(venue, venue.signed("POST", SYMBOL_CANCEL, body={"symbol": "BTCUSDT"}))
    await asyncio.sleep(0.2)
    assert not normal.open
    assert tpsl.open
    assert plan.open
    without_type = {"symbol": "BTCUSDT", "orderId": tpsl.order_id}
    status, answer = await answer_of(venue, venue.signed("POST", CANCEL_ORDER, body=without_type))
    assert (status, answer["code"]) == (400, "43001")  # a stop order without tpslType
    status, answer = await answer_of(
        venue, venue.signed("POST", CANCEL_PLAN, body={"orderId": tpsl.order_id})
    )
    assert (status, answer["code"]) == (400, "43025")
    assert tpsl.open
    with_type = {**without_type, "tpslType": "tpsl"}
    status, _ = await answer_of(venue, venue.signed("POST", CANCEL_ORDER, body=with_type))
    assert status == 200
    assert not tpsl.open
    status, answer = await answer_of(venue, venue.signed("POST", BATCH_CANCEL_PLAN, body={}))
    assert [item["orderId"] for item in answer["successList"]] == [plan.order_id]
    assert not plan.open


async def test_the_venue_pages_newest_first_below_the_cursor() -> None:
    venue = FakeVenue()
    normal = venue.place_many("BTCUSDT", 150)
    venue.place_many("BTCUSDT", 5, TPSL)
    plans = venue.place_many("BTCUSDT", 30, PLAN)
    _, first = await answer_of(venue, venue.signed("GET", UNFILLED, "limit=100"))
    assert [r["orderId"] for r in first] == [o.order_id for o in normal[::-1][:100]]
    query = f"limit=100&idLessThan={first[-1]['orderId']}"
    _, second = await answer_of(venue, venue.signed("GET", UNFILLED, query))
    assert [r["orderId"] for r in second] == [o.order_id for o in normal[::-1][100:]]
    _, stops = await answer_of(venue, venue.signed("GET", UNFILLED, "tpslType=tpsl"))
    assert {r["tpslType"] for r in stops} == {"tpsl"}
    assert len(stops) == 5
    _, page = await answer_of(venue, venue.signed("GET", PLAN_LIST, ""))  # 20 by default
    assert page["nextFlag"] is True
    assert [r["orderId"] for r in page["orderList"]] == [o.order_id for o in plans[::-1][:20]]
    query = f"idLessThan={page['idLessThan']}"
    _, last = await answer_of(venue, venue.signed("GET", PLAN_LIST, query))
    assert last["nextFlag"] is False
    assert len(last["orderList"]) == 10


async def test_the_venue_checks_signatures_clocks_and_limits() -> None:
    venue = FakeVenue()
    request = venue.signed("GET", UNFILLED, "limit=100")
    forged = dataclasses.replace(request, query="limit=99")
    status, answer = await answer_of(venue, forged)
    assert (status, answer["code"]) == (400, "40009")
    venue.server_time_offset = 31.0
    status, answer = await answer_of(venue, request)
    assert (status, answer["code"]) == (400, "40008")
    venue.server_time_offset = 0.0
    await asyncio.sleep(1.0)  # a fresh one-second window
    answers = await asyncio.gather(
        *(answer_of(venue, venue.signed("GET", UNFILLED, "limit=1")) for _ in range(21))
    )
    assert sorted(status for status, _ in answers) == [200] * 20 + [429]
