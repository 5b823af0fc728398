"""``cancel --file REPORT.json``: resume from a report this tool wrote.

Exactly the targets that are not closed are taken again: ``unresolved`` and ``not_sent`` ones,
and ``failed`` ones whose cause the user can fix (refused credentials, a demo/live mix-up, the
wrong account type); never ``cancelled`` nor ``not_open``, nor a refusal that asking again
cannot change (a malformed id, a kind the account cannot cancel).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgspec

from bitget_cancel import CancelTarget, InvalidArgument

from .bulk import collector_paused
from .targets_file import TargetFileError

# The exchange's codes for refused credentials (key, signature, passphrase, IP, rights, demo
# vs live: 40099) and a wrong account type (40084/40085): fixed by the user, then worth a retry.
# (The engine's own list is CREDENTIAL_CODES in _classify.py: keep the two alike.)
RETRYABLE_FAILURES = frozenset(
    {"40006", "40009", "40011", "40012", "40014", "40018", "40037", "40099", "40084", "40085"}
)
NOT_SENT_BECAUSE = "(not sent: "  # the engine's words for a target it never sent
TAKEN = ("unresolved", "not_sent")
_REPORT_HEAD = b"{"


class NothingLeft(Exception):
    """The report closed every target it names: nothing to resume (not an error)."""


@dataclass(frozen=True, slots=True)
class Resumed:
    """What a report gave: the targets to take again, and what it said of all of them."""

    targets: list[CancelTarget]
    statuses: Counter[str] = field(default_factory=Counter)  # every outcome, by status
    taken: Counter[str] = field(default_factory=Counter)  # the ones taken, by status

    def summary(self, source: str) -> str:
        total = sum(self.statuses.values())
        taken = ", ".join(f"{n} {status}" for status, n in sorted(self.taken.items()))
        left = ", ".join(
            f"{n - self.taken.get(status, 0)} {status}"
            for status, n in sorted(self.statuses.items())
            if n - self.taken.get(status, 0)
        )
        return (
            f"resuming from the report {source}: {len(self.targets)} of {total} targets taken "
            f"again ({taken or 'none'}); left as they were: {left or 'none'}"
        )


def report_outcomes(data: bytes) -> list[Any] | None:
    """The outcomes of a report this tool wrote (cancel, panic, an interrupted one), or None
    when ``data`` is not such a report (then it is read as a targets file)."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head != _REPORT_HEAD:
        return None
    try:
        with collector_paused():
            decoded = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return None  # JSON lines, or broken: the targets reader says what is wrong
    outcomes = decoded.get("outcomes") if isinstance(decoded, dict) else None
    return outcomes if isinstance(outcomes, list) else None


def _retryable(outcome: dict[str, Any]) -> bool:
    status = outcome.get("status")
    if status in TAKEN:
        return True
    if status != "failed":
        return False
    return outcome.get("errorCode") in RETRYABLE_FAILURES or NOT_SENT_BECAUSE in str(
        outcome.get("errorMsg") or ""
    )


def resume_targets(outcomes: list[Any], source: str) -> Resumed:
    """The targets of ``outcomes`` that are not closed; a malformed outcome is refused whole,
    naming its index, before anything is sent."""
    resumed = Resumed([])
    for index, outcome in enumerate(outcomes):
        if not isinstance(outcome, dict) or not isinstance(outcome.get("status"), str):
            raise TargetFileError(source, None, f"outcomes[{index}]: not an outcome of a report")
        status = outcome["status"]
        resumed.statuses[status] += 1
        if not _retryable(outcome):
            continue
        try:
            target = CancelTarget(
                symbol=outcome.get("symbol"),  # type: ignore[arg-type]  # checked by the target
                order_id=outcome.get("orderId"),
                client_oid=outcome.get("clientOid"),
                kind=outcome.get("kind") or "normal",
            )
        except InvalidArgument as exc:
            raise TargetFileError(source, None, f"outcomes[{index}]: {exc}") from None
        resumed.targets.append(target)
        resumed.taken[status] += 1
    return resumed
