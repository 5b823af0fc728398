"""Every kind of open spot order (normal, TP/SL, trigger/plan) against the simulator over real
HTTP: ``cancel()`` sends each kind to its own endpoint; the panic lists, cancels and confirms
each requested kind, touches nothing outside its scope, and says "account empty" only when every
requested kind was listed empty."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelReport,
    CancelStatus,
    CancelTarget,
    Credentials,
    InvalidArgument,
    OrderKind,
    OrderKindName,
    PanicReport,
)
from bitget_cancel.sim import (
    ALL_FAULT_KINDS,
    HARSH_FAULT_KINDS,
    LATE_ARRIVAL,
    ORDER_TRANSIENT,
    TRUNCATED_JSON,
    Faults,
    SimExchange,
    SimOrder,
)

CREDS = Credentials(api_key="sim-key", secret_key="sim-secret", passphrase="sim-pass")
PENALTY_S = 300.0  # the exchange's: one 429 of our making would stall a lane for 5 minutes

BATCH_CANCEL = "/api/v2/spot/trade/batch-cancel-order"
SYMBOL_CANCEL = "/api/v2/spot/trade/cancel-symbol-order"
UNFILLED = "/api/v2/spot/trade/unfilled-orders"
CANCEL_ORDER = "/api/v2/spot/trade/cancel-order"
CURRENT_PLAN = "/api/v2/spot/trade/current-plan-order"
CANCEL_PLAN = "/api/v2/spot/trade/cancel-plan-order"
BATCH_CANCEL_PLAN = "/api/v2/spot/trade/batch-cancel-plan-order"
TRADE_PATHS = (
    BATCH_CANCEL,
    SYMBOL_CANCEL,
    UNFILLED,
    CANCEL_ORDER,
    CURRENT_PLAN,
    CANCEL_PLAN,
    BATCH_CANCEL_PLAN,
)
# The endpoints only one kind uses (unfilled-orders serves normal and TP/SL alike).
OWN_PATHS = {
    "normal": (BATCH_CANCEL, SYMBOL_CANCEL),
    "tpsl": (CANCEL_ORDER,),
    "plan": (CURRENT_PLAN, CANCEL_PLAN, BATCH_CANCEL_PLAN),
}
KINDS: tuple[OrderKindName, ...] = ("normal", "tpsl", "plan")
# Every fault the simulator knows, each where it means something; answers held back longer
# than the engine waits, so slow and late requests time out and are asked again.
EVERY_FAULT = ALL_FAULT_KINDS + HARSH_FAULT_KINDS

Book = dict[str, list[SimOrder]]  # kind -> orders placed


def place(
    sim: SimExchange, layout: Mapping[OrderKindName, dict[str, int]], prefix: str = "o"
) -> Book:
    """Place ``layout[kind][symbol]`` orders of each kind; client ids ``{prefix}{kind}{symbol}-i``
    (unique per prefix)."""
    book: Book = {kind: [] for kind in KINDS}
    for kind, per_symbol in layout.items():
        for symbol, n in per_symbol.items():
            book[kind] += sim.place_orders(symbol, n, f"{prefix}{kind}{symbol}", kind=kind)
    return book


def target(order: SimOrder, kind: str | None = None, *, by: str = "id") -> CancelTarget:
    """The target naming ``order`` by orderId (or clientOid), as ``kind`` (its own by default)."""
    as_kind = OrderKind(kind or order.kind)
    if by == "id":
        return CancelTarget(symbol=order.symbol, order_id=order.order_id, kind=as_kind)
    return CancelTarget(symbol=order.symbol, client_oid=order.client_oid, kind=as_kind)


def requests(sim: SimExchange, path: str) -> int:
    return sim.stats.endpoint(path).requests


def injected(sim: SimExchange, paths: Iterable[str]) -> int:
    return sum(sum(sim.stats.endpoint(path).injected.values()) for path in paths)


def assert_no_rule_broken(sim: SimExchange) -> None:
    assert sim.stats.total_violations == 0, sim.stats.violations
    assert sim.stats.throttled == 0, (sim.stats.pacing_429, sim.stats.penalty_429)


def assert_truthful(report: CancelReport, sim: SimExchange, book: Book | None = None) -> None:
    """CANCELLED and NOT_OPEN name orders the exchange does not hold open."""
    by_client_oid = {o.client_oid: o for k in KINDS for o in (book or {}).get(k, ())}
    for outcome in report.outcomes:
        if outcome.closed:
            wanted = outcome.target
            if wanted.order_id is not None:
                order = sim.get_order(wanted.order_id)
            else:
                order = by_client_oid[wanted.client_oid]
            assert order is None or not order.is_open, outcome


def assert_by_kind_matches_outcomes(report: PanicReport, kinds: Sequence[str]) -> None:
    """``by_kind`` holds exactly the requested kinds, each counting the outcomes of its kind."""
    assert list(report.by_kind) == list(kinds)
    for kind in kinds:
        summary = report.by_kind[kind]
        tally = Counter(o.status.value for o in report.outcomes if o.target.kind.value == kind)
        got = (summary.cancelled, summary.not_open, summary.failed, summary.unresolved)
        want = (tally["cancelled"], tally["not_open"], tally["failed"], tally["unresolved"])
        assert got == want, (kind, summary)
    assert set(report.to_dict()["byKind"]) == set(kinds)


def still_open(orders: Iterable[SimOrder]) -> list[SimOrder]:
    return [o for o in orders if o.is_open]


# -- cancel(): each kind to its own endpoint ---------------------------------------------------


@pytest.mark.parametrize("kinds", [("normal",), ("tpsl",), ("plan",), KINDS], ids="+".join)
async def test_cancel_sends_each_kind_to_its_own_endpoint(kinds: tuple[str, ...]) -> None:
    async with SimExchange(latency_ms=(1, 5), seed=21, penalty_s=PENALTY_S) as sim:
        wanted = place(
            sim,
            {
                "normal": {"AUSDT": 60 if "normal" in kinds else 0, "BUSDT": 7},
                "tpsl": {"AUSDT": 6, "BUSDT": 3},
                "plan": {"AUSDT": 5, "BUSDT": 4},
            },
        )
        decoys = place(sim, {k: {"AUSDT": 2, "BUSDT": 2} for k in KINDS}, prefix="d")
        # Plan orders can also be named by clientOid (cancel-plan-order takes either).
        targets = [
            target(o, by="client_oid" if k == "plan" and i < 2 else "id")
            for k in kinds
            for i, o in enumerate(wanted[k])
        ]
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            report = await engine.cancel(targets)

        assert report.all_closed, report.counts()
        assert [o.target for o in report.outcomes] == targets
        assert all(o.status is CancelStatus.CANCELLED and o.attempts == 1 for o in report.outcomes)
        for kind in kinds:
            assert still_open(wanted[kind]) == []
        for kind in KINDS:
            assert len(still_open(decoys[kind])) == 4  # same symbols, never named: untouched
            if kind not in kinds:
                assert len(still_open(wanted[kind])) == len(wanted[kind])
        expected = {
            # 60 + 7 normal orders by orderId: ceil(67/50) batches (the last spans symbols)
            BATCH_CANCEL: 2 if "normal" in kinds else 0,
            CANCEL_ORDER: 9 if "tpsl" in kinds else 0,  # one TP/SL order a request
            CANCEL_PLAN: 9 if "plan" in kinds else 0,  # one plan order a request
        }
        seen = {path: requests(sim, path) for path in TRADE_PATHS if requests(sim, path)}
        assert seen == {path: n for path, n in expected.items() if n}  # cancel() never lists
        assert report.requests == sum(expected.values())
        assert sim.stats.wrong_kind == 0
        assert_no_rule_broken(sim)
        assert_truthful(report, sim, wanted)


async def test_cancel_of_every_kind_comes_through_faults_on_the_new_endpoints() -> None:
    # Answers held back past the engine's wait (slow_s > request_timeout); requests that
    # arrive after the engine gave up are the subject of their own test below.
    faults = Faults(rate=0.3, order_transient=0.2, slow_s=0.8)
    async with SimExchange(latency_ms=(1, 10), faults=faults, seed=22, penalty_s=PENALTY_S) as sim:
        wanted = place(
            sim,
            {
                "normal": {"AUSDT": 70, "BUSDT": 30, "CUSDT": 20},
                "tpsl": {"AUSDT": 10, "BUSDT": 10, "CUSDT": 5},
                "plan": {"AUSDT": 10, "BUSDT": 10, "CUSDT": 10},
            },
        )
        decoys = place(sim, {k: {"AUSDT": 3, "CUSDT": 3} for k in KINDS}, prefix="d")
        targets = [target(o) for k in KINDS for o in wanted[k]]
        async with CancelEngine(
            CREDS,
            base_url=sim.base_url,
            request_timeout=0.4,
            max_attempts=10,
            backoff_base=0.05,
            backoff_cap=0.4,
        ) as engine:
            report = await engine.cancel(targets)

        assert report.all_closed, [o for o in report.outcomes if not o.closed]
        assert_truthful(report, sim)
        assert all(still_open(wanted[k]) == [] for k in KINDS)
        assert sum(len(still_open(decoys[k])) for k in KINDS) == 18
        # The faults reached the new endpoints, per request and per order, and were overcome.
        for path in (CANCEL_ORDER, CANCEL_PLAN):
            assert sum(sim.stats.endpoint(path).injected.values()) > 0, path
        # Which request draws which fault depends on arrival order (timing): per-order ones
        # are asserted over both endpoints together, not on each.
        transients = [
            sim.stats.endpoint(p).injected[ORDER_TRANSIENT] for p in (CANCEL_ORDER, CANCEL_PLAN)
        ]
        assert sum(transients) > 0
        for kind, path in (("tpsl", CANCEL_ORDER), ("plan", CANCEL_PLAN)):
            outcomes = [o for o in report.outcomes if o.target.kind.value == kind]
            n = len(wanted[kind])
            assert n < requests(sim, path) <= n * 10  # retried, within max_attempts each
            assert sum(o.attempts for o in outcomes) <= requests(sim, path)
            assert any(o.attempts > 1 for o in outcomes)
        for path in (SYMBOL_CANCEL, BATCH_CANCEL_PLAN):
            assert requests(sim, path) == 0, path  # cancel() never bulk-cancels
        # It lists only to confirm a "does not exist" (an answer lost after a cancel).
        listed = requests(sim, UNFILLED) + requests(sim, CURRENT_PLAN)
        assert (listed > 0) == bool(report.not_open), (listed, len(report.not_open))
        assert sim.stats.wrong_kind == 0
        assert_no_rule_broken(sim)


async def test_a_target_of_the_wrong_kind_is_found_by_confirmation_and_cancelled() -> None:
    """The exchange answers "does not exist" for an order asked for at the wrong kind's endpoint
    (as users report for stop orders). Unconfirmed (``confirm=False``), cancel() can only
    report NOT_OPEN: the order stays armed and the report reads as an all-clear, the risk the
    README names. Confirmed (the default), a listing of every kind finds each one open as its
    true kind, and it is cancelled there (issue 19, repro 1)."""
    async with SimExchange(latency_ms=(1, 5), seed=23, penalty_s=PENALTY_S) as sim:
        book = place(sim, {k: {"AUSDT": 2} for k in KINDS})
        (n1, n2), (t1, t2), (p1, p2) = book["normal"], book["tpsl"], book["plan"]
        # batch-cancel-order's failureList may leave the code out ("The order does not
        # exist" alone); the one-order endpoints answer 43001 (cancel-order) or 43025
        # (cancel-plan-order) for the whole request.
        wrong: list[tuple[SimOrder, str, set[str | None]]] = [
            (t1, "normal", {"43001", None}),
            (t2, "plan", {"43025"}),
            (p1, "normal", {"43001", None}),
            (p2, "tpsl", {"43001"}),
            (n1, "tpsl", {"43001"}),
            (n2, "plan", {"43025"}),
        ]
        targets = [target(o, kind) for o, kind, _ in wrong]
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            unconfirmed = await engine.cancel(targets, confirm=False)
            for outcome, (_, _, codes) in zip(unconfirmed.outcomes, wrong, strict=True):
                assert outcome.status is CancelStatus.NOT_OPEN
                assert outcome.error_code in codes, outcome
            assert sim.stats.wrong_kind == len(wrong)
            assert sim.count_open() == 6  # every one of them is still armed...
            assert unconfirmed.all_closed  # ...yet the report reads as an all-clear
            assert requests(sim, UNFILLED) + requests(sim, CURRENT_PLAN) == 0

            report = await engine.cancel(targets)
        assert sim.count_open() == 0
        assert report.all_closed
        for outcome, (order, _, _) in zip(report.outcomes, wrong, strict=True):
            assert outcome.status is CancelStatus.CANCELLED, outcome
            assert outcome.found_as is not None
            assert (outcome.found_as.kind.value, outcome.found_as.order_id) == (
                order.kind,
                order.order_id,
            )
            assert "named the wrong kind" in (outcome.error_msg or "")
        assert_no_rule_broken(sim)


async def test_a_tpsl_target_without_an_order_id_fails_before_any_request() -> None:
    """Bitget's cancel-order: for tpslType=tpsl "orderId ... it's required" (and TP/SL orders
    take no clientOid when placed). A TP/SL target named only by clientOid cannot be sent on a
    classic account: it fails, saying why, and nothing is sent. (A UTA's cancel-strategy-order
    takes a clientOid, so this is the route's rule, not the target's.)"""
    async with SimExchange(latency_ms=(1, 5), seed=24, penalty_s=PENALTY_S) as sim:
        (order,) = sim.place_orders("AUSDT", 1, "tp", kind="tpsl")
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            report = await engine.cancel([target(order, by="client_oid")])
        (outcome,) = report.outcomes
        assert outcome.status is CancelStatus.FAILED
        assert "orderId only" in (outcome.error_msg or "")
        assert not report.all_closed
        assert sum(sim.stats.requests.values()) == 0
        assert sim.is_open(order.order_id)
        assert_no_rule_broken(sim)


async def test_a_stale_tpsl_order_id_is_not_open_without_asking_by_client_oid() -> None:
    """A normal target whose orderId the exchange does not know is asked once more by its
    clientOid; for a TP/SL one that request would break the endpoint's rule (orderId required):
    the exchange's "does not exist" is the answer."""
    async with SimExchange(latency_ms=(1, 5), seed=25, penalty_s=PENALTY_S) as sim:
        (order,) = sim.place_orders("AUSDT", 1, "tp", kind="tpsl")
        stale = CancelTarget(
            symbol="AUSDT", order_id="1000", client_oid=order.client_oid, kind=OrderKind.TPSL
        )
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            report = await engine.cancel([stale], confirm=False)
            (outcome,) = report.outcomes
            assert (outcome.status, outcome.error_code) == (CancelStatus.NOT_OPEN, "43001")
            assert requests(sim, CANCEL_ORDER) == 1
            # Confirmed, the TP/SL listing shows its clientOid open: cancelled by the orderId
            # listed there (the endpoint's rule holds: never asked by clientOid).
            report = await engine.cancel([stale])
        (outcome,) = report.outcomes
        assert outcome.status is CancelStatus.CANCELLED
        assert not sim.is_open(order.order_id)
        assert requests(sim, CANCEL_ORDER) == 1 + 2
        assert_no_rule_broken(sim)


async def test_an_unreadable_refusal_of_a_one_order_cancel_is_asked_again_not_failed() -> None:
    """The one-order endpoints answer every failure with HTTP 400 ("does not exist" and
    transient errors alike). A 400 whose body was cut off says nothing about the order: it is
    not a final refusal. Here every answer is cut off: the first cancel took effect, no answer
    could be read, so the outcome is unresolved after every attempt, never FAILED."""
    faults = Faults(rate=1.0, kinds=(TRUNCATED_JSON,))
    async with SimExchange(latency_ms=(1, 5), seed=26, penalty_s=PENALTY_S) as sim:
        book = place(sim, {"tpsl": {"AUSDT": 1}, "plan": {"AUSDT": 1}})
        sim.faults = faults
        async with CancelEngine(
            CREDS, base_url=sim.base_url, max_attempts=3, backoff_base=0.01
        ) as engine:
            report = await engine.cancel([target(o) for k in ("tpsl", "plan") for o in book[k]])
        assert [(o.status, o.attempts) for o in report.outcomes] == [
            (CancelStatus.UNRESOLVED, 3),
            (CancelStatus.UNRESOLVED, 3),
        ]
        assert sim.count_open() == 0  # the first request of each did cancel
        assert requests(sim, CANCEL_ORDER) == requests(sim, CANCEL_PLAN) == 3
        assert sim.stats.endpoint(CANCEL_ORDER).injected[TRUNCATED_JSON] == 3
        assert_no_rule_broken(sim)


async def test_requests_that_arrive_after_the_engine_gave_up_still_count_in_the_window() -> None:
    """A request that times out on the client may still reach the exchange (a queueing proxy):
    it counts in the window of its arrival. The one-order lanes run their window full, so a
    late arrival on top of them is a 429 of the engine's own making, and on Bitget a tripped
    limit "takes 5 minutes to recover". No penalty here, so the test fails fast. (Plan orders:
    cancel-plan-order's 20/s lane shows it reliably.)"""
    faults = Faults(rate=0.4, kinds=(LATE_ARRIVAL,), late_s=0.6)
    async with SimExchange(latency_ms=(1, 5), faults=faults, seed=27, penalty_s=0.0) as sim:
        orders = sim.place_orders("AUSDT", 40, kind="plan")
        async with CancelEngine(
            CREDS, base_url=sim.base_url, request_timeout=0.4, max_attempts=10
        ) as engine:
            report = await engine.cancel([target(o) for o in orders])
        assert sim.stats.injected[LATE_ARRIVAL] > 0
        assert report.all_closed
        assert sim.count_open() == 0
        assert sim.stats.pacing_429 == 0, sim.stats.max_in_window


# -- the panic: every requested kind, nothing else ---------------------------------------------

PANIC_LAYOUT: dict[OrderKindName, dict[str, int]] = {
    "normal": {"AUSDT": 60, "BUSDT": 10, "CUSDT": 5},  # AUSDT: enough for cancel-symbol-order
    "tpsl": {"AUSDT": 4, "BUSDT": 3, "CUSDT": 2},
    "plan": {"AUSDT": 5, "BUSDT": 4, "CUSDT": 3},
}


@pytest.mark.parametrize("use_symbol_cancel", [True, False], ids=["bulk", "by-id"])
@pytest.mark.parametrize(
    "kinds", [("normal",), ("tpsl",), ("plan",), ("tpsl", "plan"), KINDS], ids="+".join
)
async def test_panic_closes_exactly_the_kinds_asked_for(
    kinds: tuple[OrderKindName, ...], use_symbol_cancel: bool
) -> None:
    async with SimExchange(latency_ms=(1, 5), seed=31, penalty_s=PENALTY_S) as sim:
        book = place(sim, PANIC_LAYOUT)
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            report = await engine.panic_cancel(
                deadline=30, kinds=kinds, use_symbol_cancel=use_symbol_cancel
            )

        for kind in KINDS:
            if kind in kinds:
                assert still_open(book[kind]) == [], kind
            else:  # not asked: neither touched nor listed nor claimed
                assert len(still_open(book[kind])) == len(book[kind]), kind
                assert all(requests(sim, path) == 0 for path in OWN_PATHS[kind]), kind
                assert all(o.target.kind.value != kind for o in report.outcomes)
        if "normal" not in kinds and "tpsl" not in kinds:
            assert requests(sim, UNFILLED) == 0
        assert report.account_empty
        assert report.all_closed
        assert report.problems == ()
        assert report.to_dict()["accountEmpty"] is True
        assert_by_kind_matches_outcomes(report, kinds)
        for kind in kinds:
            summary = report.by_kind[kind]
            placed = len(book[kind])
            assert summary.confirmed_empty
            assert summary.problem is None
            assert (summary.failed, summary.unresolved, summary.not_open) == (0, 0, 0)
            if use_symbol_cancel and kind != "tpsl":
                # A bulk cancel closes orders the panic need not have listed first.
                assert 0 < summary.listed <= placed
                assert summary.cancelled == summary.listed
            else:
                assert summary.listed == summary.cancelled == placed
        bulk = use_symbol_cancel
        assert (requests(sim, SYMBOL_CANCEL) > 0) is (bulk and "normal" in kinds)
        assert (requests(sim, BATCH_CANCEL_PLAN) > 0) is (bulk and "plan" in kinds)
        if "tpsl" in kinds:
            assert requests(sim, CANCEL_ORDER) == len(book["tpsl"])
        assert_truthful(report, sim)
        assert_no_rule_broken(sim)


@pytest.mark.parametrize("scoped", [False, True], ids=["whole-account", "two-symbols"])
async def test_panic_with_faults_closes_every_kind_in_scope_and_nothing_else(
    scoped: bool,
) -> None:
    # Every fault kind; late arrivals land within the engine's wait (late_s < request_timeout):
    # later ones are the subject of their own test.
    faults = Faults(rate=0.2, kinds=EVERY_FAULT, order_transient=0.15, slow_s=0.6, late_s=0.2)
    async with SimExchange(latency_ms=(1, 10), faults=faults, seed=32, penalty_s=PENALTY_S) as sim:
        book = place(
            sim,
            {
                "normal": {"AUSDT": 70, "BUSDT": 20, "CUSDT": 10, "DUSDT": 5},
                "tpsl": {"AUSDT": 6, "BUSDT": 4, "CUSDT": 3, "DUSDT": 2},
                "plan": {"AUSDT": 8, "BUSDT": 5, "CUSDT": 3, "DUSDT": 2},
            },
        )
        symbols = ["AUSDT", "CUSDT"] if scoped else None
        # Out of the symbol scope but asked for by id: closed too, and never by a bulk cancel.
        named = [book["tpsl"][-1], book["plan"][-1]] if scoped else []
        assert all(o.symbol == "DUSDT" for o in named)

        def in_scope(order: SimOrder) -> bool:
            return symbols is None or order.symbol in symbols or order in named

        async with CancelEngine(
            CREDS, base_url=sim.base_url, request_timeout=0.4, max_attempts=8, backoff_cap=0.5
        ) as engine:
            report = await engine.panic_cancel(
                symbols, targets=[target(o) for o in named], deadline=60
            )

        every = [o for k in KINDS for o in book[k]]
        assert [o for o in every if in_scope(o) and o.is_open] == []
        outside = [o for o in every if not in_scope(o)]
        assert len(outside) == (36 if scoped else 0)  # BUSDT and DUSDT, less the two named
        assert still_open(outside) == outside  # untouched
        touched = {o.target.order_id for o in report.outcomes}
        assert touched.isdisjoint(o.order_id for o in outside)
        assert report.account_empty, report.problems
        assert report.all_closed, report.problems
        assert_by_kind_matches_outcomes(report, KINDS)
        assert all(s.confirmed_empty and s.problem is None for s in report.by_kind.values())
        assert_truthful(report, sim)
        # The faults reached the endpoints of TP/SL and plan orders.
        assert injected(sim, (CANCEL_ORDER, CURRENT_PLAN, CANCEL_PLAN, BATCH_CANCEL_PLAN)) > 0
        assert sim.stats.wrong_kind == 0
        assert_no_rule_broken(sim)


async def test_plan_orders_the_bulk_cancel_did_not_take_go_one_by_one() -> None:
    """batch-cancel-plan-order answers a failureList for orders it could not cancel: they are
    still listed after the settle time and the panic cancels them by id."""
    faults = Faults(order_transient=0.5)
    async with SimExchange(latency_ms=(1, 5), faults=faults, seed=33, penalty_s=PENALTY_S) as sim:
        book = place(sim, {"plan": {"AUSDT": 18, "BUSDT": 12}})
        async with CancelEngine(CREDS, base_url=sim.base_url, max_attempts=10) as engine:
            report = await engine.panic_cancel(kinds=["plan"], deadline=60)
        assert still_open(book["plan"]) == []
        assert sim.stats.endpoint(BATCH_CANCEL_PLAN).injected[ORDER_TRANSIENT] > 0
        assert requests(sim, CANCEL_PLAN) > 0  # the ones it did not take, by id
        assert report.account_empty
        summary = report.by_kind["plan"]
        # One page of 30 is listed before the bulk cancel goes: every order is seen.
        assert summary.listed == summary.cancelled == 30
        assert summary.confirmed_empty
        assert_by_kind_matches_outcomes(report, ["plan"])
        assert_no_rule_broken(sim)


async def test_tpsl_and_plan_orders_placed_during_the_panic_are_caught() -> None:
    async with SimExchange(latency_ms=(1, 5), seed=34, penalty_s=PENALTY_S) as sim:
        # 40 TP/SL orders take the cancel-order lane (10/s) at least 3 s: longer than the
        # strategy below keeps placing, so a later pass lists what it placed.
        place(sim, {"tpsl": {"AUSDT": 40}, "plan": {"AUSDT": 5}, "normal": {"AUSDT": 5}})
        late: list[SimOrder] = []

        async def strategy_still_running() -> None:
            for n in range(20):
                kind: OrderKindName = ("plan", "tpsl")[n % 2]
                late.append(sim.place_order("BUSDT", kind=kind))
                await asyncio.sleep(0.05)

        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            task = engine.start_panic(deadline=60)
            await strategy_still_running()
            report = await task
        assert sim.count_open() == 0
        assert report.account_empty
        # TP/SL orders are cancelled one by one, so each late one was listed and has its
        # outcome (a plan bulk cancel may close late plan orders before any listing shows them).
        closed = {o.target.order_id for o in report.outcomes if o.closed}
        assert {o.order_id for o in late if o.kind == "tpsl"} <= closed
        assert report.passes >= 2
        assert_no_rule_broken(sim)


# -- listings that cannot be trusted: never "nothing open" -------------------------------------


async def test_a_plan_listing_that_needs_a_symbol_leaves_a_whole_account_panic_unconfirmed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One copy of the docs makes ``symbol`` required on current-plan-order: then a
    whole-account panic cannot list trigger orders, and must say so rather than "empty"."""
    caplog.set_level(logging.WARNING, logger="bitget_cancel")
    async with SimExchange(
        latency_ms=(1, 5), seed=41, penalty_s=PENALTY_S, plan_list_requires_symbol=True
    ) as sim:
        book = place(sim, {k: {"AUSDT": 3, "BUSDT": 2} for k in KINDS})
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            report = await engine.panic_cancel(deadline=30)
            listing = await engine.open_orders()

        assert still_open(book["normal"]) == still_open(book["tpsl"]) == []
        assert not report.account_empty
        assert not report.all_closed
        plan = report.by_kind["plan"]
        assert not plan.confirmed_empty
        assert "40017" in (plan.problem or "")
        assert any(p.startswith("plan orders") and "40017" in p for p in report.problems)
        assert report.by_kind["normal"].confirmed_empty
        assert report.by_kind["tpsl"].confirmed_empty
        assert report.to_dict()["byKind"]["plan"]["confirmedEmpty"] is False
        assert any(
            r.levelno == logging.WARNING and "plan" in r.getMessage() for r in caplog.records
        )
        # Nothing claimed about plan orders the panic could not see, yet they were not left
        # armed: the whole-account batch-cancel-plan-order was sent all the same, once.
        assert plan.listed == 0
        assert "batch-cancel-plan-order sent all the same: accepted" in (plan.problem or "")
        assert still_open(book["plan"]) == []
        assert requests(sim, BATCH_CANCEL_PLAN) == 1
        assert_truthful(report, sim)
        assert not listing.complete
        assert any("plan" in p for p in listing.problems)
        # The only rule broken is the one this test is about: each plan listing lacked symbol.
        refused = requests(sim, CURRENT_PLAN)
        assert refused >= 2  # the panic's and open_orders()'s
        assert sim.stats.violations == Counter({"missing_symbol": refused})
        assert sim.stats.endpoint(CURRENT_PLAN).violations == Counter({"missing_symbol": refused})
        assert sim.stats.throttled == 0


async def test_a_plan_listing_that_needs_a_symbol_works_when_the_panic_names_symbols() -> None:
    async with SimExchange(
        latency_ms=(1, 5), seed=42, penalty_s=PENALTY_S, plan_list_requires_symbol=True
    ) as sim:
        book = place(sim, {k: {"AUSDT": 3, "BUSDT": 2, "CUSDT": 2} for k in KINDS})
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            report = await engine.panic_cancel(["AUSDT", "BUSDT"], deadline=30)
        for kind in KINDS:
            assert [o.symbol for o in still_open(book[kind])] == ["CUSDT", "CUSDT"]
        assert report.account_empty
        assert report.all_closed
        assert all(s.confirmed_empty for s in report.by_kind.values())
        assert_by_kind_matches_outcomes(report, KINDS)
        assert_no_rule_broken(sim)


async def test_a_normal_only_panic_is_not_held_up_by_a_plan_listing_it_did_not_ask_for() -> None:
    async with SimExchange(
        latency_ms=(1, 5), seed=43, penalty_s=PENALTY_S, plan_list_requires_symbol=True
    ) as sim:
        book = place(sim, {k: {"AUSDT": 3} for k in KINDS})
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            report = await engine.panic_cancel(kinds=[OrderKind.NORMAL], deadline=30)
        assert still_open(book["normal"]) == []
        assert len(still_open(book["tpsl"]) + still_open(book["plan"])) == 6
        # Empty of the kinds asked for, and by_kind says which kinds those were.
        assert report.account_empty
        assert list(report.by_kind) == ["normal"]
        assert requests(sim, CURRENT_PLAN) == requests(sim, CANCEL_ORDER) == 0
        assert_no_rule_broken(sim)


async def test_an_empty_symbol_list_is_never_an_all_clear() -> None:
    """``symbols=[]`` lists nothing; reading that as "account empty" would be a false
    all-clear while orders are open. Refused up front, or at least never called empty."""
    async with SimExchange(latency_ms=(1, 5), seed=44, penalty_s=PENALTY_S) as sim:
        place(sim, {k: {"AUSDT": 2} for k in KINDS})
        answer: PanicReport | InvalidArgument
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            try:
                answer = await engine.panic_cancel([], deadline=10)
            except InvalidArgument as exc:
                answer = exc
        assert sim.count_open() == 6
        if isinstance(answer, InvalidArgument):
            assert "symbols" in str(answer)
            assert sum(sim.stats.requests.values()) == 0
        else:
            assert not answer.account_empty, answer.by_kind
            assert not any(s.confirmed_empty for s in answer.by_kind.values())
