"""The reference client: a few lines of raw aiohttp sending the same requests, paced perfectly.

It runs beside the engine in the same run, against an identical simulator. On a shared machine
a 1 s sleep can wake 50–300 ms late, so a ratio to a theoretical bound partly measures the
machine; the ratio to this client, which suffers the same machine, measures the engine.

"Perfectly" means knowing what no real client knows: the simulator's least latency. A request
arrives at least ``floor / 2`` after it is sent and its answer leaves at least ``floor / 2``
after it arrived, so a slot of the window may be reused ``period − floor`` after the answer
that held it, and never sooner: no 429 whatever the jitter, and nothing wasted beyond one
round trip per cycle. (The engine cannot know the floor; it waits ``period`` + 2 ms.)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from ._common import BATCH_CANCEL_PATH, MAX_BATCH

if TYPE_CHECKING:  # a type only: the simulator pulls in aiohttp.web
    from bitget_cancel.sim import SimExchange


CANCEL_SYMBOL_PATH = "/api/v2/spot/trade/cancel-symbol-order"
UNFILLED_PATH = "/api/v2/spot/trade/unfilled-orders"
TIME_PATH = "/api/v2/public/time"
PAGE = 100  # rows per unfilled-orders page
SAFETY = 0.0005  # s added to every slot's reuse time: float rounding, not latency

T = TypeVar("T")


class RawClient:
    """Signs and sends Bitget v2 requests with a bare aiohttp session."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        secret_key: str,
        passphrase: str,
        clock: Callable[[], float] = time.time,  # what the timestamps say: seconds
    ) -> None:
        self._clock = clock
        self._session = aiohttp.ClientSession(
            base_url, connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout()
        )
        self._key = api_key
        self._secret = secret_key.encode()
        self._passphrase = passphrase
        self.statuses: dict[int, int] = {}

    async def close(self) -> None:
        await self._session.close()

    async def request(self, method: str, path: str, query: str = "", body: Any = None) -> Any:
        """The answer's ``data``; None for an answer that is not a success."""
        target = f"{path}?{query}" if query else path
        raw = json.dumps(body).encode() if body is not None else b""
        stamp = str(int(self._clock() * 1000))
        mac = hmac.new(self._secret, stamp.encode() + method.encode() + target.encode() + raw,
                       hashlib.sha256)  # fmt: skip
        headers = {
            "ACCESS-KEY": self._key,
            "ACCESS-SIGN": base64.b64encode(mac.digest()).decode(),
            "ACCESS-TIMESTAMP": stamp,
            "ACCESS-PASSPHRASE": self._passphrase,
            "Content-Type": "application/json",
        }
        async with self._session.request(method, target, data=raw, headers=headers) as answer:
            self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1
            payload = json.loads(await answer.read())
        return payload["data"] if payload.get("code") == "00000" else None

    async def cancel_batch(self, orders: Sequence[tuple[str, str]]) -> int:
        """One batch-cancel of (symbol, orderId) pairs across symbols; how many it closed."""
        body = {
            "batchMode": "multiple",
            "orderList": [{"symbol": symbol, "orderId": oid} for symbol, oid in orders],
        }
        data = await self.request("POST", BATCH_CANCEL_PATH, body=body)
        return len(data["successList"]) if data else 0

    async def cancel_symbol(self, symbol: str) -> bool:
        return await self.request("POST", CANCEL_SYMBOL_PATH, body={"symbol": symbol}) is not None

    async def open_page(self, below: str | None) -> list[tuple[str, str]] | None:
        """One unfilled-orders page, newest first, below the order id ``below``."""
        query = f"limit={PAGE}" + (f"&idLessThan={below}" if below else "")
        data = await self.request("GET", UNFILLED_PATH, query)
        return None if data is None else [(row["symbol"], row["orderId"]) for row in data]


class Pacer:
    """The sliding-window rule, kept as the reference client sees it: ``cap`` slots, each
    reusable ``period − floor`` after the answer of the request that held it."""

    def __init__(self, cap: int, period: float, floor: float) -> None:
        self._hold = period - floor + SAFETY
        self._slots: asyncio.PriorityQueue[float] = asyncio.PriorityQueue()
        for _ in range(cap):
            self._slots.put_nowait(0.0)

    async def send(self, request: Callable[[], Awaitable[T]]) -> T:
        loop = asyncio.get_running_loop()
        ready = await self._slots.get()  # waiters are served first come, first served
        if ready > loop.time():
            await asyncio.sleep(ready - loop.time())
        try:
            return await request()
        finally:
            self._slots.put_nowait(loop.time() + self._hold)


def chunks(
    orders: Sequence[tuple[str, str]], size: int = MAX_BATCH
) -> list[Sequence[tuple[str, str]]]:
    """Requests of at most ``size`` orders across symbols (v2: 50, ``batchMode=multiple``)."""
    return [orders[i : i + size] for i in range(0, len(orders), size)]


@dataclass
class ReferenceRun:
    elapsed: float
    requests: int
    closed: int


class Reference:
    """The reference client on one simulator: one method per workload it is compared in.

    ``batch_size`` and ``batch_cap``: orders per batch-cancel request and such requests per
    second (v2: 50 and 10; a UTA's v3 cancel-batch: 20 and 5, with a v3 ``client``).
    """

    def __init__(
        self, client: RawClient, floor: float, *, batch_size: int = MAX_BATCH, batch_cap: int = 10
    ) -> None:
        self.client = client
        self.batch_size = batch_size
        self.batch = Pacer(batch_cap, 1.0, floor)
        self.listing = Pacer(20, 1.0, floor)
        self.symbol = Pacer(5, 1.0, floor)

    async def open_connections(self, count: int) -> None:
        """``count`` parallel reads of the server time: that many kept-alive connections."""
        await asyncio.gather(*(self.client.request("GET", TIME_PATH) for _ in range(count)))

    async def cancel(self, orders: Sequence[tuple[str, str]]) -> ReferenceRun:
        """Cancel known orders: every batch at once, paced; elapsed until the last answer."""
        batches = chunks(orders, self.batch_size)
        started = time.perf_counter()
        closed = await asyncio.gather(
            *(self.batch.send(partial(self.client.cancel_batch, part)) for part in batches)
        )
        return ReferenceRun(time.perf_counter() - started, len(batches), sum(closed))

    async def empty_by_batches(self) -> ReferenceRun:
        """List the account page by page, cancelling each 50 as soon as they are listed, until
        a listing finds nothing open."""
        started = time.perf_counter()
        requests = closed = 0
        while True:
            sends: list[asyncio.Task[int]] = []
            pending: list[tuple[str, str]] = []
            listed, below = 0, None
            while True:
                page = await self.listing.send(partial(self.client.open_page, below))
                requests += 1
                if page is None:  # refused: ask again
                    continue
                listed += len(page)
                pending.extend(page)
                size = self.batch_size
                while len(pending) >= size or (pending and len(page) < PAGE):
                    part, pending = pending[:size], pending[size:]
                    batch = self.batch.send(partial(self.client.cancel_batch, part))
                    sends.append(asyncio.create_task(batch))
                if len(page) < PAGE:
                    break
                below = page[-1][1]
            closed += sum(await asyncio.gather(*sends))
            requests += len(sends)
            if listed == 0:
                return ReferenceRun(time.perf_counter() - started, requests, closed)

    async def empty_by_symbols(self, settle: float = 2.0) -> ReferenceRun:
        """List one page; cancel each symbol on it that has no cancel pending; list again until
        a page comes back empty.

        A symbol cancel takes effect some time after its answer: a symbol still listed is sent
        again only if its cancel was refused, or ``settle`` seconds after it was accepted."""
        started = time.perf_counter()
        pages = 0
        accepted_at: dict[str, float] = {}
        in_flight: set[str] = set()
        sends: list[asyncio.Task[None]] = []

        async def cancel(symbol: str) -> None:
            ok = await self.symbol.send(lambda: self.client.cancel_symbol(symbol))
            if ok:
                accepted_at[symbol] = time.perf_counter()
            in_flight.discard(symbol)

        while True:
            page = await self.listing.send(lambda: self.client.open_page(None))
            pages += 1
            if page == []:
                break
            now = time.perf_counter()
            for symbol in dict.fromkeys(s for s, _ in page or ()):
                if symbol not in in_flight and now - accepted_at.get(symbol, -settle) >= settle:
                    in_flight.add(symbol)
                    sends.append(asyncio.create_task(cancel(symbol)))
        await asyncio.gather(*sends)
        return ReferenceRun(time.perf_counter() - started, pages + len(sends), 0)


def latency_floor(latency_ms: tuple[float, float]) -> float:
    """The least round trip of the simulator's latency range, in seconds."""
    return latency_ms[0] / 1000.0


@asynccontextmanager
async def reference_for(
    sim: SimExchange, latency_ms: tuple[float, float]
) -> AsyncIterator[Reference]:
    """The reference client on ``sim``, knowing its latency range."""
    client = RawClient(sim.base_url, sim.api_key, sim.secret_key, sim.passphrase)
    try:
        yield Reference(client, latency_floor(latency_ms))
    finally:
        await client.close()
