"""Injected faults: each kind's effect on the wire and on the orders."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bitget_cancel.sim import (
    ALL_FAULT_KINDS,
    DROP_AFTER_CANCEL,
    HTML_5XX,
    SLOW_AFTER_CANCEL,
    SPURIOUS_429,
    TRUNCATED_JSON,
    Faults,
    SimExchange,
)

from .conftest import BATCH, SYMBOL_CANCEL, TIME, UNFILLED, Api

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

SimFactory = Any
ApiFor = Callable[[SimExchange], Api]


async def faulty(sim_factory: SimFactory, api_for: ApiFor, kind: str, **kw: Any) -> Api:
    sim = await sim_factory(faults=Faults(rate=1.0, kinds=(kind,), **kw))
    return api_for(sim)


def cancel_body(sim: SimExchange) -> str:
    order = sim.place_order("BTCUSDT")
    return json.dumps({"symbol": "BTCUSDT", "orderList": [{"orderId": order.order_id}]})


async def test_html_5xx_answers_a_proxy_page_and_cancels_nothing(
    sim_factory: SimFactory, api_for: ApiFor
) -> None:
    api = await faulty(sim_factory, api_for, HTML_5XX)
    body = cancel_body(api.sim)
    async with api.session.post(
        api.sim.base_url + BATCH, data=body, headers=api.headers("POST", BATCH, body)
    ) as resp:
        assert resp.status in (502, 503, 504)
        assert resp.content_type == "text/html"
        assert "nginx" in await resp.text()
    assert len(api.sim.open_orders()) == 1
    assert api.sim.stats.injected == {HTML_5XX: 1}


async def test_spurious_429_is_not_counted_as_pacing(
    sim_factory: SimFactory, api_for: ApiFor
) -> None:
    api = await faulty(sim_factory, api_for, SPURIOUS_429)
    status, text = await api.send("POST", BATCH, body=cancel_body(api.sim))
    assert status == 429
    assert json.loads(text)["code"] == "429"
    assert len(api.sim.open_orders()) == 1
    assert api.sim.stats.pacing_429 == 0
    assert api.sim.stats.injected == {SPURIOUS_429: 1}


async def test_drop_after_cancel_disconnects_after_cancelling(
    sim_factory: SimFactory, api_for: ApiFor
) -> None:
    api = await faulty(sim_factory, api_for, DROP_AFTER_CANCEL)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.send("POST", BATCH, body=cancel_body(api.sim))
    assert api.sim.open_orders() == []
    assert api.sim.stats.cancelled == 1


async def test_slow_after_cancel_outlasts_the_client_timeout(
    sim_factory: SimFactory, api_for: ApiFor
) -> None:
    api = await faulty(sim_factory, api_for, SLOW_AFTER_CANCEL, slow_s=0.4)
    with pytest.raises(asyncio.TimeoutError):
        await api.send("POST", BATCH, body=cancel_body(api.sim), timeout=0.15)
    assert api.sim.open_orders() == []


async def test_truncated_json_cancels_and_answers_half_a_body(
    sim_factory: SimFactory, api_for: ApiFor
) -> None:
    api = await faulty(sim_factory, api_for, TRUNCATED_JSON)
    status, text = await api.send("POST", BATCH, body=cancel_body(api.sim))
    assert status == 200
    assert text.startswith('{"code":"00000"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    assert api.sim.open_orders() == []


async def test_faults_hit_every_trade_endpoint_but_never_public_time(
    sim_factory: SimFactory, api_for: ApiFor
) -> None:
    api = await faulty(sim_factory, api_for, TRUNCATED_JSON)
    for method, path, body in (
        ("GET", UNFILLED, ""),
        ("POST", SYMBOL_CANCEL, '{"symbol": "BTCUSDT"}'),
    ):
        _, text = await api.send(method, path, body=body)
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
    async with api.session.get(api.sim.base_url + TIME) as resp:
        assert (await resp.json())["code"] == "00000"
    assert api.sim.stats.injected == {TRUNCATED_JSON: 2}


async def test_order_transient_fails_orders_and_leaves_them_open(
    sim_factory: SimFactory, api_for: ApiFor
) -> None:
    sim = await sim_factory(faults=Faults(order_transient=1.0))
    api = api_for(sim)
    orders = sim.place_orders("BTCUSDT", 5)
    _, answer = await api.batch("BTCUSDT", [{"orderId": o.order_id} for o in orders])
    failures = answer["data"]["failureList"]
    assert answer["data"]["successList"] == []
    assert {f["errorCode"] for f in failures} <= {"40725", "43059", "45001"}
    assert all(f["errorMsg"] for f in failures)
    assert len(sim.open_orders()) == 5
    assert sim.stats.injected == {"order_transient": 5}


async def test_same_seed_same_faults(sim_factory: SimFactory, api_for: ApiFor) -> None:
    outcomes = []
    for _ in range(2):
        sim = await sim_factory(seed=7, faults=Faults(rate=0.5, kinds=(HTML_5XX, SPURIOUS_429)))
        api = api_for(sim)
        statuses = [(await api.send("GET", UNFILLED))[0] for _ in range(12)]
        outcomes.append(statuses)
    assert outcomes[0] == outcomes[1]
    assert len(set(outcomes[0])) > 1


def test_faults_validate_and_parse() -> None:
    assert Faults().active is False
    parsed = Faults.parse("0.2")
    assert (parsed.rate, parsed.order_transient, parsed.kinds) == (0.2, 0.1, ALL_FAULT_KINDS)
    assert Faults(kinds=[HTML_5XX]).kinds == (HTML_5XX,)  # type: ignore[arg-type]
    for bad in ({"rate": 1.5}, {"order_transient": -0.1}, {"kinds": ("nope",)}, {"slow_s": -1}):
        with pytest.raises(ValueError, match=r"must|unknown"):
            Faults(**bad)
    with pytest.raises(ValueError, match="empty"):
        Faults(rate=0.1, kinds=())
