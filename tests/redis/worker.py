"""A participant in its own process: ``python -m tests.redis.worker MODE ...``.

- ``hammer``: prints ``ready``, waits for a line on stdin, then sends ``--count`` GETs to
  ``--target``, each under a slot of the shared budget; prints the statuses as JSON.
- ``hold``: takes every slot of the budget, prints their grant times (Redis clock) as JSON,
  then sleeps until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter

import aiohttp

from bitget_cancel._redis_budget import RedisBudgets


async def hammer(args: argparse.Namespace) -> None:
    provider = RedisBudgets(args.redis, lease=args.lease)
    budget = provider.budget(args.account, args.endpoint, args.rate)
    statuses: Counter[int] = Counter()
    async with aiohttp.ClientSession() as session:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

        async def one() -> None:
            slot = await budget.acquire()
            assert slot is not None
            status = 0
            try:
                async with session.get(args.target) as response:
                    await response.read()
                    status = response.status
                    statuses[status] += 1
            finally:
                slot.release(throttled=status == 429)

        await asyncio.gather(*(one() for _ in range(args.count)))
    await provider.close()
    print(json.dumps({"statuses": statuses, "fallbacks": provider.fallbacks}), flush=True)


async def hold(args: argparse.Namespace) -> None:
    provider = RedisBudgets(args.redis, lease=args.lease)
    budget = provider.budget(args.account, args.endpoint, args.rate)
    slots = [await budget.acquire() for _ in range(int(args.rate))]
    print(json.dumps({"granted_at": [slot.granted_at for slot in slots if slot]}), flush=True)
    await asyncio.sleep(3600)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("hammer", "hold"))
    parser.add_argument("--redis", required=True)
    parser.add_argument("--target", default="")
    parser.add_argument("--account", default="account-4")
    parser.add_argument("--endpoint", default="public-time")
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--lease", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(hammer(args) if args.mode == "hammer" else hold(args))


if __name__ == "__main__":
    main()
