"""Counters the simulator keeps about what clients did to it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class SimStats:
    """Live counters of a :class:`SimExchange`.

    ``violations`` counts requests (or orders inside a request) rejected because the client
    broke a rule; ``pacing_429`` counts 429s caused by the client's own pacing, while injected
    429s are in ``injected``.
    """

    requests: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    pacing_429: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    max_in_window: dict[str, int] = field(default_factory=dict)

    @property
    def total_violations(self) -> int:
        """Sum of all rule violations."""
        return sum(self.violations.values())

    def reset(self) -> None:
        """Zero every counter in place, so references held by callers stay live."""
        self.requests.clear()
        self.cancelled = 0
        self.violations.clear()
        self.pacing_429 = 0
        self.injected.clear()
        self.max_in_window.clear()
