"""Real processes for the switch's end-to-end tests: strategies, watchdogs, guards.

Waits are bounded and generous (a loaded machine is slow); what is asserted is what happened
(orders left open, panics run, processes left), never how long it took.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Every process a test started (and the watchdogs those started), ended by conftest.py after
# each test, whatever the test's outcome: a failed test leaves nothing running.
STARTED: list[asyncio.subprocess.Process] = []
STARTED_PIDS: list[int] = []
PATIENCE = 90.0  # seconds: far beyond timeout + one panic, even on a loaded machine
SIM_ENV = {
    "BITGET_API_KEY": "sim-key",
    "BITGET_SECRET_KEY": "sim-secret",
    "BITGET_PASSPHRASE": "sim-pass",
}


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any BITGET_/REDIS_ setting, importing this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BITGET_", "REDIS_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


async def eventually(check: Callable[[], bool], within: float = PATIENCE) -> bool:
    """True once ``check()`` holds (polled), False if it never did within ``within``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not check():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.05)
    return True


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its reaper counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


class Strategy:
    """``tests/switch/strategy.py`` in its own process."""

    def __init__(self, process: asyncio.subprocess.Process, armed: dict[str, Any]) -> None:
        self.process = process
        self.armed = armed
        self.watchdog_pid: int | None = armed["pid"]
        if self.watchdog_pid is not None:
            STARTED_PIDS.append(self.watchdog_pid)

    @classmethod
    async def start(cls, base_url: str, *args: str, new_session: bool = False) -> Strategy:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.switch.strategy", base_url, *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=clean_env(), cwd=ROOT, start_new_session=new_session,
        )  # fmt: skip
        STARTED.append(process)
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), PATIENCE)
        if not line:
            assert process.stderr is not None
            error = await process.stderr.read()
            raise AssertionError(f"the strategy did not arm: {error.decode()}")
        return cls(process, json.loads(line))

    async def finish(self) -> tuple[int, dict[str, Any] | None, str]:
        """Its exit code, its last status (if it printed one), its stderr (the watchdog
        child's too: it inherits it, so this waits for the watchdog as well)."""
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        out, err = await asyncio.wait_for(self.process.communicate(), PATIENCE)
        done = None
        for line in out.decode().splitlines():
            done = json.loads(line).get("done", done)
        assert self.process.returncode is not None
        return self.process.returncode, done, err.decode()


async def end_leftovers() -> None:
    """Kill what a test left running (by process id, only ours) and reap it."""
    while STARTED:
        process = STARTED.pop()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    while STARTED_PIDS:
        pid = STARTED_PIDS.pop()
        if not gone(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT
    )
    out, err = await asyncio.wait_for(process.communicate(), PATIENCE)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
