"""The dead man's switch: while a strategy runs inside ``async with engine.dead_man_switch()``,
its event loop beats every ``timeout / 3``; a watchdog outside the process (a child process,
or one on any host through Redis) runs the panic when the beats stop, and on a unified
account the exchange's own countdown is armed too.

This module is the switch's clock and bookkeeping only: the engine hands it the watchdog, the
exchange's countdown and the panic to start, so it sits below the engine and knows neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from ._countdown import ExchangeCountdown
from ._exceptions import InvalidArgument
from ._log import log

WATCHDOGS = ("process", "redis", None)
EXCHANGE_MODES = ("auto", "off")
ON_ERROR = ("panic", "disarm")
# Small enough for tests (1-2 s); in production 10 s or more leaves room for a loaded host.
MIN_TIMEOUT = 1.0
BEATS_PER_TIMEOUT = 3


class Watchdog(Protocol):
    """What watches the beats from outside the process."""

    kind: str

    @property
    def pid(self) -> int | None:
        """The watchdog's process id when it is a child of this one."""

    @property
    def problem(self) -> str | None:
        """Why the watchdog cannot be relied on right now (None: it is watching)."""

    async def start(self) -> None:
        """Watching from now on, or ``WatchdogFailed``."""

    async def beat(self) -> bool:
        """One beat; False when it did not reach the watchdog."""

    async def disarm(self) -> None:
        """Stop watching, nothing left behind; never raises."""

    async def let_go(self) -> None:
        """Stop beating without a disarm: the watchdog runs the panic this process could not
        (and is waited for when it is our child); never raises."""


@dataclass(frozen=True, slots=True)
class SwitchSettings:
    timeout: float
    watchdog: str | None
    exchange: str
    name: str
    on_error: str
    report_path: str | None


def check_switch(
    timeout: object,
    watchdog: object,
    exchange: object,
    name: object,
    on_error: object,
    report_path: object,
) -> SwitchSettings:
    """The switch's arguments, checked before anything starts (``InvalidArgument``)."""
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout < MIN_TIMEOUT
    ):
        raise InvalidArgument(f"timeout must be seconds >= {MIN_TIMEOUT:g}; got {timeout!r}")
    if watchdog not in WATCHDOGS:
        raise InvalidArgument(f"watchdog must be 'process', 'redis' or None; got {watchdog!r}")
    if exchange not in EXCHANGE_MODES:
        raise InvalidArgument(f"exchange must be 'auto' or 'off'; got {exchange!r}")
    if watchdog is None and exchange == "off":
        raise InvalidArgument("watchdog=None with exchange='off' leaves nothing to watch")
    if not isinstance(name, str) or not name or not name.isprintable() or len(name) > 100:
        raise InvalidArgument(f"name must be a short printable string; got {name!r}")
    if on_error not in ON_ERROR:
        raise InvalidArgument(f"on_error must be 'panic' or 'disarm'; got {on_error!r}")
    if report_path is not None and watchdog != "process":
        raise InvalidArgument(
            "report_path is written by the process watchdog; with watchdog='redis' give "
            "--report to bitget-cancel watchdog"
        )
    if report_path is not None and not isinstance(report_path, str):
        report_path = getattr(report_path, "__fspath__", lambda: None)()
        if not isinstance(report_path, str):
            raise InvalidArgument("report_path must be None or a path")
    return SwitchSettings(float(timeout), watchdog, exchange, name, on_error, report_path)


@dataclass(frozen=True, slots=True)
class SwitchStatus:
    """A snapshot of a switch.

    ``state``: "arming", "armed", "tripped" (a beat came later than ``timeout``: the loop was
    blocked; the watchdog has run the panic and so does this process), "panicked" (left by an
    exception), "disarmed". ``exchange``: what the exchange's countdown is doing ("armed
    (10 s)", "refused: ...", "classic account: ...", "off").
    """

    name: str
    state: str
    watchdog: str | None
    watchdog_problem: str | None
    watchdog_pid: int | None  # the watchdog child's process id (watchdog="process")
    exchange: str
    exchange_armed: bool
    last_beat: float | None  # wall-clock time of the last beat sent
    beats_sent: int
    beats_failed: int
    beats_missed: int


class DeadManSwitch:
    """``async with engine.dead_man_switch(...) as switch:`` (see ``CancelEngine``)."""

    def __init__(
        self,
        settings: SwitchSettings,
        watchdog: Watchdog | None,
        countdown: Callable[[], Awaitable[ExchangeCountdown | str]] | None,
        start_panic: Callable[[], asyncio.Future[Any]],
    ) -> None:
        self.settings = settings
        self._watchdog = watchdog
        self._countdown_factory = countdown
        self._countdown: ExchangeCountdown | None = None
        self._exchange_note = "off" if countdown is None else "not armed (yet)"
        self._start_panic = start_panic
        self._state = "new"
        self._beat_task: asyncio.Task[None] | None = None
        self._last_beat_at = 0.0  # loop time
        self._last_beat_wall: float | None = None
        self._sent = self._failed = self._missed = 0

    @property
    def timeout(self) -> float:
        """Seconds without a beat after which the watchdog runs the panic."""
        return self.settings.timeout

    @property
    def exchange_armed(self) -> bool:
        """True while the exchange's countdown-cancel-all is armed for this switch."""
        return self._countdown is not None and self._countdown.armed

    @property
    def status(self) -> SwitchStatus:
        """A snapshot: state, watchdog, the exchange's countdown, beats sent, failed, missed."""
        watchdog = self._watchdog
        exchange = self._countdown.state if self._countdown is not None else self._exchange_note
        return SwitchStatus(
            name=self.settings.name,
            state=self._state,
            watchdog=self.settings.watchdog,
            watchdog_problem=None if watchdog is None else watchdog.problem,
            watchdog_pid=None if watchdog is None else watchdog.pid,
            exchange=exchange,
            exchange_armed=self.exchange_armed,
            last_beat=self._last_beat_wall,
            beats_sent=self._sent,
            beats_failed=self._failed,
            beats_missed=self._missed,
        )

    def __repr__(self) -> str:
        s = self.status
        return (
            f"DeadManSwitch(name={s.name!r}, state={s.state!r}, timeout={self.timeout:g}, "
            f"watchdog={s.watchdog!r}, exchange={s.exchange!r})"
        )

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> DeadManSwitch:
        if self._state != "new":
            raise InvalidArgument("a dead man's switch is entered once; make a new one")
        self._state = "arming"
        loop = asyncio.get_running_loop()
        try:
            if self._countdown_factory is not None:
                found = await self._countdown_factory()
                if isinstance(found, str):
                    self._exchange_note = found
                else:
                    self._countdown = found
            if self._watchdog is not None:
                await self._watchdog.start()
        except BaseException:
            await self._disarm()
            self._state = "disarmed"
            raise
        if self._watchdog is None and self._countdown is None:
            log.warning(
                "dead man's switch %r: nothing watches it (no watchdog, and %s)",
                self.settings.name,
                self._exchange_note,
            )
        self._note_beat(loop)
        self._state = "armed"
        self._beat_task = loop.create_task(self._beats(), name="bitget-cancel-switch-beats")
        log.info("dead man's switch %r armed: %s", self.settings.name, self.status)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        failed = exc_type is not None and not _clean_exit(exc)
        handed_over = False
        if failed and self.settings.on_error == "panic" and self._state == "armed":
            self._state = "panicked"
            log.warning(
                "leaving the dead man's switch %r by %s: panic cancel",
                self.settings.name,
                exc_type.__name__ if exc_type else "?",
            )
            # Beats go on while the panic runs: the watchdog stays armed should we die now.
            try:
                await asyncio.shield(self._start_panic())
            except asyncio.CancelledError:
                # Cancelled again (a forced shutdown): the panic task carries on, shielded,
                # and the watchdog stays armed should this process end before it is done.
                handed_over = True
            except Exception:  # the block's own exception is the one to raise
                log.exception(
                    "dead man's switch %r: the panic failed here: left to the watchdog",
                    self.settings.name,
                )
                handed_over = True
        await self._stop_beats()
        if handed_over:  # as if this process had died: nothing disarmed
            if self._watchdog is not None:
                await self._watchdog.let_go()
        else:
            await self._disarm()
        if self._state in ("armed", "arming"):
            self._state = "disarmed"
        log.info("dead man's switch %r: %s", self.settings.name, self.status)

    async def _disarm(self) -> None:
        if self._watchdog is not None:
            await self._watchdog.disarm()
        if self._countdown is not None:
            await self._countdown.disarm()

    async def _stop_beats(self) -> None:
        task, self._beat_task = self._beat_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- beats -----------------------------------------------------------------------------

    def _note_beat(self, loop: asyncio.AbstractEventLoop) -> None:
        self._last_beat_at = loop.time()
        self._last_beat_wall = time.time()

    async def _beats(self) -> None:
        loop = asyncio.get_running_loop()
        period = self.timeout / BEATS_PER_TIMEOUT
        while True:
            asked_at = loop.time()
            delay = max(0.0, self._last_beat_at + period - asked_at)
            await asyncio.sleep(delay)
            # Only a loop that could not run us counts (a beat that waits for a slow store
            # does not): a stall past timeout - period means no beat left for a timeout.
            stalled = loop.time() - (asked_at + delay)
            if stalled > self.timeout - period:
                self._trip(loop.time() - self._last_beat_at)
                return
            await self._beat(loop)

    async def _beat(self, loop: asyncio.AbstractEventLoop) -> None:
        self._note_beat(loop)
        self._sent += 1
        if self._watchdog is not None and not await self._watchdog.beat():
            if self._failed == 0 or self._watchdog.problem:
                log.warning(
                    "dead man's switch %r: a beat did not reach the watchdog: %s",
                    self.settings.name,
                    self._watchdog.problem,
                )
            self._failed += 1
        if self._countdown is not None:
            self._countdown.refresh()

    def _trip(self, late: float) -> None:
        """The loop was blocked past the timeout: the watchdog has panicked (or is about to);
        this process stops placing orders too: the engine's panic runs here as well."""
        self._missed += 1
        self._state = "tripped"
        log.error(
            "dead man's switch %r: no beat for %.1f s (timeout %g s): the event loop was "
            "blocked; the watchdog runs the panic, and so does this process",
            self.settings.name,
            late,
            self.timeout,
        )
        self._start_panic()


def _clean_exit(exc: BaseException | None) -> bool:
    """``sys.exit(0)`` inside the block is a normal end, not a failure."""
    return isinstance(exc, SystemExit) and exc.code in (0, None)
