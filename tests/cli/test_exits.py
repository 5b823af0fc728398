"""The exit code a report earns: the worse news wins, and no all-clear without backing."""

from __future__ import annotations

import pytest

from bitget_cancel import CancelOutcome, CancelReport, CancelStatus, CancelTarget, PanicReport
from bitget_cancel.cli.exits import (
    EXIT_COULD_NOT_LIST,
    EXIT_CREDENTIALS_REFUSED,
    EXIT_NOT_CLOSED,
    EXIT_OK,
    cancel_exit_code,
    panic_exit_code,
)

TARGET = CancelTarget(symbol="BTCUSDT", order_id="1")
OTHER = CancelTarget(symbol="BTCUSDT", order_id="2")


def _failed(code: str) -> CancelOutcome:
    return CancelOutcome(TARGET, CancelStatus.FAILED, code, "refused", 1)


CLOSED = CancelOutcome(OTHER, CancelStatus.CANCELLED, None, None, 1)


def test_the_exit_codes_are_distinct() -> None:
    assert len({EXIT_OK, EXIT_NOT_CLOSED, EXIT_CREDENTIALS_REFUSED, EXIT_COULD_NOT_LIST}) == 4


@pytest.mark.parametrize(
    ("report", "code"),
    [
        (CancelReport([CLOSED]), EXIT_OK),
        (CancelReport([]), EXIT_OK),
        (CancelReport([CLOSED, _failed("43025")]), EXIT_NOT_CLOSED),
        (CancelReport([CLOSED, CancelOutcome(TARGET, CancelStatus.UNRESOLVED, None, "late", 2)]),
         EXIT_NOT_CLOSED),
        (CancelReport([CLOSED, _failed("40009")], refused_code="40009"), EXIT_CREDENTIALS_REFUSED),
        # A failed order whose code happens to be a credential code, without the engine saying
        # the account was refused, is just a failed order.
        (CancelReport([CLOSED, _failed("40009")]), EXIT_NOT_CLOSED),
        (CancelReport([CLOSED], problems=("budget store down",)), EXIT_NOT_CLOSED),
    ],
)  # fmt: skip
def test_cancel_exit_code(report: CancelReport, code: int) -> None:
    assert cancel_exit_code(report) == code


@pytest.mark.parametrize(
    ("report", "code"),
    [
        (PanicReport([CLOSED], account_empty=True, listed=True), EXIT_OK),
        (PanicReport([], account_empty=True, listed=True), EXIT_OK),
        # Nothing open was confirmed: never an all-clear.
        (PanicReport([CLOSED], account_empty=False, listed=True), EXIT_NOT_CLOSED),
        (PanicReport([CLOSED, _failed("43025")], listed=True), EXIT_NOT_CLOSED),
        (PanicReport([_failed("40009")], refused_code="40009", listed=False),
         EXIT_CREDENTIALS_REFUSED),
        # No listing ever ran to its end: the account was never seen.
        (PanicReport([], problems=("could not list open orders",), listed=False),
         EXIT_COULD_NOT_LIST),
        (PanicReport([CLOSED], problems=("tpsl orders: listing refused",), listed=True),
         EXIT_NOT_CLOSED),
        # A problem makes even an empty-looking account not clear.
        (PanicReport([CLOSED], account_empty=True, problems=("deadline passed",), listed=True),
         EXIT_NOT_CLOSED),
    ],
)  # fmt: skip
def test_panic_exit_code(report: PanicReport, code: int) -> None:
    assert panic_exit_code(report) == code
