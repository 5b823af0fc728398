"""ccxt's async Bitget client, used as its documentation allows: cancel_orders per symbol."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ccxt.async_support as ccxt

CHUNK = 50  # ccxt never splits; the exchange takes at most 50 ids per request
VERSION: str = ccxt.__version__


def make_client(
    base_url: str, api_key: str, secret: str, passphrase: str, *, rate_limit: bool
) -> Any:
    """A ccxt bitget client pointed at the simulator (as tests/e2e/test_ccxt_fidelity.py)."""
    client = ccxt.bitget(
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


async def cancel_all(client: Any, ids: Mapping[str, Sequence[str]]) -> CcxtResult:
    """``cancel_orders`` per symbol in chunks of 50, all gathered; each chunk's error caught."""

    async def chunk(symbol: str, part: Sequence[str]) -> int | None:
        try:
            result = await client.cancel_orders(list(part), symbol)
        except Exception:  # ccxt raises on 429 (RateLimitExceeded) and other errors
            return None
        return len(result)

    results = await asyncio.gather(
        *(
            chunk(symbol, order_ids[i : i + CHUNK])
            for symbol, order_ids in ids.items()
            for i in range(0, len(order_ids), CHUNK)
        )
    )
    return CcxtResult(
        cancelled=sum(r for r in results if r is not None),
        failed_chunks=sum(1 for r in results if r is None),
    )
