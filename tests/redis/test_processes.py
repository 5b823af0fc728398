"""Real processes on one Redis: the union keeps the budget; a dead one's slots come back."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from bitget_cancel.sim import SimExchange

from .helpers import providers
from .server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
TIME_PATH = "/api/v2/public/time"  # the simulator allows 20 a second per client address


async def spawn(*args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.redis.worker", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env, cwd=ROOT,
    )  # fmt: skip


async def read_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    assert line, "the worker exited early"
    return line.decode().strip()


async def test_four_processes_never_exceed_the_budget_together(
    redis_server: RedisServer,
) -> None:
    rate, count = 20, 15
    async with SimExchange() as sim:
        target = f"http://127.0.0.1:{sim.port}{TIME_PATH}"
        workers = [
            await spawn(
                "hammer",
                "--redis",
                redis_server.url,
                "--target",
                target,
                "--rate",
                str(rate),
                "--count",
                str(count),
            )
            for _ in range(4)
        ]
        try:
            for worker in workers:
                assert await read_line(worker) == "ready"
            for worker in workers:  # all start together: 60 requests against 20 a second
                assert worker.stdin is not None
                worker.stdin.write(b"go\n")
                await worker.stdin.drain()
            results = [json.loads(await read_line(worker)) for worker in workers]
            codes = [await asyncio.wait_for(worker.wait(), 60) for worker in workers]
        finally:
            for worker in workers:
                if worker.returncode is None:
                    worker.kill()
                    await worker.wait()
        assert codes == [0, 0, 0, 0]
        assert [result["statuses"] for result in results] == [{"200": count}] * 4
        assert [result["fallbacks"] for result in results] == [0, 0, 0, 0]
        assert sim.stats.pacing_429 == 0
        # The simulator's own sliding window saw the whole budget used, never more.
        assert sim.stats.max_in_window[TIME_PATH] == rate


async def test_slots_of_a_killed_participant_come_back_after_the_lease(
    redis_server: RedisServer,
) -> None:
    rate, lease = 3, 1.5
    holder = await spawn("hold", "--redis", redis_server.url, "--rate", str(rate),
                         "--lease", str(lease))  # fmt: skip
    try:
        granted = json.loads(await read_line(holder))["granted_at"]
        assert len(granted) == rate
    finally:
        holder.send_signal(signal.SIGKILL)
        await holder.wait()
    assert holder.returncode == -signal.SIGKILL
    async with providers(redis_server.url, 1) as (p,):
        budget = p.budget("account-4", "public-time", rate)
        loop = asyncio.get_running_loop()
        # Every slot comes back, and none before the lease of the one it replaces ran out.
        back = [await budget.acquire(deadline=loop.time() + 10) for _ in range(rate)]
        for slot, taken in zip(back, sorted(granted), strict=True):
            assert slot is not None
            assert slot.granted_at is not None
            assert slot.granted_at >= taken + lease
