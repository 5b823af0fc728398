"""The switch's clock and bookkeeping on virtual time: beats, trips, exits, argument checks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bitget_cancel import (
    CancelEngine,
    Credentials,
    EngineClosed,
    HttpRequest,
    HttpResponse,
    InvalidArgument,
    MockTransport,
    WatchdogFailed,
)
from bitget_cancel._switch import DeadManSwitch, SwitchSettings, check_switch

KEYS = Credentials(api_key="k", secret_key="s", passphrase="p")


class FakeWatchdog:
    kind = "fake"
    pid = None

    def __init__(
        self, *, fail_start: bool = False, fail_beats: bool = False, beat_takes: float = 0.0
    ) -> None:
        self.events: list[tuple[str, float]] = []
        self.beat_takes = beat_takes
        self.fail_start = fail_start
        self.fail_beats = fail_beats
        self.problem: str | None = None

    def _note(self, what: str) -> None:
        self.events.append((what, asyncio.get_running_loop().time()))

    async def start(self) -> None:
        self._note("start")
        if self.fail_start:
            raise WatchdogFailed("no watchdog")

    async def beat(self) -> bool:
        self._note("beat")
        await asyncio.sleep(self.beat_takes)
        if self.fail_beats:
            self.problem = "gone"
        return not self.fail_beats

    async def disarm(self) -> None:
        self._note("disarm")

    async def let_go(self) -> None:
        self._note("let_go")

    def times(self, what: str) -> list[float]:
        return [at for name, at in self.events if name == what]


class Panics:
    def __init__(self) -> None:
        self.started: list[float] = []

    def __call__(self) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        self.started.append(loop.time())
        return loop.create_task(asyncio.sleep(0.5))


def _switch(watchdog: FakeWatchdog, panics: Panics, **changes: Any) -> DeadManSwitch:
    settings = {"timeout": 3.0, "watchdog": "process", "exchange": "off", "name": "t",
                "on_error": "panic", "report_path": None, **changes}  # fmt: skip
    return DeadManSwitch(SwitchSettings(**settings), watchdog, None, panics)


async def test_beats_leave_every_third_of_the_timeout_from_the_loop() -> None:
    watchdog, panics = FakeWatchdog(), Panics()
    async with _switch(watchdog, panics) as switch:
        start = asyncio.get_running_loop().time()
        await asyncio.sleep(3.5)
    assert [round(at - start, 6) for at in watchdog.times("beat")] == [1.0, 2.0, 3.0]
    assert switch.status.beats_sent == 3
    assert switch.status.state == "disarmed"
    assert panics.started == []
    assert [name for name, _ in watchdog.events] == ["start", "beat", "beat", "beat", "disarm"]


async def test_an_exception_runs_the_panic_before_the_watchdog_is_disarmed() -> None:
    watchdog, panics = FakeWatchdog(), Panics()
    switch = _switch(watchdog, panics)

    async def strategy() -> None:
        async with switch:
            await asyncio.sleep(1.0)
            _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        await strategy()
    assert len(panics.started) == 1
    # The panic took 0.5 s: the watchdog was disarmed only after it, beating meanwhile.
    (disarmed,) = watchdog.times("disarm")
    assert disarmed - panics.started[0] == pytest.approx(0.5)
    assert switch.status.state == "panicked"


async def test_a_cancelled_task_counts_as_an_error() -> None:
    watchdog, panics = FakeWatchdog(), Panics()

    async def strategy() -> None:
        async with _switch(watchdog, panics):
            await asyncio.sleep(100)

    task = asyncio.ensure_future(strategy())
    await asyncio.sleep(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(panics.started) == 1


async def test_on_error_disarm_leaves_the_orders_alone() -> None:
    watchdog, panics = FakeWatchdog(), Panics()
    with pytest.raises(KeyError):
        async with _switch(watchdog, panics, on_error="disarm"):
            raise KeyError("x")
    assert panics.started == []
    assert watchdog.times("disarm")


async def test_sys_exit_zero_is_a_clean_end() -> None:
    watchdog, panics = FakeWatchdog(), Panics()
    with pytest.raises(SystemExit):
        async with _switch(watchdog, panics):
            raise SystemExit(0)
    assert panics.started == []


async def test_a_blocked_loop_trips_the_switch_and_panics_here_too() -> None:
    watchdog, panics = FakeWatchdog(), Panics()
    loop = asyncio.get_running_loop()
    assert hasattr(loop, "advance")
    async with _switch(watchdog, panics) as switch:
        await asyncio.sleep(1.1)
        loop.advance(5.0)  # the loop is held for 5 s: no beat could leave
        await asyncio.sleep(0.5)
        assert switch.status.state == "tripped"
        assert switch.status.beats_missed == 1
        assert len(panics.started) == 1
        beats = len(watchdog.times("beat"))
        await asyncio.sleep(3)
        assert len(watchdog.times("beat")) == beats  # a tripped switch beats no more
    assert len(panics.started) == 1  # a clean exit after the trip adds no second panic


async def test_a_slow_beat_is_not_a_blocked_loop() -> None:
    """A store that takes longer than the timeout to answer a beat (Redis down) must not trip
    the switch: the loop itself ran all along."""
    watchdog, panics = FakeWatchdog(beat_takes=4.0), Panics()
    async with _switch(watchdog, panics) as switch:
        await asyncio.sleep(12)
        assert switch.status.state == "armed"
    assert panics.started == []
    assert len(watchdog.times("beat")) == 3  # one every 4 s: each waits for the last


async def test_beats_that_fail_are_counted_and_shown() -> None:
    watchdog, panics = FakeWatchdog(fail_beats=True), Panics()
    async with _switch(watchdog, panics) as switch:
        await asyncio.sleep(2.5)
        assert switch.status.beats_failed == 2
        assert switch.status.watchdog_problem == "gone"


async def test_a_watchdog_that_cannot_start_arms_nothing() -> None:
    watchdog, panics = FakeWatchdog(fail_start=True), Panics()
    switch = _switch(watchdog, panics)
    with pytest.raises(WatchdogFailed):
        async with switch:
            pytest.fail("the block must not run")
    assert switch.status.state == "disarmed"
    assert watchdog.times("disarm")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"timeout": 0.5}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"watchdog": "thread"}, "watchdog"),
        ({"exchange": "on"}, "exchange"),
        ({"watchdog": None, "exchange": "off"}, "nothing to watch"),
        ({"name": ""}, "name"),
        ({"name": "a\nb"}, "name"),
        ({"on_error": "ignore"}, "on_error"),
        ({"report_path": 3}, "report_path"),
        ({"report_path": "r.json", "watchdog": "redis"}, "report_path"),
        ({"report_path": "r.json", "watchdog": None}, "report_path"),
    ],
)
def test_bad_settings_are_refused_by_name(changes: dict[str, Any], named: str) -> None:
    settings: dict[str, Any] = {"timeout": 10.0, "watchdog": "process", "exchange": "auto",
                                "name": "n", "on_error": "panic", "report_path": None}  # fmt: skip
    settings.update(changes)
    with pytest.raises(InvalidArgument, match=named):
        check_switch(**settings)


async def _never(request: HttpRequest) -> HttpResponse:
    raise AssertionError(f"nothing may be sent: {request}")


@pytest.mark.parametrize(
    ("scope", "named"),
    [
        ({"symbol": "BTCUSDT"}, "unknown scope argument"),
        ({"targets": ()}, "unknown scope argument"),
        ({"symbols": "BTCUSDT"}, "symbols"),
        ({"symbols": []}, "symbols"),
        ({"kinds": ["limit"]}, "kind"),
        ({"deadline": -1}, "deadline"),
        ({"use_symbol_cancel": "yes"}, "use_symbol_cancel"),
        ({"client_oid_prefix": ""}, "client_oid_prefix"),
        ({"client_oid_prefix": 7}, "client_oid_prefix"),
    ],
)
async def test_a_bad_scope_is_refused_before_anything_starts(
    scope: dict[str, Any], named: str
) -> None:
    async with CancelEngine(KEYS, transport=MockTransport(_never)) as engine:
        with pytest.raises(InvalidArgument, match=named):
            engine.dead_man_switch(2, watchdog=None, **scope)


async def test_the_watchdogs_that_cannot_work_here_are_refused() -> None:
    async with CancelEngine(KEYS, transport=MockTransport(_never)) as engine:
        with pytest.raises(InvalidArgument, match="transport"):
            engine.dead_man_switch(2)
        with pytest.raises(InvalidArgument, match="budget_url"):
            engine.dead_man_switch(2, watchdog="redis")
    with pytest.raises(EngineClosed):
        engine.dead_man_switch(2, watchdog=None)


def test_the_watchdog_orders_never_show_a_secret() -> None:
    from bitget_cancel import WatchdogOrders

    keys = Credentials(api_key="key-1", secret_key="very-secret-abc", passphrase="pass-xyz")
    orders = WatchdogOrders(keys, {"base_url": "http://x"}, {"kinds": ["normal"]}, 2.0)
    line = orders.encode()
    decoded = WatchdogOrders.decode(line)
    assert decoded.credentials == keys
    assert json.loads(line)["scope"] == {"kinds": ["normal"]}
    for secret in ("very-secret-abc", "pass-xyz"):
        assert secret not in repr(decoded)
    with pytest.raises(InvalidArgument) as refused:
        WatchdogOrders.decode(line.replace(b'"timeout"', b'"timeout_"'))
    for secret in ("very-secret-abc", "pass-xyz"):
        assert secret not in str(refused.value)


async def test_a_watchdog_command_that_cannot_run_is_a_watchdog_failure() -> None:
    from bitget_cancel import WatchdogOrders
    from bitget_cancel._watchdog_pipe import PipeWatchdog

    orders = WatchdogOrders(KEYS, {}, {}, 2.0)
    with pytest.raises(WatchdogFailed, match="could not be started"):
        await PipeWatchdog(orders, ["/nonexistent/python"]).start()


async def test_a_panic_that_cannot_start_leaves_the_blocks_own_exception() -> None:
    watchdog = FakeWatchdog()

    def broken() -> asyncio.Future[Any]:
        raise RuntimeError("the engine is gone")

    switch = DeadManSwitch(
        SwitchSettings(3.0, "process", "off", "t", "panic", None), watchdog, None, broken
    )

    async def strategy() -> None:
        async with switch:
            raise KeyError("the strategy's")

    with pytest.raises(KeyError, match="the strategy's"):
        await strategy()
    # No panic here: the watchdog is left armed to run it, as if this process had died.
    assert watchdog.times("disarm") == []
    assert len(watchdog.times("let_go")) == 1


async def test_cancelled_again_during_its_panic_the_switch_leaves_the_watchdog_armed() -> None:
    # A forced shutdown (Ctrl-C twice) may end the process before the panic here is done.
    watchdog, panics = FakeWatchdog(), Panics()

    async def strategy() -> None:
        async with _switch(watchdog, panics):
            await asyncio.sleep(10)

    task = asyncio.ensure_future(strategy())
    await asyncio.sleep(1.2)
    task.cancel()
    await asyncio.sleep(0.1)  # the panic runs (0.5 s)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(panics.started) == 1
    assert watchdog.times("disarm") == []
    assert len(watchdog.times("let_go")) == 1
