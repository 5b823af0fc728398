"""Listed orders whose clientOid the exchange holds blank or padded with whitespace are
cancelled by their orderId, and the outcome says so; a caller's padded id stays bad input
(issue 19, item 10). Against the simulator over real sockets."""

from __future__ import annotations

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials, InvalidTarget
from bitget_cancel.sim import SimAccount, SimExchange

CREDS = Credentials(api_key="sim-key", secret_key="sim-secret", passphrase="sim-pass")


@pytest.mark.parametrize("account", ["classic", "uta"])
async def test_a_listed_padded_client_oid_is_cancelled_by_order_id(account: SimAccount) -> None:
    async with SimExchange(account=account, seed=4) as sim:
        padded = sim.place_order("BTCUSDT", "pad-1 ")
        plain = sim.place_order("BTCUSDT", "plain-1")
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            listed = await engine.open_orders(kinds=["normal"])
            report = await engine.panic_cancel(deadline=30, kinds=["normal"])
        assert listed.complete, listed.problems
        assert {o.order_id for o in listed.orders} == {padded.order_id, plain.order_id}
        assert sim.open_orders() == []
        assert report.all_closed, report.problems
        by_id = {o.target.order_id: o for o in report.outcomes}
        outcome = by_id[padded.order_id]
        assert outcome.status is CancelStatus.CANCELLED
        assert outcome.target.client_oid is None
        assert outcome.error_msg is not None
        assert "cancelled by orderId" in outcome.error_msg
        assert "'pad-1 '" in outcome.error_msg
        assert by_id[plain.order_id].error_msg is None


def test_a_callers_padded_client_oid_is_still_bad_input() -> None:
    with pytest.raises(InvalidTarget, match="padded"):
        CancelTarget(symbol="BTCUSDT", order_id="1", client_oid="pad-1 ")
