"""A simulator in its own process, driven over stdin/stdout (for the CPU workload).

Prints ``{"port": N}`` once serving, then answers one JSON line per command line:
``place <symbols> <per_symbol>`` -> ``[[symbol, orderId], ...]``; ``open`` -> open order count;
``quit`` (or end of input) stops it. Rate limits are off, and the request timestamp's window
is as patient as the drivers' timeouts (see ``PATIENT_TIMESTAMP_MS``).
"""

from __future__ import annotations

import asyncio
import json
import sys

from bitget_cancel.sim import SimExchange, _auth

API_KEY = "cpu-key"
# Under valgrind a client runs some 50 times slower. ccxt signs each request before it waits
# for one of its 100 pooled connections (aiohttp's default), so of its 200 requests sent at
# once the last hundred reached the simulator more than 30 s after they were signed, and the
# exchange's timestamp check (40008) refused some: "ccxt cancelled 9350 of 10000 under
# valgrind". No client of this workload is measured on that check: it waits as long as the
# drivers' timeouts (``cpu_driver.PATIENT``), and every client runs as it would at full speed.
PATIENT_TIMESTAMP_MS = 600_000
SECRET_KEY = "cpu-secret"
PASSPHRASE = "cpu-pass"


def symbol_names(count: int) -> list[str]:
    return [f"S{i:03d}USDT" for i in range(count)]


def answer(sim: SimExchange, line: str) -> object:
    words = line.split()
    if words[0] == "place":
        n_symbols, per_symbol = int(words[1]), int(words[2])
        return [
            [symbol, order.order_id]
            for symbol in symbol_names(n_symbols)
            for order in sim.place_orders(symbol, per_symbol)
        ]
    if words[0] == "open":
        return len(sim.open_orders())
    raise ValueError(f"unknown command {line!r}")


async def serve() -> None:
    _auth.TIMESTAMP_TOLERANCE_MS = PATIENT_TIMESTAMP_MS
    sim = SimExchange(api_key=API_KEY, secret_key=SECRET_KEY, passphrase=PASSPHRASE,
                      rate_limits=False)  # fmt: skip
    loop = asyncio.get_running_loop()
    async with sim:
        print(json.dumps({"port": sim.port}), flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line.strip() or line.strip() == "quit":
                return
            print(json.dumps(answer(sim, line)), flush=True)


if __name__ == "__main__":
    asyncio.run(serve())
