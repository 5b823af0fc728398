"""The engine on a unified trading account, on virtual time against the in-process UTA exchange:
v3 cancels, the account type fixed, probed or learnt from the first refusal, and the panic."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials, OrderKind
from bitget_cancel._plan import Mode
from bitget_cancel._transport import HttpRequest, HttpResponse

from .uta_exchange import (
    DROP,
    FOREIGN_ITEMS,
    GARBAGE_AFTER,
    HTML_502,
    ITEM_TRANSIENT,
    NULL_DATA,
    THROTTLE,
    TIMEOUT_AFTER,
    TRANSIENT,
    V2_BATCH,
    V2_UNFILLED,
    V3_BATCH,
    V3_STRATEGY,
    V3_STRATEGY_CANCEL,
    V3_SYMBOL,
    V3_UNFILLED,
    UtaExchange,
    envelope,
)

CREDS = Credentials(api_key="unit-key", secret_key="unit-secret", passphrase="unit-pass")


def engine_for(exchange: UtaExchange, **kwargs: Any) -> CancelEngine:
    kwargs.setdefault("rng", random.Random(7))
    return CancelEngine(
        CREDS, transport=exchange.transport(), wall_clock=exchange.wall_clock, **kwargs
    )


def book(exchange: UtaExchange, symbols: int, per_symbol: int) -> list[CancelTarget]:
    """Open orders on ``symbols`` symbols; every third one is named by its clientOid only."""
    targets = []
    for s in range(symbols):
        for n, order in enumerate(exchange.place_many(f"S{s}USDT", per_symbol, f"c{s}")):
            if n % 3 == 2:
                targets.append(CancelTarget(symbol=order.symbol, client_oid=order.client_oid))
            else:
                targets.append(CancelTarget(symbol=order.symbol, order_id=order.order_id))
    return targets


def v3_requests(exchange: UtaExchange) -> int:
    return sum(n for path, n in exchange.requests.items() if path.startswith("/api/v3/"))


def v2_trade_requests(exchange: UtaExchange) -> int:
    return sum(n for path, n in exchange.requests.items() if path.startswith("/api/v2/spot/"))


def assert_one_outcome_per_target(report: Any, targets: list[CancelTarget]) -> None:
    assert [o.target for o in report.outcomes] == list(dict.fromkeys(targets))


# -- cancel on a unified account -------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "single", "multiple"])
async def test_uta_cancel_batches_of_at_most_20_paced_5_a_second(mode: Mode) -> None:
    exchange = UtaExchange()
    targets = book(exchange, symbols=7, per_symbol=30)  # 140 by orderId, 70 by clientOid
    async with engine_for(exchange, account="uta") as engine:
        report = await engine.cancel(targets, mode=mode)
        assert engine.account_type == "uta"
    assert not exchange.orders
    assert exchange.violations == []
    assert_one_outcome_per_target(report, targets)
    assert {(o.status, o.attempts) for o in report.outcomes} == {(CancelStatus.CANCELLED, 1)}
    sizes = sorted(len(body) for body in exchange.bodies)
    assert max(sizes) == 20
    if mode == "single":  # per symbol: 20 by orderId + 10 by clientOid, ceil each
        assert report.requests == 7 * (1 + 1)
    else:
        assert report.requests == len(exchange.bodies) == 7 + 4  # ceil(140/20) + ceil(70/20)
    assert v2_trade_requests(exchange) == 0
    assert exchange.max_in_window(V3_BATCH) == 5  # the first five at once, then 5 a second
    assert sum(exchange.cancelled.values()) == 210


async def test_not_open_items_25204_and_24056_and_item_transients_are_retried() -> None:
    for code in ("25204", "24056"):
        exchange = UtaExchange(not_exist_code=code, script=[ITEM_TRANSIENT])
        real = [CancelTarget(symbol=o.symbol, order_id=o.order_id)
                for o in exchange.place_many("S0USDT", 8)]  # fmt: skip
        gone = [CancelTarget(symbol="S0USDT", order_id=str(n)) for n in range(5, 9)]
        async with engine_for(exchange, account="uta") as engine:
            report = await engine.cancel([*real, *gone])
        by_target = {o.target: o for o in report.outcomes}
        for target in real:
            # the first request's items all came back 40725: asked again, then cancelled
            assert (by_target[target].status, by_target[target].attempts) == (
                CancelStatus.CANCELLED,
                2,
            )
        for target in gone:
            outcome = by_target[target]
            assert (outcome.status, outcome.error_code) == (CancelStatus.NOT_OPEN, code)
        assert exchange.violations == []


async def test_an_order_known_by_both_ids_is_asked_by_clientoid_after_a_25204() -> None:
    exchange = UtaExchange()
    live = exchange.place("BTCUSDT", "mine-1")
    stale = CancelTarget(symbol="BTCUSDT", order_id="42", client_oid="mine-1")
    async with engine_for(exchange, account="uta") as engine:
        report = await engine.cancel([stale])
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.attempts) == (CancelStatus.CANCELLED, 1)
    assert exchange.cancelled[live.order_id] == 1
    assert [list(item) for body in exchange.bodies for item in body] == [
        ["category", "symbol", "orderId"],
        ["category", "symbol", "clientOid"],
    ]


@pytest.mark.parametrize(
    "step", [HTML_502, THROTTLE, TRANSIENT, DROP, TIMEOUT_AFTER, GARBAGE_AFTER, NULL_DATA]
)
async def test_whole_request_faults_on_v3_are_retried_and_every_order_closes(step: str) -> None:
    exchange = UtaExchange(script=[step, step])
    targets = book(exchange, symbols=3, per_symbol=20)
    async with engine_for(exchange, account="uta") as engine:
        report = await engine.cancel(targets)
    assert not exchange.orders
    assert report.all_closed
    assert_one_outcome_per_target(report, targets)
    # An order the exchange cancelled before the answer was lost is not open when asked again.
    assert {o.status for o in report.outcomes} <= {CancelStatus.CANCELLED, CancelStatus.NOT_OPEN}
    assert max(exchange.cancelled.values()) == 1
    assert exchange.violations == []


async def test_hostile_items_cannot_claim_an_order_that_was_not_cancelled() -> None:
    exchange = UtaExchange(script=[FOREIGN_ITEMS])
    orders = exchange.place_many("BTCUSDT", 10, "h")
    targets = [CancelTarget(symbol=o.symbol, order_id=o.order_id) for o in orders]
    async with engine_for(exchange, account="uta") as engine:
        report = await engine.cancel(targets)
    assert not exchange.orders
    by_target = {o.target: o for o in report.outcomes}
    # The first order was left open and unmentioned; an item claiming its clientOid under
    # another orderId did not pass for it: it was asked again.
    assert by_target[targets[0]].status is CancelStatus.CANCELLED
    assert by_target[targets[0]].attempts == 2
    assert {by_target[t].attempts for t in targets[1:]} == {1}
    assert len(exchange.bodies) == 2


# -- the account type --------------------------------------------------------------------------


async def test_auto_learns_uta_from_40085_and_replans_on_v3_without_counting_an_attempt() -> None:
    exchange = UtaExchange()
    targets = book(exchange, symbols=5, per_symbol=60)  # 200 by orderId, 100 by clientOid
    async with engine_for(exchange) as engine:
        assert engine.account_type is None
        report = await engine.cancel(targets)
        assert engine.account_type == "uta"
    assert not exchange.orders
    assert_one_outcome_per_target(report, targets)
    assert {(o.status, o.attempts) for o in report.outcomes} == {(CancelStatus.CANCELLED, 1)}
    # The first v2 slots went out at once and were all refused; nothing was sent to v2 after.
    v2 = exchange.requests[V2_BATCH]
    assert 1 <= v2 <= 10
    assert exchange.requests[V3_BATCH] == 10 + 5  # 200/20 + 100/20: re-planned for v3
    assert report.requests == v2 + 15
    assert max(exchange.cancelled.values()) == 1
    assert exchange.violations == []


async def test_the_switch_holds_under_faults_no_outcome_lost_or_duplicated() -> None:
    script = [HTML_502, DROP, ITEM_TRANSIENT, TIMEOUT_AFTER, THROTTLE, FOREIGN_ITEMS, NULL_DATA]
    exchange = UtaExchange(script=list(script))
    targets = book(exchange, symbols=4, per_symbol=25)
    gone = [CancelTarget(symbol="S1USDT", order_id=str(n)) for n in range(1, 6)]
    duplicates = targets[:7]
    async with engine_for(exchange, max_attempts=6) as engine:
        report = await engine.cancel([*targets, *gone, *duplicates])
    assert engine.account_type == "uta"
    assert not exchange.orders
    assert_one_outcome_per_target(report, [*targets, *gone])
    statuses = Counter(o.status for o in report.outcomes)
    assert statuses[CancelStatus.NOT_OPEN] >= len(gone)
    assert set(statuses) <= {CancelStatus.CANCELLED, CancelStatus.NOT_OPEN}
    assert max(exchange.cancelled.values()) == 1
    # the refused v2 requests are not attempts: at most one per fault of the script, plus one
    assert max(o.attempts for o in report.outcomes) <= 1 + len(script)
    assert exchange.violations == []


async def test_auto_switches_every_kind_tpsl_and_plan_go_to_cancel_strategy_order() -> None:
    exchange = UtaExchange()
    normal = exchange.place_many("BTCUSDT", 3)
    stops = exchange.place_many("BTCUSDT", 4, "tp", kind="tpsl")
    plans = exchange.place_many("ETHUSDT", 2, kind="plan")
    targets = [CancelTarget(symbol=o.symbol, order_id=o.order_id) for o in normal]
    targets += [
        CancelTarget(symbol=o.symbol, client_oid=o.client_oid, kind=OrderKind.TPSL) for o in stops
    ]
    targets += [
        CancelTarget(symbol=o.symbol, order_id=o.order_id, kind=OrderKind.PLAN) for o in plans
    ]
    targets.append(CancelTarget(symbol="ETHUSDT", order_id="77", kind=OrderKind.PLAN))  # not open
    async with engine_for(exchange) as engine:
        await engine.warm_up(1)  # learns "uta": TP/SL orders may then go by clientOid
        report = await engine.cancel(targets)
    assert not exchange.orders
    statuses = [(o.target.kind, o.status, o.attempts) for o in report.outcomes]
    # Issue 19, repro 7: no v3 listing shows spot plan orders. The 25204 of a plan target
    # comes from cancel-strategy-order by its id, the very check that stands in for that
    # listing; with normal and TP/SL orders listed, every kind it could be is checked.
    assert statuses == [(OrderKind.NORMAL, CancelStatus.CANCELLED, 1)] * 3 + [
        (OrderKind.TPSL, CancelStatus.CANCELLED, 1)
    ] * 4 + [(OrderKind.PLAN, CancelStatus.CANCELLED, 1)] * 2 + [
        (OrderKind.PLAN, CancelStatus.NOT_OPEN, 1)
    ]
    confirmed = report.outcomes[-1].error_msg or ""
    assert "confirmed: open nowhere on the account" in confirmed
    assert report.all_closed
    # the check is not asked twice: the plan target's own answer was that question
    assert exchange.requests[V3_STRATEGY_CANCEL] == 4 + 2 + 1
    # the probe's unfilled-orders and the confirmation's; the spot TP/SL listing and, read once
    # before the first TP/SL or plan cancel, the three futures ones (D7b) and the spot TP/SL
    # one (D7c: the TP/SL targets by clientOid go by the orderIds it lists)
    assert (exchange.requests[V3_UNFILLED], exchange.requests[V3_STRATEGY]) == (1 + 1, 1 + 3 + 1)


async def test_account_classic_on_a_uta_fails_with_a_hint_to_use_uta_or_auto() -> None:
    exchange = UtaExchange()
    targets = book(exchange, symbols=2, per_symbol=10)
    async with engine_for(exchange, account="classic") as engine:
        report = await engine.cancel(targets)
        assert engine.account_type == "classic"
    assert len(exchange.orders) == 20
    assert v3_requests(exchange) == 0
    for outcome in report.outcomes:
        assert (outcome.status, outcome.error_code) == (CancelStatus.FAILED, "40085")
        assert 'account="uta"' in (outcome.error_msg or "")
        assert 'account="auto"' in (outcome.error_msg or "")


async def test_account_uta_on_a_classic_account_fails_with_a_hint_to_use_classic_or_auto() -> None:
    exchange = UtaExchange(account="classic")
    orders = exchange.place_many("BTCUSDT", 3)
    async with engine_for(exchange, account="uta") as engine:
        report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id=o.order_id)
                                      for o in orders])  # fmt: skip
    assert len(exchange.orders) == 3
    assert v2_trade_requests(exchange) == 0
    for outcome in report.outcomes:
        assert (outcome.status, outcome.error_code) == (CancelStatus.FAILED, "40084")
        assert 'account="classic"' in (outcome.error_msg or "")


@pytest.mark.parametrize("account", ["uta", "classic"])
async def test_warm_up_probes_the_account_type_with_one_signed_read_of_each_api(
    account: str,
) -> None:
    exchange = UtaExchange(account=account)
    targets = book(exchange, symbols=2, per_symbol=15)
    async with engine_for(exchange) as engine:
        await engine.warm_up(2)
        assert engine.account_type == account
        assert exchange.requests[V3_UNFILLED] == 1
        assert exchange.requests[V2_UNFILLED] == 1
        probes = {r.path: r for r in engine._session.transport.sent[-2:]}  # type: ignore[union-attr]
        assert (probes[V3_UNFILLED].method, probes[V3_UNFILLED].query) == (
            "GET",
            "category=SPOT&limit=1",
        )
        assert (probes[V2_UNFILLED].method, probes[V2_UNFILLED].query) == ("GET", "limit=1")
        assert all("ACCESS-SIGN" in p.headers for p in probes.values())
        report = await engine.cancel(targets)
    assert report.all_closed
    assert not exchange.orders
    assert {o.attempts for o in report.outcomes} == {1}
    if account == "uta":  # known before the first cancel: no v2 cancel at all
        assert v2_trade_requests(exchange) == 1  # the probe only
    else:
        assert v3_requests(exchange) == 1  # the probe only


@pytest.mark.parametrize("step", [HTML_502, DROP, TRANSIENT, GARBAGE_AFTER])
async def test_a_v3_probe_without_a_clear_answer_leaves_the_v2_refusal_to_decide(
    step: str,
) -> None:
    exchange = UtaExchange(script=[step])
    targets = book(exchange, symbols=1, per_symbol=12)
    async with engine_for(exchange) as engine:
        await engine.warm_up(1)
        assert engine.account_type == "uta"  # v2 refused the key with 40085
        report = await engine.cancel(targets)
    assert report.all_closed
    assert not exchange.orders
    assert exchange.requests[V2_BATCH] == 0
    assert {o.attempts for o in report.outcomes} == {1}


async def test_a_classic_key_that_v3_also_answers_is_not_taken_for_a_uta() -> None:
    """Issue 19, repro 6: one OK from the v3 probe fixed the account as UTA for good; if a
    classic key can read v3 (an empty list), the panic said the account was empty with every
    classic order open, and every cancel failed 40084."""
    exchange = UtaExchange(account="classic")
    exchange.v3_reads_for_classic = True
    targets = book(exchange, symbols=2, per_symbol=30)
    async with engine_for(exchange) as engine:
        await engine.warm_up(1)
        assert engine.account_type is None  # both APIs answered: unknown
        report = await engine.panic_cancel(kinds=["normal"], use_symbol_cancel=False)
    assert not exchange.orders
    assert report.account_empty
    assert len(report.cancelled) == len(targets)


async def test_a_refusal_from_the_adopted_family_reopens_the_question_once() -> None:
    """A probe fooled into UTA (v3 answers, v2 refuses 40085) is corrected by the first 40084
    of a v3 cancel; the v2 API that refused before is not adopted back on a later 40085."""
    exchange = UtaExchange(account="classic")
    exchange.v3_reads_for_classic = True
    exchange.v2_reads_refused = True
    targets = book(exchange, symbols=1, per_symbol=10)
    async with engine_for(exchange) as engine:
        await engine.warm_up(1)
        assert engine.account_type == "uta"
        report = await engine.cancel(targets)
        learnt: str | None = engine.account_type  # a fresh read: mypy narrowed the one above
        assert learnt == "classic"
    assert report.all_closed
    assert not exchange.orders


@pytest.mark.parametrize("account", ["uta", "classic"])
async def test_a_fixed_account_type_is_never_probed(account: str) -> None:
    exchange = UtaExchange(account=account)
    async with engine_for(exchange, account=account) as engine:
        await engine.warm_up(2)
        assert engine.account_type == account
    assert v3_requests(exchange) == 0


# -- panic on a unified account ----------------------------------------------------------------


def fill_uta(exchange: UtaExchange) -> None:
    exchange.place_many("BTCUSDT", 130, "b")  # two pages, and a symbol cancel
    exchange.place_many("ETHUSDT", 30)
    exchange.place_many("XRPUSDT", 3, "t", kind="tpsl")
    exchange.place_many("ETHUSDT", 2, "s", kind="tpsl")


async def test_auto_panic_switches_mid_panic_and_confirms_normal_and_tpsl_empty() -> None:
    exchange = UtaExchange()
    fill_uta(exchange)
    async with engine_for(exchange) as engine:
        report = await engine.panic_cancel(kinds=("normal", "tpsl"), deadline=60)
        assert engine.account_type == "uta"
    assert not exchange.orders
    assert report.account_empty
    assert report.problems == ()
    assert report.by_kind["normal"].confirmed_empty
    assert report.by_kind["tpsl"].confirmed_empty
    assert report.all_closed
    targets = [o.target for o in report.outcomes]
    assert len(targets) == len(set(targets)) == 165
    assert exchange.requests[V3_SYMBOL] == 2  # BTCUSDT (130 listed) and ETHUSDT (30 >= 20)
    assert exchange.requests[V3_STRATEGY_CANCEL] == 5
    assert max(exchange.cancelled.values()) == 1
    assert exchange.violations == []


async def test_uta_panic_over_every_kind_says_plan_orders_cannot_be_listed() -> None:
    exchange = UtaExchange()
    fill_uta(exchange)
    plan = exchange.place("BTCUSDT", kind="plan")
    async with engine_for(exchange, account="uta") as engine:
        report = await engine.panic_cancel(deadline=60)
    # normal and TP/SL orders closed and confirmed; the trigger order could not be listed
    assert list(exchange.orders) == [plan.order_id]
    assert not report.account_empty
    assert report.by_kind["normal"].confirmed_empty
    assert report.by_kind["tpsl"].confirmed_empty
    summary = report.by_kind["plan"]
    assert not summary.confirmed_empty
    assert summary.problem is not None
    assert "uta" in summary.problem
    assert any(p.startswith("plan orders:") for p in report.problems)
    assert v2_trade_requests(exchange) == 0


async def test_uta_panic_with_a_refused_strategy_listing_never_calls_tpsl_empty() -> None:
    exchange = UtaExchange()
    exchange.place_many("BTCUSDT", 5)
    stop = exchange.place("BTCUSDT", "tp", kind="tpsl")
    original = exchange.handle

    async def refuse_strategy_listing(request: HttpRequest) -> HttpResponse:
        if request.path.endswith("unfilled-strategy-orders"):
            return HttpResponse(400, envelope(None, "40017", "Parameter verification failed"))
        return await original(request)

    exchange.handle = refuse_strategy_listing  # type: ignore[method-assign]
    async with engine_for(exchange, account="uta") as engine:
        report = await engine.panic_cancel(kinds=("normal", "tpsl"), deadline=60)
    assert list(exchange.orders) == [stop.order_id]
    assert not report.account_empty
    assert report.by_kind["normal"].confirmed_empty
    tpsl = report.by_kind["tpsl"]
    assert not tpsl.confirmed_empty
    assert "40017" in (tpsl.problem or "")


async def test_a_lower_rate_limit_caps_the_v3_cancel_lane_too() -> None:
    exchange = UtaExchange()
    targets = book(exchange, symbols=2, per_symbol=60)  # 80 by orderId, 40 by clientOid: 6
    async with engine_for(exchange, account="uta", rate_limit=2) as engine:
        report = await engine.cancel(targets)
    assert report.all_closed
    assert report.requests == 6
    assert exchange.max_in_window(V3_BATCH) == 2


async def test_an_exchange_refusing_both_apis_never_makes_the_engine_flip_flop() -> None:
    """A probe fooled into UTA; v3 then refuses the key (40084: back to classic), and v2
    refuses it too (40085): the type is not switched back, the orders fail with the code, and
    each API was asked once."""
    exchange = UtaExchange(account="classic")
    exchange.v3_reads_for_classic = True
    exchange.v2_reads_refused = True
    exchange.v2_refused = True
    targets = book(exchange, symbols=1, per_symbol=5)
    async with engine_for(exchange) as engine:
        await engine.warm_up(1)
        report = await engine.cancel(targets)
        assert engine.account_type == "classic"
    assert {(o.status, o.error_code) for o in report.outcomes} == {(CancelStatus.FAILED, "40085")}
    batches = len({t.order_id is None for t in targets})  # one per id kind
    assert exchange.requests[V3_BATCH] == batches
    assert exchange.requests[V2_BATCH] == batches
