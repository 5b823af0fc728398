"""The engine's life: new event loops, close() while calls run, arguments checked up front."""

from __future__ import annotations

import asyncio
import gc
import signal
import threading
import warnings
from collections.abc import Iterator

import pytest

from bitget_cancel import (
    AiohttpTransport,
    CancelEngine,
    CancelStatus,
    CancelTarget,
    Credentials,
    EngineClosed,
    InvalidArgument,
    InvalidDeadline,
    install_panic_handler,
)
from bitget_cancel.sim import SimExchange

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]


class BackgroundSim:
    """A simulator serving from its own thread and loop, so that tests may run their own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.sim = SimExchange(latency_ms=(1.0, 3.0))
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.sim.start(), self.loop).result(10)

    def place(self, symbol: str, n: int) -> list[CancelTarget]:
        async def place() -> list[CancelTarget]:
            return [
                CancelTarget(symbol=symbol, order_id=o.order_id)
                for o in self.sim.place_orders(symbol, n)
            ]

        return asyncio.run_coroutine_threadsafe(place(), self.loop).result(10)

    def open_count(self) -> int:
        async def count() -> int:
            return len(self.sim.open_orders())

        return asyncio.run_coroutine_threadsafe(count(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture
def bg_sim() -> Iterator[BackgroundSim]:
    sim = BackgroundSim()
    try:
        yield sim
    finally:
        sim.stop()


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


def test_an_engine_works_in_a_second_asyncio_run(bg_sim: BackgroundSim) -> None:
    """Bug found: a second asyncio.run() reused the first loop's connections: requests that never
    left were reported "the cancel may have happened". Now each loop gets a fresh session."""
    engine = CancelEngine(creds(bg_sim.sim), base_url=bg_sim.sim.base_url)
    first = bg_sim.place("BTCUSDT", 60)
    second = bg_sim.place("ETHUSDT", 60)

    report_1 = asyncio.run(engine.cancel(first))
    report_2 = asyncio.run(engine.cancel(second))

    assert {o.status for o in report_1.outcomes} == {CancelStatus.CANCELLED}
    assert {o.status for o in report_2.outcomes} == {CancelStatus.CANCELLED}
    assert bg_sim.open_count() == 0
    asyncio.run(engine.close())


async def test_close_waits_for_a_running_cancel_and_nothing_reopens(sim: SimExchange) -> None:
    """Bug found: close() during a cancel() let the cancel open a new connection pool that was
    never closed. Now close() waits for running calls; afterwards calls are refused."""
    targets = [
        CancelTarget(symbol=f"C{s}USDT", order_id=o.order_id)
        for s in range(6)
        for o in sim.place_orders(f"C{s}USDT", 100)
    ]
    engine = CancelEngine(creds(sim), base_url=sim.base_url)
    answered = asyncio.Event()
    running = asyncio.create_task(engine.cancel(targets, progress=lambda *_: answered.set()))
    await answered.wait()  # the first answer is in: the cancel is under way
    await engine.close()
    assert running.done()  # close() returned only after the cancel finished
    report = running.result()
    assert {o.status for o in report.outcomes} == {CancelStatus.CANCELLED}
    sent = sum(sim.stats.requests.values())
    with pytest.raises(EngineClosed):
        await engine.cancel(targets)
    with pytest.raises(EngineClosed):
        await engine.panic_cancel()
    assert sum(sim.stats.requests.values()) == sent


@pytest.mark.parametrize("deadline", [-1, 0, float("nan"), "10", True])
async def test_install_panic_handler_checks_its_arguments_when_installed(deadline: object) -> None:
    """Bug found: install_panic_handler(engine, deadline=-1) was accepted, and failed only when
    the signal came (the program could then not be stopped)."""
    engine = CancelEngine(Credentials(api_key="k", secret_key="s", passphrase="p"))
    with pytest.raises(InvalidDeadline):
        install_panic_handler(engine, (signal.SIGUSR1,), deadline=deadline)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="kind must be one of"):
        install_panic_handler(engine, (signal.SIGUSR1,), kinds=("limit",))  # type: ignore[arg-type]
    await engine.close()


@pytest.mark.parametrize(
    "url", ["api.bitget.com", "ftp://api.bitget.com", "https://", "", "//api.bitget.com"]
)
def test_a_base_url_must_be_an_absolute_http_url(url: str) -> None:
    """Bug found: base_url="api.bitget.com" was accepted and every order ended unresolved."""
    with pytest.raises(InvalidArgument, match="base_url"):
        CancelEngine(Credentials(api_key="k", secret_key="s", passphrase="p"), base_url=url)


async def test_the_engine_says_while_a_panic_runs(sim: SimExchange) -> None:
    """A strategy must be able to tell that a panic runs, to stop placing orders."""
    sim.place_orders("BTCUSDT", 30)
    engine = CancelEngine(creds(sim), base_url=sim.base_url)
    started: list[asyncio.Task[object]] = []
    engine.add_panic_listener(started.append)
    assert not engine.panic_running
    task = engine.start_panic(deadline=30)
    assert engine.panic_running
    assert started == [task]
    report = await task
    assert not engine.panic_running
    assert report.account_empty
    await engine.close()


def test_an_engine_reused_in_a_second_asyncio_run_leaves_no_session_of_the_first_open(
    bg_sim: BackgroundSim,
) -> None:
    engine = CancelEngine(creds(bg_sim.sim), base_url=bg_sim.sim.base_url)
    transports: list[object] = []

    async def cancel_some(symbol: str) -> None:
        report = await engine.cancel(bg_sim.place(symbol, 3))
        assert report.all_closed
        transports.append(engine._session_here().transport)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        asyncio.run(cancel_some("BTCUSDT"))
        first = transports[0]
        assert isinstance(first, AiohttpTransport)
        assert first._session is None  # closed when the first asyncio.run ended
        asyncio.run(cancel_some("ETHUSDT"))
        asyncio.run(engine.close())
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
