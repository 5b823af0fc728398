"""The simulator in its own process, for participants in other processes to share.

``python -m tests.redis.sim_server --latency-ms 2 30 --penalty-s 0 [--key KEY:SECRET:PASS]``

Rate limits on, per account: every ``--key`` belongs to the main key's account (one UID).
Prints ``{"port": N}`` once serving, then answers one JSON line per command line:

- ``place SYMBOL COUNT`` -> the ids of COUNT new open orders on SYMBOL;
- ``open [SYMBOL ...]`` -> how many orders are open (on those symbols, or anywhere);
- ``stats`` -> the simulator's counters (see :func:`stats`);
- ``now`` -> the simulator's clock, in ms (the clock of the orders' update times);
- ``cancelled SYMBOL ...`` -> when each order placed here on those symbols was cancelled (ms,
  sorted; the open ones left out);
- ``quit`` (or end of input) stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bitget_cancel.sim import SimExchange, SimKey, SimOrder

API_KEY = "redis-procs-key"
SECRET_KEY = "redis-procs-secret"
PASSPHRASE = "redis-procs-pass"


def stats(sim: SimExchange) -> dict[str, Any]:
    """What the clients did, as plain JSON: 429s, requests per path and per key, peaks."""
    found = sim.stats
    return {
        "pacing_429": found.pacing_429,
        "penalty_429": found.penalty_429,
        "violations": found.total_violations,
        "endpoints": {
            path: {
                "requests": counts.requests,
                "throttled": counts.throttled,
                "violations": sum(counts.violations.values()),
            }
            for path, counts in found.endpoints.items()
        },
        "max_in_window": dict(found.max_in_window),
        "requests_by_key": dict(found.requests_by_key),
    }


def answer(sim: SimExchange, words: list[str], placed: dict[str, list[SimOrder]]) -> object:
    if words[0] == "place":
        orders = sim.place_orders(words[1], int(words[2]))
        placed.setdefault(words[1], []).extend(orders)
        return [order.order_id for order in orders]
    if words[0] == "now":
        return sim.server_time_ms()
    if words[0] == "cancelled":
        return sorted(
            order.u_time
            for symbol in words[1:]
            for order in placed.get(symbol, ())
            if not order.is_open
        )
    if words[0] == "open":
        if len(words) == 1:
            return sim.count_open()
        return sum(len(sim.open_orders(symbol)) for symbol in words[1:])
    if words[0] == "stats":
        return stats(sim)
    raise ValueError(f"unknown command {' '.join(words)!r}")


def extra_key(text: str) -> SimKey:
    api_key, secret_key, passphrase = text.split(":")
    return SimKey(api_key, passphrase, secret_key=secret_key)  # the main key's UID


async def serve(args: argparse.Namespace) -> None:
    sim = SimExchange(
        api_key=API_KEY,
        secret_key=SECRET_KEY,
        passphrase=PASSPHRASE,
        latency_ms=(args.latency_ms[0], args.latency_ms[1]),
        penalty_s=args.penalty_s,
        keys=[extra_key(text) for text in args.key],
        seed=args.seed,
    )
    loop = asyncio.get_running_loop()
    placed: dict[str, list[SimOrder]] = {}
    async with sim:
        print(json.dumps({"port": sim.port}), flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            words = line.split()
            if not words or words == ["quit"]:
                return
            print(json.dumps(answer(sim, words, placed)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, nargs=2, default=(2.0, 30.0))
    parser.add_argument("--penalty-s", type=float, required=True)
    parser.add_argument("--key", action="append", default=[], help="KEY:SECRET:PASS")
    parser.add_argument("--seed", type=int, default=0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
