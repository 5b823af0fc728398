"""Orders -> batches. Pure functions: no I/O, no clock.

Generic over what it packs: anything with ``symbol``, ``order_id`` and ``client_oid`` (a
``CancelTarget``, or the run's own order records).

Rules (from the exchange and from what the answers let us match):
- one request carries at most 50 orders and never mixes orderId and clientOid-only orders;
- within one request an id appears at most once, so every answer item matches one order;
- ``auto`` sends the fewest requests: ceil(n_by_order_id/50) + ceil(n_by_client_oid/50), and a
  batch whose orders share one symbol goes as ``single``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

from ._exceptions import InvalidArgument, InvalidMode
from ._models import CancelTarget

Mode = Literal["auto", "single", "multiple"]
BatchMode = Literal["single", "multiple"]
MODES: tuple[Mode, ...] = ("auto", "single", "multiple")
MAX_BATCH = 50

# (by_order_id, symbol, id): the entry a request carries; targets sharing it are one order.
WireKey = tuple[bool, str, str]


class Plannable(Protocol):
    """What the planner reads of an order: a request names it by order_id, else client_oid."""

    @property
    def symbol(self) -> str: ...

    @property
    def order_id(self) -> str | None: ...

    @property
    def client_oid(self) -> str | None: ...


P = TypeVar("P", bound=Plannable)


@dataclass(frozen=True, slots=True)
class Batch(Generic[P]):
    """The orders of one request."""

    batch_mode: BatchMode
    symbol: str | None  # the top-level symbol of a "single" batch
    by_order_id: bool
    targets: tuple[P, ...]

    def __len__(self) -> int:
        return len(self.targets)


def wire_key(target: Plannable) -> WireKey:
    """The identity of the order a target names, as far as a request can tell."""
    if target.order_id is not None:
        return (True, target.symbol, target.order_id)
    assert target.client_oid is not None  # CancelTarget guarantees one id
    return (False, target.symbol, target.client_oid)


def check_mode(mode: object) -> Mode:
    if mode not in MODES:
        raise InvalidMode(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    return mode


def plan_batches(
    targets: Iterable[CancelTarget], mode: Mode = "auto", max_size: int = MAX_BATCH
) -> list[Batch[CancelTarget]]:
    """Split targets into the fewest valid requests. Duplicates (same wire key) go once.

    What ``cancel()`` would send for normal orders on a classic account: a dry run.
    """
    check_mode(mode)
    if not 1 <= max_size <= MAX_BATCH:
        raise InvalidArgument(f"max_size must be within 1..{MAX_BATCH}; got {max_size}")
    return plan(targets, mode, max_size)


def plan(items: Iterable[P], mode: Mode, max_size: int) -> list[Batch[P]]:
    """The planner itself, for any plannable record (arguments already checked)."""
    # layers[by_order_id][k] holds the k-th distinct use of each id, grouped by symbol, so that
    # one id named under two symbols never shares a request (its answer would be ambiguous).
    layers: dict[bool, list[dict[str, list[P]]]] = {True: [], False: []}
    # The symbol each id was first named under, and its later symbols in order (the k-th goes
    # to layer k). Most ids have one symbol: one lookup and one store, no key tuple per target.
    first_symbol: dict[bool, dict[str | None, str]] = {True: {}, False: {}}
    more_symbols: dict[tuple[bool, str | None], list[str]] = {}
    for target in items:
        order_id = target.order_id
        by_order_id = order_id is not None
        ident = order_id if by_order_id else target.client_oid  # wire_key(target), inlined
        symbol = target.symbol
        firsts = first_symbol[by_order_id]
        first = firsts.get(ident)
        if first is None:
            firsts[ident] = symbol
            layer_index = 0
        elif first == symbol:
            continue  # the same wire key again
        else:
            others = more_symbols.setdefault((by_order_id, ident), [])
            if symbol in others:
                continue
            others.append(symbol)
            layer_index = len(others)
        kind_layers = layers[by_order_id]
        if layer_index == len(kind_layers):
            kind_layers.append({})
        groups = kind_layers[layer_index]
        members = groups.get(symbol)
        if members is None:
            groups[symbol] = [target]
        else:
            members.append(target)

    batches: list[Batch[P]] = []
    for by_order_id in (True, False):
        for groups in layers[by_order_id]:
            batches.extend(_chunk_groups(groups, mode, by_order_id, max_size))
    return batches


def _chunk_groups(
    groups: dict[str, list[P]], mode: Mode, by_order_id: bool, max_size: int
) -> list[Batch[P]]:
    if mode == "single":
        return [
            Batch("single", symbol, by_order_id, tuple(members[i : i + max_size]))
            for symbol, members in groups.items()
            for i in range(0, len(members), max_size)
        ]
    # Symbols stay contiguous, so full chunks of one symbol can go as "single" in auto mode.
    # Chunks of the symbols laid end to end, cut from each symbol's own list with the partial
    # last chunk carried into the next symbol: no copy of every target into one list first.
    batches: list[Batch[P]] = []
    carry: list[P] = []
    for members in groups.values():
        start = 0
        if carry:
            start = max_size - len(carry)
            carry.extend(members[:start])
            if len(carry) < max_size:
                continue  # this symbol's orders all fit in the open chunk
            batches.append(_batch(tuple(carry), mode, by_order_id))
            carry = []
        full_end = start + (len(members) - start) // max_size * max_size
        for i in range(start, full_end, max_size):
            batches.append(_batch(tuple(members[i : i + max_size]), mode, by_order_id))
        if full_end < len(members):
            carry = members[full_end:]
    if carry:
        batches.append(_batch(tuple(carry), mode, by_order_id))
    return batches


def _batch(chunk: tuple[P, ...], mode: Mode, by_order_id: bool) -> Batch[P]:
    first, last = chunk[0].symbol, chunk[-1].symbol
    if mode == "auto" and first == last:
        return Batch("single", first, by_order_id, chunk)
    return Batch("multiple", None, by_order_id, chunk)
