"""Panic cancel: close every open order in scope, of every kind, even while the program shuts
down, and say "account empty" only when the exchange's own listings say so.

A pass lists every requested kind (pages streamed straight into a running cancel, so cancelling
starts with the first page), bulk-cancels where that is cheaper (``cancel-symbol-order`` for a
symbol with many normal orders, ``batch-cancel-plan-order`` for trigger orders), then the next
pass lists again. The panic ends when a complete listing of every kind, begun after the last
cancel it confirms, shows nothing in scope; or at the deadline; or when the exchange refuses the
credentials or a listing in a way that repeating cannot change.

The work runs in one task owned by the engine. That task absorbs cancellation (the program
shutting down cancels every task it can find) and resumes with a fresh pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ._classify import CODE_HINTS, Verdict
from ._exceptions import CallStopped, TransportError
from ._family import BulkCancel, ListedOrder, Lister
from ._listing import Listing, ListingLanes, list_sliced, listed_target, merge
from ._log import log
from ._models import (
    CancelOutcome,
    CancelStatus,
    CancelTarget,
    KindSummaries,
    KindSummary,
    OrderKind,
    PanicReport,
    outcome_problems,
)
from ._policy import CallScope, Deadline
from ._run import CancelRun, Progress
from ._session import CallStats, ExchangeSession

# Which symbols go to cancel-symbol-order is planned by the two lanes' throughput
# (``_Pass._plan_lanes``); a symbol with a full batch of orders listed (50 on v2, 20 on v3)
# goes there on a tie: one request of the symbol lane then saves at least one of the batch lane.
SYMBOL_CANCEL_THRESHOLD = 50
# Bulk cancels work asynchronously on the exchange: how long their orders may still be listed
# before the panic stops waiting and cancels them one by one (and keeps doing so).
BULK_SETTLE = 2.0
SETTLE_POLL = 0.1
MAX_PASSES = 50


@dataclass(eq=False)  # an entry is itself: hashed and compared by identity
class _Entry:
    """One order the panic touched: the caller's target, or a listed order."""

    target: CancelTarget
    explicit: bool = False
    outcome: CancelOutcome | None = None
    bulk_at: float | None = None  # when a bulk cancel that covers it was accepted
    by_id_only: bool = False  # a bulk cancel did not take it: by id from now on
    listed: bool = False  # seen open in some listing
    note: str | None = None  # how it was cancelled, when not as listed (for its outcome)

    @property
    def failed(self) -> bool:
        return self.outcome is not None and self.outcome.status is CancelStatus.FAILED

    @property
    def needs_cancel(self) -> bool:
        """Not final and not waiting for a bulk cancel to show."""
        if self.bulk_at is not None and self.outcome is None:
            return False
        return self.outcome is None or self.outcome.status is CancelStatus.UNRESOLVED


class Panic:
    """The state of one panic; resumable, so a cancelled pass is followed by a fresh one."""

    def __init__(
        self,
        session: ExchangeSession,
        symbols: frozenset[str] | None,
        targets: Sequence[CancelTarget],
        deadline: float | None,
        *,
        use_symbol_cancel: bool,
        kinds: Sequence[OrderKind],
        progress: Progress | None = None,
        client_oid_prefix: tuple[str, ...] | None = None,
    ) -> None:
        self._session = session
        self._loop = session.loop
        self._progress = progress
        self._started = self._loop.time()
        self._scope = CallScope(Deadline(deadline, self._loop), first=True)
        self._stats = CallStats()
        # A panic that starts during an outage counts it too.
        self._fallbacks_before = session.budgets.fallbacks - int(session.budgets.degraded)
        self._symbols = symbols  # None: the whole account
        self._kinds: tuple[OrderKind, ...] = tuple(kinds)
        # Only orders whose clientOid starts with one of these (None: every order). A bulk
        # cancel would touch the others too: a scoped panic cancels by id only.
        self._prefixes = client_oid_prefix
        self._use_bulk = use_symbol_cancel and client_oid_prefix is None
        self._entries: dict[CancelTarget, _Entry] = {}
        self._by_order: dict[tuple[OrderKind, str, str], _Entry] = {}
        self._by_client_oid: dict[tuple[OrderKind, str, str], _Entry] = {}
        for target in targets:
            self._add(target, explicit=True)
        self._fed: dict[CancelTarget, _Entry] = {}  # what the current pass's run was given
        self._run: CancelRun | None = None
        self._finished = False
        self._account_empty = False
        self._confirmed: dict[OrderKind, bool] = {}
        self._problems: dict[OrderKind | None, str] = {}
        self._widened = False  # the scope grew since the current pass began listing
        self._listed_any = False
        self._paged = False  # some listing page arrived (complete listing or not)
        self._passes = 0
        # Kinds whose listing is refused for good but whose bulk cancel was sent all the same,
        # with what the exchange answered to it.
        self._blind: dict[OrderKind, str] = {}
        # Scoped by clientOid prefix: listed orders in the symbol scope without a clientOid,
        # by kind, in the last pass that listed the kind. They cannot be told to be outside
        # the scope, so that kind is never confirmed empty.
        self._unattributed: dict[OrderKind, int] = {}
        # Passes that ended waiting for a bulk cancel to show: not counted against MAX_PASSES
        # (each order waits at most BULK_SETTLE, then goes by id).
        self._settle_waits = 0

    # -- joining -----------------------------------------------------------------------------

    def extend(
        self,
        symbols: frozenset[str] | None,
        targets: Sequence[CancelTarget],
        kinds: Sequence[OrderKind],
        client_oid_prefix: tuple[str, ...] | None = None,
    ) -> None:
        """A second panic call joins this one: widen the scope and kinds, add its targets. The
        panic does not finish before it has listed the widened scope."""
        prefixes = self._prefixes
        if prefixes is not None and client_oid_prefix != prefixes:
            joined = None if client_oid_prefix is None else prefixes + client_oid_prefix
            self._prefixes = None if joined is None else tuple(dict.fromkeys(joined))
            self._widened = True  # still by id only: bulk cancels stay off once scoped
        wider = self._symbols is not None and (symbols is None or not symbols <= self._symbols)
        if wider:
            self._symbols = None if symbols is None else self._symbols | symbols  # type: ignore[operator]
        new_kinds = [k for k in kinds if k not in self._kinds]
        if new_kinds:
            self._kinds += tuple(new_kinds)
        self._widened = self._widened or wider or bool(new_kinds)
        fresh = [self._add(t, explicit=True) for t in targets]
        run = self._run
        if run is not None and run.feed_is_open:
            self._feed(run, [e.target for e in fresh if e is not None])

    def _add(self, target: CancelTarget, *, explicit: bool) -> _Entry | None:
        if target in self._entries:
            return None
        entry = _Entry(target, explicit=explicit)
        self._entries[target] = entry
        kind, symbol = target.kind, target.symbol
        if target.order_id is not None:
            self._by_order.setdefault((kind, symbol, target.order_id), entry)
        if target.client_oid is not None:
            self._by_client_oid.setdefault((kind, symbol, target.client_oid), entry)
        return entry

    def _in_scope(self, symbol: str) -> bool:
        return self._symbols is None or symbol in self._symbols

    def _prefixed(self, client_oid: str | None) -> bool:
        prefixes = self._prefixes
        return prefixes is None or (client_oid is not None and client_oid.startswith(prefixes))

    def unattributed(self, kind: OrderKind, row: ListedOrder) -> bool:
        """A listed order of the symbol scope that a clientOid-prefix scope can neither take
        nor leave: it has no clientOid (blank counts as none)."""
        if self._prefixes is None or (row.client_oid or "").strip():
            return False
        found = listed_target(row, kind)
        return found is not None and self._in_scope(found[0].symbol)

    # -- the passes --------------------------------------------------------------------------

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
            if self._scope.over or self._passes - self._settle_waits >= MAX_PASSES:
                self._finished = True
        return self._report()

    async def _one_pass(self) -> None:
        self._passes += 1
        self._widened = False
        scope = self._scope
        if scope.over:
            return
        family = self._session.family
        run = CancelRun(self._session, [], "auto", None, self._run_progress)
        run.open_feed()
        self._run, self._fed = run, {}
        self._feed(
            run,
            [
                e.target
                for e in self._entries.values()
                if (e.explicit or e.by_id_only) and e.needs_cancel
            ],
        )
        runner = self._loop.create_task(run.execute(scope))
        pass_ = _Pass(self, run)
        listing_started = self._loop.time()
        try:
            listings = await pass_.list_all()
            for kind in listings:
                self._unattributed[kind] = len(pass_.unattributed.get(kind, ()))
            await pass_.finish_bulk()
            await pass_.bulk_unlisted(listings)
            run.close_feed()
            report = await runner
        except BaseException:
            runner.cancel()
            pass_.cancel()
            raise
        self._stats.requests.update(run.stats.requests)
        self._stats.throttled += run.stats.throttled
        del report
        self._harvest()
        if scope.over:
            return
        self._settle(pass_.seen, listing_started, listings)
        if self._session.family is not family:
            return  # the account type was learnt during this pass: list again on its API
        if self._finish_if_done(listings, pass_.seen):
            return
        if any(e.bulk_at is not None and e.outcome is None for e in self._entries.values()):
            self._settle_waits += 1
            await self._sleep(SETTLE_POLL)

    def _finish_if_done(
        self, listings: dict[OrderKind, Listing], seen: dict[OrderKind, list[_Entry]]
    ) -> bool:
        """Done when every kind was listed completely with nothing left to close, or when what
        keeps it from that cannot change by trying again."""
        for kind, listing in listings.items():
            if listing.problem is not None:
                self._problems[kind] = listing.problem
            else:
                self._problems.pop(kind, None)
            self._confirmed[kind] = listing.complete and listing.open_in_scope == 0
        # Pages that arrived are a listing, even if a later page failed (a flat account's
        # complete, empty listing too): only a panic that saw no page at all "could not list".
        listed_now = any(listing.complete for listing in listings.values()) or self._paged
        self._listed_any = self._listed_any or listed_now
        if self._widened:
            return False  # a joined call widened the scope: list it before finishing
        open_left = any(not e.failed for entries in seen.values() for e in entries)
        unconfirmed_bulk = any(
            e.bulk_at is not None and e.outcome is None for e in self._entries.values()
        )
        explicit_open = any(e.explicit and e.needs_cancel for e in self._entries.values())
        all_complete = all(listing.complete for listing in listings.values())
        if all_complete and not open_left and not unconfirmed_bulk and not explicit_open:
            self._listed_any = True  # complete listings: an empty account was seen whole
            self._account_empty = all(self._confirmed.get(k, False) for k in self._kinds)
            self._finished = True
            return True
        if not self._listed_any:
            # Nothing could be listed at all: say so now rather than at the deadline.
            self._problems[None] = "could not list open orders: " + "; ".join(
                f"{kind.value}: {listing.problem}" for kind, listing in listings.items()
            )
            self._finished = True
            return True
        stuck = [x for x in listings.values() if not x.complete and not x.final]
        if not stuck and not open_left and not unconfirmed_bulk and not explicit_open:
            # Only listings that repeating cannot fix are left: they stay unconfirmed.
            self._finished = True
            return True
        return False

    def _feed(self, run: CancelRun, targets: Iterable[CancelTarget]) -> None:
        batch = []
        for target in targets:
            self._fed[target] = self._entries[target]
            batch.append(target)
        if batch:
            run.feed(batch)

    def _run_progress(self, done: int, total: int) -> None:
        if self._progress is None:
            return
        closed = sum(
            1 for e in self._entries.values() if e.outcome is not None and e.outcome.closed
        )
        self._progress(min(closed + done, len(self._entries)), len(self._entries))

    def _harvest(self) -> None:
        """Copy final outcomes of the current run into the entries."""
        for entry, outcome in self._harvested().items():
            entry.outcome = outcome
        self._fed = {}

    def _harvested(self) -> dict[_Entry, CancelOutcome]:
        """The final outcomes of the current run, as the entries would take them."""
        run = self._run
        found: dict[_Entry, CancelOutcome] = {}
        if run is None:
            return found
        for target, entry in self._fed.items():
            outcome = run.outcome_of(target)
            if outcome is None or entry.bulk_at is not None:
                continue
            attempts = (entry.outcome.attempts if entry.outcome else 0) + outcome.attempts
            found[entry] = CancelOutcome(
                entry.target, outcome.status, outcome.error_code, outcome.error_msg, attempts
            )
        return found

    def snapshot(self) -> PanicReport:
        """The report as it stands, for a caller that must quit now: every outcome known so
        far (the current pass's too), the rest unresolved. Changes nothing: the panic goes on."""
        harvested = self._harvested()
        saved = {entry: entry.outcome for entry in harvested}
        stats = self._stats
        run = self._run
        if run is not None:  # the current pass's requests are counted when it ends
            self._stats = CallStats()
            self._stats.requests.update(stats.requests)
            self._stats.requests.update(run.stats.requests)
            self._stats.throttled = stats.throttled + run.stats.throttled
        try:
            for entry, outcome in harvested.items():
                entry.outcome = outcome
            return self._report(quiet=True)
        finally:
            for entry, earlier in saved.items():
                entry.outcome = earlier
            self._stats = stats

    def _settle(
        self,
        seen: dict[OrderKind, list[_Entry]],
        listing_started: float,
        listings: dict[OrderKind, Listing],
    ) -> None:
        """What a complete listing of a kind confirms: orders a bulk cancel covered before the
        listing began and that it no longer shows are cancelled; still shown after the settle
        time, the bulk cancel did not take them and they go by id. An order that timed out
        and is no longer listed is not open."""
        now = self._loop.time()
        for kind, listing in listings.items():
            if not listing.complete:
                # No listing can confirm this kind's bulk cancel: once it had its time, each
                # order it covered is asked by id (its own answer: cancelled or not open).
                for entry in self._entries.values():
                    accepted = entry.bulk_at
                    if (
                        entry.target.kind is kind
                        and accepted is not None
                        and entry.outcome is None
                        and now - accepted >= BULK_SETTLE
                    ):
                        entry.bulk_at = None
                        entry.by_id_only = True
                continue
            still_open = set(seen.get(kind, ()))
            for entry in self._entries.values():
                if entry.target.kind is not kind or not self._in_scope(entry.target.symbol):
                    continue
                outcome = entry.outcome
                if (
                    outcome is not None
                    and outcome.status is CancelStatus.UNRESOLVED
                    and entry not in still_open
                ):
                    entry.outcome = CancelOutcome(
                        entry.target, CancelStatus.NOT_OPEN, outcome.error_code,
                        "not listed as open any more", outcome.attempts,
                    )  # fmt: skip
                accepted = entry.bulk_at
                if accepted is None or entry.outcome is not None or accepted >= listing_started:
                    continue
                if entry not in still_open:
                    entry.outcome = CancelOutcome(entry.target, CancelStatus.CANCELLED, attempts=1)
                elif now - accepted >= BULK_SETTLE:
                    entry.bulk_at = None
                    entry.by_id_only = True

    async def _sleep(self, seconds: float) -> None:
        remaining = self._scope.deadline.remaining()
        if remaining is not None:
            seconds = min(seconds, remaining)
        await asyncio.sleep(seconds)

    # -- listed orders -----------------------------------------------------------------------

    def entry_for(self, kind: OrderKind, row: ListedOrder) -> tuple[_Entry, CancelTarget] | None:
        """The entry of a listed order (created if new) and the target that cancels it; None
        if it is out of scope and not asked for, or not a usable row."""
        found = listed_target(row, kind)
        if found is None or row.order_id is None:
            return None
        listed, note = found
        key = (kind, listed.symbol, row.order_id)
        entry = self._by_order.get(key)
        if entry is None and row.client_oid is not None:
            entry = self._by_client_oid.get((kind, listed.symbol, row.client_oid))
            if entry is not None:
                self._by_order[key] = entry
        if entry is None:
            # A clientOid listed padded is attributed by its text (the order goes by orderId).
            attributed = (row.client_oid or "").strip() or None
            if not self._in_scope(listed.symbol) or not self._prefixed(attributed):
                return None
            entry = self._add(listed, explicit=False) or self._entries[listed]
            self._by_order[key] = entry
        entry.listed = True
        if note is not None and entry.target is listed:
            entry.note = note
        # Listed again after a final outcome other than FAILED: it is open; work on it again.
        if entry.outcome is not None and entry.outcome.status is not CancelStatus.FAILED:
            entry.outcome = None
        # The listing beats the caller's ids: cancel by the orderId the exchange shows.
        target = entry.target if entry.target.order_id == row.order_id else listed
        return entry, target

    # -- the report --------------------------------------------------------------------------

    def _report(self, *, quiet: bool = False) -> PanicReport:
        """``quiet``: a snapshot, whose problems are not logged (the panic goes on)."""
        outcomes = []
        expired = self._scope.deadline.expired()
        why = "the deadline passed" if expired else "the panic stopped"
        counts: dict[OrderKind, dict[str, int]] = {
            k: {"listed": 0, **{s.value: 0 for s in CancelStatus}} for k in OrderKind
        }
        for entry in self._entries.values():
            outcome = entry.outcome
            if outcome is None:
                msg = f"{why} before this order was confirmed closed"
                if entry.bulk_at is not None:
                    msg = f"{why} before a listing confirmed the bulk cancel closed it"
                outcome = CancelOutcome(entry.target, CancelStatus.UNRESOLVED, None, msg, 0)
            if entry.note is not None:
                msg = (
                    entry.note
                    if outcome.error_msg is None
                    else f"{outcome.error_msg}; {entry.note}"
                )
                outcome = replace(outcome, error_msg=msg)
            outcomes.append(outcome)
            tally = counts[entry.target.kind]
            tally[outcome.status.value] += 1
            tally["listed"] += entry.listed
        problems = dict(self._problems)
        refusal = self._scope.refusal
        if refusal is not None:
            hint = CODE_HINTS.get(refusal[0])
            problems[None] = f"credentials refused: code {refusal[0]}, {hint or refusal[1]}"
        elif expired and not self._account_empty:
            passed = f"the deadline of {self._scope.deadline.seconds:g}s passed"
            if not self._paged:  # not one listing page in all that time
                passed += " and the exchange did not answer any listing"
            problems.setdefault(None, passed)
        for kind, count in self._unattributed.items():
            if count and kind not in problems:
                scope = ", ".join(self._prefixes or ())
                problems[kind] = (
                    f"{count} listed orders have no clientOid and could not be attributed: they "
                    f"may belong to the clientOid prefix scope ({scope}), which is therefore not "
                    "confirmed empty"
                )
        for kind in self._kinds:
            if not self._confirmed.get(kind) and kind not in problems and None not in problems:
                problems[kind] = "not confirmed empty by a complete listing"
        for kind, note in self._blind.items():
            if kind in problems:
                problems[kind] = f"{problems[kind]} ({note})"
        by_kind = KindSummaries(
            (
                kind,
                KindSummary(
                    listed=counts[kind]["listed"],
                    cancelled=counts[kind]["cancelled"],
                    not_open=counts[kind]["not_open"],
                    failed=counts[kind]["failed"],
                    unresolved=counts[kind]["unresolved"],
                    confirmed_empty=self._confirmed.get(kind, False),
                    problem=problems.get(kind),
                ),
            )
            for kind in self._kinds
        )
        for what, problem in () if quiet else problems.items():
            if what is not None:
                log.warning("panic: %s orders: %s", what.value, problem)
        requests = self._stats.requests
        families = self._session.families.values()
        bulk_names = {b.endpoint.name for f in families for b in f.bulk.values()}
        list_names = {lister.endpoint.name for f in families for lister in f.listing.values()}
        return PanicReport(
            outcomes,
            requests=self._stats.total,
            elapsed=self._loop.time() - self._started,
            throttled=self._stats.throttled,
            problems=tuple(
                problem if kind is None else f"{kind.value} orders: {problem}"
                for kind, problem in problems.items()
            )
            + outcome_problems(outcomes),
            account_empty=self._account_empty and not problems,
            passes=self._passes,
            cancel_requests=sum(
                n for name, n in requests.items() if name not in bulk_names | list_names
            ),
            symbol_cancels=sum(n for name, n in requests.items() if name in bulk_names),
            list_requests=sum(n for name, n in requests.items() if name in list_names),
            by_kind=by_kind,
            refused_code=None if refusal is None else refusal[0],
            listed=self._listed_any,
            budget_fallbacks=self._session.budgets.fallbacks - self._fallbacks_before,
        )


class _Pace:
    """When the requests given to one lane can go, as the panic plans them: at most ``rate``
    requests a second in windows of one second, ``per_request`` units (orders, symbols) each,
    counted from when the lane last started from idle (a drained lane starts afresh)."""

    __slots__ = ("_count", "_per_request", "_rate", "_start")

    def __init__(self, rate: float, per_request: int, now: float) -> None:
        self._rate = max(1, int(rate))
        self._per_request = per_request
        self._start, self._count = now, 0

    def _fresh(self, now: float) -> tuple[float, int]:
        start, count = self._start, self._count
        requests = -(-count // self._per_request)
        if count == 0 or now >= start + -(-requests // self._rate):
            return now, 0  # everything given so far has gone
        return start, count

    def last_send(self, units: int, now: float) -> float:
        """When the last request would go if ``units`` more were given now."""
        start, count = self._fresh(now)
        requests = max(1, -(-(count + units) // self._per_request))
        return max(now, start + (requests - 1) // self._rate)

    def add(self, units: int, now: float) -> None:
        self._start, self._count = self._fresh(now)
        self._count += units


class _Pass:
    """One pass's listings and bulk cancels."""

    def __init__(self, panic: Panic, run: CancelRun) -> None:
        self.panic = panic
        self.run = run
        self.session = panic._session
        self.loop = panic._loop
        self.seen: dict[OrderKind, list[_Entry]] = {}
        self._seen: set[_Entry] = set()
        # Listed orders a clientOid-prefix scope cannot attribute (Panic.unattributed), by id.
        self.unattributed: dict[OrderKind, set[str]] = {}
        self._held: dict[str, list[tuple[_Entry, CancelTarget]]] = {}
        self._bulk_tasks: list[asyncio.Task[None]] = []
        self._plan_bulk_fired = False
        self._lanes = ListingLanes()
        # A full batch: the size from which a symbol goes to the symbol lane on a tie.
        family, session = self.session.family, self.session
        batch_route = family.cancel.get(OrderKind.NORMAL)
        self._threshold = batch_route.max_batch if batch_route else SYMBOL_CANCEL_THRESHOLD
        # The two lanes of normal orders: symbol cancels, one symbol a request; batches.
        symbol_bulk = family.bulk.get(OrderKind.NORMAL)
        now = self.loop.time()
        batch_rate = session.rate(batch_route.endpoint) if batch_route else 1.0
        symbol_rate = session.rate(symbol_bulk.endpoint) if symbol_bulk else 1.0
        self._batch_lane = _Pace(batch_rate, self._threshold, now)
        self._symbol_lane = _Pace(symbol_rate, 1, now)
        self._symbols_cancelling: set[str] = set()  # sent to the symbol lane in this pass
        self._held_orders = 0  # in ``_held``

    def cancel(self) -> None:
        for task in self._bulk_tasks:
            task.cancel()

    async def list_all(self) -> dict[OrderKind, Listing]:
        kinds = self.panic._kinds
        results = await asyncio.gather(*(self._list_kind(kind) for kind in kinds))
        return dict(zip(kinds, results, strict=True))

    async def bulk_unlisted(self, listings: dict[OrderKind, Listing]) -> None:
        """A kind whose listing could not be read cannot be seen, but its bulk cancel for the
        whole scope may still close it: sent once per panic. The kind stays unconfirmed unless
        a later listing confirms it; the report says the cancel was sent."""
        panic = self.panic
        if not any(listing.complete for listing in listings.values()):
            return  # the exchange answers no listing at all (clock, keys, network): not now
        for kind, listing in listings.items():
            bulk = self.session.family.bulk.get(kind)
            if (
                listing.complete
                or bulk is None
                or bulk.per_symbol
                or not panic._use_bulk
                or kind in panic._blind
            ):
                continue
            symbols = None if panic._symbols is None else sorted(panic._symbols)
            try:
                reply = await self.session.call(
                    bulk.endpoint, bulk.codec, panic._scope, panic._stats, body=bulk.body(symbols)
                )
            except (CallStopped, TransportError) as exc:
                panic._blind[kind] = f"{bulk.endpoint.name} sent all the same: no answer ({exc})"
                continue
            said = "accepted" if reply.verdict is Verdict.OK else f"refused, code {reply.code}"
            panic._blind[kind] = f"{bulk.endpoint.name} sent all the same: {said}"
            log.warning("panic: %s orders could not be listed; %s", kind.value, panic._blind[kind])

    async def finish_bulk(self) -> None:
        self._plan_lanes(final=True)
        if self._bulk_tasks:
            await asyncio.gather(*self._bulk_tasks)

    # -- listing -----------------------------------------------------------------------------

    async def _list_kind(self, kind: OrderKind) -> Listing:
        lister = self.session.family.listing.get(kind)
        if lister is None:
            return Listing(False, f"not listable on a {self.session.family.name} account", True)
        symbols = self.panic._symbols
        if symbols is None:
            return await self._list(kind, lister, None)
        parts = await asyncio.gather(*(self._list(kind, lister, s) for s in sorted(symbols)))
        return merge(parts)

    async def _list(self, kind: OrderKind, lister: Lister, symbol: str | None) -> Listing:
        panic = self.panic
        return await list_sliced(
            self.session,
            lister,
            symbol,
            panic._scope,
            panic._stats,
            lambda rows: self._on_page(kind, rows),
            self._lanes,
        )

    def _on_page(self, kind: OrderKind, rows: list[ListedOrder]) -> int:
        """Route a page's orders to the cancel lanes; how many open ones in scope it showed."""
        panic, now = self.panic, self.loop.time()
        panic._paged = True
        to_feed: list[tuple[_Entry, CancelTarget]] = []
        seen = self.seen.setdefault(kind, [])
        count = 0
        for row in rows:
            found = panic.entry_for(kind, row)
            if found is None:
                if panic.unattributed(kind, row):
                    # Open, and maybe in scope: never "nothing open in scope".
                    unattributed = self.unattributed.setdefault(kind, set())
                    count += str(row.order_id) not in unattributed
                    unattributed.add(str(row.order_id))
                continue
            entry, target = found
            if entry in self._seen:
                continue  # the same order twice in one listing
            self._seen.add(entry)
            seen.append(entry)
            count += 1
            if entry.bulk_at is not None:
                if now - entry.bulk_at < BULK_SETTLE:
                    continue  # a bulk cancel covers it; the exchange has not caught up yet
                # Still listed after the settle time: the bulk cancel did not take it. By id
                # from now on, and its by-id outcome counts (harvest skips bulk-covered ones).
                entry.bulk_at = None
                entry.by_id_only = True
            if entry.failed:
                continue  # refused for good (e.g. permissions): asking again changes nothing
            if self._bulk_eligible(kind, entry):
                if kind is OrderKind.NORMAL:
                    self._hold_for_symbol_cancel(entry, target)
                    continue
                if kind is OrderKind.PLAN:
                    self._plan_bulk(entry)
                    continue
            to_feed.append((entry, target))
        self._by_id(to_feed)
        if kind is OrderKind.NORMAL and self._held:
            self._plan_lanes(final=False)
        return count

    def _bulk_eligible(self, kind: OrderKind, entry: _Entry) -> bool:
        """A bulk cancel only where every open order it touches is to go."""
        return (
            self.panic._use_bulk
            and not entry.by_id_only
            and kind in self.session.family.bulk
            and self.panic._in_scope(entry.target.symbol)
        )

    def _by_id(self, pairs: Sequence[tuple[_Entry, CancelTarget]]) -> None:
        run = self.run
        if run.feed_is_open:
            fed = self.panic._fed
            normal = 0
            for entry, target in pairs:
                fed[target] = entry
                normal += target.kind is OrderKind.NORMAL
            if normal:
                self._batch_lane.add(normal, self.loop.time())
            run.feed([target for _, target in pairs], listed=True)  # as listed: proven spot

    # -- bulk cancels ------------------------------------------------------------------------

    def _hold_for_symbol_cancel(self, entry: _Entry, target: CancelTarget) -> None:
        symbol = entry.target.symbol
        if symbol in self._symbols_cancelling:
            entry.bulk_at = entry.bulk_at or self.loop.time()  # its symbol cancel covers it
            return
        self._held.setdefault(symbol, []).append((entry, target))
        self._held_orders += 1

    def _plan_lanes(self, *, final: bool) -> None:
        """Plan the held symbols over the two lanes of normal orders so that they finish
        together: the biggest symbols go to the symbol lane (one request each, whatever their
        size) while it would still be through no later than the batch lane with everything
        else (``_symbol_lane_first``); a symbol with less than a full batch listed only when
        the symbol lane is strictly sooner (its cancel must settle and be confirmed by a
        listing; a batch answers for each order). The others wait for more pages.
        ``final``: the listing is over, the rest go by id."""
        held = self._held
        candidates = sorted(held, key=lambda s: len(held[s]), reverse=True)
        for symbol in candidates:
            if not self._symbol_lane_first(full=len(held[symbol]) >= self._threshold):
                break
            bucket = held.pop(symbol)
            self._held_orders -= len(bucket)
            self._symbols_cancelling.add(symbol)
            self._symbol_lane.add(1, self.loop.time())
            bulk = self.session.family.bulk[OrderKind.NORMAL]
            self._start_bulk(bulk, [symbol], [e for e, _ in bucket], bucket)
        if final:
            for bucket in held.values():
                self._by_id(bucket)
            held.clear()
            self._held_orders = 0

    def _symbol_lane_first(self, *, full: bool) -> bool:
        """Whether one more symbol cancel can go sooner than (``full``: no later than) the
        batch lane's last request would with what it has and every held normal order (the
        candidate's included)."""
        now = self.loop.time()
        symbol_lane = self._symbol_lane.last_send(1, now)
        batch_lane = self._batch_lane.last_send(self._held_orders, now)
        return symbol_lane <= batch_lane if full else symbol_lane < batch_lane

    def _plan_bulk(self, entry: _Entry) -> None:
        entry.bulk_at = entry.bulk_at or self.loop.time()
        if self._plan_bulk_fired:
            return
        self._plan_bulk_fired = True
        symbols = self.panic._symbols
        bulk = self.session.family.bulk[OrderKind.PLAN]
        self._start_bulk(bulk, None if symbols is None else sorted(symbols), [entry], [])

    def _start_bulk(
        self,
        bulk: BulkCancel,
        symbols: list[str] | None,
        covered: list[_Entry],
        fallback: list[tuple[_Entry, CancelTarget]],
    ) -> None:
        task = self.loop.create_task(self._bulk(bulk, symbols, covered, fallback))
        self._bulk_tasks.append(task)

    async def _bulk(
        self,
        bulk: BulkCancel,
        symbols: list[str] | None,
        covered: list[_Entry],
        fallback: list[tuple[_Entry, CancelTarget]],
    ) -> None:
        """One bulk cancel; accepted, it covers every order of its kind on its symbols (to be
        confirmed by a listing); refused, those orders go by id."""
        panic, session = self.panic, self.session
        kind = covered[0].target.kind
        now = self.loop.time()
        for entry in covered:
            entry.bulk_at = now
        failures = 0
        while True:
            try:
                reply = await session.call(
                    bulk.endpoint, bulk.codec, panic._scope, panic._stats,
                    body=bulk.body(symbols),
                )  # fmt: skip
            except CallStopped:
                break
            except TransportError as exc:
                verdict, problem = Verdict.RETRY, str(exc)
            else:
                verdict, problem = reply.verdict, f"code {reply.code}: {reply.msg}"
                if verdict is Verdict.OK:
                    stamp = self.loop.time()
                    log.debug("%s %s accepted", bulk.endpoint.name, symbols or "all")
                    for entry in panic._entries.values():
                        if (
                            entry.bulk_at is not None
                            and entry.target.kind is kind
                            and (symbols is None or entry.target.symbol in symbols)
                        ):
                            entry.bulk_at = stamp
                    return
            failures += 1
            if verdict not in (Verdict.RETRY, Verdict.THROTTLED, Verdict.RESYNC_CLOCK):
                break
            if failures >= session.policy.max_attempts:
                break
            await panic._sleep(session.policy.delay(failures, session.rng))
        log.warning(
            "panic: %s refused (%s); cancelling by id",
            bulk.endpoint.name,
            problem if failures else "stopped",
        )
        pairs = fallback or [(e, e.target) for e in covered]
        for entry in panic._entries.values():
            if (
                entry.target.kind is kind
                and entry.bulk_at is not None
                and entry.outcome is None
                and (symbols is None or entry.target.symbol in symbols)
            ):
                entry.bulk_at = None
                if not any(entry is e for e, _ in pairs):
                    pairs.append((entry, entry.target))
        self._by_id(pairs)
