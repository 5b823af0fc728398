"""Orders refused in one answer are retried together: one backoff per refused request, so a
retry costs no more requests than its orders fill (issue 19, item 12)."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from .exchange_book import envelope

CREDS = Credentials(api_key="unit-key", secret_key="unit-secret", passphrase="unit-pass")
BATCH_PATH = "/api/v2/spot/trade/batch-cancel-order"


def targets(n: int) -> list[CancelTarget]:
    return [CancelTarget(symbol="BTCUSDT", order_id=str(10_000 + i)) for i in range(n)]


def engine(handler: Any) -> CancelEngine:
    return CancelEngine(
        CREDS,
        transport=MockTransport(handler),
        wall_clock=lambda: 1_700_000_000.0,
        rng=random.Random(3),
    )


async def test_fifty_orders_refused_four_times_each_take_five_requests() -> None:
    refusals: Counter[str] = Counter()
    requests: list[int] = []

    async def handler(request: HttpRequest) -> HttpResponse:
        assert request.path == BATCH_PATH
        body = json.loads(request.body)
        requests.append(len(body["orderList"]))
        success, failure = [], []
        for item in body["orderList"]:
            order_id = item["orderId"]
            if refusals[order_id] < 4:
                refusals[order_id] += 1
                failure.append(
                    {"orderId": order_id, "errorCode": "40015",
                     "errorMsg": "System is abnormal, please try again later"}
                )  # fmt: skip
            else:
                success.append({"orderId": order_id, "clientOid": None})
        return HttpResponse(200, envelope({"successList": success, "failureList": failure}))

    async with engine(handler) as eng:
        report = await eng.cancel(targets(50))
    assert requests == [50] * 5
    assert len(report.cancelled) == 50
    assert report.all_closed


async def test_a_hundred_orders_answered_with_garbled_bodies_take_ten_requests() -> None:
    requests: list[int] = []

    async def handler(request: HttpRequest) -> HttpResponse:
        requests.append(len(json.loads(request.body)["orderList"]))
        whole = envelope({"successList": [], "failureList": []})
        return HttpResponse(200, whole[: len(whole) // 2])

    async with engine(handler) as eng:
        report = await eng.cancel(targets(100))
    assert requests == [50] * 10  # two batches, five attempts each
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    assert all(o.attempts == 5 for o in report.outcomes)
