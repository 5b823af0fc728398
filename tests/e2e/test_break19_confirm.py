"""Attacks on issue 19's confirmation through the simulator over real sockets: targets whose
"does not exist" a listing must not confirm while the order they name is still open."""

from __future__ import annotations

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials, OrderKind
from bitget_cancel.sim import SHORT_PAGE_CURSOR, Faults, SimAccount, SimExchange

CREDS = Credentials(api_key="sim-key", secret_key="sim-secret", passphrase="sim-pass")


@pytest.mark.parametrize("account", ["classic", "uta"])
async def test_a_client_oid_open_on_another_symbol_is_never_confirmed_not_open(
    account: SimAccount,
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


@pytest.mark.parametrize("account", ["classic", "uta"])
async def test_a_listing_without_cursors_never_hides_the_order_a_confirmation_looks_for(
    account: SimAccount,
) -> None:
    """``short_page_cursor`` cut the pages of listings that carry no cursor at all (v2
    unfilled-orders, v3 unfilled-strategy-orders): the hidden TP/SL order, named as a normal
    one, was "confirmed: open nowhere on the account" (not_open, all_closed) and stayed armed.
    A fault that means nothing for an endpoint leaves it alone."""
    faults = Faults(rate=1.0, kinds=(SHORT_PAGE_CURSOR,))
    async with SimExchange(latency_ms=(1, 3), seed=192, account=account, faults=faults) as sim:
        stop = sim.place_order("ETHUSDT", "stop-1", kind="tpsl")
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            target = CancelTarget(symbol="ETHUSDT", order_id=stop.order_id)  # kind: normal
            report = await engine.cancel([target])
        (outcome,) = report.outcomes
        assert not sim.is_open(stop.order_id), outcome
        assert outcome.status is CancelStatus.CANCELLED, outcome
        assert outcome.found_as is not None
        assert outcome.found_as.kind is OrderKind.TPSL
