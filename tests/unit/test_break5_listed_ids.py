"""Ids in other scripts' digits ("²".isdigit() holds, but int() refuses it): a listing that
shows one is an exchange's odd answer, never a crash."""

from __future__ import annotations

import json

import pytest

from bitget_cancel import (
    CancelEngine,
    Credentials,
    HttpRequest,
    HttpResponse,
    InvalidBudgetStore,
    MockTransport,
)
from bitget_cancel._family import id_order
from bitget_cancel._redis_url import parse_budget_url
from bitget_cancel.cli.listing import age_text, created_iso

CREDS = Credentials(api_key="k", secret_key="s", passphrase="p")


@pytest.mark.parametrize("odd", ["²", "1²", "12³4"])
async def test_a_full_page_listing_an_id_in_superscript_digits_is_read_not_crashed_on(
    odd: str,
) -> None:
    """A full page of 100 rows, one of them with such an id: the next page starts below the
    others (the odd id sorts after every number), and the listing is whole."""
    queries: list[str] = []

    async def handler(request: HttpRequest) -> HttpResponse:
        queries.append(request.query)
        if "idLessThan" in request.query:
            rows = []
        else:
            rows = [{"symbol": "BTCUSDT", "orderId": str(1000 + i)} for i in range(99)]
            rows.append({"symbol": "BTCUSDT", "orderId": odd})
        answer = {"code": "00000", "msg": "success", "requestTime": 1, "data": rows}
        return HttpResponse(200, json.dumps(answer).encode())

    async with CancelEngine(CREDS, transport=MockTransport(handler), account="classic") as engine:
        listed = await engine.open_orders(kinds=["normal"])
    assert listed.complete, listed.problems
    assert len(listed.orders) == 100
    assert any("idLessThan=1000" in q for q in queries)


def test_ids_in_other_digits_sort_as_text_after_the_numbers() -> None:
    assert id_order("²") == (1, 0, "²")
    assert id_order("12") < id_order("²")


@pytest.mark.parametrize("created", ["²", "1²", "99999999999999999999"])
def test_a_creation_time_no_calendar_can_show_is_left_blank(created: str) -> None:
    assert created_iso(created) == ""
    assert age_text("²", 1e12) == ""


def test_a_redis_database_in_superscript_digits_is_refused_by_name() -> None:
    with pytest.raises(InvalidBudgetStore, match="the database must be a number"):
        parse_budget_url("redis://localhost/²")


def test_a_listed_id_of_thousands_of_digits_is_read_not_crashed_on() -> None:
    """int() refuses more than 4,300 digits with a ValueError: such an id sorts as text."""
    huge = "9" * 5000
    assert id_order(huge) == (1, 0, huge)
    assert created_iso(huge) == ""
    assert age_text(huge, 1e12) == ""
