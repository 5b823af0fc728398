"""ccxt's async Bitget client, used as its documentation allows: cancel_orders per symbol.

Two ways to call it: one pass (``cancel_all``, for the CPU workload, where nothing fails) and
the loop a careful user writes (``cancel_until_closed``): send every chunk, then re-list and
re-send whatever is still open, until nothing is or a cap of rounds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CHUNK = 50  # ccxt never splits; the exchange takes at most 50 ids per request
PAGE = 100  # unfilled-orders rows per page
MAX_ROUNDS = 10  # the careful loop gives up after this many cancel passes


def _ccxt() -> Any:
    """ccxt's async package, imported when a workload runs it: the other workloads, and the
    tests that import the benchmarks, need no ccxt (the lowest-versions CI run has none)."""
    import ccxt.async_support as ccxt

    return ccxt


def version() -> str:
    return str(_ccxt().__version__)


def rate_limit_ms() -> int:
    """ccxt's throttle for bitget: one queue for every endpoint, ``rateLimit`` ms per unit of
    cost, batch-cancel-order costs 2 (one request per 100 ms), unfilled-orders 1; no burst."""
    return int(_ccxt().bitget().rateLimit)


def make_client(
    base_url: str, api_key: str, secret: str, passphrase: str, *, rate_limit: bool
) -> Any:
    """A ccxt bitget client pointed at the simulator (as tests/e2e/test_ccxt_fidelity.py)."""
    client = _ccxt().bitget(
        {
            "apiKey": api_key,
            "secret": secret,
            "password": passphrase,
            "enableRateLimit": rate_limit,
            # Classic (non-UTA) spot account: skips the UTA probe and the swap market lists.
            "options": {"uta": False, "fetchMarkets": {"types": ["spot"]}},
        }
    )
    client.urls["api"] = dict.fromkeys(client.urls["api"], base_url)
    return client


def market_symbol(symbol: str) -> str:
    """``BTCUSDT`` -> ``BTC/USDT`` (the benchmark's symbols all quote in USDT)."""
    assert symbol.endswith("USDT")
    return symbol[:-4] + "/USDT"


def ids_by_market(rows: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """(exchange symbol, orderId) rows grouped by ccxt market symbol."""
    grouped: dict[str, list[str]] = {}
    for symbol, order_id in rows:
        grouped.setdefault(market_symbol(symbol), []).append(order_id)
    return grouped


@dataclass
class CcxtResult:
    cancelled: int  # ids ccxt returned as cancelled
    failed_chunks: int  # cancel_orders calls that raised (429 and the like)
    first_error: str = ""  # what the first of them raised


async def cancel_all(client: Any, ids: Mapping[str, Sequence[str]]) -> CcxtResult:
    """``cancel_orders`` per symbol in chunks of 50, all gathered; each chunk's error caught."""
    errors: list[str] = []

    async def chunk(symbol: str, part: Sequence[str]) -> int | None:
        try:
            result = await client.cancel_orders(list(part), symbol)
        except Exception as exc:  # ccxt raises on 429 (RateLimitExceeded) and other errors
            errors.append(f"{type(exc).__name__}: {exc}")
            return None
        return len(result)

    results = await asyncio.gather(*(chunk(symbol, part) for symbol, part in chunks(ids)))
    return CcxtResult(
        cancelled=sum(r for r in results if r is not None),
        failed_chunks=len(errors),
        first_error=errors[0] if errors else "",
    )


def chunks(ids: Mapping[str, Sequence[str]]) -> list[tuple[str, list[str]]]:
    """(market, ≤ 50 ids) calls: ``cancel_orders`` takes one symbol and never splits."""
    return [
        (symbol, list(order_ids[i : i + CHUNK]))
        for symbol, order_ids in ids.items()
        for i in range(0, len(order_ids), CHUNK)
    ]


@dataclass
class LoopResult:
    """What the careful loop did and saw."""

    rounds: int = 0  # cancel passes
    calls: int = 0  # cancel_orders calls, first pass and re-sends
    failed_calls: int = 0  # calls that raised (429 and the like); their ids are re-sent
    pages: int = 0  # fetch_open_orders pages (failed ones included)
    failed_pages: int = 0  # pages that raised; asked again
    confirmed: int = 0  # ids ccxt returned as cancelled
    still_open: int = 0  # ids known open when the loop stopped (0: the account is empty)


async def open_order_ids(client: Any, result: LoopResult) -> set[str]:
    """Every open order id of the account: ``fetch_open_orders`` page by page, each page below
    the smallest id of the last; a page that raises is asked again."""
    found: set[str] = set()
    below: str | None = None
    while True:
        result.pages += 1
        params = {"idLessThan": below} if below else {}
        try:
            page = await client.fetch_open_orders(None, None, PAGE, params)
        except Exception:  # ccxt raises RateLimitExceeded on 429; ask again
            result.failed_pages += 1
            continue
        found.update(order["id"] for order in page)
        if len(page) < PAGE:
            return found
        below = str(min(int(order["id"]) for order in page))


async def cancel_until_closed(
    client: Any, ids: Mapping[str, Sequence[str]], max_rounds: int = MAX_ROUNDS
) -> LoopResult:
    """The retry loop a careful user writes around ``cancel_orders``.

    Every chunk of the pending ids goes at once (ccxt's throttle queues them). An id that comes
    back in the answer is closed. ccxt drops the ``failureList``, so for any other id it cannot
    tell "already gone" from "refused": the loop lists the open orders and re-sends those still
    open. It stops when every id is closed, or after ``max_rounds`` passes.
    """
    result = LoopResult()
    pending = {symbol: list(order_ids) for symbol, order_ids in ids.items() if order_ids}

    async def call(symbol: str, part: list[str]) -> set[str]:
        try:
            answer = await client.cancel_orders(part, symbol)
        except Exception:  # ccxt raises on 429 (RateLimitExceeded) and other errors
            result.failed_calls += 1
            return set()
        return {order["id"] for order in answer}

    while pending and result.rounds < max_rounds:
        result.rounds += 1
        calls = chunks(pending)
        result.calls += len(calls)
        answers = await asyncio.gather(*(call(symbol, part) for symbol, part in calls))
        closed = set().union(*answers)
        result.confirmed += len(closed)
        unconfirmed = {
            symbol: [i for i in order_ids if i not in closed]
            for symbol, order_ids in pending.items()
        }
        if not any(unconfirmed.values()):
            pending = {}
            break
        still_open = await open_order_ids(client, result)
        pending = {
            symbol: kept
            for symbol, order_ids in unconfirmed.items()
            if (kept := [i for i in order_ids if i in still_open])
        }
    result.still_open = sum(len(order_ids) for order_ids in pending.values())
    return result
