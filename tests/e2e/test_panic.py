"""Panic cancel against the simulator over real HTTP: empties the account, and finishes even
while the program around it is cancelled, closed or shutting down."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelStatus,
    CancelTarget,
    Credentials,
    InvalidArgument,
    PanicReport,
    install_panic_handler,
)
from bitget_cancel.sim import Faults, SimExchange

CREDS = Credentials(api_key="sim-key", secret_key="sim-secret", passphrase="sim-pass")
T = TypeVar("T")


def fill_account(sim: SimExchange, symbols: int, low: int, high: int, seed: int = 5) -> int:
    rng = random.Random(seed)
    for s in range(symbols):
        sim.place_orders(f"S{s}USDT", rng.randint(low, high))
    return len(sim.open_orders())


def assert_clean(sim: SimExchange) -> None:
    assert sim.open_orders() == []
    assert sim.stats.total_violations == 0, sim.stats.violations
    assert sim.stats.pacing_429 == 0


def assert_every_order_closed_once(report: PanicReport) -> None:
    targets = [o.target for o in report.outcomes]
    assert len(targets) == len(set(targets))
    assert report.all_closed, report.counts()


@pytest.mark.parametrize("use_symbol_cancel", [True, False])
async def test_panic_empties_an_account_of_thousands_of_orders_despite_faults(
    use_symbol_cancel: bool,
) -> None:
    faults = Faults(rate=0.15, order_transient=0.1, slow_s=3.0)
    async with SimExchange(latency_ms=(2, 30), faults=faults, seed=11) as sim:
        placed = fill_account(sim, symbols=25, low=1, high=300)
        assert placed > 2000
        async with CancelEngine(CREDS, base_url=sim.base_url, request_timeout=0.5) as engine:
            report = await engine.panic_cancel(deadline=60, use_symbol_cancel=use_symbol_cancel)
        assert_clean(sim)
        assert report.account_empty
        assert_every_order_closed_once(report)
        assert (report.symbol_cancels > 0) is use_symbol_cancel
        assert report.passes >= 2  # list, cancel, list again


async def test_orders_placed_during_the_panic_are_caught_by_the_next_pass() -> None:
    async with SimExchange(latency_ms=(2, 10), seed=3) as sim:
        fill_account(sim, symbols=10, low=100, high=200)
        added: list[str] = []

        async def strategy_still_running() -> None:
            for n in range(20):
                order = sim.place_order(f"S{n % 4}USDT", client_oid=f"late-{n}")
                added.append(order.order_id)
                await asyncio.sleep(0.05)

        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            task = engine.start_panic(use_symbol_cancel=False, deadline=60)
            await strategy_still_running()
            report = await task
        assert_clean(sim)
        assert report.account_empty
        closed = {o.target.order_id for o in report.outcomes if o.status is CancelStatus.CANCELLED}
        assert set(added) <= closed


async def test_cancelling_the_caller_does_not_stop_the_panic() -> None:
    async with SimExchange(latency_ms=(2, 10), seed=4) as sim:
        fill_account(sim, symbols=5, low=100, high=200)
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            caller = asyncio.ensure_future(engine.panic_cancel(use_symbol_cancel=False))
            await asyncio.sleep(0.3)
            caller.cancel()
            with pytest.raises(asyncio.CancelledError):
                await caller
            assert sim.open_orders()  # the panic is still at work...
        # ...and leaving `async with` waited for it to finish.
        assert_clean(sim)


async def test_cancelling_the_panic_task_itself_is_absorbed() -> None:
    async with SimExchange(latency_ms=(2, 10), seed=6) as sim:
        fill_account(sim, symbols=5, low=100, high=200)
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            task = engine.start_panic(use_symbol_cancel=False)
            for _ in range(3):
                await asyncio.sleep(0.2)
                task.cancel()
            report = await asyncio.wait_for(asyncio.shield(task), 30)
        assert not task.cancelled()
        assert report.account_empty
        assert_clean(sim)


async def test_a_second_panic_joins_the_running_one() -> None:
    async with SimExchange(latency_ms=(2, 10), seed=7) as sim:
        fill_account(sim, symbols=6, low=50, high=150)
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            first = engine.start_panic()
            second = engine.start_panic()
            assert first is second
            one, two = await asyncio.gather(
                engine.panic_cancel(), engine.panic_cancel(symbols=["S1USDT"])
            )
        assert one is two
        assert_clean(sim)
        peaks = sim.stats.max_in_window
        assert peaks.get("/api/v2/spot/trade/batch-cancel-order", 0) <= 10
        assert peaks.get("/api/v2/spot/trade/cancel-symbol-order", 0) <= 5
        assert peaks.get("/api/v2/spot/trade/unfilled-orders", 0) <= 20
        # At most one per symbol (the lanes may send a symbol in batches instead): the joined
        # call doubled nothing.
        assert 0 < one.symbol_cancels <= 6


async def test_symbols_limit_the_panic_and_targets_never_trigger_a_symbol_cancel() -> None:
    async with SimExchange(latency_ms=(2, 10), seed=8) as sim:
        sim.place_orders("AUSDT", 120)
        other = sim.place_orders("BUSDT", 80)
        chosen = other[:3]
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            targets = [CancelTarget(symbol="BUSDT", order_id=o.order_id) for o in chosen]
            report = await engine.panic_cancel(["AUSDT"], targets=targets)
        assert sim.open_orders("AUSDT") == []
        still_open = {o.order_id for o in sim.open_orders("BUSDT")}
        assert still_open == {o.order_id for o in other[3:]}
        assert report.all_closed
        assert {o.target for o in report.outcomes} >= set(targets)
        assert report.symbol_cancels == 1  # AUSDT only, never BUSDT
        assert sim.stats.total_violations == 0


async def test_bad_panic_arguments_are_refused_before_any_request() -> None:
    async with SimExchange() as sim, CancelEngine(CREDS, base_url=sim.base_url) as engine:
        with pytest.raises(InvalidArgument, match="symbols"):
            await engine.panic_cancel("BTCUSDT")
        with pytest.raises(InvalidArgument, match="deadline"):
            await engine.panic_cancel(deadline=0)
        assert sum(sim.stats.requests.values()) == 0


# -- the program around the engine shuts down: the simulator runs on its own thread ------------


class ThreadedSim:
    """A simulator on its own thread and loop, so the code under test can own its loop."""

    def __init__(self, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self.sim = SimExchange(**kwargs)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> ThreadedSim:
        self._thread.start()
        self.call(self.sim.start)
        return self

    def __exit__(self, *exc: object) -> None:
        self.call(self.sim.stop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        return asyncio.run_coroutine_threadsafe(_await(fn), self._loop).result(30)

    def sync(self, fn: Callable[[], T]) -> T:
        async def wrapped() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapped(), self._loop).result(30)


async def _await(fn: Callable[[], Awaitable[T]]) -> T:
    return await fn()


@pytest.fixture
def threaded_sim() -> Iterator[ThreadedSim]:
    with ThreadedSim(latency_ms=(2, 10), seed=9) as ts:
        ts.sync(lambda: fill_account(ts.sim, symbols=8, low=100, high=200))
        yield ts


def test_the_panic_finishes_while_asyncio_run_shuts_the_program_down(
    threaded_sim: ThreadedSim,
) -> None:
    started: list[asyncio.Task[PanicReport]] = []

    async def strategy() -> None:
        engine = CancelEngine(CREDS, base_url=threaded_sim.sim.base_url)
        started.append(engine.start_panic(use_symbol_cancel=False))
        await asyncio.sleep(0.2)
        # The strategy returns at once: asyncio.run now cancels every task it can find.

    asyncio.run(strategy())
    (task,) = started
    assert task.done()
    assert not task.cancelled()
    assert task.result().account_empty
    assert threaded_sim.sync(threaded_sim.sim.open_orders) == []


def test_sigint_starts_the_panic_through_the_installed_handler(
    threaded_sim: ThreadedSim,
) -> None:
    started: list[asyncio.Task[PanicReport]] = []

    async def strategy() -> PanicReport:
        async with CancelEngine(CREDS, base_url=threaded_sim.sim.base_url) as engine:
            remove = install_panic_handler(engine, use_symbol_cancel=False)
            try:
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(200):  # the loop runs the handler on its next I/O poll
                    if engine._panic_task is not None:
                        break
                    await asyncio.sleep(0.005)
                task = engine._panic_task
                assert task is not None
                started.append(task)
                return await task
            finally:
                remove()

    # Once the panic is done, SIGINT has its usual outcome (tests/switch/test_panic_handler.py).
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(strategy())
    report = started[0].result()
    assert report.account_empty
    assert report.all_closed
    assert threaded_sim.sync(threaded_sim.sim.open_orders) == []
