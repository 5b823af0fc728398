"""One engine shared by many tasks: deadlines hold under contention, the panic goes first,
concurrent calls share batches. Virtual time: every timing asserted here is exact."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelOutcome,
    CancelStatus,
    CancelTarget,
    Credentials,
    EngineClosed,
    InvalidArgument,
    InvalidTarget,
    NoEventLoop,
    OrderKind,
    install_panic_handler,
)
from bitget_cancel._limit import RateBudget
from bitget_cancel._metrics import Metrics
from bitget_cancel._policy import MIN_REQUEST_TIMEOUT

from .fake_venue import BATCH_CANCEL as FAKE_BATCH_CANCEL
from .fake_venue import UNFILLED as FAKE_UNFILLED
from .fake_venue import FakeVenue
from .fake_venue import engine_for as fake_venue_engine
from .scripted_exchange import (
    HANG_AFTER,
    OK,
    THROTTLE,
    TIMEOUT_AFTER,
    TRANSIENT_CODE,
    ScriptedExchange,
    Step,
)

CREDS = Credentials(api_key="shared-key", secret_key="shared-secret", passphrase="shared-pass")


def book(exchange: ScriptedExchange, n: int, prefix: int = 90_000) -> list[CancelTarget]:
    targets = []
    for i in range(n):
        symbol = f"S{i % 7}USDT"
        exchange.place(symbol, str(prefix + i))
        targets.append(CancelTarget(symbol=symbol, order_id=str(prefix + i)))
    return targets


def engine_for(exchange: ScriptedExchange, **kwargs: Any) -> CancelEngine:
    kwargs.setdefault("rng", random.Random(5))
    return CancelEngine(
        CREDS, transport=exchange.transport(), wall_clock=exchange.wall_clock, **kwargs
    )


def sent_ids(exchange: ScriptedExchange) -> list[str]:
    return [o["orderId"] for body in exchange.bodies for o in body["orderList"]]


# -- item 1: a deadline holds while another call runs ----------------------------------------


async def test_a_queued_waiter_gives_up_at_its_own_deadline_not_at_its_turn() -> None:
    loop = asyncio.get_running_loop()
    budget = RateBudget(1, 1.0, margin=0.0)
    held = await budget.acquire()
    assert held is not None
    patient = loop.create_task(budget.acquire())  # first in line, no deadline
    await asyncio.sleep(0)
    start = loop.time()
    assert await budget.acquire(deadline=start + 0.3) is None
    assert loop.time() - start == pytest.approx(0.3)
    assert not patient.done()
    held.release()
    slot = await patient
    assert slot is not None
    slot.release()


async def test_a_waiter_that_gave_up_does_not_hold_back_the_ones_behind_it() -> None:
    loop = asyncio.get_running_loop()
    budget = RateBudget(1, 1.0, margin=0.0)
    held = await budget.acquire()
    assert held is not None
    quitter = loop.create_task(budget.acquire(deadline=loop.time() + 0.1))
    behind = loop.create_task(budget.acquire())
    await asyncio.sleep(0.2)
    assert quitter.done()
    assert quitter.result() is None
    held.release()  # the slot frees one period after the release
    slot = await behind
    assert slot is not None
    slot.release()


async def test_a_call_with_a_deadline_sends_nothing_behind_a_long_cancel_and_returns_on_time() -> (
    None
):
    exchange = ScriptedExchange(latency=0.05)
    big = book(exchange, 1000)
    small = book(exchange, 5, prefix=50_000)
    loop = asyncio.get_running_loop()
    async with engine_for(exchange) as engine:
        long_call = loop.create_task(engine.cancel(big))
        await asyncio.sleep(0.01)  # the first ten batches of the long call are on their way
        start = loop.time()
        report = await engine.cancel(small, deadline=0.3)
        took = loop.time() - start
        await long_call
    assert took <= 0.3
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    assert all("before it could be sent" in (o.error_msg or "") for o in report.outcomes)
    assert not set(sent_ids(exchange)) & {t.order_id for t in small}
    assert report.requests == 0


async def test_a_request_is_not_sent_when_the_deadline_leaves_no_useful_timeout() -> None:
    # rate 1/s: the second call's slot frees 1.002 s after the first answer (at 1.102 s),
    # 0.018 s before its deadline: too little for a request, so nothing is sent.
    exchange = ScriptedExchange(latency=0.1)
    first = book(exchange, 1)
    second = book(exchange, 1, prefix=50_000)
    loop = asyncio.get_running_loop()
    async with engine_for(exchange, rate_limit=1) as engine:
        await engine.cancel(first)
        start = loop.time() - 0.1  # the first request went 0.1 s ago
        report = await engine.cancel(second, deadline=1.12 - 0.1)
        took = loop.time() - start
    assert len(exchange.bodies) == 1
    assert report.outcomes[0].status is CancelStatus.UNRESOLVED
    assert "before it could be sent" in (report.outcomes[0].error_msg or "")
    assert took == pytest.approx(1.12 - MIN_REQUEST_TIMEOUT)


# -- item 3: concurrent calls share batches ---------------------------------------------------


async def test_thirty_tasks_of_two_orders_send_the_two_requests_one_call_would() -> None:
    exchange = ScriptedExchange(latency=0.05)
    per_task = [book(exchange, 2, prefix=10_000 * (i + 1)) for i in range(30)]
    loop = asyncio.get_running_loop()
    took: list[float] = []
    async with engine_for(exchange) as engine:

        async def one(targets: list[CancelTarget]) -> None:
            start = loop.time()
            report = await engine.cancel(targets)
            took.append(loop.time() - start)
            assert [o.target for o in report.outcomes] == targets
            assert report.all_closed
            assert report.requests == 1  # the one request that carried its orders

        await asyncio.gather(*(one(targets) for targets in per_task))
    assert len(exchange.bodies) == 2
    assert sorted(len(body["orderList"]) for body in exchange.bodies) == [10, 50]
    assert exchange.violations == []
    assert not exchange.open_orders
    # Alone, each call takes one round trip; sharing makes none of them wait longer.
    assert took == pytest.approx([0.05] * 30)


async def test_each_call_gets_its_own_outcomes_from_a_shared_answer() -> None:
    exchange = ScriptedExchange(latency=0.05)
    mine = book(exchange, 3, prefix=10_000)
    theirs = book(exchange, 3, prefix=20_000)
    unknown_mine = CancelTarget(symbol="S0USDT", order_id="77")
    unknown_theirs = CancelTarget(symbol="S1USDT", order_id="88")
    async with engine_for(exchange) as engine:
        first, second = await asyncio.gather(
            engine.cancel([*mine, unknown_mine]), engine.cancel([unknown_theirs, *theirs])
        )
    assert len(exchange.bodies) == 1
    assert [o.target for o in first.outcomes] == [*mine, unknown_mine]
    assert [o.target for o in second.outcomes] == [unknown_theirs, *theirs]
    assert [o.status for o in first.outcomes] == [CancelStatus.CANCELLED] * 3 + [
        CancelStatus.NOT_OPEN
    ]
    assert [o.status for o in second.outcomes] == [CancelStatus.NOT_OPEN] + [
        CancelStatus.CANCELLED
    ] * 3


async def test_a_shared_request_that_fails_is_retried_for_every_call_it_carried() -> None:
    exchange = ScriptedExchange(latency=0.05, steps=[Step(TRANSIENT_CODE)])
    mine = book(exchange, 2, prefix=10_000)
    theirs = book(exchange, 2, prefix=20_000)
    async with engine_for(exchange) as engine:
        first, second = await asyncio.gather(engine.cancel(mine), engine.cancel(theirs))
    assert first.all_closed
    assert second.all_closed
    assert [o.attempts for o in (*first.outcomes, *second.outcomes)] == [2] * 4
    sizes = [len(body["orderList"]) for body in exchange.bodies]
    assert sizes[0] == 4
    assert sum(sizes[1:]) == 4  # (retries ride together when due together, as in one call)


async def test_a_call_whose_deadline_passed_leaves_the_shared_request_to_the_others() -> None:
    # rate 1/s: while the first request is answered, two calls wait for the next slot; the
    # one with a deadline gives up before it frees, and the request carries only the other.
    exchange = ScriptedExchange(latency=0.1)
    first = book(exchange, 1)
    hasty = book(exchange, 2, prefix=20_000)
    patient = book(exchange, 2, prefix=30_000)
    loop = asyncio.get_running_loop()
    async with engine_for(exchange, rate_limit=1) as engine:
        started = loop.create_task(engine.cancel(first))
        await asyncio.sleep(0)
        short, long = await asyncio.gather(
            engine.cancel(hasty, deadline=0.5), engine.cancel(patient)
        )
        await started
    assert {o.status for o in short.outcomes} == {CancelStatus.UNRESOLVED}
    assert long.all_closed
    assert [sorted(o["orderId"] for o in body["orderList"]) for body in exchange.bodies] == [
        [t.order_id for t in first],
        sorted(t.order_id or "" for t in patient),
    ]


async def test_a_call_cancelled_from_outside_does_not_take_the_others_answers_with_it() -> None:
    exchange = ScriptedExchange(latency=0.5)
    mine = book(exchange, 2, prefix=10_000)
    theirs = book(exchange, 2, prefix=20_000)
    loop = asyncio.get_running_loop()
    async with engine_for(exchange) as engine:
        owner = loop.create_task(engine.cancel(mine))  # its slot comes first
        rider = loop.create_task(engine.cancel(theirs))
        await asyncio.sleep(0.1)  # the shared request is on its way
        owner.cancel()
        report = await rider
    assert len(exchange.bodies) == 1
    assert report.all_closed
    assert [o.attempts for o in report.outcomes] == [1, 1]


async def test_the_same_order_named_by_two_calls_never_goes_twice_in_one_request() -> None:
    exchange = ScriptedExchange(latency=0.05)
    shared = book(exchange, 3)
    async with engine_for(exchange) as engine:
        first, second = await asyncio.gather(engine.cancel(shared), engine.cancel(shared))
    assert exchange.violations == []
    assert first.all_closed
    assert second.all_closed  # one of them was told "not open": closed all the same
    assert len(exchange.bodies) == 2


async def test_calls_of_different_modes_do_not_share_a_request() -> None:
    exchange = ScriptedExchange(latency=0.05)
    single = book(exchange, 2, prefix=10_000)
    auto = book(exchange, 2, prefix=20_000)
    async with engine_for(exchange) as engine:
        await asyncio.gather(engine.cancel(single, mode="single"), engine.cancel(auto))
    assert len(exchange.bodies) == 3  # single mode: one request per symbol
    assert exchange.violations == []


# -- item 4: a panic goes first ---------------------------------------------------------------


async def test_a_waiter_first_in_line_is_served_before_those_that_queued_earlier() -> None:
    loop = asyncio.get_running_loop()
    budget = RateBudget(1, 1.0, margin=0.0)
    held = await budget.acquire()
    assert held is not None
    served: list[str] = []

    async def wait(name: str, first: bool) -> None:
        slot = await (budget.acquire_first() if first else budget.acquire())
        assert slot is not None
        served.append(name)
        slot.release()

    waiters = [loop.create_task(wait(f"cancel{i}", False)) for i in range(3)]
    await asyncio.sleep(0)
    waiters += [loop.create_task(wait("panic1", True)), loop.create_task(wait("panic2", True))]
    await asyncio.sleep(0)
    held.release()
    await asyncio.gather(*waiters)
    assert served == ["panic1", "panic2", "cancel0", "cancel1", "cancel2"]


async def test_a_panic_takes_the_next_free_slot_ahead_of_queued_cancels() -> None:
    venue = FakeVenue()
    calls = [
        [
            CancelTarget(symbol=f"A{i}USDT", order_id=o.order_id)
            for o in venue.place_many(f"A{i}USDT", 50)
        ]
        for i in range(30)
    ]
    panic_ids = {o.order_id for o in venue.place_many("PUSDT", 20)}
    loop = asyncio.get_running_loop()
    async with fake_venue_engine(venue) as engine:
        cancels = [loop.create_task(engine.cancel(targets)) for targets in calls]
        await asyncio.sleep(0.1)  # ten requests are out, twenty calls wait for the budget
        report = await engine.panic_cancel(["PUSDT"], kinds=["normal"])
        await asyncio.gather(*cancels)
    assert report.all_closed
    batches = sorted(venue.calls_to(FAKE_BATCH_CANCEL), key=lambda call: call.sent_at)
    carrying_panic = [
        index
        for index, call in enumerate(batches)
        if panic_ids & {item.get("orderId") for item in call.body["orderList"]}
    ]
    assert carrying_panic == [10]  # the first slot to free after the first burst


# -- item 5: each outcome as it becomes final -------------------------------------------------


async def test_on_outcome_hears_a_does_not_exist_only_once_a_listing_confirmed_it() -> None:
    venue = FakeVenue()
    placed = venue.place_many("AUSDT", 10)
    targets = [CancelTarget(symbol="AUSDT", order_id=o.order_id) for o in placed]
    gone = CancelTarget(symbol="AUSDT", order_id="5")  # answered "does not exist"
    loop = asyncio.get_running_loop()
    told: dict[CancelTarget, tuple[float, CancelOutcome]] = {}
    async with fake_venue_engine(venue) as engine:
        report = await engine.cancel(
            [*targets, gone], on_outcome=lambda o: told.setdefault(o.target, (loop.time(), o))
        )
    (not_open,) = report.not_open
    assert not_open.target == gone
    assert {target: outcome for _, outcome in told.values() for target in [outcome.target]} == {
        o.target: o for o in report.outcomes
    }
    (listing, *_) = venue.calls_to(FAKE_UNFILLED)
    assert listing.answered_at is not None
    assert told[gone][0] >= listing.answered_at  # not before the listing that confirmed it
    assert all(told[t][0] <= listing.sent_at for t in targets)  # the cancelled ones at once
    assert listing.sent_at < listing.answered_at  # so the two are told at different times


async def test_on_outcome_hands_each_final_outcome_over_as_it_comes_and_once() -> None:
    exchange = ScriptedExchange(latency=0.05, steps=[Step(OK), Step(OK), Step(HANG_AFTER)])
    targets = book(exchange, 120)  # three requests; the third is never answered
    twin = CancelTarget(symbol=targets[0].symbol, order_id=targets[0].order_id, client_oid="c0")
    unknown = CancelTarget(symbol="S0USDT", order_id="5")
    given = [*targets, twin, targets[1], unknown]
    loop = asyncio.get_running_loop()
    told: list[tuple[float, CancelOutcome]] = []
    async with engine_for(exchange) as engine:
        start = loop.time()
        report = await engine.cancel(
            given,
            deadline=1.0,
            on_outcome=lambda o: told.append((loop.time() - start, o)),
            confirm=False,  # "does not exist" final as answered (confirmation: the test below)
        )
    assert len(told) == len(report.outcomes)  # each target once
    assert {o.target: o for _, o in told} == {o.target: o for o in report.outcomes}
    first = [at for at, o in told if o.status is not CancelStatus.UNRESOLVED]
    assert len(first) == len(report.cancelled) + len(report.not_open) == 101
    assert max(first) == pytest.approx(0.05)  # as the answers came, not at the end
    late = [at for at, o in told if o.status is CancelStatus.UNRESOLVED]
    assert len(late) == len(report.unresolved) == 21
    assert min(late) == pytest.approx(report.elapsed)  # final only when the call ends


async def test_a_failing_on_outcome_callback_never_stops_the_cancel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exchange = ScriptedExchange(latency=0.05)
    targets = book(exchange, 3)

    def broken(outcome: CancelOutcome) -> None:
        raise RuntimeError("bot bug")

    async with engine_for(exchange) as engine:
        report = await engine.cancel(targets, on_outcome=broken)
    assert report.all_closed
    assert "on_outcome callback failed" in caplog.text


async def test_on_outcome_must_be_callable() -> None:
    exchange = ScriptedExchange()
    async with engine_for(exchange) as engine:
        with pytest.raises(InvalidArgument, match="on_outcome"):
            await engine.cancel([], on_outcome="print")  # type: ignore[arg-type]
    assert exchange.bodies == []


# -- item 6: metrics ---------------------------------------------------------------------------


async def test_metrics_count_requests_answers_429s_retries_latency_and_budget_waits() -> None:
    exchange = ScriptedExchange(
        latency=0.04, steps=[Step(THROTTLE), Step(OK), Step(TIMEOUT_AFTER), Step(OK)]
    )
    first = book(exchange, 2)
    second = book(exchange, 2, prefix=50_000)
    async with engine_for(exchange, rate_limit=1) as engine:
        assert engine.metrics().requests == {}
        await engine.cancel(first)
        await engine.cancel(second)
        snapshot = engine.metrics()
    name = "batch-cancel-order"
    # The timed-out request had cancelled its two orders: asked again, they "do not exist",
    # which one listing of each kind confirms (normal and TP/SL: unfilled-orders; plan).
    assert snapshot.requests == {
        name: len(exchange.bodies),
        "unfilled-orders": 2,
        "current-plan-order": 1,
    }
    assert snapshot.answers[(name, "throttled")] == 1
    assert snapshot.answers[(name, "timeout")] == 1
    assert snapshot.answers[(name, "ok")] == len(exchange.bodies) - 2
    assert snapshot.throttled == 1
    assert snapshot.retries == 4  # two orders after the 429, two after the timeout
    histogram = snapshot.latency[name]
    assert histogram.count == len(exchange.bodies)
    assert dict(histogram.buckets)[0.025] == 1  # the timeout, 0.02 s after sending
    assert dict(histogram.buckets)[0.05] == len(exchange.bodies)  # answers after 0.04 s
    assert snapshot.budget_waits >= 1  # rate 1/s: every request after the first waited
    assert snapshot.budget_wait_seconds > 1.0
    assert snapshot.budget_fallbacks == 0


def test_a_metrics_snapshot_renders_in_prometheus_text_format() -> None:
    metrics = Metrics()
    metrics.sent("batch-cancel-order")
    metrics.answered("batch-cancel-order", "ok", 0.03)
    metrics.answered("batch-cancel-order", "throttled", 0.2)
    metrics.waited(0.5)
    text = metrics.snapshot(budget_fallbacks=2).to_prometheus(labels={"account": 'a"b'})
    lines = set(text.splitlines())
    assert 'bitget_cancel_requests_total{account="a\\"b",endpoint="batch-cancel-order"} 1' in lines
    assert (
        'bitget_cancel_answers_total{account="a\\"b",endpoint="batch-cancel-order",'
        'verdict="throttled"} 1' in lines
    )
    bucket = 'bitget_cancel_request_seconds_bucket{account="a\\"b",endpoint="batch-cancel-order"'
    assert f'{bucket},le="0.025"}} 0' in lines
    assert f'{bucket},le="0.05"}} 1' in lines
    assert f'{bucket},le="+Inf"}} 2' in lines
    assert 'bitget_cancel_throttled_total{account="a\\"b"} 1' in lines
    assert 'bitget_cancel_budget_fallbacks_total{account="a\\"b"} 2' in lines
    assert "# TYPE bitget_cancel_request_seconds histogram" in lines


# -- item 8: the account type from a successful answer ----------------------------------------


async def test_a_successful_v2_cancel_tells_the_account_type_without_a_warm_up() -> None:
    venue = FakeVenue()
    targets = [
        CancelTarget(symbol="AUSDT", order_id=o.order_id) for o in venue.place_many("AUSDT", 3)
    ]
    async with fake_venue_engine(venue, account="auto") as engine:
        assert engine.account_type is None
        report = await engine.cancel(targets)
        assert engine.account_type == "classic"
    assert report.all_closed


# -- items 11, 12: exceptions and lifecycle ---------------------------------------------------


async def test_an_unknown_kind_is_a_bad_argument_not_a_bad_target() -> None:
    exchange = ScriptedExchange()
    async with engine_for(exchange) as engine:
        with pytest.raises(InvalidArgument, match="kinds") as caught:
            await engine.open_orders(kinds=["limit"])  # type: ignore[list-item]
    assert not isinstance(caught.value, InvalidTarget)


async def test_async_with_on_a_closed_engine_raises() -> None:
    engine = engine_for(ScriptedExchange())
    await engine.close()
    with pytest.raises(EngineClosed):
        async with engine:
            pass


def test_outside_an_event_loop_the_panic_handler_says_so_with_a_package_error() -> None:
    engine = engine_for(ScriptedExchange())
    with pytest.raises(NoEventLoop):
        install_panic_handler(engine)
    with pytest.raises(NoEventLoop):
        engine.start_panic()


async def test_log_records_name_the_account_the_engine_and_the_endpoint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    grid_exchange = ScriptedExchange(latency=0.05, steps=[Step(THROTTLE)])
    hedge_exchange = ScriptedExchange(latency=0.05, steps=[Step(THROTTLE)])
    grid = engine_for(grid_exchange, name="grid")
    hedge = CancelEngine(
        Credentials(api_key="hedge-key", secret_key="hedge-secret", passphrase="hedge-pass"),
        transport=hedge_exchange.transport(),
        wall_clock=hedge_exchange.wall_clock,
        name="hedge",
    )
    caplog.set_level(logging.WARNING, logger="bitget_cancel")
    async with grid, hedge:
        await asyncio.gather(
            grid.cancel(book(grid_exchange, 2)), hedge.cancel(book(hedge_exchange, 2))
        )
    throttled = [r for r in caplog.records if "HTTP 429" in r.getMessage()]
    assert sorted(str(getattr(r, "engine", None)) for r in throttled) == ["grid", "hedge"]
    assert {getattr(r, "endpoint", None) for r in throttled} == {"batch-cancel-order"}
    accounts = {getattr(r, "engine", None): getattr(r, "account", None) for r in throttled}
    assert accounts["grid"] != accounts["hedge"]
    assert all(isinstance(a, str) and len(a) == 16 for a in accounts.values())
    assert "shared-key" not in str(accounts)  # the key's hash, never the key


async def test_a_panic_reports_by_order_kind_and_by_its_value() -> None:
    venue = FakeVenue()
    venue.place_many("AUSDT", 3)
    async with fake_venue_engine(venue) as engine:
        report = await engine.panic_cancel(kinds=["normal", "plan"])
    assert list(report.by_kind) == [OrderKind.NORMAL, OrderKind.PLAN]
    assert all(type(kind) is OrderKind for kind in report.by_kind)
    assert report.by_kind[OrderKind.NORMAL] is report.by_kind["normal"]
    assert report.by_kind["normal"].cancelled == 3
    assert list(report.to_dict()["byKind"]) == ["normal", "plan"]
    assert json.loads(json.dumps(report.to_dict()))["byKind"]["normal"]["cancelled"] == 3


async def test_a_refused_shared_request_is_split_per_call_until_the_bad_order_is_alone() -> None:
    venue = FakeVenue()
    good = [CancelTarget(symbol="AUSDT", order_id=o.order_id) for o in venue.place_many("AUSDT", 3)]
    bad = CancelTarget(symbol="BUSDT", order_id="not-a-number")  # refuses any batch it is in
    async with fake_venue_engine(venue) as engine:
        # (deadlines: a split that never isolates the bad order would otherwise never end)
        mine, theirs = await asyncio.gather(
            engine.cancel(good, deadline=5), engine.cancel([bad], deadline=5)
        )
    first = venue.calls_to(FAKE_BATCH_CANCEL)[0]
    assert len(first.body["orderList"]) == 4  # the two calls shared the first request
    assert mine.all_closed
    assert [o.status for o in theirs.outcomes] == [CancelStatus.FAILED]
    assert theirs.outcomes[0].error_code == "40402"
    assert len(venue.calls_to(FAKE_BATCH_CANCEL)) <= 4
