"""Smoke test of benchmarks/workloads/strategy_contention.py at its smallest size: the runs are
clean and say what the workload reports (its Redis rows: tests/redis/test_first_in_line.py and
tests/redis/test_panic_priority.py run the same trials)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a directory of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.workloads import strategy_contention  # noqa: E402


async def test_a_short_deadline_behind_a_long_cancel_sends_nothing_after_it() -> None:
    found = await strategy_contention.deadline_trial(1, behind=600)  # a full window
    assert found.after_deadline == 0
    assert found.unresolved == strategy_contention.SHORT
    assert found.never_sent == strategy_contention.SHORT  # the window stayed full


async def test_thirty_calls_confirming_together_list_as_one_call_would() -> None:
    together = await strategy_contention.confirm_trial(1, together=True)
    alone = await strategy_contention.confirm_trial(1, together=False)
    assert together.all_not_open
    assert alone.all_not_open
    assert together.listings == alone.listings == 3
