"""A target whose orderId and clientOid name two different orders, against the simulator over
real HTTP on 127.0.0.1 (issue 19, the fourth breaker's contradictory target). Its orderId
answers "does not exist" on the target's route; asked again by its clientOid, the exchange
cancels the clientOid's order. Before, the target was then `cancelled` and the report all
closed while the order its orderId names (of another kind, or on another symbol) stayed open.
Now that orderId is confirmed like any "does not exist" (and cancelled where it is)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials, OrderKind
from bitget_cancel.sim import SimExchange, SimKind

if TYPE_CHECKING:
    from bitget_cancel.sim.pytest_plugin import SimFactory

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


@pytest.mark.parametrize(
    ("account", "named_by_order_id", "order_id_symbol", "named_by_client_oid", "target_kind"),
    [
        ("classic", "normal", "BTCUSDT", "plan", "plan"),
        ("classic", "tpsl", "ETHUSDT", "plan", "plan"),
        ("uta", "normal", "ETHUSDT", "tpsl", "tpsl"),
        ("uta", "normal", "BTCUSDT", "tpsl", "plan"),
        ("uta", "plan", "ETHUSDT", "normal", "normal"),
    ],
)
async def test_the_order_a_targets_orderid_names_is_not_left_open_behind_cancelled(
    sim_factory: SimFactory,
    account: Literal["classic", "uta"],
    named_by_order_id: SimKind,
    order_id_symbol: str,
    named_by_client_oid: SimKind,
    target_kind: str,
) -> None:
    sim = await sim_factory(account=account, latency_ms=(1.0, 5.0), seed=3)
    by_order_id = sim.place_order(order_id_symbol, "other-1", kind=named_by_order_id)
    by_client_oid = sim.place_order("BTCUSDT", "mine-1", kind=named_by_client_oid)
    target = CancelTarget(
        symbol="BTCUSDT",
        order_id=by_order_id.order_id,
        client_oid="mine-1",
        kind=OrderKind(target_kind),
    )
    async with CancelEngine(creds(sim), base_url=sim.base_url, account=account) as engine:
        report = await engine.cancel([target])
    (outcome,) = report.outcomes
    still_open = {o.order_id for o in sim.open_orders()}
    assert by_client_oid.order_id not in still_open  # the clientOid's order: cancelled
    if by_order_id.order_id in still_open:
        assert outcome.status is CancelStatus.UNRESOLVED, outcome
        assert not report.all_closed
    else:
        assert outcome.status is CancelStatus.CANCELLED, outcome
        assert report.all_closed
