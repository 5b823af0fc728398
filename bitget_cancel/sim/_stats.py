"""Counters the simulator keeps about what clients did to it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class EndpointStats:
    """What one endpoint (path) saw.

    ``requests``: every request to the path; ``throttled``: 429s of the client's own making
    (its window was full, or it was still serving a penalty); ``violations``: broken rules, by
    name; ``injected``: faults injected there, by kind.
    """

    requests: int = 0
    throttled: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)


@dataclass
class SimStats:
    """Live counters of a :class:`SimExchange`.

    ``violations`` counts requests (or orders inside a request) rejected because the client
    broke a rule; ``pacing_429`` counts 429s caused by the client's own pacing (its window was
    full) and ``penalty_429`` those answered while the penalty that follows lasted; injected
    429s are in ``injected``, by fault kind, as are release-window refusals
    (``"release_window"``). ``endpoints`` has the same counters per path (see
    :meth:`endpoint`). ``account_mismatch`` counts answers 40084/40085 (the other API family's
    endpoint), ``wrong_kind`` cancels that named an order of another kind (answered "does not
    exist"), ``requests_by_key`` requests per ``ACCESS-KEY`` header (signed endpoints).
    """

    requests: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    pacing_429: int = 0
    penalty_429: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    max_in_window: dict[str, int] = field(default_factory=dict)
    endpoints: dict[str, EndpointStats] = field(default_factory=dict)
    account_mismatch: int = 0
    wrong_kind: int = 0
    requests_by_key: Counter[str] = field(default_factory=Counter)

    @property
    def total_violations(self) -> int:
        """Sum of all rule violations."""
        return sum(self.violations.values())

    @property
    def throttled(self) -> int:
        """Every 429 of the client's own making: ``pacing_429 + penalty_429``."""
        return self.pacing_429 + self.penalty_429

    def endpoint(self, path: str) -> EndpointStats:
        """The counters of one path (zeros if it saw nothing)."""
        found = self.endpoints.get(path)
        if found is None:
            found = self.endpoints[path] = EndpointStats()
        return found

    def count_request(self, path: str, api_key: str | None) -> EndpointStats:
        self.requests[path] = self.requests.get(path, 0) + 1
        if api_key is not None:
            self.requests_by_key[api_key] += 1
        found = self.endpoint(path)
        found.requests += 1
        return found

    def count_violation(self, path: str, rule: str, n: int = 1) -> None:
        self.violations[rule] += n
        self.endpoint(path).violations[rule] += n

    def count_injected(self, path: str, kind: str, n: int = 1) -> None:
        self.injected[kind] += n
        self.endpoint(path).injected[kind] += n

    def reset(self) -> None:
        """Zero every counter in place, so references held by callers stay live."""
        self.requests.clear()
        self.cancelled = 0
        self.violations.clear()
        self.pacing_429 = 0
        self.penalty_429 = 0
        self.injected.clear()
        self.max_in_window.clear()
        self.endpoints.clear()
        self.account_mismatch = 0
        self.wrong_kind = 0
        self.requests_by_key.clear()
