"""A requestTime of thousands of digits (a hostile exchange): int() refuses more than 4,300
digits with a ValueError, which escaped the budget's release mid-way (the slot gone from the
count although its request arrived) and crashed the call."""

from __future__ import annotations

import pytest

from bitget_cancel import CancelEngine, Credentials, HttpRequest, HttpResponse, MockTransport
from bitget_cancel._arrival import ArrivalEstimate
from bitget_cancel._limit import RateBudget
from bitget_cancel._wire import UNFILLED_ORDERS


@pytest.mark.parametrize("request_time", ["9" * 5000, "0" * 5000 + "1", "9" * 14])
def test_a_stamp_of_too_many_digits_counts_from_the_answer(request_time: str) -> None:
    estimate = ArrivalEstimate(margin=0.01, min_samples=0)
    assert estimate.arrived(10.0, 10.3, request_time) == 10.3


async def test_a_listing_answered_with_a_stamp_of_thousands_of_digits_is_read() -> None:
    async def handler(request: HttpRequest) -> HttpResponse:
        stamp = b"9" * 5000
        return HttpResponse(
            200, b'{"code":"00000","msg":"ok","requestTime":"%s","data":[]}' % stamp
        )

    creds = Credentials(api_key="huge-stamp", secret_key="s", passphrase="p")
    async with CancelEngine(creds, transport=MockTransport(handler), account="classic") as engine:
        listed = await engine.open_orders(kinds=["normal"])
        budget = engine._session_here().budget(UNFILLED_ORDERS)
    assert listed.complete, listed.problems
    assert listed.orders == []
    assert isinstance(budget, RateBudget)
    assert budget.in_flight == 0
    assert len(budget._expiries) == 1  # its request counts in the window
