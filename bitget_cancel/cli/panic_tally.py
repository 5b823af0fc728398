"""The panic's figures against its prompt: every order the prompt listed has an outcome.

A bulk cancel (``cancel-symbol-order``, ``batch-cancel-plan-order``) closes orders that the
panic's own listings may never show one by one: they are gone before a page lists them. The
exchange does not say how many a bulk cancel closed. The prompt's listing named them, though:
an order it listed that the panic's report does not name is closed if a complete listing
after the panic's cancels confirmed its kind empty, and unresolved otherwise.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

from bitget_cancel import (
    CancelOutcome,
    CancelStatus,
    CancelTarget,
    KindSummaries,
    OrderKind,
    PanicReport,
)

CLOSED_UNSEEN = (
    "listed at the prompt and gone since: closed by a bulk cancel (or before the panic reached "
    "it), as a complete listing after the panic's cancels confirmed"
)
UNSEEN_UNCONFIRMED = (
    "listed at the prompt, not seen by the panic, and its kind was not confirmed empty: "
    "it may still be open"
)


def _key(target: CancelTarget) -> tuple[str, str, str | None]:
    return (target.kind.value, target.symbol, target.order_id or target.client_oid)


def with_prompt_orders(report: PanicReport, listed: Sequence[CancelTarget]) -> PanicReport:
    """``report`` with an outcome for every order of ``listed`` (the prompt's listing) that it
    does not name; the per-kind tallies follow."""
    named = {_key(outcome.target) for outcome in report.outcomes}
    added: list[CancelOutcome] = []
    for target in listed:
        key = _key(target)
        if key in named:
            continue
        named.add(key)
        summary = report.by_kind.get(target.kind)
        if summary is not None and summary.confirmed_empty:
            added.append(CancelOutcome(target, CancelStatus.CANCELLED, None, CLOSED_UNSEEN, 0))
        else:
            added.append(
                CancelOutcome(target, CancelStatus.UNRESOLVED, None, UNSEEN_UNCONFIRMED, 0)
            )
    if not added:
        return report
    by_kind = KindSummaries(report.by_kind)
    counts: Counter[tuple[OrderKind, CancelStatus]] = Counter(
        (o.target.kind, o.status) for o in added
    )
    for kind, summary in report.by_kind.items():
        cancelled = counts[(kind, CancelStatus.CANCELLED)]
        unresolved = counts[(kind, CancelStatus.UNRESOLVED)]
        by_kind[kind] = dataclasses.replace(
            summary,
            listed=summary.listed + cancelled + unresolved,
            cancelled=summary.cancelled + cancelled,
            unresolved=summary.unresolved + unresolved,
        )
    return dataclasses.replace(report, outcomes=[*report.outcomes, *added], by_kind=by_kind)


def closed_of(report: PanicReport) -> tuple[int, int]:
    """(closed, in all): the panic's last word for its progress line."""
    return len(report.cancelled) + len(report.not_open), len(report.outcomes)
