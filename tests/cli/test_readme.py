"""The README's "Command line" section: its example runs as printed, its options exist."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

import pytest

from bitget_cancel.cli import main

from .helpers import ROOT, clean_env, with_command_on_path

SECTION = (ROOT / "README.md").read_text().split("## Command line", 1)[1].split("\n## ", 1)[0]


def _block(after: str, language: str) -> str:
    found = re.search(re.escape(after) + r".*?```" + language + r"\n(.*?)```", SECTION, re.S)
    assert found is not None, f"no {language} block after {after!r}"
    return found.group(1)


def test_the_example_runs_as_printed(tmp_path: Path) -> None:
    # A free port for the README's 8750: other checkouts may run this test at the same time.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = _block("Try it against the simulator", "sh").replace("8750", str(port))
    env = with_command_on_path(clean_env(), tmp_path)
    work = tmp_path / "work"
    work.mkdir()

    done = subprocess.run(["bash", "-e", "-c", script], cwd=work, env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip

    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "nothing was sent" in out  # the dry run
    reports = {name: json.loads((work / name).read_text())
               for name in ("done.json", "btc.json", "all.json")}  # fmt: skip
    assert reports["done.json"]["counts"]["cancelled"] == 2
    # As the README says: 50 normal orders on each symbol, 2 TP/SL and 3 plan orders on each.
    rows = (work / "btc.csv").read_text().splitlines()
    assert rows[0].startswith("symbol,orderId,clientOid,kind,")
    kinds = [row.split(",")[3] for row in rows[1:]]
    assert sorted(kinds) == ["normal"] * 49 + ["plan"] * 3
    assert {row.partition(",")[0] for row in rows[1:]} == {"BTCUSDT"}
    assert reports["btc.json"]["counts"]["cancelled"] == 52
    assert "56 orders on 2 symbols: 49 normal, 4 tpsl, 3 plan" in out
    assert reports["all.json"]["counts"]["cancelled"] == 56
    assert {kind: summary["cancelled"] for kind, summary in reports["all.json"]["byKind"].items()
            } == {"normal": 49, "tpsl": 4, "plan": 3}  # fmt: skip
    assert reports["all.json"]["accountEmpty"] is True


@pytest.mark.parametrize("command", ["demo", "orders", "cancel", "panic", "sim"])
def test_every_option_the_synopsis_names_exists(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    synopsis = _block("", "text")
    lines = re.findall(rf"bitget-cancel {command} .*(?:\n {{10,}}.*)*", synopsis)
    assert lines, f"{command} is not in the synopsis"
    if "EXCHANGE" in lines[0]:
        lines += re.findall(r"EXCHANGE: .*(?:\n {10,}.*)*", synopsis)
    named = set(re.findall(r"--[a-z-]+", " ".join(lines)))
    assert main([command, "--help"]) == 0
    helped = capsys.readouterr().out
    for option in named:
        assert option in helped, option
