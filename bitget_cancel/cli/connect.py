"""The engine the commands talk through, from the exchange options (and the environment)."""

from __future__ import annotations

from bitget_cancel import CancelEngine, Credentials

from .options import ExchangeOptions


def engine_for(credentials: Credentials, exchange: ExchangeOptions) -> CancelEngine:
    """A CancelEngine with the command line's settings; bad ones raise InvalidArgument (exit 2)
    before anything is sent. ``budget_url=None`` lets the engine read BITGET_BUDGET_URL."""
    return CancelEngine(
        credentials,
        base_url=exchange.base_url,
        account=exchange.account,
        budget_url=exchange.budget_url,
        account_id=exchange.account_id,
        demo_trading=exchange.demo_trading,
        proxy=exchange.proxy,
        trust_env=exchange.trust_env,
    )
