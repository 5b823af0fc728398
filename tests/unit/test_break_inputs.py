"""Found by trying to break the engine as a careless caller would: arguments that are accepted
although they cannot mean what the caller wrote."""

from __future__ import annotations

from typing import Any

import pytest

from bitget_cancel import CancelEngine, CancelTarget, Credentials, InvalidArgument
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

CREDS = Credentials(api_key="break-key", secret_key="break-secret", passphrase="pp")
GOOD = CancelTarget(symbol="BTCUSDT", order_id="1")


async def _never(request: HttpRequest) -> HttpResponse:
    raise AssertionError(f"no request may be sent, got {request.path}")


@pytest.mark.parametrize("progress", [5, "bar", object()])
async def test_break_a_progress_that_cannot_be_called_is_bad_input(progress: Any) -> None:
    """Bug found: ``cancel(..., progress=5)`` (or ``panic_cancel``) was accepted; the first
    call of it raised TypeError inside the run, which was logged and the progress dropped.

    Should: ``progress`` not None and not callable is refused with ``InvalidArgument``
    ("progress must be None or a callable"), before any request."""
    engine = CancelEngine(CREDS, transport=MockTransport(_never))
    with pytest.raises(InvalidArgument, match="progress"):
        await engine.cancel([GOOD], progress=progress)
    with pytest.raises(InvalidArgument, match="progress"):
        await engine.panic_cancel(progress=progress)
    await engine.close()


@pytest.mark.parametrize("flag", ["no", "false", "0", None, 0.0])
async def test_break_use_symbol_cancel_must_be_a_bool(flag: Any) -> None:
    """Bug found: ``panic_cancel(use_symbol_cancel="no")`` was read as ``bool("no")``, i.e.
    True: the caller who asked for no cancel-symbol-order got it (it also cancels orders the
    caller did not list, placed between the listing and the cancel). ``None`` and ``0.0``
    were quietly read as False.

    Should: anything but a bool is refused with ``InvalidArgument`` naming
    ``use_symbol_cancel``, before any request."""
    engine = CancelEngine(CREDS, transport=MockTransport(_never))
    with pytest.raises(InvalidArgument, match="use_symbol_cancel"):
        await engine.panic_cancel(use_symbol_cancel=flag)
    await engine.close()
