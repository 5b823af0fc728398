"""Attacks on issue 19's confirmation on virtual time: an account type learnt while the
confirmation's listing runs must not leave a kind of the new type unlisted."""

from __future__ import annotations

import json
from typing import Any

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

CREDS = Credentials(api_key="unit-key", secret_key="unit-secret", passphrase="unit-pass")
PLAN_ID = "1200000000000000007"


def ok(data: Any) -> HttpResponse:
    return HttpResponse(200, json.dumps({"code": "00000", "msg": "success", "data": data}).encode())


def refused(code: str) -> HttpResponse:
    body = {"code": code, "msg": "wrong account type", "requestTime": "1700000000000"}
    return HttpResponse(400, json.dumps(body).encode())


async def test_a_kind_the_learnt_account_type_lists_is_listed_before_not_open_is_confirmed() -> (
    None
):
    """The probe said UTA (v3 read, v2 refused 40085); v3 answered "does not exist" (25204) to
    a normal target that is an open plan order; the confirmation's v3 listing was refused
    40084, so the account became classic and only the kinds a UTA lists (normal, TP/SL) were
    listed again on v2: the plan order, never listed, was "confirmed: open nowhere"."""
    plan_open = True

    async def handle(request: HttpRequest) -> HttpResponse:
        nonlocal plan_open
        path, query = request.path, request.query
        if path == "/api/v2/public/time":
            return ok({"serverTime": "1700000000000"})
        if path == "/api/v3/trade/unfilled-orders" and "limit=1" in query.split("&"):
            return ok({"list": [], "cursor": ""})  # the probe: v3 answers this key
        if path == "/api/v2/spot/trade/unfilled-orders" and query == "limit=1":
            return refused("40085")  # the probe: v2 refuses it
        if path == "/api/v3/trade/cancel-batch":
            items = json.loads(request.body)
            return ok([{"orderId": i["orderId"], "clientOid": None, "code": "25204",
                        "msg": "Order does not exist"} for i in items])  # fmt: skip
        if path.startswith("/api/v3/"):
            return refused("40084")
        if path == "/api/v2/spot/trade/unfilled-orders":
            return ok([])
        if path == "/api/v2/spot/trade/current-plan-order":
            row = {"symbol": "BTCUSDT", "orderId": PLAN_ID, "clientOid": None}
            return ok({"nextFlag": False, "idLessThan": "", "orderList": [row] * plan_open})
        if path == "/api/v2/spot/trade/cancel-plan-order":
            plan_open = False
            return ok({"result": "success", "orderId": PLAN_ID, "clientOid": None})
        raise AssertionError(f"unexpected {path}?{query}")

    transport = MockTransport(handle)
    engine = CancelEngine(CREDS, transport=transport)
    async with engine:
        await engine.warm_up(1)
        assert engine.account_type == "uta"
        report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id=PLAN_ID)])
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.CANCELLED, outcome
    assert not plan_open
    assert outcome.found_as is not None
    assert outcome.found_as.kind is OrderKind.PLAN


async def test_a_true_route_that_says_does_not_exist_of_a_listed_order_is_checked_again() -> None:
    """A normal target that is an open TP/SL order: the listing shows it, its TP/SL cancel
    answers "does not exist" too, and the listing still shows it. That answer contradicts the
    listing just read, as a second "does not exist" on the target's own route does: it is
    checked again, never reported closed."""
    (order_id,) = ["1200000000000000009"]
    asked: list[str] = []

    async def handle(request: HttpRequest) -> HttpResponse:
        path, query = request.path, request.query
        asked.append(path)
        if path == "/api/v2/public/time":
            return ok({"serverTime": "1700000000000"})
        if path == "/api/v2/spot/trade/batch-cancel-order":
            failure = [{"orderId": order_id, "errorCode": "43001", "errorMsg": "does not exist"}]
            return ok({"successList": [], "failureList": failure})
        if path == "/api/v2/spot/trade/cancel-order":
            body = {"code": "43001", "msg": "The order does not exist", "data": None}
            return HttpResponse(400, json.dumps(body).encode())
        if path == "/api/v2/spot/trade/current-plan-order":
            return ok({"nextFlag": False, "idLessThan": "", "orderList": []})
        if path == "/api/v2/spot/trade/unfilled-orders":
            row = {"symbol": "BTCUSDT", "orderId": order_id, "clientOid": None}
            return ok([row] if "tpslType=tpsl" in query else [])
        raise AssertionError(f"unexpected {path}?{query}")

    engine = CancelEngine(CREDS, transport=MockTransport(handle), account="classic")
    async with engine:
        report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id=order_id)])
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    assert not report.all_closed
