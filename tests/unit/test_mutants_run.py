"""The cancel run, pinned where mutation testing showed nothing noticed a change (issue 13).

Each test names the mutants it kills (``mutmut`` names, or the curated ones of
``tests/mutation/run_mutations.py``) and the behaviour it protects.
"""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelStatus,
    CancelTarget,
    Credentials,
    HttpRequest,
    HttpResponse,
    MockTransport,
    OrderKind,
)

from .fake_venue import (
    BATCH_CANCEL,
    CANCEL_ORDER,
    TPSL,
    Call,
    FakeVenue,
    Fault,
    Hang,
    ItemCode,
    Refuse,
    Script,
    always,
    credentials,
    engine_for,
)
from .test_no_leak import in_flight, settle

CREDS = Credentials(api_key="mutant-key", secret_key="s", passphrase="p")


def by_id(order_symbol: str, order_id: str, client_oid: str | None = None) -> CancelTarget:
    return CancelTarget(symbol=order_symbol, order_id=order_id, client_oid=client_oid)


# -- budget slots --------------------------------------------------------------------------------


async def test_a_caller_cancelled_at_any_step_leaves_no_slot_held() -> None:
    """Kills ``run.slot_not_released`` (``landed`` no longer releases the slot).

    A request task cancelled before it ever ran never reaches the session's own ``finally``;
    only the done-callback gives its slot back. The caller is cancelled after each number of
    loop steps in turn, so one of them lands between the launch and the task's first step."""
    for steps in range(40):
        venue = FakeVenue(latency=0.01)
        orders = venue.place_many("BTCUSDT", 120) + venue.place_many("ETHUSDT", 30)
        engine = engine_for(venue)
        call = asyncio.ensure_future(engine.cancel([by_id(o.symbol, o.order_id) for o in orders]))
        for _ in range(steps):
            await asyncio.sleep(0)
        call.cancel()
        await asyncio.gather(call, return_exceptions=True)
        await settle(engine)
        assert set(in_flight(engine).values()) == {0}, (steps, in_flight(engine))
        await engine.close()


async def test_a_slot_granted_with_nothing_left_to_send_is_given_back() -> None:
    """Kills ``run.slot_not_given_back_when_nothing_due``.

    TP/SL orders are cancelled by orderId only on v2: a TP/SL target named by clientOid is
    failed once its slot is granted, leaving nothing to send with that slot."""
    venue = FakeVenue()
    venue.place("BTCUSDT", TPSL, client_oid="tp-1")
    async with engine_for(venue) as engine:
        target = CancelTarget(symbol="BTCUSDT", client_oid="tp-1", kind=OrderKind.TPSL)
        report = await engine.cancel([target])
        (outcome,) = report.outcomes
        assert outcome.status is CancelStatus.FAILED
        assert "by orderId only" in (outcome.error_msg or "")
        assert venue.count(CANCEL_ORDER) == 0
        assert set(in_flight(engine).values()) == {0}, in_flight(engine)


# -- "does not exist" by orderId, and the clientOid -------------------------------------------


async def test_two_stale_order_ids_with_right_client_oids_are_both_cancelled() -> None:
    """Kills ``_run.xǁCancelRunǁ_not_open__mutmut_11`` (every clientOid retry shares one key,
    so only the first target is asked by its clientOid).

    Each target's orderId is unknown to the exchange; its clientOid names a live order."""
    venue = FakeVenue()
    live = [venue.place("BTCUSDT", client_oid=f"mine-{i}") for i in range(2)]
    stale = ["1100000000000000001", "1100000000000000002"]
    targets = [by_id("BTCUSDT", s, o.client_oid) for s, o in zip(stale, live, strict=True)]
    async with engine_for(venue) as engine:
        report = await engine.cancel(targets)
    assert [o.status for o in report.outcomes] == [CancelStatus.CANCELLED] * 2
    assert venue.open_orders() == []


async def test_targets_sharing_an_order_id_are_never_asked_by_one_of_their_client_oids() -> None:
    """Kills ``run.client_oid_fallback_repeats``.

    Two targets name one orderId with different clientOids: asking by either clientOid would
    answer for an order the other target never named. The orderId is unknown and no request
    names a clientOid; both clientOids are listed open, so neither target is confirmed not
    open (both were "not_open" before: a false all-clear)."""
    venue = FakeVenue()
    venue.place("BTCUSDT", client_oid="a")
    venue.place("BTCUSDT", client_oid="b")
    stale = "1100000000000000009"
    targets = [by_id("BTCUSDT", stale, "a"), by_id("BTCUSDT", stale, "b")]
    async with engine_for(venue) as engine:
        report = await engine.cancel(targets)
    assert [o.status for o in report.outcomes] == [CancelStatus.UNRESOLVED] * 2
    assert "disagree on its clientOid" in (report.outcomes[0].error_msg or "")
    assert len(venue.open_orders()) == 2
    assert all(c.ids() == [stale] for c in venue.calls_to(BATCH_CANCEL))


async def test_a_stale_tpsl_order_id_is_not_open_without_asking_by_client_oid() -> None:
    """Kills ``_run.xǁCancelRunǁ_not_open__mutmut_4`` (``askable`` true although the route
    cancels by orderId only).

    v2 cancels a TP/SL order by orderId only: after "does not exist" there is no clientOid
    question to ask (the exchange would refuse it). Unconfirmed, the order is not open; the
    confirmation finds its clientOid open in the TP/SL listing and cancels it by the orderId
    listed there: never a request by clientOid."""
    for confirm in (False, True):
        venue = FakeVenue()
        live = venue.place("BTCUSDT", TPSL, client_oid="tp-9")
        stale = "1100000000000000003"
        target = CancelTarget(
            symbol="BTCUSDT", order_id=stale, client_oid="tp-9", kind=OrderKind.TPSL
        )
        async with engine_for(venue) as engine:
            report = await engine.cancel([target], confirm=confirm)
        (outcome,) = report.outcomes
        sent = [call.body.get("orderId") for call in venue.calls_to(CANCEL_ORDER)]
        if confirm:
            assert outcome.status is CancelStatus.CANCELLED
            assert sent == [stale, live.order_id]
        else:
            assert outcome.status is CancelStatus.NOT_OPEN
            assert outcome.error_code == "43001"
            assert sent == [stale]
        assert all("clientOid" not in call.body for call in venue.calls_to(CANCEL_ORDER))


# -- credentials refused while other requests are out -----------------------------------------


def _delayed(venue: FakeVenue, symbol: str, delay: float) -> MockTransport:
    """The venue, with every request naming ``symbol`` held ``delay`` seconds on the way."""

    async def handle(request: HttpRequest) -> HttpResponse:
        if symbol.encode() in request.body:
            await asyncio.sleep(delay)
        return await venue.handle(request)

    return MockTransport(handle)


def _per_symbol(faults: dict[str, Fault]) -> Script:
    def script(call: Call) -> Fault | None:
        symbol = call.body.get("symbol") if isinstance(call.body, dict) else None
        return faults.get(symbol) if isinstance(symbol, str) else None

    return script


async def test_a_refusal_leaves_answers_in_flight_to_be_taken_and_hung_ones_unresolved() -> None:
    """Kills ``run.in_flight_not_drained``, ``_run.xǁCancelRunǁ_drain_in_flight__mutmut_1`` and
    ``run.refusal_fails_in_flight_orders``.

    One batch is refused for the credentials, one is answered half a second later (its
    answer is still taken: cancelled), one is never answered (the cancel may have happened:
    unresolved, never "failed, not sent")."""
    venue = FakeVenue()
    btc = venue.place_many("BTCUSDT", 3)
    eth = venue.place_many("ETHUSDT", 3)
    sol = venue.place_many("SOLUSDT", 3)
    venue.script[BATCH_CANCEL] = _per_symbol(
        {"BTCUSDT": Refuse(400, "40006", "Invalid ACCESS_KEY"), "ETHUSDT": Hang()}
    )
    engine = CancelEngine(
        credentials(venue),
        transport=_delayed(venue, "SOLUSDT", 0.5),
        wall_clock=venue.wall_clock,
        rng=random.Random(3),
        account="classic",
        request_timeout=30.0,
    )
    async with engine:
        report = await engine.cancel(
            [by_id(o.symbol, o.order_id) for o in btc + eth + sol], mode="single", deadline=5
        )
    status = {o.target.order_id: o for o in report.outcomes}
    assert report.refused_code == "40006"
    for order in btc:
        assert status[order.order_id].status is CancelStatus.FAILED
        assert status[order.order_id].error_code == "40006"
    for order in sol:
        assert status[order.order_id].status is CancelStatus.CANCELLED
    for order in eth:
        outcome = status[order.order_id]
        assert outcome.status is CancelStatus.UNRESOLVED
        assert "may have happened" in (outcome.error_msg or "")
    assert venue.open_orders() == btc + eth


async def test_a_credentials_refusal_inside_an_answer_stops_the_call() -> None:
    """Kills ``run.item_credentials_do_not_stop`` and
    ``_run.xǁCancelRunǁ_apply_items__mutmut_107`` / ``_108`` / ``_112`` (the refusal not
    recorded, or recorded without its code).

    A failureList item with a credentials code (40014, permissions) is about the key, not the
    order: batches still waiting for a slot are not sent, and the report names the code."""
    venue = FakeVenue()
    orders = venue.place_many("BTCUSDT", 600)  # 12 batches: 10 go at once, 2 wait a second
    bad = orders[0].order_id  # in the first batch
    venue.script[BATCH_CANCEL] = always(
        ItemCode("40014", "Incorrect permissions", frozenset({bad}))
    )
    async with engine_for(venue) as engine:
        report = await engine.cancel([by_id(o.symbol, o.order_id) for o in orders])
    assert report.refused_code == "40014"
    assert any("40014" in p for p in report.problems), report.problems
    assert venue.count(BATCH_CANCEL) == 10
    not_sent = [o for o in report.failed if "not sent" in (o.error_msg or "")]
    assert len(not_sent) == 100
    assert len(venue.open_orders()) == 101


# -- what the report says --------------------------------------------------------------------


async def test_an_order_left_waiting_for_a_retry_reports_its_last_error_and_code() -> None:
    """Kills ``_run.xǁCancelRunǁ_unresolved_reason__mutmut_10`` .. ``_13`` (the last error
    dropped from the reason) and ``_run.xǁCancelRunǁ_apply_items__mutmut_97`` (the code of a
    transient item dropped).

    Every answer says 40725 for the order: at the deadline it is unresolved, and says why."""
    venue = FakeVenue()
    (order,) = venue.place_many("BTCUSDT", 1)
    venue.script[BATCH_CANCEL] = lambda call: ItemCode("40725", "service return an error")
    async with engine_for(venue) as engine:
        report = await engine.cancel([by_id("BTCUSDT", order.order_id)], deadline=0.5)
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.UNRESOLVED
    assert outcome.error_code == "40725"
    assert outcome.error_msg == (
        "deadline of 0.5s passed before a retry could be sent; last error: service return an error"
    )


async def test_a_whole_request_refused_transiently_keeps_its_code_when_it_gives_up() -> None:
    """Kills ``_run.xǁCancelRunǁ_apply__mutmut_42`` (a retried request's code dropped)."""
    venue = FakeVenue()
    (order,) = venue.place_many("BTCUSDT", 1)
    venue.script[BATCH_CANCEL] = lambda call: Refuse(503, "40015", "System is abnormal")
    async with engine_for(venue, max_attempts=2) as engine:
        report = await engine.cancel([by_id("BTCUSDT", order.order_id)])
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.UNRESOLVED
    assert outcome.error_code == "40015"
    assert outcome.attempts == 2


async def test_an_interrupted_call_says_interrupted_not_deadline() -> None:
    """Kills ``_run.xǁCancelRunǁ_unresolved_reason__mutmut_5`` (a call stopped before its
    deadline blamed on the deadline)."""
    venue = FakeVenue()
    (order,) = venue.place_many("BTCUSDT", 1)
    venue.script[BATCH_CANCEL] = lambda call: Refuse(503, "40015", "System is abnormal")
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    async with engine_for(venue) as engine:
        report = await engine.cancel([by_id("BTCUSDT", order.order_id)], deadline=30, stop=stop)
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.UNRESOLVED
    assert (outcome.error_msg or "").startswith("the call was interrupted"), outcome.error_msg


async def test_orders_of_a_split_batch_count_one_attempt_each() -> None:
    """Kills ``_run.xǁCancelRunǁ_apply__mutmut_58`` / ``_59`` (a split counted as an attempt).

    One malformed orderId refuses its whole batch (40402); the batch is halved until the bad
    one is alone. The good orders were each cancelled by one request: one attempt."""
    venue = FakeVenue()
    orders = venue.place_many("BTCUSDT", 8)
    targets = [by_id(o.symbol, o.order_id) for o in orders]
    targets.append(by_id("BTCUSDT", "12x"))  # refused by the exchange as malformed
    async with engine_for(venue) as engine:
        report = await engine.cancel(targets)
    assert len(report.cancelled) == 8
    assert {o.attempts for o in report.cancelled} == {1}
    (bad,) = report.failed
    assert bad.error_code == "40402"
    assert bad.attempts == 1


async def test_progress_counts_every_final_outcome_up_to_the_total() -> None:
    """Kills ``_run.xǁCancelRunǁ_finish__mutmut_1`` .. ``_5`` and
    ``_run.xǁCancelRunǁ_report_progress__mutmut_1`` .. ``_5`` (the progress callback not
    called, or called with wrong counts)."""
    venue = FakeVenue()
    orders = venue.place_many("BTCUSDT", 120)
    seen: list[tuple[int, int]] = []
    async with engine_for(venue) as engine:
        await engine.cancel(
            [by_id(o.symbol, o.order_id) for o in orders],
            progress=lambda done, total: seen.append((done, total)),
        )
    assert seen, "progress was never called"
    assert {total for _, total in seen} == {120}
    done = [d for d, _ in seen]
    assert done == sorted(done)
    assert done[-1] == 120
    assert len(seen) == 120  # once per order reaching its outcome


async def test_a_progress_callback_that_raises_is_dropped_and_the_cancel_goes_on() -> None:
    """Kills ``_run.xǁCancelRunǁ_report_progress__mutmut_9`` (a failing callback kept, and
    called again for every order)."""
    venue = FakeVenue()
    orders = venue.place_many("BTCUSDT", 60)
    calls = 0

    def broken(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("display bug")

    async with engine_for(venue) as engine:
        report = await engine.cancel([by_id(o.symbol, o.order_id) for o in orders], progress=broken)
    assert report.all_closed
    assert calls == 1


async def test_a_one_order_success_of_an_unexpected_shape_is_never_read_as_cancelled() -> None:
    """Kills ``run.unexpected_shape_cancelled``: cancel-plan-order answering "00000" with data
    that is not ``{"result": "success"}`` says nothing sure about the order: asked again, and
    unresolved in the end, never cancelled."""
    calls = 0

    async def handler(request: HttpRequest) -> HttpResponse:
        nonlocal calls
        calls += 1
        body = {"code": "00000", "msg": "success", "data": {"result": "fail"}}
        return HttpResponse(200, json.dumps(body).encode())

    engine = CancelEngine(
        CREDS, transport=MockTransport(handler), account="classic", max_attempts=3
    )
    target = CancelTarget(symbol="BTCUSDT", order_id="77", kind=OrderKind.PLAN)
    async with engine:
        report = await engine.cancel([target])
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.UNRESOLVED
    assert "unexpected shape" in (outcome.error_msg or "")
    assert calls == 3


async def test_nothing_is_sent_once_the_deadline_has_passed() -> None:
    """A free budget slot is handed out without a wait: the session still refuses to send
    after the call's deadline (a listing page, a retry) and says so."""
    from bitget_cancel._exceptions import CallStopped
    from bitget_cancel._policy import CallScope, Deadline
    from bitget_cancel._session import CallStats
    from bitget_cancel._wire import UNFILLED_CODEC, UNFILLED_ORDERS

    sent: list[HttpRequest] = []

    async def handler(request: HttpRequest) -> HttpResponse:
        sent.append(request)
        return HttpResponse(200, b'{"code":"00000","data":[]}')

    engine = CancelEngine(CREDS, transport=MockTransport(handler), account="classic")
    session = engine._session_here()
    scope = CallScope(Deadline(0.5, session.loop))
    await asyncio.sleep(1.0)
    with pytest.raises(CallStopped, match="deadline"):
        await session.call(UNFILLED_ORDERS, UNFILLED_CODEC, scope, CallStats())
    assert sent == []
    await engine.close()
