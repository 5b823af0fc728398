"""Fault injection settings: what can go wrong between a client and the exchange."""

from __future__ import annotations

from dataclasses import dataclass

HTML_5XX = "html_5xx"
SPURIOUS_429 = "spurious_429"
DROP_AFTER_CANCEL = "drop_after_cancel"
SLOW_AFTER_CANCEL = "slow_after_cancel"
TRUNCATED_JSON = "truncated_json"
ORDER_TRANSIENT = "order_transient"

# Harsher kinds, each acting only where it means something (others pass untouched).
LATE_ARRIVAL = "late_arrival"  # the request reaches the exchange late_s after it was sent
SYMBOL_CANCEL_NOOP = "symbol_cancel_noop"  # cancel-symbol-order accepted, nothing cancelled
DUPLICATE_ROWS = "duplicate_rows"  # a listing page repeats rows (also the previous page's last)
STUCK_CURSOR = "stuck_cursor"  # a listing ignores the cursor given and hands the same one back

# Hostile answer shapes (issue 19): a lying or broken exchange. Each acts only where it means
# something; none closes an order it does not name truthfully.
OTHER_ID_SUCCESS = "other_id_success"  # success naming another orderId; nothing cancelled
UNKNOWN_ITEM_FIELDS = "unknown_item_fields"  # items (or rows) of fields no page documents
V2_NAMES_ON_V3 = "v2_names_on_v3"  # v3 cancel-batch failure items as errorCode/errorMsg
MISSING_ITEMS = "missing_items"  # every other order of a cancel neither acted on nor answered
DUPLICATE_ITEMS = "duplicate_items"  # every item of a cancel answer twice
NULL_DATA = "null_data"  # a success code with data null; nothing acted on
SHORT_PAGE_CURSOR = "short_page_cursor"  # a page cut short (or empty) that carries a cursor on
HTML_CHALLENGE = (
    "html_challenge"  # an HTML page with HTTP 200 (a CDN or captive portal); nothing acted on
)
# The strategy listing ignores category=SPOT: the account's futures TP/SL orders listed too.
STRATEGY_IGNORES_CATEGORY = "strategy_ignores_category"

# The kinds every trade endpoint can show; the default of Faults.kinds.
ALL_FAULT_KINDS: tuple[str, ...] = (
    HTML_5XX,
    SPURIOUS_429,
    DROP_AFTER_CANCEL,
    SLOW_AFTER_CANCEL,
    TRUNCATED_JSON,
)
HARSH_FAULT_KINDS: tuple[str, ...] = (
    LATE_ARRIVAL,
    SYMBOL_CANCEL_NOOP,
    DUPLICATE_ROWS,
    STUCK_CURSOR,
)
HOSTILE_FAULT_KINDS: tuple[str, ...] = (
    OTHER_ID_SUCCESS,
    UNKNOWN_ITEM_FIELDS,
    V2_NAMES_ON_V3,
    MISSING_ITEMS,
    DUPLICATE_ITEMS,
    NULL_DATA,
    SHORT_PAGE_CURSOR,
    HTML_CHALLENGE,
    TRUNCATED_JSON,
    STRATEGY_IGNORES_CATEGORY,
)
KNOWN_FAULT_KINDS = frozenset(ALL_FAULT_KINDS + HARSH_FAULT_KINDS + HOSTILE_FAULT_KINDS)

# Kinds that answer instead of the exchange: the request is not acted on.
BEFORE_KINDS = frozenset({HTML_5XX, SPURIOUS_429, HTML_CHALLENGE})
# Kinds the endpoint's own rules carry out (listings, symbol cancels).
HANDLER_KINDS = frozenset(
    {SYMBOL_CANCEL_NOOP, DUPLICATE_ROWS, STUCK_CURSOR, SHORT_PAGE_CURSOR, STRATEGY_IGNORES_CATEGORY}
)

# (errorCode, errorMsg) pairs the exchange uses for a per-order failure worth retrying.
TRANSIENT_ORDER_ERRORS: tuple[tuple[str, str], ...] = (
    ("40725", "service return an error"),
    ("43059", "Request failed, please try again"),
    ("45001", "Unknown error"),
)


@dataclass(frozen=True, slots=True)
class Faults:
    """Probabilities of injected faults; the default injects nothing.

    ``rate``: probability that one request to a trade endpoint gets a fault, its kind drawn
    uniformly from ``kinds`` (a kind that means nothing for that endpoint, such as
    ``stuck_cursor`` for a cancel, leaves the request alone). ``order_transient``: probability
    that each order of a cancel fails with a transient error (and stays open). ``slow_s``: how
    long a ``slow_after_cancel`` answer is held back; ``late_s``: how long a ``late_arrival``
    request takes to reach the exchange.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = ALL_FAULT_KINDS
    order_transient: float = 0.0
    slow_s: float = 6.0
    late_s: float = 6.0

    def __post_init__(self) -> None:
        kinds = tuple(self.kinds)
        object.__setattr__(self, "kinds", kinds)
        for name in ("rate", "order_transient"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Faults.{name} must be within [0, 1], got {value!r}")
        unknown = [kind for kind in kinds if kind not in KNOWN_FAULT_KINDS]
        if unknown:
            known = ALL_FAULT_KINDS + HARSH_FAULT_KINDS + HOSTILE_FAULT_KINDS
            raise ValueError(f"unknown fault kinds {unknown!r}; known: {known!r}")
        if self.rate > 0.0 and not kinds:
            raise ValueError("Faults.kinds must not be empty when rate > 0")
        for name in ("slow_s", "late_s"):
            if getattr(self, name) < 0.0:
                raise ValueError(f"Faults.{name} must be >= 0, got {getattr(self, name)!r}")

    @classmethod
    def parse(cls, p: float | str) -> Faults:
        """Faults for a CLI ``--faults P``: every kind at rate P, per-order transients at P/2."""
        rate = float(p)
        return cls(rate=rate, order_transient=rate / 2)

    @property
    def active(self) -> bool:
        """True when any fault can be injected."""
        return self.rate > 0.0 or self.order_transient > 0.0
