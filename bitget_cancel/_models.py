"""Public data: what to cancel (CancelTarget) and what happened (CancelOutcome, CancelReport)."""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._dicts import CancelReportDict, KindSummaryDict, OutcomeDict, PanicReportDict, TargetDict
from ._exceptions import InvalidSymbol, InvalidTarget


class OrderKind(str, enum.Enum):
    """The three kinds of open spot order; each is listed and cancelled by its own endpoints."""

    NORMAL = "normal"  # limit and market orders
    TPSL = "tpsl"  # take-profit / stop-loss orders
    PLAN = "plan"  # trigger (plan) orders

    def __str__(self) -> str:
        return self.value

    # Equal to its value ("normal" == OrderKind.NORMAL), so hashed like it (Enum hashes the
    # name), and in C rather than Python.
    __hash__ = str.__hash__


ORDER_KINDS: tuple[OrderKind, ...] = tuple(OrderKind)

# The value of an OrderKind, accepted wherever an OrderKind is.
OrderKindName = Literal["normal", "tpsl", "plan"]


def check_kind(kind: object) -> OrderKind:
    """An OrderKind from itself or its value ("normal", "tpsl", "plan")."""
    if isinstance(kind, OrderKind):
        return kind
    if isinstance(kind, str):
        try:
            return OrderKind(kind)
        except ValueError:
            pass
    choices = ", ".join(k.value for k in OrderKind)
    raise InvalidTarget(f"kind must be one of {choices}; got {kind!r}")


def infer_kind(fields: Mapping[str, Any]) -> OrderKind:
    """The kind an order's own fields say: the one rule for ccxt order dicts and rows of
    targets files (a ccxt ``info`` mapping inside is read too).

    ``tpslType`` "tpsl" is a TP/SL order ("normal" says normal, whatever else is there);
    otherwise a ``planType``, or a non-zero ``triggerPrice`` / ``stopPrice``, is a plan
    (trigger) order; anything else is a normal order. (A normal order's attached take-profit
    or stop-loss prices, ccxt's ``takeProfitPrice``/``stopLossPrice``, do not make it one.)
    """
    info = fields.get("info")
    sources = (fields, info) if isinstance(info, Mapping) else (fields,)
    for source in sources:
        tpsl_type = source.get("tpslType")
        if tpsl_type == "tpsl":
            return OrderKind.TPSL
        if tpsl_type == "normal":
            return OrderKind.NORMAL
    for source in sources:
        if _given(source.get("planType")):
            return OrderKind.PLAN
        if _price(source.get("triggerPrice")) or _price(source.get("stopPrice")):
            return OrderKind.PLAN
    return OrderKind.NORMAL


def _given(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _price(value: object) -> bool:
    """A price that is set: a non-zero number, or text naming one."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        try:
            return float(value) != 0
        except ValueError:
            return False
    return False


_NORMAL = OrderKind.NORMAL


def _slot_setters(cls: type, *names: str) -> tuple[Callable[[object, object], None], ...]:
    """The setters of the slots ``names`` of a frozen slots dataclass, for its hand-written
    ``__init__``: each sets its one field as ``object.__setattr__`` would, without looking the
    field up by name first (a third of the cost: benchmark 4, one target and one outcome per
    order)."""
    return tuple(cls.__dict__[name].__set__ for name in names)


# Spellings of symbols already checked, and the exchange's name for each (bounded).
_SYMBOLS: dict[str, str] = {}
_SYMBOLS_KEPT = 4096

# Bitget spot symbols are upper-case letters and digits (BTCUSDT, 1INCHUSDT).
_SYMBOL = re.compile(r"[A-Z0-9]{2,40}")


def normalize_symbol(symbol: object) -> str:
    """The exchange's name for a symbol: ``"BTC/USDT"`` and ``"btcusdt"`` become ``"BTCUSDT"``.

    Anything that cannot be a spot symbol name is refused rather than sent: the exchange would
    answer "does not exist" for every order on it, which reads as "not open".
    """
    if not isinstance(symbol, str):
        raise InvalidSymbol(f"symbol must be a str, got {type(symbol).__name__}: {symbol!r}")
    if _SYMBOL.fullmatch(symbol):
        return symbol  # the usual case, checked once
    if not symbol.strip() or symbol.strip() != symbol:
        raise InvalidSymbol(f"symbol must be a non-empty name without whitespace: {symbol!r}")
    name = symbol
    if "/" in name:
        base, _, quote = name.partition("/")  # ccxt's unified symbol, BASE/QUOTE
        if ":" in quote:
            raise InvalidSymbol(
                f"symbol {symbol!r} is a ccxt derivatives symbol; only spot orders are cancelled"
            )
        if not base or not quote or "/" in quote:
            raise InvalidSymbol(f"symbol {symbol!r} is not BASE/QUOTE")
        name = base + quote
    name = name.upper()
    if not _SYMBOL.fullmatch(name):
        raise InvalidSymbol(
            f"symbol {symbol!r} is not a spot symbol name: upper-case letters and digits "
            "(BTCUSDT; BTC/USDT and btcusdt are converted)"
        )
    return name


def _normalise_id(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTarget(f"{name} must be a str, got {type(value).__name__}: {value!r}")
    if value == "":
        return None  # an empty string means "not given", as in CSV columns and JSON exports
    stripped = value.strip()
    if stripped != value or not stripped:
        raise InvalidTarget(f"{name} must not be blank or padded with whitespace: {value!r}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTarget:
    """One order to cancel: its symbol and its exchange ``order_id`` and/or ``client_oid``.

    A target with both ids is cancelled by ``order_id`` (and by ``client_oid`` if the exchange
    does not know that orderId). An empty string counts as not given. ``symbol`` is normalised
    to the exchange's name (``"BTC/USDT"`` -> ``"BTCUSDT"``). ``kind`` says which endpoints
    cancel it: normal orders, TP/SL orders or trigger (plan) orders.
    """

    symbol: str
    order_id: str | None = None
    client_oid: str | None = None
    kind: OrderKind = OrderKind.NORMAL
    # A target is hashed several times (dedupe, report, panic) and never changes: hash once.
    # (benchmark 4, client CPU per order: the enum field makes each hash a Python call)
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Any, tuple[str, str | None, str | None, str]]:
        # Rebuilt by the constructor: a hash cached in another process (another hash seed)
        # must not travel with a pickled target.
        return (_rebuild_target, (self.symbol, self.order_id, self.client_oid, self.kind.value))

    # Written out rather than generated with a __post_init__: each field is set once and the
    # usual id (a plain string) is checked inline (benchmark 4: client CPU per order; the
    # generated __init__ and __post_init__ cost a quarter of it).
    def __init__(
        self,
        *,
        symbol: str,
        order_id: str | None = None,
        client_oid: str | None = None,
        kind: OrderKind | OrderKindName = OrderKind.NORMAL,
    ) -> None:
        # ``kind`` also as its value ("normal", "tpsl", "plan").
        # Most targets share a few symbols: each spelling is checked once (benchmark 4).
        name = _SYMBOLS.get(symbol) if type(symbol) is str else None
        if name is None:
            name = normalize_symbol(symbol)
            if len(_SYMBOLS) < _SYMBOLS_KEPT:
                _SYMBOLS[symbol] = name
        checked = kind if kind is _NORMAL else check_kind(kind)
        # str.strip() hands back the very string when there is nothing to strip; anything
        # else (None, "", padding, not a str) is for _normalise_id.
        if not (type(order_id) is str and order_id and order_id.strip() is order_id):
            order_id = _normalise_id("order_id", order_id)
        if client_oid is not None and not (
            type(client_oid) is str and client_oid and client_oid.strip() is client_oid
        ):
            client_oid = _normalise_id("client_oid", client_oid)
        if order_id is None and client_oid is None:
            raise InvalidTarget(f"target on {name} needs an order_id or a client_oid")
        set_symbol, set_order_id, set_client_oid, set_kind, set_hash = _TARGET_SETTERS
        set_symbol(self, name)
        set_order_id(self, order_id)
        set_client_oid(self, client_oid)
        set_kind(self, checked)
        set_hash(self, hash((name, order_id, client_oid, checked)))

    @property
    def by_order_id(self) -> bool:
        """True when the exchange is asked by ``orderId`` (else by ``clientOid``)."""
        return self.order_id is not None

    @property
    def wire_id(self) -> str:
        """The id a request names this order by: its orderId, else its clientOid."""
        wire_id = self.order_id if self.order_id is not None else self.client_oid
        assert wire_id is not None  # __post_init__ guarantees one id
        return wire_id

    @classmethod
    def from_ccxt(
        cls, order: Mapping[str, Any], *, kind: OrderKind | OrderKindName | None = None
    ) -> CancelTarget:
        """A target from a ccxt order dict (``symbol`` "BTC/USDT", ``id``, ``clientOrderId``).

        Without ``kind`` the order's own fields say it (``infer_kind``): a TP/SL order by
        ``info.tpslType``, a plan (trigger) order by ``triggerPrice``/``stopPrice`` or
        ``info.planType``.
        """
        if not isinstance(order, Mapping):
            raise InvalidTarget(f"a ccxt order must be a dict, got {type(order).__name__}")
        return cls(
            symbol=order.get("symbol"),  # type: ignore[arg-type]  # checked in __post_init__
            order_id=order.get("id"),
            client_oid=order.get("clientOrderId"),
            kind=infer_kind(order) if kind is None else check_kind(kind),
        )

    def to_dict(self) -> TargetDict:
        """``{"symbol", "orderId", "clientOid", "kind"}``, as JSON output shows a target."""
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "clientOid": self.client_oid,
            "kind": self.kind.value,
        }


_TARGET_SETTERS = _slot_setters(CancelTarget, "symbol", "order_id", "client_oid", "kind", "_hash")


def _rebuild_target(
    symbol: str, order_id: str | None, client_oid: str | None, kind: str
) -> CancelTarget:
    return CancelTarget(symbol=symbol, order_id=order_id, client_oid=client_oid, kind=kind)  # type: ignore[arg-type]


class CancelStatus(str, enum.Enum):
    """Final state of one target."""

    CANCELLED = "cancelled"  # the exchange confirmed this cancel
    NOT_OPEN = "not_open"  # nothing to cancel: already filled, cancelled, or unknown
    FAILED = "failed"  # the exchange refused, with a code that retrying will not change
    UNRESOLVED = "unresolved"  # attempts or deadline ran out before a final answer

    def __str__(self) -> str:
        return self.value

    # As OrderKind: hashed like its value, in C (a report files each outcome by its status).
    __hash__ = str.__hash__


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What happened to one distinct target."""

    target: CancelTarget
    status: CancelStatus
    error_code: str | None = None
    error_msg: str | None = None
    attempts: int = 0
    # The order as it was found open when the target named the wrong symbol or kind (it was
    # then cancelled by that route; ``error_msg`` says so). None: the target named it right.
    found_as: CancelTarget | None = None

    # Written out rather than generated: one per order in every report (benchmark 4).
    def __init__(
        self,
        target: CancelTarget,
        status: CancelStatus,
        error_code: str | None = None,
        error_msg: str | None = None,
        attempts: int = 0,
        found_as: CancelTarget | None = None,
    ) -> None:
        set_target, set_status, set_code, set_msg, set_attempts, set_found_as = _OUTCOME_SETTERS
        set_target(self, target)
        set_status(self, status)
        set_code(self, error_code)
        set_msg(self, error_msg)
        set_attempts(self, attempts)
        set_found_as(self, found_as)

    @property
    def closed(self) -> bool:
        """True when nothing of this order is open any more: cancelled or not open."""
        return self.status is CancelStatus.CANCELLED or self.status is CancelStatus.NOT_OPEN

    def to_dict(self) -> OutcomeDict:
        """The target's fields plus ``status``, ``errorCode``, ``errorMsg``, ``attempts``."""
        return {
            **self.target.to_dict(),
            "status": self.status.value,
            "errorCode": self.error_code,
            "errorMsg": self.error_msg,
            "attempts": self.attempts,
            "foundAs": None if self.found_as is None else self.found_as.to_dict(),
        }


_OUTCOME_SETTERS = _slot_setters(
    CancelOutcome, "target", "status", "error_code", "error_msg", "attempts", "found_as"
)


def outcome_problems(outcomes: Iterable[CancelOutcome]) -> tuple[str, ...]:
    """What the outcomes themselves keep from an all-clear, in ``report.problems`` words:
    how many targets failed and how many are unresolved (may still be open)."""
    # Counted in C: one comparison with an enum member per outcome is a slow class lookup
    # on Python 3.11 (EnumType.__getattr__), and reports hold one outcome per order.
    by_status = Counter(outcome.status for outcome in outcomes)
    failed, unresolved = by_status[CancelStatus.FAILED], by_status[CancelStatus.UNRESOLVED]
    problems = []
    if failed:
        problems.append(f"{failed} {_orders(failed)} failed (not cancelled; see their outcomes)")
    if unresolved:
        problems.append(f"{unresolved} {_orders(unresolved)} unresolved (may still be open)")
    return tuple(problems)


def _orders(n: int) -> str:
    return "order" if n == 1 else "orders"


@dataclass(frozen=True, slots=True)
class CancelReport:
    """One outcome per distinct target, in first-seen order, plus what it cost.

    ``problems`` names whatever keeps the report from being an all-clear besides the outcomes
    (refused credentials, a listing that could not be read, the deadline...). A budget store
    that was down is not one (a local share of the rate stood in): ``budget_fallbacks``.

    Fields: ``outcomes`` (one per distinct target, first-seen order), ``requests`` (HTTP
    requests that carried this call's orders), ``elapsed`` (seconds, from when the first
    request could go), ``throttled`` (HTTP 429 answers), ``problems``, ``refused_code`` (the
    code with which the exchange refused the credentials, or None), ``budget_fallbacks``.
    """

    outcomes: list[CancelOutcome]
    requests: int = 0
    elapsed: float = 0.0
    throttled: int = 0  # HTTP 429 answers seen
    problems: tuple[str, ...] = ()
    # The code with which the exchange refused the account's credentials (then nothing more
    # was sent), or None.
    refused_code: str | None = None
    # Times the shared budget store (Redis) was unreachable during the call and a local share
    # of the rate stood in for it.
    budget_fallbacks: int = 0
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
        """The outcomes the exchange confirmed as cancelled."""
        return self._by_status[CancelStatus.CANCELLED]

    @property
    def not_open(self) -> list[CancelOutcome]:
        """The outcomes with nothing to cancel: filled, cancelled before, or unknown."""
        return self._by_status[CancelStatus.NOT_OPEN]

    @property
    def failed(self) -> list[CancelOutcome]:
        """The outcomes the exchange refused with a code that retrying will not change."""
        return self._by_status[CancelStatus.FAILED]

    @property
    def unresolved(self) -> list[CancelOutcome]:
        """The outcomes without a final answer (attempts or deadline ran out): may be open."""
        return self._by_status[CancelStatus.UNRESOLVED]

    @property
    def all_closed(self) -> bool:
        """True when every outcome is cancelled or not_open and nothing else went wrong."""
        return not self.failed and not self.unresolved and not self.problems

    def counts(self) -> dict[str, int]:
        """How many outcomes of each status, by the status' value."""
        return {status.value: len(items) for status, items in self._by_status.items()}

    def to_dict(self) -> CancelReportDict:
        """The report as JSON-ready data (camelCase keys, every outcome)."""
        return {
            "allClosed": self.all_closed,
            "counts": self.counts(),
            "requests": self.requests,
            "elapsed": round(self.elapsed, 6),
            "throttled": self.throttled,
            "problems": list(self.problems),
            "refusedCode": self.refused_code,
            "budgetFallbacks": self.budget_fallbacks,
            "outcomes": [outcome.to_dict() for outcome in self.outcomes],
        }

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return (
            f"{type(self).__name__}({counts}, requests={self.requests}, "
            f"elapsed={self.elapsed:.3f}s, throttled={self.throttled}, "
            f"problems={len(self.problems)})"
        )


@dataclass(frozen=True, slots=True)
class OrderInfo:
    """What a listing said of an open order besides its ids, each as the exchange wrote it
    (text), or None where that listing does not give it."""

    side: str | None = None  # "buy" / "sell"
    order_type: str | None = None  # "limit", "market"...
    price: str | None = None  # the limit (or execute) price
    size: str | None = None
    filled: str | None = None  # the filled size
    created_ms: str | None = None  # when it was placed, milliseconds since the epoch

    def to_dict(self) -> dict[str, str | None]:
        """The fields under the exchange's names, as ``orders --json`` and ``--csv`` show them."""
        return {
            "side": self.side,
            "orderType": self.order_type,
            "price": self.price,
            "size": self.size,
            "filledSize": self.filled,
            "createdTime": self.created_ms,
        }


@dataclass(frozen=True, slots=True)
class OpenOrders:
    """What a listing of open orders showed. Trust it as "all that is open" only if
    ``complete``: otherwise ``problems`` says which listing could not be read to its end.
    ``info`` has side, type, price, size... of the orders whose listing gave them."""

    orders: list[CancelTarget]
    complete: bool
    problems: tuple[str, ...] = ()
    requests: int = 0
    refused_code: str | None = None  # the exchange refused the credentials with this code
    info: dict[CancelTarget, OrderInfo] = field(default_factory=dict)
    # With a clientOid prefix: orders listed open in the symbol scope without a clientOid
    # (blank counts as none). The prefix can neither take nor leave them, so they are not in
    # ``orders``, and ``orders`` may not be all that the prefix's owner has open.
    unattributed: int = 0

    def by_symbol(self) -> dict[str, int]:
        """How many open orders on each symbol."""
        counts: dict[str, int] = {}
        for order in self.orders:
            counts[order.symbol] = counts.get(order.symbol, 0) + 1
        return counts


@dataclass(frozen=True, slots=True)
class KindSummary:
    """What a panic saw and did for one kind of order."""

    listed: int = 0  # distinct orders of this kind seen open in any listing
    cancelled: int = 0
    not_open: int = 0
    failed: int = 0
    unresolved: int = 0
    # The last complete listing of this kind, begun after the last cancel it confirms,
    # showed nothing in scope.
    confirmed_empty: bool = False
    problem: str | None = None  # why it is not confirmed (listing refused, broken...)

    def to_dict(self) -> KindSummaryDict:
        """The summary as JSON-ready data (camelCase keys)."""
        return {
            "listed": self.listed,
            "cancelled": self.cancelled,
            "notOpen": self.not_open,
            "failed": self.failed,
            "unresolved": self.unresolved,
            "confirmedEmpty": self.confirmed_empty,
            "problem": self.problem,
        }


class KindSummaries(dict[OrderKind, KindSummary]):
    """``PanicReport.by_kind``: a KindSummary per requested OrderKind, in the order asked; also
    indexed by the kind's value (``by_kind["plan"]``)."""

    __slots__ = ()

    def __getitem__(self, kind: OrderKind | str) -> KindSummary:
        # An OrderKind hashes and compares as its value: the value finds the same entry.
        return super().__getitem__(kind)  # type: ignore[index]


@dataclass(frozen=True, slots=True, repr=False)
class PanicReport(CancelReport):
    """A CancelReport (one outcome per order touched) plus what the panic saw and spent.

    ``account_empty`` is true only when a complete listing of every requested kind, begun
    after the last cancel it confirms, showed nothing open in scope (the whole account when the
    panic had no symbols). ``requests`` counts every HTTP request: cancels, symbol cancels and
    listings.
    """

    account_empty: bool = False
    passes: int = 0
    cancel_requests: int = 0
    symbol_cancels: int = 0
    list_requests: int = 0
    by_kind: KindSummaries = field(default_factory=KindSummaries)
    # Some listing ran to its last page: False means the panic could not see the account.
    listed: bool = False

    @property
    def all_closed(self) -> bool:
        """Every outcome closed, nothing went wrong, and every kind was confirmed empty."""
        return CancelReport.all_closed.fget(self) and self.account_empty  # type: ignore[attr-defined]

    def to_dict(self) -> PanicReportDict:
        """The report as JSON-ready data: a CancelReport's plus the panic's own fields."""
        return {
            **CancelReport.to_dict(self),
            "allClosed": self.all_closed,
            "accountEmpty": self.account_empty,
            "passes": self.passes,
            "cancelRequests": self.cancel_requests,
            "symbolCancels": self.symbol_cancels,
            "listRequests": self.list_requests,
            "byKind": {kind.value: summary.to_dict() for kind, summary in self.by_kind.items()},
            "listed": self.listed,
        }

    def __repr__(self) -> str:
        return CancelReport.__repr__(self)[:-1] + (
            f", account_empty={self.account_empty}, passes={self.passes})"
        )
