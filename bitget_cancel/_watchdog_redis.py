"""The Redis watchdog's store: the beats of every dead man's switch of an account, for a
``bitget-cancel watchdog --budget-url URL`` on any host.

Keys (``{account}`` is the engine's account hash, never a key):

- ``bitget-cancel:switch:{account}:{name}``: a beat, expiring ``timeout`` after it was set;
- ``bitget-cancel:switches:{account}``: a hash, switch name -> its entry (timeout, scope),
  present from the first beat until the switch is disarmed.

An entry whose beat key has expired is a switch that went silent without disarming: the
watchdog *claims* it (one Lua call removes the entry only if the beat is still absent and the
entry unchanged, so two watchdogs never both act, and a switch that beat again is left alone)
and runs the panic over its scope.

Redis is reached through ``redis_client(url)`` only: the one place a client is built.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from ._exceptions import InvalidArgument, InvalidBudgetStore, WatchdogFailed
from ._log import log

PREFIX = "bitget-cancel"
STORE_TIMEOUT = 1.0  # one Redis call, at most; a slower store counts as unreachable
_DISARM_ATTEMPTS, _DISARM_PAUSE = 3, 0.2

_CLAIM = """
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""


def redis_client(url: str, timeout: float = STORE_TIMEOUT) -> Any:
    """A redis-py asyncio client for ``url`` (``REDIS_PASSWORD`` when the URL has none).

    The URL is read as the shared budget reads it (``_redis_url``): another reading would
    take a password with an unencoded ``/`` for a host name, and put it in every error."""
    try:
        import redis.asyncio  # noqa: F401  (the optional [redis] extra)
    except ImportError:
        raise InvalidArgument(
            "a Redis watchdog needs redis-py: pip install 'bitget-cancel[redis]'"
        ) from None
    from ._redis_store import connect
    from ._redis_url import parse_budget_url

    address = parse_budget_url(url)
    if address.kind != "single":
        raise InvalidBudgetStore(
            "the watchdog's switch store must be one server: redis://... or rediss://..."
        )
    return connect(address, timeout=timeout).client


@dataclass(frozen=True, slots=True)
class SwitchEntry:
    """One armed switch as the store holds it."""

    name: str
    timeout: float
    scope: dict[str, Any]
    raw: bytes  # as stored: the claim compares it

    @classmethod
    def parse(cls, name: str, raw: bytes) -> SwitchEntry | None:
        """The entry stored for ``name``, or None when it is unreadable."""
        try:
            payload = json.loads(raw)
            return cls(name, float(payload["timeout"]), dict(payload["scope"]), raw)
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class BoardReading:
    """The switches of the account, which of them went silent, or why the store was not read."""

    switches: dict[str, SwitchEntry]
    silent: tuple[str, ...] = ()
    problem: str | None = None  # the store could not be read


class SwitchBoard:
    """The switches of one account in Redis: beats (strategy side), readings and claims
    (watchdog side)."""

    def __init__(self, url: str, account: str, *, client: Any = None) -> None:
        self._client = client if client is not None else redis_client(url)
        self._registry = f"{PREFIX}:switches:{account}"
        self._account = account
        self._claim = self._client.register_script(_CLAIM)

    def _beat_key(self, name: str) -> str:
        return f"{PREFIX}:switch:{self._account}:{name}"

    async def take(self, name: str, timeout: float) -> str | None:
        """The switch's first beat, only if no switch of that name beats for the account: two
        strategies on one beat key would each keep the other's death hidden. None when
        taken, else why not."""
        try:
            taken = await self._client.set(self._beat_key(name), b"1", px=_ms(timeout), nx=True)
        except Exception as exc:
            return _describe(exc)
        if not taken:
            return (
                f"a switch named {name!r} already beats for this account (another strategy, "
                "or one that died less than its timeout ago): give each strategy its own name"
            )
        return None

    async def beat(self, name: str, timeout: float, scope: dict[str, Any]) -> str | None:
        """One beat (and the entry): None when stored, else what went wrong."""
        entry = json.dumps({"timeout": timeout, "scope": scope}, sort_keys=True)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.set(self._beat_key(name), b"1", px=_ms(timeout))
                pipe.hset(self._registry, name, entry)
                await pipe.execute()
        except Exception as exc:  # redis-py's errors, OSError, timeouts: the store is away
            return _describe(exc)
        return None

    async def disarm(self, name: str) -> str | None:
        """Take the switch off the board (entry and beat): None when done, else why not."""
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hdel(self._registry, name)
                pipe.delete(self._beat_key(name))
                await pipe.execute()
        except Exception as exc:
            return _describe(exc)
        return None

    async def read(self, names: frozenset[str] | None = None) -> BoardReading:
        """Every switch of the account (or of ``names``), and which went silent; never raises:
        an unreachable store is ``problem``."""
        try:
            stored = await self._client.hgetall(self._registry)
            switches: dict[str, SwitchEntry] = {}
            for key, raw in stored.items():
                name = key.decode() if isinstance(key, bytes) else str(key)
                if names is not None and name not in names:
                    continue
                entry = SwitchEntry.parse(name, raw)
                if entry is None:
                    log.warning("switch %r: unreadable entry in the store, ignored", name)
                    continue
                switches[name] = entry
            beating = await _exist(self._client, [self._beat_key(n) for n in switches])
        except Exception as exc:
            return BoardReading({}, (), _describe(exc))
        silent = tuple(name for name, alive in zip(switches, beating, strict=True) if not alive)
        return BoardReading(switches, silent)

    async def claim(self, entry: SwitchEntry) -> bool:
        """Take a silent switch off the board: True for exactly one watchdog, and only while
        it is still silent."""
        try:
            taken = await self._claim(
                keys=[self._registry, self._beat_key(entry.name)], args=[entry.name, entry.raw]
            )
        except Exception as exc:
            log.warning("switch %r: claim failed: %s", entry.name, _describe(exc))
            return False
        return bool(taken)

    async def close(self) -> None:
        """Close the connections to the store."""
        try:
            await self._client.aclose()
        except Exception as exc:
            log.debug("switch board: close: %s", _describe(exc))


async def _exist(client: Any, keys: list[str]) -> list[bool]:
    if not keys:
        return []
    async with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.exists(key)
        return [bool(found) for found in await pipe.execute()]


def _ms(timeout: float) -> int:
    return max(1, int(timeout * 1000))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return f"no answer within {STORE_TIMEOUT:g} s"
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]


class RedisBeats:
    """The strategy's end: beats into the store; a watchdog on any host reads them."""

    kind = "redis"
    pid = None  # the watchdog runs elsewhere

    def __init__(self, board: SwitchBoard, name: str, timeout: float, scope: dict[str, Any]):
        self._board = board
        self._name = name
        self._timeout = timeout
        self._scope = scope
        self._problem: str | None = "not started"

    @property
    def problem(self) -> str | None:
        return self._problem

    async def start(self) -> None:
        problem = await self._board.take(self._name, self._timeout)
        if problem is None:
            self._problem = "starting"  # the beat key is ours now: a disarm takes it off
            problem = await self._board.beat(self._name, self._timeout, self._scope)
        if problem is not None:
            await self._board.close()
            raise WatchdogFailed(f"the switch store did not take the first beat: {problem}")
        self._problem = None

    async def beat(self) -> bool:
        self._problem = await self._board.beat(self._name, self._timeout, self._scope)
        return self._problem is None

    async def let_go(self) -> None:
        self._problem = "let go: its beat expires, a watchdog runs the panic"
        await self._board.close()

    async def disarm(self) -> None:
        if self._problem == "not started":  # the beat key is another switch's, or nobody's
            self._problem = "disarmed"
            await self._board.close()
            return
        problem = None
        for attempt in range(_DISARM_ATTEMPTS):  # a clean exit must not look like a silent one
            if attempt:
                await asyncio.sleep(_DISARM_PAUSE)
            problem = await self._board.disarm(self._name)
            if problem is None:
                break
        if problem is not None:
            log.warning(
                "switch %r: could not disarm in the store (%s): a watchdog will panic once "
                "its beat expires",
                self._name,
                problem,
            )
        self._problem = "disarmed"
        await self._board.close()
