"""One ``cancel()`` call: plan -> send -> classify -> re-plan what is retryable -> report.

Batches are bound to rate slots as late as possible: a request's orders are chosen when its slot
is granted, and orders waiting for a retry are planned afresh together, so a retry never costs
more requests than it must. Every distinct wire entry (``_Unit``) is in exactly one place at any
time: queued, in flight, waiting for a retry, or final.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ._errors import (
    CREDENTIAL_CODES,
    SUCCESS_CODE,
    RequestTimeout,
    TransportError,
    Verdict,
    classify_code,
    classify_http_status,
)
from ._models import CancelOutcome, CancelReport, CancelStatus, CancelTarget
from ._plan import Batch, Mode, WireKey, plan_batches, wire_key
from ._transport import HttpResponse
from ._wire import BATCH_CANCEL_PATH, CancelAnswer, OrderItem, decode_cancel, decode_envelope, text

if TYPE_CHECKING:
    from ._engine import CancelEngine
    from ._limit import RateBudget

log = logging.getLogger("bitget_cancel")

# progress(done, total): distinct orders with a final outcome, distinct orders known so far.
Progress = Callable[[int, int], None]

# Where a unit is; used for the message of whatever the deadline leaves unresolved.
_QUEUED, _IN_FLIGHT, _WAITING, _FINAL = range(4)


class _Unit:
    """One order as the exchange sees it; every target naming it shares its outcome."""

    __slots__ = ("attempts", "code", "due", "msg", "place", "status", "target")

    def __init__(self, target: CancelTarget) -> None:
        self.target = target
        self.attempts = 0
        self.place = _QUEUED
        self.status: CancelStatus | None = None
        self.code: str | None = None
        self.msg: str | None = None
        self.due = 0.0


class CancelRun:
    """The state of one cancel call. Use once: ``await CancelRun(...).execute()``."""

    def __init__(
        self,
        engine: CancelEngine,
        targets: Sequence[CancelTarget],
        mode: Mode,
        deadline: float | None,
        progress: Progress | None = None,
    ) -> None:
        self._engine = engine
        self._progress = progress
        self._done = 0
        self._mode = mode
        self._deadline = deadline
        self._loop = asyncio.get_running_loop()
        self._started = self._loop.time()
        self._deadline_at = None if deadline is None else self._started + deadline
        # One dict dedupes (first-seen order) and is the seen-set of feed(): one hash a target.
        self._seen: dict[CancelTarget, None] = dict.fromkeys(targets)
        self._targets = list(self._seen)  # distinct, first-seen order
        self._units: dict[WireKey, _Unit] = {}
        # The unit of each of _targets (same index), and each unit by id() of its own target:
        # batches carry those very objects, so no wire key is rebuilt per request or report.
        self._target_units: list[_Unit] = []
        self._unit_of: dict[int, _Unit] = {}
        self._index(self._targets)
        self._waiting: list[_Unit] = []
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._feed_open = False
        self._rng: random.Random = engine._rng
        self.requests = 0
        self.throttled = 0
        # (code, msg) once the exchange refused the account's credentials: nothing more is sent.
        self._refused: tuple[str, str] | None = None
        self._refusal = asyncio.Event()

    # -- the loop ----------------------------------------------------------------------------

    # -- feeding a run that is already going (the panic streams listed orders in) ------------

    def open_feed(self) -> None:
        """Keep the run alive for ``feed()`` until ``close_feed()``. Call before ``execute()``."""
        self._feed_open = True

    def feed(self, targets: Sequence[CancelTarget]) -> None:
        """Add targets to a running call; they are planned with whatever is due next."""
        now = self._loop.time()
        new = []
        for target in targets:
            if target in self._seen:
                continue
            self._seen[target] = None
            new.append(target)
        self._targets.extend(new)
        for unit in self._index(new):
            unit.place, unit.due = _WAITING, now
            self._waiting.append(unit)
        self._report_progress()
        self._wake.set()

    def _index(self, targets: Sequence[CancelTarget]) -> list[_Unit]:
        """Index distinct targets just added to _targets; the units of orders new to the run."""
        units, unit_of, target_units = self._units, self._unit_of, self._target_units
        fresh = []
        for target in targets:
            order_id = target.order_id
            # wire_key(target), inlined for the usual target, one named by orderId
            key = (True, target.symbol, order_id) if order_id is not None else wire_key(target)
            unit = units.get(key)
            if unit is None:
                unit = units[key] = _Unit(target)
                unit_of[id(target)] = unit
                fresh.append(unit)
            target_units.append(unit)
        return fresh

    @property
    def feed_is_open(self) -> bool:
        return self._feed_open

    def fed_targets(self) -> list[CancelTarget]:
        """Every distinct target of this run so far, in first-seen order."""
        return self._targets

    def close_feed(self) -> None:
        self._feed_open = False
        self._wake.set()

    def outcome_of(self, target: CancelTarget) -> CancelOutcome | None:
        """The outcome of a target once final (None while it is still being worked on)."""
        unit = self._units.get(wire_key(target))
        if unit is None or unit.status is None:
            return None
        return CancelOutcome(target, unit.status, unit.code, unit.msg, unit.attempts)

    # -- the loop ----------------------------------------------------------------------------

    async def execute(self) -> CancelReport:
        budget = self._engine._cancel_budget()
        ready: deque[Batch] = deque(
            plan_batches((u.target for u in self._units.values()), self._mode)
        )
        try:
            while True:
                now = self._loop.time()
                if self._deadline_at is not None and now >= self._deadline_at:
                    break
                if self._refused is not None:
                    break
                if not ready and not any(u.due <= now for u in self._waiting):
                    if not self._in_flight and not self._waiting and not self._feed_open:
                        break
                    await self._sleep_until_something(now)
                    continue
                if not await self._acquire(budget):
                    break
                # Bind orders to the slot only now that it is granted: whatever became due
                # while waiting for it rides in the same request.
                if not ready:
                    ready.extend(self._plan_due(self._loop.time()))
                if not ready:
                    budget.give_back()
                    continue
                self._launch(ready.popleft())
            await self._drain_in_flight()
        finally:
            # Cancelled from outside (or any bug): in-flight tasks must not outlive the call.
            for task in self._in_flight:
                task.cancel()
        return self._report()

    async def _acquire(self, budget: RateBudget) -> bool:
        """A slot of the budget; False at the deadline or once the credentials are refused."""
        if budget.poll(self._loop.time()) > 0.0:
            # A wait ahead: a refusal of the credentials must end it, not the next free slot.
            acquiring = self._loop.create_task(budget.acquire(self._deadline_at))
            refusal = self._loop.create_task(self._refusal.wait())
            try:
                await asyncio.wait((acquiring, refusal), return_when=asyncio.FIRST_COMPLETED)
            finally:
                refusal.cancel()
                if not acquiring.done():
                    acquiring.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await acquiring
            granted = not acquiring.cancelled() and acquiring.result()
        else:
            granted = await budget.acquire(self._deadline_at)
        if granted and self._refused is not None:
            budget.give_back()
            return False
        return granted

    def _plan_due(self, now: float) -> list[Batch]:
        if not any(u.due <= now for u in self._waiting):
            return []
        # Orders due a moment later ride along: a few ms early costs nothing, a request does.
        horizon = now + self._engine.backoff_base / 2
        due = [u for u in self._waiting if u.due <= horizon]
        self._waiting = [u for u in self._waiting if u.due > horizon]
        for unit in due:
            unit.place = _QUEUED
        return plan_batches((u.target for u in due), self._mode)

    async def _sleep_until_something(self, now: float) -> None:
        wake_at = min((u.due for u in self._waiting), default=None)
        if self._deadline_at is not None:
            wake_at = self._deadline_at if wake_at is None else min(wake_at, self._deadline_at)
        self._wake.clear()
        if wake_at is None:
            await self._wake.wait()
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, wake_at - now))

    def _launch(self, batch: Batch) -> None:
        task = self._loop.create_task(self._send(batch))
        self._in_flight.add(task)
        task.add_done_callback(self._landed)

    def _landed(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("internal error while sending a batch", exc_info=task.exception())

    async def _drain_in_flight(self) -> None:
        """In-flight answers are still taken, until the deadline if there is one."""
        if not self._in_flight:
            return
        timeout = None
        if self._deadline_at is not None:
            timeout = max(0.0, self._deadline_at - self._loop.time())
        await asyncio.wait(set(self._in_flight), timeout=timeout)

    # -- one request -------------------------------------------------------------------------

    async def _send(self, batch: Batch) -> None:
        engine = self._engine
        unit_of = self._unit_of
        # Batches are planned from the units' own targets, so id() finds them.
        units = [unit_of.get(id(t)) or self._units[wire_key(t)] for t in batch.targets]
        for unit in units:
            unit.attempts += 1
            unit.place = _IN_FLIGHT
        timeout = engine.request_timeout
        if self._deadline_at is not None:
            timeout = max(0.001, min(timeout, self._deadline_at - self._loop.time()))
        sent_at = self._loop.time()
        throttled = False
        response: HttpResponse | None = None
        failure: str | None = None
        self.requests += 1
        try:
            response = await engine._post_signed(BATCH_CANCEL_PATH, engine._encode(batch), timeout)
            throttled = response.status == 429
        except RequestTimeout as exc:
            failure = f"timeout: {exc} (the exchange may have cancelled; asking again)"
        except TransportError as exc:
            failure = f"network: {exc}"
        finally:
            # Also on cancellation: the slot is given back as of now, which is when the request
            # can no longer arrive, so the window stays exact.
            engine._cancel_budget().release_now(throttled=throttled)
        latency_ms = (self._loop.time() - sent_at) * 1000
        if response is None:
            log.debug(
                "batch-cancel n=%d mode=%s failed after %.1fms: %s",
                len(units),
                batch.batch_mode,
                latency_ms,
                failure,
            )
            self._retry_or_give_up(units, None, failure or "no answer")
            return
        log.debug(
            "batch-cancel n=%d mode=%s status=%d latency=%.1fms",
            len(units),
            batch.batch_mode,
            response.status,
            latency_ms,
        )
        if throttled:
            self.throttled += 1
        await self._apply(batch, units, response)

    async def _apply(self, batch: Batch, units: list[_Unit], response: HttpResponse) -> None:
        answer = decode_cancel(response.body) if response.status == 200 else None
        if answer is not None and text(answer.code) == SUCCESS_CODE and answer.data is not None:
            self._apply_items(batch, units, answer)
            return
        code, msg = self._whole_request_error(response, answer)
        verdict = classify_code(code, msg) if code else classify_http_status(response.status)
        if (
            verdict is Verdict.FAIL
            and not 200 <= response.status < 300
            and classify_http_status(response.status) is Verdict.RETRY
        ):
            # 5xx and 429 are the server's trouble, whatever code they carry. (Not a 2xx: there
            # a refusal code in a readable body means what it says.)
            verdict = Verdict.RETRY
        if verdict is Verdict.NOT_OPEN:
            # A request-level "does not exist" is ambiguous for a batch; ask per order again.
            verdict = Verdict.RETRY
        if verdict is Verdict.RESYNC_CLOCK or verdict is Verdict.RETRY:
            log.debug(
                "batch-cancel HTTP %d code=%s msg=%s: %s %d orders",
                response.status,
                code,
                msg,
                "clock resync, then retry" if verdict is Verdict.RESYNC_CLOCK else "will retry",
                len(units),
            )
        if verdict is Verdict.RESYNC_CLOCK:
            await self._engine.resync_clock()
            self._retry_or_give_up(units, code, msg, backoff=False)
        elif verdict is Verdict.RETRY:
            self._retry_or_give_up(units, code, msg)
        else:
            log.warning("batch-cancel refused: code=%s msg=%s (%d orders)", code, msg, len(units))
            if code in CREDENTIAL_CODES and self._refused is None:
                self._refused = (code, msg)
                self._refusal.set()
                self._wake.set()
            for unit in units:
                self._finish(unit, CancelStatus.FAILED, code, msg)

    @staticmethod
    def _whole_request_error(
        response: HttpResponse, answer: CancelAnswer | None
    ) -> tuple[str | None, str]:
        if answer is not None:
            code, msg = text(answer.code), text(answer.msg)
        else:
            envelope = decode_envelope(response.body)
            code = text(envelope.code) if envelope is not None else None
            msg = text(envelope.msg) if envelope is not None else None
        if code == SUCCESS_CODE:
            code = None  # "success" without the data it promises: a garbled answer
            msg = "success code but no usable data (null or not the documented shape)"
        if msg is None:
            kind = "JSON" if response.body[:1] == b"{" else "HTML/garbled"
            size = len(response.body)
            msg = f"HTTP {response.status} with an unusable {kind} body ({size} bytes)"
        if code is None and response.status != 200:
            code = str(response.status) if response.status == 429 else None
        return code, msg

    def _apply_items(self, batch: Batch, units: list[_Unit], answer: CancelAnswer) -> None:
        assert answer.data is not None
        by_id: dict[str, _Unit] = {}
        by_client_oid: dict[str, _Unit | None] = {}  # None: ambiguous, never matched by it
        for member in units:
            target = member.target
            by_id[(target.order_id if batch.by_order_id else target.client_oid) or ""] = member
            if target.client_oid is not None:
                oid = target.client_oid
                by_client_oid[oid] = None if oid in by_client_oid else member
        by_order_id = batch.by_order_id
        decided: set[_Unit] = set()

        def match(item: OrderItem) -> _Unit | None:
            raw = item.order_id
            # text(), short-cut for what the exchange normally sends: a non-empty string.
            order_id = raw if type(raw) is str and raw else text(raw)
            if order_id is not None and by_order_id:
                # An orderId that was not sent names some other order, whatever its clientOid.
                found = by_id.get(order_id)
            else:
                client_oid = text(item.client_oid)
                found = None if client_oid is None else by_client_oid.get(client_oid)
            if found is None:
                log.warning(
                    "answer item matches no order of this request (orderId=%r clientOid=%r); "
                    "ignored",
                    order_id,
                    text(item.client_oid),
                )
            elif found in decided:
                log.debug("duplicate answer item for %r ignored", found.target)
                return None
            return found

        finish, cancelled = self._finish, CancelStatus.CANCELLED
        for item in answer.data.success_list or ():
            raw = item.order_id
            # The usual item, an orderId string we sent and not seen yet, without a call;
            # match() decides (and logs) everything else.
            won = by_id.get(raw) if by_order_id and type(raw) is str and raw else None
            if won is None or won in decided:
                won = match(item)
            if won is not None:
                decided.add(won)
                finish(won, cancelled, None, None)
        for item in answer.data.failure_list or ():
            unit = match(item)
            if unit is None:
                continue
            decided.add(unit)
            code, msg = text(item.error_code), text(item.error_msg)
            verdict = classify_code(code, msg)
            if verdict is Verdict.NOT_OPEN:
                self._finish(unit, CancelStatus.NOT_OPEN, code, msg)
            elif verdict is Verdict.RETRY or verdict is Verdict.RESYNC_CLOCK:
                self._retry_or_give_up([unit], code, msg or "transient error")
            else:
                self._finish(unit, CancelStatus.FAILED, code, msg)
        silent = [u for u in units if u not in decided]
        if silent:
            log.warning("%d orders missing from the answer; asking again", len(silent))
            self._retry_or_give_up(silent, None, "the answer did not mention this order")

    # -- bookkeeping -------------------------------------------------------------------------

    def _finish(self, unit: _Unit, status: CancelStatus, code: str | None, msg: str | None) -> None:
        if unit.status is None:
            self._done += 1
            if self._progress is not None:
                self._report_progress()
        unit.status, unit.code, unit.msg, unit.place = status, code, msg, _FINAL

    def _report_progress(self) -> None:
        if self._progress is None:
            return
        try:
            self._progress(self._done, len(self._units))
        except Exception:  # a display bug must never stop a cancel
            log.exception("progress callback failed; ignoring it from now on")
            self._progress = None

    def _retry_or_give_up(
        self, units: list[_Unit], code: str | None, msg: str, *, backoff: bool = True
    ) -> None:
        engine = self._engine
        now = self._loop.time()
        for unit in units:
            unit.code, unit.msg = code, msg
            if unit.attempts >= engine.max_attempts:
                self._finish(
                    unit,
                    CancelStatus.UNRESOLVED,
                    code,
                    f"gave up after {unit.attempts} attempts; last error: {msg}",
                )
                continue
            delay = 0.0
            if backoff:
                ceiling = min(engine.backoff_cap, engine.backoff_base * 2 ** (unit.attempts - 1))
                delay = ceiling / 2 + self._rng.random() * ceiling / 2
            unit.due = now + delay
            unit.place = _WAITING
            self._waiting.append(unit)

    def _report(self) -> CancelReport:
        # _done counts the units _finish()ed: when it is all of them, no unit is left open.
        for unit in self._units.values() if self._done < len(self._units) else ():
            if unit.status is None and self._refused is not None and unit.place != _IN_FLIGHT:
                code, msg = self._refused
                note = f"{msg} (not sent: credentials refused)"
                self._finish(unit, CancelStatus.FAILED, code, note)
            elif unit.status is None:
                unit.status = CancelStatus.UNRESOLVED
                unit.msg = self._unresolved_reason(unit)
        outcomes: list[CancelOutcome] = []
        append, outcome = outcomes.append, CancelOutcome
        for target, unit in zip(self._targets, self._target_units, strict=True):
            assert unit.status is not None
            append(outcome(target, unit.status, unit.code, unit.msg, unit.attempts))
        return CancelReport(
            outcomes,
            requests=self.requests,
            elapsed=self._loop.time() - self._started,
            throttled=self.throttled,
        )

    def _unresolved_reason(self, unit: _Unit) -> str:
        why = (
            f"deadline of {self._deadline:g}s passed"
            if self._deadline_at is not None and self._loop.time() >= self._deadline_at
            else "the call was interrupted"
        )
        if unit.place == _IN_FLIGHT:
            return f"{why} while waiting for the answer (the cancel may have happened)"
        last = f"; last error: {unit.msg}" if unit.msg else ""
        if unit.attempts:
            return f"{why} before a retry could be sent{last}"
        return f"{why} before it could be sent"
