"""One rate budget per (account, endpoint) for every process on every host: a store on Redis.

The guarantee is the in-process one (``_limit.RateBudget``) for the union of all participants:
a slot is held from the send until ``period + margin`` after the answer, the first ``capacity``
go at once, a 429 seen by anyone pauses everyone and then lets one probe through at a time, and
an exhausted window (``x-mbx-used-remain-limit: 0``) that another client used (the store counts
fewer than the capacity in it) holds the endpoint until it rolls. Every
check-and-take is one Lua script (``_redis_lua``) on Redis's own clock; a slot taken by a
participant that died frees itself when its lease runs out.

Redis trouble never blocks a cancel: a Redis call that fails or takes longer than ``timeout``
switches this provider to in-process budgets at a conservative share of the rate (the rate
divided by the participants seen in Redis), logs one warning, counts it in ``fallbacks``, and
goes back to Redis as soon as it answers again. Both switches carry over what this participant
has in flight and in the window, so no transition frees a slot early on its side; and the
fallback grants nothing until what the others took from Redis before it went has left the
window (one period after the outage was noticed), since it cannot see their use.

Waiters do not poll: the head waiter of each budget sleeps until the earliest moment the script
says anything can change, and a release anywhere wakes it through a pub/sub channel.

A panic goes first (``acquire_first``): ahead of the waiters of its process, and while it
waits, Redis grants nothing to the other participants (``_redis_lua.TAKE``, its ``f:`` mark).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from typing import Any

from . import _redis_lua as lua
from ._exceptions import InvalidBudgetStore
from ._limit import RateBudget, capacity_and_period
from ._redis_url import parse_budget_url

try:
    from redis.exceptions import NoScriptError, RedisError

    from ._redis_store import RedisStore, connect
except ImportError as exc:  # pragma: no cover - the import error says what to install
    raise ImportError(
        "the Redis budget store needs redis-py: pip install 'bitget-cancel[redis]'"
    ) from exc

log = logging.getLogger("bitget_cancel")

# What counts as Redis trouble: redis-py's own errors, sockets, and our timeout.
_TROUBLE = (RedisError, OSError, asyncio.TimeoutError)
_US = 1_000_000
_WARN_EVERY = 900.0
_FIRST_LOOK = 0.05  # seconds after joining to count the participants again (then doubling)
# Slots granted beyond the waiters (a burst is taken whole) wait this long after the last one
# was taken for the caller's next acquire, then go back: the engine asks for a burst's slots
# one after the other, a few event-loop turns apart (more on a loaded machine).
_RESERVE_FOR = 0.02
_BURST_MAX = 32  # at most this many slots per take: a script's work stays small


@dataclass(frozen=True)
class BudgetKeys:
    """The Redis names of one (account, endpoint) budget."""

    flying: str
    window: str
    state: str
    wake: str
    presence: str  # the account's participants
    epoch: str  # the account's epoch: its absence means the store lost its keys


def account_key(account_id: str) -> str:
    """What Redis stores for an account: a hash, never the id (or an api key) itself."""
    return hashlib.sha256(b"bitget-cancel/budget/" + account_id.encode()).hexdigest()[:32]


def budget_keys(prefix: str, account_id: str, endpoint: str) -> BudgetKeys:
    # One hash tag per account: all its keys live in one cluster slot, as a script needs.
    account = account_key(account_id)
    base = f"{prefix}:{{{account}}}:{endpoint}"
    return BudgetKeys(
        f"{base}:flying",
        f"{base}:window",
        f"{base}:state",
        f"{base}:wake",
        _presence_key(prefix, account),
        f"{prefix}:{{{account}}}:epoch",
    )


def _presence_key(prefix: str, account: str) -> str:
    return f"{prefix}:{{{account}}}:presence"


@dataclass(frozen=True)
class _Script:
    """A Lua script, called by its SHA; sent whole when the server does not know it yet."""

    body: str

    @property
    def sha(self) -> str:
        return hashlib.sha1(self.body.encode()).hexdigest()  # Redis names scripts by SHA1


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidBudgetStore(f"{name} must be a number of seconds; got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidBudgetStore(f"{name} must be positive and finite; got {value!r}")
    return float(value)


class RedisBudgets:
    """The ``BudgetProvider`` whose budgets live in Redis, shared by every participant.

    ``url``: ``redis://[:password@]host:port/db`` or ``rediss://`` (TLS); without a password in
    the URL, ``$REDIS_PASSWORD`` is used if set. One provider serves one event loop; end it
    with ``await close()``.

    - ``lease``: a slot whose holder never ends it (the process died) frees itself after this
      many seconds; make it the request timeout plus a margin.
    - ``timeout``: a Redis call slower than this is an outage. Keep it near a second: on a
      loaded machine an event loop can stall for hundreds of milliseconds, and mistaking a
      stall for an outage costs more than it saves.
    - ``retry_interval``: while Redis is out, how often to look for it again.
    - ``presence_ttl``: each participant renews its presence key within this; the fallback
      divides the rate by the participants seen.
    - ``fallback_participants``: divide by this instead of the count seen in Redis (a
      participant that never reached Redis has seen only itself).
    """

    def __init__(
        self,
        url: str,
        *,
        lease: float = 10.0,
        timeout: float = 1.0,
        retry_interval: float = 1.0,
        presence_ttl: float = 5.0,
        fallback_participants: int | None = None,
        margin: float = 0.002,
        cooldown: float = 1.0,
        max_cooldown: float = 30.0,
        prefix: str = "bitget-cancel",
    ) -> None:
        address = parse_budget_url(url)
        self.lease = _positive("lease", lease)
        self.timeout = _positive("timeout", timeout)
        self.retry_interval = _positive("retry_interval", retry_interval)
        self.presence_ttl = _positive("presence_ttl", presence_ttl)
        self.cooldown = _positive("cooldown", cooldown)
        self.max_cooldown = _positive("max_cooldown", max_cooldown)
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not margin >= 0:
            raise InvalidBudgetStore(f"margin must be a number of seconds >= 0; got {margin!r}")
        self.margin = float(margin)
        if fallback_participants is not None and (
            isinstance(fallback_participants, bool)
            or not isinstance(fallback_participants, int)
            or fallback_participants < 1
        ):
            raise InvalidBudgetStore(
                f"fallback_participants must be a whole number >= 1; got {fallback_participants!r}"
            )
        self.fallback_participants = fallback_participants
        if not isinstance(prefix, str) or not prefix or "{" in prefix or "}" in prefix:
            raise InvalidBudgetStore(
                f"prefix must be a non-empty name without braces; got {prefix!r}"
            )
        self.prefix = prefix
        self._url = address.shown
        self._store: RedisStore = connect(address, timeout=self.timeout)
        self._secret = self._store.secret
        #: Redis round trips made (scripts and pings; pub/sub messages are not asked for).
        self.round_trips = 0
        #: How often the store was found to have lost its keys (a new epoch).
        self.resets = 0
        self._epochs: dict[str, str] = {}  # account -> the epoch last seen
        self._drivers: set[asyncio.Task[None]] = set()

        self.participant = secrets.token_hex(8)
        self._me = self.participant.encode()
        self._tokens = itertools.count()
        self._budgets: dict[tuple[str, str], RedisBudget] = {}
        # account hash -> (when, participants seen): the last presence_ttl of counts, since
        # a participant still counts until its presence key would have expired.
        self._accounts: dict[str, deque[tuple[float, int]]] = {}
        self._healthy = True
        self._reached = False  # Redis has answered at least once
        # Loop time this provider noticed the current outage, if it had reached Redis before.
        self._down_at: float | None = None
        self._closed = False
        self._warned_at: float | None = None
        #: How many times Redis went away and this provider fell back to in-process budgets.
        self.fallbacks = 0
        #: Slots handed out by the in-process fallback.
        self.fallback_grants = 0
        self._pending: set[asyncio.Future[Any]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._listener: asyncio.Future[None] | None = None
        self._presence_task: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._pubsub: Any = None
        self._control = f"{prefix}:control:{self.participant}"
        self._channels: dict[str, RedisBudget] = {}
        self._confirmed: set[str] = set()
        self._confirming: dict[str, asyncio.Future[bool]] = {}

    def __repr__(self) -> str:
        return f"RedisBudgets({self._url!r}, degraded={self.degraded}, fallbacks={self.fallbacks})"

    # -- the BudgetProvider face -------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        """True while Redis is out and the budgets are in-process shares."""
        return not self._healthy

    def participants(self, account_id: str) -> int:
        """How many participants share the account, as last seen in Redis (at least 1)."""
        return self._participants(account_key(account_id))

    def _participants(self, account: str) -> int:
        seen = self._accounts.get(account)
        if not seen:
            return 1
        horizon = seen[-1][0] - self.presence_ttl
        while seen[0][0] < horizon:
            seen.popleft()
        return max(1, *(count for _, count in seen))

    def budget(
        self, account_id: str, endpoint: str, rate: float, owner: object | None = None
    ) -> RedisBudget:
        """The budget of (account, endpoint); the stricter rate wins (shared with other
        processes, so a claim is not withdrawn when one engine closes: ``forget`` is a no-op)."""
        capacity, period = capacity_and_period(rate)
        budget = self._budgets.get((account_id, endpoint))
        if budget is None:
            keys = budget_keys(self.prefix, account_id, endpoint)
            budget = RedisBudget(self, account_key(account_id), endpoint, keys, capacity, period)
            self._budgets[(account_id, endpoint)] = budget
            self._channels[keys.wake] = budget
            self._accounts.setdefault(budget.account, deque())
        elif capacity / period < budget.capacity / budget.period:
            budget.capacity, budget.period = capacity, period
        return budget

    def forget(self, owner: object) -> None:
        return None

    async def flush(self) -> None:
        """Give back the slots kept for a next caller, and wait until every release and
        give-back so far has reached Redis (or failed)."""
        while True:
            # A driver nobody waits for any more ends within its take: its grants go back too.
            ending = [b._driver for b in self._budgets.values() if b._ending()]
            if ending:
                await asyncio.wait([d for d in ending if d is not None])
                continue
            for budget in self._budgets.values():
                budget._return_reserved()
            if not self._pending:
                return
            await asyncio.wait(set(self._pending))

    async def close(self) -> None:
        """Flush, leave the presence set, stop listening and disconnect. Idempotent.

        Slots still held are left to their lease: their requests may still be in flight.
        """
        if self._closed:
            return
        for driver in list(self._drivers):
            driver.cancel()  # a take on its way gives back what it gets (flushed below)
            with contextlib.suppress(asyncio.CancelledError):
                await driver
        for budget in self._budgets.values():
            budget.stop()
        await self.flush()
        self._closed = True
        for task in (self._presence_task, self._supervisor, self._watcher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._healthy:
            for account in self._accounts:
                with contextlib.suppress(*_TROUBLE):
                    await self._call(self._presence_script(account, join=False))
        with contextlib.suppress(*_TROUBLE):
            await asyncio.wait_for(self._store.aclose(), self.timeout)

    # -- health: one warning per outage, back when Redis answers -----------------------------

    def _scrub(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}"
        return text.replace(self._secret, "***") if self._secret else text

    def _trouble(self, exc: BaseException) -> None:
        """Redis failed or was slow: fall back (once per outage) and look for it again."""
        for waiter in self._confirming.values():
            if not waiter.done():
                waiter.set_result(False)
        self._confirming.clear()
        if self._listener is not None:
            self._listener.cancel()  # reconnect: a hung connection must not hide the outage
        if self._closed or not self._healthy:
            return
        self._healthy = False
        self.fallbacks += 1
        # Others may have been granted slots up to now: the fallback waits for them to expire.
        self._down_at = asyncio.get_running_loop().time() if self._reached else None
        share = self.fallback_participants or max(
            map(self._participants, self._accounts), default=1
        )
        # One warning per outage; a store that flaps (answers PING, fails scripts) gets one
        # per quarter of an hour, the rest at debug level.
        now = time.monotonic()
        quiet = self._warned_at is not None and now - self._warned_at < _WARN_EVERY
        if not quiet:
            self._warned_at = now
        log.log(
            logging.DEBUG if quiet else logging.WARNING,
            "Redis budget store %s is not answering (%s): using in-process budgets at 1/%d of "
            "the rate until it answers",
            self._url,
            self._scrub(exc),
            share,
        )

    def _back(self) -> None:
        if not self._healthy:
            self._healthy = True
            log.info("Redis budget store %s answers again: budgets are shared", self._url)
        for budget in self._budgets.values():
            budget.wake.set()  # a release may have been missed while the channel was down

    async def _call(self, awaitable: Awaitable[Any]) -> Any:
        result = await asyncio.wait_for(awaitable, self.timeout)
        self._reached = True
        return result

    async def _script(self, script: _Script, keys: list[str], args: list[Any]) -> Any:
        """One round trip (two the first time a server sees the script)."""
        client = self._store.client
        self.round_trips += 1
        try:
            return await client.evalsha(script.sha, len(keys), *keys, *args)
        except NoScriptError:
            self.round_trips += 1
            return await client.eval(script.body, len(keys), *keys, *args)

    def _saw(self, budget: RedisBudget, epoch: str, present: int) -> None:
        """What a take answered about the account: its participants and its epoch."""
        account = budget.account
        self._accounts[account].append((time.monotonic(), present))
        known = self._epochs.get(account)
        self._epochs[account] = epoch
        if known is None or known == epoch:
            return
        self.resets += 1
        log.warning(
            "Redis budget store %s lost its keys or is another server (a restart, FLUSHALL, "
            "eviction or a failover): nobody sends for one window, as after an outage, then "
            "the budget is shared again",
            self._url,
        )
        for other in self._budgets.values():
            if other.account == account:
                other.reseed()

    def _drive(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._drivers.add(task)
        task.add_done_callback(self._drivers.discard)
        return task

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._track(task)
        return task

    def _track(self, call: asyncio.Future[Any]) -> None:
        """``flush()`` waits for it too."""
        self._pending.add(call)
        call.add_done_callback(self._pending.discard)

    def _start(self) -> None:
        if self._closed:
            raise RuntimeError("RedisBudgets is closed")
        if self._supervisor is None:
            loop = asyncio.get_running_loop()
            self._supervisor = loop.create_task(self._supervise())
            self._presence_task = loop.create_task(self._keep_presence())
            if self._store.address.kind == "sentinel":
                self._watcher = loop.create_task(self._watch_failovers())

    def new_token(self) -> str:
        return f"{self.participant}:{next(self._tokens)}"

    # -- the wake-up channel (pub/sub), which doubles as the health watch --------------------

    async def _supervise(self) -> None:
        while not self._closed:
            self._listener = asyncio.ensure_future(self._listen())
            try:
                await self._listener
            except asyncio.CancelledError:
                if self._closed:
                    raise
            except Exception as exc:  # Redis trouble, or a reply we cannot read: the same
                self._trouble(exc)
            await asyncio.sleep(self.retry_interval)

    async def _listen(self) -> None:
        pubsub = self._store.pubsub()
        try:
            self._confirmed.clear()
            await self._call(pubsub.subscribe(self._control, *self._channels))
            # Healthy again only once Redis has answered both the channel and a command.
            first = await self._call(pubsub.get_message(timeout=None))
            self._on_message(first)
            self.round_trips += 1
            await self._call(self._store.client.ping())
            self._pubsub = pubsub
            self._back()
            while True:
                self._on_message(await pubsub.get_message(timeout=None))
        finally:
            self._pubsub = None
            self._confirmed.clear()
            with contextlib.suppress(*_TROUBLE):
                await asyncio.wait_for(_closed(pubsub), self.timeout)

    async def _watch_failovers(self) -> None:
        """Sentinel: at ``+switch-master`` drop every connection, so that nobody writes to the
        old master any more (it accepts writes until Sentinel turns it into a replica, and
        those writes are lost: the new master's epoch then holds everyone one window)."""
        while not self._closed:
            pubsub = self._store.failover_watch()
            assert pubsub is not None  # a Sentinel deployment
            try:
                await self._call(pubsub.subscribe("+switch-master"))
                while True:
                    message = await pubsub.get_message(timeout=None)
                    data = message.get("data") if message else None
                    if message and message["type"] == "message" and isinstance(data, bytes):
                        master = self._store.address.master or ""
                        if data.split(b" ", 1)[0].decode(errors="replace") == master:
                            log.info("Sentinel names a new master: reconnecting")
                            await self._store.drop_connections()
                            if self._listener is not None:
                                self._listener.cancel()
            except _TROUBLE:
                pass  # another Sentinel of the list, after the retry interval
            finally:
                with contextlib.suppress(*_TROUBLE):
                    await asyncio.wait_for(_closed(pubsub), self.timeout)
            await asyncio.sleep(self.retry_interval)

    def _on_message(self, message: Any) -> None:
        if not message:
            return
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else str(channel)
        if message["type"] == "subscribe":
            self._confirmed.add(channel)
            waiter = self._confirming.pop(channel, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(True)
        elif message["type"] == "message" and message["data"] != self._me:
            budget = self._channels.get(channel)  # our own ends woke us already
            if budget is not None:
                budget.wake.set()

    def _listening(self, channel: str) -> bool:
        return channel in self._confirmed

    async def _subscribed(self, channel: str) -> bool:
        """Listening on ``channel``? Subscribes if not; False on Redis trouble."""
        if channel in self._confirmed:
            return True
        waiter = self._confirming.get(channel)
        if waiter is None:
            waiter = self._confirming[channel] = asyncio.get_running_loop().create_future()
        try:
            if self._pubsub is not None:  # else the listener subscribes it when it connects
                await self._call(self._pubsub.subscribe(channel))
            return bool(await self._call(asyncio.shield(waiter)))
        except _TROUBLE as exc:
            self._trouble(exc)
            return False

    # -- presence: how many share each account -----------------------------------------------

    def _presence_script(self, account: str, *, join: bool) -> Coroutine[Any, Any, Any]:
        ttl_us = int(self.presence_ttl * _US)
        return self._script(
            _PRESENCE,
            [_presence_key(self.prefix, account)],
            [self.participant, ttl_us, ttl_us // 1000 + 1000, 1 if join else 0],
        )

    async def _keep_presence(self) -> None:
        # Soon after joining, look again and again: participants that start together each
        # see only those before them, and an outage now would divide the rate by too few.
        every = self.presence_ttl / 3
        pause = min(_FIRST_LOOK, every)
        while not self._closed:
            if self._healthy:
                try:
                    for account in list(self._accounts):
                        seen = await self._call(self._presence_script(account, join=True))
                        self._accounts[account].append((time.monotonic(), int(seen)))
                except _TROUBLE as exc:
                    self._trouble(exc)
            await asyncio.sleep(pause)
            pause = min(2 * pause, every)


class _Slot:
    """One slot of a Redis budget (or of its in-process fallback); ends exactly once."""

    __slots__ = ("_budget", "done", "fallbacks", "granted_at", "shared", "token")

    def __init__(
        self, budget: RedisBudget, token: str, granted_at: float | None, shared: bool
    ) -> None:
        self._budget = budget
        self.token = token
        #: When Redis granted it (Redis clock, seconds); None for a fallback slot.
        self.granted_at = granted_at
        #: Whether Redis counts it (granted there, or carried there after an outage).
        self.shared = shared
        #: In-process fallbacks that count it too.
        self.fallbacks: list[RateBudget] = []
        self.done = False

    def __repr__(self) -> str:
        return f"_Slot({self.token!r}, shared={self.shared}, done={self.done})"

    def release(
        self,
        *,
        throttled: bool = False,
        remaining: int | None = None,
        sent: float | None = None,
        request_time: object = None,
    ) -> None:
        # ``sent`` / ``request_time`` are not used: a shared slot counts from its answer (the
        # early reuse is the in-process budget's, ``_arrival``).
        if not self.done:
            self.done = True
            self._budget.ended(self, sent=True, throttled=throttled, remaining=remaining)

    def give_back(self) -> None:
        if not self.done:
            self.done = True
            self._budget.ended(self, sent=False, throttled=False, remaining=None)

    def release_later(self, delay: float) -> None:
        if not self.done:
            self.done = True  # within the lease (request_timeout + 2 s): Redis keeps it meanwhile
            ended = self._budget.ended
            asyncio.get_running_loop().call_later(
                delay, lambda: ended(self, sent=True, throttled=False, remaining=None)
            )


@dataclass
class _Waiter:
    """One ``acquire()`` call: its future gets a slot, or None once its deadline has passed
    after at least one try."""

    future: asyncio.Future[_Slot | None]
    deadline: float | None
    tried: bool = False
    first: bool = False  # a panic's: served ahead of the ordinary waiters of this process


class RedisBudget:
    """The budget of one (account, endpoint): Redis while it answers, a local share if not.

    The ``acquire()`` calls of this process queue up (FIFO) and one driver task asks Redis, in
    one script call, for as many slots as this participant could use at once (all the
    capacity it does not hold yet): a burst costs one round trip. The slots nobody waits for
    yet are kept 20 ms for the next ``acquire()``/``try_acquire()``, then go back.
    """

    def __init__(
        self,
        provider: RedisBudgets,
        account: str,
        endpoint: str,
        keys: BudgetKeys,
        capacity: int,
        period: float,
    ) -> None:
        self._provider = provider
        self.account = account
        self._name = endpoint
        self.keys = keys
        self.capacity = capacity
        self.period = period
        #: The budget's rate in Redis: the lowest any live participant declared.
        self.shared_rate = capacity / period
        self.wake = asyncio.Event()
        self._waiters: deque[_Waiter] = deque()
        self._driver: asyncio.Task[None] | None = None
        self._reserved: deque[_Slot] = deque()  # granted, nobody waiting for them yet
        self._gave_up = False  # a caller stopped waiting while the driver ran
        self._reserve_timer: asyncio.TimerHandle | None = None
        # This participant's own use, carried over when switching stores.
        self._live: dict[str, _Slot] = {}
        self._recent: deque[float] = deque()  # loop times own releases leave the window
        self._recent_local: deque[float] = deque()  # ...of those Redis has not seen
        self._held_until = 0.0  # loop time: an exhausted window (fallback side)
        self._fallback: RateBudget | None = None
        self._seeding: asyncio.Task[None] | None = None
        self._reseeding: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"RedisBudget({self._name!r}, {self.capacity}/{self.period:g}s)"

    @property
    def name(self) -> str:
        return self._name

    @property
    def in_flight(self) -> int:
        """Slots of this participant not yet ended."""
        return len(self._live)

    def try_acquire(self) -> _Slot | None:
        """A slot Redis granted to this participant a moment ago and nobody has taken yet;
        else None (asking Redis is ``acquire()``'s work)."""
        if self._reserved and not self._pending():
            self._keep_reserve()
            return self._reserved.popleft()
        return None

    async def acquire(self, deadline: float | None = None, *, first: bool = False) -> _Slot | None:
        """Wait for a slot (FIFO in this process); None if the loop-time ``deadline`` came first.
        ``first``: ahead of the ordinary waiters (behind earlier ``first`` ones).

        Cancelling the caller takes nothing: a slot granted meanwhile is given back.
        """
        self._provider._start()
        reserved = self.try_acquire()
        if reserved is not None:
            return reserved
        waiter = _Waiter(asyncio.get_running_loop().create_future(), deadline, first=first)
        if first:
            waiters = self._waiters
            ahead = next((i for i, w in enumerate(waiters) if not w.first), len(waiters))
            waiters.insert(ahead, waiter)
        else:
            self._waiters.append(waiter)
        if self._driver is None or self._driver.done():
            self._driver = self._provider._drive(self._drive())
        try:
            return await waiter.future
        except asyncio.CancelledError:
            future = waiter.future
            if future.done() and not future.cancelled() and future.result() is not None:
                slot = future.result()
                assert slot is not None
                slot.give_back()
            if not self._pending():
                self._gave_up = True
                self.wake.set()  # the driver need not sleep on for nobody
            raise

    async def acquire_first(self, deadline: float | None = None) -> _Slot | None:
        """``acquire`` ahead of every ordinary waiter: this process's, and while it waits, every
        other participant's (Redis grants them nothing until it is served)."""
        return await self.acquire(deadline, first=True)

    def stop(self) -> None:
        """The provider closes: whoever still waits gets no slot."""
        self._return_reserved()
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_result(None)
        self._waiters.clear()

    # -- the driver: one task per budget while anyone waits -----------------------------------

    def _ending(self) -> bool:
        """The driver runs, and nobody waits for it any more."""
        return self._driver is not None and not self._driver.done() and not self._pending()

    def _pending(self) -> list[_Waiter]:
        while self._waiters and self._waiters[0].future.done():
            self._waiters.popleft()
        return [waiter for waiter in self._waiters if not waiter.future.done()]

    def _hand_out(self, slots: list[_Slot]) -> None:
        """Slots to the first waiters; the rest are kept a moment for the next caller."""
        pending = deque(self._pending())
        for slot in slots:
            if pending:
                pending.popleft().future.set_result(slot)
            elif slot.shared:
                self._reserved.append(slot)
            else:
                slot.give_back()
        if self._reserved:
            self._keep_reserve()

    def _keep_reserve(self) -> None:
        """The reserve goes back ``_RESERVE_FOR`` after its last use."""
        if self._reserve_timer is not None:
            self._reserve_timer.cancel()
        loop = asyncio.get_running_loop()
        self._reserve_timer = loop.call_later(_RESERVE_FOR, self._return_reserved)

    def _return_reserved(self) -> None:
        """Slots nobody took: back to Redis in one call (they never left)."""
        self._reserve_timer, timer = None, self._reserve_timer
        if timer is not None:
            timer.cancel()
        if not self._reserved:
            return
        tokens = []
        while self._reserved:
            slot = self._reserved.popleft()
            slot.done = True
            self._live.pop(slot.token, None)
            tokens.append(slot.token)
        if not self._provider._closed:
            self._provider._spawn(self._give_back_shared(tokens))

    def _expire(self, tried: list[_Waiter], now: float, wait: float) -> float:
        """Waiters tried and past their deadline get None; how long the driver may sleep."""
        for waiter in tried:
            waiter.tried = True
        for waiter in self._pending():
            if waiter.deadline is None or not waiter.tried:
                continue
            if now >= waiter.deadline:
                waiter.future.set_result(None)
                self._gave_up = True
            else:
                wait = min(wait, waiter.deadline - now)
        return wait

    async def _drive(self) -> None:
        try:
            await self._serve()
        except Exception as exc:  # never leave a waiter hanging on a driver that died
            for waiter in self._pending():
                waiter.future.set_exception(exc)

    async def _serve(self) -> None:
        provider = self._provider
        loop = asyncio.get_running_loop()
        self._gave_up = False
        while pending := self._pending():
            # A whole burst at once: what this participant does not hold of the capacity.
            room = self.capacity - len(self._live)
            asked = max(1, min(self.capacity, _BURST_MAX, max(len(pending), room)))
            # A panic waiting here goes ahead of everyone: its slots only, no burst (the
            # ordinary waiters here get theirs by the usual rules, after it).
            first = sum(1 for waiter in pending if waiter.first)
            if first:
                asked = min(asked, first)
            if provider._healthy and await self._ready():
                self.wake.clear()
                outcome = await self._take_shared(asked, min(asked, len(pending)), first=first > 0)
                if outcome is None:
                    continue  # Redis trouble: the fallback takes over
                slots, wait = outcome
                self._hand_out(slots)
                wait = self._expire(pending, loop.time(), wait)
                if wait <= 0.0:
                    continue  # all it asked for: more may be waiting now
                if not provider._listening(self.keys.wake):
                    # Refused before listening for releases: listen, then ask again (a release
                    # may have come in between). Grants never wait for this.
                    await provider._subscribed(self.keys.wake)
                    continue
            else:
                fallback = self._fallback or self._enter_fallback(loop.time())
                self.wake.clear()
                now = loop.time()
                wait = max(self._held_until - now, fallback.poll(now))
                if wait <= 0.0 and fallback.take(now):
                    provider.fallback_grants += 1
                    slot = _Slot(self, provider.new_token(), None, shared=False)
                    slot.fallbacks.append(fallback)
                    self._live[slot.token] = slot
                    self._hand_out([slot])
                    continue
                wait = self._expire(pending, now, wait)
            if not self._pending():
                break
            # A release anywhere sets ``wake``: never sleep to a lease's end needlessly.
            if wait == math.inf:
                await self.wake.wait()
            else:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), wait)
        if self._gave_up and provider._healthy and not provider._closed:
            # Callers gave up waiting (deadline, cancelled): Redis stops counting this one as
            # waiting, and the others' share grows at once.
            provider._spawn(self._give_back_shared([]))

    # -- the shared store --------------------------------------------------------------------

    async def _ready(self) -> bool:
        """Back from any fallback (what it granted is in Redis); False on Redis trouble."""
        if self._fallback is not None:
            seeding = self._seeding
            if seeding is None:
                seeding = self._seeding = self._provider._spawn(self._carry_to_redis())
            await asyncio.shield(seeding)
            if self._fallback is not None:
                return False
        return True

    async def _take_shared(
        self, asked: int, needed: int, *, first: bool = False
    ) -> tuple[list[_Slot], float] | None:
        """Up to ``asked`` slots (``needed`` of them for callers waiting) and how long until
        more can be had (0 if the needed ones were granted), or None on Redis trouble.
        ``first``: for a panic, ahead of every other participant's waiters."""
        provider = self._provider
        token = provider.new_token()
        keys = self.keys
        args = [
            provider.participant,
            token,
            asked,
            self.capacity,
            int(self.period * _US),
            int(provider.margin * _US),
            int(provider.lease * _US),
            self._ttl_ms(),
            int(provider.presence_ttl * _US),
            secrets.token_hex(8),
            needed,
            # After a reset, participants in fallback (they could not reach Redis) come back
            # within a retry interval and a timeout: until then their use is invisible here.
            int((provider.retry_interval + provider.timeout) * _US),
            int(first),
            keys.wake,
        ]
        names = [keys.flying, keys.window, keys.state, keys.presence, keys.epoch]
        call = asyncio.ensure_future(provider._call(provider._script(_TAKE, names, args)))
        provider._track(call)
        try:
            granted, now_us, wait_us, epoch, present, capacity, period_us = await asyncio.shield(
                call
            )
        except asyncio.CancelledError:
            # The script runs (or has run) anyway: give back whatever it takes.
            call.add_done_callback(lambda done: self._abandoned(done, token, asked))
            raise
        except _TROUBLE as exc:
            provider._trouble(exc)
            # It may have run before the timeout.
            provider._spawn(self._give_back_shared(_tokens(token, asked)))
            return None
        epoch = epoch.decode() if isinstance(epoch, bytes) else str(epoch)
        self.shared_rate = int(capacity) / (int(period_us) / _US)
        provider._saw(self, epoch, int(present))
        slots = []
        for number in range(1, int(granted) + 1):
            slot = _Slot(self, f"{token}.{number}", int(now_us) / _US, shared=True)
            self._live[slot.token] = slot
            slots.append(slot)
        return slots, (0.0 if len(slots) >= needed else int(wait_us) / _US)

    def _abandoned(self, call: asyncio.Future[Any], token: str, asked: int) -> None:
        """A take whose driver was cancelled has finished: undo what it took."""
        if not call.cancelled() and call.exception() is None and not call.result()[0]:
            return  # nothing was taken
        if not self._provider._closed:
            self._provider._spawn(self._give_back_shared(_tokens(token, asked)))

    def _ttl_ms(self) -> int:
        p = self._provider
        return int((p.lease + p.max_cooldown + 2 * self.period + 60.0) * 1000)

    def ended(self, slot: _Slot, *, sent: bool, throttled: bool, remaining: int | None) -> None:
        """Record the end of ``slot`` here at once; tell Redis from a background task."""
        provider = self._provider
        self._live.pop(slot.token, None)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the loop is gone: Redis frees the slot at its lease end
            return
        now = loop.time()
        self._trim(now)
        exhausted = remaining is not None and remaining <= 0 and not throttled
        for fallback in slot.fallbacks:
            if sent:
                fallback.release(now, throttled=throttled)
            else:
                fallback.give_back()
        if sent:
            expiry = now + self.period + provider.margin
            self._recent.append(expiry)
            if not slot.shared:
                self._recent_local.append(expiry)
            if exhausted:
                self._held_until = max(self._held_until, expiry)
        if slot.shared and not provider._closed:
            # The waiters here wake once Redis has it, not before: a take now would be refused.
            if sent:
                provider._spawn(self._release_shared(slot.token, throttled, exhausted))
            else:
                provider._spawn(self._give_back_shared([slot.token]))
        else:
            self.wake.set()

    async def _seeded(self) -> None:
        """Wait for seeds on their way to Redis: they may carry a token about to end."""
        for seeding in (self._seeding, self._reseeding):
            if seeding is not None:
                with contextlib.suppress(*_TROUBLE):
                    await asyncio.shield(seeding)

    async def _release_shared(self, token: str, throttled: bool, exhausted: bool) -> None:
        provider = self._provider
        keys = self.keys
        await self._seeded()
        woke = 1
        try:
            fresh, pause_us, woke = await provider._call(
                provider._script(
                    _RELEASE,
                    [keys.flying, keys.window, keys.state, keys.wake],
                    [
                        token,
                        int((self.period + provider.margin) * _US),
                        int(throttled),
                        int(exhausted),
                        int(provider.cooldown * _US),
                        int(provider.max_cooldown * _US),
                        self._ttl_ms(),
                        provider.participant,
                        self.capacity,  # an exhausted window holds only below it
                    ],
                )
            )
        except _TROUBLE as exc:
            provider._trouble(exc)  # the slot frees itself at its lease end
            return
        finally:
            if woke:
                self.wake.set()
        if fresh:
            log.warning(
                "HTTP 429 on %s: every participant pauses %.2fs, then one request at a time",
                self._name,
                int(pause_us) / _US,
            )

    async def _give_back_shared(self, tokens: list[str]) -> None:
        provider = self._provider
        keys = self.keys
        await self._seeded()
        try:
            await provider._call(
                provider._script(
                    _GIVE_BACK,
                    [keys.flying, keys.window, keys.state, keys.wake],
                    [provider.participant, *tokens],
                )
            )
        except _TROUBLE as exc:
            provider._trouble(exc)
        finally:
            self.wake.set()

    # -- carrying this participant's own use: after an outage, after a reset ----------------

    def _trim(self, now: float) -> None:
        for recent in (self._recent, self._recent_local):
            while recent and recent[0] <= now:
                recent.popleft()

    def _enter_fallback(self, now: float) -> RateBudget:
        """An in-process share of the rate that already counts this participant's own use."""
        provider = self._provider
        divisor = provider.fallback_participants or provider._participants(self.account)
        rate = min(self.capacity / self.period, self.shared_rate)
        capacity, period = capacity_and_period(rate / divisor)
        fallback = RateBudget(
            capacity,
            period,
            margin=provider.margin,
            cooldown=provider.cooldown,
            max_cooldown=provider.max_cooldown,
            name=self._name,
        )
        if provider._down_at is not None:
            # The others' use before the outage is invisible from here: until it has left the
            # window, a share of the rate could add to a window they already filled.
            hold = provider._down_at + self.period + provider.margin
            self._held_until = max(self._held_until, hold)
        self._trim(now)
        live = list(self._live.values())[:capacity]
        room = capacity - len(live)
        seeded = list(self._recent)[-room:] if room > 0 else []
        # Own recent releases first (oldest first keeps the fallback's expiries sorted)...
        for expiry in seeded:
            if fallback.take(now):
                fallback.release(expiry - fallback.period - fallback.margin)
        # ...then own slots in flight: they end into the fallback too.
        for slot in live:
            if fallback.take(now):
                slot.fallbacks.append(fallback)
        self._fallback = fallback
        return fallback

    async def _seed(self, carried: list[_Slot], recent: list[float], paused: float) -> None:
        """Put own slots in flight and own recent releases into Redis (raises on trouble)."""
        provider = self._provider
        now = asyncio.get_running_loop().time()
        args: list[Any] = [int(provider.lease * _US), self._ttl_ms(), max(0, int(paused * _US))]
        args += [provider.participant, len(carried)]
        args.extend(slot.token for slot in carried)
        for expiry in recent:
            args.extend((provider.new_token(), max(1, int((expiry - now) * _US))))
        keys = self.keys
        names = [keys.flying, keys.window, keys.state, keys.wake]
        await provider._call(provider._script(_SEED, names, args))

    async def _carry_to_redis(self) -> None:
        """Back from an outage: put this participant's fallback use into the shared budget."""
        fallback = self._fallback
        assert fallback is not None
        now = asyncio.get_running_loop().time()
        self._trim(now)
        carried = [slot for slot in self._live.values() if not slot.shared]
        for slot in carried:
            slot.shared = True  # ends from now on go to Redis, after this seed
        try:
            await self._seed(carried, list(self._recent_local), fallback.blocked_until - now)
        except _TROUBLE as exc:
            self._provider._trouble(exc)
            for slot in carried:
                slot.shared = False
        else:
            self._recent_local.clear()
            self._fallback = None
        finally:
            self._seeding = None

    def reseed(self) -> None:
        """The store lost its keys: what this participant holds and used goes back in."""
        if self._reseeding is None and not self._provider._closed:
            self._reseeding = self._provider._spawn(self._carry_after_reset())

    async def _carry_after_reset(self) -> None:
        now = asyncio.get_running_loop().time()
        self._trim(now)
        held = [slot for slot in self._live.values() if slot.shared]
        try:
            await self._seed(held, list(self._recent), 0.0)
        except _TROUBLE as exc:
            self._provider._trouble(exc)  # back from the outage, the fallback's seed covers it
        finally:
            self._reseeding = None


def _tokens(base: str, count: int) -> list[str]:
    return [f"{base}.{number}" for number in range(1, count + 1)]


_TAKE = _Script(lua.TAKE)
_RELEASE = _Script(lua.RELEASE)
_GIVE_BACK = _Script(lua.GIVE_BACK)
_SEED = _Script(lua.SEED)
_PRESENCE = _Script(lua.PRESENCE)


def _closed(pubsub: Any) -> Awaitable[None]:
    """``PubSub.aclose()``, typed here: whether redis-py annotates it depends on its release."""
    closing: Awaitable[None] = pubsub.aclose()
    return closing
