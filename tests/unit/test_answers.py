"""The one rule for reading answers (``_answers``), on its own: which order an item names."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bitget_cancel._answers import (
    ItemFields,
    Named,
    Refusal,
    Results,
    match,
    read_items,
    read_single,
)


@dataclass(frozen=True)
class Asked:
    order_id: str | None
    client_oid: str | None


def test_a_client_oid_two_orders_of_the_request_share_decides_neither() -> None:
    a, b = Asked("1", "x"), Asked("2", "x")
    results = Results([Named(None, "x")], [Refusal(None, "x", "43001", "does not exist")])
    matched = match([a, b], True, results)
    assert matched.succeeded == []
    assert matched.refused == []
    assert matched.again == [a, b]


def test_an_order_id_not_sent_names_another_order_whatever_its_client_oid() -> None:
    a = Asked("1", "x")
    matched = match([a], True, Results([Named("9", "x")], []))
    assert matched.again == [a]
    by_client_oid = Asked(None, "x")
    assert match([by_client_oid], False, Results([Named("9", "x")], [])).succeeded == [
        by_client_oid
    ]


def test_asked_by_client_oid_a_success_naming_another_orderid_than_given_is_elsewhere() -> None:
    """The target gave orderId 1 and clientOid x; asked by x, the exchange cancelled order 9:
    x's order is closed, order 1 is not known to be (the fourth breaker's contradictory ids)."""
    both = Asked("1", "x")
    matched = match([both], False, Results([Named("9", "x")], []))
    assert matched.succeeded == []
    assert matched.elsewhere == [both]
    assert match([both], False, Results([Named("1", "x")], [])).succeeded == [both]
    assert match([both], False, Results([Named(None, "x")], [])).succeeded == [both]
    # a refusal of the same order in the same answer contradicts it: asked again
    refused = Results([Named("9", "x")], [Refusal("9", "x", "40725", "service error")])
    assert match([both], False, refused).again == [both]


def test_undocumented_outcome_fields_make_an_item_no_verdict_innocent_ones_do_not() -> None:
    fields = ItemFields(code="code", msg="msg")
    results = read_items(
        [
            {"orderId": "1", "errorCode": "25204"},  # v2's names on v3
            {"orderId": "2", "cTime": "1", "extra": {"a": 1}},  # innocent: a success
            {"orderId": "3", "code": "00000", "msg": "success"},
            {"orderId": "4", "code": "25204", "msg": "Order does not exist"},
            "not an object",
        ],
        fields,
        success=None,
    )
    assert [n.order_id for n in results.unrecognised] == ["1"]
    assert [n.order_id for n in results.succeeded] == ["2", "3"]
    assert [(r.order_id, r.code) for r in results.refused] == [("4", "25204")]


def test_a_code_on_a_v2_success_item_contradicts_it() -> None:
    fields = ItemFields(code="errorCode", msg="errorMsg")
    results = read_items([{"orderId": "1", "errorCode": "43001"}], fields, success=True)
    assert results.succeeded == []
    assert [n.order_id for n in results.unrecognised] == ["1"]


def test_a_success_and_a_refusal_of_one_order_are_no_verdict() -> None:
    """successList and failureList naming the same order (or a success and an item of a shape
    not known) contradict each other: the order is asked again, never taken as cancelled."""
    a, b, c = Asked("1", None), Asked("2", None), Asked("3", None)
    results = Results(
        [Named("1", None), Named("2", None), Named("3", None)],
        [Refusal("1", None, "40015", "System is abnormal")],
        [Named("2", None)],
    )
    matched = match([a, b, c], True, results)
    assert matched.succeeded == [c]
    assert matched.refused == []
    assert matched.again == [a, b]
    # A success and a "does not exist" agree that it is gone: the success stands.
    gone = Refusal("1", None, "43001", "The order does not exist")
    assert match([a], True, Results([Named("1", None)], [gone])).succeeded == [a]
    # Two refusals: the first stands.
    first = Refusal("1", None, "43001", "does not exist")
    later = Refusal("1", None, "40015", "System is abnormal")
    assert match([a], True, Results([], [first, later])).refused == [(a, first)]


@pytest.mark.parametrize("value", [{"code": "43001"}, ["40015"], True, False])
def test_a_code_or_message_of_no_known_shape_is_no_verdict(value: object) -> None:
    """An object, a list or a bool where a code or message goes was read as no code at all:
    a success (v2 successList, v3 items, one-order answers) for an order left open."""
    v2 = ItemFields(code="errorCode", msg="errorMsg")
    v3 = ItemFields(code="code", msg="msg")
    for fields, success in ((v2, True), (v3, None)):
        for name in (fields.code, fields.msg):
            assert name is not None
            item = {"orderId": "1", name: value}
            results = read_items([item], fields, success=success)
            assert results.succeeded == [], item
            assert [n.order_id for n in results.unrecognised] == ["1"], item
            assert read_single(item, Named("1", None), fields, nameless=True) is None, item


def test_an_answer_of_many_items_naming_no_order_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hostile answer of 100,000 items for orders never asked was one log line (and a few
    microseconds of formatting) each: a log flood from one answer."""
    a = Asked("1", None)
    strays = [Named(str(1000 + i), None) for i in range(1000)]
    with caplog.at_level("WARNING", logger="bitget_cancel"):
        matched = match([a], True, Results([*strays, Named("1", None)], []))
    assert matched.succeeded == [a]
    lines = [r.getMessage() for r in caplog.records if "matches no order" in r.getMessage()]
    assert lines == [
        "answer item matches no order of this request (orderId='1000' clientOid=None); "
        "ignored (1000 such items in this answer)"
    ]


def test_an_answer_of_many_items_of_no_known_shape_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fields = ItemFields(code="code", msg="msg")
    items = ["x"] * 500 + [{"orderId": "1", "status": "failed"}] * 500
    with caplog.at_level("WARNING", logger="bitget_cancel"):
        results = read_items(items, fields, success=None)
    assert len(results.unrecognised) == 500
    assert [r.getMessage() for r in caplog.records] == [
        "1000 answer items of no known shape, not a verdict (not an object: 'x')"
    ]
