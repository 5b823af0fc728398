"""Signed-header checks (order, codes, counted violations), server time and unknown paths."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from bitget_cancel.sim import SimExchange

from .conftest import BATCH, TIME, UNFILLED, Api

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

BODY = json.dumps({"symbol": "BTCUSDT", "orderList": [{"orderId": "1"}]})


def now_ms() -> int:
    return int(time.time() * 1000)


async def refused(api: Api, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    status, text = await api.send("POST", BATCH, body=BODY, **kwargs)
    return status, json.loads(text)


@pytest.mark.parametrize(
    ("override", "code", "msg", "violation"),
    [
        ({"ACCESS-KEY": "other-key"}, "40006", "Invalid ACCESS_KEY", "api_key"),
        ({"ACCESS-PASSPHRASE": "nope"}, "40011", "Invalid ACCESS_PASSPHRASE", "passphrase"),
        ({"ACCESS-TIMESTAMP": "soon"}, "40005", "Invalid ACCESS_TIMESTAMP", "timestamp"),
        ({"ACCESS-SIGN": "AAAA"}, "40009", "sign signature error", "signature"),
        (
            {"Content-Type": "text/plain"},
            "40007",
            "Invalid Content_Type, please use application/json format",
            "content_type",
        ),
    ],
)
async def test_each_bad_header_is_refused_with_its_code(
    sim: SimExchange, api: Api, override: dict[str, str], code: str, msg: str, violation: str
) -> None:
    status, answer = await refused(api, headers=override)
    assert status == 400
    assert answer["code"] == code
    assert answer["msg"] == msg
    assert answer["data"] is None
    assert sim.stats.violations == {violation: 1}


async def test_checks_run_in_order_key_first(sim: SimExchange, api: Api) -> None:
    api.api_key = "other"
    api.secret = "wrong"
    _, answer = await refused(api, ts=str(now_ms() - 60_000))
    assert answer["code"] == "40006"
    assert sim.stats.violations == {"api_key": 1}


async def test_timestamp_more_than_30s_away_is_expired(sim: SimExchange, api: Api) -> None:
    _, early = await refused(api, ts=str(now_ms() - 31_000))
    _, late = await refused(api, ts=str(now_ms() + 31_000))
    _, fine = await refused(api, ts=str(now_ms() - 25_000))
    assert (early["code"], late["code"], fine["code"]) == ("40008", "40008", "00000")
    assert early["msg"] == "Request timestamp expired"
    assert sim.stats.violations == {"timestamp": 2}


async def test_signature_covers_the_body_and_the_secret(sim: SimExchange, api: Api) -> None:
    ts = str(now_ms())
    headers = api.headers("POST", BATCH, BODY, ts)
    tampered = BODY.replace('"1"', '"2"')
    status, text = await api.send("POST", BATCH, body=tampered, headers=headers, ts=ts)
    assert (status, json.loads(text)["code"]) == (400, "40009")
    api.secret = "not-the-secret"
    _, answer = await refused(api)
    assert answer["code"] == "40009"
    assert sim.stats.violations == {"signature": 2}


async def test_get_signature_covers_the_query_string(sim: SimExchange, api: Api) -> None:
    sim.place_orders("BTCUSDT", 3)
    status, answer = await api.get(UNFILLED, {"symbol": "BTCUSDT", "limit": "2"})
    assert (status, len(answer["data"])) == (200, 2)
    # Signed without its query string: refused.
    ts = str(now_ms())
    headers = api.headers("GET", UNFILLED, "", ts)
    status, text = await api.send(
        "GET", UNFILLED, params={"symbol": "BTCUSDT"}, headers=headers, ts=ts
    )
    assert (status, json.loads(text)["code"]) == (400, "40009")
    assert sim.stats.violations == {"signature": 1}


async def test_a_valid_request_counts_no_violation(sim: SimExchange, api: Api) -> None:
    status, answer = await refused(api)
    assert (status, answer["code"]) == (200, "00000")
    assert sim.stats.total_violations == 0
    assert sim.stats.requests == {BATCH: 1}


async def test_time_needs_no_signature_and_follows_the_offset(
    sim_factory: Any, api_for: Callable[[SimExchange], Api]
) -> None:
    skewed = await sim_factory(time_offset_s=120.0)
    api = api_for(skewed)
    async with api.session.get(skewed.base_url + TIME) as resp:
        assert resp.status == 200
        answer = await resp.json()
    assert answer["code"] == "00000"
    server_ms = answer["data"]["serverTime"]
    assert isinstance(server_ms, str)
    assert abs(int(server_ms) - (now_ms() + 120_000)) < 2_000
    # The timestamp check runs on the server's clock, not the client's.
    _, answer = await refused(api)
    assert answer["code"] == "40008"
    _, answer = await refused(api, ts=server_ms)
    assert answer["code"] == "00000"


async def test_unknown_path_and_wrong_method_answer_40404(sim: SimExchange, api: Api) -> None:
    for method, path in (("GET", "/api/v2/spot/trade/nothing"), ("GET", BATCH)):
        status, text = await api.send(method, path)
        assert status == 404
        assert json.loads(text)["code"] == "40404"
