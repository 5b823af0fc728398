"""The library's logger has a NullHandler: a program that never configured logging gets none of
the engine's warnings on its stderr (without one, logging's last resort prints them)."""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bitget_cancel import _log

# A refused key: the engine logs a warning about the refusal, against the simulator.
PROGRAM = """
import asyncio
{configure}
from bitget_cancel import CancelEngine, CancelTarget, Credentials
from bitget_cancel.sim import SimExchange

async def main():
    async with SimExchange() as sim:
        order = sim.place_order("BTCUSDT")
        creds = Credentials(api_key=sim.api_key, secret_key="not-the-secret",
                            passphrase=sim.passphrase)
        async with CancelEngine(creds, base_url=sim.base_url) as engine:
            report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id=order.order_id)])
        assert sim.stats.requests, "nothing reached the simulator"
    print(report.outcomes[0].status.value, report.outcomes[0].error_code)

asyncio.run(main())
"""


def run(configure: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.run(
        [sys.executable, "-c", PROGRAM.format(configure=configure)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("configure", "warned"),
    [
        ("", False),  # never configured: silence
        ("import logging; logging.basicConfig()", True),  # configured: the warning is there
    ],
)
def test_warnings_reach_stderr_only_when_the_program_configured_logging(
    configure: str, warned: bool
) -> None:
    done = run(configure)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["failed", "40009"]
    if warned:
        assert "WARNING:bitget_cancel:" in done.stderr
    else:
        assert done.stderr == ""


def test_the_null_handler_is_added_once() -> None:
    importlib.reload(_log)
    importlib.reload(_log)
    handlers = logging.getLogger("bitget_cancel").handlers
    assert _log.log is logging.getLogger("bitget_cancel")
    assert [type(h) for h in handlers].count(logging.NullHandler) == 1
