"""Bad input on a unified-account engine is refused the same way: a ValueError subclass naming
the problem, before any request (no probe, no v3 request either)."""

from __future__ import annotations

from typing import Any

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelTarget,
    Credentials,
    InvalidArgument,
    InvalidDeadline,
    InvalidMode,
    InvalidTarget,
)
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

CREDS = Credentials(api_key="v3-bad-key", secret_key="v3-bad-secret", passphrase="pp")
GOOD = CancelTarget(symbol="BTCUSDT", order_id="1")


async def _never(request: HttpRequest) -> HttpResponse:
    raise AssertionError(f"no request may be sent, got {request.path}")


@pytest.mark.parametrize("account", ["v3", "UTA", "", None, 3])
def test_an_unknown_account_type_is_refused_naming_the_choices(account: Any) -> None:
    with pytest.raises(InvalidArgument, match="account must be one of auto, classic, uta"):
        CancelEngine(CREDS, transport=MockTransport(_never), account=account)


@pytest.mark.parametrize("account", ["uta", "auto"])
@pytest.mark.parametrize(
    ("call", "error"),
    [
        ({"targets": [GOOD, "BTCUSDT:1"]}, InvalidTarget),
        ({"targets": GOOD}, InvalidTarget),
        ({"targets": [GOOD], "mode": "fast"}, InvalidMode),
        ({"targets": [GOOD], "deadline": -1}, InvalidDeadline),
    ],
)
async def test_bad_cancel_arguments_send_nothing_on_a_uta_engine(
    account: str, call: dict[str, Any], error: type[Exception]
) -> None:
    transport = MockTransport(_never)
    async with CancelEngine(CREDS, transport=transport, account=account) as engine:  # type: ignore[arg-type]
        with pytest.raises(error):
            await engine.cancel(**call)
        with pytest.raises(InvalidArgument):
            await engine.warm_up(0)
        with pytest.raises(InvalidArgument):
            await engine.panic_cancel(kinds=("normal", "stop"))  # type: ignore[arg-type]
    assert transport.sent == []
