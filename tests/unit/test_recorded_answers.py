"""Answers recorded from the live exchange (ccxt's test data, tests/fixtures/bitget_recorded)
read through the engine's own codecs and classifier: each decodes, is an OK answer, and says
what it said (issue 19: the simulator answers in these shapes; the engine reads them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bitget_cancel import CancelTarget, OrderKind
from bitget_cancel._classify import Verdict, classify_answer
from bitget_cancel._family import V2, ListedOrder
from bitget_cancel._family_v3 import V3
from bitget_cancel._listing import in_category
from bitget_cancel._plan import Batch, plan
from bitget_cancel._wire import AnswerCodec, text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bitget_recorded"


def recorded(name: str) -> tuple[str, bytes]:
    doc = json.loads((FIXTURES / name).read_text())
    return doc["request"], json.dumps(doc["httpResponse"]).encode()


def read(codec: AnswerCodec[Any], body: bytes, orders: int) -> Any:
    decoded = codec.decode(body)
    verdict = classify_answer(
        200, decoded.code, decoded.msg, readable=decoded.readable, orders=orders
    )
    assert verdict is Verdict.OK, (decoded.code, decoded.msg, decoded.readable)
    return decoded.data


def one_batch(route: Any, *targets: CancelTarget) -> Batch[CancelTarget]:
    (batch,) = plan(targets, "auto", route.max_batch)
    return batch


def test_every_fixture_names_its_source_and_endpoint() -> None:
    names = sorted(p.name for p in FIXTURES.glob("*.json"))
    assert len(names) >= 9
    for name in names:
        doc = json.loads((FIXTURES / name).read_text())
        assert doc["source"].startswith("ccxt/ccxt ts/src/test/static/response/bitget.json")
        assert doc["request"].split(" ")[0] in ("GET", "POST")
        assert doc["httpResponse"]["code"] == "00000"


def test_v2_open_orders_are_read_as_one_complete_page() -> None:
    request, body = recorded("v2_unfilled_orders.json")
    lister = V2.listing[OrderKind.NORMAL]
    assert request.endswith(lister.endpoint.path)
    page = lister.page(read(lister.codec, body, 0))
    assert page is not None
    assert page.cursor is None  # one row of at most 100: the last page
    (row,) = page.rows
    assert (row.symbol, row.order_id, row.client_oid, row.category) == (
        "LTCUSDT", "1136353550487961603", "a0fa8867-b90c-4c1c-ab32-45469dcdb53d", None
    )  # fmt: skip
    assert (row.side, row.price, row.size, row.created_ms) == ("buy", "50", "0.11", "1706653719541")


def only_row(name: str, kind: OrderKind) -> ListedOrder:
    """The one row of a recorded v3 listing, read by the lister of ``kind``."""
    request, body = recorded(name)
    lister = V3.listing[kind]
    assert request.endswith(lister.endpoint.path)
    page = lister.page(read(lister.codec, body, 0))
    assert page is not None
    (row,) = page.rows
    return row


def test_v3_open_spot_orders_are_read_with_their_category() -> None:
    row = only_row("v3_unfilled_orders_spot.json", OrderKind.NORMAL)
    assert (row.symbol, row.order_id, row.client_oid, row.category) == (
        "BTCUSDT", "1321323928055336960", "1321323928055336961", "SPOT"
    )  # fmt: skip
    assert (row.side, row.price, row.size, row.created_ms) == (
        "buy",
        "50000",
        "0.001",
        "1750754094136",
    )
    assert in_category(row)


def test_a_v3_margin_order_is_listed_but_not_a_spot_order() -> None:
    row = only_row("v3_unfilled_orders_margin.json", OrderKind.NORMAL)
    assert row.category == "MARGIN"
    assert not in_category(row)  # "new", "", "NO": read; the category keeps it out of scope


def test_a_v3_strategy_order_of_the_futures_line_is_not_a_spot_order() -> None:
    row = only_row("v3_unfilled_strategy_orders.json", OrderKind.TPSL)
    assert (row.order_id, row.category) == ("1330984742276198400", "USDT-FUTURES")
    assert not in_category(row)


def test_v3_cancel_strategy_order_success_with_null_data_confirms_the_order_asked() -> None:
    request, body = recorded("v3_cancel_strategy_order.json")
    route = V3.cancel[OrderKind.TPSL]
    assert request.endswith(route.endpoint.path)
    target = CancelTarget(symbol="BTCUSDT", order_id="1330984742276198400", kind=OrderKind.TPSL)
    batch = one_batch(route, target)
    results = route.results(read(route.codec, body, 1), batch)
    assert results is not None
    (item,) = results.succeeded
    assert text(item.order_id) == "1330984742276198400"
    assert not results.refused


def test_v3_cancel_batch_success_items_carry_only_the_ids() -> None:
    request, body = recorded("v3_cancel_batch.json")
    route = V3.cancel[OrderKind.NORMAL]
    assert request.endswith(route.endpoint.path)
    ids = ("1329948909442023424", "1329948909442023425")
    batch = one_batch(route, *(CancelTarget(symbol="BTCUSDT", order_id=i) for i in ids))
    results = route.results(read(route.codec, body, 2), batch)
    assert results is not None
    assert sorted(text(item.order_id) or "" for item in results.succeeded) == sorted(ids)
    assert not results.refused


def test_v3_cancel_symbol_order_is_an_ok_answer() -> None:
    request, body = recorded("v3_cancel_symbol_order.json")
    bulk = V3.bulk[OrderKind.NORMAL]
    assert request.endswith(bulk.endpoint.path)
    assert read(bulk.codec, body, 0) == {
        "list": [{"orderId": "1321315084004642816", "clientOid": "1321315084004642817"}]
    }


@pytest.mark.parametrize("name", ["v2_spot_order_info.json", "v3_order_info.json"])
def test_a_numeric_or_string_request_time_is_read_alike(name: str) -> None:
    _, body = recorded(name)
    decoded = AnswerCodec[Any](Any).decode(body)
    assert (decoded.code, decoded.readable) == ("00000", True)
