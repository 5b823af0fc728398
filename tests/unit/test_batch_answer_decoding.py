"""batch-cancel-order's answers decoded two ways: the usual shape in C (``UsualCancelData``),
anything else item by item (``CancelData`` and ``_answers.read_items``). Both must read every
answer alike: a success only where an item of the documented shape names the order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bitget_cancel._answers import Results
from bitget_cancel._family import V2BatchCancel
from bitget_cancel._plan import Batch
from bitget_cancel._wire import BATCH_CANCEL_CODEC, CancelData, UsualCancelData


def results_of(success: Any, failure: Any = ()) -> tuple[type, Results]:
    body = json.dumps(
        {
            "code": "00000",
            "msg": "success",
            "data": {"successList": success, "failureList": failure},
        }
    ).encode()
    decoded = BATCH_CANCEL_CODEC.decode(body)
    assert decoded.readable
    results = V2BatchCancel().results(decoded.data, Batch("single", "BTCUSDT", True, ()))
    assert results is not None
    return type(decoded.data), results


def ids(items: Any) -> list[Any]:
    return [(i.order_id, i.client_oid) for i in items]


def test_the_usual_answer_is_decoded_in_c_and_every_item_is_a_success() -> None:
    shape, results = results_of(
        [{"orderId": "1", "clientOid": "a"}, {"orderId": "2"}],
        [{"orderId": "3", "errorCode": "43001", "errorMsg": "does not exist"}],
    )
    assert shape is UsualCancelData
    assert ids(results.succeeded) == [("1", "a"), ("2", None)]
    assert [(r.order_id, r.code, r.msg) for r in results.refused] == [
        ("3", "43001", "does not exist")
    ]
    assert results.unrecognised == []


@pytest.mark.parametrize(
    ("item", "succeeded", "unrecognised"),
    [
        # an outcome-like field successList does not document: no verdict, asked again
        ({"orderId": "1", "status": "failed"}, [], [("1", None)]),
        # a code on a success contradicts it
        ({"orderId": "1", "errorCode": "43001"}, [], [("1", None)]),
        # the success code on a success agrees with it
        ({"orderId": "1", "errorCode": "00000"}, [("1", None)], []),
        # an innocent extra field: still a success
        ({"orderId": "1", "cTime": "1700000000000"}, [("1", None)], []),
        # an id that is no scalar names nothing
        ({"orderId": {"id": "1"}, "clientOid": "a"}, [(None, "a")], []),
    ],
)
def test_an_item_of_another_shape_is_read_item_by_item(
    item: dict[str, Any], succeeded: list[Any], unrecognised: list[Any]
) -> None:
    shape, results = results_of([item, {"orderId": "2"}])
    assert shape is CancelData
    assert ids(results.succeeded) == [*succeeded, ("2", None)]
    assert ids(results.unrecognised) == unrecognised


@pytest.mark.parametrize("success", [["1", {"orderId": "2"}], {"orderId": "1"}])
def test_an_item_or_a_list_that_is_no_object_makes_the_answer_unreadable(success: Any) -> None:
    body = json.dumps({"code": "00000", "msg": "success", "data": {"successList": success}})
    assert not BATCH_CANCEL_CODEC.decode(body.encode()).readable
