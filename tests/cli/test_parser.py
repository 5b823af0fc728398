"""The arguments: help, version, usage errors, and that none of them loads the simulator."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

import bitget_cancel
from bitget_cancel.cli import main

from .helpers import clean_env, command, run_cli


def test_python_m_runs_the_demo_and_a_usage_error_exits_2() -> None:
    demo = run_cli("demo", "--orders", "60", "--symbols", "3")
    assert demo.returncode == 0, demo.stderr
    assert "orders left open" in demo.stdout
    usage = run_cli()
    assert usage.returncode == 2
    assert "COMMAND" in usage.stderr


@pytest.mark.parametrize(
    "encoding",
    [
        {"PYTHONIOENCODING": "ascii"},
        # The C/POSIX locale without UTF-8 mode: Python's stdout is ASCII with surrogateescape.
        {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"},
        {"LC_ALL": "POSIX", "PYTHONUTF8": "0"},
    ],
)
def test_the_demo_runs_on_an_ascii_terminal(encoding: dict[str, str]) -> None:
    """LANG=C or a pipe with PYTHONIOENCODING=ascii: the summary's × becomes ?, no crash."""
    env = {k: v for k, v in clean_env().items() if k not in ("PYTHONIOENCODING", "LANG")}
    demo = run_cli("demo", "--orders", "60", "--symbols", "3", env={**env, **encoding})
    assert demo.returncode == 0, demo.stderr
    assert "orders left open" in demo.stdout
    assert "UnicodeEncodeError" not in demo.stderr


# What the epilogs of orders, cancel and panic name: every variable they read, and the options.
_ENVIRONMENT = [
    "BITGET_API_KEY", "BITGET_SECRET_KEY", "BITGET_PASSPHRASE", "BITGET_RSA_PRIVATE_KEY",
    "BITGET_BASE_URL", "BITGET_ACCOUNT", "BITGET_DEMO_TRADING", "BITGET_BUDGET_URL", "HTTPS_PROXY",
    "--account", "--demo-trading", "--budget-url", "--proxy", "--trust-env",
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], ["demo", "orders", "cancel", "panic", "sim", "exit codes", "130",
              "could be read to its end"]),
        (["demo"], ["--orders", "--tpsl", "--plan", "--account", "--no-order-cap", "--faults",
                    "rate-limit bound", "exit codes"]),
        (["orders"], ["--symbol", "--kinds", "--json", "--csv", "cancel --file", "never wrapped",
                      "4 the listing is incomplete", "3 the exchange refused the credentials",
                      *_ENVIRONMENT]),
        (["cancel"], ["CSV", "JSON lines", "BTC/USDT", "clientOrderId", "BITGET_SECRET_KEY",
                      "exit codes", "--json", "--report", "--dry-run", "not_sent", "kind",
                      "3 the exchange refused the credentials", *_ENVIRONMENT]),
        (["panic"], ["--yes", "--kinds", "exit codes", "--no-symbol-cancel", "--report",
                     "4 no listing of the open orders could be read", "(default 60)",
                     *_ENVIRONMENT]),
        (["sim"], ["--port", "--api-key", "SIGTERM", "sim-key / sim-secret / sim-pass",
                   "port in use", "--tpsl", "--plan", "--account", "--demo-trading",
                   "BITGET_DEMO_TRADING=1"]),
    ],
)  # fmt: skip
def test_help_of_each_command_exits_0_and_explains_it(
    argv: list[str], words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for word in words:
        assert word in out


def test_version_is_the_one_version_of_the_package(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        expected = importlib.metadata.version("bitget-cancel")
    except importlib.metadata.PackageNotFoundError:
        expected = bitget_cancel.__version__

    assert main(["--version"]) == 0

    assert capsys.readouterr().out.strip() == f"bitget-cancel {expected}"


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--latency-ms", "30-2"],
        ["demo", "--faults", "1.5"],
        ["demo", "--faults", "nan"],
        ["demo", "--orders", "-1"],
        ["cancel", "--file", "x.csv", "--deadline", "0"],
        ["cancel", "--file", "x.csv", "--mode", "fast"],
        ["cancel", "--file", "x.csv", "--base-url", "api.bitget.com"],
        ["panic", "--symbol", "btcusdt"],
        ["panic", "--symbol", "BTC/USDT:USDT"],
        ["panic", "--log-level", "loud"],
        ["panic", "--kinds", "normal,stops"],
        ["orders", "--kinds", ""],
        ["orders", "--account", "v3"],
        ["cancel", "--file", "x.csv", "--account", "unified"],
        ["demo", "--account", "auto"],
        ["sim", "--tpsl", "-1"],
        ["sim", "--port", "70000"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "error" in capsys.readouterr().err


# The commands that run the simulator import it; nothing else may, so that --help, --version,
# a usage error or a dry run answer without loading aiohttp.web.
_PROBE = """
import json, sys
from bitget_cancel.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
loaded = sorted(m for m in sys.modules if m == "aiohttp.web" or m.startswith("bitget_cancel.sim"))
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def _probe(*argv: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True, text=True, timeout=60, env=clean_env(), check=False,
    )  # fmt: skip
    result: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--help"], 0),
        (["--version"], 0),
        (["cancel", "--help"], 0),
        (["sim", "--help"], 0),
        (["cancel", "--file", "x.csv", "--mode", "fast"], 2),
        (["sim", "--port", "-3"], 2),
        (["cancel", "--file", "missing.csv"], 2),
    ],
)
def test_help_usage_errors_and_bad_files_never_import_the_simulator(
    argv: list[str], code: int
) -> None:
    assert _probe(*argv) == {"code": code, "loaded": []}


def test_a_dry_run_never_imports_the_simulator(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("symbol,orderId\nBTCUSDT,1\n")

    assert _probe("cancel", "--file", str(path), "--dry-run") == {"code": 0, "loaded": []}


def test_the_demo_does_import_the_simulator_so_the_probe_can_tell() -> None:
    loaded = _probe("demo", "--orders", "10", "--symbols", "2", "--latency-ms", "0")["loaded"]
    assert isinstance(loaded, list)
    assert "aiohttp.web" in loaded


def test_python_m_help_is_the_same_as_the_entry_point(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--help"])
    in_process = capsys.readouterr().out
    done = subprocess.run(command("--help"), capture_output=True, text=True, timeout=60,
                          env={**clean_env(), "COLUMNS": "80"}, check=False)  # fmt: skip
    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == in_process.splitlines()[0]
