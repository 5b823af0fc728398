"""Attacks from the third breaker of issues 19, 23 and 24, on virtual time."""

from __future__ import annotations

import json
import random

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from .exchange_book import envelope
from .fake_exchange import FakeExchange

CREDS = Credentials(api_key="unit-key", secret_key="unit-secret", passphrase="unit-pass")
BATCH = "/api/v2/spot/trade/batch-cancel-order"


async def test_an_order_in_both_the_success_and_the_failure_list_is_asked_again() -> None:
    """The first answer names order 101 in successList and in failureList (40015) and cancels
    nothing: it was reported cancelled (all_closed) while it stayed open."""
    exchange = FakeExchange()
    exchange.place("BTCUSDT", "101", "a")
    batches: list[HttpRequest] = []

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == BATCH:
            batches.append(request)
            if len(batches) == 1:
                body = json.loads(request.body)
                assert [o["orderId"] for o in body["orderList"]] == ["101"]
                failed = {"orderId": "101", "clientOid": "a", "errorCode": "40015",
                          "errorMsg": "System is abnormal"}  # fmt: skip
                data = {"successList": [{"orderId": "101", "clientOid": "a"}],
                        "failureList": [failed]}  # fmt: skip
                return HttpResponse(200, envelope(data))
        return await exchange.handle(request)

    target = CancelTarget(symbol="BTCUSDT", order_id="101", client_oid="a")
    async with CancelEngine(
        CREDS,
        transport=MockTransport(handle),
        account="classic",
        rng=random.Random(1),
        wall_clock=exchange.wall_clock,
    ) as engine:
        report = await engine.cancel([target])
    (outcome,) = report.outcomes
    assert len(batches) == 2  # asked again, and the exchange cancelled it then
    assert not exchange.open_orders
    assert outcome.status is CancelStatus.CANCELLED, outcome
    assert report.all_closed
