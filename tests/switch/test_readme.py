"""The README's "When your strategy dies": its examples run as printed."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bitget_cancel.cli import main
from bitget_cancel.sim import SimExchange
from tests.cli.helpers import with_command_on_path

from .helpers import PATIENCE, ROOT, SIM_ENV, clean_env, eventually, gone

SECTION = (ROOT / "README.md").read_text().split("## When your strategy dies", 1)[1]
SECTION = SECTION.split("\n## ", 1)[0]


def _block(after: str, language: str) -> str:
    found = re.search(re.escape(after) + r".*?```" + language + r"\n(.*?)```", SECTION, re.S)
    assert found is not None, f"no {language} block after {after!r}"
    return found.group(1)


async def test_the_strategy_example_is_flattened_when_killed(tmp_path: Path) -> None:
    script = tmp_path / "strategy.py"
    script.write_text(_block("", "python"))
    async with SimExchange() as sim:
        sim.place_orders("BTCUSDT", 80)
        sim.place_orders("ETHUSDT", 20, kind="tpsl")
        sim.place_orders("ETHUSDT", 5, kind="plan")  # outside the example's scope
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(script), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
            env=clean_env(BITGET_BASE_URL=sim.base_url, **SIM_ENV),
        )  # fmt: skip
        assert process.stdout is not None
        status = await asyncio.wait_for(process.stdout.readline(), PATIENCE)
        assert b"state='armed'" in status
        assert b"exchange='classic account" in status
        found = re.search(rb"watchdog_pid=(\d+)", status)
        assert found is not None
        pid = int(found.group(1))
        process.send_signal(signal.SIGKILL)
        assert await eventually(lambda: sim.count_open() == 5)
        _, err = await asyncio.wait_for(process.communicate(), PATIENCE)
        assert await eventually(lambda: gone(pid))
        assert len(sim.open_orders(kind="plan")) == 5
    assert b"panic cancel" in err


def test_the_shell_example_runs_as_printed(tmp_path: Path) -> None:
    script = _block("Try it against the simulator", "sh")
    env = with_command_on_path(clean_env(), tmp_path)
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "the bot failed (exit 1)" in out
    assert "Open: 0 orders" in out
    assert "guard: sh exited 1: panic cancel" in done.stderr


def test_every_option_the_synopsis_names_exists(capsys: pytest.CaptureFixture[str]) -> None:
    synopsis = _block("", "text")
    for command in ("guard", "watchdog"):
        lines = re.findall(rf"bitget-cancel {command} .*(?:\n {{10,}}.*)*", synopsis)
        assert lines, command
        assert main([command, "--help"]) == 0
        helped = capsys.readouterr().out
        for option in set(re.findall(r"--[a-z-]+", " ".join(lines))):
            assert option in helped, (command, option)
