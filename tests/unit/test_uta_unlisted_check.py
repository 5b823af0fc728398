"""A "does not exist" on a unified account is confirmed only once every kind it could be is
checked (issue 19, the open defect): plan orders cannot be listed on a UTA, so each ambiguous
order is asked of cancel-strategy-order by its id. On virtual time, one test per path: found
and cancelled, confirmed, refused, throttled, garbled, no answer, and the budget it goes by."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelOutcome,
    CancelReport,
    CancelStatus,
    CancelTarget,
    Credentials,
    OrderKind,
)
from bitget_cancel._exceptions import RequestTimeout
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from .uta_exchange import (
    FUTURES_CATEGORIES,
    V3_BATCH,
    V3_STRATEGY,
    V3_STRATEGY_CANCEL,
    V3_UNFILLED,
    UtaExchange,
    envelope,
)

CREDS = Credentials(api_key="unit-key", secret_key="unit-secret", passphrase="unit-pass")
MAX_ATTEMPTS = 3
GUARDS = len(FUTURES_CATEGORIES)  # before a check, the futures TP/SL listings (D7)

# What the check (cancel-strategy-order) hears instead of the exchange's own answer.
Answer = Callable[[HttpRequest], HttpResponse]


def refused(code: str, msg: str, status: int = 400) -> Answer:
    return lambda request: HttpResponse(status, envelope(None, code, msg))


THROTTLED = refused("429", "Too Many Requests", status=429)
NOT_EXIST = refused("25204", "Order does not exist")


def cut(request: HttpRequest) -> HttpResponse:
    body = envelope(None)
    return HttpResponse(200, body[: len(body) // 2])


def names_another(request: HttpRequest) -> HttpResponse:
    return HttpResponse(200, envelope({"orderId": "1199999999999999999", "clientOid": None}))


def no_answer(request: HttpRequest) -> HttpResponse:
    raise RequestTimeout("no answer within 5s")


class Checked:
    """The UTA exchange, with its cancel-strategy-order answers replaced one by one by
    ``answers`` (then the exchange's own); every check's body is kept."""

    def __init__(self, exchange: UtaExchange, answers: list[Answer]) -> None:
        self.exchange = exchange
        self.answers = answers
        self.bodies: list[dict[str, Any]] = []

    async def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path == V3_STRATEGY_CANCEL:
            self.bodies.append(json.loads(request.body))
            if self.answers:
                self.exchange.requests[request.path] += 1
                return self.answers.pop(0)(request)
        return await self.exchange.handle(request)


def engine(checked: Checked, **kwargs: Any) -> CancelEngine:
    return CancelEngine(
        CREDS,
        transport=MockTransport(checked.handle),
        account="uta",
        max_attempts=MAX_ATTEMPTS,
        rng=random.Random(3),
        **kwargs,
    )


async def cancel(
    checked: Checked, targets: list[CancelTarget], **kwargs: Any
) -> tuple[list[CancelOutcome], CancelReport]:
    async with engine(checked) as e:
        report = await e.cancel(targets, **kwargs)
    return report.outcomes, report


async def test_a_plan_order_targeted_as_normal_is_found_by_its_id_and_cancelled() -> None:
    """The defect: cancel-batch said 25204, the listings (normal, TP/SL) showed nothing, and
    the plan order was reported "confirmed: open nowhere" while it stayed armed."""
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", "stop-1", kind="plan")
    checked = Checked(exchange, [])
    (outcome,), report = await cancel(
        checked, [CancelTarget(symbol="BTCUSDT", order_id=plan.order_id)]
    )
    assert outcome.status is CancelStatus.CANCELLED, outcome
    assert outcome.found_as == CancelTarget(
        symbol="BTCUSDT", order_id=plan.order_id, client_oid=None, kind=OrderKind.PLAN
    )
    assert "wrong kind" in (outcome.error_msg or "")
    assert "found by its id at v3-cancel-strategy-order" in (outcome.error_msg or "")
    assert not exchange.orders
    assert exchange.cancelled[plan.order_id] == 1
    assert report.all_closed
    assert checked.bodies == [{"orderId": plan.order_id}]
    # one cancel, one listing of each kind a UTA lists, one of each futures category (what
    # the check must not cancel, D7), one check: all in the report
    assert [exchange.requests[p] for p in (V3_BATCH, V3_UNFILLED, V3_STRATEGY)] == [
        1,
        1,
        1 + GUARDS,
    ]
    assert report.requests == 4 + GUARDS


async def test_a_plan_order_under_another_symbol_or_by_clientoid_alone_is_cancelled() -> None:
    exchange = UtaExchange()
    elsewhere = exchange.place("ETHUSDT", kind="plan")
    named = exchange.place("BTCUSDT", "stop-2", kind="plan")
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id=elsewhere.order_id),  # filed under BTCUSDT
        CancelTarget(symbol="BTCUSDT", client_oid="stop-2"),
    ]
    checked = Checked(exchange, [])
    outcomes, report = await cancel(checked, targets)
    assert [o.status for o in outcomes] == [CancelStatus.CANCELLED] * 2, outcomes
    assert [o.found_as and o.found_as.kind for o in outcomes] == [OrderKind.PLAN] * 2
    assert not exchange.orders
    assert sorted(checked.bodies, key=str) == sorted(
        [{"orderId": elsewhere.order_id}, {"clientOid": named.client_oid}], key=str
    )
    assert report.all_closed


async def test_an_order_open_nowhere_is_confirmed_once_its_id_is_checked_too() -> None:
    exchange = UtaExchange()
    checked = Checked(exchange, [])
    (outcome,), report = await cancel(checked, [CancelTarget(symbol="BTCUSDT", order_id="77")])
    assert (outcome.status, outcome.error_code) == (CancelStatus.NOT_OPEN, "25204")
    assert "confirmed: open nowhere on the account" in (outcome.error_msg or "")
    assert outcome.found_as is None
    assert checked.bodies == [{"orderId": "77"}]
    assert report.requests == 1 + 2 + GUARDS + 1
    assert report.all_closed


async def test_a_stale_orderid_does_not_hide_a_plan_order_its_clientoid_names() -> None:
    """Both ids: the check asks by orderId, then by clientOid, as the cancel itself does."""
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", "stop-3", kind="plan")
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id="82", client_oid="stop-3"),  # a stale orderId
        CancelTarget(symbol="BTCUSDT", order_id="83", client_oid="gone-3"),  # neither open
    ]
    checked = Checked(exchange, [])
    outcomes, report = await cancel(checked, targets)
    assert [o.status for o in outcomes] == [CancelStatus.CANCELLED, CancelStatus.NOT_OPEN]
    assert not exchange.orders
    assert exchange.cancelled[plan.order_id] == 1
    assert sorted(map(str, checked.bodies)) == sorted(
        map(str, [{"orderId": "82"}, {"clientOid": "stop-3"}, {"orderId": "83"},
                  {"clientOid": "gone-3"}])
    )  # fmt: skip
    assert report.all_closed


async def test_a_tpsl_target_needs_no_second_question_its_own_answer_was_the_check() -> None:
    """cancel-strategy-order cancels TP/SL and plan orders alike: its 25204 to a TP/SL target
    already checked the id as a plan order."""
    exchange = UtaExchange()
    target = CancelTarget(symbol="BTCUSDT", order_id="78", kind=OrderKind.TPSL)
    checked = Checked(exchange, [])
    (outcome,), report = await cancel(checked, [target])
    assert outcome.status is CancelStatus.NOT_OPEN, outcome
    assert checked.bodies == [{"orderId": "78"}]  # its cancel, not asked again
    # its cancel, the two spot listings; and the guard listings its cancel needed: the three
    # futures ones (D7b) and the spot TP/SL one (D7c)
    assert report.requests == 1 + 2 + 3 + 1


async def unresolved_check(answer: Answer) -> tuple[str, int, CancelReport]:
    """A plan order named as a normal one, its check answered ``answer`` every time: it ends
    unresolved and stays open. Its message, how many checks were sent, and the report."""
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", kind="plan")
    checked = Checked(exchange, [answer] * MAX_ATTEMPTS)
    target = CancelTarget(symbol="BTCUSDT", order_id=plan.order_id)
    (outcome,), report = await cancel(checked, [target])
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    message = outcome.error_msg or ""
    assert "could not be confirmed" in message
    assert plan.order_id in exchange.orders
    assert not report.all_closed
    return message, len(checked.bodies), report


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (refused("43111", "Parameter verification exception"), "code 43111"),
        (refused("40017", "Parameter verification failed"), "code 40017"),
        (refused("40084", "You are in Classic Account mode"), "code 40084"),
    ],
    ids=["43111", "40017", "40084"],
)
async def test_a_refused_check_leaves_the_order_unresolved_with_the_reason(
    answer: Answer, words: str
) -> None:
    message, checks, report = await unresolved_check(answer)
    assert "v3-cancel-strategy-order (checking plan orders)" in message
    assert words in message
    assert checks == 1  # a refusal is not asked again
    assert report.problems


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (THROTTLED, "code 429"),
        (refused("40015", "System is abnormal"), "code 40015"),
        (cut, "answer"),
        (names_another, "without naming the order"),
        (no_answer, "no answer"),
    ],
    ids=["429", "transient", "garbled", "another-id", "timeout"],
)
async def test_a_check_that_keeps_failing_leaves_the_order_unresolved(
    answer: Answer, words: str
) -> None:
    """Asked again within the retry policy's attempts, then unresolved: never "not open",
    never "cancelled" without an answer that names the order."""
    message, checks, report = await unresolved_check(answer)
    assert words in message, message
    assert f"({MAX_ATTEMPTS} attempts)" in message
    assert checks == MAX_ATTEMPTS
    assert report.requests == 1 + 2 + GUARDS + MAX_ATTEMPTS
    if answer is THROTTLED:
        assert report.throttled == MAX_ATTEMPTS


@pytest.mark.parametrize("first", [THROTTLED, cut, no_answer], ids=["429", "garbled", "timeout"])
async def test_a_check_that_fails_once_is_asked_again_and_settles(first: Answer) -> None:
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", kind="plan")
    checked = Checked(exchange, [first])
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id=plan.order_id),
        CancelTarget(symbol="BTCUSDT", order_id="79"),
    ]
    outcomes, report = await cancel(checked, targets)
    by_id = {o.target.order_id: o.status for o in outcomes}
    assert by_id == {plan.order_id: CancelStatus.CANCELLED, "79": CancelStatus.NOT_OPEN}
    assert len(checked.bodies) == 2 + 1
    assert report.all_closed


async def test_a_check_that_says_does_not_exist_in_its_data_confirms_too() -> None:
    """A 200 whose data carries the order's 25204 (the shape of cancel-batch's items)."""
    exchange = UtaExchange()

    def item(request: HttpRequest) -> HttpResponse:
        data = {"orderId": "80", "clientOid": None, "code": "25204", "msg": "Order does not exist"}
        return HttpResponse(200, envelope(data))

    checked = Checked(exchange, [item])
    (outcome,), report = await cancel(checked, [CancelTarget(symbol="BTCUSDT", order_id="80")])
    assert outcome.status is CancelStatus.NOT_OPEN, outcome
    assert report.all_closed


async def test_checks_go_by_the_strategy_cancel_budget_and_are_counted() -> None:
    """25 ambiguous orders: 25 checks, at most 10 in any second (the endpoint's limit)."""
    exchange = UtaExchange()
    plans = exchange.place_many("BTCUSDT", 5, kind="plan")
    targets = [CancelTarget(symbol="BTCUSDT", order_id=o.order_id) for o in plans]
    targets += [CancelTarget(symbol="BTCUSDT", order_id=str(900 + i)) for i in range(20)]
    checked = Checked(exchange, [])
    outcomes, report = await cancel(checked, targets)
    statuses = [o.status for o in outcomes]
    assert statuses == [CancelStatus.CANCELLED] * 5 + [CancelStatus.NOT_OPEN] * 20
    assert not exchange.orders
    assert exchange.requests[V3_STRATEGY_CANCEL] == 25
    assert exchange.max_in_window(V3_STRATEGY_CANCEL) <= 10
    # 25 targets in 2 batches, 2 listings, the futures listings (once), 25 checks
    assert report.requests == 2 + 2 + GUARDS + 25


async def test_on_outcome_hears_the_cancel_a_check_made_once() -> None:
    exchange = UtaExchange()
    plan = exchange.place("BTCUSDT", kind="plan")
    heard: list[CancelOutcome] = []
    checked = Checked(exchange, [])
    target = CancelTarget(symbol="BTCUSDT", order_id=plan.order_id)
    (outcome,), _ = await cancel(checked, [target], on_outcome=heard.append)
    assert heard == [outcome]
    assert outcome.status is CancelStatus.CANCELLED


async def test_without_confirmation_no_check_is_sent() -> None:
    exchange = UtaExchange()
    exchange.place("BTCUSDT", kind="plan")
    checked = Checked(exchange, [])
    (outcome,), report = await cancel(
        checked, [CancelTarget(symbol="BTCUSDT", order_id="81")], confirm=False
    )
    assert outcome.status is CancelStatus.NOT_OPEN
    assert checked.bodies == []
    assert report.requests == 1


async def test_a_deadline_during_the_checks_leaves_them_unresolved_never_lost() -> None:
    exchange = UtaExchange()
    exchange.latency = 0.4
    targets = [CancelTarget(symbol="BTCUSDT", order_id=str(950 + i)) for i in range(30)]
    checked = Checked(exchange, [])
    outcomes, report = await cancel(checked, targets, deadline=3.0)
    assert [o.target for o in outcomes] == targets
    statuses = {o.status for o in outcomes}
    assert CancelStatus.UNRESOLVED in statuses
    assert statuses <= {CancelStatus.NOT_OPEN, CancelStatus.UNRESOLVED}
    assert not report.all_closed
    # every check that was answered is in the report's count
    assert report.requests == sum(exchange.requests.values())
