"""The rate budget: exact as the exchange counts, without wasting the budget."""

from __future__ import annotations

import asyncio
import json

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelTarget,
    Credentials,
    HttpRequest,
    HttpResponse,
    InvalidRate,
    MockTransport,
)
from bitget_cancel._limit import INFINITE, InProcessBudgets, RateBudget, capacity_and_period
from bitget_cancel._wire import BATCH_CANCEL


def test_the_first_burst_goes_at_once() -> None:
    budget = RateBudget(10, 1.0, margin=0.0)
    assert all(budget.take(0.0) for _ in range(10))
    assert not budget.take(0.0)


def test_with_every_slot_in_flight_the_next_waits_for_an_answer() -> None:
    budget = RateBudget(2, 1.0, margin=0.0)
    budget.take(0.0)
    budget.take(0.0)
    assert budget.poll(5.0) == INFINITE  # no answer yet: its arrival time is unknown


def test_a_slot_comes_back_one_period_after_its_answer() -> None:
    budget = RateBudget(2, 1.0, margin=0.005)
    budget.take(0.0)
    budget.take(0.0)
    budget.release(0.030)  # answered after 30 ms: it arrived at the latest then
    assert budget.poll(0.5) == pytest.approx(0.535)
    assert not budget.take(1.034)
    assert budget.take(1.035)


def test_answers_arriving_out_of_order_keep_the_window_exact() -> None:
    budget = RateBudget(3, 1.0, margin=0.0)
    for _ in range(3):
        budget.take(0.0)
    budget.release(0.002)
    budget.release(0.030)
    budget.release(0.031)
    assert budget.take(1.002)
    assert not budget.take(1.010)
    assert budget.take(1.030)


def test_a_429_pauses_then_probes_one_at_a_time_then_recovers() -> None:
    budget = RateBudget(10, 1.0, margin=0.0, cooldown=1.0)
    budget.take(0.0)
    budget.release(0.010, throttled=True)
    assert budget.poll(0.5) == pytest.approx(0.510)  # paused for 1 s
    assert budget.take(1.02)
    assert budget.poll(1.02) == INFINITE  # probing: one request in flight at a time
    budget.release(1.05)  # the probe succeeded
    assert budget.take(1.05)
    assert budget.take(1.05)  # back to the full burst


def test_repeated_429s_double_the_pause_up_to_a_cap() -> None:
    budget = RateBudget(10, 1.0, margin=0.0, cooldown=1.0, max_cooldown=4.0)
    now = 0.0
    pauses = []
    for _ in range(5):
        assert budget.take(now)
        budget.release(now, throttled=True)
        pauses.append(budget.blocked_until - now)
        now = budget.blocked_until
    assert pauses == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_release_without_take_is_a_bug_caught_loudly() -> None:
    with pytest.raises(RuntimeError):
        RateBudget(1).release(0.0)


@pytest.mark.parametrize(
    ("rate", "expected"), [(10, (10, 1.0)), (10.7, (10, 1.0)), (0.5, (1, 2.0))]
)
def test_rate_to_capacity_and_period(rate: float, expected: tuple[int, float]) -> None:
    assert capacity_and_period(rate) == expected


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf"), "10", True])
def test_bad_rates_are_refused(rate: object) -> None:
    with pytest.raises(InvalidRate):
        capacity_and_period(rate)  # type: ignore[arg-type]


async def test_acquire_grants_ten_at_once_then_paces_on_answers() -> None:
    loop = asyncio.get_running_loop()
    budget = RateBudget(10, 1.0, margin=0.002)
    start = loop.time()
    granted: list[float] = []

    async def request(latency: float) -> None:
        slot = await budget.acquire()
        assert slot is not None
        granted.append(loop.time() - start)
        await asyncio.sleep(latency)
        slot.release()

    await asyncio.gather(*(request(0.020) for _ in range(25)))
    assert granted[:10] == [0.0] * 10
    assert granted[10:20] == pytest.approx([1.022] * 10)
    assert granted[20:] == pytest.approx([2.044] * 5)


async def test_acquire_gives_up_at_the_deadline() -> None:
    loop = asyncio.get_running_loop()
    budget = RateBudget(1, 1.0)
    assert await budget.acquire() is not None
    assert await budget.acquire(deadline=loop.time() + 0.5) is None
    assert budget.in_flight == 1  # the refused call took nothing


async def test_acquire_serves_waiters_in_arrival_order() -> None:
    budget = RateBudget(1, 1.0, margin=0.0)
    order: list[int] = []

    async def request(n: int) -> None:
        slot = await budget.acquire()
        assert slot is not None
        order.append(n)
        await asyncio.sleep(0.01)
        slot.release()

    await asyncio.gather(*(request(n) for n in range(5)))
    assert order == [0, 1, 2, 3, 4]


async def test_engines_with_one_api_key_share_one_budget() -> None:
    creds = Credentials(api_key="same", secret_key="s", passphrase="p")
    other = Credentials(api_key="other", secret_key="s", passphrase="p")
    first, second, third = CancelEngine(creds), CancelEngine(creds), CancelEngine(other)
    try:
        budget = [e._session_here().budget(BATCH_CANCEL) for e in (first, second, third)]
        assert budget[0] is budget[1]
        assert budget[0] is not budget[2]
    finally:
        for engine in (first, second, third):
            await engine.close()


async def test_a_stricter_rate_on_a_shared_budget_wins() -> None:
    budgets = InProcessBudgets()
    assert budgets.budget("k2", "/x", 10).capacity == 10
    assert budgets.budget("k2", "/x", 5).capacity == 5
    assert budgets.budget("k2", "/x", 10).capacity == 5


def test_an_answer_saying_nothing_is_left_holds_the_endpoint_until_the_window_rolls() -> None:
    """x-mbx-used-remain-limit: 0 (another client on the account used the rest): nothing more
    goes until one period after that answer, whatever our own count says."""
    budget = RateBudget(10, 1.0, margin=0.002)
    assert budget.take(0.0)
    budget.release(0.050, remaining=0)
    assert budget.poll(0.5) == pytest.approx(0.552)
    assert not budget.take(1.051)
    assert budget.take(1.052)
    # A positive count changes nothing.
    budget.release(1.060, remaining=3)
    assert budget.take(1.060)


def test_a_window_another_client_shared_holds_even_with_some_of_ours_in_it() -> None:
    """Three of ours in the window and the exchange says it is full: another client sent the
    other seven, which our count cannot see, so nothing goes until the window rolls."""
    budget = RateBudget(10, 1.0, margin=0.002)
    assert all(budget.take(0.0) for _ in range(3))
    budget.release(0.300)
    budget.release(0.310)
    budget.release(0.320, remaining=0)
    assert budget.poll(0.320) == pytest.approx(1.002)
    assert not budget.take(1.321)
    assert budget.take(1.322)


def test_a_window_only_we_filled_is_not_held_past_our_own_count() -> None:
    """Far away (300 ms round trips) the tenth answer of a burst of ten says 0 left: all ten
    arrivals were ours, which our count already holds until each one's slot frees. Holding the
    whole budget a period from that last answer would lose a round trip per window."""
    budget = RateBudget(10, 1.0, margin=0.002)
    assert all(budget.take(0.0) for _ in range(10))
    for i in range(9):
        budget.release(0.300 + i * 0.010, remaining=9 - i)
    budget.release(0.400, remaining=0)
    # The first slot frees a period after its answer, not a period after the last answer.
    assert budget.poll(0.400) == pytest.approx(0.902)
    assert budget.take(1.302)
    assert not budget.take(1.302)  # the others free one by one, as counted
    assert budget.take(1.312)


def test_a_full_window_of_ours_counts_answers_still_in_flight() -> None:
    """Some of our requests of that window are still unanswered when the answer saying 0
    comes: they count as ours too (they may have arrived in it), so no hold either."""
    budget = RateBudget(4, 1.0, margin=0.0)
    assert all(budget.take(0.0) for _ in range(4))
    budget.release(0.300, remaining=0)  # three still in flight: 1 + 3 = the capacity
    assert budget.blocked_until == 0.0
    budget.release(0.310)
    budget.release(0.320)
    budget.release(0.330)
    assert budget.take(1.300)


async def test_the_engine_reads_the_remain_header_of_every_answer() -> None:
    """The session passes the header of each answer to the budget: after an answer saying 0 is
    left, the next request of that endpoint waits for the window."""
    loop = asyncio.get_running_loop()
    sent: list[float] = []

    async def handler(request: HttpRequest) -> HttpResponse:
        sent.append(loop.time())
        items = [{"orderId": o["orderId"]} for o in json.loads(request.body)["orderList"]]
        body = json.dumps({"code": "00000", "data": {"successList": items, "failureList": []}})
        return HttpResponse(200, body.encode(), {"x-mbx-used-remain-limit": "0"})

    creds = Credentials(api_key="remain", secret_key="s", passphrase="p")
    engine = CancelEngine(creds, transport=MockTransport(handler), account="classic")
    first = [CancelTarget(symbol="BTCUSDT", order_id=str(i)) for i in range(1, 51)]
    second = [CancelTarget(symbol="BTCUSDT", order_id=str(i)) for i in range(51, 101)]
    async with engine:
        await engine.cancel(first)
        await engine.cancel(second)
    assert len(sent) == 2
    assert sent[1] - sent[0] >= 1.0  # held for the window, not sent at once


async def test_far_away_the_engine_is_not_held_by_a_window_it_filled_itself() -> None:
    """300–390 ms round trips; the exchange counts arrivals and says what is left. The tenth
    answer of the first window says 0, but all ten arrivals were the engine's: the eleventh
    request goes when the first slot frees (1 s after the first answer), not 1 s after the
    last answer of the window."""
    loop = asyncio.get_running_loop()
    arrivals: list[float] = []
    sent: list[float] = []

    async def handler(request: HttpRequest) -> HttpResponse:
        index = len(sent)
        sent.append(loop.time())
        await asyncio.sleep(0.15)  # on its way
        now = loop.time()
        arrivals.append(now)
        used = sum(1 for t in arrivals if t > now - 1.0)
        items = [{"orderId": o["orderId"]} for o in json.loads(request.body)["orderList"]]
        body = json.dumps({"code": "00000", "data": {"successList": items, "failureList": []}})
        await asyncio.sleep(0.15 + 0.01 * (index % 10))  # back, the answers spread out
        return HttpResponse(200, body.encode(), {"x-mbx-used-remain-limit": str(10 - used)})

    creds = Credentials(api_key="far-remain", secret_key="s", passphrase="p")
    engine = CancelEngine(creds, transport=MockTransport(handler), account="classic")
    targets = [CancelTarget(symbol="BTCUSDT", order_id=str(i)) for i in range(1, 551)]
    async with engine:
        report = await engine.cancel(targets)
    assert len(report.cancelled) == 550
    assert len(sent) == 11
    first_answer, last_answer = sent[0] + 0.30, sent[0] + 0.39
    assert sent[10] == pytest.approx(first_answer + 1.002, abs=0.005)
    assert sent[10] < last_answer + 1.0  # the old hold: a whole period from the last answer
