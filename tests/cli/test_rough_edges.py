"""The smaller things a trader ran into: the simulator's stop line and -v, a live key with
--demo-trading, demo on a unified account, hints for files that are not what they say, and
plan orders a unified account cannot list."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bitget_cancel.cli import main

from .helpers import BackgroundSim, clean_env, command, run_cli
from .test_sim_command import _exports_of


def test_the_sim_tells_refused_credentials_from_broken_rules_and_refuses_a_live_mixup() -> None:
    proc = subprocess.Popen(
        command("sim", "--orders", "20", "-v"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    try:
        _, exports = _exports_of(proc)
        env = {**clean_env(), **exports}
        wrong = run_cli("orders", env={**env, "BITGET_PASSPHRASE": "wrong"})
        mixed_up = run_cli("orders", "--demo-trading", env=env)  # a live key, said to be demo
        listed = run_cli("orders", "--json", env=env)
        time.sleep(1.5)  # -v says once a second what arrived
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert (wrong.returncode, mixed_up.returncode, listed.returncode) == (3, 3, 0)
    assert "40099" in mixed_up.stderr
    assert json.loads(listed.stdout)["count"] == 20
    stop = " ".join(out.split())
    assert "refused for credentials (demo/live " in stop
    assert ", passphrase " in stop
    assert "0 rule violations" in stop
    assert "arrived: " in err
    assert "unfilled-orders" in err


def test_demo_on_a_unified_account_by_default_places_what_the_account_holds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--account", "uta", "--latency-ms", "0-1"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "400 open orders" in out
    assert "orders left open │ 0" in out


def test_a_file_that_is_not_the_csv_it_is_said_to_be_gets_a_short_hint(tmp_path: Path) -> None:
    rows = [{"symbol": "BTCUSDT", "orderId": str(10**18 + i), "clientOid": "x" * 30}
            for i in range(40)]  # fmt: skip
    (tmp_path / "big.json").write_text(json.dumps(rows))
    (tmp_path / "semi.csv").write_text("symbol;orderId\nBTCUSDT;1\n")

    as_csv = run_cli("cancel", "-f", str(tmp_path / "big.json"), "--format", "csv", "--dry-run")
    semi = run_cli("cancel", "-f", str(tmp_path / "semi.csv"), "--dry-run")

    assert (as_csv.returncode, semi.returncode) == (2, 2)
    assert "looks like JSON" in as_csv.stderr
    assert len(as_csv.stderr) < 500  # not the whole file echoed back
    assert "separated by ';'" in semi.stderr


def test_orders_help_says_what_its_deadline_does() -> None:
    result = run_cli("orders", "--help")
    said = " ".join(result.stdout.split())
    assert "counted from the start" in said
    assert "incomplete (exit 4)" in said
    assert "reported unresolved" not in said


def test_plan_orders_a_unified_account_cannot_list_are_unknown_not_zero() -> None:
    bg = BackgroundSim(latency_ms=(1.0, 5.0), seed=3, account="uta")
    try:
        bg.call(bg.sim.place_orders, "BTCUSDT", 3)
        env = {**bg.env(), "COLUMNS": "200"}
        listed = run_cli("orders", env=env)
        panic = run_cli("panic", "--yes", env=env)
    finally:
        bg.close()

    assert (listed.returncode, panic.returncode) == (4, 1)
    said = " ".join(listed.stdout.split())
    assert "3 normal, 0 tpsl, ? plan" in said
    assert "│ BTCUSDT │ 3 │ 0 │ ? │ 3 │" in said
    for result in (listed, panic):
        assert "check them in Bitget's app or website" in " ".join(result.stderr.split())


def test_verbose_orders_says_the_account_type_once(
    bg_sim: BackgroundSim, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["orders", "-v"]) == 0
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if "account" in line and "classic" in line
                and "INFO" in line]) == 1, err  # fmt: skip
