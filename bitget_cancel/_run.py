"""One ``cancel()`` call: plan -> send -> classify -> re-plan what is retryable -> report.

Each kind of order has a lane (normal orders in batches, TP/SL and plan orders one a request),
each lane its endpoint and budget, all lanes concurrently. A lane binds orders to a request only
once its budget slot is granted, and plans whatever is due afresh, together, so a retry never
costs more requests than it must. Every order is in exactly one place at any time: queued, in
flight, waiting for a retry, or final.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Callable, Iterable, Sequence

from ._answers import Results, match
from ._budget import Slot
from ._check_guard import Guarded, read_shared_guards
from ._classify import CODE_HINTS, Verdict, classify_item
from ._confirm import Finding, confirm_not_open
from ._dispatch import merged, pack, split_results, take_fitting, taken_keys
from ._exceptions import CallStopped, RequestTimeout, TransportError
from ._family import CancelRoute, CheckGuard
from ._log import log
from ._models import (
    CancelOutcome,
    CancelReport,
    CancelStatus,
    CancelTarget,
    OrderKind,
    outcome_problems,
)
from ._plan import Batch, Mode, plan
from ._policy import CallScope, Deadline
from ._session import CallStats, ExchangeSession, Reply
from ._wire import Endpoint

# progress(done, total): distinct orders with a final outcome, distinct orders known so far.
Progress = Callable[[int, int], None]
# on_outcome(outcome): each target's outcome once it is final (the one the report ends with).
OnOutcome = Callable[[CancelOutcome], object]  # what it returns is ignored

# Where an order is; used for the message of whatever the deadline leaves unresolved.
_QUEUED, _IN_FLIGHT, _WAITING, _FINAL = range(4)

_VERDICT_ACTIONS = {
    Verdict.RETRY: "will retry",
    Verdict.THROTTLED: "throttled, will retry",
    Verdict.RESYNC_CLOCK: "clock resync, then retry",
    Verdict.SPLIT: "split to isolate the refused order",
}

# Confirmation rounds: list, re-send what is open elsewhere, list again what that heard.
_CONFIRM_ROUNDS = 2

# (kind, by orderId, symbol, id): the identity of an order as a request names it.
OrderKey = tuple[OrderKind, bool, str, str]

# One request's orders, by the call that owns them; the call whose slot it is comes first.
Parts = list[tuple["CancelRun", Batch["_Order"]]]


def _by_client_oid_instead(order: _Order) -> bool:
    """Asked by its clientOid though its target gave an orderId (that said "does not exist")."""
    return order.order_id is None and order.target.order_id is not None


class _Order:
    """One order as the exchange sees it; every target naming it shares its outcome.

    It is what the planner packs: ``order_id`` is None when the order is asked by clientOid
    (also after the exchange did not know the orderId of a target that has both).
    """

    __slots__ = (
        "answered_by",
        "asked_as_other",
        "attempts",
        "by_client_oid_too",
        "cancelled_by_client_oid",
        "client_oid",
        "code",
        "confirmed",
        "due",
        "found_as",
        "found_by",
        "kind",
        "msg",
        "order_id",
        "other_client_oids",
        "place",
        "proven",
        "retried_by_client_oid",
        "sent",
        "status",
        "symbol",
        "target",
    )

    def __init__(self, target: CancelTarget) -> None:
        self.target = target
        self.kind = target.kind
        self.symbol = target.symbol
        self.order_id = target.order_id
        self.client_oid = target.client_oid
        self.attempts = 0
        self.sent = False  # some request carried it (attempts may not count that one)
        self.place = _QUEUED
        self.status: CancelStatus | None = None
        self.code: str | None = None
        self.msg: str | None = None
        self.due = 0.0
        self.retried_by_client_oid = False
        # Asked again by clientOid, cancelled as another orderId than its target gave: its
        # orderId's "does not exist" is then confirmed before it is called cancelled.
        self.cancelled_by_client_oid = False
        # Asked by the orderId a listing shows under its clientOid, not the one its target
        # gave (which said "does not exist"): a success closes that order, not the target's.
        self.asked_as_other = False
        self.by_client_oid_too = True  # False: its targets disagree on its clientOid
        self.other_client_oids: tuple[str, ...] = ()  # then: the others' clientOids
        # A "does not exist" needs no confirmation (its route is the one a listing showed).
        self.confirmed = False
        self.found_as: CancelTarget | None = None  # open under another symbol or kind
        # The check that cancelled it (``_confirm``), which names no symbol; None: a listing.
        self.found_by: str | None = None
        # The endpoint whose "does not exist" it last heard (a check need not ask it again).
        self.answered_by: Endpoint | None = None
        # A spot listing showed its orderId: a cancel by that id needs no guard listing.
        self.proven = False


def order_key(target: CancelTarget) -> OrderKey:
    if target.order_id is not None:
        return (target.kind, True, target.symbol, target.order_id)
    assert target.client_oid is not None
    return (target.kind, False, target.symbol, target.client_oid)


class _Lane:
    """The orders of one kind: what is planned, what waits for a retry, what is in flight."""

    __slots__ = ("in_flight", "kind", "ready", "riding", "route", "waiting", "wake")

    def __init__(self, kind: OrderKind) -> None:
        self.kind = kind
        self.ready: deque[Batch[_Order]] = deque()
        self.route: CancelRoute | None = None  # the route ``ready`` was planned for
        self.waiting: list[_Order] = []
        self.in_flight: set[asyncio.Task[None]] = set()
        # Requests of other calls that carry some of these orders (see _dispatch).
        self.riding: set[asyncio.Task[None]] = set()
        self.wake = asyncio.Event()

    @property
    def sending(self) -> bool:
        return bool(self.in_flight or self.riding)

    def due(self, now: float) -> bool:
        return any(o.due <= now for o in self.waiting)


class CancelRun:
    """The state of one cancel call. Use once: ``await CancelRun(...).execute()``."""

    def __init__(
        self,
        session: ExchangeSession,
        targets: Iterable[CancelTarget],
        mode: Mode,
        deadline: float | None,
        progress: Progress | None = None,
        on_outcome: OnOutcome | None = None,
        *,
        confirm: bool = False,
    ) -> None:
        self._session = session
        self._confirm = confirm
        self._on_outcome = on_outcome
        # The callbacks run in the caller's context (its contextvars), also when the answer
        # came in another call's request, in that call's task (see _dispatch).
        self._context = contextvars.copy_context()
        # With on_outcome: the targets naming each order, and the targets already told.
        self._named: dict[_Order, list[CancelTarget]] = {}
        self._told: set[CancelTarget] = set()
        self._policy = session.policy
        self._loop = session.loop
        self._mode = mode
        self._deadline_seconds = deadline
        self._progress = progress
        self._done = 0
        self._distinct = 0  # orders (not keys: one asked again by clientOid has two)
        # Distinct targets in first-seen order, each with the order it names.
        self._order_of: dict[CancelTarget, _Order] = {}
        self._orders: dict[OrderKey, _Order] = {}
        # Orders answered "does not exist" (some perhaps confirmed or re-opened since): the
        # only ones confirmation looks at, rather than every order of the call.
        self._said_not_open: dict[_Order, None] = {}
        self._asked_as_others = False  # some order went by another orderId than its target's
        self._lanes = {kind: _Lane(kind) for kind in OrderKind}
        self._feed_open = False
        self._started = self._loop.time()
        self._scope: CallScope | None = None
        self._closed = False  # the report is made: later answers are not this call's business
        self._parts: dict[asyncio.Task[None], Parts] = {}
        # Requests of other calls carrying orders of this one, and the call that sent each.
        self._riding_on: dict[asyncio.Task[None], CancelRun] = {}
        # Halves of a refused request, isolating a bad order: they go alone (see _dispatch).
        self._fragments: set[Batch[_Order]] = set()
        self.stats = CallStats()
        # What a cancel by id that takes no category must not touch (``_check_guard``): read
        # once for the call, before its first such request of an unproven order.
        self._guarding: asyncio.Task[Guarded] | None = None
        self._guarded: Guarded | None = None
        # The retry backoff drawn at one moment, by attempts (``_retry_at``).
        self._retry_moment = -1.0
        self._retry_dues: dict[int, float] = {}
        # A call that starts during an outage counts it too.
        self._fallbacks_before = session.budgets.fallbacks - int(session.budgets.degraded)
        for order in self._index(targets):
            order.place = _WAITING
            self._lanes[order.kind].waiting.append(order)

    # -- feeding a run that is already going (the panic streams listed orders in) ------------

    def open_feed(self) -> None:
        """Keep the run alive for ``feed()`` until ``close_feed()``. Call before ``execute()``."""
        self._feed_open = True

    @property
    def feed_is_open(self) -> bool:
        return self._feed_open

    def feed(self, targets: Iterable[CancelTarget], *, listed: bool = False) -> None:
        """Add targets to a running call; they are planned with whatever is due next.
        ``listed``: a spot listing of their kind showed their orderIds (the panic's)."""
        now = self._loop.time()
        for order in self._index(targets, listed):
            order.place, order.due = _WAITING, now
            lane = self._lanes[order.kind]
            lane.waiting.append(order)
            lane.wake.set()
        self._report_progress()

    def close_feed(self) -> None:
        self._feed_open = False
        for lane in self._lanes.values():
            lane.wake.set()

    def _index(self, targets: Iterable[CancelTarget], listed: bool = False) -> list[_Order]:
        """Record distinct targets; the orders new to the run.

        Each target and each key is hashed once (setdefault): a new order is made before it
        is known to be new, which costs only for the rare duplicate (benchmark 4).
        """
        order_of, orders = self._order_of, self._orders
        fresh = []
        added: list[CancelTarget] | None = [] if self._on_outcome is not None else None
        for target in targets:
            order = _Order(target)
            known = order_of.setdefault(target, order)
            if known is not order:
                known.proven = known.proven or listed
                continue  # the same target again
            order.proven = listed
            if added is not None:
                added.append(target)
            order_id = target.order_id
            # order_key(target), for the usual target: one named by orderId
            key = (target.kind, True, target.symbol, order_id) if order_id else order_key(target)
            known = orders.setdefault(key, order)
            if known is order:
                fresh.append(order)
                continue
            order_of[target] = known  # another target names the same order
            known.proven = known.proven or listed
            if target.client_oid != known.client_oid:
                # Targets that share an orderId but not a clientOid: asking by one of the
                # clientOids would answer for an order the others never named.
                known.retried_by_client_oid = True
                known.by_client_oid_too = False
                if target.client_oid is not None:
                    known.other_client_oids += (target.client_oid,)
        self._distinct += len(fresh)
        for target in added or ():
            self._named.setdefault(order_of[target], []).append(target)
        return fresh

    def fed_targets(self) -> list[CancelTarget]:
        """Every distinct target of this run so far, in first-seen order."""
        return list(self._order_of)

    def outcome_of(self, target: CancelTarget) -> CancelOutcome | None:
        """The outcome of a target once final (None while it is still being worked on)."""
        order = self._order_of.get(target)
        if order is None or order.status is None:
            return None
        return self._outcome(target, order)

    def _outcome(self, target: CancelTarget, order: _Order) -> CancelOutcome:
        """The one way an order's state becomes a target's outcome (report, on_outcome)."""
        return CancelOutcome(
            target,
            order.status,  # type: ignore[arg-type]  # set: only final orders get here
            order.code,
            self._found_message(order) if order.found_as is not None else order.msg,
            # A re-ask that is not counted (by clientOid, a split, the other API) still
            # leaves a sent order at one attempt at least; 0: no request ever named it.
            order.attempts or int(order.sent),
            order.found_as,
        )

    # -- the loop ----------------------------------------------------------------------------

    async def execute(
        self, scope: CallScope | None = None, *, stop: asyncio.Event | None = None
    ) -> CancelReport:
        """Send until every order has its outcome, the deadline, or refused credentials.

        The deadline starts here, when the first request can go: indexing the targets is not
        charged to it.
        """
        self._started = self._loop.time()
        if scope is None:
            scope = CallScope(Deadline(self._deadline_seconds, self._loop))
        self._scope = scope
        watcher = None if stop is None else self._loop.create_task(_interrupt_on(stop, scope))
        crew = self._session.crew
        crew.join(self._mode, self)
        try:
            await self._run_lanes(scope)
            if self._confirm:
                await self._confirm_rounds(scope)
        finally:
            crew.leave(self._mode, self)
            self._closed = True
            if self._guarding is not None:
                self._guarding.cancel()  # (done by now, unless the call was cancelled)
            # A shared request whose calls are all over has nobody to read its answer.
            for task, owner in list(self._riding_on.items()):
                if all(run._closed for run, _ in owner._parts.get(task, ())):
                    task.cancel()
            if watcher is not None:
                watcher.cancel()
        return self._report(scope)

    async def _run_lanes(self, scope: CallScope) -> None:
        lanes = [
            self._loop.create_task(self._lane_loop(lane, scope))
            for lane in self._lanes.values()
            if lane.waiting or self._feed_open
        ]
        try:
            await asyncio.gather(*lanes)
            await self._drain_in_flight(scope)
        finally:
            # Cancelled from outside (or any bug): no task of this call may outlive it, but a
            # request that carries orders of calls still running is theirs to wait for.
            for task in lanes:
                task.cancel()
            for lane in self._lanes.values():
                for task in lane.in_flight:
                    if not any(
                        not run._closed and run is not self for run, _ in self._parts.get(task, ())
                    ):
                        task.cancel()

    # -- confirming "does not exist" ---------------------------------------------------------

    async def _confirm_rounds(self, scope: CallScope) -> None:
        """Every "does not exist" checked against the account's open orders (``_confirm``);
        an order found open elsewhere is cancelled by its true route. Two rounds at most: the
        second checks what the first sent again."""
        for _ in range(_CONFIRM_ROUNDS):
            # (an order asked again by clientOid is filed under two keys: checked once)
            doubtful = [
                o
                for o in self._said_not_open
                if o.status is CancelStatus.NOT_OPEN and not o.confirmed
            ]
            if not doubtful or scope.over:
                break
            try:
                # In flight at the deadline, a listing is abandoned like a cancel's answer.
                findings = await asyncio.wait_for(
                    confirm_not_open(self._session, doubtful, scope, self.stats),
                    scope.deadline.remaining(),
                )
            except (CallStopped, asyncio.TimeoutError):
                break
            for order, finding in zip(doubtful, findings, strict=True):
                self._apply_finding(order, finding)
            await self._run_lanes(scope)
        why = (
            f"{self._ended(scope)} before the listings (and checks by id) answered"
            if scope.over
            else "the account's listings still showed it open"
        )
        for order in list(self._said_not_open):
            if order.status is CancelStatus.NOT_OPEN and not order.confirmed:
                self._unconfirmed(order, why)

    def _apply_finding(self, order: _Order, finding: Finding) -> None:
        found = finding.open_as
        if finding.cancelled_as is not None:
            # A check by id cancelled it: open after all, as a kind no listing shows.
            order.attempts += 1
            order.confirmed = True
            if finding.cancelled_as.kind is not order.target.kind:
                order.found_as = finding.cancelled_as
                order.found_by = finding.checked_by
            self._finish(order, CancelStatus.CANCELLED, None, None)
            log.warning(
                "%s was answered 'does not exist' but was open as a %s order: cancelled by id",
                order.target,
                finding.cancelled_as.kind.value,
            )
            return
        if found is None:
            if finding.problem is not None:
                self._unconfirmed(order, finding.problem)
            elif order.cancelled_by_client_oid:
                order.confirmed = True
                note = (
                    f"cancelled by its clientOid as another orderId; orderId "
                    f"{order.target.order_id} confirmed open nowhere on the account"
                )
                self._finish(order, CancelStatus.CANCELLED, None, note)
            else:
                order.confirmed = True
                note = "confirmed: open nowhere on the account"
                order.msg = f"{order.msg}; {note}" if order.msg else note
                if self._on_outcome is not None:
                    self._tell(self._named.get(order, ()), order)
            return
        same_route = found.kind is order.kind and found.symbol == order.symbol
        # Its true route: what the listing shows. A "does not exist" from it contradicts the
        # listing just read, as on the target's own route: a second round checks it.
        order.confirmed = False
        if not same_route:
            order.found_as = found
        order.kind, order.symbol = found.kind, found.symbol
        order.order_id = found.order_id
        order.proven = True  # its orderId, as a spot listing shows it
        order.retried_by_client_oid = True
        self._done -= 1
        order.status = None
        lane = self._lanes[order.kind]
        order.place, order.due = _WAITING, self._loop.time()
        lane.waiting.append(order)
        log.warning(
            "%s was answered 'does not exist' but is open as a %s order on %s: cancelling it there",
            order.target,
            found.kind.value,
            found.symbol,
        )

    def _unconfirmed(self, order: _Order, problem: str) -> None:
        said = f"code {order.code}" if order.code else (order.msg or "does not exist")
        self._finish(
            order,
            CancelStatus.UNRESOLVED,
            order.code,
            f"the exchange answered {said} (does not exist), which could not be confirmed: "
            f"{problem}",
        )

    async def _lane_loop(self, lane: _Lane, scope: CallScope) -> None:
        session = self._session
        while not scope.over:
            now = self._loop.time()
            if not lane.ready and not lane.due(now):
                if not lane.sending and not lane.waiting and not self._feed_open:
                    return
                await self._sleep_until_something(lane, scope, now)
                continue
            route = session.family.cancel.get(lane.kind)
            if route is None:
                self._unroutable(lane, session.family.name)
                continue
            guards = session.family.guards_for(route)
            if guards and self._guarded is None and self._unguarded_due(lane, now):
                await self._read_guards(guards, scope)
                continue
            try:
                slot = await session.slot(route.endpoint, scope)
            except CallStopped:
                return
            if route is not session.family.cancel.get(lane.kind):
                slot.give_back()  # the account type was learnt meanwhile: another endpoint
                continue
            # Bind orders to the slot only now that it is granted: whatever became due
            # while waiting for it rides in the same request.
            if lane.route is not route:
                self._unplan(lane)
                lane.route = route
            if not lane.ready:
                lane.ready.extend(self._plan_due(lane, route, self._loop.time()))
            if not lane.ready:
                slot.give_back()  # its orders went in another call's request meanwhile
                continue
            self._launch(lane, route, self._board(lane, route, lane.ready.popleft()), slot)

    def _unroutable(self, lane: _Lane, account: str) -> None:
        """This account type has no endpoint that cancels this kind of order."""
        self._unplan(lane)
        msg = f"{lane.kind.value} orders cannot be cancelled on a {account} account by this API"
        for order in lane.waiting:
            self._finish(order, CancelStatus.FAILED, None, msg)
        lane.waiting = []

    def _unplan(self, lane: _Lane) -> None:
        now = self._loop.time()
        for batch in lane.ready:
            self._fragments.discard(batch)
            for order in batch.targets:
                order.place, order.due = _WAITING, now
                lane.waiting.append(order)
        lane.ready.clear()

    def _plan_due(self, lane: _Lane, route: CancelRoute, now: float) -> list[Batch[_Order]]:
        # Orders due a moment later ride along: a few ms early costs nothing, a request does.
        horizon = now + self._policy.coalesce
        due: list[_Order] = []
        later: list[_Order] = []
        for order in lane.waiting:  # one pass: every order is here on the first plan
            if order.due <= horizon:
                order.place = _QUEUED
                due.append(order)
            else:
                later.append(order)
        if not due:
            return []
        lane.waiting = later
        if self._session.family.guards_for(route):
            due = [o for o in due if self._may_send(o, route, lane)]
        if route.needs_order_id:
            # Never a request the endpoint's rules refuse. (With account="auto" and the type
            # not learnt yet, that is the classic API's rule: warm_up() learns it first.)
            for order in (o for o in due if o.order_id is None):
                msg = f"{route.endpoint.name} cancels a {order.kind.value} order by orderId only"
                self._finish(order, CancelStatus.FAILED, None, msg)
            due = [o for o in due if o.order_id is not None]
        batches = plan(due, self._mode, route.max_batch)
        if sum(len(b.targets) for b in batches) < len(due):
            # The planner sends a wire key once; distinct orders share one only once they were
            # re-routed to where a listing found them (targets naming one order under several
            # wrong symbols or kinds). The others go in a later request: never dropped.
            planned = {id(o) for b in batches for o in b.targets}
            for order in due:
                if id(order) not in planned:
                    order.place = _WAITING
                    lane.waiting.append(order)
        return batches

    # -- what a cancel by id that takes no category must not touch (``_check_guard``) --------

    def _unguarded_due(self, lane: _Lane, now: float) -> bool:
        """Whether an order due now would go without a guard listing to prove it ours."""
        horizon = now + self._policy.coalesce
        return any(o.due <= horizon and not _proven(o) for o in lane.waiting)

    async def _read_guards(self, guards: Sequence[CheckGuard], scope: CallScope) -> None:
        """The guard listings, read once for the call (its lanes wait for the same read); then
        every waiting order they stop ends, before anything else (the deadline included)."""
        task = self._guarding
        if task is None:
            read = read_shared_guards(self._session, guards, scope, self.stats)
            task = self._guarding = self._loop.create_task(read)
        await asyncio.wait((task,), timeout=scope.deadline.remaining())
        if not task.done():
            # In flight at the deadline: abandoned like a cancel's answer, once it has counted
            # the requests it sent in the call's stats.
            task.cancel()
            await asyncio.wait((task,))
        if task.cancelled():
            guarded = Guarded(problem=f"{self._ended(scope)} before they were read")
        else:
            guarded = task.result()
        if self._guarded is not None:
            return  # another lane applied it
        self._guarded = guarded
        if guarded.problem is not None:
            log.warning("no TP/SL or plan order cancelled by id: %s", guarded.problem)
        elif guarded.spot_problem is not None:
            log.warning("no TP/SL or plan order cancelled by clientOid: %s", guarded.spot_problem)
        family = self._session.family
        for lane in self._lanes.values():
            route = family.cancel.get(lane.kind)
            if route is not None and family.guards_for(route):
                lane.waiting = [o for o in lane.waiting if self._may_send(o, route, lane)]

    def _may_send(self, order: _Order, route: CancelRoute, lane: _Lane) -> bool:
        """Whether a request of ``route`` (one the guards cover) may name ``order``. If not,
        the order ends unresolved, saying why; or waits, while the guards are not read."""
        if _proven(order):
            return True
        guarded = self._guarded
        if guarded is None:
            order.place = _WAITING
            lane.waiting.append(order)
            return False
        name = route.endpoint.name
        if guarded.problem is not None:
            why = (
                f"not cancelled by {name}: it reaches orders not ours too, and those could "
                f"not be listed ({guarded.problem})"
            )
        else:
            by_order_id = order.order_id is not None
            named = guarded.named(by_order_id, order.order_id or order.client_oid)
            if named is None:
                return by_order_id or self._placed(order, guarded)
            why = (
                f"{named}: not cancelled, so as not to touch it ({name} takes no category: "
                "it would cancel that order)"
            )
            log.warning("%s: %s", order.target, why)
        self._finish(order, CancelStatus.UNRESOLVED, None, why)
        return False

    def _placed(self, order: _Order, guarded: Guarded) -> bool:
        """A cancel by clientOid names no symbol: it goes by the orderId the spot listing
        shows under that clientOid on the order's symbol, or as asked if none shows it; listed
        on other symbols only, or the listing unread, the order ends unresolved, saying why."""
        assert order.client_oid is not None  # an order without orderId has a clientOid
        order_id, why = guarded.by_client_oid(order.client_oid, order.symbol)
        if order_id is not None:
            given = order.target.order_id
            if given is not None and given != order_id:
                order.asked_as_other = True
                self._asked_as_others = True
            order.order_id = order_id
            order.proven = True  # its orderId, as a spot listing shows it
            order.retried_by_client_oid = True  # its clientOid is that orderId
            return True
        if why is None:
            return True
        log.warning("%s: %s", order.target, why)
        self._finish(order, CancelStatus.UNRESOLVED, None, why)
        return False

    async def _sleep_until_something(self, lane: _Lane, scope: CallScope, now: float) -> None:
        wake_at = min((o.due for o in lane.waiting), default=None)
        deadline_at = scope.deadline.at
        if deadline_at is not None:
            wake_at = deadline_at if wake_at is None else min(wake_at, deadline_at)
        lane.wake.clear()
        waiters = [self._loop.create_task(lane.wake.wait())]
        waiters.append(self._loop.create_task(scope.stopped.wait()))
        try:
            timeout = None if wake_at is None else max(0.0, wake_at - now)
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    # -- sharing requests with the other calls of the session (see _dispatch) ----------------

    def _board(self, lane: _Lane, route: CancelRoute, batch: Batch[_Order]) -> Parts:
        """This call's batch, plus the due orders of other calls that fit in its room."""
        parts: Parts = [(self, batch)]
        room = route.max_batch - len(batch)
        if batch in self._fragments:
            self._fragments.discard(batch)
            return parts
        if room <= 0:
            return parts
        taken = taken_keys(batch)
        for other in self._session.crew.others(self._mode, self):
            lent = other._lend(lane.kind, route, batch, room, taken)
            if lent is not None:
                parts.append((other, lent))
                room -= len(lent)
                if room <= 0:
                    break
        return parts

    def _lend(
        self, kind: OrderKind, route: CancelRoute, into: Batch[_Order], room: int, taken: set[str]
    ) -> Batch[_Order] | None:
        """Due orders of this call that ride in another call's request (now in flight)."""
        lane = self._lanes[kind]
        scope = self._scope
        if self._closed or scope is None or scope.over or lane.route not in (None, route):
            return None
        now = self._loop.time()
        if lane.due(now):
            lane.route = route
            lane.ready.extend(self._plan_due(lane, route, now))
        picked, left = take_fitting(lane.ready, into, self._mode, room, taken, self._fragments)
        if not picked:
            return None
        lane.ready = deque(left)
        return pack(tuple(picked), self._mode, into.by_order_id)

    def _ride(self, kind: OrderKind, task: asyncio.Task[None], owner: CancelRun) -> None:
        lane = self._lanes[kind]
        lane.riding.add(task)
        self._riding_on[task] = owner

        def landed(task: asyncio.Task[None]) -> None:
            lane.riding.discard(task)
            self._riding_on.pop(task, None)
            lane.wake.set()

        task.add_done_callback(landed)

    def _launch(self, lane: _Lane, route: CancelRoute, parts: Parts, slot: Slot) -> None:
        task = self._loop.create_task(self._send(lane.kind, route, parts, slot))
        lane.in_flight.add(task)
        if len(parts) > 1:
            self._parts[task] = parts
        for run, _ in parts[1:]:
            run._ride(lane.kind, task, self)

        def landed(task: asyncio.Task[None]) -> None:
            slot.release()  # a task cancelled before it ran never reached its own finally
            lane.in_flight.discard(task)
            self._parts.pop(task, None)
            lane.wake.set()
            if not task.cancelled() and task.exception() is not None:
                log.error("internal error while sending a batch", exc_info=task.exception())

        task.add_done_callback(landed)

    async def _drain_in_flight(self, scope: CallScope) -> None:
        """In-flight answers are still taken, until the deadline if there is one."""
        tasks = {t for lane in self._lanes.values() for t in (*lane.in_flight, *lane.riding)}
        if tasks:
            await asyncio.wait(tasks, timeout=scope.deadline.remaining())

    # -- one request -------------------------------------------------------------------------

    async def _send(self, kind: OrderKind, route: CancelRoute, parts: Parts, slot: Slot) -> None:
        assert self._scope is not None
        batch = merged([part for _, part in parts], self._mode)
        for order in batch.targets:
            order.attempts += 1
            order.sent = True
            order.place = _IN_FLIGHT
        for run, _ in parts[1:]:
            run.stats.requests[route.endpoint.name] += 1
        try:
            reply = await self._session.send(
                route.endpoint,
                route.codec,
                self._request_scope(parts),
                self.stats,
                slot,
                body=route.encode(batch),
                orders=len(batch),
            )
        except CallStopped:
            # Not sent: the deadline left no timeout the request could meet.
            for run, part in parts:
                run._unsend(kind, part.targets)
            return
        except TransportError as exc:
            if isinstance(exc, RequestTimeout):
                why = f"timeout: {exc} (the exchange may have cancelled; asking again)"
            else:
                why = f"network: {exc}"
            log.debug("%s n=%d: no answer: %s", route.endpoint.name, len(batch), why)
            for run, part in parts:
                if not run._closed:
                    run._retry(part.targets, None, why)
            return
        results = route.results(reply.data, batch) if reply.verdict is Verdict.OK else None
        if len(parts) == 1:
            self._apply(self._lanes[kind], route, batch, reply, results)
            return
        shares = (
            [None] * len(parts)
            if results is None
            else split_results(results, [p for _, p in parts])
        )
        for (run, part), share in zip(parts, shares, strict=True):
            if run._closed:
                continue
            if reply.verdict is Verdict.CREDENTIALS and run._scope is not None:
                run._scope.refuse(reply.code or str(reply.status), reply.msg)
            run._apply(run._lanes[kind], route, part, reply, share)

    def _request_scope(self, parts: Parts) -> CallScope:
        """Whose deadline bounds a request: the latest of the calls it carries, so that a call
        with a short deadline does not cut the request short for the others (it stops waiting
        for the answer at its own deadline). Nothing goes once this call's own deadline is
        past (its own scope then stops the request)."""
        own = self._scope
        assert own is not None
        if len(parts) == 1 or own.deadline.expired():
            return own
        latest = own
        for run, _ in parts[1:]:
            scope = run._scope
            if scope is None or run._closed or scope.over:
                continue
            if scope.deadline.at is None:
                return scope
            if latest.deadline.at is not None and scope.deadline.at > latest.deadline.at:
                latest = scope
        return latest

    def _unsend(self, kind: OrderKind, orders: Sequence[_Order]) -> None:
        """Orders of a request that was not sent after all: due again, not an attempt."""
        now = self._loop.time()
        lane = self._lanes[kind]
        for order in orders:
            order.attempts -= 1
            order.place, order.due = _WAITING, now
            lane.waiting.append(order)
        lane.wake.set()

    def _apply(
        self,
        lane: _Lane,
        route: CancelRoute,
        batch: Batch[_Order],
        reply: Reply[object],
        results: Results | None,
    ) -> None:
        orders = batch.targets
        verdict, code, msg = reply.verdict, reply.code, reply.msg
        if verdict is Verdict.OK:
            if results is not None:
                self._apply_items(batch, results, route.endpoint)
                return
            verdict, msg = Verdict.RETRY, "an answer of an unexpected shape"
        log.debug(
            "%s n=%d: HTTP %d code=%s msg=%s -> %s",
            route.endpoint.name,
            len(orders),
            reply.status,
            code,
            msg,
            _VERDICT_ACTIONS.get(verdict, verdict.value),
        )
        if verdict is Verdict.RETRY or verdict is Verdict.THROTTLED:
            self._retry(orders, code, msg)
        elif verdict is Verdict.RESYNC_CLOCK:
            self._retry(orders, code, msg, backoff=False)
        elif verdict is Verdict.SPLIT:
            # One bad order must not fail its neighbours: halve until it is alone. A split
            # is not an attempt of the orders (they get their own answers next).
            for order in orders:
                order.attempts -= 1
                order.place = _QUEUED
            half = len(orders) // 2
            for part in (orders[half:], orders[:half]):
                if part:  # (a call's share of a shared request may be a single order)
                    fragment = Batch(batch.batch_mode, batch.symbol, batch.by_order_id, part)
                    self._fragments.add(fragment)
                    lane.ready.appendleft(fragment)
            lane.wake.set()
        elif verdict is Verdict.NOT_OPEN:
            (order,) = orders
            self._not_open(order, code, msg, route.endpoint)
        elif verdict is Verdict.WRONG_ACCOUNT and self._session.learn_account(code, route.endpoint):
            # The other API family serves this account: re-plan, not an attempt.
            for order in orders:
                order.attempts -= 1
            self._retry(orders, code, msg, backoff=False)
        else:
            hint = CODE_HINTS.get(code or "")
            note = f"{msg} ({hint})" if hint else msg
            log.warning(
                "%s refused: code=%s msg=%s (%d orders)",
                route.endpoint.name,
                code,
                note,
                len(orders),
            )
            for order in orders:
                self._finish(order, CancelStatus.FAILED, code, note)

    def _apply_items(self, batch: Batch[_Order], results: Results, endpoint: Endpoint) -> None:
        matched = match(batch.targets, batch.by_order_id, results)
        succeeded, elsewhere = matched.succeeded, matched.elsewhere
        if not batch.by_order_id or self._asked_as_others:
            # Asked by clientOid (or by the orderId a listing shows under it) after its own
            # orderId's "does not exist" on this route and symbol: whatever the success names,
            # it closed an order that orderId does not name, which may be open elsewhere.
            # (Many answers name no orderId at all.)
            stale = [o for o in succeeded if o.asked_as_other or _by_client_oid_instead(o)]
            if stale:
                succeeded = [o for o in succeeded if o not in stale]
                elsewhere = [*elsewhere, *stale]
        self._finish_all(succeeded, CancelStatus.CANCELLED, None, None)
        for order, refusal in matched.refused:
            code, msg = refusal.code, refusal.msg
            verdict = classify_item(code, msg)
            if verdict is Verdict.NOT_OPEN:
                self._not_open(order, code, msg, endpoint)
            elif verdict in (Verdict.RETRY, Verdict.THROTTLED, Verdict.RESYNC_CLOCK):
                self._retry([order], code, msg or "transient error")
            else:
                if verdict is Verdict.CREDENTIALS and self._scope is not None:
                    self._scope.refuse(code or "", msg or "credentials refused")
                self._finish(order, CancelStatus.FAILED, code, msg)
        for order in elsewhere:
            self._cancelled_elsewhere(order, endpoint)
        if matched.again:
            log.warning("%d orders without a verdict in an answer; again", len(matched.again))
            why = "the answer did not mention this order in a shape that confirms it"
            self._retry(matched.again, None, why)

    def _not_open(
        self, order: _Order, code: str | None, msg: str | None, endpoint: Endpoint
    ) -> None:
        """Not open by its orderId: a target that also has a clientOid is asked by that once
        more before it is called not open (a stale orderId must not hide a live order)."""
        order.answered_by = endpoint
        route = self._session.family.cancel.get(order.kind)
        askable = route is not None and not route.needs_order_id
        if askable and order.order_id is not None and order.client_oid is not None:
            by_client_oid = (order.kind, False, order.symbol, order.client_oid)
            if not order.retried_by_client_oid and by_client_oid not in self._orders:
                order.retried_by_client_oid = True
                order.order_id = None
                self._orders[by_client_oid] = order
                order.attempts -= 1  # a new question, not a repeat of the old one
                self._retry([order], code, msg or "not open by orderId", backoff=False)
                return
        self._said_not_open[order] = None
        self._finish(order, CancelStatus.NOT_OPEN, code, msg)

    def _cancelled_elsewhere(self, order: _Order, endpoint: Endpoint) -> None:
        """Asked by its clientOid after its orderId's "does not exist", the exchange cancelled
        an order of another orderId (a stale orderId, or ids that name two orders). That
        order is closed; the one the target's orderId names may be open under another symbol
        or kind: it is confirmed like any "does not exist" before the target is called
        cancelled (``_apply_finding``)."""
        if not self._confirm:  # the caller takes "does not exist" as it comes
            self._finish(order, CancelStatus.CANCELLED, None, None)
            return
        order.asked_as_other = False
        order.cancelled_by_client_oid = True
        order.order_id = order.target.order_id
        order.proven = False  # no listing showed that orderId
        order.answered_by = endpoint
        log.warning(
            "%s: its clientOid named another order (cancelled); its orderId said 'does not "
            "exist': confirming it",
            order.target,
        )
        self._said_not_open[order] = None
        self._finish(order, CancelStatus.NOT_OPEN, order.code, order.msg)

    # -- bookkeeping -------------------------------------------------------------------------

    def _finish(
        self, order: _Order, status: CancelStatus, code: str | None, msg: str | None
    ) -> None:
        self._finish_all((order,), status, code, msg)

    def _finish_all(
        self, orders: Iterable[_Order], status: CancelStatus, code: str | None, msg: str | None
    ) -> None:
        """``_finish`` each of ``orders`` (an answer's successes at once: benchmark 4)."""
        progress, on_outcome = self._progress, self._on_outcome
        for order in orders:
            if order.status is None:
                self._done += 1
                if progress is not None:
                    self._report_progress()
            order.status, order.code, order.msg, order.place = status, code, msg, _FINAL
            if on_outcome is not None and not self._provisional(order):
                self._tell(self._named.get(order, ()), order)

    def _provisional(self, order: _Order) -> bool:
        """A "does not exist" that confirmation has yet to check is not final: on_outcome
        hears of it once it is confirmed, found open elsewhere, or left unresolved."""
        return self._confirm and order.status is CancelStatus.NOT_OPEN and not order.confirmed

    def _tell(self, targets: Iterable[CancelTarget], order: _Order) -> None:
        """Hand each target's final outcome to ``on_outcome``, once."""
        for target in targets:
            if self._on_outcome is None:
                return
            if target in self._told:
                continue
            self._told.add(target)
            outcome = self._outcome(target, order)
            try:
                self._context.run(self._on_outcome, outcome)
            except Exception:  # a bot's bookkeeping bug must never stop a cancel
                log.exception("on_outcome callback failed; ignoring it from now on")
                self._on_outcome = None

    def _report_progress(self) -> None:
        if self._progress is None:
            return
        try:
            self._context.run(self._progress, self._done, self._distinct)
        except Exception:  # a display bug must never stop a cancel
            log.exception("progress callback failed; ignoring it from now on")
            self._progress = None

    def _retry(
        self,
        orders: Sequence[_Order],
        code: str | None,
        msg: str,
        *,
        backoff: bool = True,
    ) -> None:
        now = self._loop.time()
        policy = self._policy
        for order in orders:
            lane = self._lanes[order.kind]
            order.code, order.msg = code, msg
            if order.attempts >= policy.max_attempts:
                self._finish(
                    order,
                    CancelStatus.UNRESOLVED,
                    code,
                    f"gave up after {order.attempts} attempts; last error: {msg}",
                )
                continue
            self._session.metrics.retries += 1
            order.due = self._retry_at(now, order.attempts) if backoff else now
            order.place = _WAITING
            lane.waiting.append(order)
            lane.wake.set()

    def _retry_at(self, now: float, attempts: int) -> float:
        """When orders refused at ``now`` after ``attempts`` are due again: one backoff per
        refused answer (drawn once for every order it refused, whether they are handed in
        together or one by one), so that they ride in as few requests as they fill. Jittered
        per order, they would scatter into many."""
        if self._retry_moment != now:
            self._retry_moment = now
            self._retry_dues.clear()
        due = self._retry_dues.get(attempts)
        if due is None:
            due = self._retry_dues[attempts] = now + self._policy.delay(attempts, self._session.rng)
        return due

    def _report(self, scope: CallScope) -> CancelReport:
        refusal = scope.refusal
        cut_short = False  # the deadline or an interruption left some order without an answer
        for order in self._orders.values() if self._done < len(self._orders) else ():
            if order.status is not None:
                continue
            if refusal is not None and order.place != _IN_FLIGHT:
                code, msg = refusal
                self._finish(
                    order, CancelStatus.FAILED, code, f"{msg} (not sent: credentials refused)"
                )
            else:
                cut_short = True
                order.status = CancelStatus.UNRESOLVED
                order.msg = self._unresolved_reason(order, scope)
        problems: tuple[str, ...] = ()
        if refusal is not None:
            hint = CODE_HINTS.get(refusal[0])
            problems = (f"credentials refused: code {refusal[0]}, {hint or refusal[1]}",)
        elif cut_short:
            problems = (f"{self._ended(scope)} before every order had its answer",)
        outcomes = [self._outcome(target, order) for target, order in self._order_of.items()]
        problems += outcome_problems(outcomes)
        if self._on_outcome is not None:  # what became final only now: unresolved, refused
            for target, order in self._order_of.items():
                self._tell((target,), order)
        return CancelReport(
            outcomes,
            requests=self.stats.total,
            elapsed=self._loop.time() - self._started,
            throttled=self.stats.throttled,
            problems=problems,
            refused_code=None if refusal is None else refusal[0],
            budget_fallbacks=self._session.budgets.fallbacks - self._fallbacks_before,
        )

    @staticmethod
    def _found_message(order: _Order) -> str:
        found, target = order.found_as, order.target
        assert found is not None
        wrong = [
            what
            for what, differs in (
                ("symbol", found.symbol != target.symbol),
                ("kind", found.kind is not target.kind),
            )
            if differs
        ]
        what = " and ".join(wrong) or "route"
        # A check by id names no symbol: the order's own is not known.
        where = (
            f"on {found.symbol}"
            if order.found_by is None
            else f"(found by its id at {order.found_by}, which shows no symbol)"
        )
        outcome = {
            CancelStatus.CANCELLED: "cancelled there",
            CancelStatus.NOT_OPEN: "not open there any more",
        }.get(order.status, f"{order.status}: {order.msg}")  # type: ignore[arg-type]
        return (
            f"the target named the wrong {what}: the order was open as a {found.kind.value} "
            f"order {where}; {outcome}"
        )

    @staticmethod
    def _ended(scope: CallScope) -> str:
        seconds = scope.deadline.seconds
        if seconds is not None and scope.deadline.expired():
            return f"deadline of {seconds:g}s passed"
        return "the call was interrupted" if scope.interrupted else "the call stopped"

    def _unresolved_reason(self, order: _Order, scope: CallScope) -> str:
        why = self._ended(scope)
        if order.place == _IN_FLIGHT:
            return f"{why} while waiting for the answer (the cancel may have happened)"
        last = f"; last error: {order.msg}" if order.msg else ""
        if order.sent:
            return f"{why} before a retry could be sent{last}"
        return f"{why} before it could be sent"


def _proven(order: _Order) -> bool:
    """A request by its orderId, which a spot listing showed: nothing else answers to it."""
    return order.proven and order.order_id is not None


async def _interrupt_on(stop: asyncio.Event, scope: CallScope) -> None:
    await stop.wait()
    scope.interrupt()
