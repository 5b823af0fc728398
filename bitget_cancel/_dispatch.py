"""Calls of one engine that cancel through the same endpoint share its requests.

A strategy cancels from many tasks at once; each request is a tenth of the account's second.
So when one call's budget slot is granted and its batch has room, the batch takes on the due
orders of the other calls waiting for the same endpoint (``Crew``): the request carries them
all, and its answer is split back, item by item, to the call that owns each order
(``split_results``). Each call keeps its own report, deadline and outcomes, and still waits for
its own slot in the budget's queue: a slot that comes when its orders already went is given
back. So no call waits longer than it would alone, and 30 tasks of 2 orders send 2 requests.
A part of a refused request being split to isolate a bad order goes alone (neither taking on
other orders nor lent), or the split would never end.

The planning rules hold across calls: at most the endpoint's batch size, never orderId and
clientOid-only orders in one request, no id twice in one request (``id_keys``), and the batch
mode of a call's ``mode`` (calls of different modes never share a request).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from typing import Generic, TypeVar

from ._answers import OrderIds, Refusal, Results
from ._plan import Batch, Mode, Plannable
from ._wire import text

P = TypeVar("P", bound=Plannable)
M = TypeVar("M")  # a member of the crew (a call)


class Crew(Generic[M]):
    """The calls of one session, by mode, in the order they began: who may ride along."""

    __slots__ = ("_members",)

    def __init__(self) -> None:
        self._members: dict[Mode, dict[M, None]] = {}

    def join(self, mode: Mode, member: M) -> None:
        self._members.setdefault(mode, {})[member] = None

    def leave(self, mode: Mode, member: M) -> None:
        self._members.get(mode, {}).pop(member, None)

    def __len__(self) -> int:
        """How many calls are running."""
        return sum(len(members) for members in self._members.values())

    def others(self, mode: Mode, member: M) -> list[M]:
        """The other calls of ``mode``, oldest first."""
        return [m for m in self._members.get(mode, ()) if m is not member]


def id_keys(order: Plannable, by_order_id: bool) -> tuple[str, ...]:
    """The ids an answer item may name ``order`` by; no two orders of a request share one."""
    ident = order.order_id if by_order_id else order.client_oid
    if by_order_id and order.client_oid is not None:
        return (f"i:{ident}", f"c:{order.client_oid}")
    return (f"i:{ident}",)


def fits(order: Plannable, batch: Batch[P], mode: Mode, taken: set[str]) -> bool:
    """Whether ``order`` may join ``batch`` (whose id keys are ``taken``) of a ``mode`` call."""
    if (order.order_id is not None) != batch.by_order_id:
        return False
    if mode == "single" and order.symbol != batch.targets[0].symbol:
        return False  # "single" names one symbol for the whole request
    return not any(key in taken for key in id_keys(order, batch.by_order_id))


def pack(targets: tuple[P, ...], mode: Mode, by_order_id: bool) -> Batch[P]:
    """Orders that fit together as one batch, in the batch mode ``mode`` gives them."""
    symbol = targets[0].symbol
    if mode == "single" or (mode == "auto" and all(t.symbol == symbol for t in targets)):
        return Batch("single", symbol, by_order_id, targets)
    return Batch("multiple", None, by_order_id, targets)


def merged(parts: Sequence[Batch[P]], mode: Mode) -> Batch[P]:
    """One request's batch from the parts of several calls (each already ``fits``)."""
    if len(parts) == 1:
        return parts[0]
    targets = tuple(order for part in parts for order in part.targets)
    return pack(targets, mode, parts[0].by_order_id)


def split_results(results: Results, parts: Sequence[Batch[P]]) -> list[Results]:
    """The answer's items for each part, matched by the ids the request sent. An item that
    names no order of any part goes to the first part (its call reports it as foreign)."""
    owner: dict[str, int] = {}
    for index, part in enumerate(parts):
        for order in part.targets:
            for key in id_keys(order, part.by_order_id):
                owner[key] = index
    by_order_id = parts[0].by_order_id
    succeeded: list[list[OrderIds]] = [[] for _ in parts]
    refused: list[list[Refusal]] = [[] for _ in parts]
    unrecognised: list[list[OrderIds]] = [[] for _ in parts]

    def owner_of(item: OrderIds | Refusal) -> int:
        order_id, client_oid = text(item.order_id), text(item.client_oid)
        if by_order_id and order_id is not None:
            return owner.get(f"i:{order_id}", 0)
        key = f"i:{client_oid}" if not by_order_id else f"c:{client_oid}"
        return owner.get(key, 0) if client_oid is not None else 0

    for item in results.succeeded:
        succeeded[owner_of(item)].append(item)
    for refusal in results.refused:
        refused[owner_of(refusal)].append(refusal)
    for item in results.unrecognised:
        unrecognised[owner_of(item)].append(item)
    return [Results(s, r, u) for s, r, u in zip(succeeded, refused, unrecognised, strict=True)]


def taken_keys(batch: Batch[P]) -> set[str]:
    return {key for order in batch.targets for key in id_keys(order, batch.by_order_id)}


def take_fitting(
    batches: Iterable[Batch[P]],
    into: Batch[P],
    mode: Mode,
    room: int,
    taken: set[str],
    whole: Container[Batch[P]] = (),
) -> tuple[list[P], list[Batch[P]]]:
    """Up to ``room`` orders of ``batches`` that fit ``into``, and the batches left (a batch
    that gave some keeps the rest, in its own mode). Batches in ``whole`` give nothing."""
    picked: list[P] = []
    left: list[Batch[P]] = []
    for batch in batches:
        if len(picked) >= room or batch.by_order_id != into.by_order_id or batch in whole:
            left.append(batch)
            continue
        rest: list[P] = []
        for order in batch.targets:
            if len(picked) < room and fits(order, into, mode, taken):
                picked.append(order)
                taken.update(id_keys(order, into.by_order_id))
            else:
                rest.append(order)
        if len(rest) == len(batch.targets):
            left.append(batch)
        elif rest:
            left.append(Batch(batch.batch_mode, batch.symbol, batch.by_order_id, tuple(rest)))
    return picked, left
