"""Smoke test of benchmarks/workloads/deadman.py at its smallest size: every case empties the
account and the workload is registered; no timing is asserted (that is RESULTS.md's)."""

from __future__ import annotations

import sys

from .helpers import ROOT

if str(ROOT) not in sys.path:  # benchmarks/ is a directory of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.run import WORKLOADS
from benchmarks.workloads import deadman


def test_the_workload_is_registered() -> None:
    assert WORKLOADS["deadman"] is deadman.run


async def test_every_case_ends_with_the_account_confirmed_empty() -> None:
    section = await deadman.run(quick=True)
    assert [row[0] for row in section.rows] == [
        "panic alone (an engine in this process)",
        "process watchdog, strategy SIGKILLed",
        "process watchdog, strategy's loop blocked",
        "Redis watchdog, strategy SIGKILLed",
    ]
    assert len(section.checks) == 3
