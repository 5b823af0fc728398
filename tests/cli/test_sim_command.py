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
