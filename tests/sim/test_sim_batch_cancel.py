"""batch-cancel-order: success and failure lists, modes, per-order rules, whole-request rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bitget_cancel.sim import SimExchange

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

NOT_EXIST = "The order does not exist"


def assert_not_exist(item: dict[str, Any]) -> None:
    assert item["errorMsg"] == NOT_EXIST
    assert item.get("errorCode", "43001") == "43001"


async def test_cancels_by_order_id_and_reports_both_ids(sim: SimExchange, api: Any) -> None:
    orders = sim.place_orders("BTCUSDT", 5, client_oid_prefix="g")
    status, answer = await api.batch("BTCUSDT", [{"orderId": o.order_id} for o in orders[:3]])
    assert status == 200
    assert answer["code"] == "00000"
    assert answer["msg"] == "success"
    assert answer["requestTime"].isdigit()  # a string, as the live exchange sends it
    data = answer["data"]
    assert data["failureList"] == []
    expected = [{"orderId": o.order_id, "clientOid": o.client_oid} for o in orders[:3]]
    assert sorted(data["successList"], key=lambda i: i["orderId"]) == expected
    assert [sim.is_open(o.order_id) for o in orders] == [False, False, False, True, True]
    assert orders[0].status == "cancelled"
    assert sim.stats.cancelled == 3
    assert sim.stats.total_violations == 0


async def test_cancels_by_client_oid_and_null_client_oid_is_reported_as_null(
    sim: SimExchange, api: Any
) -> None:
    named = sim.place_order("BTCUSDT", client_oid="mine-1")
    _, answer = await api.batch("BTCUSDT", [{"clientOid": "mine-1"}])
    assert answer["data"]["successList"] == [{"orderId": named.order_id, "clientOid": "mine-1"}]
    anonymous = sim.place_order("BTCUSDT")
    _, answer = await api.batch("BTCUSDT", [{"orderId": anonymous.order_id}])
    assert answer["data"]["successList"] == [{"orderId": anonymous.order_id, "clientOid": None}]


async def test_unknown_already_cancelled_and_wrong_symbol_fail_with_43001(
    sim: SimExchange, api: Any
) -> None:
    btc = sim.place_order("BTCUSDT")
    eth = sim.place_order("ETHUSDT")
    await api.batch("BTCUSDT", [{"orderId": btc.order_id}])
    status, answer = await api.batch(
        "BTCUSDT", [{"orderId": btc.order_id}, {"orderId": "999"}, {"orderId": eth.order_id}]
    )
    assert status == 200
    data = answer["data"]
    assert data["successList"] == []
    assert sorted(i["orderId"] for i in data["failureList"]) == sorted(
        [btc.order_id, "999", eth.order_id]
    )
    for item in data["failureList"]:
        assert_not_exist(item)
    assert sim.is_open(eth.order_id)
    assert sim.stats.total_violations == 0


async def test_error_code_is_left_out_of_some_not_exist_items(sim: SimExchange, api: Any) -> None:
    _, answer = await api.batch("BTCUSDT", [{"orderId": str(i)} for i in range(1, 51)])
    items = answer["data"]["failureList"]
    with_code = [i for i in items if "errorCode" in i]
    assert 0 < len(with_code) < len(items)
    for item in items:
        assert_not_exist(item)


async def test_unsent_id_in_failure_items_is_null_empty_or_absent(
    sim: SimExchange, api: Any
) -> None:
    _, answer = await api.batch("BTCUSDT", [{"orderId": str(i)} for i in range(1, 51)])
    shapes = {repr(item.get("clientOid", "<absent>")) for item in answer["data"]["failureList"]}
    assert shapes == {"None", "''", "'<absent>'"}


async def test_single_mode_ignores_order_symbols(sim: SimExchange, api: Any) -> None:
    order = sim.place_order("BTCUSDT")
    _, answer = await api.batch(
        "BTCUSDT", [{"orderId": order.order_id, "symbol": "ETHUSDT"}], batchMode="single"
    )
    assert len(answer["data"]["successList"]) == 1


async def test_multiple_mode_uses_order_symbols_and_ignores_top_level(
    sim: SimExchange, api: Any
) -> None:
    btc = sim.place_order("BTCUSDT")
    eth = sim.place_order("ETHUSDT")
    _, answer = await api.batch(
        "",
        [
            {"orderId": btc.order_id, "symbol": "BTCUSDT"},
            {"orderId": eth.order_id, "symbol": "ETHUSDT"},
            {"orderId": btc.order_id, "symbol": "ETHUSDT"},
        ],
        batchMode="multiple",
    )
    data = answer["data"]
    assert {i["orderId"] for i in data["successList"]} == {btc.order_id, eth.order_id}
    assert len(data["failureList"]) == 1
    assert_not_exist(data["failureList"][0])
    assert sim.open_orders() == []


@pytest.mark.parametrize(
    ("payload", "status", "code", "violation"),
    [
        ({"symbol": "BTCUSDT", "orderList": []}, 400, "40017", "order_list_size"),
        ({"symbol": "BTCUSDT"}, 400, "40017", "order_list_size"),
        (
            {"symbol": "BTCUSDT", "orderList": [{"orderId": str(i)} for i in range(1, 52)]},
            400,
            "40912",
            "order_list_size",
        ),
        (
            {"symbol": "BTCUSDT", "batchMode": "cross", "orderList": [{"orderId": "1"}]},
            400,
            "40017",
            "batch_mode",
        ),
        ({"orderList": [{"orderId": "1"}]}, 400, "40017", "missing_symbol"),
        (
            {"symbol": "BTCUSDT", "batchMode": "multiple", "orderList": [{"orderId": "1"}]},
            400,
            "40017",
            "missing_symbol",
        ),
        ({"symbol": "BTCUSDT", "orderList": [{"symbol": "BTCUSDT"}]}, 400, "40924", "missing_id"),
        (
            {"symbol": "BTCUSDT", "orderList": [{"orderId": "", "clientOid": None}]},
            400,
            "40924",
            "missing_id",
        ),
        ({"symbol": "BTCUSDT", "orderList": [{"orderId": 12}]}, 400, "40402", "id_format"),
        ({"symbol": "BTCUSDT", "orderList": [{"orderId": "12a"}]}, 400, "40402", "id_format"),
        ({"symbol": "BTCUSDT", "orderList": ["12"]}, 400, "40017", "order_item"),
        ("{not json", 400, "40017", "body_json"),
        ("[]", 400, "40017", "body_json"),
    ],
)
async def test_request_rules_refuse_the_whole_request_and_count_a_violation(
    sim: SimExchange, api: Any, payload: Any, status: int, code: str, violation: str
) -> None:
    order = sim.place_order("BTCUSDT")
    payload = copy.deepcopy(payload)
    if isinstance(payload, dict) and payload.get("orderList"):
        # A valid order in the same request must not be cancelled by a refused request.
        payload["orderList"] = [*payload["orderList"], {"orderId": order.order_id}][-51:]
    got_status, answer = await api.post("/api/v2/spot/trade/batch-cancel-order", payload)
    assert got_status == status
    assert answer["code"] == code
    assert answer["data"] is None
    assert sim.stats.violations == {violation: 1}
    assert sim.is_open(order.order_id)


async def test_client_oid_only_orders_fail_when_mixed_with_order_ids(
    sim: SimExchange, api: Any
) -> None:
    by_id = sim.place_order("BTCUSDT", client_oid="a")
    by_oid = sim.place_order("BTCUSDT", client_oid="b")
    _, answer = await api.batch("BTCUSDT", [{"orderId": by_id.order_id}, {"clientOid": "b"}])
    data = answer["data"]
    assert [i["orderId"] for i in data["successList"]] == [by_id.order_id]
    assert [i["clientOid"] for i in data["failureList"]] == ["b"]
    assert data["failureList"][0]["errorCode"] == "40017"
    assert sim.is_open(by_oid.order_id)
    assert sim.stats.violations == {"mixed_ids": 1}


async def test_order_with_both_ids_goes_by_order_id_and_fails_on_mismatch(
    sim: SimExchange, api: Any
) -> None:
    good = sim.place_order("BTCUSDT", client_oid="x")
    bad = sim.place_order("BTCUSDT", client_oid="y")
    _, answer = await api.batch(
        "BTCUSDT",
        [
            {"orderId": good.order_id, "clientOid": "x"},
            {"orderId": bad.order_id, "clientOid": "not-y"},
        ],
    )
    data = answer["data"]
    assert [i["orderId"] for i in data["successList"]] == [good.order_id]
    assert [i["orderId"] for i in data["failureList"]] == [bad.order_id]
    assert_not_exist(data["failureList"][0])
    assert sim.is_open(bad.order_id)
    assert sim.stats.violations == {"id_mismatch": 1}


async def test_same_order_twice_in_one_request_counts_a_duplicate(
    sim: SimExchange, api: Any
) -> None:
    order = sim.place_order("BTCUSDT", client_oid="dup")
    _, answer = await api.batch("BTCUSDT", [{"orderId": order.order_id}] * 2)
    assert len(answer["data"]["successList"]) == 1
    assert_not_exist(answer["data"]["failureList"][0])
    assert sim.stats.violations == {"duplicate_id": 1}


async def test_both_lists_come_back_shuffled(sim: SimExchange, api: Any) -> None:
    orders = sim.place_orders("BTCUSDT", 50)
    _, answer = await api.batch("BTCUSDT", [{"orderId": o.order_id} for o in orders])
    returned = [i["orderId"] for i in answer["data"]["successList"]]
    sent = [o.order_id for o in orders]
    assert sorted(returned) == sorted(sent)
    assert returned != sent
