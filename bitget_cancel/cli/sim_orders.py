"""Open orders placed on the simulator for ``sim`` and ``demo``, within a unified account's cap.

Imported only by the commands that run the simulator.
"""

from __future__ import annotations

from bitget_cancel import InvalidArgument
from bitget_cancel.sim import NORMAL, PLAN, TPSL, SimExchange, SimKind, SimOrder

from .names import symbol_names
from .options import UTA_ORDER_CAP


class TooManyOrders(InvalidArgument):
    """More normal orders than a simulated unified account holds; says how to lift the cap."""


def order_cap(capped: bool) -> int | None:
    """``SimExchange(uta_order_cap=...)``: the documented cap, or none (--no-order-cap)."""
    return UTA_ORDER_CAP if capped else None


def place(
    sim: SimExchange, prefix: str, orders: int, tpsl: int, plan: int, symbols: int
) -> list[SimOrder]:
    """``orders`` normal orders, then ``tpsl`` TP/SL and ``plan`` plan orders, each kind
    spread round-robin over ``symbols`` made-up symbols. Client ids: ``{prefix}-{i}`` for
    normal orders (the i-th on the i % symbols-th symbol), ``{prefix}-tpsl-{i}`` and
    ``{prefix}-plan-{i}``."""
    names = symbol_names(symbols)
    placed: list[SimOrder] = []
    kinds: tuple[tuple[SimKind, int, str], ...] = (
        (NORMAL, orders, prefix), (TPSL, tpsl, f"{prefix}-tpsl"), (PLAN, plan, f"{prefix}-plan")
    )  # fmt: skip
    for kind, count, stem in kinds:
        for index in range(count):
            try:
                order = sim.place_order(names[index % len(names)], f"{stem}-{index}", kind=kind)
            except ValueError as exc:  # a unified account's cap
                reason = str(exc).partition(";")[0]
                raise TooManyOrders(
                    f"cannot place {count} {kind} orders: {reason}; --no-order-cap lifts the cap"
                ) from None
            placed.append(order)
    return placed
