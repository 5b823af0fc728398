"""Unified trading accounts (v3): cancel throughput against its sliding-window bound, and the
panic on a full UTA, each beside a raw-aiohttp reference client paced perfectly.

    python benchmarks/workloads/uta.py            # 3,000 targets / 30 symbols; full UTA panic
    python benchmarks/workloads/uta.py --quick    # 600 targets, < 30 s in all

The v3 ceiling is 20 orders × 5 requests/s = 100 orders/s (v2: 50 × 10 = 500). A UTA holds at
most 400 open spot + margin orders, so the throughput case lifts the simulator's cap
(``uta_order_cap=None``) to measure the lane itself; the panic case runs on a full account.

Self-contained (the engine, the simulator, aiohttp), so it runs as a script on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

if __package__ in (None, ""):  # run as a script: import this checkout's package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bitget_cancel import CancelEngine, CancelTarget, Credentials
from bitget_cancel.sim import SimExchange

T = TypeVar("T")

V3_BATCH = "/api/v3/trade/cancel-batch"
V3_UNFILLED = "/api/v3/trade/unfilled-orders"
BATCH, CAP, PERIOD = 20, 5, 1.0  # cancel-batch: 20 orders a request, 5 arrivals a second
PAGE = 100  # unfilled-orders rows a page
LATENCY_MS = (2.0, 30.0)  # uniform; half before arrival, half after
L = sum(LATENCY_MS) / 2 / 1000  # mean round trip, seconds
FLOOR = LATENCY_MS[0] / 1000  # least round trip: what the reference client may know
SAFETY = 0.0005  # s added to a slot's reuse time: float rounding, not latency
UTA_FULL = 400

_keys = itertools.count(1)


def fresh_key() -> str:
    """A new account per trial: engines of one key in one loop share its rate windows."""
    return f"uta-bench-{next(_keys)}"


def sliding_bound(requests: int, latency: float) -> float:
    """At most CAP arrivals in any PERIOD: request k (0-based) arrives no earlier than
    ⌊k / CAP⌋ × PERIOD after the first; the last is answered one latency after it is sent."""
    return (requests - 1) // CAP * PERIOD + latency if requests else 0.0


def panic_bound(orders: int) -> float:
    """The panic knows nothing in advance: the first cancel needs the first page (L); then
    ⌈n/20⌉ cancels under the window, the last answered L after it is sent; then a listing that
    finds the account empty (L)."""
    return L + sliding_bound(-(-orders // BATCH), L) + L


# -- the reference client ------------------------------------------------------------------


class RawClient:
    """Signs and sends v3 requests with a bare aiohttp session."""

    def __init__(self, sim: SimExchange) -> None:
        self._session = aiohttp.ClientSession(
            sim.base_url, connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout()
        )
        self._key, self._secret, self._passphrase = sim.api_key, sim.secret_key, sim.passphrase
        self.requests = 0

    async def close(self) -> None:
        await self._session.close()

    async def request(self, method: str, path: str, query: str = "", body: Any = None) -> Any:
        target = f"{path}?{query}" if query else path
        raw = json.dumps(body).encode() if body is not None else b""
        stamp = str(int(time.time() * 1000))
        prehash = stamp.encode() + method.encode() + target.encode() + raw
        sign = hmac.new(self._secret.encode(), prehash, hashlib.sha256).digest()
        headers = {
            "ACCESS-KEY": self._key,
            "ACCESS-SIGN": base64.b64encode(sign).decode(),
            "ACCESS-TIMESTAMP": stamp,
            "ACCESS-PASSPHRASE": self._passphrase,
            "Content-Type": "application/json",
        }
        self.requests += 1
        async with self._session.request(method, target, data=raw, headers=headers) as answer:
            payload = json.loads(await answer.read())
        return payload["data"] if payload.get("code") == "00000" else None

    async def cancel_batch(self, orders: Sequence[tuple[str, str]]) -> int:
        items = [{"category": "SPOT", "symbol": s, "orderId": i} for s, i in orders]
        data = await self.request("POST", V3_BATCH, body=items)
        return sum(1 for item in data or () if not item.get("code"))

    async def page(self, cursor: str | None) -> list[tuple[str, str]]:
        query = f"category=SPOT&limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")
        data = await self.request("GET", V3_UNFILLED, query)
        return [(row["symbol"], row["orderId"]) for row in data["list"]]


class Pacer:
    """The window as a perfect client keeps it: CAP slots, each reusable PERIOD − FLOOR after
    the answer that held it (a request arrives ≥ FLOOR/2 after it is sent, its answer leaves
    ≥ FLOOR/2 after it arrived): never a 429, nothing wasted beyond one round trip a cycle."""

    def __init__(self, cap: int) -> None:
        self._slots: asyncio.PriorityQueue[float] = asyncio.PriorityQueue()
        for _ in range(cap):
            self._slots.put_nowait(0.0)

    async def send(self, request: Callable[[], Awaitable[T]]) -> T:
        loop = asyncio.get_running_loop()
        ready = await self._slots.get()
        if ready > loop.time():
            await asyncio.sleep(ready - loop.time())
        try:
            return await request()
        finally:
            self._slots.put_nowait(loop.time() + PERIOD - FLOOR + SAFETY)


def chunks(orders: Sequence[tuple[str, str]]) -> list[Sequence[tuple[str, str]]]:
    return [orders[i : i + BATCH] for i in range(0, len(orders), BATCH)]


async def reference_cancel(client: RawClient, orders: Sequence[tuple[str, str]]) -> int:
    pacer = Pacer(CAP)
    sends = [pacer.send(partial(client.cancel_batch, part)) for part in chunks(orders)]
    return sum(await asyncio.gather(*sends))


async def reference_panic(client: RawClient) -> int:
    """List page by page, cancelling each 20 as soon as listed, then list until empty."""
    batches, listing = Pacer(CAP), Pacer(20)
    closed = 0
    while True:
        sends, pending, cursor, listed = [], [], None, 0
        while True:
            page = await listing.send(partial(client.page, cursor))
            listed += len(page)
            pending.extend(page)
            while len(pending) >= BATCH or (pending and len(page) < PAGE):
                part, pending = pending[:BATCH], pending[BATCH:]
                sends.append(
                    asyncio.ensure_future(batches.send(partial(client.cancel_batch, part)))
                )
            if len(page) < PAGE:
                break
            cursor = page[-1][1]
        closed += sum(await asyncio.gather(*sends))
        if listed == 0:
            return closed


# -- the trials ----------------------------------------------------------------------------


@dataclass
class Trial:
    elapsed: float
    requests: int  # cancel-batch requests the simulator received
    throttled: int
    left_open: int
    peak: int  # most cancel-batch arrivals in one sliding second
    account_empty: bool = True


def place(sim: SimExchange, total: int, n_symbols: int, seed: int) -> list[CancelTarget]:
    """``total`` orders placed round-robin over ``n_symbols``; their targets, shuffled."""
    names = [f"S{i:03d}USDT" for i in range(n_symbols)]
    orders = [sim.place_order(names[n % n_symbols]) for n in range(total)]
    targets = [CancelTarget(symbol=o.symbol, order_id=o.order_id) for o in orders]
    random.Random(seed).shuffle(targets)
    return targets


def new_sim(seed: int, cap: int | None) -> SimExchange:
    return SimExchange(
        account="uta", uta_order_cap=cap, latency_ms=LATENCY_MS, seed=seed, api_key=fresh_key()
    )


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


def outcome(sim: SimExchange, elapsed: float, throttled: int) -> Trial:
    """What the simulator saw: cancel-batch requests, 429s of the client's pacing, orders left."""
    return Trial(
        elapsed,
        sim.stats.endpoint(V3_BATCH).requests,
        throttled + sim.stats.pacing_429,
        len(sim.open_orders()),
        sim.stats.max_in_window.get(V3_BATCH, 0),
    )


async def engine_cancel(total: int, n_symbols: int, seed: int) -> Trial:
    async with new_sim(seed, None) as sim:
        targets = place(sim, total, n_symbols, seed)
        async with CancelEngine(creds(sim), base_url=sim.base_url, account="uta") as engine:
            started = time.perf_counter()
            report = await engine.cancel(targets)
            elapsed = time.perf_counter() - started
        return outcome(sim, elapsed, report.throttled)


async def raw_cancel(total: int, n_symbols: int, seed: int) -> Trial:
    async with new_sim(seed, None) as sim:
        orders = [(t.symbol, t.order_id or "") for t in place(sim, total, n_symbols, seed)]
        orders.sort()  # grouped by symbol, as the engine's planner would
        client = RawClient(sim)
        try:
            started = time.perf_counter()
            await reference_cancel(client, orders)
            elapsed = time.perf_counter() - started
        finally:
            await client.close()
        return outcome(sim, elapsed, 0)


async def engine_panic(seed: int, account: str) -> Trial:
    async with new_sim(seed, UTA_FULL) as sim:
        place(sim, UTA_FULL, 20, seed)
        async with CancelEngine(creds(sim), base_url=sim.base_url, account=account) as engine:  # type: ignore[arg-type]
            started = time.perf_counter()
            report = await engine.panic_cancel(kinds=("normal", "tpsl"))
            elapsed = time.perf_counter() - started
        trial = outcome(sim, elapsed, report.throttled)
        trial.account_empty = report.account_empty
        return trial


async def raw_panic(seed: int) -> Trial:
    async with new_sim(seed, UTA_FULL) as sim:
        place(sim, UTA_FULL, 20, seed)
        client = RawClient(sim)
        try:
            started = time.perf_counter()
            await reference_panic(client)
            elapsed = time.perf_counter() - started
        finally:
            await client.close()
        return outcome(sim, elapsed, 0)


# -- the report ----------------------------------------------------------------------------


def secs(seconds: float) -> str:
    return f"{seconds:.3f} s"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out.extend("| " + " | ".join(row) + " |" for row in rows)
    return out


def row(name: str, trials: list[Trial], bound: float, ref: float | None) -> list[str]:
    elapsed = statistics.median(t.elapsed for t in trials)
    return [
        name,
        secs(elapsed),
        secs(bound),
        f"**{elapsed / bound:.3f}**",
        "—" if ref is None else f"{elapsed / ref:.3f}",
        str(max(t.requests for t in trials)),
        str(max(t.peak for t in trials)),
        str(sum(t.throttled for t in trials)),
        str(sum(t.left_open for t in trials)),
        "yes" if all(t.account_empty for t in trials) else "**no**",
    ]


async def measure(quick: bool, repeats: int) -> str:
    total, n_symbols = (600, 30) if quick else (3_000, 30)
    requests = -(-total // BATCH)
    headers = [
        "run",
        "elapsed (median)",
        "bound",
        "÷ bound",
        "÷ reference",
        "cancel requests",
        "peak / 1 s",
        "429s",
        "left open",
        "emptied",
    ]
    seeds = range(repeats)

    cancel = [await engine_cancel(total, n_symbols, s) for s in seeds]
    raw = [await raw_cancel(total, n_symbols, s) for s in seeds]
    bound = sliding_bound(requests, L)
    ref = statistics.median(t.elapsed for t in raw)
    lines = [f"#### UTA throughput: {total:,} targets over {n_symbols} symbols", ""]
    lines += table(
        headers,
        [
            row('engine, account="uta"', cancel, bound, ref),
            row("reference client (raw aiohttp)", raw, bound, None),
        ],
    )
    lines += [
        "",
        f"{requests} cancel-batch requests of 20; bound = ⌊({requests} − 1)/5⌋ s + "
        f"{L * 1000:g} ms = {secs(bound)} (the first 5 at once, then 5 a second; "
        f"latency {LATENCY_MS[0]:g}–{LATENCY_MS[1]:g} ms, mean {L * 1000:g} ms). "
        f"Simulator cap lifted (`uta_order_cap=None`). Median of {repeats} run(s).",
        "",
    ]

    panic = [await engine_panic(s, "uta") for s in seeds]
    auto = [await engine_panic(s, "auto") for s in seeds]
    raw_p = [await raw_panic(s) for s in seeds]
    pbound = panic_bound(UTA_FULL)
    pref = statistics.median(t.elapsed for t in raw_p)
    lines += [f"#### Panic on a full UTA: {UTA_FULL} orders over 20 symbols", ""]
    lines += table(
        headers,
        [
            row('engine, account="uta"', panic, pbound, pref),
            row('engine, account="auto" (no warm-up)', auto, pbound, pref),
            row("reference client (raw aiohttp)", raw_p, pbound, None),
        ],
    )
    lines += [
        "",
        f'`panic_cancel(kinds=("normal", "tpsl"))`: no v3 page lists a UTA\'s spot '
        "trigger orders, so the default kinds report plan orders unconfirmed. "
        f"Bound = L (first page) + ⌊(20 − 1)/5⌋ s + L (last cancel) + L (the listing that "
        f'finds it empty) = {secs(pbound)}. "auto" first hears 40085 from a v2 listing, '
        "then lists again on v3.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 targets instead of 3,000")
    parser.add_argument("--repeats", type=int, default=1, help="runs per row (median)")
    args = parser.parse_args(argv)
    print(asyncio.run(measure(args.quick, max(1, args.repeats))))


if __name__ == "__main__":
    main()
