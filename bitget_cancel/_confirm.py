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

Costs nothing when no order was answered "does not exist". Concurrent calls of one engine
share their listings (``_shared_listing``): one listing, begun after each call's answers,
serves them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ._listing import list_open_orders
from ._models import CancelTarget, OpenOrders, OrderKind
from ._policy import CallScope
from ._session import CallStats, ExchangeSession
from ._shared_listing import confirmation_listings


class Ambiguous(Protocol):
    """An order answered "does not exist" (its ids as the caller gave them)."""

    @property
    def target(self) -> CancelTarget: ...

    @property
    def kind(self) -> OrderKind: ...

    @property
    def by_client_oid_too(self) -> bool:
        """False when targets naming this order disagree on its clientOid."""


@dataclass(frozen=True, slots=True)
class Finding:
    """What the account's listings say of one ambiguous order.

    ``open_as``: the order is open, as this (its true symbol and kind). Else ``problem``: why
    it could not be confirmed (None: confirmed not open anywhere on the account).
    """

    open_as: CancelTarget | None = None
    problem: str | None = None


async def confirm_not_open(
    session: ExchangeSession, orders: Sequence[Ambiguous], scope: CallScope, stats: CallStats
) -> list[Finding]:
    """One finding per order, in order: open (and how), confirmed not open, or unknown.
    The listings' requests are counted in ``stats``."""
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
    findings: list[Finding] = []
    for order in orders:
        asked = order.target
        found = None
        if asked.order_id is not None:
            found = by_order_id.get(asked.order_id)
        if found is None and asked.client_oid is not None and order.by_client_oid_too:
            found = by_client_oid.get((asked.symbol, asked.client_oid))
        # Named by its orderId (the account's own id), an order open nowhere is not open.
        seen_on = elsewhere.get(asked.client_oid or "", ()) if asked.order_id is None else ()
        if found is not None:
            findings.append(Finding(open_as=found))  # seen open: whatever else failed
        elif seen_on:
            # Not cancelled there: a clientOid is taken as unique on one symbol only.
            on = ", ".join(sorted(seen_on))
            why = f"clientOid {asked.client_oid!r} is open on {on}, not on {asked.symbol}"
            findings.append(Finding(problem=why))
        elif problem is not None:
            findings.append(Finding(problem=problem))
        elif order.kind not in family.listing:
            why = f"{order.kind.value} orders cannot be listed on a {family.name} account"
            findings.append(Finding(problem=why))
        else:
            findings.append(Finding())
    return findings
