"""The v3 (unified trading account) routes: request bodies, queries and answers, one at a time."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bitget_cancel import CancelTarget, OrderKind
from bitget_cancel._family import ListedOrder, Page, Refusal, SentIds
from bitget_cancel._family_v3 import V3
from bitget_cancel._plan import Batch, plan
from bitget_cancel._wire import text
from bitget_cancel._wire_v3 import NULL_DATA_CODEC

BATCH = V3.cancel[OrderKind.NORMAL]
STRATEGY = V3.cancel[OrderKind.TPSL]
UNFILLED = V3.listing[OrderKind.NORMAL]
STRATEGY_LIST = V3.listing[OrderKind.TPSL]


def answer(data: Any, code: str = "00000", msg: str = "success") -> bytes:
    return json.dumps({"code": code, "msg": msg, "requestTime": 1, "data": data}).encode()


def batch_of(*targets: CancelTarget) -> Batch[CancelTarget]:
    (batch,) = plan(targets, "auto", BATCH.max_batch)
    return batch


def test_cancel_batch_is_a_json_array_of_spot_items_each_with_its_symbol() -> None:
    batch = batch_of(
        CancelTarget(symbol="BTCUSDT", order_id="1", client_oid="a"),
        CancelTarget(symbol="ETHUSDT", order_id="2"),
    )
    assert json.loads(BATCH.encode(batch)) == [
        {"category": "SPOT", "symbol": "BTCUSDT", "orderId": "1"},
        {"category": "SPOT", "symbol": "ETHUSDT", "orderId": "2"},
    ]
    by_client_oid = batch_of(CancelTarget(symbol="BTCUSDT", client_oid="c-1"))
    assert json.loads(BATCH.encode(by_client_oid)) == [
        {"category": "SPOT", "symbol": "BTCUSDT", "clientOid": "c-1"}
    ]


def test_the_planner_packs_at_most_20_orders_a_request_across_symbols() -> None:
    targets = [CancelTarget(symbol=f"S{i % 7}USDT", order_id=str(i)) for i in range(1, 131)]
    batches = plan(targets, "auto", BATCH.max_batch)
    assert [len(b) for b in batches] == [20] * 6 + [10]
    bodies = [json.loads(BATCH.encode(b)) for b in batches]
    assert sorted(item["orderId"] for body in bodies for item in body) == sorted(
        str(i) for i in range(1, 131)
    )
    assert any(len({item["symbol"] for item in body}) > 1 for body in bodies)


def test_per_item_results_success_without_code_and_failures_with_their_code() -> None:
    batch = batch_of(*(CancelTarget(symbol="BTCUSDT", order_id=str(i)) for i in range(1, 6)))
    decoded = BATCH.codec.decode(
        answer(
            [
                {"orderId": "1", "clientOid": "a"},
                {"orderId": 2, "clientOid": None, "code": "00000", "msg": "success"},
                {"orderId": "3", "code": "25204", "msg": "Order does not exist"},
                {"orderId": "4", "clientOid": "", "code": 24056, "msg": "notExisted"},
                {"orderId": "5", "code": None, "msg": "The order does not exist"},
            ]
        )
    )
    assert decoded.readable
    results = BATCH.results(decoded.data, batch)
    assert results is not None
    assert [(text(i.order_id), text(i.client_oid)) for i in results.succeeded] == [
        ("1", "a"),
        ("2", None),
    ]
    assert [
        Refusal(text(r.order_id), text(r.client_oid), r.code, r.msg) for r in results.refused
    ] == [
        Refusal("3", None, "25204", "Order does not exist"),
        Refusal("4", None, "24056", "notExisted"),
        Refusal("5", None, None, "The order does not exist"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        answer(None),  # success code, null data
        answer({"successList": []}),  # a v2-shaped answer
        answer([{"orderId": "1"}, "garbage"]),  # one item not an object
        b'{"code":"00000","data":[{"orderId":"1"}',  # cut
    ],
)
def test_an_answer_that_is_not_a_list_of_items_is_not_read_as_results(body: bytes) -> None:
    decoded = BATCH.codec.decode(body)
    batch = batch_of(CancelTarget(symbol="BTCUSDT", order_id="1"))
    assert not decoded.readable or BATCH.results(decoded.data, batch) is None


def test_a_strategy_order_is_cancelled_one_a_request_by_one_id_without_category() -> None:
    assert STRATEGY.max_batch == 1
    by_id = batch_of(
        CancelTarget(symbol="BTCUSDT", order_id="7", client_oid="x", kind=OrderKind.TPSL)
    )
    assert json.loads(STRATEGY.encode(by_id)) == {"orderId": "7"}
    by_oid = batch_of(CancelTarget(symbol="BTCUSDT", client_oid="x", kind=OrderKind.TPSL))
    assert json.loads(STRATEGY.encode(by_oid)) == {"clientOid": "x"}
    assert V3.cancel[OrderKind.PLAN].endpoint == STRATEGY.endpoint


@pytest.mark.parametrize(
    "body", [answer(None), b'{"code":"00000","msg":"success"}', answer({"orderId": "7"})]
)
def test_strategy_cancel_success_with_null_or_absent_data_is_that_order_cancelled(
    body: bytes,
) -> None:
    decoded = STRATEGY.codec.decode(body)
    assert decoded.readable
    batch = batch_of(CancelTarget(symbol="BTCUSDT", order_id="7", kind=OrderKind.TPSL))
    results = STRATEGY.results(decoded.data, batch)
    assert results is not None
    assert list(results.succeeded) == [SentIds("7", None)]
    assert not results.refused


@pytest.mark.parametrize("data", [[1], "ok", 5])
def test_strategy_cancel_success_with_data_of_another_shape_is_not_readable(data: Any) -> None:
    assert not NULL_DATA_CODEC.decode(answer(data)).readable


def test_strategy_cancel_refusal_keeps_its_code() -> None:
    decoded = NULL_DATA_CODEC.decode(answer(None, "25204", "Order does not exist"))
    assert (decoded.code, decoded.msg, decoded.readable) == ("25204", "Order does not exist", False)


def test_unfilled_orders_query_names_the_spot_category_and_pages_by_cursor() -> None:
    assert dict(parse_qsl(UNFILLED.query(None, None))) == {"category": "SPOT", "limit": "100"}
    assert dict(parse_qsl(UNFILLED.query("BTCUSDT", "123"))) == {
        "category": "SPOT",
        "symbol": "BTCUSDT",
        "limit": "100",
        "cursor": "123",
    }


def test_a_page_with_a_cursor_hands_it_on_whatever_its_length_none_ends_the_listing() -> None:
    """Issue 19, repro 5: a short or empty page that still carries a cursor was taken as the
    last one (7 orders open, the panic said the account was empty)."""
    rows = [{"orderId": str(1000 - i), "clientOid": None, "symbol": "BTCUSDT"} for i in range(100)]
    full = UNFILLED.codec.decode(answer({"list": rows, "cursor": "901"}))
    page = UNFILLED.page(full.data)
    assert page is not None
    assert page.cursor == "901"
    assert len(page.rows) == 100
    assert page.rows[0] == ListedOrder("BTCUSDT", "1000", None)
    short = UNFILLED.codec.decode(answer({"list": rows[:3], "cursor": "998"}))
    assert UNFILLED.page(short.data) == Page([ListedOrder("BTCUSDT", str(1000 - i), None)
                                              for i in range(3)], "998")  # fmt: skip
    empty = UNFILLED.codec.decode(answer({"list": [], "cursor": "997"}))
    assert UNFILLED.page(empty.data) == Page([], "997")
    for end in ({"list": [], "cursor": ""}, {"list": rows, "cursor": ""}, {"list": rows}):
        decoded = UNFILLED.codec.decode(answer(end))
        page = UNFILLED.page(decoded.data)
        assert page is not None
        assert page.cursor is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"cursor": "5"},
        {"list": None, "cursor": ""},
        [],
        {"list": "x"},
        # a bool where the cursor goes was read as no cursor: the last page (third breaker)
        {"list": [], "cursor": True},
        {"list": [], "cursor": False},
    ],
)
def test_a_listing_without_its_list_is_never_read_as_nothing_open(data: Any) -> None:
    decoded = UNFILLED.codec.decode(answer(data))
    assert not decoded.readable or UNFILLED.page(decoded.data) is None


def test_strategy_listing_asks_for_spot_tpsl_of_the_whole_account_in_one_array() -> None:
    assert dict(parse_qsl(STRATEGY_LIST.query("BTCUSDT", None))) == {
        "category": "SPOT",
        "type": "tpsl",
    }
    decoded = STRATEGY_LIST.codec.decode(
        answer([{"orderId": "9", "clientOid": "t", "symbol": "ETHUSDT", "type": "tpsl"}])
    )
    assert STRATEGY_LIST.page(decoded.data) == Page([ListedOrder("ETHUSDT", "9", "t")], None)
    assert STRATEGY_LIST.page(STRATEGY_LIST.codec.decode(answer({"list": []})).data) is None


def test_plan_orders_have_no_v3_listing_or_bulk_cancel_so_a_panic_cannot_call_them_empty() -> None:
    # No UTA page lists spot trigger orders: the panic must report them unconfirmed.
    assert OrderKind.PLAN not in V3.listing
    assert set(V3.bulk) == {OrderKind.NORMAL}


def test_symbol_cancel_names_the_spot_category_and_one_symbol() -> None:
    bulk = V3.bulk[OrderKind.NORMAL]
    assert bulk.per_symbol
    assert json.loads(bulk.body(["BTCUSDT"])) == {"category": "SPOT", "symbol": "BTCUSDT"}


def test_v3_endpoints_have_their_own_budgets_and_the_documented_rates() -> None:
    endpoints = [r.endpoint for r in V3.cancel.values()]
    endpoints += [r.endpoint for r in V3.listing.values()]
    endpoints += [r.endpoint for r in V3.bulk.values()]
    rates = {endpoint.path: endpoint.rate for endpoint in endpoints}
    assert rates == {
        "/api/v3/trade/cancel-batch": 5,
        "/api/v3/trade/cancel-strategy-order": 10,
        "/api/v3/trade/unfilled-orders": 20,
        "/api/v3/trade/unfilled-strategy-orders": 20,
        "/api/v3/trade/cancel-symbol-order": 5,
    }
    assert all(endpoint.name.startswith("v3-") for endpoint in endpoints)
    assert BATCH.max_batch == 20
