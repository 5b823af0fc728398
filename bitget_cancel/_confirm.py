"""Confirming "does not exist": is an order the exchange says is not open really not open?

43001, 40768, 43025, 25204 and their kin cannot tell "gone" from "not here": an orderId filed
under another symbol, or a TP/SL or plan order sent to the normal orders' endpoint, hears the
same answer as a filled one. Before a report says ``all_closed``, every such answer is checked
against the account's open orders of every kind on every symbol.

How: one listing of each kind the account's API can list, for the whole account (no symbol),
read to its last page by ``_listing.list_pages`` (stuck and cycling cursors make it
incomplete, never empty). Why not the order-detail endpoints (v2 ``trade/orderInfo``, v3
``trade/order-info``, 20 req/s each, by orderId or clientOid without a symbol): they cost one
request per ambiguous order, and their pages do not say that they show TP/SL or plan orders,
whose "does not exist" would stay as ambiguous as before. A listing costs one request per 100
open orders of each kind, whatever the number of ambiguous orders: after a cancel little is
left open, so it is a few requests (measured: ``benchmarks/workloads/confirm.py``).

A kind the account cannot list (plan orders on a unified account) is checked instead, order
by order, by that kind's check route (``ApiFamily.checks``: a cancel by id that takes no
symbol), and only for the orders the listings did not settle: an order it cancels was open as
that kind (the outcome is ``cancelled``); its "does not exist" confirms that kind too; any other
answer (an error, 429, no answer, a shape not documented) leaves the order unresolved. An order
whose own "does not exist" came from that very endpoint was asked that question already. Such a
check reaches orders that are not ours too (a UTA's futures TP/SL orders): those are listed
first (``ApiFamily.check_guards``, ``_check_guard``), once for all the orders checked together
and only when a check is due, and no id they show is asked; nor is an id of an order the
listings just showed (its clientOid on another symbol: the check names no symbol, so it may
cancel that order, or say "does not exist" of it and nothing of the target's).

Costs nothing when no order was answered "does not exist". Concurrent calls of one engine
share their listings (``_shared_listing``): one listing, begun after each call's answers,
serves them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ._answers import match
from ._check_guard import Guarded, read_shared_guards
from ._classify import Verdict, classify_item
from ._exceptions import CallStopped, TransportError
from ._family import CancelRoute
from ._listing import list_open_orders
from ._log import log
from ._models import CancelTarget, OpenOrders, OrderKind
from ._plan import Batch
from ._policy import CallScope
from ._session import CallStats, ExchangeSession, Reply
from ._shared_listing import confirmation_listings
from ._wire import Endpoint


class Ambiguous(Protocol):
    """An order answered "does not exist" (its ids as the caller gave them)."""

    @property
    def target(self) -> CancelTarget: ...

    @property
    def kind(self) -> OrderKind: ...

    @property
    def by_client_oid_too(self) -> bool:
        """False when targets naming this order disagree on its clientOid."""

    @property
    def other_client_oids(self) -> tuple[str, ...]:
        """Where targets disagree: the clientOids of the targets but the first."""

    @property
    def order_id(self) -> str | None:
        """The orderId it is asked by now (None once it was asked by its clientOid)."""

    @property
    def answered_by(self) -> Endpoint | None:
        """The endpoint whose "does not exist" made it ambiguous (None: not known)."""

    @property
    def cancelled_by_client_oid(self) -> bool:
        """Its clientOid's order (of another orderId) is cancelled: only its orderId is in
        question."""


@dataclass(frozen=True, slots=True)
class Finding:
    """What the account's listings (and checks by id) say of one ambiguous order.

    ``open_as``: the order is open, as this (its true symbol and kind). ``cancelled_as``: a
    check cancelled it, as this kind (the symbol is the target's: the check names none).
    Else ``problem``: why it could not be confirmed (None: confirmed not open anywhere on the
    account).
    """

    open_as: CancelTarget | None = None
    problem: str | None = None
    cancelled_as: CancelTarget | None = None
    checked_by: str | None = None  # the endpoint that cancelled it (with ``cancelled_as``)


async def confirm_not_open(
    session: ExchangeSession, orders: Sequence[Ambiguous], scope: CallScope, stats: CallStats
) -> list[Finding]:
    """One finding per order, in order: open (and how), cancelled by a check, confirmed not
    open, or unknown. The listings' and the checks' requests are counted in ``stats``."""
    listed_kinds: set[OrderKind] = set()
    orders_open: list[CancelTarget] = []
    problems: list[str] = []

    async def lister(shared: CallScope, counted: CallStats) -> OpenOrders:
        return await list_open_orders(session, None, kinds, shared, stats=counted)

    while True:
        # The account type may be learnt during a listing (which then lists those kinds
        # again on its API): the kinds only the new type lists are listed too.
        family = session.family
        kinds = tuple(k for k in OrderKind if k in family.listing and k not in listed_kinds)
        if not kinds:
            break
        alone = len(session.crew) <= 1
        listed = await confirmation_listings(session).read(kinds, lister, scope, stats, alone=alone)
        listed_kinds.update(kinds)
        orders_open += listed.orders
        if not listed.complete:
            problems += listed.problems or ("listing incomplete",)
    # orderIds are the account's (unique across symbols and kinds); a clientOid is taken as
    # unique on one symbol only, so it names an order on the target's own symbol.
    by_order_id: dict[str, CancelTarget] = {}
    by_client_oid: dict[tuple[str, str], CancelTarget] = {}
    # Where else each clientOid is open: not on the target's symbol is not "open nowhere".
    elsewhere: dict[str, set[str]] = {}
    for target in orders_open:
        if target.order_id is not None:
            by_order_id[target.order_id] = target
        if target.client_oid is not None:
            by_client_oid[target.symbol, target.client_oid] = target
            elsewhere.setdefault(target.client_oid, set()).add(target.symbol)
    problem = "; ".join(problems) or None
    unchecked = family.unchecked_kinds()
    findings: list[Finding] = []
    # Found by clientOid as another orderId than the target gave (a stale orderId, or ids that
    # disagree), where a kind no listing shows might still hold that orderId: it is checked
    # by orderId first, and the clientOid's order stands only once that says "does not exist".
    stale: dict[int, CancelTarget] = {}
    for order in orders:
        asked = order.target
        found = None
        if asked.order_id is not None:
            found = by_order_id.get(asked.order_id)
        by_client_oid_too = order.by_client_oid_too and not order.cancelled_by_client_oid
        if found is None and asked.client_oid is not None and by_client_oid_too:
            found = by_client_oid.get((asked.symbol, asked.client_oid))
            if found is not None and asked.order_id is not None and family.checks:
                stale[len(findings)] = found
                findings.append(Finding())
                continue
        # Named by its orderId (the account's own id), an order open nowhere is not open.
        seen_on = elsewhere.get(asked.client_oid or "", ()) if asked.order_id is None else ()
        # Targets that share its orderId but not its clientOid: its clientOid is not asked
        # (it would answer for an order the others never named), yet open it is no all-clear.
        disowned = None
        if found is None and not order.by_client_oid_too:
            disowned = _open_by_client_oid(by_client_oid, asked.symbol, _client_oids(order))
        if found is not None:
            findings.append(Finding(open_as=found))  # seen open: whatever else failed
        elif disowned is not None:
            why = (
                f"clientOid {disowned.client_oid!r} is open on {asked.symbol} as orderId "
                f"{disowned.order_id}, and the targets naming orderId {asked.order_id} "
                "disagree on its clientOid"
            )
            findings.append(Finding(problem=why))
        elif seen_on:
            # Not cancelled there: a clientOid is taken as unique on one symbol only.
            on = ", ".join(sorted(seen_on))
            why = f"clientOid {asked.client_oid!r} is open on {on}, not on {asked.symbol}"
            findings.append(Finding(problem=why))
        elif problem is not None:
            findings.append(Finding(problem=problem))
        elif unchecked:
            names = ", ".join(k.value for k in unchecked)
            why = f"{names} orders can be neither listed nor checked on a {family.name} account"
            findings.append(Finding(problem=why))
        else:
            findings.append(Finding())
    # What no listing can show: each order the listings left unsettled, asked by its id.
    settled = [f.open_as is not None or f.problem is not None for f in findings]
    unsettled = [i for i, done in enumerate(settled) if not done]
    if unsettled and family.checks:
        questions = [
            _questions(
                family.checks, orders[i], i not in stale and not orders[i].cancelled_by_client_oid
            )
            for i in unsettled
        ]
        # The orders the listings just showed: a check by one of their ids would speak of them.
        guarded = _listed_guard(orders_open)
        if any(questions) and family.check_guards:
            # What the checks could cancel that is not ours: listed first, once for all.
            guarded = guarded.joined(
                await read_shared_guards(session, family.check_guards, scope, stats)
            )
        checked = await asyncio.gather(
            *(
                _check_unlisted(session, family.checks, orders[i], asks, guarded, scope, stats)
                for i, asks in zip(unsettled, questions, strict=True)
            )
        )
        for i, finding in zip(unsettled, checked, strict=True):
            if i in stale and finding.problem is None:
                if finding.cancelled_as is not None:
                    log.warning(
                        "%s: its orderId was open as a %s order (cancelled by id); its "
                        "clientOid names another open order: cancelling that one too",
                        orders[i].target,
                        finding.cancelled_as.kind.value,
                    )
                finding = Finding(open_as=stale[i])
            findings[i] = finding
    return findings


def _listed_guard(listed: Sequence[CancelTarget]) -> Guarded:
    """The orders the listings just showed, by their ids. A check by clientOid names no
    symbol: asked by the clientOid of one of them (on another symbol than the target's), it
    may cancel that order (a TP/SL one), or answer "does not exist" of it (a normal one),
    which says nothing of the target's."""
    order_ids: dict[str, str] = {}
    client_oids: dict[str, str] = {}
    for target in listed:
        what = f"a {target.kind.value} order on {target.symbol}"
        if target.order_id is not None:
            order_ids[target.order_id] = what
        if target.client_oid is not None:
            client_oids[target.client_oid] = what
    return Guarded(order_ids, client_oids)


# A check: the kind it checks, its route, and whether it asks by orderId (else by clientOid).
Question = tuple[OrderKind, CancelRoute, bool]


def _questions(
    checks: Mapping[OrderKind, CancelRoute], order: Ambiguous, by_client_oid: bool = True
) -> list[Question]:
    """The checks ``order`` needs, in the order they are asked: each check's endpoint by
    orderId, then by clientOid too (a stale orderId must not hide a live order), as the cancel
    itself asks; not what its own "does not exist" already answered. ``by_client_oid`` False:
    by orderId only (its clientOid's order is listed already)."""
    target = order.target
    ways = [target.order_id is not None]
    both = target.order_id is not None and target.client_oid is not None
    if both and order.by_client_oid_too and by_client_oid:
        ways.append(False)
    asked: set[Endpoint] = set()
    questions: list[Question] = []
    for kind, route in checks.items():
        if route.endpoint not in asked:
            asked.add(route.endpoint)
            todo = ways
            if route.endpoint == order.answered_by:
                # Its own "does not exist" came from there: by orderId, and by clientOid too
                # once it was asked so (another target of the call may have held that back).
                todo = [w for w in ways if not w] if order.order_id is not None else []
            questions += [(kind, route, by_order_id) for by_order_id in todo]
    return questions


async def _check_unlisted(
    session: ExchangeSession,
    checks: Mapping[OrderKind, CancelRoute],
    order: Ambiguous,
    questions: Sequence[Question],
    guarded: Guarded,
    scope: CallScope,
    stats: CallStats,
) -> Finding:
    """One order against every kind only a check can see: cancelled as the first kind whose
    check cancels it, confirmed when every check says "does not exist", else unresolved. No
    check is sent by an id the guard listings show, nor when they could not be read."""
    target = order.target
    for kind, route, by_order_id in questions:
        name = route.endpoint.name
        if guarded.problem is not None:
            why = f"{kind.value} orders not checked by {name}: it reaches orders not ours too"
            return Finding(problem=f"{why}, and those could not be listed ({guarded.problem})")
        named = guarded.named(by_order_id, target.order_id if by_order_id else target.client_oid)
        if named is not None:
            why = f"{named} (listed open): not asked of {name}, so as not to cancel it"
            return Finding(problem=why)
        finding = await _check(session, kind, route, target, by_order_id, scope, stats)
        if finding is not None:
            return finding
    unasked = _client_oids(order) if not order.by_client_oid_too else ()
    if unasked:
        # Its clientOids not asked (targets sharing its orderId disagree on them): no check
        # has said that they are not open as these kinds.
        kinds = "/".join(kind.value for kind in checks)
        why = (
            f"clientOids {', '.join(map(repr, unasked))} not checked as {kinds} orders: "
            f"the targets naming orderId {target.order_id} disagree"
        )
        return Finding(problem=why)
    return Finding()


def _client_oids(order: Ambiguous) -> tuple[str, ...]:
    """Every clientOid the targets naming ``order`` gave."""
    first = order.target.client_oid
    return order.other_client_oids if first is None else (first, *order.other_client_oids)


def _open_by_client_oid(
    listed: Mapping[tuple[str, str], CancelTarget], symbol: str, client_oids: Sequence[str]
) -> CancelTarget | None:
    """The first order the listings show open on ``symbol`` under one of ``client_oids``."""
    return next((listed[symbol, c] for c in client_oids if (symbol, c) in listed), None)


async def _check(
    session: ExchangeSession,
    kind: OrderKind,
    route: CancelRoute,
    target: CancelTarget,
    by_order_id: bool,
    scope: CallScope,
    stats: CallStats,
) -> Finding | None:
    """Asks ``route`` to cancel ``target`` by its orderId (or its clientOid). None: it
    answered "does not exist"; else what the answer settles: cancelled, or a problem. Answers
    that asking again may change (no answer, 429, a transient code, a garbled or undocumented
    shape) are asked again, within the retry policy's attempts, like a listing's page."""
    batch = Batch("single", target.symbol, by_order_id, (target,))
    name = route.endpoint.name
    policy = session.policy
    failures = 0
    while True:
        try:
            reply = await session.call(
                route.endpoint, route.codec, scope, stats, body=route.encode(batch), orders=1
            )
        except CallStopped as exc:
            return Finding(problem=f"{kind.value} orders not checked by {name}: {exc.reason}")
        except TransportError as exc:
            verdict, said = Verdict.RETRY, f"no answer ({exc})"
        else:
            verdict, said = _read_check(reply, route, batch)
            if verdict is Verdict.NOT_OPEN:
                return None
            if verdict is Verdict.OK:
                found = CancelTarget(
                    symbol=target.symbol,
                    order_id=target.order_id,
                    client_oid=target.client_oid,
                    kind=kind,
                )
                return Finding(cancelled_as=found, checked_by=name)
        failures += 1
        transient = verdict in (Verdict.RETRY, Verdict.THROTTLED, Verdict.RESYNC_CLOCK)
        if not transient or failures >= policy.max_attempts or scope.over:
            times = f" ({failures} attempts)" if failures > 1 else ""
            return Finding(problem=f"{name} (checking {kind.value} orders) {said}{times}")
        if verdict is not Verdict.RESYNC_CLOCK:  # (the session resynced the clock already)
            delay = policy.delay(failures, session.rng)
            remaining = scope.deadline.remaining()
            await asyncio.sleep(delay if remaining is None else min(delay, remaining))


def _read_check(reply: Reply[Any], route: CancelRoute, batch: Batch[Any]) -> tuple[Verdict, str]:
    """What a check's answer says of its one order: OK (cancelled), NOT_OPEN, or another
    verdict and the words for it. A success that does not name the order is no verdict."""
    verdict = reply.verdict
    if verdict is not Verdict.OK:
        said = f"code {reply.code}: {reply.msg}" if reply.code else reply.msg
        return verdict, f"answered {said}"
    results = route.results(reply.data, batch)
    if results is None:
        return Verdict.RETRY, "answered in a shape it does not document"
    matched = match(batch.targets, batch.by_order_id, results)
    if matched.succeeded or matched.elsewhere:
        # (by clientOid as another orderId: its orderId was asked first, "does not exist")
        return Verdict.OK, "cancelled it"
    if matched.refused:
        ((_, refusal),) = matched.refused
        verdict = classify_item(refusal.code, refusal.msg)
        if verdict is Verdict.OK:
            verdict = Verdict.FAIL  # a refusal is never a cancel, whatever its code says
        return verdict, f"answered code {refusal.code}: {refusal.msg}"
    return Verdict.RETRY, "answered without naming the order in a shape that confirms it"
