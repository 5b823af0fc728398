"""One client cancelling orders, as a program of its own: run under valgrind by the CPU workload.

``python -m benchmarks.workloads.cpu_driver {engine,ccxt,raw} JOB.json``. The job names the
simulator's address and credentials and two lists of (symbol, orderId): a warm-up round
(connections, caches, ccxt's markets; not counted) and the measured round, which runs inside
``_valgrind.inside_callback`` so callgrind counts it alone. Prints ``{"cancelled": n}``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bitget_cancel import CancelEngine, CancelTarget, Credentials

from ._reference import RawClient, chunks
from ._valgrind import inside_callback

Rows = list[tuple[str, str]]
# Under valgrind a client runs some 50 times slower: no answer may time out meanwhile.
PATIENT = 600.0


async def engine_cancel(engine: CancelEngine, rows: Rows) -> int:
    report = await engine.cancel([CancelTarget(symbol=s, order_id=o) for s, o in rows])
    return len(report.cancelled)


async def ccxt_cancel(client: Any, rows: Rows) -> int:
    from . import _ccxt  # imported only where ccxt runs: it is slow to import under valgrind

    result = await _ccxt.cancel_all(client, _ccxt.ids_by_market(rows))
    if result.failed_chunks:  # the workload's error shows this
        print(f"{result.failed_chunks} cancel_orders calls failed; the first: "
              f"{result.first_error}", file=sys.stderr)  # fmt: skip
    return result.cancelled


async def raw_cancel(client: RawClient, rows: Rows) -> int:
    """The floor: the same requests (50 orders across symbols each) signed and sent with bare
    aiohttp, all at once, answers decoded with the standard json module."""
    return sum(await asyncio.gather(*(client.cancel_batch(part) for part in chunks(rows))))


def make_client(kind: str, job: dict[str, Any]) -> tuple[Any, Callable[[Rows], Awaitable[int]]]:
    """The client and its cancel function; created inside the running loop."""
    url, key, secret, passphrase = job["base_url"], job["key"], job["secret"], job["passphrase"]
    if kind == "engine":
        engine = CancelEngine(Credentials(api_key=key, secret_key=secret, passphrase=passphrase),
                              base_url=url, rate_limit=1e6, request_timeout=PATIENT)  # fmt: skip
        return engine, lambda rows: engine_cancel(engine, rows)
    if kind == "ccxt":
        from . import _ccxt

        client = _ccxt.make_client(url, key, secret, passphrase, rate_limit=False)
        client.timeout = int(PATIENT * 1000)
        return client, lambda rows: ccxt_cancel(client, rows)
    raw = RawClient(url, key, secret, passphrase)
    return raw, lambda rows: raw_cancel(raw, rows)


def main(argv: list[str]) -> int:
    kind, job_file = argv
    job = json.loads(Path(job_file).read_text())
    warm: Rows = [(symbol, order_id) for symbol, order_id in job["warm"]]
    measured: Rows = [(symbol, order_id) for symbol, order_id in job["measured"]]
    loop = asyncio.new_event_loop()

    async def make() -> tuple[Any, Callable[[Rows], Awaitable[int]]]:
        return make_client(kind, job)

    client, cancel = loop.run_until_complete(make())
    try:
        if kind == "ccxt":
            loop.run_until_complete(client.load_markets())
        loop.run_until_complete(cancel(warm))
        gc.collect()
        cancelled: list[int] = []
        inside_callback(lambda: cancelled.append(loop.run_until_complete(cancel(measured))))
    finally:
        loop.run_until_complete(client.close())
        loop.close()
    print(json.dumps({"cancelled": cancelled[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
