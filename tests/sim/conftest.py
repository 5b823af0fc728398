"""A minimal signed HTTP client for the simulator's own tests.

Deliberately written from the exchange documentation, not from the engine, so these tests
check the simulator against the spec rather than against the client it will judge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio
from yarl import URL

from bitget_cancel.sim import SimExchange

BATCH = "/api/v2/spot/trade/batch-cancel-order"
SYMBOL_CANCEL = "/api/v2/spot/trade/cancel-symbol-order"
UNFILLED = "/api/v2/spot/trade/unfilled-orders"
CANCEL_ORDER = "/api/v2/spot/trade/cancel-order"
PLAN_LIST = "/api/v2/spot/trade/current-plan-order"
PLAN_CANCEL = "/api/v2/spot/trade/cancel-plan-order"
PLAN_BATCH_CANCEL = "/api/v2/spot/trade/batch-cancel-plan-order"
TIME = "/api/v2/public/time"
V3_BATCH = "/api/v3/trade/cancel-batch"
V3_SYMBOL_CANCEL = "/api/v3/trade/cancel-symbol-order"
V3_UNFILLED = "/api/v3/trade/unfilled-orders"
V3_STRATEGY = "/api/v3/trade/unfilled-strategy-orders"
V3_STRATEGY_CANCEL = "/api/v3/trade/cancel-strategy-order"
V3_TIME = "/api/v3/public/time"


def sign(secret: str, prehash: str) -> str:
    digest = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Api:
    """Signs and sends requests; every credential and header can be overridden per call."""

    def __init__(self, session: aiohttp.ClientSession, sim: SimExchange) -> None:
        self.session = session
        self.sim = sim
        self.api_key = sim.api_key
        self.secret = sim.secret_key
        self.passphrase = sim.passphrase
        # Another signature scheme (RSA): prehash string -> ACCESS-SIGN value.
        self.sign_with: Callable[[str], str] | None = None

    def signature(self, prehash: str) -> str:
        if self.sign_with is not None:
            return self.sign_with(prehash)
        return sign(self.secret, prehash)

    def headers(
        self, method: str, path_query: str, body: str, ts: str | None = None
    ) -> dict[str, str]:
        ts = ts if ts is not None else str(int(time.time() * 1000))
        return {
            "ACCESS-KEY": self.api_key,
            "ACCESS-SIGN": self.signature(ts + method + path_query + body),
            "ACCESS-TIMESTAMP": ts,
            "ACCESS-PASSPHRASE": self.passphrase,
            "Content-Type": "application/json",
            "locale": "en-US",
        }

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: str = "",
        headers: dict[str, str] | None = None,
        ts: str | None = None,
        timeout: float | None = None,
    ) -> tuple[int, str]:
        """Send a signed request exactly as signed; answer (status, text)."""
        status, text, _ = await self.send_full(
            method, path, params=params, body=body, headers=headers, ts=ts, timeout=timeout
        )
        return status, text

    async def send_full(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: str = "",
        headers: dict[str, str] | None = None,
        ts: str | None = None,
        timeout: float | None = None,
    ) -> tuple[int, str, Mapping[str, str]]:
        """Like :meth:`send`, also answering the response headers."""
        path_query = path + ("?" + urlencode(params) if params else "")
        all_headers = self.headers(method, path_query, body, ts)
        all_headers.update(headers or {})
        url = URL(self.sim.base_url + path_query, encoded=True)
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with self.session.request(
            method,
            url,
            data=body.encode() if body else None,
            headers=all_headers,
            timeout=client_timeout,
        ) as resp:
            return resp.status, await resp.text(), resp.headers.copy()

    async def post(self, path: str, payload: Any, **kwargs: Any) -> tuple[int, Any]:
        body = payload if isinstance(payload, str) else json.dumps(payload)
        status, text = await self.send("POST", path, body=body, **kwargs)
        return status, json.loads(text)

    async def get(
        self, path: str, params: dict[str, str] | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        status, text = await self.send("GET", path, params=params, **kwargs)
        return status, json.loads(text)

    async def batch(
        self, symbol: str, order_list: list[dict[str, Any]], **extra: Any
    ) -> tuple[int, Any]:
        return await self.post(BATCH, {"symbol": symbol, "orderList": order_list, **extra})


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def api_for(session: aiohttp.ClientSession) -> Callable[[SimExchange], Api]:
    return lambda sim: Api(session, sim)


@pytest.fixture
def api(api_for: Callable[[SimExchange], Api], sim: SimExchange) -> Api:
    return api_for(sim)
