"""Cumulative counters of one engine, for a long-running bot: ``engine.metrics()``.

The session counts every request on its one path (sent, answered by verdict or not answered,
latency, time waited for a budget slot); the run counts retries. A snapshot is frozen data, and
renders itself in Prometheus' text format (``to_prometheus()``) with no dependency; the README
shows how to hand it to ``prometheus_client`` as a collector.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from ._exceptions import InvalidArgument

# Upper bounds (seconds) of the latency histogram's buckets; the last bucket is +Inf.
LATENCY_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Prometheus' metric and label names; the labels a sample sets itself.
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_OWN_LABELS = frozenset({"endpoint", "verdict", "le"})

# The verdicts of a request that got no answer (the others are the classifier's).
NO_ANSWER_TIMEOUT = "timeout"
NO_ANSWER_NETWORK = "network"


@dataclass(frozen=True, slots=True)
class LatencyHistogram:
    """Request round trips of one endpoint: ``buckets`` pairs each upper bound (seconds) with
    how many took at most that long (cumulative, as Prometheus counts them); ``count`` is
    every one, ``sum`` their total seconds."""

    buckets: tuple[tuple[float, int], ...]
    count: int
    sum: float


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """What an engine has done since it was made, at one moment.

    ``requests``: sent, by endpoint name. ``answers``: by (endpoint, verdict), the verdict one
    of ``ok``, ``not_open``, ``retry``, ``throttled``, ``resync_clock``, ``split``,
    ``wrong_account``, ``credentials``, ``fail``, or ``timeout`` / ``network`` when no answer
    came. ``throttled``: HTTP 429 answers. ``retries``: orders asked again after a failed
    attempt. ``latency``: round trips by endpoint. ``budget_wait_seconds`` /
    ``budget_waits``: time spent waiting for a budget slot, and how many slots were waited
    for. ``budget_fallbacks``: times the shared budget store was unreachable and a local share
    of the rate stood in.
    """

    requests: Mapping[str, int]
    answers: Mapping[tuple[str, str], int]
    throttled: int
    retries: int
    latency: Mapping[str, LatencyHistogram]
    budget_wait_seconds: float
    budget_waits: int
    budget_fallbacks: int

    def to_prometheus(
        self, prefix: str = "bitget_cancel", labels: Mapping[str, str] | None = None
    ) -> str:
        """The snapshot in Prometheus' text exposition format; ``labels`` go on every sample
        (e.g. ``{"account": "main"}`` to tell two engines apart)."""
        extra = _check_labels(prefix, labels)
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str) -> str:
            full = f"{prefix}_{name}"
            lines.append(f"# HELP {full} {help_text}")
            lines.append(f"# TYPE {full} {kind}")
            return full

        def sample(name: str, value: float, **label: str) -> None:
            lines.append(f"{name}{_labels({**extra, **label})} {_number(value)}")

        name = family("requests_total", "counter", "Requests sent, by endpoint.")
        for endpoint, count in sorted(self.requests.items()):
            sample(name, count, endpoint=endpoint)
        name = family("answers_total", "counter", "Requests by endpoint and verdict.")
        for (endpoint, verdict), count in sorted(self.answers.items()):
            sample(name, count, endpoint=endpoint, verdict=verdict)
        sample(family("throttled_total", "counter", "HTTP 429 answers."), self.throttled)
        sample(family("retries_total", "counter", "Orders asked again."), self.retries)
        name = family("request_seconds", "histogram", "Request round trips, by endpoint.")
        for endpoint, histogram in sorted(self.latency.items()):
            for bound, count in histogram.buckets:
                sample(f"{name}_bucket", count, endpoint=endpoint, le=f"{bound:g}")
            sample(f"{name}_bucket", histogram.count, endpoint=endpoint, le="+Inf")
            sample(f"{name}_sum", histogram.sum, endpoint=endpoint)
            sample(f"{name}_count", histogram.count, endpoint=endpoint)
        name = family("budget_wait_seconds_total", "counter", "Seconds spent waiting for slots.")
        sample(name, self.budget_wait_seconds)
        name = family("budget_waits_total", "counter", "Budget slots waited for.")
        sample(name, self.budget_waits)
        name = family("budget_fallbacks_total", "counter", "Budget store outages.")
        sample(name, self.budget_fallbacks)
        return "\n".join(lines) + "\n"


def _check_labels(prefix: object, labels: Mapping[str, str] | None) -> dict[str, str]:
    """``labels`` as a dict, or InvalidArgument: text Prometheus would refuse to scrape."""
    if not isinstance(prefix, str) or not _NAME.fullmatch(prefix):
        raise InvalidArgument(f"prefix must be a Prometheus metric name; got {prefix!r}")
    extra = dict(labels or {})
    for key, value in extra.items():
        if not isinstance(key, str) or not _LABEL.fullmatch(key) or key.startswith("__"):
            raise InvalidArgument(f"labels: {key!r} is not a Prometheus label name")
        if key in _OWN_LABELS:
            raise InvalidArgument(f"labels: {key!r} is set by the samples themselves")
        if not isinstance(value, str):
            raise InvalidArgument(f"labels: the value of {key!r} must be a str; got {value!r}")
    return extra


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _number(value: float) -> str:
    """Every digit: ``:g`` keeps six, and a counter of a long-running bot passes a million."""
    return str(value) if isinstance(value, int) else repr(float(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """The live counters (one per engine); ``snapshot()`` copies them."""

    __slots__ = (
        "_buckets",
        "_latency_count",
        "_latency_sum",
        "answers",
        "budget_wait_seconds",
        "budget_waits",
        "requests",
        "retries",
        "throttled",
    )

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.answers: Counter[tuple[str, str]] = Counter()
        self.throttled = 0
        self.retries = 0
        self.budget_wait_seconds = 0.0
        self.budget_waits = 0
        self._buckets: dict[str, list[int]] = {}
        self._latency_sum: dict[str, float] = {}
        self._latency_count: Counter[str] = Counter()

    def sent(self, endpoint: str) -> None:
        self.requests[endpoint] += 1

    def answered(self, endpoint: str, verdict: str, seconds: float) -> None:
        """An answer with ``verdict`` (or ``timeout`` / ``network``) after ``seconds``."""
        self.answers[(endpoint, verdict)] += 1
        if verdict == "throttled":
            self.throttled += 1
        buckets = self._buckets.setdefault(endpoint, [0] * len(LATENCY_BUCKETS))
        index = bisect.bisect_left(LATENCY_BUCKETS, seconds)
        if index < len(buckets):
            buckets[index] += 1
        self._latency_sum[endpoint] = self._latency_sum.get(endpoint, 0.0) + seconds
        self._latency_count[endpoint] += 1

    def waited(self, seconds: float) -> None:
        self.budget_waits += 1
        self.budget_wait_seconds += seconds

    def snapshot(self, budget_fallbacks: int) -> MetricsSnapshot:
        latency = {}
        for endpoint, buckets in self._buckets.items():
            cumulative, running = [], 0
            for bound, count in zip(LATENCY_BUCKETS, buckets, strict=True):
                running += count
                cumulative.append((bound, running))
            latency[endpoint] = LatencyHistogram(
                tuple(cumulative), self._latency_count[endpoint], self._latency_sum[endpoint]
            )
        return MetricsSnapshot(
            requests=dict(self.requests),
            answers=dict(self.answers),
            throttled=self.throttled,
            retries=self.retries,
            latency=latency,
            budget_wait_seconds=self.budget_wait_seconds,
            budget_waits=self.budget_waits,
            budget_fallbacks=budget_fallbacks,
        )
