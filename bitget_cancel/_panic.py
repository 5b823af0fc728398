"""Panic cancel: close every open order in scope, even while the program shuts down.

Each pass lists open orders (pages streamed straight into a running batch cancel, so cancelling
starts with the first page), sends ``cancel-symbol-order`` for symbols whose every order goes and
that have enough orders to be worth it, then lists again. Passes repeat until a complete listing
shows nothing left to close, or the deadline.

The work runs in one task owned by the engine. That task absorbs cancellation (the program
shutting down cancels every task it can find) and simply resumes with a fresh pass, so the panic
finishes or reaches its deadline whatever happens around it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ._errors import (
    SUCCESS_CODE,
    InvalidArgument,
    InvalidTarget,
    TransportError,
    Verdict,
    classify_code,
    classify_http_status,
)
from ._limit import RateBudget, shared_budget
from ._models import CancelOutcome, CancelReport, CancelStatus, CancelTarget
from ._run import CancelRun, Progress
from ._transport import HttpResponse
from ._wire import (
    SYMBOL_CANCEL_PATH,
    UNFILLED_ORDERS_PATH,
    decode_envelope,
    decode_unfilled,
    encode_json,
    text,
)

if TYPE_CHECKING:
    from ._engine import CancelEngine

log = logging.getLogger("bitget_cancel")

LIST_RATE = 20.0  # req/s of unfilled-orders
SYMBOL_CANCEL_RATE = 5.0  # req/s of cancel-symbol-order
PAGE_SIZE = 100
# A symbol goes to cancel-symbol-order once this many of its orders are listed: one request of
# the 5/s lane then saves at least one full request of the 10/s batch lane.
SYMBOL_CANCEL_THRESHOLD = 50
# cancel-symbol-order works asynchronously on the exchange: how long its orders may still be
# listed before we stop waiting and cancel them one by one.
SYMBOL_CANCEL_SETTLE = 2.0
SETTLE_POLL = 0.1
MAX_PASSES = 50

OrderKey = tuple[str, str]  # (symbol, orderId)


@dataclass(frozen=True, slots=True, repr=False)
class PanicReport(CancelReport):
    """A CancelReport (one outcome per order touched) plus what the panic saw and spent.

    ``requests`` counts every HTTP request: batch cancels, symbol cancels and listings.
    """

    # The last complete listing showed no open order in scope (the whole account when the panic
    # was called without symbols).
    account_empty: bool = False
    passes: int = 0
    cancel_requests: int = 0
    symbol_cancels: int = 0
    list_requests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            **CancelReport.to_dict(self),
            "accountEmpty": self.account_empty,
            "passes": self.passes,
            "cancelRequests": self.cancel_requests,
            "symbolCancels": self.symbol_cancels,
            "listRequests": self.list_requests,
        }

    def __repr__(self) -> str:
        return (
            CancelReport.__repr__(self).replace("CancelReport(", "PanicReport(", 1)[:-1]
            + f", account_empty={self.account_empty}, passes={self.passes})"
        )


class _Entry:
    """One order the panic touched: the caller's target, or a listed order."""

    __slots__ = ("by_symbol_at", "outcome", "target")

    def __init__(self, target: CancelTarget) -> None:
        self.target = target
        self.outcome: CancelOutcome | None = None
        self.by_symbol_at: float | None = None  # when a cancel-symbol-order covered it


def check_symbols(symbols: object) -> frozenset[str] | None:
    if symbols is None:
        return None
    if isinstance(symbols, str) or not isinstance(symbols, Iterable):
        raise InvalidArgument(f"symbols must be None or an iterable of names; got {symbols!r}")
    checked = []
    for symbol in symbols:
        if not isinstance(symbol, str) or not symbol.strip() or symbol.strip() != symbol:
            raise InvalidArgument(f"symbols must be non-empty names; got {symbol!r}")
        checked.append(symbol)
    return frozenset(checked)


class Panic:
    """The state of one panic; resumable, so a cancelled pass is followed by a fresh one."""

    def __init__(
        self,
        engine: CancelEngine,
        symbols: frozenset[str] | None,
        targets: Sequence[CancelTarget],
        deadline: float | None,
        use_symbol_cancel: bool,
        progress: Progress | None = None,
    ) -> None:
        self._engine = engine
        self._progress = progress
        self._loop = asyncio.get_running_loop()
        self._started = self._loop.time()
        self._deadline = deadline
        self._deadline_at = None if deadline is None else self._started + deadline
        self._scope = symbols  # None: the whole account
        self._use_symbol_cancel = use_symbol_cancel
        self._entries: dict[CancelTarget, _Entry] = {}
        self._by_order: dict[OrderKey, _Entry] = {}
        self._by_client_oid: dict[tuple[str, str], _Entry] = {}
        self._explicit: list[_Entry] = []
        for target in targets:
            self._add_explicit(target)
        self._run: CancelRun | None = None
        self._finished = False
        self._account_empty = False
        self._passes = 0
        self._cancel_requests = 0
        self._symbol_cancels = 0
        self._list_requests = 0
        self._throttled = 0
        api_key = engine._api_key
        self._list_budget = shared_budget(api_key, UNFILLED_ORDERS_PATH, LIST_RATE)
        self._symbol_budget = shared_budget(api_key, SYMBOL_CANCEL_PATH, SYMBOL_CANCEL_RATE)

    # -- joining -----------------------------------------------------------------------------

    def extend(self, symbols: frozenset[str] | None, targets: Sequence[CancelTarget]) -> None:
        """A second panic call joins this one: widen the scope, add its targets."""
        if self._scope is not None:
            self._scope = None if symbols is None else self._scope | symbols
        fresh = [self._add_explicit(t) for t in targets]
        run = self._run
        if run is not None and run.feed_is_open:
            run.feed([e.target for e in fresh if e is not None])

    def _add_explicit(self, target: CancelTarget) -> _Entry | None:
        if target in self._entries:
            return None
        entry = _Entry(target)
        self._entries[target] = entry
        self._explicit.append(entry)
        if target.order_id is not None:
            self._by_order.setdefault((target.symbol, target.order_id), entry)
        if target.client_oid is not None:
            self._by_client_oid.setdefault((target.symbol, target.client_oid), entry)
        return entry

    # -- the passes --------------------------------------------------------------------------

    def _expired(self) -> bool:
        return self._deadline_at is not None and self._loop.time() >= self._deadline_at

    async def run(self) -> PanicReport:
        """Run passes to the end; on cancellation, give up the pass and start a fresh one."""
        while not self._finished:
            try:
                await self._one_pass()
            except asyncio.CancelledError:
                task = asyncio.current_task()
                uncancel = getattr(task, "uncancel", None)
                if uncancel is not None:
                    uncancel()
                self._harvest()
                log.warning("panic cancel: cancellation ignored; finishing the panic first")
            finally:
                self._run = None
            if self._expired() or self._passes >= MAX_PASSES:
                self._finished = True
        return self._report()

    async def _one_pass(self) -> None:
        self._passes += 1
        remaining = None
        if self._deadline_at is not None:
            remaining = self._deadline_at - self._loop.time()
            if remaining <= 0:
                return
        run = CancelRun(self._engine, [], "auto", remaining, self._run_progress)
        run.open_feed()
        self._run = run
        run.feed([e.target for e in self._explicit if self._needs_work(e)])
        held: dict[str, list[_Entry]] = {}
        symbol_tasks: list[asyncio.Task[None]] = []
        seen_open: list[_Entry] = []

        def on_page(rows: list[CancelTarget]) -> None:
            now = self._loop.time()
            to_feed: list[CancelTarget] = []
            for row in rows:
                entry = self._entry_for(row)
                if entry is None:
                    continue
                seen_open.append(entry)
                if (
                    entry.by_symbol_at is not None
                    and now - entry.by_symbol_at < SYMBOL_CANCEL_SETTLE
                ):
                    continue  # a symbol cancel covers it; the exchange has not caught up yet
                if _failed(entry):
                    continue  # refused for good (e.g. permissions): asking again changes nothing
                if self._symbol_eligible(row.symbol):
                    bucket = held.setdefault(row.symbol, [])
                    bucket.append(entry)
                    if len(bucket) == SYMBOL_CANCEL_THRESHOLD:
                        symbol_tasks.append(
                            self._loop.create_task(self._cancel_symbol(row.symbol, bucket, run))
                        )
                    elif len(bucket) > SYMBOL_CANCEL_THRESHOLD:
                        entry.by_symbol_at = entry.by_symbol_at or now
                    continue
                to_feed.append(self._cancel_target(entry, row))
            if to_feed:
                run.feed(to_feed)

        runner = self._loop.create_task(run.execute())
        listing_started = self._loop.time()
        try:
            complete = await self._list_scope(on_page)
            for bucket in held.values():
                if len(bucket) < SYMBOL_CANCEL_THRESHOLD:
                    run.feed([e.target for e in bucket])
            if symbol_tasks:
                await asyncio.gather(*symbol_tasks)
            run.close_feed()
            report = await runner
        except BaseException:
            runner.cancel()
            for task in symbol_tasks:
                task.cancel()
            raise
        self._cancel_requests += report.requests
        self._throttled += report.throttled
        self._harvest()
        if self._expired():
            return
        if complete:
            self._confirm_listed_gone(seen_open, listing_started)
            # Done when a complete listing shows nothing left to close in scope (orders refused
            # for good excepted) and every target the caller named has its final outcome.
            left = [e for e in seen_open if not _failed(e)]
            unconfirmed = any(
                e.by_symbol_at is not None and e.outcome is None for e in self._entries.values()
            )
            explicit_open = any(self._needs_work(e) for e in self._explicit)
            if not left and not unconfirmed and not explicit_open:
                self._account_empty = not seen_open
                self._finished = True
                return
        if any(e.by_symbol_at is not None and e.outcome is None for e in self._entries.values()):
            await self._sleep(SETTLE_POLL)

    def _run_progress(self, done: int, total: int) -> None:
        if self._progress is None:
            return
        closed = sum(1 for e in self._entries.values() if e.outcome is not None)
        self._progress(min(closed + done, len(self._entries)), len(self._entries))

    # -- pieces of a pass --------------------------------------------------------------------

    def _symbol_eligible(self, symbol: str) -> bool:
        """cancel-symbol-order only where every open order of the symbol is to go."""
        if not self._use_symbol_cancel:
            return False
        return self._scope is None or symbol in self._scope

    def _in_scope(self, symbol: str) -> bool:
        return self._scope is None or symbol in self._scope

    def _entry_for(self, row: CancelTarget) -> _Entry | None:
        """The entry of a listed order, created if new; None if out of scope and not asked."""
        assert row.order_id is not None
        key = (row.symbol, row.order_id)
        entry = self._by_order.get(key)
        if entry is None and row.client_oid is not None:
            entry = self._by_client_oid.get((row.symbol, row.client_oid))
            if entry is not None:
                self._by_order[key] = entry
        if entry is None:
            if not self._in_scope(row.symbol):
                return None
            entry = _Entry(row)
            self._entries[row] = entry
            self._by_order[key] = entry
        # Listed again after a final outcome other than FAILED: it is open, so work on it again.
        if entry.outcome is not None and entry.outcome.status is not CancelStatus.FAILED:
            entry.outcome = None
        return entry

    @staticmethod
    def _cancel_target(entry: _Entry, row: CancelTarget) -> CancelTarget:
        # A caller's clientOid-only target is cancelled by the orderId the listing revealed.
        return entry.target if entry.target.order_id is not None else row

    @staticmethod
    def _needs_work(entry: _Entry) -> bool:
        outcome = entry.outcome
        if entry.by_symbol_at is not None and outcome is None:
            return False
        return outcome is None or outcome.status is CancelStatus.UNRESOLVED

    def _harvest(self) -> None:
        """Copy final outcomes of the current run's targets into the entries."""
        run = self._run
        if run is None:
            return
        for target in run.fed_targets():
            outcome = run.outcome_of(target)
            if outcome is None:
                continue
            entry = self._entries.get(target)
            if entry is None and target.order_id is not None:
                entry = self._by_order.get((target.symbol, target.order_id))
            if entry is not None and entry.by_symbol_at is None:
                entry.outcome = CancelOutcome(
                    entry.target, outcome.status, outcome.error_code, outcome.error_msg,
                    (entry.outcome.attempts if entry.outcome else 0) + outcome.attempts,
                )  # fmt: skip

    def _confirm_listed_gone(self, seen_open: list[_Entry], listing_started: float) -> None:
        """A symbol cancel is confirmed by a complete listing that began after it was accepted:
        its orders missing from that listing are cancelled; still there after the settle
        time, the symbol cancel did not take and they are cancelled by id."""
        still_open = {id(e) for e in seen_open}
        now = self._loop.time()
        for entry in self._entries.values():
            outcome = entry.outcome
            if (
                outcome is not None
                and outcome.status is CancelStatus.UNRESOLVED
                and id(entry) not in still_open
                and self._in_scope(entry.target.symbol)
            ):
                # Unanswered (a timeout may hide a cancel that happened), and a complete listing
                # no longer shows it: it is not open.
                entry.outcome = CancelOutcome(
                    entry.target, CancelStatus.NOT_OPEN, outcome.error_code,
                    "not listed as open any more", outcome.attempts,
                )  # fmt: skip
            accepted = entry.by_symbol_at
            if accepted is None or entry.outcome is not None or accepted >= listing_started:
                continue
            if id(entry) not in still_open:
                entry.outcome = CancelOutcome(entry.target, CancelStatus.CANCELLED, attempts=1)
            elif now - accepted >= SYMBOL_CANCEL_SETTLE:
                entry.by_symbol_at = None

    async def _sleep(self, seconds: float) -> None:
        if self._deadline_at is not None:
            seconds = min(seconds, max(0.0, self._deadline_at - self._loop.time()))
        await asyncio.sleep(seconds)

    # -- listing -----------------------------------------------------------------------------

    async def _list_scope(self, on_page: Callable[[list[CancelTarget]], None]) -> bool:
        """List every open order in scope; True if every listing ran to its last page."""
        if self._scope is None:
            return await self._list(None, on_page)
        symbols = sorted(self._scope)
        results = await asyncio.gather(*(self._list(s, on_page) for s in symbols))
        return all(results)

    async def _list(
        self, symbol: str | None, on_page: Callable[[list[CancelTarget]], None]
    ) -> bool:
        id_less_than: str | None = None
        failures = 0
        while True:
            params = [("symbol", symbol)] if symbol else []
            params.append(("limit", str(PAGE_SIZE)))
            if id_less_than is not None:
                params.append(("idLessThan", id_less_than))
            response = await self._call(self._list_budget, "GET", UNFILLED_ORDERS_PATH,
                                        urlencode(params), b"")  # fmt: skip
            if response is None:
                return False  # deadline
            self._list_requests += 1
            answer = decode_unfilled(response.body) if response.status == 200 else None
            if answer is None or text(answer.code) != SUCCESS_CODE:
                failures += 1
                if not await self._after_failure(response, failures, "list open orders"):
                    return False
                continue
            failures = 0
            rows = answer.data or []
            page = []
            for row in rows:
                try:
                    page.append(CancelTarget(
                        symbol=text(row.symbol) or "", order_id=text(row.order_id),
                        client_oid=text(row.client_oid),
                    ))  # fmt: skip
                except InvalidTarget as exc:
                    log.warning("listed order skipped: %s", exc)
            ids = [p.order_id for p in page if p.order_id is not None]
            if page:
                on_page([p for p in page if p.order_id is not None])
            if len(rows) < PAGE_SIZE or not ids:
                return True
            id_less_than = min(ids, key=_id_order)

    # -- cancel-symbol-order -----------------------------------------------------------------

    async def _cancel_symbol(self, symbol: str, bucket: list[_Entry], run: CancelRun) -> None:
        """Cancel a whole symbol; on failure, hand its orders to the batch lane instead."""
        now = self._loop.time()
        for entry in bucket:
            entry.by_symbol_at = now
        body = encode_json({"symbol": symbol})
        failures = 0
        while True:
            response = await self._call(self._symbol_budget, "POST", SYMBOL_CANCEL_PATH, "", body)
            if response is None:
                break
            self._symbol_cancels += 1
            envelope = decode_envelope(response.body) if response.status == 200 else None
            if envelope is not None and text(envelope.code) == SUCCESS_CODE:
                log.debug("cancel-symbol-order %s accepted", symbol)
                stamp = self._loop.time()
                for entry in self._entries.values():
                    if entry.target.symbol == symbol and entry.by_symbol_at is not None:
                        entry.by_symbol_at = stamp
                return
            failures += 1
            if not await self._after_failure(response, failures, f"cancel {symbol}"):
                break
        for entry in bucket:
            entry.by_symbol_at = None
        if run.feed_is_open:
            run.feed([e.target for e in bucket])

    # -- one request, shared by listing and symbol cancel ------------------------------------

    async def _call(
        self, budget: RateBudget, method: str, path: str, query: str, body: bytes
    ) -> HttpResponse | None:
        """One signed request within its budget; None when the deadline came first."""
        engine = self._engine
        if not await budget.acquire(self._deadline_at):
            return None
        timeout = engine.request_timeout
        if self._deadline_at is not None:
            timeout = max(0.001, min(timeout, self._deadline_at - self._loop.time()))
        throttled = False
        try:
            response = await engine._request_signed(method, path, query, body, timeout)
            throttled = response.status == 429
        except TransportError as exc:
            log.debug("%s %s failed: %s", method, path, exc)
            return HttpResponse(0, str(exc).encode())
        finally:
            budget.release_now(throttled=throttled)
        if throttled:
            self._throttled += 1
        return response

    async def _after_failure(self, response: HttpResponse, failures: int, what: str) -> bool:
        """Back off and say whether to try again."""
        envelope = decode_envelope(response.body)
        code = text(envelope.code) if envelope else None
        msg = text(envelope.msg) if envelope else None
        if response.status == 0:
            verdict = Verdict.RETRY
        else:
            verdict = classify_code(code, msg) if code else classify_http_status(response.status)
            if classify_http_status(response.status) is Verdict.RETRY:
                verdict = Verdict.RETRY if verdict is not Verdict.RESYNC_CLOCK else verdict
        if verdict is Verdict.RESYNC_CLOCK:
            await self._engine.resync_clock()
        elif verdict is not Verdict.RETRY or failures >= self._engine.max_attempts:
            log.warning("panic: %s failed for good (HTTP %s, code=%s, msg=%s)",
                        what, response.status, code, msg)  # fmt: skip
            return False
        engine = self._engine
        await self._sleep(min(engine.backoff_cap, engine.backoff_base * 2 ** (failures - 1)))
        return not self._expired()

    # -- the report --------------------------------------------------------------------------

    def _report(self) -> PanicReport:
        outcomes = []
        why = "the deadline passed" if self._expired() else "the panic stopped"
        for entry in self._entries.values():
            outcome = entry.outcome
            if outcome is None:
                msg = f"{why} before this order was confirmed closed"
                if entry.by_symbol_at is not None:
                    msg = f"{why} before a listing confirmed cancel-symbol-order closed it"
                outcome = CancelOutcome(entry.target, CancelStatus.UNRESOLVED, None, msg, 0)
            outcomes.append(outcome)
        requests = self._cancel_requests + self._symbol_cancels + self._list_requests
        return PanicReport(
            outcomes,
            requests=requests,
            elapsed=self._loop.time() - self._started,
            throttled=self._throttled,
            account_empty=self._account_empty,
            passes=self._passes,
            cancel_requests=self._cancel_requests,
            symbol_cancels=self._symbol_cancels,
            list_requests=self._list_requests,
        )


def _failed(entry: _Entry) -> bool:
    return entry.outcome is not None and entry.outcome.status is CancelStatus.FAILED


def _id_order(order_id: str) -> tuple[int, int, str]:
    # Exchange ids are decimal; compare them as numbers, anything else as text after them.
    return (0, int(order_id), "") if order_id.isdigit() else (1, 0, order_id)


def install_panic_handler(
    engine: CancelEngine,
    signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
    **panic_kwargs: object,
) -> Callable[[], None]:
    """On each of ``signals``, start (or join) ``engine.start_panic(**panic_kwargs)``.

    Returns a function that removes the handlers. Must be called from the running loop.
    """
    loop = asyncio.get_running_loop()

    def on_signal(signum: signal.Signals) -> None:
        log.warning("signal %s: panic cancel", signum.name)
        engine.start_panic(**panic_kwargs)  # type: ignore[arg-type]

    for signum in signals:
        loop.add_signal_handler(signum, on_signal, signum)

    def remove() -> None:
        for signum in signals:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)

    return remove
