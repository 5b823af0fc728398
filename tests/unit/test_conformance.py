"""The conformance matrix (issue 19): every endpoint the engine calls x every hostile answer
shape x both account types. However the exchange dresses an answer, no target ends
``cancelled`` or ``not_open`` and no listing ``complete`` unless an answer backs it.

One row per case. The endpoint under test answers with the hostile shape every time; the
others answer like the exchange (listings empty), so a wrong verdict can only come from reading
the hostile answer. Cases that do not apply (a cursor on a cancel, several items in a one-order
answer, ``data: null`` where an endpoint documents it as its success) are left out, and say so.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelOutcome,
    CancelReport,
    CancelStatus,
    CancelTarget,
    Credentials,
    HttpRequest,
    HttpResponse,
    MockTransport,
    OrderKind,
)

CREDS = Credentials(api_key="unit-key", secret_key="unit-secret", passphrase="unit-pass")
ID, OTHER, OID = "1200000000000000001", "1200000000000000999", "mine-1"

V2 = "/api/v2/spot/trade/"
V3 = "/api/v3/trade/"
TIME = "/api/v2/public/time"

# What the endpoints not under test answer: every listing empty, like the exchange.
BENIGN: dict[str, Any] = {
    V2 + "unfilled-orders": [],
    V2 + "current-plan-order": {"nextFlag": False, "idLessThan": "", "orderList": []},
    V3 + "unfilled-orders": {"list": [], "cursor": ""},
    V3 + "unfilled-strategy-orders": [],
}

Body = tuple[int, bytes]


def ok(data: Any) -> Body:
    return 200, json.dumps(
        {"code": "00000", "msg": "success", "requestTime": "1", "data": data}
    ).encode()


HTML = (200, b"<html><body><h1>200 OK</h1>cached by a proxy</body></html>")
HTML_502 = (502, b"<html><body>502 Bad Gateway</body></html>")
PAGES = {"html body": HTML, "html 502": HTML_502}  # a proxy's pages, for every endpoint


def cut(body: Body) -> Body:
    return body[0], body[1][: len(body[1]) // 2]


ROW = {"symbol": "BTCUSDT", "orderId": ID, "clientOid": OID}

# -- cancels: (account, kind, path) and each hostile shape's answer ----------------------------

# fmt: off

v2_batch = {
    "success naming another id": ok(
        {"successList": [{"orderId": OTHER, "clientOid": None}], "failureList": []}
    ),
    "unknown item fields": ok(
        {"successList": [{"orderId": ID, "status": "failed", "reason": "x"}], "failureList": []}
    ),
    "v3 names on v2": ok(
        {"successList": [{"orderId": ID, "code": "40725", "msg": "retry"}], "failureList": []}
    ),
    "missing items": ok({"successList": [], "failureList": []}),
    "duplicate items": ok(
        {
            "successList": [{"orderId": OTHER}] * 2,
            "failureList": [{"orderId": ID, "errorCode": "40725", "errorMsg": "retry"}] * 2,
        }
    ),
    "data null": ok(None),
    **PAGES,
    "cut body": cut(ok({"successList": [{"orderId": ID}], "failureList": []})),
}
v2_tpsl = {
    "success naming another id": ok({"orderId": OTHER, "clientOid": None}),
    "unknown item fields": ok({"orderId": ID, "status": "failed"}),
    "v3 names on v2": ok({"orderId": ID, "code": "40725", "msg": "retry"}),
    "missing items": ok({}),
    "data null": ok(None),
    **PAGES,
    "cut body": cut(ok({"orderId": ID, "clientOid": OID})),
}
v2_plan = {
    "success naming another id": ok({"result": "success", "orderId": OTHER}),
    "unknown item fields": ok({"result": "success", "state": "failed"}),
    "v3 names on v2": ok({"orderId": ID, "code": "43025", "msg": "no"}),
    "missing items": ok({}),
    "data null": ok(None),
    **PAGES,
    "cut body": cut(ok({"result": "success"})),
}
v3_batch = {
    "success naming another id": ok([{"orderId": OTHER, "clientOid": None}]),
    "unknown item fields": ok([{"orderId": ID, "state": "failed", "reason": "x"}]),
    "v2 names on v3": ok(
        [
            {
                "orderId": ID,
                "clientOid": OID,
                "errorCode": "25204",
                "errorMsg": "Order does not exist",
            }
        ]
    ),
    "missing items": ok([]),
    "duplicate items": ok(
        [{"orderId": OTHER}] * 2 + [{"orderId": ID, "code": "25001", "msg": "busy"}] * 2
    ),
    "data null": ok(None),
    **PAGES,
    "cut body": cut(ok([{"orderId": ID, "clientOid": OID}])),
}
# cancel-strategy-order documents ``data: null`` as its success: "data null" and "missing
# items" ({}) are its real answer, not hostile ones.
v3_strategy = {
    "success naming another id": ok({"orderId": OTHER, "clientOid": None}),
    "unknown item fields": ok({"orderId": ID, "status": "failed"}),
    "v2 names on v3": ok({"orderId": ID, "errorCode": "25204", "errorMsg": "does not exist"}),
    **PAGES,
    "cut body": cut(ok(None)),
}

# fmt: on

CANCELS = [
    ("classic", OrderKind.NORMAL, V2 + "batch-cancel-order", v2_batch),
    ("classic", OrderKind.TPSL, V2 + "cancel-order", v2_tpsl),
    ("classic", OrderKind.PLAN, V2 + "cancel-plan-order", v2_plan),
    ("uta", OrderKind.NORMAL, V3 + "cancel-batch", v3_batch),
    ("uta", OrderKind.TPSL, V3 + "cancel-strategy-order", v3_strategy),
    ("uta", OrderKind.PLAN, V3 + "cancel-strategy-order", v3_strategy),
]

# -- listings -----------------------------------------------------------------------------------

# fmt: off
v2_unfilled = {
    "unknown item fields": ok([{"id": ID, "sym": "BTCUSDT", "status": "live"}]),
    "v3 names on v2": ok({"list": [ROW], "cursor": ""}),
    "data null": ok(None),
    **PAGES,
    "cut body": cut(ok([ROW])),
}
v2_plan_list = {
    "unknown item fields": ok({"nextFlag": False, "orderList": [{"id": ID, "sym": "BTCUSDT"}]}),
    "v3 names on v2": ok({"list": [ROW], "cursor": ""}),
    "cursor on a short page": ok({"nextFlag": True, "idLessThan": ID, "orderList": [ROW]}),
    "data null": ok(None),
    **PAGES,
    "cut body": cut(ok({"nextFlag": False, "orderList": [ROW]})),
}
v3_unfilled = {
    "unknown item fields": ok({"list": [{"id": ID, "sym": "BTCUSDT"}], "cursor": ""}),
    "v2 names on v3": ok({"orderList": [ROW], "idLessThan": "", "nextFlag": False}),
    "cursor on a short page": ok({"list": [ROW], "cursor": ID}),
    "cursor on an empty page": ok({"list": [], "cursor": ID}),
    "data null": ok(None),
    **PAGES,
    "cut body": cut(ok({"list": [ROW], "cursor": ""})),
}
v3_strategy_list = {
    "unknown item fields": ok([{"id": ID, "sym": "BTCUSDT"}]),
    "v2 names on v3": ok({"orderList": [ROW], "nextFlag": False}),
    "data null": ok(None),
    **PAGES,
    "cut body": cut(ok([ROW])),
}

# fmt: on

LISTINGS = [
    ("classic", OrderKind.NORMAL, V2 + "unfilled-orders", v2_unfilled),
    ("classic", OrderKind.TPSL, V2 + "unfilled-orders", v2_unfilled),
    ("classic", OrderKind.PLAN, V2 + "current-plan-order", v2_plan_list),
    ("uta", OrderKind.NORMAL, V3 + "unfilled-orders", v3_unfilled),
    ("uta", OrderKind.TPSL, V3 + "unfilled-strategy-orders", v3_strategy_list),
]


@dataclass(frozen=True)
class Case:
    account: Literal["classic", "uta"]
    kind: OrderKind
    path: str
    shape: str
    answer: Body

    def __str__(self) -> str:
        return f"{self.account}-{self.kind.value}-{self.path.rsplit('/', 1)[-1]}-{self.shape}"


def _cases(table: list[tuple[Any, OrderKind, str, dict[str, Body]]]) -> list[Case]:
    return [
        Case(a, k, p, shape, body) for a, k, p, shapes in table for shape, body in shapes.items()
    ]


# -- checks by id: what stands in for a listing the account does not have ----------------------

# A normal target answered "does not exist" by its own route, with every listing empty: the
# order may still be a plan order, which only the check by id can see.
CHECKS = [("uta", OrderKind.PLAN, V3 + "cancel-strategy-order", v3_strategy)]
NOT_EXIST_ON_V3 = ok(
    [{"orderId": ID, "clientOid": OID, "code": "25204", "msg": "Order does not exist"}]
)

# -- what a check must not cancel (D7): the futures TP/SL listings read before any check -------

# Listed for every futures category; a futures row that names no orderId is hostile too (any
# orderId asked might be its own).
GUARDS = [
    (
        "uta",
        OrderKind.PLAN,
        V3 + "unfilled-strategy-orders",
        {
            **v3_strategy_list,
            "row without orderId": ok([{"clientOid": OID, "category": "USDT-FUTURES"}]),
        },
    )
]

CANCEL_CASES = _cases(CANCELS)
LISTING_CASES = _cases(LISTINGS)
CHECK_CASES = _cases(CHECKS)
GUARD_CASES = _cases(GUARDS)


def exchange(case: Case) -> tuple[MockTransport, list[str]]:
    """The endpoint under test answers the hostile shape; the rest like the exchange."""
    seen: list[str] = []

    async def handle(request: HttpRequest) -> HttpResponse:
        seen.append(request.path)
        if request.path == TIME:
            return HttpResponse(200, ok({"serverTime": "1700000000000"})[1])
        query = dict(p.split("=", 1) for p in request.query.split("&") if p)
        hostile = request.path == case.path
        if hostile and request.path == V2 + "unfilled-orders":
            # v2 lists normal and TP/SL orders on one path: only the kind under test is.
            hostile = (query.get("tpslType") == "tpsl") == (case.kind is OrderKind.TPSL)
        if hostile and request.path == V3 + "unfilled-strategy-orders":
            # v3 lists spot TP/SL orders and (for a plan order's check) futures ones on one
            # path: only the category under test is.
            hostile = (query.get("category") == "SPOT") == (case.kind is OrderKind.TPSL)
        if hostile:
            return HttpResponse(*case.answer)
        if request.path in BENIGN:
            return HttpResponse(*ok(BENIGN[request.path]))
        return HttpResponse(404, b'{"code":"40404","msg":"Request URL NOT FOUND"}')

    return MockTransport(handle), seen


def engine(case: Case, transport: MockTransport) -> CancelEngine:
    return CancelEngine(
        CREDS, transport=transport, account=case.account, max_attempts=3, rng=random.Random(1)
    )


@pytest.mark.parametrize("case", CANCEL_CASES, ids=str)
async def test_no_cancel_answer_of_a_hostile_shape_closes_a_target(case: Case) -> None:
    transport, seen = exchange(case)
    target = CancelTarget(symbol="BTCUSDT", order_id=ID, client_oid=OID, kind=case.kind)
    async with engine(case, transport) as e:
        report = await e.cancel([target])
    (outcome,) = report.outcomes
    assert outcome.status in (CancelStatus.UNRESOLVED, CancelStatus.FAILED), outcome
    assert not report.all_closed
    assert seen.count(case.path) >= 1


@pytest.mark.parametrize("case", LISTING_CASES, ids=str)
async def test_no_listing_answer_of_a_hostile_shape_is_complete(case: Case) -> None:
    transport, seen = exchange(case)
    async with engine(case, transport) as e:
        listed = await e.open_orders(kinds=[case.kind])
    assert not listed.complete, listed
    assert listed.problems
    assert seen.count(case.path) >= 1


async def cancel_one_not_existing(case: Case) -> tuple[CancelOutcome, CancelReport, list[str]]:
    """A normal target cancel-batch answers "does not exist", the endpoint under test hostile:
    the target's outcome, the report, and every path asked."""
    transport, seen = exchange(case)
    hostile = transport.handler

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == V3 + "cancel-batch":
            return HttpResponse(*NOT_EXIST_ON_V3)
        return await hostile(request)

    target = CancelTarget(symbol="BTCUSDT", order_id=ID, client_oid=OID)
    async with engine(case, MockTransport(handle)) as e:
        report = await e.cancel([target])
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    assert not report.all_closed
    return outcome, report, seen


@pytest.mark.parametrize("case", CHECK_CASES, ids=str)
async def test_no_check_answer_of_a_hostile_shape_confirms_or_cancels_a_target(case: Case) -> None:
    outcome, _, seen = await cancel_one_not_existing(case)
    assert "could not be confirmed" in (outcome.error_msg or "")
    assert seen.count(case.path) >= 1


@pytest.mark.parametrize("case", GUARD_CASES, ids=str)
async def test_no_guard_listing_of_a_hostile_shape_lets_a_check_go(case: Case) -> None:
    """The spot listings answer empty, the futures ones the hostile shape: no check by id may
    go (it could cancel a futures order the listing could not show)."""
    outcome, report, seen = await cancel_one_not_existing(case)
    assert "could not be listed" in (outcome.error_msg or "")
    assert report.problems
    assert V3 + "cancel-strategy-order" not in seen
    assert seen.count(case.path) >= 1 + 3  # the spot TP/SL listing, then the futures ones


def test_the_matrix_covers_every_endpoint_the_engine_calls_on_both_account_types() -> None:
    """Every cancel route, lister and check of both API families is a row of the matrix."""
    from bitget_cancel._family import V2 as V2_FAMILY
    from bitget_cancel._family_v3 import V3 as V3_FAMILY

    covered = {(c.account, c.kind, c.path) for c in CANCEL_CASES} | {
        (c.account, c.kind, c.path) for c in LISTING_CASES
    }
    checked = {(c.account, c.kind, c.path) for c in CHECK_CASES}
    guarded = {(c.account, c.path) for c in GUARD_CASES}
    for family in (V2_FAMILY, V3_FAMILY):
        for kind, route in family.cancel.items():
            assert (family.name, kind, route.endpoint.path) in covered, (family.name, kind)
        for kind, lister in family.listing.items():
            assert (family.name, kind, lister.endpoint.path) in covered, (family.name, kind)
        for kind, route in family.checks.items():
            assert (family.name, kind, route.endpoint.path) in checked, (family.name, kind)
        for guard in family.check_guards:
            assert (family.name, guard.lister.endpoint.path) in guarded, (family.name, guard)
