"""The seam between the request path and a rate budget store.

A *budget* guards one (account, endpoint): at most ``capacity`` requests arrive at the exchange
in any ``period`` seconds. ``ExchangeSession`` asks its ``BudgetProvider`` for the budget of each
endpoint and holds a ``Slot`` for the life of each request. Two stores implement it: the
in-process one (``_limit.InProcessBudgets``, the default) and the cross-process one on Redis
(``_redis_budget.RedisBudgets``). The Redis deployment (one server, Cluster, Sentinel; TLS or
not) is a connection factory behind it (``_redis_store.open_redis_store``, from the URL forms
of ``_redis_url``): the scripts and keys are the same on every deployment.

The contract every store keeps, whatever happens around it:

- ``acquire(deadline)`` returns a ``Slot`` or ``None`` (the loop-time ``deadline`` came first).
  Cancelling the caller while it waits takes nothing: no slot is left behind.
- Every slot ends exactly once, and synchronously (so a ``finally`` can end it even while the
  task is being cancelled): ``release()`` when the request may have reached the exchange (it is
  then counted until ``period + margin`` after now), ``give_back()`` when it never left. A
  second call is ignored.
- ``release(throttled=True)`` reports an HTTP 429: every user of the budget pauses, then one
  probe at a time. ``release(remaining=0)`` reports the exchange's ``x-mbx-used-remain-limit``
  header saying nothing is left: the budget holds until the window rolls (the in-process
  budget only when its own count of the window is below capacity: another client used it).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class Slot(Protocol):
    """The right to send one request; end it exactly once."""

    def release(
        self,
        *,
        throttled: bool = False,
        remaining: int | None = None,
        sent: float | None = None,
        request_time: object = None,
    ) -> None:
        """The request is over (answered, failed or abandoned): count it from now, or, given
        ``sent`` (loop time it left) and its answer's ``requestTime``, from its estimated
        arrival if the store can tell it (the in-process one: ``_arrival``)."""

    def give_back(self) -> None:
        """The request was never sent: nothing to count."""

    def release_later(self, delay: float) -> None:
        """No answer came, but the request may still reach the exchange: count it as in flight
        ``delay`` seconds longer, then from then on. Ends the slot now (later calls are no-ops)."""


class Budget(Protocol):
    """The budget of one (account, endpoint), shared by every user of that pair."""

    @property
    def name(self) -> str:
        """What logs and metrics call this budget (its endpoint)."""

    async def acquire(self, deadline: float | None = None) -> Slot | None:
        """Wait for a slot (FIFO); ``None`` if the loop-time ``deadline`` came first."""

    def try_acquire(self) -> Slot | None:
        """A slot now if one is free without waiting (and nobody waits before us), else None.
        A store that must ask a server answers None and leaves it to ``acquire``."""


@runtime_checkable
class FirstInLine(Protocol):
    """A budget that can serve a waiter ahead of the queue (a panic's requests)."""

    async def acquire_first(self, deadline: float | None = None) -> Slot | None:
        """``acquire`` ahead of every ordinary waiter (behind earlier ``acquire_first`` ones)."""


class BudgetProvider(Protocol):
    """Hands out the budget of each (account, endpoint); the strictest rate claimed wins."""

    def budget(
        self, account_id: str, endpoint: str, rate: float, owner: object | None = None
    ) -> Budget:
        """``owner`` (an engine's session) claims ``rate`` until ``forget(owner)``."""

    def forget(self, owner: object) -> None:
        """``owner`` is closed: its rate claims end."""

    @property
    def fallbacks(self) -> int:
        """How often the store was unreachable and a local share of the rate stood in."""

    @property
    def degraded(self) -> bool:
        """The store is unreachable right now: a local share of the rate stands in."""

    async def close(self) -> None:
        """Give back what the provider holds (connections, presence keys)."""
