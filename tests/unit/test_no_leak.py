"""No leak, ever: callers of ``cancel()`` cancelled at random points leave every budget whole
and the engine working; ``close()`` during a call waits for it, and nothing is sent after."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitget_cancel import (
    CancelEngine,
    CancelReport,
    CancelStatus,
    CancelTarget,
    EngineClosed,
    HttpRequest,
    HttpResponse,
    MockTransport,
    OrderKind,
)
from bitget_cancel._limit import RateBudget
from bitget_cancel._wire import Endpoint

from .fake_venue import (
    BATCH_CANCEL,
    CANCEL_ORDER,
    CANCEL_PLAN,
    NORMAL,
    PLAN,
    TPSL,
    After,
    Call,
    Drop,
    FakeVenue,
    Fault,
    Hang,
    Raw,
    Refuse,
    credentials,
    engine_for,
)
from .virtual_time import VirtualClockLoop

KIND_OF = {NORMAL: OrderKind.NORMAL, TPSL: OrderKind.TPSL, PLAN: OrderKind.PLAN}

FAULTS: list[Fault | None] = [
    None,
    None,
    Hang(),  # in flight when the caller goes away
    Drop(),
    After(timeout=True),
    Refuse(429, "429", "Too Many Requests"),
    Refuse(503, "40015", "System is abnormal"),
    Raw(502, b"<html>502 Bad Gateway</html>"),
    Refuse(400, "40008", "Request timestamp expired"),
]


def run_virtual(factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run on a fresh virtual-time loop; every task left over is a leak of its own."""
    loop = VirtualClockLoop()
    try:
        loop.run_until_complete(factory())
        left = [t for t in asyncio.all_tasks(loop) if not t.done()]
        assert left == [], f"tasks outlived the calls: {left}"
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def endpoints(engine: CancelEngine) -> list[Endpoint]:
    family = engine._session_here().family
    return [
        *(route.endpoint for route in family.cancel.values()),
        *(lister.endpoint for lister in family.listing.values()),
        *(bulk.endpoint for bulk in family.bulk.values()),
        family.server_time,
    ]


def in_flight(engine: CancelEngine) -> dict[str, int]:
    """Slots held, per endpoint of the engine's API family."""
    session = engine._session_here()
    held = {}
    for endpoint in endpoints(engine):
        budget = session.budget(endpoint)
        assert isinstance(budget, RateBudget)
        held[endpoint.name] = budget.in_flight
    return held


def book(venue: FakeVenue, n: int, rng: random.Random) -> list[CancelTarget]:
    targets = []
    for i in range(n):
        kind = rng.choice((NORMAL, NORMAL, NORMAL, TPSL, PLAN))
        order = venue.place(f"S{i % 3}USDT", kind)
        targets.append(
            CancelTarget(symbol=order.symbol, order_id=order.order_id, kind=KIND_OF[kind])
        )
    return targets


async def settle(engine: CancelEngine) -> None:
    """Let the tasks a cancelled call leaves behind finish (on virtual time, bounded), then wait
    one request timeout: a request that timed out may still reach the exchange, so its slot is
    counted that much longer (given back then, not leaked)."""
    me = asyncio.current_task()
    for _ in range(1000):
        if all(t.done() or t is me for t in asyncio.all_tasks()):
            await asyncio.sleep(engine.request_timeout + 0.01)
            return
        await asyncio.sleep(0.01)
    raise AssertionError("tasks still running 10 s after their callers went away")


caller = st.tuples(
    st.integers(min_value=1, max_value=120),  # targets
    st.sampled_from(["wait_for", "cancel", "none"]),  # how the caller goes away
    st.floats(min_value=0.0, max_value=0.6),  # when (virtual seconds)
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    callers=st.lists(caller, min_size=1, max_size=4),
    faults=st.lists(st.sampled_from(FAULTS), max_size=30),
    latency=st.sampled_from([0.001, 0.01, 0.04]),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_callers_cancelled_at_random_points_leave_every_budget_whole(
    callers: list[tuple[int, str, float]], faults: list[Fault | None], latency: float, seed: int
) -> None:
    async def scenario() -> None:
        rng = random.Random(seed)
        venue = FakeVenue(latency=latency, seed=seed)
        script = list(faults)

        def fault_for(call: Call) -> Fault | None:
            return script.pop(0) if script else None

        for name in (BATCH_CANCEL, CANCEL_ORDER, CANCEL_PLAN):
            venue.script[name] = fault_for
        engine = engine_for(venue, request_timeout=0.3, rng=random.Random(seed))
        tasks = []
        for n, how, when in callers:
            targets = book(venue, n, rng)
            if how == "wait_for":
                call = asyncio.wait_for(engine.cancel(targets), timeout=when)
                tasks.append(asyncio.ensure_future(call))
            else:
                task = asyncio.ensure_future(engine.cancel(targets))
                if how == "cancel":
                    asyncio.get_running_loop().call_later(when, task.cancel)
                tasks.append(task)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            assert isinstance(
                result, (CancelReport, asyncio.CancelledError, asyncio.TimeoutError)
            ), result
        await settle(engine)
        assert set(in_flight(engine).values()) == {0}, in_flight(engine)

        # The engine still works: a later cancel of each kind sends and closes its order.
        venue.script.clear()
        later = []
        for kind in (NORMAL, TPSL, PLAN):
            order = venue.place("S9USDT", kind)
            later.append(CancelTarget(symbol="S9USDT", order_id=order.order_id, kind=KIND_OF[kind]))
        sent_before = len(venue.calls)
        report = await engine.cancel(later, deadline=60)
        assert {o.status for o in report.outcomes} == {CancelStatus.CANCELLED}, report.outcomes
        assert len(venue.calls) > sent_before
        assert set(in_flight(engine).values()) == {0}
        await engine.close()

    run_virtual(scenario)


# -- close() ----------------------------------------------------------------------------------


class WatchedTransport(MockTransport):
    """Records when it was closed and every request sent after that."""

    __slots__ = ("closed_at", "sent_after_close")

    def __init__(self, venue: FakeVenue) -> None:
        super().__init__(venue.handle)
        self.closed_at: float | None = None
        self.sent_after_close: list[HttpRequest] = []

    async def send(self, request: HttpRequest) -> HttpResponse:
        if self.closed:
            self.sent_after_close.append(request)
        return await super().send(request)

    async def close(self) -> None:
        self.closed_at = asyncio.get_running_loop().time()
        await super().close()


def watched_engine(venue: FakeVenue) -> tuple[CancelEngine, WatchedTransport]:
    transport = WatchedTransport(venue)
    engine = CancelEngine(
        credentials(venue),
        transport=transport,
        wall_clock=venue.wall_clock,
        rng=random.Random(1),
        account="classic",
    )
    return engine, transport


@pytest.mark.parametrize("close_after", [0.0, 0.004, 0.012, 0.05, 0.3])
async def test_close_during_a_cancel_waits_for_it_and_nothing_is_sent_after(
    close_after: float,
) -> None:
    venue = FakeVenue(latency=0.02)
    targets = book(venue, 400, random.Random(2))  # several rounds of requests
    engine, transport = watched_engine(venue)
    call = asyncio.ensure_future(engine.cancel(targets))
    await asyncio.sleep(close_after)
    await engine.close()
    assert call.done()  # close() waited for the running call
    report = call.result()
    assert {o.status for o in report.outcomes} == {CancelStatus.CANCELLED}
    assert venue.open_orders() == []
    assert transport.closed
    assert transport.sent_after_close == []
    with pytest.raises(EngineClosed):
        await engine.cancel(targets[:1])
    with pytest.raises(EngineClosed):
        await engine.panic_cancel()
    assert transport.sent_after_close == []
    await engine.close()  # idempotent


async def test_close_during_a_panic_waits_for_it_and_nothing_is_sent_after() -> None:
    venue = FakeVenue(latency=0.02)
    book(venue, 150, random.Random(3))
    engine, transport = watched_engine(venue)
    panic = asyncio.ensure_future(engine.panic_cancel())
    await asyncio.sleep(0.03)
    await engine.close()
    assert panic.done()
    report = panic.result()
    assert report.account_empty
    assert venue.open_orders() == []
    assert transport.sent_after_close == []


async def test_a_caller_cancelled_while_its_slot_is_being_granted_leaves_nothing_held() -> None:
    # The budget is full (10 batch requests hanging), so the next callers wait for a slot;
    # each is cancelled at a different moment around the grant.
    venue = FakeVenue(latency=0.01)
    venue.script[BATCH_CANCEL] = lambda call: Hang() if call.index < 10 else None
    engine = engine_for(venue, request_timeout=0.5)
    hanging = [
        asyncio.ensure_future(engine.cancel(book(venue, 50, random.Random(i)))) for i in range(10)
    ]
    await asyncio.sleep(0.01)
    waiters = []
    for i in range(12):
        task = asyncio.ensure_future(engine.cancel(book(venue, 3, random.Random(100 + i))))
        asyncio.get_running_loop().call_later(0.45 + i * 0.05, task.cancel)
        waiters.append(task)
    await asyncio.gather(*hanging, *waiters, return_exceptions=True)
    await settle(engine)
    assert set(in_flight(engine).values()) == {0}, in_flight(engine)
    venue.script.clear()
    target = book(venue, 1, random.Random(999))
    report = await engine.cancel(target)
    assert report.all_closed
    await engine.close()


def test_an_engine_used_on_a_second_event_loop_sends_with_fresh_budgets() -> None:
    venue = FakeVenue()
    engine = engine_for(venue)
    reports: list[CancelReport] = []

    async def one_run(n: int) -> None:
        targets = book(venue, n, random.Random(n))
        reports.append(await engine.cancel(targets))
        assert set(in_flight(engine).values()) == {0}

    run_virtual(lambda: one_run(30))
    run_virtual(lambda: one_run(40))
    assert [len(r.cancelled) for r in reports] == [30, 40]
    assert all(r.all_closed for r in reports)
