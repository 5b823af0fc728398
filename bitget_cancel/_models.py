"""Public data: what to cancel (CancelTarget) and what happened (CancelOutcome, CancelReport)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from ._errors import InvalidTarget


def _normalise_id(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTarget(f"{name} must be a str, got {type(value).__name__}: {value!r}")
    if value == "":
        return None  # an empty string means "not given", as in CSV columns and JSON exports
    if value.strip() != value or not value.strip():
        raise InvalidTarget(f"{name} must not be blank or padded with whitespace: {value!r}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTarget:
    """One order to cancel: its symbol and its exchange ``order_id`` and/or ``client_oid``.

    A target with both ids is cancelled by ``order_id``. An empty string counts as not given.
    """

    symbol: str
    order_id: str | None = None
    client_oid: str | None = None

    def __post_init__(self) -> None:
        symbol = self.symbol
        if not isinstance(symbol, str):
            raise InvalidTarget(f"symbol must be a str, got {type(symbol).__name__}: {symbol!r}")
        if not symbol.strip() or symbol.strip() != symbol:
            raise InvalidTarget(f"symbol must be a non-empty name without whitespace: {symbol!r}")
        order_id = _normalise_id("order_id", self.order_id)
        client_oid = _normalise_id("client_oid", self.client_oid)
        if order_id is None and client_oid is None:
            raise InvalidTarget(f"target on {symbol} needs an order_id or a client_oid")
        if order_id is not self.order_id:
            object.__setattr__(self, "order_id", order_id)
        if client_oid is not self.client_oid:
            object.__setattr__(self, "client_oid", client_oid)

    @property
    def by_order_id(self) -> bool:
        """True when the exchange is asked by ``orderId`` (else by ``clientOid``)."""
        return self.order_id is not None

    def to_dict(self) -> dict[str, str | None]:
        return {"symbol": self.symbol, "orderId": self.order_id, "clientOid": self.client_oid}


class CancelStatus(str, enum.Enum):
    """Final state of one target."""

    CANCELLED = "cancelled"  # the exchange confirmed this cancel
    NOT_OPEN = "not_open"  # nothing to cancel: already filled, cancelled, or unknown
    FAILED = "failed"  # the exchange refused, with a code that retrying will not change
    UNRESOLVED = "unresolved"  # attempts or deadline ran out before a final answer

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What happened to one distinct target."""

    target: CancelTarget
    status: CancelStatus
    error_code: str | None = None
    error_msg: str | None = None
    attempts: int = 0

    @property
    def closed(self) -> bool:
        return self.status is CancelStatus.CANCELLED or self.status is CancelStatus.NOT_OPEN

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.target.to_dict(),
            "status": self.status.value,
            "errorCode": self.error_code,
            "errorMsg": self.error_msg,
            "attempts": self.attempts,
        }


@dataclass(frozen=True, slots=True)
class CancelReport:
    """One outcome per distinct target, in first-seen order, plus what it cost."""

    outcomes: list[CancelOutcome]
    requests: int = 0
    elapsed: float = 0.0
    throttled: int = 0  # HTTP 429 answers seen
    _by_status: dict[CancelStatus, list[CancelOutcome]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by_status: dict[CancelStatus, list[CancelOutcome]] = {s: [] for s in CancelStatus}
        for outcome in self.outcomes:
            by_status[outcome.status].append(outcome)
        object.__setattr__(self, "_by_status", by_status)

    @property
    def cancelled(self) -> list[CancelOutcome]:
        return self._by_status[CancelStatus.CANCELLED]

    @property
    def not_open(self) -> list[CancelOutcome]:
        return self._by_status[CancelStatus.NOT_OPEN]

    @property
    def failed(self) -> list[CancelOutcome]:
        return self._by_status[CancelStatus.FAILED]

    @property
    def unresolved(self) -> list[CancelOutcome]:
        return self._by_status[CancelStatus.UNRESOLVED]

    @property
    def all_closed(self) -> bool:
        """True when every outcome is cancelled or not_open."""
        return not self.failed and not self.unresolved

    def counts(self) -> dict[str, int]:
        return {status.value: len(items) for status, items in self._by_status.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "allClosed": self.all_closed,
            "counts": self.counts(),
            "requests": self.requests,
            "elapsed": round(self.elapsed, 6),
            "throttled": self.throttled,
            "outcomes": [outcome.to_dict() for outcome in self.outcomes],
        }

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return (
            f"CancelReport({counts}, requests={self.requests}, elapsed={self.elapsed:.3f}s, "
            f"throttled={self.throttled})"
        )
