"""``bitget-cancel sim``: serves until interrupted; an address it cannot bind: one line, exit 2."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from collections.abc import Iterator

import pytest

from bitget_cancel.cli import main

from .helpers import ENV_NAMES, clean_env, command, run_cli


def test_sim_command_serves_until_sigint_and_prints_what_to_export(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    proc = subprocess.Popen(
        command("sim", "--orders", "80", "--symbols", "2",
                "--api-key", "k1", "--secret-key", "s1", "--passphrase", "p1"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        exports: dict[str, str] = {}
        for line in proc.stdout:
            if line.strip().startswith("export "):
                name, _, value = line.strip().removeprefix("export ").partition("=")
                exports[name] = value
            if "Ctrl-C" in line:
                break
        assert set(exports) == set(ENV_NAMES)
        assert exports["BITGET_SECRET_KEY"] == "s1"
        for name in ENV_NAMES:
            monkeypatch.setenv(name, exports[name])

        assert main(["panic", "--yes", "--json"]) == 0  # base URL from BITGET_BASE_URL
        assert json.loads(capsys.readouterr().out)["counts"]["cancelled"] == 80

        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "80 orders cancelled" in " ".join(out.split())


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port of 127.0.0.1 that another socket is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_sim_on_a_busy_port_says_so_in_one_line_and_exits_2(busy_port: int) -> None:
    done = run_cli("sim", "--port", str(busy_port))

    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"cannot serve on 127.0.0.1:{busy_port}: the port is in use (pick another --port, "
        "or 0 for a free one)"
    )
    assert "Traceback" not in done.stderr
    assert "export" not in done.stdout


def test_sim_on_an_address_of_another_machine_says_so_in_one_line_and_exits_2() -> None:
    # 192.0.2.1 (TEST-NET-1) is no address of this machine: binding fails locally, nothing is
    # sent anywhere.
    done = run_cli("sim", "--host", "192.0.2.1", "--port", "0")

    assert done.returncode == 2
    assert done.stderr.strip() == (
        "cannot serve on 192.0.2.1:0: this machine has no such address (--host)"
    )


def _exports_of(proc: subprocess.Popen[str]) -> tuple[list[str], dict[str, str]]:
    """The banner lines and the exported variables, read up to "Ctrl-C stops it"."""
    assert proc.stdout is not None
    lines: list[str] = []
    exports: dict[str, str] = {}
    for line in proc.stdout:
        lines.append(line)
        if line.strip().startswith("export "):
            name, _, value = line.strip().removeprefix("export ").partition("=")
            exports[name] = value
        if "Ctrl-C" in line:
            break
    return lines, exports


def test_sim_places_every_kind_and_can_require_demo_trading() -> None:
    proc = subprocess.Popen(
        command("sim", "--orders", "10", "--tpsl", "3", "--plan", "2", "--symbols", "2",
                "--demo-trading"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    try:
        lines, exports = _exports_of(proc)
        assert "10 open orders, 3 TP/SL and 2 plan orders on 2 symbols" in lines[0]
        assert "demo trading" in lines[0]
        assert exports["BITGET_DEMO_TRADING"] == "1"
        env = {**clean_env(), **exports}
        without = {k: v for k, v in env.items() if k != "BITGET_DEMO_TRADING"}

        refused = run_cli("orders", "--json", env=without)
        listed = run_cli("orders", "--json", env=env)
        panic = run_cli("panic", "--yes", "--json", env=env)

        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert refused.returncode == 3  # 40099: the environment is wrong
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["byKind"] == {"normal": 10, "tpsl": 3, "plan": 2}
    assert panic.returncode == 0, panic.stderr
    assert json.loads(panic.stdout)["counts"]["cancelled"] == 15
    assert proc.returncode == 0, err
    assert "15 orders cancelled, 0 still open" in " ".join(out.split())


def test_sim_as_a_unified_account_refuses_more_orders_than_its_cap() -> None:
    capped = run_cli("sim", "--account", "uta", "--orders", "401")

    assert capped.returncode == 2
    assert "at most 400 open spot orders" in capped.stderr
    assert "--no-order-cap" in capped.stderr
    assert "export" not in capped.stdout


def test_sim_as_a_unified_account_answers_the_classic_api_with_40085() -> None:
    proc = subprocess.Popen(
        command("sim", "--account", "uta", "--orders", "500", "--no-order-cap"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    try:
        lines, exports = _exports_of(proc)
        listed = run_cli("orders", "--json", "--account", "classic", env={**clean_env(), **exports})
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "500 open orders on 4 symbols, a uta account" in lines[0]
    assert listed.returncode == 4
    assert all("40085" in problem for problem in json.loads(listed.stdout)["problems"])


def test_demo_cancels_every_kind_and_shows_each_endpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["demo", "--orders", "120", "--tpsl", "12", "--plan", "25", "--symbols", "4",
                 "--latency-ms", "1-3"])  # fmt: skip

    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert code == 0
    assert "batch-cancel-order" in out
    assert "cancel-order 12 (10/s)" in out  # every TP/SL order, one a request
    assert "cancel-plan-order 25 (20/s)" in out
    assert "orders left open 0" in out


def test_demo_as_a_unified_account_over_its_cap_is_bad_input(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--account", "uta", "--orders", "1000"]) == 2
    assert "--no-order-cap" in capsys.readouterr().err
