"""The exit code a report earns: the worse news wins, and no all-clear without backing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bitget_cancel import CancelOutcome, CancelReport, CancelStatus, CancelTarget, PanicReport
from bitget_cancel.cli.exits import (
    CREDENTIAL_CODES,
    EXIT_COULD_NOT_LIST,
    EXIT_CREDENTIALS_REFUSED,
    EXIT_NOT_CLOSED,
    EXIT_OK,
    cancel_exit_code,
    panic_exit_code,
)

TARGET = CancelTarget(symbol="BTCUSDT", order_id="1")
OTHER = CancelTarget(symbol="BTCUSDT", order_id="2")


@dataclass(frozen=True, slots=True, repr=False)
class ReportWithProblems(PanicReport):
    """A PanicReport with the ``problems`` list the engine is gaining (read with getattr)."""

    problems: list[str] = field(default_factory=list)


def _failed(code: str) -> CancelOutcome:
    return CancelOutcome(TARGET, CancelStatus.FAILED, code, "refused", 1)


CLOSED = CancelOutcome(OTHER, CancelStatus.CANCELLED, None, None, 1)


def test_the_exit_codes_are_distinct() -> None:
    assert len({EXIT_OK, EXIT_NOT_CLOSED, EXIT_CREDENTIALS_REFUSED, EXIT_COULD_NOT_LIST}) == 4


@pytest.mark.parametrize(
    ("outcomes", "code"),
    [
        ([CLOSED], EXIT_OK),
        ([], EXIT_OK),
        ([CLOSED, _failed("43025")], EXIT_NOT_CLOSED),
        ([CLOSED, CancelOutcome(TARGET, CancelStatus.UNRESOLVED, None, "deadline", 2)],
         EXIT_NOT_CLOSED),
        *[([CLOSED, _failed(code)], EXIT_CREDENTIALS_REFUSED) for code in sorted(CREDENTIAL_CODES)],
    ],
)  # fmt: skip
def test_cancel_exit_code(outcomes: list[CancelOutcome], code: int) -> None:
    assert cancel_exit_code(CancelReport(outcomes)) == code


def test_every_credential_code_of_the_issue_counts() -> None:
    expected = {"40006", "40009", "40011", "40012", "40014", "40018", "40037"}
    assert expected == CREDENTIAL_CODES


@pytest.mark.parametrize(
    ("report", "code"),
    [
        (PanicReport([CLOSED], account_empty=True), EXIT_OK),
        (PanicReport([], account_empty=True), EXIT_OK),
        # Nothing open was confirmed: never an all-clear.
        (PanicReport([CLOSED], account_empty=False), EXIT_NOT_CLOSED),
        (PanicReport([CLOSED, _failed("43025")], account_empty=False), EXIT_NOT_CLOSED),
        (PanicReport([_failed("40009")], account_empty=False), EXIT_CREDENTIALS_REFUSED),
        # The engine's problems: a refusal named by code, a listing that never worked...
        (ReportWithProblems([], problems=["listing refused: 40037 apikey does not exist"]),
         EXIT_CREDENTIALS_REFUSED),
        (ReportWithProblems([], problems=["listing garbled: data is null"]), EXIT_COULD_NOT_LIST),
        # ...and a listing that failed after orders were seen and worked on.
        (ReportWithProblems([CLOSED], problems=["listing garbled: data is null"]),
         EXIT_NOT_CLOSED),
        # A problem makes even an empty-looking account not clear.
        (ReportWithProblems([CLOSED], account_empty=True, problems=["deadline passed"]),
         EXIT_NOT_CLOSED),
        # A number that merely contains a credential code is not one.
        (ReportWithProblems([], account_empty=True, problems=["listing broken at 1400060"]),
         EXIT_NOT_CLOSED),
    ],
)  # fmt: skip
def test_panic_exit_code(report: PanicReport, code: int) -> None:
    assert panic_exit_code(report) == code
