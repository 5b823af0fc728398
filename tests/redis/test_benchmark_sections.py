"""The Redis deployments benchmark's section, built from made-up runs (no Redis needed)."""

from __future__ import annotations

from benchmarks.workloads import redis_deployments
from benchmarks.workloads.redis_processes import combined_bound


def run(label: str, elapsed: float, *, throttled: int = 0) -> redis_deployments.Run:
    return redis_deployments.Run(label, elapsed, 40, throttled, 10, 0, 0, 0, 120, True)


def test_the_check_is_met_only_without_429_and_with_everything_closed() -> None:
    _, bound = combined_bound(500)
    good = [run("Redis local", bound * 1.05), run("Redis Cluster", bound * 1.08)]
    section = redis_deployments.section(500, good)
    assert section.checks[0].met
    assert section.rows[0][-1] == "3.00"  # 120 round trips over 40 requests
    assert not redis_deployments.section(500, [*good, run("x", bound, throttled=1)]).checks[0].met
    unfinished = run("open", bound)
    unfinished.finished = False
    assert not redis_deployments.section(500, [unfinished]).checks[0].met
