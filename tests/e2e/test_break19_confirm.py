"""Attacks on issue 19's confirmation through the simulator over real sockets: targets whose
"does not exist" a listing must not confirm while the order they name is still open."""

from __future__ import annotations

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials, OrderKind
from bitget_cancel.sim import SimExchange

CREDS = Credentials(api_key="sim-key", secret_key="sim-secret", passphrase="sim-pass")


@pytest.mark.parametrize("account", ["classic", "uta"])
async def test_a_client_oid_open_on_another_symbol_is_never_confirmed_not_open(
    account: str,
) -> None:
    """A target naming a clientOid under the wrong symbol heard "does not exist"; the listing
    showed that clientOid open on another symbol, yet the outcome said "confirmed: open nowhere
    on the account" (not_open, all_closed) with the order still open."""
    async with SimExchange(latency_ms=(1, 3), seed=191, account=account) as sim:
        order = sim.place_order("ETHUSDT", "abc-1")
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            target = CancelTarget(symbol="BTCUSDT", client_oid="abc-1", kind=OrderKind.NORMAL)
            report = await engine.cancel([target])
        assert sim.is_open(order.order_id)
        (outcome,) = report.outcomes
        assert outcome.status is CancelStatus.UNRESOLVED, outcome
        assert "open on ETHUSDT" in (outcome.error_msg or ""), outcome
        assert not report.all_closed
