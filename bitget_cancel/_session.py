"""ExchangeSession: THE request path. Every request the package makes goes through ``call()``:

budget slot -> sign -> send -> classify -> release the slot -> bookkeeping (429, refused
credentials, clock)

It gives up (``CallStopped``) at the call's deadline or once the exchange refused the account's
credentials, and raises the package's transport errors (``TransportError``, ``RequestTimeout``)
when no answer came: it never invents a response. Whatever happens, including cancellation of
the caller, the slot it took is released or given back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sys
from collections import Counter
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._auth import Signer
from ._budget import Budget, BudgetProvider, FirstInLine, Slot
from ._classify import SUCCESS_CODE, Verdict, classify_answer
from ._clock import ClockSample, ExchangeClock
from ._dispatch import Crew
from ._exceptions import CallStopped, RequestTimeout, TransportError
from ._family import ApiFamily
from ._log import log
from ._log_context import endpoint_context
from ._metrics import NO_ANSWER_NETWORK, NO_ANSWER_TIMEOUT, Metrics
from ._policy import CallScope, Deadline, RetryPolicy
from ._transport import REMAINING_HEADER, HttpRequest, HttpResponse, Transport
from ._wire import SERVER_TIME_CODEC, AnswerCodec, Endpoint, server_time_ms

T = TypeVar("T")

# Added to the request timeout for the session's own guard around a transport that ignores it.
_TIMEOUT_GRACE = 0.25
# Seconds between re-warms of the connections ``warm_up()`` opened: under the idle timeouts
# that close them (aiohttp's own keep-alive of 60 s, load balancers' 60 s, nginx's 75 s).
# Bitget's own idle timeout is not documented.
KEEP_WARM = 20.0


@dataclass(frozen=True, slots=True)
class Reply(Generic[T]):
    """An answer, read and judged once."""

    status: int
    code: str | None
    msg: str
    data: T | None
    verdict: Verdict


class CallStats:
    """What one call (a cancel() or a panic) sent, by endpoint name."""

    __slots__ = ("clock_counted", "clock_resyncs", "requests", "throttled")

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.throttled = 0
        self.clock_resyncs = 0  # in a row, without an answer that was not a clock refusal
        self.clock_counted = -1  # the clock generation the last counted refusal was signed with

    @property
    def total(self) -> int:
        return sum(self.requests.values())


class ExchangeSession:
    """Signer, transport, exchange clock, budgets, retry policy and random source of an engine,
    and the one method that sends a request."""

    def __init__(
        self,
        *,
        signer: Signer,
        transport: Transport,
        clock: ExchangeClock,
        budgets: BudgetProvider,
        account_id: str,
        policy: RetryPolicy,
        rng: random.Random,
        request_timeout: float,
        families: Mapping[str, ApiFamily],
        account: str,
        rates: Mapping[str, float] | None = None,
        metrics: Metrics | None = None,
        early_reuse: bool = False,
    ) -> None:
        self.signer = signer
        self.transport = transport
        self.clock = clock
        self.budgets = budgets
        self.account_id = account_id
        self.policy = policy
        self.rng = rng
        self.request_timeout = request_timeout
        self._families = families
        # "classic" or "uta" once known; "auto" starts on classic and learns from 40084/40085.
        self.account = account
        self._fixed = account != "auto"  # the user said which: never second-guessed
        # Families a wrong-account code has refused: never adopted again by learning, so a
        # lying exchange cannot make the session flip-flop (at most two switches).
        self._refused: set[str] = set()
        self.family = families["uta" if account == "uta" else "classic"]
        self._rates = dict(rates or {})
        self.loop = asyncio.get_running_loop()
        self._keeper: asyncio.Task[None] | None = None  # re-warms the connections
        # The calls running on this session, which share requests (see _dispatch).
        self.crew: Crew[Any] = Crew()
        self.metrics = metrics if metrics is not None else Metrics()
        self._guard: AsyncGenerator[None, None] | None = None  # see close_with_loop()
        # Whether an answer's requestTime may free its slot before the answer (``_arrival``).
        self.early_reuse = early_reuse

    @property
    def families(self) -> Mapping[str, ApiFamily]:
        return self._families

    @property
    def account_type(self) -> str | None:
        """ "classic" or "uta" once known (set, probed or learnt from an answer), else None."""
        return None if self.account == "auto" else self.account

    def learn_account(self, code: str | None, answered_by: Endpoint) -> bool:
        """A wrong-account answer (40084 or 25245: a classic key on v3; 40085: a unified
        account's key on v2). Switches to the other family unless the user fixed the account
        type, also when a probe (or an earlier answer) chose the refusing family: a refusal
        re-opens the question. Bounded: a family once refused is not adopted again. True when
        the refused requests should be re-planned."""
        learnt = {"40084": "classic", "25245": "classic", "40085": "uta"}.get(code or "")
        if learnt is None or learnt not in self._families:
            return False
        if answered_by in _endpoints(self._families[learnt]):
            # The API of the family it names answered it: re-planning onto that same API
            # would hear it again, without end. It is a refusal like any other.
            return False
        refusing = next(
            (name for name, f in self._families.items() if answered_by in _endpoints(f)), None
        )
        if refusing is not None and not self._fixed:
            self._refused.add(refusing)
        if learnt in self._refused:
            log.warning(
                "code %s says %s, but that API refused this key before: not switching back",
                code,
                learnt,
            )
            return False
        return self.adopt_account(learnt, f"code {code}")

    def adopt_account(self, account: str, evidence: str, *, level: int = logging.INFO) -> bool:
        """Use the family of ``account`` ("classic" / "uta") from now on, unless the user fixed
        another one. True when the session now speaks to that account type."""
        if account not in self._families or (self._fixed and self.account != account):
            return False  # the user said otherwise: report the refusal, do not second-guess
        if self.account != account:
            log.log(level, "account type from %s: %s", evidence, account)
        self.account = account
        self.family = self._families[account]
        return True

    def rate(self, endpoint: Endpoint) -> float:
        """The endpoint's budget in requests a second (the caller's override, else the docs')."""
        return self._rates.get(endpoint.name, endpoint.rate)

    def _learn_from_success(self, endpoint: Endpoint) -> None:
        """A signed endpoint of one family answered: the account is of that family's type."""
        owners = [name for name, family in self._families.items() if endpoint in _endpoints(family)]
        if len(owners) == 1:
            # Routine (the API just worked): not worth an INFO line of its own.
            self.adopt_account(
                owners[0], f"a successful answer of {endpoint.name}", level=logging.DEBUG
            )

    def budget(self, endpoint: Endpoint) -> Budget:
        return self.budgets.budget(self.account_id, endpoint.name, self.rate(endpoint), owner=self)

    # -- the request path --------------------------------------------------------------------

    async def call(
        self,
        endpoint: Endpoint,
        codec: AnswerCodec[T],
        scope: CallScope,
        stats: CallStats,
        *,
        query: str = "",
        body: bytes = b"",
        orders: int = 0,
    ) -> Reply[T]:
        """Send one request within its budget and judge the answer.

        ``orders``: how many orders the request names (decides what a request-level "does not
        exist" means). Raises ``CallStopped`` (deadline, refused credentials) before sending,
        ``TransportError`` when no answer came.
        """
        slot = await self.slot(endpoint, scope)
        return await self.send(
            endpoint, codec, scope, stats, slot, query=query, body=body, orders=orders
        )

    async def slot(self, endpoint: Endpoint, scope: CallScope) -> Slot:
        """A slot of the endpoint's budget, for ``send()``; ``CallStopped`` if none will come.

        Separate from ``send()`` so that a caller can choose what to send once the slot is
        granted (orders that became due while it waited ride in the same request).
        """
        if scope.refusal is not None:
            raise CallStopped("credentials refused")
        if scope.interrupted:
            raise CallStopped("interrupted")
        if scope.deadline.clamp(self.request_timeout) is None:
            raise CallStopped("deadline")  # (a free slot is handed out without a wait)
        slot = await self._acquire(self.budget(endpoint), scope)
        if slot is None:
            raise CallStopped(
                "credentials refused"
                if scope.refusal
                else "interrupted"
                if scope.interrupted
                else "deadline"
            )
        return slot

    async def send(
        self,
        endpoint: Endpoint,
        codec: AnswerCodec[T],
        scope: CallScope,
        stats: CallStats,
        slot: Slot,
        *,
        query: str = "",
        body: bytes = b"",
        orders: int = 0,
    ) -> Reply[T]:
        """Send one request on a slot taken by ``slot()``; the slot ends here, on every path.

        Raises ``CallStopped`` without sending (the slot given back) when the deadline leaves
        less than a useful request timeout."""
        with endpoint_context(endpoint.name):  # log records of this request name it
            timeout = scope.deadline.clamp(self.request_timeout)
            if timeout is None:
                slot.give_back()
                raise CallStopped("deadline")
            stats.requests[endpoint.name] += 1
            metrics, name = self.metrics, endpoint.name
            metrics.sent(name)
            clock_generation = self.clock.generation
            started = self.loop.time()
            try:
                try:
                    response = await self._send(endpoint, query, body, timeout)
                except RequestTimeout:
                    metrics.answered(name, NO_ANSWER_TIMEOUT, self.loop.time() - started)
                    # No answer, but the request may still reach the exchange and count in the
                    # window of its arrival (a queueing proxy): its slot stays taken one more
                    # request_timeout. A 429 of our own making costs minutes of penalty.
                    slot.release_later(self.request_timeout)
                    raise
                except TransportError:
                    metrics.answered(name, NO_ANSWER_NETWORK, self.loop.time() - started)
                    raise
                decoded = codec.decode(response.body)
                verdict = classify_answer(
                    response.status,
                    decoded.code,
                    decoded.msg,
                    readable=decoded.readable,
                    orders=orders,
                    garbled=decoded.code is None
                    and decoded.msg is None
                    and response.body[:1] in (b"{", b"["),
                )
                metrics.answered(name, verdict.value, self.loop.time() - started)
                slot.release(
                    throttled=verdict is Verdict.THROTTLED,
                    remaining=_remaining(response),
                    sent=self._departed(started, response),
                    request_time=decoded.request_time,
                )
            finally:
                slot.release()  # no answer, or cancelled: it may still have arrived (no-op if done)
            code, msg = decoded.code, decoded.msg or _describe(response)
            if code == SUCCESS_CODE and verdict is not Verdict.OK:
                code, msg = (
                    None,
                    "success code but no usable data (null or not the documented shape)",
                )
            # Only a cancel (a write) that worked is evidence: a classic key may read v3
            # listings, so a successful read proves nothing (issue 19).
            if verdict is Verdict.OK and self.account == "auto" and endpoint.method == "POST":
                self._learn_from_success(endpoint)
            if verdict is Verdict.THROTTLED:
                stats.throttled += 1
            elif verdict is Verdict.CREDENTIALS:
                scope.refuse(code or str(response.status), msg)
                log.warning("%s: credentials refused (code=%s, %s)", endpoint.name, code, msg)
            if verdict is Verdict.RESYNC_CLOCK and clock_generation < self.clock.generation:
                pass  # signed before the latest resync: just send it again with the new offset
            elif verdict is Verdict.RESYNC_CLOCK:
                # Answers signed with the same offset are one failure of that offset, however many.
                if stats.clock_counted != clock_generation:
                    stats.clock_counted = clock_generation
                    stats.clock_resyncs += 1
                if stats.clock_resyncs > self.policy.max_clock_resyncs:
                    verdict = Verdict.FAIL
                    msg = (
                        f"{msg} (the clock still disagrees after {stats.clock_resyncs - 1} resyncs)"
                    )
                else:
                    await self.clock.resync(self.read_server_time)
            else:
                stats.clock_resyncs = 0
            return Reply(response.status, code, msg, decoded.data, verdict)

    def _departed(self, started: float, response: HttpResponse) -> float | None:
        """When the request left, for the early reuse of its slot (``_arrival``); None (its
        slot counts from its answer) when early reuse is off or the request opened its
        connection: a handshake lengthens that request's way up, and samples all taken on
        new connections (a cold burst) would let requests on warm ones arrive before the
        window has room. A wait for a pooled connection is not part of the way up either."""
        if not self.early_reuse or response.fresh:
            return None
        return started if response.sent is None else max(started, response.sent)

    async def _acquire(self, budget: Budget, scope: CallScope) -> Slot | None:
        """A slot, or None at the deadline or once the credentials are refused. A slot granted
        to a caller that is no longer there is given back: nothing leaks."""
        slot = budget.try_acquire()
        if slot is not None:
            return slot  # free now: no wait to abort
        waiting_since = self.loop.time()
        send_by = scope.deadline.send_by
        if scope.first and isinstance(budget, FirstInLine):
            acquiring = asyncio.ensure_future(budget.acquire_first(send_by))
        else:
            acquiring = asyncio.ensure_future(budget.acquire(send_by))
        stopped = asyncio.ensure_future(scope.stopped.wait())
        # The deadline holds here too, whatever the store does with it: a store that checks
        # it only at the caller's turn must not keep the caller past it.
        timeout = None if send_by is None else max(0.0, send_by - self.loop.time())
        try:
            await asyncio.wait(
                (acquiring, stopped), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except BaseException:
            _abandon(acquiring)
            raise
        finally:
            stopped.cancel()
        if scope.refusal is not None or scope.interrupted or not acquiring.done():
            _abandon(acquiring)
            return None
        granted: Slot | None = acquiring.result()
        if granted is not None:
            self.metrics.waited(self.loop.time() - waiting_since)
        return granted

    async def _send(
        self, endpoint: Endpoint, query: str, body: bytes, timeout: float
    ) -> HttpResponse:
        if endpoint.signed:
            headers = self.signer.headers(
                self.clock.timestamp_ms(), endpoint.method, endpoint.path, query, body
            )
        else:
            headers = {"locale": "en-US"}
        request = HttpRequest(endpoint.method, endpoint.path, query, body, headers, timeout)
        limit = timeout + _TIMEOUT_GRACE
        try:
            if sys.version_info >= (3, 11):
                # asyncio.timeout guards in place; wait_for would cost a task per request.
                async with asyncio.timeout(limit):
                    return await self.transport.send(request)
            return await asyncio.wait_for(self.transport.send(request), limit)
        except asyncio.TimeoutError as exc:
            raise RequestTimeout(f"no answer within {timeout:g}s") from exc

    # -- the exchange's clock ----------------------------------------------------------------

    async def read_server_time(self) -> ClockSample:
        """(round trip, offset) from one read of the exchange's clock, or None."""
        scope = CallScope(Deadline(None, self.loop))
        endpoint = self.family.server_time
        before = self.clock.now()
        try:
            reply = await self.call(endpoint, SERVER_TIME_CODEC, scope, CallStats())
        except TransportError as exc:
            log.debug("server time: %s", exc)
            return None
        after = self.clock.now()
        server_ms = None
        if reply.verdict is Verdict.OK and reply.data is not None:
            server_ms = server_time_ms(reply.data)
        if server_ms is None:
            log.debug("server time: unusable answer (HTTP %d)", reply.status)
            return None
        return after - before, server_ms / 1000 - (before + after) / 2

    async def warm_up(self, connections: int) -> bool:
        """Open ``connections`` kept-alive connections and measure the exchange's clock."""
        samples = await asyncio.gather(*(self.read_server_time() for _ in range(connections)))
        return self.clock.adopt_best(list(samples))

    def keep_warm(self, connections: int, every: float | None) -> None:
        """Re-warm ``connections`` every ``every`` seconds until ``close()`` (None: stop): a
        server closes idle connections, and a panic long after ``warm_up()`` would pay the
        handshakes again in its first burst. A re-warm is ``warm_up()`` again: that many reads
        of the exchange's clock at once, within its budget, each on a pooled connection."""
        if self._keeper is not None:
            self._keeper.cancel()
        self._keeper = None
        if every is not None:
            self._keeper = self.loop.create_task(self._rewarm(connections, every))

    async def _rewarm(self, connections: int, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            if not await self.warm_up(connections):
                log.debug("re-warm: no answer")

    async def close(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
        self.budgets.forget(self)  # a closed engine's rate no longer binds the others
        await self.transport.close()

    def close_with_loop(self) -> None:
        """Close the transport when the event loop shuts down (the end of ``asyncio.run``), in
        case nobody closes the engine in this loop: an engine reused under a second
        ``asyncio.run`` must not leave the first loop's connections open. A started async
        generator is what a loop finalizes at its end (``shutdown_asyncgens``)."""
        guard = _close_at_loop_end(self)
        with contextlib.suppress(StopIteration):
            guard.asend(None).send(None)  # runs to its yield: the loop now tracks it
        self._guard = guard  # the loop holds it weakly


async def _close_at_loop_end(session: ExchangeSession) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await session.close()  # (idempotent: the engine may have closed it already)


def _endpoints(family: ApiFamily) -> set[Endpoint]:
    return {
        *(route.endpoint for route in family.cancel.values()),
        *(lister.endpoint for lister in family.listing.values()),
        *(bulk.endpoint for bulk in family.bulk.values()),
        family.server_time,
    }


def _abandon(acquiring: asyncio.Future[Any]) -> None:
    """Stop waiting for a slot; if one was granted all the same, give it back."""

    def give_back(task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and task.exception() is None and task.result() is not None:
            task.result().give_back()

    acquiring.cancel()
    acquiring.add_done_callback(give_back)


def _remaining(response: HttpResponse) -> int | None:
    value = response.headers.get(REMAINING_HEADER) if response.headers else None
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _describe(response: HttpResponse) -> str:
    kind = "JSON" if response.body[:1] in (b"{", b"[") else "HTML/garbled"
    return f"HTTP {response.status} with an unusable {kind} body ({len(response.body)} bytes)"
