"""Issue 19's reproductions 3, 4 and 5 (1, 2, 6 and 7 are in test_cli confirm, test_v3_engine
and test_kind_inference): answers the engine read as an all-clear that they did not back."""

from __future__ import annotations

import json
import random
from typing import Any, Literal

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

CREDS = Credentials(api_key="unit-key", secret_key="unit-secret", passphrase="unit-pass")
TIME = "/api/v2/public/time"


def ok(data: Any) -> HttpResponse:
    return HttpResponse(200, json.dumps({"code": "00000", "msg": "success", "data": data}).encode())


def ids(n: int) -> list[str]:
    return [str(1_200_000_000_000_000_000 + i) for i in range(n)]


@pytest.mark.parametrize(
    ("account", "path"),
    [
        ("classic", "/api/v2/spot/trade/cancel-order"),
        ("uta", "/api/v3/trade/cancel-strategy-order"),
    ],
)
async def test_repro3_a_one_order_success_naming_another_order_is_not_a_cancel(
    account: Literal["classic", "uta"], path: str
) -> None:
    """A TP/SL cancel whose success names a different orderId was reported cancelled (the batch
    path checked ids, this one did not): 3 of 3 stayed open."""
    sent: list[str] = []
    guards: list[str] = []

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == TIME:
            return ok({"serverTime": "1700000000000"})
        if request.path == "/api/v3/trade/unfilled-strategy-orders":
            guards.append(request.query)  # the futures (D7b) and spot (D7c) TP/SL listings
            return ok([])
        assert request.path == path, request.path
        sent.append(json.loads(request.body)["orderId"])
        return ok({"orderId": "1199999999999999999", "clientOid": None})

    targets = [CancelTarget(symbol="BTCUSDT", order_id=i, kind=OrderKind.TPSL) for i in ids(3)]
    engine = CancelEngine(CREDS, transport=MockTransport(handle), account=account,
                          max_attempts=2, rng=random.Random(1))  # fmt: skip
    async with engine:
        report = await engine.cancel(targets)
    assert [o.status for o in report.outcomes] == [CancelStatus.UNRESOLVED] * 3
    assert not report.all_closed
    assert sorted(sent) == sorted(ids(3) * 2)  # each asked again, never taken as cancelled
    assert len(guards) == (3 + 1 if account == "uta" else 0)  # once, before the first cancel


@pytest.mark.parametrize(
    "item",
    [
        {"errorCode": "40725", "errorMsg": "service return an error"},  # v2's names on v3
        {"errorCode": "25204", "errorMsg": "Order does not exist"},
        {"status": "fail", "reason": "busy"},  # a shape the codec does not know
    ],
)
async def test_repro4_a_v3_item_of_another_shape_is_never_a_success(item: dict[str, str]) -> None:
    """v3 cancel-batch failure items with v2's field names (or any unknown outcome field) were
    read as successes: 60 "cancelled", 60 open."""

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == TIME:
            return ok({"serverTime": "1700000000000"})
        if request.path == "/api/v3/trade/cancel-batch":
            body = json.loads(request.body)
            return ok([{"orderId": o["orderId"], "clientOid": None, **item} for o in body])
        return ok({"list": [], "cursor": ""} if "unfilled-orders" in request.path else [])

    targets = [CancelTarget(symbol="BTCUSDT", order_id=i) for i in ids(60)]
    engine = CancelEngine(CREDS, transport=MockTransport(handle), account="uta",
                          max_attempts=2, rng=random.Random(1))  # fmt: skip
    async with engine:
        report = await engine.cancel(targets)
    assert report.counts()["cancelled"] == 0
    assert report.counts()["not_open"] == 0
    assert report.counts()["unresolved"] == 60


async def test_repro5_a_short_or_empty_v3_page_with_a_cursor_is_not_the_last_one() -> None:
    """A v3 listing page that is short or empty but carries a cursor was taken as the last
    page: ``open_orders()`` said complete with 0 of 7 (the panic: account_empty with 7 open)."""
    rows = [{"symbol": "BTCUSDT", "orderId": i, "clientOid": None} for i in ids(7)]
    pages = {
        None: {"list": [], "cursor": "c1"},
        "c1": {"list": rows[:3], "cursor": "c2"},
        "c2": {"list": rows[3:], "cursor": ""},
    }
    asked: list[str | None] = []

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == TIME:
            return ok({"serverTime": "1700000000000"})
        assert request.path == "/api/v3/trade/unfilled-orders", request.path
        cursor = dict(p.split("=", 1) for p in request.query.split("&")).get("cursor")
        asked.append(cursor)
        return ok(pages[cursor])

    engine = CancelEngine(CREDS, transport=MockTransport(handle), account="uta")
    async with engine:
        listed = await engine.open_orders(kinds=["normal"])
    assert listed.complete
    assert sorted(o.order_id for o in listed.orders if o.order_id) == ids(7)
    assert asked == [None, "c1", "c2"]


async def test_an_exchange_that_lists_an_order_it_says_does_not_exist_is_never_believed() -> None:
    """ "Does not exist" while the listing shows it open under the very same route: asked
    again, confirmed again (two rounds at most), then unresolved: never not_open."""
    (order_id,) = ids(1)
    counts = {"cancel": 0, "list": 0}

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == TIME:
            return ok({"serverTime": "1700000000000"})
        if request.path.endswith("/batch-cancel-order"):
            counts["cancel"] += 1
            failure = [{"orderId": order_id, "errorCode": "43001", "errorMsg": "does not exist"}]
            return ok({"successList": [], "failureList": failure})
        counts["list"] += 1
        if request.path.endswith("/current-plan-order"):
            return ok({"nextFlag": False, "idLessThan": "", "orderList": []})
        if "tpslType=tpsl" in request.query:
            return ok([])
        return ok([{"symbol": "BTCUSDT", "orderId": order_id, "clientOid": None}])

    engine = CancelEngine(CREDS, transport=MockTransport(handle), account="classic")
    async with engine:
        report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id=order_id)])
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.UNRESOLVED
    assert outcome.error_code == "43001"
    assert "still showed it open" in (outcome.error_msg or "")
    assert counts == {"cancel": 3, "list": 6}  # the first answer, then two rounds
    assert report.requests == 9


async def test_a_does_not_exist_whose_listing_cannot_be_read_is_never_not_open() -> None:
    """The confirmation's listing answers a proxy's page every time: the "does not exist"
    stays unconfirmed, the outcome unresolved with the exchange's code and why."""

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == TIME:
            return ok({"serverTime": "1700000000000"})
        if request.path.endswith("/batch-cancel-order"):
            body = json.loads(request.body)
            failure = [{"orderId": o["orderId"], "errorCode": "43001", "errorMsg": "does not exist"}
                       for o in body["orderList"]]  # fmt: skip
            return ok({"successList": [], "failureList": failure})
        return HttpResponse(502, b"<html><body>502 Bad Gateway</body></html>")

    engine = CancelEngine(CREDS, transport=MockTransport(handle), account="classic",
                          max_attempts=2, rng=random.Random(1))  # fmt: skip
    async with engine:
        report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id=i) for i in ids(2)])
    assert [o.status for o in report.outcomes] == [CancelStatus.UNRESOLVED] * 2
    for outcome in report.outcomes:
        assert outcome.error_code == "43001"
        assert "could not be confirmed" in (outcome.error_msg or "")
        assert "502" in (outcome.error_msg or "")
    assert not report.all_closed
