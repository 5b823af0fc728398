"""Every code of ``shared/bitget/*.md`` on every endpoint that can return it, through the real
cancel and panic code paths against the in-process venue: the same answer gets the same
verdict from ``cancel()`` and from a panic, and every listing and bulk cancel reacts to it as
the classifier says (issue 9: HTTP 200 + 40006 anywhere ends a panic within one round)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest

from bitget_cancel import CancelReport, CancelStatus, CancelTarget, OrderKind

from .fake_venue import (
    BATCH_CANCEL,
    BATCH_CANCEL_PLAN,
    CANCEL_ORDER,
    CANCEL_PLAN,
    NORMAL,
    PLAN,
    PLAN_LIST,
    SYMBOL_CANCEL,
    TIME,
    TPSL,
    UNFILLED,
    After,
    Call,
    FakeVenue,
    Fault,
    ItemCode,
    Refuse,
    engine_for,
    seq,
)
from .test_classify import GROUPS

CODES = [(group, code, msg) for group, codes in GROUPS.items() for code, msg in codes]
CODE_IDS = [f"{group}-{code}" for group, code, _ in CODES]
RETRIED = {"throttled", "transient", "clock"}
KIND_OF = {NORMAL: OrderKind.NORMAL, TPSL: OrderKind.TPSL, PLAN: OrderKind.PLAN}
CANCEL_ENDPOINT = {NORMAL: BATCH_CANCEL, TPSL: CANCEL_ORDER, PLAN: CANCEL_PLAN}
LATENCY = 0.010


def answer(group: str, code: str, msg: str, status: int) -> Fault:
    """The scripted answer. A "does not exist" is true: the order is gone when it is said."""
    if group == "not_open":
        return After(status, code, msg)
    return Refuse(status, code, msg)


@dataclass(frozen=True)
class Reaction:
    """What the engine did with one scripted answer about some orders."""

    outcomes: tuple[tuple[CancelStatus, str | None], ...]  # per target; the code if FAILED
    resent: bool  # the same endpoint was asked about those orders again
    clock_read: bool  # the exchange's clock was read after the answer
    split: bool  # asked again in smaller requests
    sent_after: int  # requests sent once the answer was in
    gap: float | None  # seconds from the answer to the next request about those orders


def react(
    venue: FakeVenue, endpoint: str, targets: Sequence[CancelTarget], report: CancelReport
) -> Reaction:
    by_target = {o.target: o for o in report.outcomes}
    outcomes = tuple(
        (
            by_target[t].status,
            by_target[t].error_code if by_target[t].status is CancelStatus.FAILED else None,
        )
        for t in targets
    )
    calls = venue.calls_to(endpoint)
    first = calls[0]
    assert first.answered_at is not None, "the scripted request was answered"
    back = first.answered_at + LATENCY / 2
    wanted = {t.order_id for t in targets}
    later = [c for c in calls[1:] if wanted & set(c.ids())]
    return Reaction(
        outcomes,
        resent=bool(later),
        clock_read=any(c.sent_at >= back for c in venue.calls_to(TIME)),
        split=any(len(c.ids()) < len(first.ids()) for c in later),
        sent_after=sum(1 for c in venue.calls if c.sent_at >= back),
        gap=later[0].sent_at - back if later else None,
    )


def same(cancel: Reaction, panic: Reaction) -> bool:
    """The same verdict: outcomes, re-sends (and when), clock reads and splits (a panic also
    lists, so what else it sends is its own)."""
    keys = ("outcomes", "resent", "clock_read", "split")
    return all(getattr(cancel, k) == getattr(panic, k) for k in keys) and pause(
        cancel.gap
    ) == pause(panic.gap)


def pause(gap: float | None) -> str:
    """How long the engine waited before asking again: not at all, a backoff, a pause."""
    if gap is None:
        return "not asked again"
    return "immediately" if gap == 0 else "backoff" if gap < 1.0 else "pause"


def expected(group: str, orders: int, code: str) -> Callable[[Reaction], None]:
    """The reaction the classifier's verdict calls for."""

    def check(seen: Reaction) -> None:
        statuses = {status for status, _ in seen.outcomes}
        if group == "not_open" and orders == 1:
            assert statuses == {CancelStatus.NOT_OPEN}
            assert not seen.resent
        elif group == "not_open":
            # About several orders it says nothing of each: each is asked again.
            assert statuses == {CancelStatus.NOT_OPEN}
            assert seen.resent
        elif group in RETRIED:
            assert statuses == {CancelStatus.CANCELLED}
            assert seen.resent
            assert seen.clock_read == (group == "clock")
            assert seen.gap is not None
            if group == "throttled":
                assert seen.gap >= 1.0  # the budget pauses before anything more goes
            elif group == "transient":
                assert 0 < seen.gap < 1.0  # a backoff, not a pause
        elif group == "content" and orders > 1:
            assert statuses == {CancelStatus.CANCELLED}
            assert seen.split
        elif group == "credentials":
            assert set(seen.outcomes) == {(CancelStatus.FAILED, code)}
            assert seen.sent_after == 0  # the call stops at the first refusal
        else:  # unknown, content about one order, wrong account
            assert set(seen.outcomes) == {(CancelStatus.FAILED, code)}
            assert not seen.resent

    return check


async def cancel_path(
    venue: FakeVenue, targets: list[CancelTarget], endpoint: str
) -> tuple[Reaction, CancelReport]:
    async with engine_for(venue) as engine:
        report = await engine.cancel(targets, deadline=30)
    return react(venue, endpoint, targets, report), report


async def panic_path(
    venue: FakeVenue, targets: list[CancelTarget], endpoint: str, kind: OrderKind
) -> tuple[Reaction, CancelReport]:
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(
            ["BTCUSDT"], targets=targets, kinds=[kind], use_symbol_cancel=False, deadline=30
        )
    return react(venue, endpoint, targets, report), report


def book(kind: str, orders: int) -> tuple[FakeVenue, list[CancelTarget]]:
    venue = FakeVenue(latency=LATENCY)
    placed = venue.place_many("BTCUSDT", orders, kind)
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id=o.order_id, kind=KIND_OF[kind]) for o in placed
    ]
    return venue, targets


CANCEL_CASES = [
    # (kind, orders named by the request, HTTP status of the answer)
    (NORMAL, 2, 400),
    (NORMAL, 2, 200),
    (NORMAL, 1, 400),
    (TPSL, 1, 400),
    (TPSL, 1, 200),
    (PLAN, 1, 400),
]


@pytest.mark.parametrize(("kind", "orders", "status"), CANCEL_CASES)
@pytest.mark.parametrize(("group", "code", "msg"), CODES, ids=CODE_IDS)
async def test_a_whole_cancel_answer_gets_the_same_verdict_in_cancel_and_in_panic(
    group: str, code: str, msg: str, kind: str, orders: int, status: int
) -> None:
    endpoint = CANCEL_ENDPOINT[kind]
    reactions = []
    for path in ("cancel", "panic"):
        venue, targets = book(kind, orders)
        venue.script[endpoint] = seq(answer(group, code, msg, status))
        if path == "cancel":
            seen, report = await cancel_path(venue, targets, endpoint)
        else:
            seen, report = await panic_path(venue, targets, endpoint, OrderKind(kind))
            if group == "credentials":
                assert any(code in p for p in report.problems), report.problems
        expected(group, orders, code)(seen)
        reactions.append(seen)
    assert same(reactions[0], reactions[1])


@pytest.mark.parametrize(("group", "code", "msg"), CODES, ids=CODE_IDS)
async def test_a_failure_list_item_gets_the_same_verdict_in_cancel_and_in_panic(
    group: str, code: str, msg: str
) -> None:
    reactions = []
    for path in ("cancel", "panic"):
        venue, targets = book(NORMAL, 2)
        venue.script[BATCH_CANCEL] = seq(ItemCode(code, msg, close=group == "not_open"))
        if path == "cancel":
            seen, _ = await cancel_path(venue, targets, BATCH_CANCEL)
        else:
            seen, _ = await panic_path(venue, targets, BATCH_CANCEL, OrderKind.NORMAL)
        statuses = {status for status, _ in seen.outcomes}
        if group == "not_open":
            assert statuses == {CancelStatus.NOT_OPEN}
            assert not seen.resent
        elif group in RETRIED:
            assert statuses == {CancelStatus.CANCELLED}
            assert seen.resent
            assert not seen.split
        elif group == "credentials":
            assert set(seen.outcomes) == {(CancelStatus.FAILED, code)}
            assert seen.sent_after == 0
        else:  # an item is about its order alone: nothing to split, nothing to switch
            assert set(seen.outcomes) == {(CancelStatus.FAILED, code)}
            assert not seen.resent
        reactions.append(seen)
    assert same(reactions[0], reactions[1])


@pytest.mark.parametrize("status", [500, 502, 503])
@pytest.mark.parametrize(("group", "code", "msg"), CODES, ids=CODE_IDS)
async def test_server_trouble_with_any_code_is_asked_again_in_cancel_and_in_panic(
    group: str, code: str, msg: str, status: int
) -> None:
    reactions = []
    for path in ("cancel", "panic"):
        venue, targets = book(NORMAL, 2)
        venue.script[BATCH_CANCEL] = seq(Refuse(status, code, msg))
        if path == "cancel":
            seen, _ = await cancel_path(venue, targets, BATCH_CANCEL)
        else:
            seen, _ = await panic_path(venue, targets, BATCH_CANCEL, OrderKind.NORMAL)
        if group in ("credentials", "wrong_account"):
            # The account's refusal is the exchange talking, whatever the status.
            assert set(seen.outcomes) == {(CancelStatus.FAILED, code)}
        else:
            assert {status for status, _ in seen.outcomes} == {CancelStatus.CANCELLED}
            assert seen.resent
            assert not seen.split
        reactions.append(seen)
    assert same(reactions[0], reactions[1])


# -- listings and bulk cancels (the panic's own requests) ---------------------------------------

LISTINGS = [(UNFILLED, NORMAL), (UNFILLED, TPSL), (PLAN_LIST, PLAN)]


@pytest.mark.parametrize("status", [400, 200])
@pytest.mark.parametrize(("endpoint", "kind"), LISTINGS, ids=[k for _, k in LISTINGS])
@pytest.mark.parametrize(("group", "code", "msg"), CODES, ids=CODE_IDS)
async def test_a_listing_answer(
    group: str, code: str, msg: str, endpoint: str, kind: str, status: int
) -> None:
    venue = FakeVenue(latency=LATENCY)
    venue.place_many("BTCUSDT", 3, kind)
    first: list[Fault | None] = [Refuse(status, code, msg)]

    def script(call: Call) -> Fault | None:
        return first.pop() if first and call.kind == kind else None

    venue.script[endpoint] = script
    loop = asyncio.get_running_loop()
    async with engine_for(venue) as engine:
        start = loop.time()
        report = await engine.panic_cancel(deadline=30)
        took = loop.time() - start
    summary = report.by_kind[kind]
    refused = next(c for c in venue.calls_to(endpoint) if c.kind == kind)
    assert refused.code == code
    if group in RETRIED:
        # Asked again, then listed, cancelled and confirmed.
        assert report.account_empty
        assert venue.open_orders() == []
        assert summary.cancelled == 3
        assert (venue.count(TIME) > 0) == (group == "clock")
    elif group == "credentials":
        assert refused.answered_at is not None
        back = refused.answered_at + LATENCY / 2
        assert [c for c in venue.calls if c.sent_at >= back] == []
        assert not report.account_empty
        assert any(code in p and "credentials" in p for p in report.problems), report.problems
        assert len(venue.open_orders()) == 3
    else:
        # Refused in a way repeating cannot change: that kind is unconfirmed, with the code,
        # and never read as empty; the panic does not wait for its deadline.
        assert not summary.confirmed_empty
        assert summary.problem is not None
        assert code in summary.problem
        assert not report.account_empty
        assert not report.all_closed
        assert took < 5
    others = [k for k in (NORMAL, TPSL, PLAN) if k != kind]
    if group != "credentials":
        assert all(report.by_kind[k].confirmed_empty for k in others)


BULKS = [(SYMBOL_CANCEL, NORMAL, 60, BATCH_CANCEL), (BATCH_CANCEL_PLAN, PLAN, 3, CANCEL_PLAN)]


@pytest.mark.parametrize(("endpoint", "kind", "orders", "by_id"), BULKS, ids=[b[0] for b in BULKS])
@pytest.mark.parametrize(("group", "code", "msg"), CODES, ids=CODE_IDS)
async def test_a_bulk_cancel_answer(
    group: str, code: str, msg: str, endpoint: str, kind: str, orders: int, by_id: str
) -> None:
    venue = FakeVenue(latency=LATENCY)
    venue.place_many("BTCUSDT", orders, kind)
    venue.script[endpoint] = seq(Refuse(400, code, msg))
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(deadline=30)
    if group == "credentials":
        refused = venue.calls_to(endpoint)[0]
        assert refused.answered_at is not None
        back = refused.answered_at + LATENCY / 2
        assert [c for c in venue.calls if c.sent_at >= back] == []
        assert not report.account_empty
        assert any(code in p and "credentials" in p for p in report.problems), report.problems
        return
    assert report.account_empty
    assert venue.open_orders() == []
    if group in RETRIED:
        assert venue.count(endpoint) == 2  # asked again
        assert venue.count(by_id) == 0
    else:
        # Refused for good: every order it was to close goes by id instead.
        assert venue.count(endpoint) == 1
        assert venue.count(by_id) >= 1


async def test_http_200_with_40006_everywhere_ends_a_panic_within_one_round() -> None:
    """Issue 9: the answer `cancel()` fails at once must stop a panic just as fast."""
    venue = FakeVenue(latency=LATENCY)
    venue.place_many("BTCUSDT", 120)
    venue.place_many("BTCUSDT", 2, TPSL)
    venue.place_many("BTCUSDT", 2, PLAN)
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id=o.order_id, kind=KIND_OF[o.kind])
        for o in venue.orders[::10]
    ]
    for name in (BATCH_CANCEL, CANCEL_ORDER, CANCEL_PLAN, SYMBOL_CANCEL, BATCH_CANCEL_PLAN):
        venue.script[name] = lambda call: Refuse(200, "40006", "Invalid ACCESS_KEY")
    for name in (UNFILLED, PLAN_LIST):
        venue.script[name] = lambda call: Refuse(200, "40006", "Invalid ACCESS_KEY")
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(targets=targets)
    assert max(venue.counts().values()) == 1, venue.counts()
    assert report.passes == 1
    assert {(o.status, o.error_code) for o in report.outcomes} == {(CancelStatus.FAILED, "40006")}
    assert any("40006" in p for p in report.problems)
    assert not report.account_empty


@pytest.mark.parametrize("path", ["cancel", "panic"])
@pytest.mark.parametrize("position", [0, 17, 49])
async def test_one_malformed_order_id_fails_alone_and_its_neighbours_are_cancelled(
    path: str, position: int
) -> None:
    """Issue 13 (9): the venue refuses the whole batch with 40402 for one malformed orderId."""
    venue, targets = book(NORMAL, 49)
    bad = CancelTarget(symbol="BTCUSDT", order_id="1234-5")
    targets.insert(position, bad)
    async with engine_for(venue) as engine:
        if path == "cancel":
            report: CancelReport = await engine.cancel(targets)
        else:
            report = await engine.panic_cancel(
                ["BTCUSDT"], targets=targets, kinds=["normal"], use_symbol_cancel=False
            )
    by_target = {o.target: o for o in report.outcomes}
    assert (by_target[bad].status, by_target[bad].error_code) == (CancelStatus.FAILED, "40402")
    others = [by_target[t] for t in targets if t is not bad]
    assert {o.status for o in others} == {CancelStatus.CANCELLED}
    assert venue.open_orders() == []
    refusals = [c for c in venue.calls_to(BATCH_CANCEL) if c.code == "40402"]
    assert len(refusals) <= 7  # halving 50 down to the one: at most log2(50) + 1 refusals
    assert refusals[-1].ids() == ["1234-5"]
