"""The full-window hold of the in-process budget when slots counted as ours never left."""

from __future__ import annotations

import pytest

from bitget_cancel._limit import RateBudget


def test_a_slot_given_back_unsent_after_a_full_answer_holds_the_window_others_used() -> None:
    """Two slots taken, one sent: its answer says 0 left. The other slot, still out, counted
    as ours, so the window looked all ours and was not held; it is then given back unsent.
    Another client used that part of the window: nothing may go until the window rolls (it
    went at once, into a full window: a 429)."""
    budget = RateBudget(2, 1.0, margin=0.002, early_reuse=False)
    assert budget.take(0.0)
    assert budget.take(0.0)
    budget.release(0.300, remaining=0, sent=0.0)
    assert budget.blocked_until == 0.0  # 1 answered + 1 out: the window may be all ours
    budget.give_back()
    assert budget.poll(0.300) == pytest.approx(1.002)
    assert not budget.take(1.301)
    assert budget.take(1.302)


def test_a_slot_given_back_while_the_window_stays_ours_holds_nothing() -> None:
    """Both requests of the window answered, the first saying 0 left: the window was all ours.
    A slot taken later and given back unsent changes nothing of that: no hold."""
    budget = RateBudget(2, 1.0, margin=0.002, early_reuse=False)
    assert budget.take(0.0)
    assert budget.take(0.0)
    budget.release(0.300, remaining=0, sent=0.0)
    budget.release(0.310, sent=0.0)
    assert budget.take(1.302)
    budget.give_back()
    assert budget.blocked_until == 0.0
    assert budget.take(1.302)
