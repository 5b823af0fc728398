"""SimExchange: the HTTP face of the simulator (aiohttp low-level server).

The request pipeline mirrors the exchange's: uplink delay, arrival in the rate window,
signature checks, body parse, optional fault, business rules, downlink delay.
"""

from __future__ import annotations

import asyncio
import random
import time
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, NamedTuple

import msgspec
from aiohttp import web

from ._auth import Authenticator
from ._book import OrderBook, SimOrder
from ._faults import (
    DROP_AFTER_CANCEL,
    HTML_5XX,
    SLOW_AFTER_CANCEL,
    SPURIOUS_429,
    TRUNCATED_JSON,
    Faults,
)
from ._stats import SimStats
from ._venue import Body, Query, Venue
from ._window import SlidingWindow
from ._wire import SimError, envelope, error_body, html_error_page

BATCH_CANCEL_PATH = "/api/v2/spot/trade/batch-cancel-order"
CANCEL_SYMBOL_PATH = "/api/v2/spot/trade/cancel-symbol-order"
UNFILLED_PATH = "/api/v2/spot/trade/unfilled-orders"
TIME_PATH = "/api/v2/public/time"
SYMBOLS_PATH = "/api/v2/spot/public/symbols"
COINS_PATH = "/api/v2/spot/public/coins"
MARGIN_CURRENCIES_PATH = "/api/v2/margin/currencies"

JSON = "application/json"
_decode = msgspec.json.decode


class _Route(NamedTuple):
    method: str
    limit: int  # requests per sliding second, per api key (public: per client address)
    signed: bool
    trade: bool  # faults apply
    handler: Callable[[Body, Query], Any]


def _check_range(name: str, pair: tuple[float, float]) -> tuple[float, float]:
    low, high = float(pair[0]), float(pair[1])
    if not 0.0 <= low <= high:
        raise ValueError(f"{name} must be (low, high) with 0 <= low <= high, got {pair!r}")
    return low, high


def _parse_body(raw: bytes) -> Body:
    try:
        body = _decode(raw)
    except msgspec.DecodeError:
        raise SimError(400, "40017", "Parameter verification failed", "body_json") from None
    if not isinstance(body, dict):
        raise SimError(400, "40017", "Parameter verification failed", "body_json")
    return body


class SimExchange:
    """An embedded Bitget spot exchange on a local port, strict about the protocol.

    Use as ``async with SimExchange() as sim:`` or ``await sim.start()`` / ``await sim.stop()``.
    Every random choice (latency, faults, list order, ids) comes from ``random.Random(seed)``.
    ``faults``, ``rate_limits`` and ``time_offset_s`` may be changed while running.
    """

    def __init__(
        self,
        *,
        api_key: str = "sim-key",
        secret_key: str = "sim-secret",
        passphrase: str = "sim-pass",
        latency_ms: tuple[float, float] = (0.0, 0.0),
        faults: Faults | None = None,
        seed: int = 0,
        rate_limits: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        time_offset_s: float = 0.0,
        handshake_ms: float = 0.0,
        symbol_cancel_delay_ms: tuple[float, float] = (50.0, 200.0),
    ) -> None:
        if handshake_ms < 0:
            raise ValueError(f"handshake_ms must be >= 0, got {handshake_ms!r}")
        self.api_key = api_key
        self.secret_key = secret_key
        self.passphrase = passphrase
        self.rate_limits = rate_limits
        self.time_offset_s = time_offset_s
        self.host = host
        self._requested_port = port
        self._latency_ms = _check_range("latency_ms", latency_ms)
        self._handshake_s = handshake_ms / 1000.0
        self._rng = random.Random(seed)
        self._auth = Authenticator(api_key, secret_key, passphrase)
        self.stats = SimStats()
        self._book = OrderBook(self._rng, self.server_time_ms)
        self._timers: set[asyncio.TimerHandle] = set()
        self._venue = Venue(
            self._book,
            self._rng,
            self.stats,
            self.server_time_ms,
            self._schedule,
            _check_range("symbol_cancel_delay_ms", symbol_cancel_delay_ms),
        )
        self._faults = Faults()
        self.faults = faults if faults is not None else Faults()
        self._windows: dict[tuple[str, str], SlidingWindow] = {}
        self._seen_transports: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()
        self._runner: web.ServerRunner | None = None
        self._port: int | None = None
        venue = self._venue
        self._routes: dict[str, _Route] = {
            BATCH_CANCEL_PATH: _Route("POST", 10, True, True, venue.batch_cancel),
            CANCEL_SYMBOL_PATH: _Route("POST", 5, True, True, venue.cancel_symbol),
            UNFILLED_PATH: _Route("GET", 20, True, True, venue.unfilled_orders),
            TIME_PATH: _Route("GET", 20, False, False, venue.server_time),
            SYMBOLS_PATH: _Route("GET", 20, False, False, venue.symbols),
            COINS_PATH: _Route("GET", 3, False, False, venue.coins),
            MARGIN_CURRENCIES_PATH: _Route("GET", 10, False, False, venue.margin_currencies),
        }

    # -- configuration ------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The fault settings in force; assign a new :class:`Faults` to change them."""
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults
        self._venue.order_transient = faults.order_transient

    def server_time_ms(self) -> int:
        """The exchange clock: wall time plus ``time_offset_s``, in ms."""
        return int((time.time() + self.time_offset_s) * 1000)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving on ``host:port`` (port 0 picks a free one)."""
        if self._runner is not None:
            raise RuntimeError("SimExchange already started")
        server = web.Server(self._handle, access_log=None)
        # Short shutdown: a client that gave up on a slow answer must not stall stop().
        runner = web.ServerRunner(server, shutdown_timeout=0.25)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; pending asynchronous symbol cancels are dropped. Idempotent."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> SimExchange:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The port being served."""
        if self._port is None:
            raise RuntimeError("SimExchange is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running simulator."""
        return f"http://{self.host}:{self.port}"

    # -- orders -------------------------------------------------------------------------

    def place_order(
        self,
        symbol: str,
        client_oid: str | None = None,
        *,
        side: str | None = None,
        price: str | None = None,
        size: str | None = None,
    ) -> SimOrder:
        """Place one open limit order (no request involved)."""
        return self._book.place(symbol, client_oid, side=side, price=price, size=size)

    def place_orders(
        self, symbol: str, n: int, client_oid_prefix: str | None = None
    ) -> list[SimOrder]:
        """Place ``n`` open orders; client ids are ``f"{prefix}-{i}"``, or None without prefix."""
        return self._book.place_many(symbol, n, client_oid_prefix)

    def open_orders(self, symbol: str | None = None) -> list[SimOrder]:
        """Orders still open (all symbols, or one), oldest first."""
        return self._book.open_orders(symbol)

    def get_order(self, order_id: str) -> SimOrder | None:
        """The order with this id, open or not."""
        return self._book.by_id(order_id)

    def is_open(self, order_id: str) -> bool:
        """True if an order with this id exists and is still open."""
        order = self._book.by_id(order_id)
        return order is not None and order.is_open

    def reset_stats(self) -> None:
        """Zero the counters in :attr:`stats` (the same object stays live)."""
        self.stats.reset()

    # -- internals ----------------------------------------------------------------------

    def _schedule(self, delay_s: float, callback: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        timers = self._timers

        def fire() -> None:
            timers.discard(handle)
            callback()

        handle = loop.call_later(delay_s, fire)
        timers.add(handle)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        stats = self.stats
        stats.requests[path] = stats.requests.get(path, 0) + 1
        rng = self._rng
        up = down = 0.0
        low, high = self._latency_ms
        if high > 0.0:
            # Half before arrival (uplink jitter), half after processing (downlink).
            up = down = rng.uniform(low, high) / 2000.0
        if self._handshake_s:
            transport = request.transport
            if transport is not None and transport not in self._seen_transports:
                self._seen_transports.add(transport)
                up += self._handshake_s
        if up:
            await asyncio.sleep(up)

        now_ms = self.server_time_ms()
        fault: str | None = None
        status = 200
        content_type = JSON
        try:
            route = self._routes.get(path)
            if route is None or route.method != request.method:
                raise SimError(404, "40404", "Request URL NOT FOUND")
            self._arrive(route, path, request)
            raw = await request.read() if route.method == "POST" else b""
            if route.signed:
                self._auth.check(request.headers, route.method, request.raw_path, raw, now_ms)
            body: Body = {}
            if route.method == "POST":
                if request.content_type != JSON:
                    raise SimError(
                        400,
                        "40007",
                        "Invalid Content_Type, please use application/json format",
                        "content_type",
                    )
                body = _parse_body(raw)
            faults = self._faults
            if route.trade and faults.rate and rng.random() < faults.rate:
                fault = rng.choice(faults.kinds)
                stats.injected[fault] += 1
            if fault == HTML_5XX:
                status = rng.choice((502, 503, 504))
                payload = html_error_page(status)
                content_type = "text/html"
            elif fault == SPURIOUS_429:
                raise SimError(429, "429", "Too Many Requests")
            else:
                payload = envelope(route.handler(body, request.query), now_ms)
        except SimError as exc:
            if exc.violation is not None:
                stats.violations[exc.violation] += 1
            status = exc.status
            payload = error_body(exc.code, exc.msg, now_ms)

        if fault == SLOW_AFTER_CANCEL:
            down += self._faults.slow_s
        elif fault == TRUNCATED_JSON:
            payload = payload[: max(1, len(payload) // 2)]
        if down:
            await asyncio.sleep(down)
        if fault == DROP_AFTER_CANCEL and request.transport is not None:
            # The answer written below then fails quietly on the closed transport.
            request.transport.close()
        return web.Response(status=status, body=payload, content_type=content_type)

    def _arrive(self, route: _Route, path: str, request: web.BaseRequest) -> None:
        """Count the arrival in its sliding window; refuse with 429 past the limit."""
        # Signed endpoints are limited per api key, public ones per client address.
        who = request.headers.get("ACCESS-KEY", "") if route.signed else request.remote or ""
        key = (who, path)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = SlidingWindow()
        count = window.hit(time.monotonic())
        peaks = self.stats.max_in_window
        if count > peaks.get(path, 0):
            peaks[path] = count
        if count > route.limit and self.rate_limits:
            self.stats.pacing_429 += 1
            raise SimError(429, "429", "Too Many Requests")
