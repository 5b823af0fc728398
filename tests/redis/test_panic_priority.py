"""A panic beside long cancels in other processes, on one budget in Redis (issue 24): once the
panic waits for a slot, the next free slot of the account is its own. Real processes, a real
redis-server and the simulator in its own process (see ``panic_fleet``)."""

from __future__ import annotations

from pathlib import Path

from .panic_fleet import panic_beside
from .server import RedisServer


async def test_a_waiting_panic_takes_the_next_free_slot_ahead_of_other_processes(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    # Five processes of 8 batch cancels each fill four windows; by the shares alone (before
    # the panic's mark) one or two of their requests went ahead of the waiting panic.
    found = await panic_beside(redis_server.url, tmp_path, cancels=5, orders=400)
    assert found.all_closed
    assert found.pacing_429 == 0
    assert found.overtaken == 0
