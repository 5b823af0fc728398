"""Issue 24 broken on purpose: shared requests, confirmation and on_outcome under abuse."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from bitget_cancel import CancelOutcome, CancelStatus, CancelTarget, InvalidArgument
from bitget_cancel._metrics import Metrics

from .scripted_exchange import HANG_AFTER, ScriptedExchange, Step
from .test_shared_engine import book, engine_for


async def test_an_order_asked_again_by_client_oid_is_confirmed_and_re_sent_once() -> None:
    # Named on the wrong symbol, by orderId and clientOid: "does not exist" twice (the second
    # asked by clientOid), then the listing finds it open on its true symbol. The order was
    # filed under two keys; it must be checked, re-queued and told once, not twice.
    exchange = ScriptedExchange(latency=0.05)
    exchange.place("S1USDT", "500", "c500")
    exchange.place("S2USDT", "600", "c600")
    wrong_symbol = CancelTarget(symbol="S0USDT", order_id="500", client_oid="c500")
    gone = CancelTarget(symbol="S0USDT", order_id="700", client_oid="c700")
    heard: list[CancelOutcome] = []
    progress: list[tuple[int, int]] = []
    async with engine_for(exchange) as engine:
        report = await engine.cancel(
            [wrong_symbol, gone],
            on_outcome=heard.append,
            progress=lambda done, total: progress.append((done, total)),
        )
    assert exchange.violations == []
    assert not any(oid == "500" for _, oid in exchange.open_orders)
    first, second = report.outcomes
    assert first.status is CancelStatus.CANCELLED
    assert first.found_as is not None
    assert second.status is CancelStatus.NOT_OPEN
    assert second.error_msg is not None
    assert second.error_msg.count("confirmed: open nowhere") == 1
    assert sorted(map(repr, heard)) == sorted(map(repr, report.outcomes))
    assert progress[-1] == (2, 2)
    assert all(0 <= done <= total for done, total in progress)
    # by orderId and by clientOid on S0 (refused), then once on S1, where it is open
    named = [o.get("orderId") or o["clientOid"] for b in exchange.bodies for o in b["orderList"]]
    assert named.count("500") == 2
    assert named.count("c500") == 1


def test_prometheus_counters_keep_every_digit_of_a_long_running_bot() -> None:
    metrics = Metrics()
    metrics.requests["batch-cancel-order"] = 1_234_567
    metrics.retries = 10_000_001
    metrics.budget_wait_seconds = 123456.789
    lines = set(metrics.snapshot(budget_fallbacks=0).to_prometheus().splitlines())
    assert 'bitget_cancel_requests_total{endpoint="batch-cancel-order"} 1234567' in lines
    assert "bitget_cancel_retries_total 10000001" in lines
    assert "bitget_cancel_budget_wait_seconds_total 123456.789" in lines


async def test_a_shared_request_is_not_left_running_once_every_call_it_carried_is_over() -> None:
    # The owner of the request is cancelled (its request goes on: it carries the rider's
    # orders); then the rider's deadline passes. Nobody is left to read the answer: the
    # request must end then, as a call's own request does, not linger until its timeout.
    exchange = ScriptedExchange(latency=0.5, steps=[Step(HANG_AFTER)])
    mine = book(exchange, 2, prefix=10_000)
    theirs = book(exchange, 2, prefix=20_000)
    loop = asyncio.get_running_loop()
    async with engine_for(exchange) as engine:
        owner = loop.create_task(engine.cancel(mine))
        rider = loop.create_task(engine.cancel(theirs, deadline=1.0))
        await asyncio.sleep(0.1)  # the shared request is on its way
        owner.cancel()
        report = await rider
        # Cancelled by now; ending may take a few turns of the loop (Python 3.10's wait_for
        # waits for its inner task), no time: a virtual millisecond, far below the timeout.
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if left:
            await asyncio.wait(left, timeout=0.001)
        assert [t for t in left if not t.done()] == []
        assert exchange.in_flight == 0
    assert len(exchange.bodies) == 1
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}


_BOT_TASK: contextvars.ContextVar[str] = contextvars.ContextVar("bot_task", default="none")


async def test_on_outcome_and_progress_run_in_the_callers_context_when_orders_ride_along() -> None:
    # A bot tags its log lines with a contextvar per task. Orders that ride in another call's
    # request are answered in that call's task: the callbacks must still see their own caller's.
    exchange = ScriptedExchange(latency=0.05)
    calls = {name: book(exchange, 2, prefix=10_000 * (i + 1)) for i, name in enumerate("abc")}
    seen: list[tuple[str, str]] = []
    async with engine_for(exchange) as engine:

        async def one(name: str) -> None:
            _BOT_TASK.set(name)
            await engine.cancel(
                calls[name],
                on_outcome=lambda o: seen.append((name, _BOT_TASK.get())),
                progress=lambda done, total: seen.append((name, _BOT_TASK.get())),
            )

        await asyncio.gather(*(one(name) for name in calls))
    assert len(exchange.bodies) == 1  # one request carried all three calls' orders
    assert len(seen) == 3 * (2 + 2)
    assert all(caller == current for caller, current in seen), seen


async def test_a_coroutine_function_as_a_callback_is_a_bad_argument_before_any_request() -> None:
    # Called and never awaited, it would never run: the bot's registry silently never updated.
    exchange = ScriptedExchange(latency=0.05)
    targets = book(exchange, 2)

    async def settled(outcome: CancelOutcome) -> None:
        return None

    async def shown(done: int, total: int) -> None:
        return None

    async with engine_for(exchange) as engine:
        with pytest.raises(InvalidArgument, match="on_outcome must be a plain function"):
            await engine.cancel(targets, on_outcome=settled)
        with pytest.raises(InvalidArgument, match="progress must be a plain function"):
            await engine.cancel(targets, progress=shown)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match="on_listed must be a plain function"):
            await engine.open_orders(on_listed=shown)  # type: ignore[arg-type]
    assert exchange.bodies == []


@pytest.mark.parametrize(
    ("prefix", "labels", "problem"),
    [
        ("bitget-cancel", None, "prefix"),
        ("bitget_cancel", {"account-name": "main"}, "account-name"),
        ("bitget_cancel", {"endpoint": "main"}, "endpoint"),  # would be written twice
        ("bitget_cancel", {"account": 7}, "account"),
    ],
)
def test_to_prometheus_refuses_names_a_scraper_would_refuse(
    prefix: str, labels: dict[str, str] | None, problem: str
) -> None:
    snapshot = Metrics().snapshot(budget_fallbacks=0)
    with pytest.raises(InvalidArgument, match=problem):
        snapshot.to_prometheus(prefix, labels)
