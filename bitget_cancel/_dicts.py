"""The shapes of the ``to_dict()`` data (JSON-ready, camelCase keys), typed for a bot that
reads them: ``report.to_dict()["outcomes"][0]["status"]`` is a ``str`` to a type checker too."""

from __future__ import annotations

from typing import TypedDict


class TargetDict(TypedDict):
    """``CancelTarget.to_dict()``: a target as JSON output shows it."""

    symbol: str
    orderId: str | None
    clientOid: str | None
    kind: str


class OutcomeDict(TargetDict):
    """``CancelOutcome.to_dict()``: the target's fields plus what happened to it."""

    status: str
    errorCode: str | None
    errorMsg: str | None
    attempts: int
    foundAs: TargetDict | None


class CancelReportDict(TypedDict):
    """``CancelReport.to_dict()``."""

    allClosed: bool
    counts: dict[str, int]
    requests: int
    elapsed: float
    throttled: int
    problems: list[str]
    refusedCode: str | None
    budgetFallbacks: int
    outcomes: list[OutcomeDict]


class KindSummaryDict(TypedDict):
    """``KindSummary.to_dict()``."""

    listed: int
    cancelled: int
    notOpen: int
    failed: int
    unresolved: int
    confirmedEmpty: bool
    problem: str | None


class PanicReportDict(CancelReportDict):
    """``PanicReport.to_dict()``: a CancelReport's plus the panic's own fields."""

    accountEmpty: bool
    passes: int
    cancelRequests: int
    symbolCancels: int
    listRequests: int
    byKind: dict[str, KindSummaryDict]
    listed: bool
