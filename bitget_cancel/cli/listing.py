"""What a listing of open orders shows: a one-line summary, tables, JSON, and CSV rows that
``cancel --file`` reads back as they are (``symbol,orderId,clientOid,kind``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from bitget_cancel import CancelTarget, OpenOrders

from .options import ORDER_KIND_NAMES

CSV_COLUMNS = ("symbol", "orderId", "clientOid", "kind")
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


def summary(orders: Sequence[CancelTarget], kinds: Sequence[str]) -> str:
    """``"3,000 orders on 30 symbols: 2,800 normal, 150 tpsl, 50 plan"``."""
    symbols = len({order.symbol for order in orders})
    kinds_text = ", ".join(f"{count:,} {kind}" for kind, count in by_kind(orders, kinds).items())
    return f"{_plural(len(orders), 'order')} on {_plural(symbols, 'symbol')}: {kinds_text}"


def csv_text(orders: Iterable[CancelTarget]) -> str:
    """The orders as CSV, header first; quoted where a clientOid needs it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for order in sorted_orders(orders):
        writer.writerow((order.symbol, order.order_id or "", order.client_oid or "", order.kind))
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
        "byKind": by_kind(orders, kinds),
        "bySymbol": totals(orders),
        "orders": [order.to_dict() for order in orders],
    }


def orders_table(orders: Sequence[CancelTarget], width: int) -> Table:
    """One row per order. Ids are copied from here into other tools, so no column is ever
    wrapped nor cut: on a terminal narrower than the rows (``width``) the table is wider than
    the terminal; print it with ``crop=False``."""
    names = ("symbol", "kind", "orderId", "clientOid")
    rows = [(o.symbol, o.kind.value, o.order_id or "", o.client_oid or "") for o in orders]
    widths = [max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(names)]
    needed = sum(widths) + 3 * len(names) + 1  # padding and rules
    table = Table(
        title=f"Open orders ({len(rows):,})",
        title_justify="left",
        width=needed if needed > width else None,
    )
    for name, column_width in zip(names, widths, strict=True):
        table.add_column(name, no_wrap=True, overflow="ignore", min_width=column_width)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # Text: ids are never markup
    return table


def totals_table(orders: Sequence[CancelTarget], kinds: Sequence[str]) -> Table:
    """Open orders per symbol and kind, with a total row and column."""
    counts = totals(orders)
    table = Table(title=f"Per symbol ({len(counts):,})", title_justify="left")
    table.add_column("symbol", no_wrap=True)
    for kind in kinds:
        table.add_column(kind, justify="right")
    table.add_column("total", justify="right")
    for symbol, per_kind in counts.items():
        cells = [f"{per_kind.get(kind, 0):,}" for kind in kinds]
        table.add_row(Text(symbol), *cells, f"{sum(per_kind.values()):,}")
    overall = by_kind(orders, kinds)
    table.add_row(
        "[bold]total[/]",
        *(f"[bold]{overall[kind]:,}[/]" for kind in kinds),
        f"[bold]{len(orders):,}[/]",
    )
    return table


def incomplete_warning(problems: Sequence[str]) -> Text:
    """Loud: what is shown is open, but it is not everything that is open."""
    text = Text("INCOMPLETE LISTING: more orders may be open than shown.\n", style="bold red")
    for problem in problems:
        text.append(f"  - {problem}\n", style="red")
    return text
