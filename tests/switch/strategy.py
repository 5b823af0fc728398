"""A strategy with a dead man's switch, in its own process, for the tests and the benchmark.

``python -m tests.switch.strategy BASE_URL [--timeout S] [--watchdog process|redis|none]
[--mode forever|block|clean|raise|close-raise] ...``: prints one JSON line once the switch is armed
(``{"armed": ..., "pid": watchdog pid}``), then runs forever, blocks its loop, leaves cleanly or
by an exception; at the end prints ``{"done": status}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from bitget_cancel import CancelEngine, Credentials, DeadManSwitch

SIM_KEYS = Credentials(api_key="sim-key", secret_key="sim-secret", passphrase="sim-pass")


def _say(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


def _status(switch: DeadManSwitch) -> dict[str, Any]:
    return asdict(switch.status)


async def _behave(mode: str, hold: float, engine: CancelEngine) -> None:
    if mode == "close-raise":  # its own panic cannot run: the engine is closed
        await engine.close()
        raise RuntimeError("the strategy failed after closing its engine")
    if mode == "forever":
        await asyncio.Event().wait()  # runs (and beats) until killed
    if mode == "block":
        time.sleep(3600)  # noqa: ASYNC251 -- the point: the loop is blocked, no beat leaves
    await asyncio.sleep(hold)
    if mode == "raise":
        raise RuntimeError("the strategy failed")


async def main(args: argparse.Namespace) -> None:
    watchdog = None if args.watchdog == "none" else args.watchdog
    scope: dict[str, Any] = {}
    if args.symbols:
        scope["symbols"] = args.symbols
    if args.kinds:
        scope["kinds"] = args.kinds.split(",")
    if args.client_oid_prefix:
        scope["client_oid_prefix"] = args.client_oid_prefix
    async with CancelEngine(
        SIM_KEYS, base_url=args.base_url, budget_url=args.budget_url, account=args.account
    ) as engine:
        switch = engine.dead_man_switch(
            args.timeout,
            watchdog=watchdog,
            exchange=args.exchange,
            name=args.name,
            report_path=args.report,
            **scope,
        )
        try:
            async with switch:
                _say({"armed": _status(switch), "pid": switch.status.watchdog_pid})
                await _behave(args.mode, args.hold, engine)
        finally:
            _say({"done": _status(switch)})


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--watchdog", default="process")
    parser.add_argument("--exchange", default="off")
    parser.add_argument("--name", default="default")
    parser.add_argument("--mode", default="forever")
    parser.add_argument("--hold", type=float, default=0.0)
    parser.add_argument("--budget-url")
    parser.add_argument("--account", default="auto")
    parser.add_argument("--report")
    parser.add_argument("--symbols", nargs="*")
    parser.add_argument("--kinds")
    parser.add_argument("--client-oid-prefix")
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        asyncio.run(main(parse()))
    except RuntimeError as exc:  # "raise" mode's own error, or WatchdogFailed: said, exit 1
        print(f"strategy: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
