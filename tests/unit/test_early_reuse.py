"""The early reuse of a slot: a request counts from its arrival as its answer's requestTime
places it (``_arrival.ArrivalEstimate``, ``RateBudget(early_reuse=...)``)."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelTarget,
    Credentials,
    HttpRequest,
    HttpResponse,
    MockTransport,
)
from bitget_cancel._arrival import ArrivalEstimate
from bitget_cancel._limit import InProcessBudgets, RateBudget
from bitget_cancel._transport import REMAINING_HEADER
from bitget_cancel._wire import BATCH_CANCEL

OFFSET = 1_765_000_000.0  # the exchange's clock (Unix time) minus the loop's: it cancels out


def stamp(arrival: float) -> str:
    """requestTime as the exchange sends it: whole ms of its clock, as a string."""
    return str(int((arrival + OFFSET) * 1000))


def learn(estimate: ArrivalEstimate, n: int, start: float = 100.0, up: float = 0.1) -> float:
    """n answered requests, each sent at ``start + i``, up in ``up`` s, back in 0.1 s."""
    for i in range(n):
        sent = start + i * 0.05
        estimate.arrived(sent, sent + up + 0.1, stamp(sent + up))
    return start + n * 0.05


def test_no_early_reuse_before_enough_samples() -> None:
    estimate = ArrivalEstimate(margin=0.01, min_samples=5)
    for i in range(4):
        sent = 100.0 + i
        assert estimate.arrived(sent, sent + 0.3, stamp(sent + 0.15)) == sent + 0.3


def test_a_request_counts_from_its_arrival_on_the_fastest_up_leg_plus_the_margin() -> None:
    estimate = ArrivalEstimate(margin=0.01, min_samples=5)
    now = learn(estimate, 5, up=0.1)  # the fastest up-leg: 100 ms
    # Sent at now, arrived 180 ms later (stamped), answered 360 ms later.
    arrived = estimate.arrived(now, now + 0.36, stamp(now + 0.18))
    assert arrived == pytest.approx(now + 0.18 - 0.1 + 0.01, abs=0.0011)
    assert now < arrived < now + 0.36


def test_a_slower_request_never_counts_before_it_was_sent() -> None:
    estimate = ArrivalEstimate(margin=0.0, min_samples=1)
    learn(estimate, 3, up=0.1)
    # The fastest request so far: its own sample is the least, so it counts from its send.
    sent = 200.0
    assert estimate.arrived(sent, sent + 0.1, stamp(sent + 0.05)) == pytest.approx(sent, abs=1e-3)


def test_random_stamps_stay_between_send_and_answer() -> None:
    rng = random.Random(7)
    estimate = ArrivalEstimate(margin=0.0, min_samples=1, horizon=2.0)
    now = 100.0
    for _ in range(2_000):
        now += rng.uniform(0.0, 0.1)
        up, down = rng.uniform(0.0, 0.3), rng.uniform(0.0, 0.3)
        request_time: object = stamp(now + up)
        if rng.random() < 0.1:
            request_time = stamp(now + rng.uniform(-50.0, 50.0))  # a garbled or stepped clock
        arrived = estimate.arrived(now, now + up + down, request_time)
        assert now <= arrived <= now + up + down


@pytest.mark.parametrize(
    "request_time",
    [None, "", "abc", "12", "-1", "1.5e12", True, 1.5, [1], {"t": 1}, 10**20, "１２３"],
)
def test_a_missing_or_garbled_request_time_counts_from_the_answer(request_time: object) -> None:
    estimate = ArrivalEstimate(margin=0.01, min_samples=5)
    now = learn(estimate, 10)
    assert estimate.arrived(now, now + 0.3, request_time) == now + 0.3
    # and it taught nothing: the next good one is read as before
    assert estimate.arrived(now, now + 0.3, stamp(now + 0.2)) == pytest.approx(
        now + 0.2 - 0.1 + 0.01, abs=0.0011
    )


@pytest.mark.parametrize("step", [-0.5, 0.5, -3600.0])
def test_a_stamp_that_disagrees_with_the_recent_ones_counts_from_the_answer(step: float) -> None:
    """A stamp before its send or after its answer on the recent offset: a stepped clock or a
    garbled stamp. It is neither used nor learnt."""
    estimate = ArrivalEstimate(margin=0.01, min_samples=5)
    now = learn(estimate, 10)
    assert estimate.arrived(now, now + 0.3, stamp(now + 0.15 + step)) == now + 0.3
    assert estimate.arrived(now, now + 0.3, stamp(now + 0.2)) == pytest.approx(
        now + 0.11, abs=0.0011
    )


def test_samples_older_than_the_horizon_are_forgotten() -> None:
    estimate = ArrivalEstimate(margin=0.01, min_samples=5, horizon=10.0)
    learn(estimate, 10, start=100.0)
    later = 200.0  # every sample is 100 s old: too few left to rely on
    assert estimate.arrived(later, later + 0.3, stamp(later + 0.15)) == later + 0.3


def test_the_budget_reuses_a_slot_from_the_arrival_not_the_answer() -> None:
    budget = RateBudget(1, 1.0, margin=0.0)
    budget._arrivals = ArrivalEstimate(margin=0.01, min_samples=1)
    assert budget.take(100.0)
    # sent at 100.0, arrived at 100.1 (the only sample: the fastest), answered at 100.2
    budget.release(100.2, sent=100.0, request_time=stamp(100.1))
    assert budget.poll(100.5) == pytest.approx(101.01 - 100.5, abs=0.0011)
    assert not budget.take(101.0)
    assert budget.take(101.012)  # answer-counting: 101.2


def test_without_a_send_time_or_with_early_reuse_off_a_slot_counts_from_its_answer() -> None:
    for budget, sent in (
        (RateBudget(1, 1.0, margin=0.0), None),
        (RateBudget(1, 1.0, margin=0.0, early_reuse=False), 100.0),
    ):
        if budget._arrivals is not None:
            budget._arrivals = ArrivalEstimate(margin=0.01, min_samples=1)
        assert budget.take(100.0)
        budget.release(100.2, sent=sent, request_time=stamp(100.1))
        assert not budget.take(101.1)
        assert budget.take(101.2)


def test_a_429_ends_the_early_reuse_for_good() -> None:
    budget = RateBudget(1, 1.0, margin=0.0, cooldown=0.1)
    budget._arrivals = ArrivalEstimate(margin=0.01, min_samples=1)
    assert budget.early_reuse
    assert budget.take(100.0)
    budget.release(100.2, throttled=True, sent=100.0, request_time=stamp(100.1))
    assert not budget.early_reuse
    assert budget.poll(101.19) > 0.0  # the 429 itself counts from its answer
    assert budget.take(101.2)
    budget.release(101.4, sent=101.2, request_time=stamp(101.3))  # the probe succeeds
    assert not budget.early_reuse  # still off
    assert not budget.take(102.39)
    assert budget.take(102.4)


def test_answers_counted_out_of_order_keep_the_window_exact() -> None:
    """An early reuse may count a later answer from before an earlier one."""
    budget = RateBudget(2, 1.0, margin=0.0)
    estimate = budget._arrivals = ArrivalEstimate(margin=0.0, min_samples=1)
    estimate.arrived(99.0, 99.1, stamp(99.05))  # the fastest up-leg: 50 ms
    assert budget.take(100.0)
    assert budget.take(100.0)
    budget.release(100.3, sent=100.0, request_time=stamp(100.2))  # counts from 100.15
    budget.release(100.4, sent=100.0, request_time=stamp(100.1))  # counts from 100.05
    assert budget.poll(100.5) == pytest.approx(0.55, abs=0.0011)
    assert budget.take(101.051)
    assert not budget.take(101.1)
    assert budget.take(101.151)


async def _far_exchange(
    early_reuse: bool | None, n_targets: int = 3_000
) -> tuple[list[float], list[int], int]:
    """An exchange 200-400 ms away (half each way) that counts arrivals in a sliding second,
    stamps requestTime on them and says what is left of the window: (send times, window
    counts seen, 429s)."""
    loop = asyncio.get_running_loop()
    rng = random.Random(11)
    arrivals: list[float] = []
    sent: list[float] = []
    counts: list[int] = []
    throttled = 0

    async def handler(request: HttpRequest) -> HttpResponse:
        nonlocal throttled
        sent.append(loop.time())
        leg = rng.uniform(0.2, 0.4) / 2
        await asyncio.sleep(leg)
        now = loop.time()
        arrivals.append(now)
        used = sum(1 for t in arrivals if t > now - 1.0)
        counts.append(used)
        if used > 10:
            throttled += 1
            refused = {"code": "429", "msg": "Too Many Requests", "requestTime": stamp(now)}
            await asyncio.sleep(leg)
            return HttpResponse(429, json.dumps(refused).encode())
        items = [{"orderId": o["orderId"]} for o in json.loads(request.body)["orderList"]]
        data = {"successList": items, "failureList": []}
        body: dict[str, object] = {"code": "00000", "requestTime": stamp(now), "data": data}
        await asyncio.sleep(leg)
        return HttpResponse(200, json.dumps(body).encode(), {REMAINING_HEADER: str(10 - used)})

    creds = Credentials(api_key=f"far-early-{early_reuse}", secret_key="s", passphrase="p")
    chosen: dict[str, Any] = {} if early_reuse is None else {"early_reuse": early_reuse}
    engine = CancelEngine(creds, transport=MockTransport(handler), account="classic", **chosen)
    targets = [CancelTarget(symbol="BTCUSDT", order_id=str(i)) for i in range(1, n_targets + 1)]
    async with engine:
        report = await engine.cancel(targets)
    assert len(report.cancelled) == n_targets
    return sent, counts, throttled


async def test_far_away_the_engine_reuses_slots_early_and_never_overfills_a_window() -> None:
    early_sent, early_counts, early_429 = await _far_exchange(early_reuse=True)
    late_sent, late_counts, late_429 = await _far_exchange(early_reuse=False)
    assert early_429 == late_429 == 0
    assert max(early_counts) == max(late_counts) == 10
    assert len(early_sent) == len(late_sent) == 60
    # From 20 answers on (the second cycle), counted from the arrival (the fastest up-leg,
    # ~100 ms, + 25 ms) a cycle is about 1.05 s where from the answer it is 1.3 s: four such
    # cycles send the last request more than half a second sooner.
    assert early_sent[-1] - early_sent[0] < late_sent[-1] - late_sent[0] - 0.6


async def test_a_cancelled_request_gives_its_slot_back_counted_from_the_cancellation() -> None:
    """Cancelled in flight, the request may still arrive: its slot counts from the
    cancellation (no stamp to go by), and nothing stays in flight."""
    loop = asyncio.get_running_loop()
    arrived = asyncio.Event()

    async def handler(request: HttpRequest) -> HttpResponse:
        arrived.set()
        await asyncio.sleep(60.0)
        raise AssertionError("cancelled before its answer")

    creds = Credentials(api_key="far-early-cancelled", secret_key="s", passphrase="p")
    engine = CancelEngine(
        creds, transport=MockTransport(handler), account="classic", early_reuse=True
    )
    async with engine:
        budget = engine._session_here().budget(BATCH_CANCEL)
        assert isinstance(budget, RateBudget)
        assert budget.early_reuse
        call = asyncio.ensure_future(engine.cancel([CancelTarget(symbol="BTCUSDT", order_id="1")]))
        await arrived.wait()
        cancelled_at = loop.time()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        # Its request ends a few turns of the loop later on Python 3.10 (wait_for waits for
        # its inner task): no time passes.
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if left:
            await asyncio.wait(left, timeout=0.001)
        assert loop.time() == cancelled_at
        assert budget.in_flight == 0
        assert budget._expiries == [pytest.approx(cancelled_at + 1.0 + budget.margin)]


def test_a_full_window_of_ours_is_not_held_when_an_early_reuse_filled_it() -> None:
    """A (sent 100.0, arrived 100.1, answered 100.2) and B (sent at 101.0 on A's early-freed
    slot, arrived 101.05: A is still in its window) fill a window of 2 between them. B's
    answer says 0 left at 101.3, when A's answer is more than a period old: A is still ours,
    nobody else used the window, and nothing is held beyond our own count."""
    budget = RateBudget(2, 1.0, margin=0.0)
    budget._arrivals = ArrivalEstimate(margin=0.0, min_samples=1)
    assert budget.take(100.0)
    budget.release(100.2, sent=100.0, request_time=stamp(100.1), remaining=1)
    assert budget.take(101.0)
    budget.release(101.3, sent=101.0, request_time=stamp(101.05), remaining=0)
    assert budget.blocked_until < 101.3
    assert budget.take(101.3)


def test_slots_answered_before_the_estimate_was_trusted_count_from_their_arrival_once_it_is() -> (
    None
):
    budget = RateBudget(3, 1.0, margin=0.0)
    budget._arrivals = ArrivalEstimate(margin=0.0, min_samples=3)
    for _ in range(3):
        assert budget.take(100.0)
    budget.release(100.2, sent=100.0, request_time=stamp(100.1))
    budget.release(100.3, sent=100.0, request_time=stamp(100.15))
    assert sorted(budget._expiries) == pytest.approx([101.2, 101.3])  # too few samples yet
    budget.release(100.4, sent=100.0, request_time=stamp(100.2))  # the third: trusted
    # Each now counts from its stamp on the fastest up-leg (100 ms): 100.0, 100.05, 100.1.
    assert sorted(budget._expiries) == pytest.approx([101.0, 101.05, 101.1], abs=0.0011)
    assert budget.take(101.001)


def test_slots_waiting_for_a_trusted_estimate_are_forgotten_once_out_of_the_window() -> None:
    """A budget too little used to ever trust the estimate keeps no more than a window's worth
    of slots to place again (a long-lived engine does not grow)."""
    budget = RateBudget(1, 1.0, margin=0.0)
    budget._arrivals = ArrivalEstimate(margin=0.0, min_samples=1_000)
    now = 100.0
    for _ in range(50):
        assert budget.take(now)
        budget.release(now + 0.2, sent=now, request_time=stamp(now + 0.1))
        now += 1.5
    assert len(budget._provisional) == 1


async def test_the_budgets_of_one_account_share_one_estimate_and_a_429_stops_them_all() -> None:
    """One network path and one exchange clock per account: the listing's samples place the
    cancels' arrivals too; a 429 on any of its budgets ends the early reuse on all of them,
    also on a budget made after it. Another account is not touched."""
    budgets = InProcessBudgets()
    listing = budgets.budget("acct", "unfilled-orders", 20)
    cancels = budgets.budget("acct", "cancel-symbol-order", 5)
    other = budgets.budget("other", "unfilled-orders", 20)
    assert listing._arrivals is cancels._arrivals
    assert other._arrivals is not listing._arrivals
    assert listing.early_reuse
    assert cancels.early_reuse
    assert cancels.take(100.0)
    cancels.release(100.2, throttled=True, sent=100.0, request_time=stamp(100.1))
    later = budgets.budget("acct", "batch-cancel-order", 10)
    assert not listing.early_reuse
    assert not cancels.early_reuse
    assert not later.early_reuse
    assert other.early_reuse
    assert listing.take(101.0)
    listing.release(101.2, sent=101.0, request_time=stamp(101.1))
    assert listing._expiries == [pytest.approx(102.2 + listing.margin)]  # from its answer


async def test_the_early_reuse_is_off_unless_asked_for() -> None:
    """Bitget says a tripped limit takes 5 minutes to recover: the assumption on the network
    is the user's choice. By default every slot counts from its answer, stamps or not."""
    early_sent, _, _ = await _far_exchange(early_reuse=True)
    late_sent, _, late_429 = await _far_exchange(early_reuse=False)
    default_sent, _, default_429 = await _far_exchange(early_reuse=None)

    def spacing(sent: list[float]) -> list[float]:
        return [round(t - sent[0], 6) for t in sent]

    assert spacing(default_sent) == spacing(late_sent) != spacing(early_sent)
    assert default_429 == late_429 == 0
