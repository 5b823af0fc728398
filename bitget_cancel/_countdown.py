"""Bitget's own dead man's switch for a unified trading account: ``countdown-cancel-all``,
armed when a switch starts, refreshed at its beats within the endpoint's 1/s budget, set to
"0" when it ends. Classic accounts have nothing to arm.

Best effort by design: the watchdog is the switch's guarantee, the exchange's countdown a
second line that still works when the whole host is gone. A refusal (the account was not
granted the endpoint) is logged once and leaves it unarmed, never raises.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from ._classify import Verdict
from ._exceptions import CallStopped, TransportError
from ._log import log
from ._policy import CallScope, Deadline
from ._probe import probe_account
from ._session import CallStats, ExchangeSession
from ._wire import ANY_CODEC
from ._wire_v3 import COUNTDOWN_OFF, V3_COUNTDOWN, countdown_seconds, encode_countdown

# Worth asking again at the next beat: the exchange may answer then.
_TRANSIENT = frozenset({Verdict.RETRY, Verdict.THROTTLED, Verdict.RESYNC_CLOCK})
_SEND_GRACE = 1.5  # on top of the request timeout: a slot of a 1/s budget comes within 1 s


class ExchangeCountdown:
    """The countdown of one switch. ``state`` says what the exchange last agreed to."""

    def __init__(self, session: ExchangeSession, timeout: float) -> None:
        self._session = session
        self.seconds = countdown_seconds(timeout)
        self.armed = False
        self.refused: str | None = None  # why the exchange will not arm it
        self._in_flight: asyncio.Task[Verdict | None] | None = None

    @property
    def state(self) -> str:
        if self.refused is not None:
            return f"refused: {self.refused}"
        return f"armed ({self.seconds} s)" if self.armed else "not armed (yet)"

    async def arm(self) -> None:
        await self._set(str(self.seconds), wait=True)

    def refresh(self) -> None:
        """At a beat: send the countdown again if its budget has a slot now and none is in
        flight; never waits (a beat is never held up by the exchange)."""
        if self.refused is not None or (self._in_flight and not self._in_flight.done()):
            return
        self._in_flight = self._session.loop.create_task(
            self._set(str(self.seconds), wait=False), name="bitget-cancel-countdown"
        )

    async def disarm(self) -> None:
        """ "0": nothing fires after a clean exit. Waits for a refresh in flight first."""
        task = self._in_flight
        if task is not None and not task.done():
            with contextlib.suppress(Exception):
                await task
        if not self.armed:
            return
        if await self._set(COUNTDOWN_OFF, wait=True) is Verdict.OK:
            self.armed = False
        else:
            log.warning(
                "the exchange's countdown could not be disarmed: it may still cancel every "
                "order of the account within %d s",
                self.seconds,
            )

    async def _set(self, value: str, *, wait: bool) -> Verdict | None:
        session = self._session
        scope = CallScope(Deadline(session.request_timeout + _SEND_GRACE, session.loop))
        try:
            if wait:
                slot = await session.slot(V3_COUNTDOWN, scope)
            else:
                found = session.budget(V3_COUNTDOWN).try_acquire()
                if found is None:
                    return None  # the budget's second is not over: the next beat sends it
                slot = found
            reply = await session.send(
                V3_COUNTDOWN, ANY_CODEC, scope, CallStats(), slot, body=encode_countdown(value)
            )
        except (TransportError, CallStopped) as exc:
            log.debug("countdown-cancel-all: no answer: %s", exc)
            return None
        if value == COUNTDOWN_OFF:
            return reply.verdict
        if reply.verdict is Verdict.OK:
            self.armed = True
        elif reply.verdict not in _TRANSIENT:
            # ``armed`` stays as it was: a countdown the exchange took before still runs out
            # (and a refused "0" at the end is warned about), whatever it answers now.
            self.refused = f"code {reply.code}: {reply.msg}"
            log.warning(
                "the exchange refused its countdown-cancel-all (%s); the switch goes on with "
                "its watchdog only%s",
                self.refused,
                f"; the countdown armed before may still cancel every order of the account "
                f"within {self.seconds} s"
                if self.armed
                else "",
            )
        return reply.verdict


async def exchange_countdown(
    session_here: Callable[[], ExchangeSession], timeout: float
) -> ExchangeCountdown | str:
    """The armed countdown of a UTA, or why there is none (a classic account, an unknown one)."""
    session = session_here()
    if session.account == "auto":
        await session.clock.resync(session.read_server_time)  # the probe is signed
        await probe_account(session)
    if session.account_type == "classic":
        return "classic account: the exchange has no countdown to arm"
    if session.account_type != "uta":
        return "account type unknown (no answer to the probe): no countdown armed"
    countdown = ExchangeCountdown(session, timeout)
    await countdown.arm()
    return countdown
