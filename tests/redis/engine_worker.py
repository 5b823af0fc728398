"""One participant in its own process: a CancelEngine cancelling on a shared simulator.

``python -m tests.redis.engine_worker --base-url URL (--targets FILE ... | --panic SYM,SYM)``

Without ``--budget-url`` the budgets are in-process. Each ``--targets`` file is one phase: one
``cancel()`` call, all on the same engine. Prints one JSON line per event:

- ``{"ready": true, "participant": ..., "account": ...}`` once the engine exists;
- then, per phase, it waits for a line on stdin (the go, so that participants start together);
- ``{"progress": done}`` when the phase's first order reaches its outcome (under way);
- ``{"report": {...}, "closed": n, "total": n, "started": t, "finished": t, "last": bool,
  "roundTrips": n, "resets": n}`` (the Redis store's counters so far) at
  the phase's end: the report without its outcomes, and ``time.monotonic()`` around the call
  (one clock for every process of the host).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from bitget_cancel import CancelEngine, CancelReport, CancelTarget, Credentials


def emit(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


def load_targets(path: str) -> list[CancelTarget]:
    rows = json.loads(Path(path).read_text())
    return [CancelTarget(symbol=symbol, order_id=order_id) for symbol, order_id in rows]


async def run(args: argparse.Namespace) -> None:
    credentials = Credentials(
        api_key=args.api_key, secret_key=args.secret_key, passphrase=args.passphrase
    )
    engine = CancelEngine(
        credentials,
        base_url=args.base_url,
        budget_url=args.budget_url,
        account_id=args.account_id,
        request_timeout=args.request_timeout,
        rate_limit=args.rate_limit,
    )
    phases = [load_targets(path) for path in args.targets] or [[]]
    # Test-only peeks: which Redis participant this is, and the account its budgets key on.
    participant = getattr(engine._budgets, "participant", None)
    emit({"ready": True, "participant": participant, "account": engine._account_id})
    for number, targets in enumerate(phases, 1):
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        await phase(engine, args, targets, last=number == len(phases))
    await engine.close()


async def phase(
    engine: CancelEngine, args: argparse.Namespace, targets: list[CancelTarget], *, last: bool
) -> None:
    under_way = False

    def progress(done: int, total: int) -> None:
        nonlocal under_way
        if done and not under_way:
            under_way = True
            emit({"progress": done})

    started = time.monotonic()
    report: CancelReport
    if args.panic:
        report = await engine.panic_cancel(
            args.panic.split(","), deadline=args.deadline, progress=progress
        )
    else:
        report = await engine.cancel(targets, deadline=args.deadline, progress=progress)
    finished = time.monotonic()
    budgets = engine._budgets  # test-only peek: what the Redis store did for this phase
    summary: dict[str, Any] = {**report.to_dict()}
    del summary["outcomes"]
    closed = sum(1 for outcome in report.outcomes if outcome.closed)
    emit(
        {
            "report": summary,
            "closed": closed,
            "total": len(report.outcomes),
            "started": started,
            "finished": finished,
            "last": last,
            "roundTrips": getattr(budgets, "round_trips", 0),
            "resets": getattr(budgets, "resets", 0),
        }
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)  # the store's warnings
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--passphrase", required=True)
    parser.add_argument("--budget-url")
    parser.add_argument("--account-id")
    parser.add_argument(
        "--targets", action="append", default=[], help="a JSON file of [symbol, orderId] pairs"
    )
    parser.add_argument("--panic", help="panic-cancel these symbols (comma-separated)")
    parser.add_argument("--request-timeout", type=float, default=5.0)
    parser.add_argument("--rate-limit", type=float, default=10.0)
    parser.add_argument("--deadline", type=float, default=120.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
