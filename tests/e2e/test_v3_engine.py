"""CancelEngine on a unified trading account: the simulator's v3 endpoints over real HTTP on
127.0.0.1, the account type fixed, probed by ``warm_up()`` or learnt from the first 40085."""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelOutcome,
    CancelStatus,
    CancelTarget,
    Credentials,
    OrderKind,
)
from bitget_cancel.sim import Faults, SimExchange

if TYPE_CHECKING:
    from bitget_cancel.sim.pytest_plugin import SimFactory

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

V2_BATCH = "/api/v2/spot/trade/batch-cancel-order"
V3_BATCH = "/api/v3/trade/cancel-batch"
V3_UNFILLED = "/api/v3/trade/unfilled-orders"
V3_STRATEGY_CANCEL = "/api/v3/trade/cancel-strategy-order"
SYMBOLS = [f"U{i}USDT" for i in range(6)]
UNKNOWN = [
    CancelTarget(symbol="U0USDT", order_id="1000000000000000001"),
    CancelTarget(symbol="U3USDT", client_oid="never-placed"),
]


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


def place_targets(sim: SimExchange, per_symbol: int, seed: int) -> list[CancelTarget]:
    """Open orders on every symbol; a third named by clientOid only, a third by both ids."""
    targets = []
    for symbol in SYMBOLS:
        for n, order in enumerate(sim.place_orders(symbol, per_symbol, symbol.lower())):
            order_id = None if n % 3 == 0 else order.order_id
            client_oid = None if n % 3 == 1 else order.client_oid
            targets.append(CancelTarget(symbol=symbol, order_id=order_id, client_oid=client_oid))
    random.Random(seed).shuffle(targets)
    return targets


def fewest_requests(targets: list[CancelTarget], size: int = 20) -> int:
    """ceil(by orderId / size) + ceil(by clientOid only / size)."""
    by_order_id = sum(1 for t in targets if t.order_id is not None)
    return math.ceil(by_order_id / size) + math.ceil((len(targets) - by_order_id) / size)


def requests_to(sim: SimExchange, prefix: str) -> int:
    return sum(n for path, n in sim.stats.requests.items() if path.startswith(prefix))


def assert_one_outcome_each(outcomes: list[CancelOutcome], targets: list[CancelTarget]) -> None:
    assert [o.target for o in outcomes] == list(dict.fromkeys(targets))


async def test_a_uta_is_cancelled_on_v3_in_batches_of_20_within_5_a_second(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(account="uta", latency_ms=(1.0, 8.0), seed=1)
    targets = place_targets(sim, 50, seed=1)  # 300 orders: 198 by orderId, 102 by clientOid
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
        report = await engine.cancel([*targets, *UNKNOWN])
    assert sim.open_orders() == []
    assert_one_outcome_each(report.outcomes, [*targets, *UNKNOWN])
    statuses = Counter((o.status, o.error_code) for o in report.outcomes)
    assert statuses == {(CancelStatus.CANCELLED, None): 300, (CancelStatus.NOT_OPEN, "25204"): 2}
    assert sim.stats.endpoint(V3_BATCH).requests == 16
    assert fewest_requests([*targets, *UNKNOWN]) == 16  # 199/20 + 103/20
    # and the unknown ones' "does not exist" confirmed: one listing of each kind a UTA lists,
    # one of each futures category (what the checks must not cancel, D7), and each asked of
    # cancel-strategy-order by its id (no listing shows plan orders)
    listings = requests_to(sim, "/api/v3/trade/unfilled")
    assert listings == 2 + 3
    checks = sim.stats.endpoint(V3_STRATEGY_CANCEL).requests
    assert checks == len(UNKNOWN)
    assert report.requests == 16 + listings + checks
    assert requests_to(sim, "/api/v2/spot/") == 0
    assert sim.stats.max_in_window[V3_BATCH] == 5
    assert sim.stats.total_violations == 0, sim.stats.violations
    assert sim.stats.throttled == 0


async def test_auto_learns_the_uta_from_40085_and_loses_no_outcome(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(account="uta", latency_ms=(1.0, 8.0), seed=2)
    targets = place_targets(sim, 40, seed=2)  # 240 orders
    async with CancelEngine(creds(sim), base_url=sim.base_url) as engine:
        report = await engine.cancel(targets)
        assert engine.account_type == "uta"
    assert sim.open_orders() == []
    assert_one_outcome_each(report.outcomes, targets)
    assert {(o.status, o.attempts) for o in report.outcomes} == {(CancelStatus.CANCELLED, 1)}
    refused = sim.stats.endpoint(V2_BATCH).requests
    assert 1 <= refused <= 10
    assert sim.stats.account_mismatch == refused
    v3 = sim.stats.endpoint(V3_BATCH).requests
    # Re-planned for batches of 20. The refused v2 requests were in flight together; each
    # refusal that lands after the switch brings its 50 orders (one id kind) back separately,
    # which can cost one partly filled v3 request more.
    assert fewest_requests(targets) <= v3 <= fewest_requests(targets) + refused - 1
    assert report.requests == refused + v3
    assert sim.stats.total_violations == 0
    assert sim.stats.throttled == 0


async def test_the_switch_under_faults_closes_everything_once(sim_factory: SimFactory) -> None:
    faults = Faults(rate=0.25, order_transient=0.15, slow_s=1.0)
    sim = await sim_factory(account="uta", latency_ms=(1.0, 10.0), faults=faults, seed=3)
    targets = place_targets(sim, 30, seed=3)
    noisy = [*targets, *UNKNOWN, *targets[:15]]
    async with CancelEngine(
        creds(sim), base_url=sim.base_url, request_timeout=1.5, max_attempts=10
    ) as engine:
        report = await engine.cancel(noisy)
        assert engine.account_type == "uta"
    assert sim.open_orders() == []
    assert_one_outcome_each(report.outcomes, noisy)
    by_status = Counter(o.status for o in report.outcomes)
    assert set(by_status) <= {CancelStatus.CANCELLED, CancelStatus.NOT_OPEN}
    assert by_status[CancelStatus.NOT_OPEN] >= len(UNKNOWN)
    assert sim.stats.account_mismatch >= 1
    assert sum(sim.stats.injected.values()) > 0
    assert sim.stats.total_violations == 0
    assert sim.stats.pacing_429 == 0


async def test_account_classic_on_a_uta_fails_and_says_to_use_uta_or_auto(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(account="uta")
    targets = place_targets(sim, 5, seed=4)
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="classic") as engine:
        report = await engine.cancel(targets)
    assert len(sim.open_orders()) == 30
    assert requests_to(sim, "/api/v3/") == 0
    assert sim.stats.account_mismatch == report.requests
    for outcome in report.outcomes:
        assert (outcome.status, outcome.error_code) == (CancelStatus.FAILED, "40085")
        assert 'use account="uta" or account="auto"' in (outcome.error_msg or "")


async def test_account_uta_on_a_classic_account_fails_and_says_to_use_classic_or_auto(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(account="classic")
    targets = place_targets(sim, 5, seed=5)
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
        report = await engine.cancel(targets)
    assert len(sim.open_orders()) == 30
    assert requests_to(sim, "/api/v2/spot/") == 0
    for outcome in report.outcomes:
        assert (outcome.status, outcome.error_code) == (CancelStatus.FAILED, "40084")
        assert 'account="classic"' in (outcome.error_msg or "")


@pytest.mark.parametrize("account", ["uta", "classic"])
async def test_warm_up_tells_the_account_type_before_the_first_cancel(
    sim_factory: SimFactory, account: str
) -> None:
    sim = await sim_factory(account=account, latency_ms=(1.0, 5.0))
    targets = place_targets(sim, 10, seed=6)
    async with CancelEngine(creds(sim), base_url=sim.base_url) as engine:
        await engine.warm_up(2)
        assert engine.account_type == account
        assert sim.stats.endpoint(V3_UNFILLED).requests == 1
        report = await engine.cancel(targets)
    assert report.all_closed
    assert sim.open_orders() == []
    assert {o.attempts for o in report.outcomes} == {1}
    # The probe reads each API once; the other type's answers 40084 / 40085.
    if account == "uta":
        assert requests_to(sim, "/api/v2/spot/") == 1  # the probe, answered 40085
    else:
        assert requests_to(sim, "/api/v3/") == 1  # the probe, answered 40084
    assert sim.stats.account_mismatch == 1
    assert sim.stats.total_violations == 0


async def test_auto_cancels_tpsl_and_plan_orders_of_a_uta_one_a_request(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(account="uta", latency_ms=(1.0, 5.0))
    normal = sim.place_orders("BTCUSDT", 25)
    stops = sim.place_orders("BTCUSDT", 6, "tp", kind="tpsl")
    plans = sim.place_orders("ETHUSDT", 3, kind="plan")
    targets = [CancelTarget(symbol=o.symbol, order_id=o.order_id) for o in normal]
    targets += [
        CancelTarget(symbol=o.symbol, client_oid=o.client_oid, kind=OrderKind.TPSL) for o in stops
    ]
    targets += [
        CancelTarget(symbol=o.symbol, order_id=o.order_id, kind=OrderKind.PLAN) for o in plans
    ]
    async with CancelEngine(creds(sim), base_url=sim.base_url) as engine:
        await engine.warm_up(1)  # learns "uta": TP/SL orders may then go by clientOid
        report = await engine.cancel(targets)
    assert sim.open_orders() == []
    assert {(o.status, o.attempts) for o in report.outcomes} == {(CancelStatus.CANCELLED, 1)}
    kinds = Counter(o.target.kind for o in report.outcomes)
    assert kinds == {OrderKind.NORMAL: 25, OrderKind.TPSL: 6, OrderKind.PLAN: 3}
    assert sim.stats.endpoint(V3_STRATEGY_CANCEL).requests == 9
    assert sim.stats.endpoint(V3_BATCH).requests == 2
    assert sim.stats.total_violations == 0
    assert sim.stats.wrong_kind == 0


async def test_plan_orders_of_a_uta_targeted_as_normal_are_found_by_id_and_cancelled(
    sim_factory: SimFactory,
) -> None:
    """Issue 19's false all-clear on a UTA: plan orders named as normal ones (one under the
    wrong symbol, one by clientOid alone) heard 25204 from cancel-batch, no v3 listing shows
    plan orders, and they were reported "confirmed: open nowhere" while they stayed armed."""
    sim = await sim_factory(account="uta", latency_ms=(1.0, 5.0), seed=4)
    normal = sim.place_orders("BTCUSDT", 5)
    plans = sim.place_orders("BTCUSDT", 2, "stop", kind="plan")
    (elsewhere,) = sim.place_orders("ETHUSDT", 1, kind="plan")
    targets = [CancelTarget(symbol="BTCUSDT", order_id=o.order_id) for o in normal]
    targets += [
        CancelTarget(symbol="BTCUSDT", order_id=plans[0].order_id),
        CancelTarget(symbol="BTCUSDT", client_oid=plans[1].client_oid),
        CancelTarget(symbol="BTCUSDT", order_id=elsewhere.order_id),  # filed under BTCUSDT
        *UNKNOWN,
    ]
    async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
        report = await engine.cancel(targets)
    assert sim.open_orders() == []
    assert_one_outcome_each(report.outcomes, targets)
    statuses = [o.status for o in report.outcomes]
    assert statuses == [CancelStatus.CANCELLED] * 8 + [CancelStatus.NOT_OPEN] * 2
    found = [o.found_as.kind if o.found_as else None for o in report.outcomes]
    assert found == [None] * 5 + [OrderKind.PLAN] * 3 + [None] * 2
    assert report.all_closed
    # one check by id for each order the listings left in doubt, none for the others
    assert sim.stats.endpoint(V3_STRATEGY_CANCEL).requests == 3 + len(UNKNOWN)
    assert report.requests == sum(sim.stats.requests.values())
    # the three plan orders the targets sent to cancel-batch; no check asked for a normal one
    assert sim.stats.wrong_kind == 3
    assert sim.stats.total_violations == 0
