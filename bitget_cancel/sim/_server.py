"""SimExchange: the simulated exchange's face: settings, lifecycle and the account's orders.

Requests are answered by :class:`Pipeline` (aiohttp low-level server); the endpoint rules live
in the venue modules, one per API family.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TypeVar

from aiohttp import web

from ._auth import KeyRing, SimKey
from ._book import BOOK_KINDS, NORMAL, OrderBook, SimKind, SimOrder, check_kind
from ._countdown import SimCountdown
from ._faults import Faults
from ._kinds_v2 import KindsV2
from ._limits import LIMIT_SCOPES, RateLimits
from ._pipeline import Pipeline, Settings, SimAccount
from ._release import ReleaseWindow
from ._routes import build_routes
from ._rules import VenueState
from ._stats import SimStats
from ._venue import Venue
from ._venue_v3 import VenueV3
from ._wire import USER_ID

ACCOUNT_TYPES: tuple[SimAccount, ...] = ("classic", "uta")
UTA_ORDER_CAP = 400  # the UTA pages: at most 400 open orders across spot and margin
PENALTY_S = 300.0  # Bitget's FAQ: a tripped limit "takes 5 minutes to recover"


class SimBindError(OSError):
    """The simulator could not listen on the address asked for (busy port, foreign address)."""


def _bind_errno(host: str, port: int) -> int | None:
    """The errno of binding ``host:port`` with a plain socket (None if it binds, or if the
    host does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            try:
                probe.bind(address)
            except OSError as exc:
                return exc.errno
    return None


def _check_range(name: str, pair: tuple[float, float]) -> tuple[float, float]:
    low, high = float(pair[0]), float(pair[1])
    if not 0.0 <= low <= high:
        raise ValueError(f"{name} must be (low, high) with 0 <= low <= high, got {pair!r}")
    return low, high


T = TypeVar("T", bound=str)


def _check_choice(name: str, value: str, choices: tuple[T, ...]) -> T:
    for choice in choices:
        if value == choice:
            return choice
    raise ValueError(f"{name} must be one of {choices!r}, got {value!r}")


class SimExchange:
    """An embedded Bitget spot exchange on a local port, strict about the protocol.

    Use as ``async with SimExchange() as sim:`` or ``await sim.start()`` / ``await sim.stop()``.
    Every random choice (latency, faults, list order, ids) comes from ``random.Random(seed)``.
    ``faults``, ``rate_limits``, ``penalty_s``, ``account``, ``demo_trading``,
    ``plan_list_requires_symbol`` and ``time_offset_s`` may be changed while running.

    The account holds normal, TP/SL and plan orders. ``account="classic"`` answers the v2
    trade endpoints (v3 ones answer 40084); ``"uta"`` answers the v3 ones (v2 ones answer 40085)
    and holds at most ``uta_order_cap`` open normal orders (None: no cap).

    Keys: the main key (``api_key``, ``passphrase`` and ``secret_key``, or ``rsa_public_key``
    for an RSA key) plus ``keys``. Rate limits are kept per account (keys of one ``uid`` share
    them) or, with ``limits_per="key"``, per key. After a 429 of the client's making the same
    (account, endpoint) is refused for ``penalty_s`` seconds (0: no penalty).

    ``demo_trading``: None ignores the ``paptrading`` header; True requires ``paptrading: 1``
    on signed requests, False refuses it (40099 either way). ``release_window``:
    ``(start_in_s, duration_s)`` after :meth:`start`, the weekly release window (see
    :meth:`open_release_window`).
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
        account: SimAccount = "classic",
        uta_order_cap: int | None = UTA_ORDER_CAP,
        keys: Sequence[SimKey] = (),
        rsa_public_key: str | bytes | None = None,
        uid: str = USER_ID,
        limits_per: str = "account",
        penalty_s: float = PENALTY_S,
        demo_trading: bool | None = None,
        plan_list_requires_symbol: bool = False,
        release_window: tuple[float, float] | None = None,
    ) -> None:
        if handshake_ms < 0:
            raise ValueError(f"handshake_ms must be >= 0, got {handshake_ms!r}")
        if uta_order_cap is not None and uta_order_cap < 0:
            raise ValueError(f"uta_order_cap must be None or >= 0, got {uta_order_cap!r}")
        if penalty_s < 0:
            raise ValueError(f"penalty_s must be >= 0, got {penalty_s!r}")
        if release_window is not None:
            start_in, duration = release_window
            if start_in < 0 or duration < 0:
                raise ValueError(
                    f"release_window must be (start_in_s, duration_s) >= 0, got {release_window!r}"
                )
        self.api_key = api_key
        self.secret_key = secret_key
        self.passphrase = passphrase
        self.time_offset_s = time_offset_s
        self.host = host
        self._requested_port = port
        self._release_at_start = release_window
        self._uta_order_cap = uta_order_cap
        main = SimKey(
            api_key,
            passphrase,
            secret_key=None if rsa_public_key is not None else secret_key,
            rsa_public_key=rsa_public_key,
            uid=uid,
        )
        self._keys = KeyRing([main, *keys])
        self._rng = random.Random(seed)
        self.stats = SimStats()
        self._book = OrderBook(self._rng, self.server_time_ms)
        self._timers: set[asyncio.TimerHandle] = set()
        self._state = VenueState(
            self._book,
            self._rng,
            self.stats,
            self.server_time_ms,
            self._schedule,
            _check_range("symbol_cancel_delay_ms", symbol_cancel_delay_ms),
            plan_list_requires_symbol=plan_list_requires_symbol,
        )
        self._settings = Settings(
            faults=Faults(),
            account=_check_choice("account", account, ACCOUNT_TYPES),
            demo_trading=demo_trading,
            limits_per=_check_choice("limits_per", limits_per, LIMIT_SCOPES),
            latency_ms=_check_range("latency_ms", latency_ms),
            handshake_s=handshake_ms / 1000.0,
        )
        self.faults = faults if faults is not None else Faults()
        self.account = account
        self._limits = RateLimits(self.stats, enabled=rate_limits, penalty_s=penalty_s)
        self._release = ReleaseWindow()
        state = self._state
        # countdown-cancel-all of a UTA; ``sim.countdown.refused = True``: not granted.
        self.countdown = SimCountdown(state)
        routes = build_routes(Venue(state), KindsV2(state), VenueV3(state), self.countdown)
        self._pipeline = Pipeline(
            self._settings,
            routes,
            self._limits,
            self._keys,
            self._release,
            self.stats,
            self._rng,
            self.server_time_ms,
        )
        self._runner: web.ServerRunner | None = None
        self._port: int | None = None

    # -- configuration ------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The fault settings in force; assign a new :class:`Faults` to change them."""
        return self._settings.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._settings.faults = faults
        self._state.order_transient = faults.order_transient

    @property
    def account(self) -> SimAccount:
        """``"classic"`` (v2 API) or ``"uta"`` (v3 API)."""
        return self._settings.account

    @account.setter
    def account(self, account: SimAccount) -> None:
        self._settings.account = _check_choice("account", account, ACCOUNT_TYPES)
        self._book.cap = self._uta_order_cap if account == "uta" else None

    @property
    def rate_limits(self) -> bool:
        """False: nothing is refused for pacing (windows are still counted)."""
        return self._limits.enabled

    @rate_limits.setter
    def rate_limits(self, enabled: bool) -> None:
        self._limits.enabled = enabled

    @property
    def penalty_s(self) -> float:
        """How long a tripped (account, endpoint) stays refused."""
        return self._limits.penalty_s

    @penalty_s.setter
    def penalty_s(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"penalty_s must be >= 0, got {seconds!r}")
        self._limits.penalty_s = seconds

    @property
    def demo_trading(self) -> bool | None:
        """None: the ``paptrading`` header is ignored; True: required; False: refused."""
        return self._settings.demo_trading

    @demo_trading.setter
    def demo_trading(self, demo: bool | None) -> None:
        self._settings.demo_trading = demo

    @property
    def plan_list_requires_symbol(self) -> bool:
        """True: ``current-plan-order`` without ``symbol`` is refused (one copy of the docs)."""
        return self._state.plan_list_requires_symbol

    @plan_list_requires_symbol.setter
    def plan_list_requires_symbol(self, required: bool) -> None:
        self._state.plan_list_requires_symbol = required

    def server_time_ms(self) -> int:
        """The exchange clock: wall time plus ``time_offset_s``, in ms."""
        return int((time.time() + self.time_offset_s) * 1000)

    def open_release_window(
        self, duration_s: float, *, start_in_s: float = 0.0, rate: float = 1.0
    ) -> None:
        """From ``start_in_s`` seconds on, for ``duration_s``, refuse trade requests (with
        probability ``rate``) with a release-window code: 45001, 40725, 40808 or 40015."""
        self._release.open(time.monotonic(), start_in_s, duration_s, rate)

    def close_release_window(self) -> None:
        """End the release window now."""
        self._release.close()

    @property
    def in_release_window(self) -> bool:
        """True while the release window is open."""
        return self._release.active(time.monotonic())

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving on ``host:port`` (port 0 picks a free one).

        Raises :class:`SimBindError` (an ``OSError``, one line) when the address cannot be
        listened on.
        """
        if self._runner is not None:
            raise RuntimeError("SimExchange already started")
        server = web.Server(self._pipeline.handle, access_log=None)
        # Short shutdown: a client that gave up on a slow answer must not stall stop().
        runner = web.ServerRunner(server, shutdown_timeout=0.25)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            reason = (exc.strerror or str(exc)).splitlines()[0].lower()
            error = SimBindError(f"cannot serve on {self.host}:{self._requested_port}: {reason}")
            # Python 3.13's create_server folds the per-address errors into one without an
            # errno; a plain bind tells which it was.
            error.errno = (
                exc.errno if exc.errno is not None else _bind_errno(self.host, self._requested_port)
            )
            raise error from None
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        if self._release_at_start is not None:
            start_in, duration = self._release_at_start
            self.open_release_window(duration, start_in_s=start_in)

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
        kind: SimKind = NORMAL,
        trigger_price: str | None = None,
    ) -> SimOrder:
        """Place one open order (no request involved) of ``kind``: ``"normal"`` (a limit
        order), ``"tpsl"`` or ``"plan"``; or ``"futures_tpsl"``, a TP/SL order of the account's
        USDT-futures line (listed by the v3 strategy listing for that category, cancelled by
        cancel-strategy-order by id, never by a spot endpoint). ValueError past a UTA's cap."""
        return self._book.place(
            symbol,
            client_oid,
            side=side,
            price=price,
            size=size,
            kind=kind,
            trigger_price=trigger_price,
        )

    def place_orders(
        self, symbol: str, n: int, client_oid_prefix: str | None = None, *, kind: SimKind = NORMAL
    ) -> list[SimOrder]:
        """Place ``n`` open orders of ``kind``; client ids are ``f"{prefix}-{i}"``, or None
        without prefix. All or none: ValueError if they would pass a UTA's cap."""
        return self._book.place_many(symbol, n, client_oid_prefix, kind)

    def open_orders(self, symbol: str | None = None, kind: SimKind | None = None) -> list[SimOrder]:
        """Orders still open (all symbols or one; every kind or one), oldest first."""
        return self._book.open_orders(symbol, kind)

    def count_open(self, kind: SimKind | None = None) -> int:
        """How many orders are open (of one kind, or of every kind)."""
        if kind is None:
            return sum(self._book.count_open(k) for k in BOOK_KINDS)
        return self._book.count_open(check_kind(kind))

    def get_order(self, order_id: str) -> SimOrder | None:
        """The order with this id, open or not, of any kind."""
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
