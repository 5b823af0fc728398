"""One rate budget per (account, endpoint) for every process on every host: a store on Redis.

The guarantee is the in-process one (``_limit.RateBudget``) for the union of all participants:
a slot is held from the send until ``period + margin`` after the answer, the first ``capacity``
go at once, a 429 seen by anyone pauses everyone and then lets one probe through at a time, and
an exhausted window (``x-mbx-used-remain-limit: 0``) holds the endpoint until it rolls. Every
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
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import math
import os
import re
import secrets
import time
import urllib.parse
from collections import deque
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from typing import Any

from . import _redis_lua as lua
from ._exceptions import InvalidBudgetStore
from ._limit import RateBudget, capacity_and_period

try:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - the import error says what to install
    raise ImportError(
        "the Redis budget store needs redis-py: pip install 'bitget-cancel[redis]'"
    ) from exc

log = logging.getLogger("bitget_cancel")

# What counts as Redis trouble: redis-py's own errors, sockets, and our timeout.
_TROUBLE = (RedisError, OSError, asyncio.TimeoutError)
_US = 1_000_000
_URL = re.compile(r"rediss?://[^/?#]+(?:/\d*)?")
_WARN_EVERY = 900.0
_FIRST_LOOK = 0.05  # seconds after joining to count the participants again (then doubling)


@dataclass(frozen=True)
class BudgetKeys:
    """The Redis names of one (account, endpoint) budget."""

    flying: str
    window: str
    state: str
    wake: str


def account_key(account_id: str) -> str:
    """What Redis stores for an account: a hash, never the id (or an api key) itself."""
    return hashlib.sha256(b"bitget-cancel/budget/" + account_id.encode()).hexdigest()[:32]


def budget_keys(prefix: str, account_id: str, endpoint: str) -> BudgetKeys:
    # One hash tag per budget: its keys live in one cluster slot, as a script needs.
    base = f"{prefix}:{{{account_key(account_id)}:{endpoint}}}"
    return BudgetKeys(f"{base}:flying", f"{base}:window", f"{base}:state", f"{base}:wake")


def _presence_key(prefix: str, account: str) -> str:
    return f"{prefix}:{{{account}}}:presence"


def _redacted(url: str) -> str:
    """The URL to show: no password, no query (whose options might hold one)."""
    parts = urllib.parse.urlsplit(url)._replace(query="", fragment="")
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    return urllib.parse.urlunsplit(parts)


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
        if not isinstance(url, str) or not _URL.fullmatch(url.split("?", 1)[0]):
            shown = _redacted(url) if isinstance(url, str) else repr(url)
            raise InvalidBudgetStore(
                f"the budget URL must be redis://[:password@]host[:port][/db] or rediss://...; "
                f"got {shown}"
            )
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
        self._url = _redacted(url)
        password = None
        if urllib.parse.urlsplit(url).password is None:
            password = os.environ.get("REDIS_PASSWORD") or None
        self._secret = password or urllib.parse.urlsplit(url).password
        try:
            self._client: aioredis.Redis = aioredis.Redis.from_url(
                url,
                password=password,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                # One immediate retry: a pooled connection to a restarted server fails once.
                retry=Retry(NoBackoff(), 1),
            )
        except ValueError as exc:
            raise InvalidBudgetStore(f"bad budget URL {self._url}: {self._scrub(exc)}") from None
        self._take = self._client.register_script(lua.TAKE)
        self._release = self._client.register_script(lua.RELEASE)
        self._give_back = self._client.register_script(lua.GIVE_BACK)
        self._seed = self._client.register_script(lua.SEED)
        self._presence = self._client.register_script(lua.PRESENCE)

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
        self._pending: set[asyncio.Task[None]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._listener: asyncio.Future[None] | None = None
        self._presence_task: asyncio.Task[None] | None = None
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
        """Wait until every release and give-back sent so far has reached Redis (or failed)."""
        while self._pending:
            await asyncio.wait(set(self._pending))

    async def close(self) -> None:
        """Flush, leave the presence set, stop listening and disconnect. Idempotent.

        Slots still held are left to their lease: their requests may still be in flight.
        """
        if self._closed:
            return
        await self.flush()
        self._closed = True
        for task in (self._presence_task, self._supervisor):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._healthy:
            for account in self._accounts:
                with contextlib.suppress(*_TROUBLE):
                    await self._call(self._presence_script(account, join=False))
        with contextlib.suppress(*_TROUBLE):
            await asyncio.wait_for(self._client.aclose(), self.timeout)

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

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    def _start(self) -> None:
        if self._closed:
            raise RuntimeError("RedisBudgets is closed")
        if self._supervisor is None:
            loop = asyncio.get_running_loop()
            self._supervisor = loop.create_task(self._supervise())
            self._presence_task = loop.create_task(self._keep_presence())

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
        pubsub = self._client.pubsub()
        try:
            self._confirmed.clear()
            await self._call(pubsub.subscribe(self._control, *self._channels))
            # Healthy again only once Redis has answered both the channel and a command.
            first = await self._call(pubsub.get_message(timeout=None))
            self._on_message(first)
            await self._call(self._client.ping())
            self._pubsub = pubsub
            self._back()
            while True:
                self._on_message(await pubsub.get_message(timeout=None))
        finally:
            self._pubsub = None
            self._confirmed.clear()
            with contextlib.suppress(*_TROUBLE):
                await asyncio.wait_for(_closed(pubsub), self.timeout)

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
        return self._presence(
            keys=[_presence_key(self.prefix, account)],
            args=[self.participant, ttl_us, ttl_us // 1000 + 1000, 1 if join else 0],
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

    def release(self, *, throttled: bool = False, remaining: int | None = None) -> None:
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


class RedisBudget:
    """The budget of one (account, endpoint): Redis while it answers, a local share if not."""

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
        self.wake = asyncio.Event()
        self._lock = asyncio.Lock()
        # This participant's own use, carried over when switching stores.
        self._live: dict[str, _Slot] = {}
        self._recent: deque[float] = deque()  # loop times own releases leave the window
        self._recent_local: deque[float] = deque()  # ...of those Redis has not seen
        self._held_until = 0.0  # loop time: an exhausted window (fallback side)
        self._fallback: RateBudget | None = None
        self._seeding: asyncio.Task[None] | None = None

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
        return None  # every take asks Redis: that is acquire()'s work

    async def acquire(self, deadline: float | None = None) -> _Slot | None:
        """Wait for a slot (FIFO in this process); None if the loop-time ``deadline`` came first.

        Cancelling the caller takes nothing: a take already on its way to Redis is given back.
        """
        provider = self._provider
        provider._start()
        loop = asyncio.get_running_loop()
        async with self._lock:
            while True:
                if provider._healthy and await self._ready():
                    self.wake.clear()
                    outcome = await self._take_shared()
                    if isinstance(outcome, _Slot):
                        return outcome
                    if outcome is None:
                        continue  # Redis trouble: the fallback takes over
                    wait = outcome
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
                        return slot
                now = loop.time()
                if deadline is not None:
                    if now >= deadline:
                        return None
                    wait = min(wait, deadline - now)
                # A release anywhere sets ``wake``: never sleep to a lease's end needlessly.
                if wait == math.inf:
                    await self.wake.wait()
                else:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), wait)

    # -- the shared store --------------------------------------------------------------------

    async def _ready(self) -> bool:
        """Subscribed, and back from any fallback; False on Redis trouble."""
        if self._fallback is not None:
            seeding = self._seeding
            if seeding is None:
                seeding = self._seeding = self._provider._spawn(self._carry_to_redis())
            await asyncio.shield(seeding)
            if self._fallback is not None:
                return False
        return await self._provider._subscribed(self.keys.wake)

    async def _take_shared(self) -> _Slot | float | None:
        """A slot, or how long until anything can change, or None on Redis trouble."""
        provider = self._provider
        token = provider.new_token()
        keys = self.keys
        call = asyncio.ensure_future(
            provider._call(
                provider._take(
                    keys=[keys.flying, keys.window, keys.state],
                    args=[token, self.capacity, int(provider.lease * _US), self._ttl_ms()],
                )
            )
        )
        try:
            granted, now_us, wait_us = await asyncio.shield(call)
        except asyncio.CancelledError:
            # The script runs (or has run) anyway: give back whatever it takes.
            call.add_done_callback(lambda done: self._abandoned(done, token))
            raise
        except _TROUBLE as exc:
            provider._trouble(exc)
            provider._spawn(self._give_back_shared(token))  # it may have run before the timeout
            return None
        if not granted:
            return int(wait_us) / _US
        slot = _Slot(self, token, int(now_us) / _US, shared=True)
        self._live[token] = slot
        return slot

    def _abandoned(self, call: asyncio.Future[Any], token: str) -> None:
        """A take whose caller was cancelled has finished: undo it if it took a slot."""
        if not call.cancelled() and call.exception() is None and not call.result()[0]:
            return  # nothing was taken
        if not self._provider._closed:
            self._provider._spawn(self._give_back_shared(token))

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
                provider._spawn(self._give_back_shared(slot.token))
        else:
            self.wake.set()

    async def _release_shared(self, token: str, throttled: bool, exhausted: bool) -> None:
        provider = self._provider
        keys = self.keys
        if self._seeding is not None:  # the token may be on its way to Redis in the seed
            with contextlib.suppress(*_TROUBLE):
                await asyncio.shield(self._seeding)
        try:
            fresh, pause_us = await provider._call(
                provider._release(
                    keys=[keys.flying, keys.window, keys.state, keys.wake],
                    args=[
                        token,
                        int((self.period + provider.margin) * _US),
                        int(throttled),
                        int(exhausted),
                        int(provider.cooldown * _US),
                        int(provider.max_cooldown * _US),
                        self._ttl_ms(),
                        provider.participant,
                    ],
                )
            )
        except _TROUBLE as exc:
            provider._trouble(exc)  # the slot frees itself at its lease end
            return
        finally:
            self.wake.set()
        if fresh:
            log.warning(
                "HTTP 429 on %s: every participant pauses %.2fs, then one request at a time",
                self._name,
                int(pause_us) / _US,
            )

    async def _give_back_shared(self, token: str) -> None:
        provider = self._provider
        keys = self.keys
        try:
            await provider._call(
                provider._give_back(
                    keys=[keys.flying, keys.window, keys.state, keys.wake],
                    args=[token, provider.participant],
                )
            )
        except _TROUBLE as exc:
            provider._trouble(exc)
        finally:
            self.wake.set()

    # -- the fallback: an in-process share, carrying this participant's use both ways -------

    def _trim(self, now: float) -> None:
        for recent in (self._recent, self._recent_local):
            while recent and recent[0] <= now:
                recent.popleft()

    def _enter_fallback(self, now: float) -> RateBudget:
        """An in-process share of the rate that already counts this participant's own use."""
        provider = self._provider
        divisor = provider.fallback_participants or provider._participants(self.account)
        capacity, period = capacity_and_period(self.capacity / self.period / divisor)
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

    async def _carry_to_redis(self) -> None:
        """Back from an outage: put this participant's fallback use into the shared budget."""
        provider = self._provider
        fallback = self._fallback
        assert fallback is not None
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._trim(now)
        carried = [slot for slot in self._live.values() if not slot.shared]
        recent = list(self._recent_local)
        paused = max(0.0, fallback.blocked_until - now)
        args: list[Any] = [int(provider.lease * _US), self._ttl_ms(), int(paused * _US)]
        args += [provider.participant, len(carried)]
        args.extend(slot.token for slot in carried)
        for expiry in recent:
            args.extend((provider.new_token(), max(1, int((expiry - now) * _US))))
        for slot in carried:
            slot.shared = True  # ends from now on go to Redis, after this seed
        keys = self.keys
        try:
            await provider._call(
                provider._seed(keys=[keys.flying, keys.window, keys.state, keys.wake], args=args)
            )
        except _TROUBLE as exc:
            provider._trouble(exc)
            for slot in carried:
                slot.shared = False
        else:
            self._recent_local.clear()
            self._fallback = None
        finally:
            self._seeding = None


def _closed(pubsub: Any) -> Awaitable[None]:
    """``PubSub.aclose()``, typed here: whether redis-py annotates it depends on its release."""
    closing: Awaitable[None] = pubsub.aclose()
    return closing
