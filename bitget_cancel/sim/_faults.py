"""Fault injection settings: what can go wrong between a client and the exchange."""

from __future__ import annotations

from dataclasses import dataclass

HTML_5XX = "html_5xx"
SPURIOUS_429 = "spurious_429"
DROP_AFTER_CANCEL = "drop_after_cancel"
SLOW_AFTER_CANCEL = "slow_after_cancel"
TRUNCATED_JSON = "truncated_json"
ORDER_TRANSIENT = "order_transient"

ALL_FAULT_KINDS: tuple[str, ...] = (
    HTML_5XX,
    SPURIOUS_429,
    DROP_AFTER_CANCEL,
    SLOW_AFTER_CANCEL,
    TRUNCATED_JSON,
)

# Kinds that answer instead of the exchange: the request is not acted on.
BEFORE_KINDS = frozenset({HTML_5XX, SPURIOUS_429})

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
    uniformly from ``kinds``. ``order_transient``: probability that each order of a
    batch-cancel answer fails with a transient error (and stays open). ``slow_s``: how long a
    ``slow_after_cancel`` answer is held back.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = ALL_FAULT_KINDS
    order_transient: float = 0.0
    slow_s: float = 6.0

    def __post_init__(self) -> None:
        kinds = tuple(self.kinds)
        object.__setattr__(self, "kinds", kinds)
        for name in ("rate", "order_transient"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Faults.{name} must be within [0, 1], got {value!r}")
        unknown = [kind for kind in kinds if kind not in ALL_FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown!r}; known: {ALL_FAULT_KINDS!r}")
        if self.rate > 0.0 and not kinds:
            raise ValueError("Faults.kinds must not be empty when rate > 0")
        if self.slow_s < 0.0:
            raise ValueError(f"Faults.slow_s must be >= 0, got {self.slow_s!r}")

    @classmethod
    def parse(cls, p: float | str) -> Faults:
        """Faults for a CLI ``--faults P``: every kind at rate P, per-order transients at P/2."""
        rate = float(p)
        return cls(rate=rate, order_transient=rate / 2)

    @property
    def active(self) -> bool:
        """True when any fault can be injected."""
        return self.rate > 0.0 or self.order_transient > 0.0
