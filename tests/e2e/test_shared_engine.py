"""One engine shared by a strategy's tasks, against the simulator over real sockets."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

import aiohttp
import pytest

from bitget_cancel import (
    DEFAULT_BASE_URL,
    AiohttpTransport,
    CancelEngine,
    CancelStatus,
    CancelTarget,
    Credentials,
    InvalidArgument,
)
from bitget_cancel.sim import Faults, SimExchange

if TYPE_CHECKING:
    from bitget_cancel.sim.pytest_plugin import SimFactory

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

BATCH_PATH = "/api/v2/spot/trade/batch-cancel-order"


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


def open_targets(sim: SimExchange, symbol: str, n: int) -> list[CancelTarget]:
    return [
        CancelTarget(symbol=symbol, order_id=order.order_id)
        for order in sim.place_orders(symbol, n, symbol.lower())
    ]


async def test_a_call_past_its_deadline_sends_nothing_while_a_long_cancel_holds_the_budget(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(latency_ms=(5.0, 10.0), seed=3)
    big = [t for i in range(20) for t in open_targets(sim, f"B{i}USDT", 50)]  # 1,000 orders
    small = open_targets(sim, "SMALLUSDT", 5)
    async with CancelEngine(creds(sim), base_url=sim.base_url) as engine:
        answered = asyncio.Event()  # the first burst (10 requests) went out together
        long_call = asyncio.create_task(engine.cancel(big, progress=lambda d, t: answered.set()))
        await answered.wait()
        report = await engine.cancel(small, deadline=0.3)
        long_report = await long_call
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    assert report.requests == 0
    assert long_report.all_closed
    # The exchange never heard of the small call: its orders are all still open, and every
    # batch request it received was the long call's.
    assert all(sim.is_open(t.order_id or "") for t in small)
    assert sim.stats.endpoint(BATCH_PATH).requests == long_report.requests == 20


async def test_the_engine_sends_through_the_callers_own_aiohttp_session_and_leaves_it_open(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(seed=4)
    targets = open_targets(sim, "OWNUSDT", 3)
    seen: list[str] = []

    async def on_start(_: object, __: object, params: aiohttp.TraceRequestStartParams) -> None:
        seen.append(params.url.path)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as own:
        async with CancelEngine(creds(sim), base_url=sim.base_url, session=own) as engine:
            report = await engine.cancel(targets)
        assert not own.closed  # still the caller's
        assert own._retry_connection is False  # no silent re-send, whoever owns the session
    assert report.all_closed
    assert seen == [BATCH_PATH]
    assert not any(sim.is_open(t.order_id or "") for t in targets)


async def test_connector_options_reach_the_connector(sim_factory: SimFactory) -> None:
    sim = await sim_factory(seed=5)
    targets = [t for i in range(3) for t in open_targets(sim, f"L{i}USDT", 50)]
    options = {"limit": 1, "local_addr": ("127.0.0.1", 0), "ttl_dns_cache": 10}
    async with CancelEngine(creds(sim), base_url=sim.base_url, connector_options=options) as engine:
        report = await engine.cancel(targets)
        transport = engine._session_here().transport
        assert isinstance(transport, AiohttpTransport)
        connector = transport._client().connector
        assert connector is not None
        assert connector.limit == 1
    assert report.all_closed
    assert sim.stats.endpoint(BATCH_PATH).requests == 3


def test_connector_options_and_session_are_checked_before_any_request() -> None:
    key = Credentials(api_key="k", secret_key="s", passphrase="p")
    with pytest.raises(InvalidArgument, match="keepalive"):
        CancelEngine(key, connector_options={"keepalive": 5})
    with pytest.raises(InvalidArgument, match="session"):
        CancelEngine(key, session="not a session")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="transport"):
        CancelEngine(key, transport=AiohttpTransport(DEFAULT_BASE_URL), connector_options={})


async def test_many_calls_sharing_requests_under_faults_each_get_a_truthful_report(
    sim_factory: SimFactory,
) -> None:
    """Forty tasks cancelling at once through one engine while the exchange drops, garbles and
    throttles: every call's report names each of its targets once, a "cancelled" or "not
    open" order is closed on the exchange, and the shared requests break no rule."""
    sim = await sim_factory(
        latency_ms=(2.0, 25.0),
        seed=9,
        faults=Faults(rate=0.2, order_transient=0.05, slow_s=0.5),
    )
    rng = random.Random(9)
    calls: list[list[CancelTarget]] = []
    for i in range(40):
        orders = sim.place_orders(f"G{i % 8}USDT", rng.randint(1, 7), f"g{i}")
        calls.append(
            [
                CancelTarget(symbol=o.symbol, order_id=o.order_id)
                if n % 3
                else CancelTarget(symbol=o.symbol, client_oid=o.client_oid)
                for n, o in enumerate(orders)
            ]
        )
    calls[5] = calls[5] + [CancelTarget(symbol="G0USDT", order_id="1000000000000000001")]
    async with CancelEngine(
        creds(sim), base_url=sim.base_url, request_timeout=1.0, max_attempts=8
    ) as engine:
        reports = await asyncio.gather(
            *(
                engine.cancel(targets, mode="multiple" if i % 2 else "auto")
                for i, targets in enumerate(calls)
            )
        )
    # Alone, each call needs a request of its own at least: together they needed fewer.
    assert sim.stats.endpoint(BATCH_PATH).requests < len(calls)
    assert sim.stats.total_violations == 0, sim.stats.violations
    still_open = sim.open_orders()
    open_ids = {o.order_id for o in still_open}
    open_client_oids = {o.client_oid for o in still_open}
    for targets, report in zip(calls, reports, strict=True):
        assert [o.target for o in report.outcomes] == targets
        assert all(o.status is not CancelStatus.FAILED for o in report.outcomes), report
        for outcome in report.outcomes:
            if outcome.closed:  # never while the exchange still holds the order
                assert outcome.target.order_id not in open_ids, outcome
                assert outcome.target.client_oid not in open_client_oids, outcome


async def test_a_panic_and_cancels_running_together_share_requests_and_all_close(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(latency_ms=(2.0, 20.0), seed=12)
    calls = [open_targets(sim, f"K{i}USDT", 5) for i in range(10)]
    for i in range(4):
        sim.place_orders(f"P{i}USDT", 12)  # only the panic's listing finds these
    async with CancelEngine(creds(sim), base_url=sim.base_url) as engine:
        panic = asyncio.create_task(engine.panic_cancel(kinds=["normal"]))
        reports = await asyncio.gather(*(engine.cancel(targets) for targets in calls))
        panic_report = await panic
    assert panic_report.account_empty
    assert panic_report.all_closed
    for targets, report in zip(calls, reports, strict=True):
        assert [o.target for o in report.outcomes] == targets
        assert report.all_closed  # cancelled by this call, or found closed by the panic
    assert sim.open_orders() == []
    assert sim.stats.total_violations == 0, sim.stats.violations
