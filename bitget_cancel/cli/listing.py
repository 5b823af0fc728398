"""What a listing of open orders shows: a one-line summary, tables, JSON, and CSV rows that
``cancel --file`` reads back as they are (``symbol,orderId,clientOid,kind`` first, then side,
type, price, size, filled size and when it was placed, which it ignores)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Literal

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bitget_cancel import CancelTarget, OpenOrders, OrderInfo

from .options import ORDER_KIND_NAMES

CSV_COLUMNS = ("symbol", "orderId", "clientOid", "kind")  # what cancel --file reads: first
DETAIL_COLUMNS = ("side", "orderType", "price", "size", "filledSize", "created")
_NO_INFO = OrderInfo()
Info = Mapping[CancelTarget, OrderInfo]
_KIND_RANK = {kind: rank for rank, kind in enumerate(ORDER_KIND_NAMES)}


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def sorted_orders(orders: Iterable[CancelTarget]) -> list[CancelTarget]:
    """By symbol, kind, then id (numeric ids in numeric order)."""

    def key(order: CancelTarget) -> tuple[str, int, int, str]:
        wire = order.wire_id
        return order.symbol, _KIND_RANK.get(order.kind.value, 99), len(wire), wire

    return sorted(orders, key=key)


def totals(orders: Iterable[CancelTarget]) -> dict[str, dict[str, int]]:
    """symbol -> kind -> how many are open, symbols in order."""
    counts: dict[str, dict[str, int]] = {}
    for order in orders:
        by_kind = counts.setdefault(order.symbol, {})
        by_kind[order.kind.value] = by_kind.get(order.kind.value, 0) + 1
    return dict(sorted(counts.items()))


def by_kind(orders: Iterable[CancelTarget], kinds: Sequence[str]) -> dict[str, int]:
    counts = dict.fromkeys(kinds, 0)
    for order in orders:
        counts[order.kind.value] = counts.get(order.kind.value, 0) + 1
    return counts


def unlisted_kinds(problems: Sequence[str], kinds: Sequence[str]) -> frozenset[str]:
    """The kinds that could not be listed at all (plan orders on a unified account): their
    count is unknown, shown "?", never 0."""
    return frozenset(k for k in kinds if any(p.startswith(f"{k} orders: not listable")
                                             for p in problems))  # fmt: skip


def summary(
    orders: Sequence[CancelTarget], kinds: Sequence[str], unknown: frozenset[str] = frozenset()
) -> str:
    """``"3,000 orders on 30 symbols: 2,800 normal, 150 tpsl, 50 plan"`` (``? plan`` when
    plan orders could not be listed)."""
    symbols = len({order.symbol for order in orders})
    kinds_text = ", ".join(
        f"? {kind}" if kind in unknown else f"{count:,} {kind}"
        for kind, count in by_kind(orders, kinds).items()
    )
    return f"{_plural(len(orders), 'order')} on {_plural(symbols, 'symbol')}: {kinds_text}"


def created_iso(created_ms: str | None) -> str:
    """``2026-12-07T12:40:04Z`` from the exchange's milliseconds; "" if not given or not a
    number."""
    if created_ms is None or not _is_decimal(created_ms):
        return ""
    try:
        moment = datetime.fromtimestamp(int(created_ms) / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return ""  # no date a calendar can show: the exchange's number, not ours to crash on
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_decimal(value: str) -> bool:
    # "²".isdigit() holds, but int() refuses it, and more than 4,300 digits too (a ms time
    # has 13).
    return len(value) <= 20 and value.isascii() and value.isdigit()


def age_text(created_ms: str | None, now_ms: float) -> str:
    """How long ago: ``42s``, ``12m``, ``5h``, ``3d``; "" if not known."""
    if created_ms is None or not _is_decimal(created_ms):
        return ""
    seconds = max(0.0, (now_ms - int(created_ms)) / 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _details(info: OrderInfo) -> tuple[str, ...]:
    return (
        info.side or "",
        info.order_type or "",
        info.price or "",
        info.size or "",
        info.filled or "",
        created_iso(info.created_ms),
    )


def csv_text(orders: Iterable[CancelTarget], info: Info | None = None) -> str:
    """The orders as CSV, header first (the columns cancel --file reads, then the details);
    quoted where a clientOid needs it."""
    info = info or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + DETAIL_COLUMNS)
    for order in sorted_orders(orders):
        ids = (order.symbol, order.order_id or "", order.client_oid or "", order.kind)
        writer.writerow(ids + _details(info.get(order, _NO_INFO)))
    return buffer.getvalue()


def listing_payload(
    listing: OpenOrders, kinds: Sequence[str], symbols: Sequence[str] | None, account: str | None
) -> dict[str, Any]:
    orders = sorted_orders(listing.orders)
    return {
        "complete": listing.complete,
        "problems": list(listing.problems),
        "account": account,
        "kinds": list(kinds),
        "symbols": None if symbols is None else list(symbols),
        "requests": listing.requests,
        "count": len(orders),
        "unattributed": listing.unattributed,
        "byKind": by_kind(orders, kinds),
        "bySymbol": totals(orders),
        "orders": [
            {**order.to_dict(), **listing.info.get(order, _NO_INFO).to_dict()} for order in orders
        ],
    }


# The table's columns, left to right; the ids are never cut, the others give way (first the
# last of GIVE_WAY) on a narrow terminal; if even the ids do not fit, one record per block.
_COLUMNS = ("symbol", "kind", "side", "type", "price", "size", "filled", "age", "orderId",
            "clientOid")  # fmt: skip
_GIVE_WAY = ("kind", "side", "price", "size", "type", "filled", "age")  # the last goes first
_RIGHT = {"price", "size", "filled", "age"}


def _cells(order: CancelTarget, info: OrderInfo, now_ms: float) -> dict[str, str]:
    return {
        "symbol": order.symbol,
        "kind": order.kind.value,
        "side": info.side or "",
        "type": info.order_type or "",
        "price": info.price or "",
        "size": info.size or "",
        "filled": info.filled or "",
        "age": age_text(info.created_ms, now_ms),
        "orderId": order.order_id or "",
        "clientOid": order.client_oid or "",
    }


def orders_table(
    orders: Sequence[CancelTarget], width: int, info: Info | None = None
) -> RenderableType:
    """One row per order, as many columns as fit in ``width``. Ids are copied from here into
    other tools, so they are never wrapped nor cut: the other columns give way first, and
    when even the ids do not fit, each order is a block of ``name value`` lines. Print with
    ``crop=False``."""
    info = info or {}
    now_ms = time.time() * 1000
    rows = [_cells(o, info.get(o, _NO_INFO), now_ms) for o in orders]
    shown = [c for c in _COLUMNS if c not in _GIVE_WAY or any(row[c] for row in rows)]
    widths = {c: max([len(c), *(len(row[c]) for row in rows)]) for c in _COLUMNS}

    def needed(columns: list[str]) -> int:
        return sum(widths[c] for c in columns) + 3 * len(columns) + 1  # padding and rules

    giving = [c for c in reversed(_GIVE_WAY) if c in shown]
    while needed(shown) > width and giving:
        shown.remove(giving.pop(0))
    title = f"Open orders ({len(rows):,})"
    if needed(shown) > width:
        return _records(title, rows)
    table = Table(title=title, title_justify="left")
    for name in shown:
        justify: Literal["right", "left"] = "right" if name in _RIGHT else "left"
        table.add_column(name, no_wrap=True, overflow="ignore", min_width=widths[name],
                         justify=justify)  # fmt: skip
    for row in rows:
        table.add_row(*(Text(row[c]) for c in shown))  # Text: ids are never markup
    return table


def _records(title: str, rows: list[dict[str, str]]) -> Group:
    """Each order as a block of ``name value`` lines, for a terminal too narrow for a row."""
    label = max(map(len, _COLUMNS))
    lines: list[RenderableType] = [Text(title, style="italic")]
    for row in rows:
        lines.append(Text(""))
        for name in _COLUMNS:
            if row[name]:
                # Never folded: an id stays whole on its line (copied into other tools).
                line = f"{name:<{label}} {row[name]}"
                lines.append(Text(line, no_wrap=True, overflow="ignore"))
    return Group(*lines)


def totals_table(
    orders: Sequence[CancelTarget], kinds: Sequence[str], unknown: frozenset[str] = frozenset()
) -> Table:
    """Open orders per symbol and kind, with a total row and column; "?" for a kind that
    could not be listed."""
    counts = totals(orders)
    table = Table(title=f"Per symbol ({len(counts):,})", title_justify="left")
    table.add_column("symbol", no_wrap=True)
    for kind in kinds:
        table.add_column(kind, justify="right")
    table.add_column("total", justify="right")
    for symbol, per_kind in counts.items():
        cells = ["?" if kind in unknown else f"{per_kind.get(kind, 0):,}" for kind in kinds]
        table.add_row(Text(symbol), *cells, f"{sum(per_kind.values()):,}")
    overall = by_kind(orders, kinds)
    table.add_row(
        "[bold]total[/]",
        *("[bold]?[/]" if kind in unknown else f"[bold]{overall[kind]:,}[/]" for kind in kinds),
        f"[bold]{len(orders):,}[/]",
    )
    return table


def unattributed_warning(count: int, prefixes: Sequence[str]) -> str:
    """What ``orders --client-oid-prefix`` says of the listed orders without a clientOid."""
    return (
        f"{_plural(count, 'listed order')} in scope {'has' if count == 1 else 'have'} no "
        f"clientOid and could not be attributed: {'it' if count == 1 else 'they'} may belong "
        f"to the clientOid prefix scope ({', '.join(prefixes)}), not shown above"
    )


def incomplete_warning(problems: Sequence[str]) -> Text:
    """Loud: what is shown is open, but it is not everything that is open."""
    text = Text("INCOMPLETE LISTING: more orders may be open than shown.\n", style="bold red")
    for problem in problems:
        text.append(f"  - {problem}\n", style="red")
    return text
