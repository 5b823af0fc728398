"""Bad input is refused with a clear ValueError subclass before any request is sent."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pytest

from bitget_cancel import (
    BitgetCancelError,
    CancelEngine,
    CancelTarget,
    Credentials,
    EngineClosed,
    InvalidArgument,
    InvalidCredentials,
    InvalidDeadline,
    InvalidMode,
    InvalidRate,
    InvalidTarget,
    NoEventLoop,
)
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

CREDS = Credentials(api_key="bad-input-key", secret_key="bad-input-secret", passphrase="pp")
GOOD = CancelTarget(symbol="BTCUSDT", order_id="1")


async def _never(request: HttpRequest) -> HttpResponse:
    raise AssertionError(f"no request may be sent, got {request.path}")


def engine(**kwargs: Any) -> tuple[CancelEngine, MockTransport]:
    transport = MockTransport(_never)
    return CancelEngine(CREDS, transport=transport, **kwargs), transport


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"symbol": "BTCUSDT"}, "needs an order_id or a client_oid"),
        ({"symbol": "BTCUSDT", "order_id": None, "client_oid": None}, "needs an order_id"),
        ({"symbol": "BTCUSDT", "order_id": "", "client_oid": ""}, "needs an order_id"),
        ({"symbol": "", "order_id": "1"}, "symbol"),
        ({"symbol": "   ", "order_id": "1"}, "symbol"),
        ({"symbol": " BTCUSDT", "order_id": "1"}, "symbol"),
        ({"symbol": None, "order_id": "1"}, "symbol must be a str"),
        ({"symbol": 42, "order_id": "1"}, "symbol must be a str"),
        ({"symbol": "BTCUSDT", "order_id": 123}, "order_id must be a str, got int"),
        ({"symbol": "BTCUSDT", "order_id": 1.5}, "order_id must be a str, got float"),
        ({"symbol": "BTCUSDT", "client_oid": b"c1"}, "client_oid must be a str, got bytes"),
        ({"symbol": "BTCUSDT", "order_id": True}, "order_id must be a str, got bool"),
        ({"symbol": "BTCUSDT", "order_id": "   "}, "order_id must not be blank"),
        ({"symbol": "BTCUSDT", "client_oid": "\t\n"}, "client_oid must not be blank"),
        ({"symbol": "BTCUSDT", "order_id": " 12"}, "padded with whitespace"),
        ({"symbol": "BTCUSDT", "order_id": "1", "client_oid": "  "}, "client_oid"),
    ],
)
def test_malformed_targets_are_refused_on_construction(kwargs: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidTarget, match=says) as info:
        CancelTarget(**kwargs)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, BitgetCancelError)


def test_an_empty_id_means_not_given() -> None:
    target = CancelTarget(symbol="BTCUSDT", order_id="", client_oid="c1")
    assert target.order_id is None
    assert target.client_oid == "c1"


@pytest.mark.parametrize("mode", ["fast", "", "SINGLE", None, 1, ["auto"]])
async def test_an_unknown_mode_is_refused(mode: object) -> None:
    eng, transport = engine()
    with pytest.raises(InvalidMode, match="mode must be one of auto, single, multiple"):
        await eng.cancel([GOOD], mode=mode)  # type: ignore[arg-type]
    assert transport.sent == []


@pytest.mark.parametrize("deadline", [0, 0.0, -1, -0.001, math.nan, math.inf, "2", True])
async def test_a_deadline_that_is_not_positive_and_finite_is_refused(deadline: object) -> None:
    eng, transport = engine()
    with pytest.raises(InvalidDeadline, match="deadline must be None or seconds > 0"):
        await eng.cancel([GOOD], deadline=deadline)  # type: ignore[arg-type]
    assert transport.sent == []


@pytest.mark.parametrize("rate", [0, 0.0, -10, math.nan, math.inf, "10", True, None])
def test_a_rate_that_is_not_positive_and_finite_is_refused(rate: object) -> None:
    with pytest.raises(InvalidRate, match="rate_limit"):
        engine(rate_limit=rate)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("request_timeout", 0),
        ("request_timeout", -1.0),
        ("request_timeout", math.nan),
        ("max_attempts", 0),
        ("max_attempts", 2.5),
        ("max_attempts", True),
        ("backoff_base", -0.1),
        ("backoff_cap", math.inf),
    ],
)
def test_other_engine_settings_are_checked(name: str, value: object) -> None:
    with pytest.raises(InvalidArgument, match=name):
        engine(**{name: value})


@pytest.mark.parametrize(
    "targets",
    [
        "BTCUSDT",
        b"1",
        GOOD,  # one target, not a list of them
        None,
        42,
        [GOOD, {"symbol": "BTCUSDT", "orderId": "2"}],
        [GOOD, ("BTCUSDT", "2")],
        [GOOD, None],
    ],
)
async def test_targets_that_are_not_cancel_targets_are_refused(targets: object) -> None:
    eng, transport = engine()
    with pytest.raises(InvalidTarget, match="CancelTarget"):
        await eng.cancel(targets)  # type: ignore[arg-type]
    assert transport.sent == []


async def test_cancel_of_nothing_returns_an_empty_report_without_a_request() -> None:
    eng, transport = engine()
    nothings: list[Iterable[CancelTarget]] = [[], (), iter([]), set()]
    for nothing in nothings:
        report = await eng.cancel(nothing, deadline=1)
        assert report.outcomes == []
        assert report.requests == 0
        assert report.all_closed
        assert report.counts() == {"cancelled": 0, "not_open": 0, "failed": 0, "unresolved": 0}
    assert transport.sent == []


@pytest.mark.parametrize(
    "fields",
    [
        {"api_key": "", "secret_key": "s", "passphrase": "p"},
        {"api_key": "k", "secret_key": "", "passphrase": "p"},
        {"api_key": "k", "secret_key": "s", "passphrase": ""},
        {"api_key": "k", "secret_key": None, "passphrase": "p"},
        {"api_key": "k", "secret_key": b"s", "passphrase": "p"},
    ],
)
def test_empty_or_missing_credentials_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidCredentials, match="must be a non-empty string"):
        Credentials(**fields)


def test_credentials_must_be_credentials() -> None:
    with pytest.raises(InvalidArgument, match="Credentials"):
        CancelEngine({"api_key": "k", "secret_key": "s", "passphrase": "p"})  # type: ignore[arg-type]


async def test_a_closed_engine_refuses_work_before_any_request() -> None:
    eng, transport = engine()
    await eng.close()
    with pytest.raises(EngineClosed):
        await eng.cancel([GOOD])
    assert transport.sent == []


def test_every_refusal_is_a_value_error() -> None:
    for exc in (
        InvalidArgument,
        InvalidTarget,
        InvalidMode,
        InvalidDeadline,
        InvalidRate,
        InvalidCredentials,
    ):
        assert issubclass(exc, ValueError)
        assert issubclass(exc, BitgetCancelError)
    # Not an argument's fault: an ``except ValueError`` around parsing must not swallow them.
    for state_error in (EngineClosed, NoEventLoop):
        assert not issubclass(state_error, ValueError)
        assert issubclass(state_error, BitgetCancelError)
        assert issubclass(state_error, RuntimeError)
