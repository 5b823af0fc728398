"""CancelEngine: the public facade. Checks arguments, owns the session of each event loop and
the panic task, and hands each call to a CancelRun or a Panic."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import itertools
import logging
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

import aiohttp

from ._auth import Credentials, Signer
from ._budget import BudgetProvider
from ._clock import ExchangeClock
from ._countdown import exchange_countdown
from ._exceptions import (
    EngineClosed,
    InvalidArgument,
    InvalidTarget,
    NoEventLoop,
    UnsupportedPlatform,
)
from ._family import V2, ApiFamily
from ._family_v3 import V3
from ._limit import LOCAL_BUDGETS, capacity_and_period
from ._listing import list_open_orders
from ._log import log
from ._log_context import call_context
from ._metrics import Metrics, MetricsSnapshot
from ._models import (
    CancelReport,
    CancelTarget,
    OpenOrders,
    OrderKind,
    OrderKindName,
    PanicReport,
    check_kind,
    normalize_symbol,
)
from ._panic import Panic
from ._plan import Mode, check_mode
from ._policy import CallScope, Deadline, RetryPolicy, check_deadline, check_positive
from ._probe import probe_account
from ._run import CancelRun, OnOutcome, Progress
from ._session import KEEP_WARM, ExchangeSession
from ._signals import after_panic, end_by_signal, tell
from ._switch import DeadManSwitch, Watchdog, check_switch
from ._transport import (
    AiohttpTransport,
    Transport,
    check_base_url,
    check_connector_options,
    check_proxy,
)
from ._watchdog_pipe import PipeWatchdog, WatchdogOrders
from ._watchdog_redis import RedisBeats, SwitchBoard
from ._wire import BATCH_CANCEL
from ._wire_v3 import V3_CANCEL_BATCH

DEFAULT_BASE_URL = "https://api.bitget.com"
ENV_BUDGET_URL = "BITGET_BUDGET_URL"
# A panic without an explicit deadline stops after this long; deadline=None means never.
DEFAULT_PANIC_DEADLINE = 60.0
ACCOUNT_TYPES = ("auto", "classic", "uta")
AccountType = Literal["auto", "classic", "uta"]
AccountKind = Literal["classic", "uta"]
_ENGINE_NUMBERS = itertools.count(1)


def running_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise NoEventLoop(
            "call this from a running event loop (inside a coroutine, e.g. under asyncio.run)"
        ) from None


def check_targets(targets: object) -> list[CancelTarget]:
    if isinstance(targets, (str, bytes, CancelTarget)) or not isinstance(targets, Iterable):
        raise InvalidTarget(f"targets must be an iterable of CancelTarget; got {targets!r}")
    checked = list(targets)
    for index, target in enumerate(checked):
        if not isinstance(target, CancelTarget):
            raise InvalidTarget(
                f"targets[{index}] must be a CancelTarget, got {type(target).__name__}"
            )
    return checked


def check_symbols(symbols: object) -> frozenset[str] | None:
    """A panic's scope: None (the whole account) or exchange symbol names."""
    if symbols is None:
        return None
    if isinstance(symbols, str) or not isinstance(symbols, Iterable):
        raise InvalidArgument(f"symbols must be None or an iterable of names; got {symbols!r}")
    checked = frozenset(normalize_symbol(symbol) for symbol in symbols)
    if not checked:
        # An empty scope lists nothing, and "nothing listed" must never read as "empty".
        raise InvalidArgument("symbols must name at least one symbol (None: the whole account)")
    return checked


ClientOidPrefix = str | Iterable[str] | None


def check_prefixes(prefixes: object) -> tuple[str, ...] | None:
    """A scope by clientOid: None (every order), a prefix, or several (one bot's orders)."""
    if prefixes is None:
        return None
    given = [prefixes] if isinstance(prefixes, str) else prefixes
    if not isinstance(given, Iterable):
        raise InvalidArgument(
            f"client_oid_prefix must be None, a str or an iterable of str; got {prefixes!r}"
        )
    checked = tuple(dict.fromkeys(given))
    for prefix in checked:
        if not isinstance(prefix, str) or not prefix or prefix.strip() != prefix:
            # "" would match every order: a scope that is no scope.
            raise InvalidArgument(
                f"client_oid_prefix must be non-empty text without surrounding whitespace; "
                f"got {prefix!r}"
            )
    if not checked:
        raise InvalidArgument("client_oid_prefix must name at least one prefix (None: every order)")
    return checked


def check_kinds(kinds: object) -> tuple[OrderKind, ...]:
    if isinstance(kinds, (str, OrderKind)) or not isinstance(kinds, Iterable):
        raise InvalidArgument(f"kinds must be an iterable of order kinds; got {kinds!r}")
    try:
        checked = tuple(dict.fromkeys(check_kind(kind) for kind in kinds))
    except InvalidTarget as exc:  # no target involved: a plain bad argument
        raise InvalidArgument(f"kinds: {exc}") from None
    if not checked:
        raise InvalidArgument("kinds must name at least one kind of order")
    return checked


def check_progress(progress: object, name: str = "progress") -> None:
    if progress is not None and not callable(progress):
        raise InvalidArgument(f"{name} must be None or a callable; got {progress!r}")
    if inspect.iscoroutinefunction(progress):
        # Called, it would only make a coroutine that nothing awaits: the callback never runs.
        raise InvalidArgument(
            f"{name} must be a plain function, not a coroutine function (it is called, not "
            f"awaited); start your own task from it if it must await"
        )


def check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name} must be True or False; got {value!r}")
    return value


class CancelEngine:
    """Cancels Bitget spot orders in bulk, as fast as the account's rate budget allows.

    ``cancel()`` never raises for network, server or exchange errors: they become outcomes.
    Engines of one account in one event loop share the account's budgets; the calls of one
    engine share its requests (concurrent cancels ride in the same batches).

    Parameters (keyword-only after ``credentials``):

    - ``base_url``: the REST API's root (``https://api.bitget.com``).
    - ``rate_limit``: batch-cancel requests per second (the exchange allows 10).
    - ``request_timeout``: seconds one request may take (never past a call's deadline).
    - ``max_attempts``, ``backoff_base``, ``backoff_cap``: how often and how patiently an
      order is asked again (exponential backoff from ``backoff_base``, capped, jittered).
    - ``transport``: your own ``Transport`` (e.g. wrapping ``AiohttpTransport``, or a
      ``MockTransport`` in tests) instead of the built-in one.
    - ``wall_clock``: the clock the request timestamps come from (``time.time``).
    - ``rng``: the random source of the backoff jitter (seed it for reproducible runs).
    - ``account``: ``"classic"`` (v2 API), ``"uta"`` (unified account, v3), or ``"auto"``
      (learnt from the first answers, or by ``warm_up()``).
    - ``account_id``: what names the account's shared budgets (default: the API key, hashed).
    - ``budget_url`` / ``budgets``: a Redis URL (``BITGET_BUDGET_URL``) for budgets shared
      across processes, or your own budget store; not both.
    - ``demo_trading``, ``proxy``, ``trust_env``: the built-in transport's demo header,
      HTTP(S) proxy, and whether aiohttp reads proxy settings from the environment.
    - ``connector_options``: ``aiohttp.TCPConnector`` keywords over the defaults
      (``limit``, ``keepalive_timeout``, ``ttl_dns_cache``, ``local_addr``, ``ssl``...).
    - ``session``: your own ``aiohttp.ClientSession`` for the built-in transport (it stays
      yours: ``close()`` leaves it open).
    - ``name``: this engine's label in log records (``record.engine``; ``record.account`` is
      the account's hashed id, ``record.endpoint`` the request's endpoint). Default
      ``engine-N``.
    - ``early_reuse``: let a slot of the in-process budget count from the request's arrival
      as the answer's ``requestTime`` places it (far away a round trip sooner than from the
      answer), under the assumption and safeguards of ``_arrival``; off for good on the
      account's budgets after a 429. Default False: every slot counts from its answer, which
      assumes nothing of the network; Bitget says a tripped limit takes 5 minutes to recover,
      so the round trip it saves far away is not worth that risk unless you choose it. A Redis
      budget always counts from the answer.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str = DEFAULT_BASE_URL,
        rate_limit: float = 10.0,
        request_timeout: float = 5.0,
        max_attempts: int = 5,
        backoff_base: float = 0.1,
        backoff_cap: float = 2.0,
        transport: Transport | None = None,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        account: AccountType = "auto",
        account_id: str | None = None,
        budget_url: str | None = None,
        budgets: BudgetProvider | None = None,
        demo_trading: bool = False,
        proxy: str | None = None,
        trust_env: bool = False,
        connector_options: Mapping[str, Any] | None = None,
        session: aiohttp.ClientSession | None = None,
        name: str | None = None,
        early_reuse: bool = False,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise InvalidArgument("credentials must be a Credentials instance")
        capacity, _ = capacity_and_period(rate_limit)
        check_positive("request_timeout", request_timeout)
        if account not in ACCOUNT_TYPES:
            raise InvalidArgument(
                f"account must be one of {', '.join(ACCOUNT_TYPES)}; got {account!r}"
            )
        if account_id is not None and (not isinstance(account_id, str) or not account_id):
            raise InvalidArgument("account_id must be None or a non-empty string")
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidArgument("name must be None or a non-empty string")
        self.name = name or f"engine-{next(_ENGINE_NUMBERS)}"
        self._policy = RetryPolicy(
            max_attempts=max_attempts, backoff_base=backoff_base, backoff_cap=backoff_cap
        )
        self.base_url = check_base_url(base_url)
        self.proxy = check_proxy(proxy)
        if transport is not None and (
            demo_trading
            or proxy is not None
            or trust_env
            or connector_options is not None
            or session is not None
        ):
            # Those live in the transport: with one of the caller's they would be ignored.
            raise InvalidArgument(
                "demo_trading, proxy, trust_env, connector_options and session configure the "
                "built-in transport; set them on your own transport instead"
            )
        self._connector_options = check_connector_options(connector_options)
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise InvalidArgument("session must be None or an aiohttp.ClientSession")
        if session is not None and (trust_env or connector_options is not None):
            raise InvalidArgument(
                "trust_env and connector_options configure the engine's own aiohttp session; "
                "set them on the session you pass instead"
            )
        self._http_session = session
        self.demo_trading = bool(demo_trading)
        self.trust_env = bool(trust_env)
        self.rate_limit = float(rate_limit)
        self.request_timeout = float(request_timeout)
        self.burst = capacity
        self._signer = Signer(credentials)
        self._credentials = credentials  # for a dead man's switch's watchdog process only
        self._account_id_given = account_id
        # The budget belongs to the account: its id (or the key's) hashed, never the key.
        self._account_id = hashlib.sha256((account_id or credentials.api_key).encode()).hexdigest()[
            :16
        ]
        self._account = account
        self.budget_url = budget_url if budget_url is not None else os.environ.get(ENV_BUDGET_URL)
        if budgets is not None and self.budget_url:
            raise InvalidArgument("give budget_url or budgets, not both")
        self._budgets_from_url = budgets is None
        self._budgets = budgets or self._budget_store(self.budget_url)
        self._transport_given = transport
        self._wall_clock = wall_clock
        self._clock = ExchangeClock(wall_clock)
        self._rng = rng or random.Random()
        self._families: dict[str, ApiFamily] = {"classic": V2, "uta": V3}
        self._session: ExchangeSession | None = None
        self._closed = False
        self._calls: set[asyncio.Future[None]] = set()
        self._panic: Panic | None = None
        self._panic_task: asyncio.Task[PanicReport] | None = None
        self._panic_listeners: list[Callable[[asyncio.Task[PanicReport]], None]] = []
        self._metrics = Metrics()
        self.early_reuse = bool(early_reuse)

    def _budget_store(self, url: str | None) -> BudgetProvider:
        if not url:
            return LOCAL_BUDGETS
        try:
            from ._redis_budget import RedisBudgets  # redis-py: the optional [redis] extra
        except ImportError:
            raise InvalidArgument(
                "budget_url needs redis-py: pip install 'bitget-cancel[redis]'"
            ) from None
        # A slot of a process that died frees itself after the lease: longer than any request.
        return RedisBudgets(url, lease=self.request_timeout + 2.0)

    @property
    def max_attempts(self) -> int:
        """Requests that may name one order before it is reported unresolved."""
        return self._policy.max_attempts

    @property
    def backoff_base(self) -> float:
        """Seconds before the first retry of an order (doubling, jittered)."""
        return self._policy.backoff_base

    @property
    def backoff_cap(self) -> float:
        """The longest wait between two attempts of an order, in seconds."""
        return self._policy.backoff_cap

    def __repr__(self) -> str:
        return (
            f"CancelEngine(base_url={self.base_url!r}, rate_limit={self.rate_limit:g}, "
            f"request_timeout={self.request_timeout:g}, max_attempts={self.max_attempts})"
        )

    async def __aenter__(self) -> CancelEngine:
        if self._closed:
            raise EngineClosed("this CancelEngine is closed; make a new one")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the session of the running event loop ------------------------------------------------

    def _session_here(self) -> ExchangeSession:
        """The session of the running loop; a fresh one (connections, budgets) on a new loop."""
        if self._closed:
            raise EngineClosed("this CancelEngine is closed")
        loop = running_loop()
        session = self._session
        if session is not None and session.loop is loop:
            return session
        if session is not None:
            log.info("engine used on a new event loop: fresh connections and budgets")
            if self._budgets is not LOCAL_BUDGETS and self._budgets_from_url:
                self._budgets = self._budget_store(self.budget_url)  # its tasks live in a loop
        transport = self._transport_given or AiohttpTransport(
            self.base_url,
            pool_size=max(32, 4 * self.burst),
            proxy=self.proxy,
            trust_env=self.trust_env,
            demo_trading=self.demo_trading,
            connector_options=self._connector_options,
            session=self._http_session,
        )
        account = self._account if session is None else session.account
        self._session = ExchangeSession(
            signer=self._signer,
            transport=transport,
            clock=self._clock,
            budgets=self._budgets,
            account_id=self._account_id,
            policy=self._policy,
            rng=self._rng,
            request_timeout=self.request_timeout,
            families=self._families,
            account=account,
            metrics=self._metrics,
            early_reuse=self.early_reuse,
            # rate_limit caps the cancel lane of either API (v3's own limit is 5/s).
            rates={
                BATCH_CANCEL.name: self.rate_limit,
                V3_CANCEL_BATCH.name: min(self.rate_limit, V3_CANCEL_BATCH.rate),
            },
        )
        if self._transport_given is None:
            self._session.close_with_loop()  # ours: closed at the loop's end at the latest
        return self._session

    @contextlib.contextmanager
    def _running_call(self) -> Iterator[None]:
        done = asyncio.get_running_loop().create_future()
        self._calls.add(done)
        try:
            with call_context(self._account_id, self.name):
                yield
        finally:
            self._calls.discard(done)
            done.set_result(None)

    def metrics(self) -> MetricsSnapshot:
        """What this engine has done since it was made (requests and answers by endpoint and
        verdict, 429s, retries, latency, budget waits, fallbacks): a frozen snapshot."""
        return self._metrics.snapshot(self._budgets.fallbacks)

    @property
    def clock_offset(self) -> float:
        """Seconds added to the local clock to match the exchange's (0 until measured)."""
        return self._clock.offset

    @property
    def account_type(self) -> AccountKind | None:
        """ "classic" or "uta" once known (given, probed by ``warm_up()`` or learnt from an
        answer), else None."""
        known = self._session.account_type if self._session is not None else self._account
        if known == "classic":
            return "classic"
        return "uta" if known == "uta" else None

    # -- calls --------------------------------------------------------------------------------

    async def cancel(
        self,
        targets: Iterable[CancelTarget],
        *,
        mode: Mode = "auto",
        deadline: float | None = None,
        progress: Progress | None = None,
        stop: asyncio.Event | None = None,
        on_outcome: OnOutcome | None = None,
        confirm: bool = True,
    ) -> CancelReport:
        """Cancel every target; one outcome per distinct target, in first-seen order.

        Raises only for invalid arguments (a ValueError subclass), before any request.
        ``progress(done, total)`` is called as orders reach their final outcome. The deadline
        counts from when the first request can go. Once ``stop`` is set nothing more is
        sent: answers in flight are taken, the rest come back unresolved.
        ``on_outcome(outcome)`` is called with each target's outcome as soon as it is final
        (those still open at the end as the report is made): the same outcomes, each once.

        ``confirm``: every "does not exist" answer is checked against a listing of the
        account's open orders of every kind (a kind the account cannot list, by a cancel of
        that kind by the order's id; no cost when there is none): ``not_open`` then
        means open nowhere on the account, and a target that named the wrong symbol or kind is
        cancelled where the order is (``CancelOutcome.found_as``). ``confirm=False`` skips
        it: ``not_open`` then only means that the exchange said so for that symbol and kind.
        """
        checked_mode = check_mode(mode)
        checked_deadline = check_deadline(deadline)
        checked = check_targets(targets)
        check_progress(progress)
        check_progress(on_outcome, "on_outcome")
        checked_confirm = check_flag("confirm", confirm)
        session = self._session_here()
        if stop is not None and not isinstance(stop, asyncio.Event):
            raise InvalidArgument("stop must be None or an asyncio.Event")
        with self._running_call():
            run = CancelRun(
                session,
                checked,
                checked_mode,
                checked_deadline,
                progress,
                on_outcome,
                confirm=checked_confirm,
            )
            return await run.execute(stop=stop)

    async def warm_up(
        self, connections: int | None = None, *, keep_warm: float | None = KEEP_WARM
    ) -> None:
        """Open ``connections`` (default: the burst size) kept-alive connections ahead of a panic,
        and measure the exchange's clock on the way. With ``account="auto"`` and the account
        type not yet known, one signed v3 read tells it (``account_type``). Never raises for
        network trouble.

        ``keep_warm``: seconds between re-warms of those connections (the same reads again)
        until ``close()``, so that a panic long after start still finds them open; None: once.
        """
        count = self.burst if connections is None else connections
        check_positive("connections", count, integer=True)
        if keep_warm is not None:
            check_positive("keep_warm", keep_warm)
        session = self._session_here()
        with self._running_call():
            if not await session.warm_up(count):
                log.warning("warm-up: no answer from %s", self.base_url)
            if session.account == "auto":
                # After the clock: the probe is signed, and a skewed clock would spoil it.
                await probe_account(session)
        session.keep_warm(count, keep_warm)

    async def resync_clock(self) -> None:
        """Read the exchange's clock and correct the signing timestamps."""
        session = self._session_here()
        with self._running_call():  # close() waits for it: nothing is sent after close()
            await session.clock.resync(session.read_server_time)

    async def open_orders(
        self,
        symbols: Iterable[str] | None = None,
        *,
        kinds: Iterable[OrderKind | OrderKindName] = ("normal", "tpsl", "plan"),
        deadline: float | None = 30.0,
        client_oid_prefix: ClientOidPrefix = None,
        on_listed: Callable[[int], None] | None = None,
    ) -> OpenOrders:
        """List the open orders of ``kinds`` (on ``symbols``, or the whole account), every page;
        with ``client_oid_prefix`` (a str or several), only those whose clientOid starts with
        one of them. ``on_listed(count)`` is called as pages arrive, with the orders listed so
        far (the total is not known before the last page).

        ``complete`` is false (and ``problems`` says why) when a listing could not be read to
        its end: then the list is not "everything that is open". With ``client_oid_prefix``,
        ``unattributed`` counts the orders listed in the symbol scope without a clientOid: they
        may be the prefix's too (the panic reports them the same way).
        """
        scope_symbols = check_symbols(symbols)
        prefixes = check_prefixes(client_oid_prefix)
        checked_kinds = check_kinds(kinds)
        checked_deadline = check_deadline(deadline)
        check_progress(on_listed, "on_listed")
        session = self._session_here()
        with self._running_call():
            scope = CallScope(Deadline(checked_deadline, session.loop))
            return await list_open_orders(
                session, scope_symbols, checked_kinds, scope, prefixes, on_listed
            )

    # -- panic --------------------------------------------------------------------------------

    async def panic_cancel(
        self,
        symbols: Iterable[str] | None = None,
        *,
        targets: Iterable[CancelTarget] = (),
        deadline: float | None = DEFAULT_PANIC_DEADLINE,
        use_symbol_cancel: bool = True,
        kinds: Iterable[OrderKind | OrderKindName] = ("normal", "tpsl", "plan"),
        progress: Progress | None = None,
        client_oid_prefix: ClientOidPrefix = None,
    ) -> PanicReport:
        """Close every open spot order of ``kinds`` (of ``symbols``, or the whole account) plus
        ``targets``.

        Lists, cancels and lists again until nothing that should close is open, or the
        deadline (60 s unless given; ``None`` for none). Shielded: cancelling the caller does
        not stop the panic; a second call while one runs joins it.

        ``client_oid_prefix`` (a str or several) scopes it to one bot's orders: only orders
        whose clientOid starts with a prefix are cancelled, never by a bulk cancel (which
        would close the others too), and ``account_empty`` means none of them is open. A
        listed order without a clientOid may be one of them: it is left open, and its kind is
        not confirmed empty (``problems`` says how many).
        """
        task = self.start_panic(
            symbols,
            targets=targets,
            deadline=deadline,
            use_symbol_cancel=use_symbol_cancel,
            kinds=kinds,
            progress=progress,
            client_oid_prefix=client_oid_prefix,
        )
        return await asyncio.shield(task)

    def panic_so_far(self) -> PanicReport | None:
        """The latest panic's report as it stands (None before any panic): every outcome known
        so far, the rest ``unresolved``. For a program that must quit before the panic ends
        (a second Ctrl-C): it changes nothing, the panic goes on."""
        panic = self._panic
        return None if panic is None else panic.snapshot()

    def start_panic(
        self,
        symbols: Iterable[str] | None = None,
        *,
        targets: Iterable[CancelTarget] = (),
        deadline: float | None = DEFAULT_PANIC_DEADLINE,
        use_symbol_cancel: bool = True,
        kinds: Iterable[OrderKind | OrderKindName] = ("normal", "tpsl", "plan"),
        progress: Progress | None = None,
        client_oid_prefix: ClientOidPrefix = None,
    ) -> asyncio.Task[PanicReport]:
        """Start (or join) a panic cancel and return its task; for signal handlers."""
        scope = check_symbols(symbols)
        prefixes = check_prefixes(client_oid_prefix)
        checked = check_targets(targets)
        checked_deadline = check_deadline(deadline)
        checked_kinds = check_kinds(kinds)
        check_progress(progress)
        use_bulk = check_flag("use_symbol_cancel", use_symbol_cancel)
        running = self._panic_task
        if running is not None and not running.done() and self._panic is not None:
            self._panic.extend(scope, checked, checked_kinds, prefixes)
            return running
        session = self._session_here()
        panic = Panic(
            session,
            scope,
            checked,
            checked_deadline,
            use_symbol_cancel=use_bulk,
            kinds=checked_kinds,
            progress=progress,
            client_oid_prefix=prefixes,
        )
        task = session.loop.create_task(self._logged(panic.run()), name="bitget-cancel-panic")
        self._panic, self._panic_task = panic, task
        for listener in list(self._panic_listeners):
            try:
                listener(task)
            except Exception:
                log.exception("panic listener failed")
        return task

    async def _logged(self, work: Awaitable[PanicReport]) -> PanicReport:
        with call_context(self._account_id, self.name):
            return await work

    @property
    def panic_running(self) -> bool:
        """True while a panic cancel runs: a strategy should stop placing orders."""
        return self._panic_task is not None and not self._panic_task.done()

    def add_panic_listener(
        self, listener: Callable[[asyncio.Task[PanicReport]], None]
    ) -> Callable[[], None]:
        """Call ``listener(task)`` whenever a panic starts; returns a function that removes it."""
        self._panic_listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._panic_listeners.remove(listener)

        return remove

    # -- dead man's switch -----------------------------------------------------------------

    def dead_man_switch(
        self,
        timeout: float = 10.0,
        *,
        watchdog: Literal["process", "redis"] | None = "process",
        exchange: Literal["auto", "off"] = "auto",
        name: str = "default",
        on_error: Literal["panic", "disarm"] = "panic",
        report_path: str | os.PathLike[str] | None = None,
        **scope: Any,
    ) -> DeadManSwitch:
        """``async with engine.dead_man_switch(timeout=10) as switch:``: while the block runs,
        the loop beats every ``timeout / 3``; ``timeout`` without a beat (the process died,
        hung, or lost its host) and a watchdog runs ``panic_cancel(**scope)``.

        ``watchdog``: "process" (a child process, own session, beats through a pipe), "redis"
        (beats into ``budget_url``; run ``bitget-cancel watchdog`` anywhere), None (the
        exchange's countdown only). ``exchange="auto"`` also arms Bitget's
        countdown-cancel-all on a unified account. Leaving the block normally disarms all and
        cancels nothing; by an exception (a cancelled task too) it runs the panic here, unless
        ``on_error="disarm"``. Arguments are checked now (``InvalidArgument``).
        """
        if self._closed:
            raise EngineClosed("this CancelEngine is closed")
        settings = check_switch(timeout, watchdog, exchange, name, on_error, report_path)
        checked = self._switch_scope(scope)
        dog: Watchdog | None = None
        if settings.watchdog == "process":
            if self._transport_given is not None:
                raise InvalidArgument(
                    "watchdog='process' re-creates this engine in another process, which "
                    "cannot use the transport object given to it; use watchdog=None or 'redis'"
                )
            orders = WatchdogOrders(
                self._credentials, self._child_settings(), checked, settings.timeout,
                settings.name, settings.report_path,
            )  # fmt: skip
            orders.encode()  # a scope that cannot travel is refused now
            dog = PipeWatchdog(orders)
        elif settings.watchdog == "redis":
            dog = RedisBeats(self.switch_board(), settings.name, settings.timeout, checked)

        async def countdown() -> Any:
            return await exchange_countdown(self._session_here, settings.timeout)

        return DeadManSwitch(
            settings,
            dog,
            countdown if settings.exchange == "auto" else None,
            lambda: self.start_panic(**checked),
        )

    def switch_board(self) -> SwitchBoard:
        """The dead man's switches of this account in ``budget_url`` (Redis)."""
        if not self.budget_url:
            raise InvalidArgument("a Redis watchdog needs budget_url (or BITGET_BUDGET_URL)")
        return SwitchBoard(self.budget_url, self._account_id)

    def _switch_scope(self, scope: dict[str, Any]) -> dict[str, Any]:
        """The switch's scope: what ``start_panic`` takes, checked now, as plain data."""
        allowed = set(inspect.signature(self.start_panic).parameters) - {"targets", "progress"}
        unknown = sorted(set(scope) - allowed)
        if unknown:
            raise InvalidArgument(
                f"dead_man_switch(): unknown scope argument(s) {', '.join(unknown)}; "
                f"the scope is panic_cancel's: {', '.join(sorted(allowed))}"
            )
        checked = dict(scope)
        if "symbols" in scope:
            symbols = check_symbols(scope["symbols"])
            checked["symbols"] = None if symbols is None else sorted(symbols)
        if "kinds" in scope:
            checked["kinds"] = [kind.value for kind in check_kinds(scope["kinds"])]
        if "deadline" in scope:
            checked["deadline"] = check_deadline(scope["deadline"])
        if "use_symbol_cancel" in scope:
            check_flag("use_symbol_cancel", scope["use_symbol_cancel"])
        if "client_oid_prefix" in scope:
            prefixes = check_prefixes(scope["client_oid_prefix"])
            checked["client_oid_prefix"] = None if prefixes is None else list(prefixes)
        return checked

    def _child_settings(self) -> dict[str, Any]:
        """This engine's settings for ``CancelEngine(**settings)`` in a watchdog process."""
        return {
            "base_url": self.base_url,
            "account": self.account_type or self._account,
            "account_id": self._account_id_given,
            "budget_url": self.budget_url or None,
            "demo_trading": self.demo_trading,
            "proxy": self.proxy,
            "trust_env": self.trust_env,
            "rate_limit": self.rate_limit,
            "request_timeout": self.request_timeout,
            "max_attempts": self.max_attempts,
            "backoff_base": self.backoff_base,
            "backoff_cap": self.backoff_cap,
        }

    async def close(self) -> None:
        """Refuse new calls, wait for running ones (a panic within its deadline), then close
        the connections. Idempotent."""
        self._closed = True
        if self._session is not None and self._session.loop is asyncio.get_running_loop():
            self._session.keep_warm(0, None)  # no re-warm from now on
        task = self._panic_task
        if task is not None and not task.done():
            log.info("close(): waiting for the running panic cancel to finish")
            with contextlib.suppress(Exception):
                await asyncio.shield(task)
        if self._calls:
            await asyncio.wait(set(self._calls))
        session = self._session
        if session is not None and session.loop is asyncio.get_running_loop():
            await session.close()
        elif self._transport_given is not None:
            await self._transport_given.close()
        if self._budgets_from_url and self._budgets is not LOCAL_BUDGETS:
            await self._budgets.close()  # ours; a store the caller passed in stays theirs


def install_panic_handler(
    engine: CancelEngine,
    signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
    *,
    symbols: Iterable[str] | None = None,
    targets: Iterable[CancelTarget] = (),
    deadline: float | None = DEFAULT_PANIC_DEADLINE,
    use_symbol_cancel: bool = True,
    kinds: Iterable[OrderKind | OrderKindName] = ("normal", "tpsl", "plan"),
    progress: Progress | None = None,
) -> Callable[[], None]:
    """On each of ``signals``, start (or join) ``engine.panic_cancel(...)`` with these keywords;
    once the panic has finished and its result is logged, the signal has its usual outcome
    (SIGINT: ``KeyboardInterrupt``; others: the process ends by that signal). A second signal
    during the panic ends the process at once, with what was logged so far.

    The keywords are checked now, not when the signal comes. Returns a function that removes
    the handlers (a panic already started still ends the process). Must be called from the
    running loop; a loop without signal handlers (Windows) raises ``UnsupportedPlatform``.
    """
    if not isinstance(engine, CancelEngine):
        raise InvalidArgument("engine must be a CancelEngine")
    scope = check_symbols(symbols)
    checked_targets = check_targets(targets)
    checked_deadline = check_deadline(deadline)
    checked_kinds = check_kinds(kinds)
    check_progress(progress)
    check_flag("use_symbol_cancel", use_symbol_cancel)
    loop = running_loop()
    received: list[signal.Signals] = []

    def remove() -> None:
        for signum in signals:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)

    def on_signal(signum: signal.Signals) -> None:
        if received:
            tell(logging.ERROR, "second signal (%s) during the panic cancel: exiting now",
                  signum.name)  # fmt: skip
            end_by_signal(signum, remove, at_once=True)
            return
        received.append(signum)
        tell(logging.WARNING, "signal %s: panic cancel", signum.name)
        task = engine.start_panic(
            scope,
            targets=checked_targets,
            deadline=checked_deadline,
            use_symbol_cancel=use_symbol_cancel,
            kinds=checked_kinds,
            progress=progress,
        )
        task.add_done_callback(lambda done: after_panic(done, signum, remove))

    for signum in signals:
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except NotImplementedError:
            remove()
            raise UnsupportedPlatform(
                "install_panic_handler needs an event loop with signal handlers "
                "(loop.add_signal_handler): Linux and macOS; this loop (Windows) has none. "
                "Run engine.panic_cancel() from your own shutdown path instead"
            ) from None
    return remove
