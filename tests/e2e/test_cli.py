"""The ``bitget-cancel`` command line against the simulator over real sockets.

``main()`` runs its own ``asyncio.run``, so these tests are synchronous: the simulator serves
from a background thread with its own loop, and the command runs in-process (one test runs it
as ``python -m bitget_cancel`` in a subprocess, as a user would).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bitget_cancel.cli import main
from bitget_cancel.sim import SimExchange

T = TypeVar("T")
SECRET = "cli-test-secret-value"
PASSPHRASE = "cli-test-passphrase"
ENV_NAMES = ("BITGET_API_KEY", "BITGET_SECRET_KEY", "BITGET_PASSPHRASE", "BITGET_BASE_URL")


class BackgroundSim:
    """A SimExchange serving from its own event loop in a daemon thread."""

    def __init__(self, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        kwargs.setdefault("secret_key", SECRET)
        kwargs.setdefault("passphrase", PASSPHRASE)
        self.sim = SimExchange(**kwargs)
        self._wait(asyncio.run_coroutine_threadsafe(self.sim.start(), self.loop))

    @staticmethod
    def _wait(future: Future[T]) -> T:
        return future.result(timeout=10)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the simulator's own loop: its state belongs to that thread."""

        async def run() -> T:
            return fn(*args)

        return self._wait(asyncio.run_coroutine_threadsafe(run(), self.loop))

    @property
    def url(self) -> str:
        return self.sim.base_url

    def requests_sent(self) -> int:
        return self.call(lambda: sum(self.sim.stats.requests.values()))

    def close(self) -> None:
        self._wait(asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def bg_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[BackgroundSim]:
    """A running simulator, with the BITGET_* variables set to its credentials."""
    sim = BackgroundSim(latency_ms=(1.0, 5.0), seed=3)
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BITGET_API_KEY", sim.sim.api_key)
    monkeypatch.setenv("BITGET_SECRET_KEY", SECRET)
    monkeypatch.setenv("BITGET_PASSPHRASE", PASSPHRASE)
    try:
        yield sim
    finally:
        sim.close()


def _place(bg: BackgroundSim) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Open orders on three symbols; targets by orderId, by clientOid only, and unknown ones."""
    orders = bg.call(lambda: [bg.sim.place_order(s, f"{s}-{i}") for s in
                              ("BTCUSDT", "ETHUSDT", "SOLUSDT") for i in range(30)])  # fmt: skip
    rows = []
    for index, order in enumerate(orders):
        if index % 3 == 0:
            rows.append({"symbol": order.symbol, "clientOid": order.client_oid or ""})
        else:
            rows.append({"symbol": order.symbol, "orderId": order.order_id})
    unknown = [
        {"symbol": "BTCUSDT", "orderId": "1000000000000000001"},
        {"symbol": "ETHUSDT", "clientOid": "never-placed"},
    ]
    return rows, unknown


def _write(path: Path, fmt: str, rows: list[dict[str, str]]) -> str:
    if fmt == "csv":
        lines = ["symbol,orderId,clientOid"]
        lines += [f"{r['symbol']},{r.get('orderId', '')},{r.get('clientOid', '')}" for r in rows]
        text = "\n".join(lines) + "\n"
    elif fmt == "json":
        text = json.dumps(rows, indent=1)
    else:
        text = "".join(json.dumps(r) + "\n" for r in rows)
    path.write_text(text)
    return text


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "stdin-json", "stdin-jsonl", "stdin-csv"])
def test_cancel_reads_each_format_and_reports_one_outcome_per_target(
    fmt: str,
    bg_sim: BackgroundSim,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows, unknown = _place(bg_sim)
    given = rows + unknown + rows[:4]  # four duplicates
    kind = fmt.removeprefix("stdin-")
    path = tmp_path / f"orders.{kind}"
    text = _write(path, kind, given)
    file_arg = str(path)
    if fmt.startswith("stdin"):
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
        file_arg = "-"

    code = main(["cancel", "--file", file_arg, "--json", "--base-url", bg_sim.url])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["allClosed"] is True
    outcomes = report["outcomes"]
    assert len(outcomes) == len(rows) + len(unknown)  # one per distinct target
    by_status = {o["status"] for o in outcomes[: len(rows)]}
    assert by_status == {"cancelled"}
    assert [o["status"] for o in outcomes[len(rows) :]] == ["not_open", "not_open"]
    assert report["counts"] == {"cancelled": 90, "not_open": 2, "failed": 0, "unresolved": 0}
    assert bg_sim.call(bg_sim.sim.open_orders) == []
    assert bg_sim.call(lambda: bg_sim.sim.stats.total_violations) == 0


def test_cancel_prints_a_human_summary_by_default(
    bg_sim: BackgroundSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, unknown = _place(bg_sim)
    path = tmp_path / "orders.csv"
    _write(path, "csv", rows + unknown)

    code = main(["cancel", "-f", str(path), "--base-url", bg_sim.url, "--mode", "multiple"])

    out = capsys.readouterr().out
    assert code == 0
    assert "cancelled" in out
    assert "90" in out
    assert "not_open" in out
    assert "requests" in out
    assert bg_sim.call(bg_sim.sim.open_orders) == []


def test_cancel_exits_1_when_the_exchange_refuses_and_never_prints_the_secret(
    bg_sim: BackgroundSim,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows, _ = _place(bg_sim)
    path = tmp_path / "orders.jsonl"
    _write(path, "jsonl", rows[:10])
    wrong = "wrong-secret-do-not-print"
    monkeypatch.setenv("BITGET_SECRET_KEY", wrong)

    code = main(["cancel", "--file", str(path), "--base-url", bg_sim.url, "-vv"])

    captured = capsys.readouterr()
    assert code == 1
    assert "failed" in captured.out
    assert "40009" in captured.out
    for secret in (wrong, PASSPHRASE):
        assert secret not in captured.out + captured.err
    assert len(bg_sim.call(bg_sim.sim.open_orders)) == 90


@pytest.mark.parametrize(
    ("name", "content", "where", "what"),
    [
        ("orders.csv", "symbol,orderId\nBTCUSDT,1\nBTCUSDT,\nBTCUSDT,3\n", ":3:", "orderId"),
        ("orders.csv", "sym,id\nBTCUSDT,1\n", ":1:", "header"),
        ("orders.json", '[\n {"symbol": "BTCUSDT", "orderId": "1"},\n {"symbol": }\n]', ":3:",
         "not valid JSON"),
        ("orders.json", '[{"symbol": "BTCUSDT", "orderId": "1"},\n {"symbol": "BTCUSDT",'
         ' "orderId": 1200000000000000001}]', ":2:", "orderId must be a string"),
        ("orders.jsonl", '{"symbol": "BTCUSDT", "orderId": "1"}\n\n{"symbol": "BTCUSDT"\n', ":3:",
         "not valid JSON"),
        ("orders.jsonl", '{"symbol": "BTCUSDT", "orderId": "1"}\n["BTCUSDT", "2"]\n', ":2:",
         "expected an object"),
    ],
)  # fmt: skip
def test_a_malformed_file_names_the_line_and_sends_nothing(
    name: str,
    content: str,
    where: str,
    what: str,
    bg_sim: BackgroundSim,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / name
    path.write_text(content)

    code = main(["cancel", "--file", str(path), "--base-url", bg_sim.url])

    err = capsys.readouterr().err
    assert code == 2
    assert f"{name}{where}" in err
    assert what in err
    assert bg_sim.requests_sent() == 0


def test_a_missing_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cancel", "--file", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err


def test_missing_credentials_exit_2_naming_them_without_echoing_any_value(
    bg_sim: BackgroundSim,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text('{"symbol": "BTCUSDT", "orderId": "1"}\n')
    monkeypatch.delenv("BITGET_API_KEY")

    code = main(["cancel", "--file", str(path), "--base-url", bg_sim.url])
    panic_code = main(["panic", "--yes", "--base-url", bg_sim.url])

    captured = capsys.readouterr()
    assert (code, panic_code) == (2, 2)
    assert "BITGET_API_KEY" in captured.err
    assert SECRET not in captured.err + captured.out
    assert PASSPHRASE not in captured.err + captured.out
    assert bg_sim.requests_sent() == 0


def test_panic_yes_closes_every_open_order(
    bg_sim: BackgroundSim, capsys: pytest.CaptureFixture[str]
) -> None:
    # 120 on one symbol: enough for cancel-symbol-order; the rest go by id.
    bg_sim.call(lambda: (bg_sim.sim.place_orders("BTCUSDT", 120, "grid"),
                         bg_sim.sim.place_orders("ETHUSDT", 30),
                         bg_sim.sim.place_orders("SOLUSDT", 7, "sol")))  # fmt: skip

    code = main(["panic", "--yes", "--json", "--base-url", bg_sim.url, "--deadline", "20"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["allClosed"] is True
    assert report["accountEmpty"] is True
    assert report["counts"]["cancelled"] == 157
    assert report["symbolCancels"] >= 1
    assert bg_sim.call(bg_sim.sim.open_orders) == []
    assert bg_sim.call(lambda: bg_sim.sim.stats.pacing_429) == 0


def test_panic_on_some_symbols_leaves_the_others_and_prints_a_summary(
    bg_sim: BackgroundSim, capsys: pytest.CaptureFixture[str]
) -> None:
    bg_sim.call(lambda: [bg_sim.sim.place_orders(s, 20) for s in ("BTCUSDT", "ETHUSDT", "XRPUSDT")])

    code = main(["panic", "-y", "--symbol", "BTCUSDT", "--symbol", "XRPUSDT",
                 "--no-symbol-cancel", "--base-url", bg_sim.url])  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0
    assert "cancelled" in out
    assert "passes" in out
    left = bg_sim.call(bg_sim.sim.open_orders)
    assert len(left) == 20
    assert {o.symbol for o in left} == {"ETHUSDT"}
    assert bg_sim.call(lambda: bg_sim.sim.stats.requests.get(
        "/api/v2/spot/trade/cancel-symbol-order", 0)) == 0  # fmt: skip


def test_panic_refuses_without_yes_when_stdin_is_not_a_terminal(
    bg_sim: BackgroundSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bg_sim.call(bg_sim.sim.place_orders, "BTCUSDT", 5)
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))

    code = main(["panic", "--base-url", bg_sim.url])

    assert code == 2
    assert "--yes" in capsys.readouterr().err
    assert bg_sim.requests_sent() == 0
    assert len(bg_sim.call(bg_sim.sim.open_orders)) == 5


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "expected"), [("no\n", 2), ("", 2), ("yes\n", 0)])
def test_panic_asks_on_a_terminal_and_keeps_stdout_clean(
    answer: str,
    expected: int,
    bg_sim: BackgroundSim,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bg_sim.call(bg_sim.sim.place_orders, "BTCUSDT", 5)
    monkeypatch.setattr(sys, "stdin", FakeTerminal(answer))

    code = main(["panic", "--json", "--base-url", bg_sim.url])

    captured = capsys.readouterr()
    assert code == expected
    assert "Type 'yes'" in captured.err
    if expected == 0:
        assert json.loads(captured.out)["counts"]["cancelled"] == 5
    else:
        assert captured.out == ""
        assert bg_sim.requests_sent() == 0


def test_demo_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--orders", "150", "--symbols", "6", "--latency-ms", "1-5", "--seed", "2"])

    out = capsys.readouterr().out
    assert code == 0
    for word in ("cancelled", "not_open", "rate-limit bound", "rule violations", "duplicates"):
        assert word in out


def test_python_m_runs_the_demo_and_the_help() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    demo = subprocess.run(
        [sys.executable, "-m", "bitget_cancel", "demo", "--orders", "60", "--symbols", "3"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    assert "orders left open" in demo.stdout
    usage = subprocess.run([sys.executable, "-m", "bitget_cancel"], capture_output=True,
                           text=True, timeout=60, env=env)  # fmt: skip
    assert usage.returncode == 2


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ([], ["demo", "cancel", "panic", "sim"]),
        (["demo"], ["--orders", "--faults", "rate-limit bound", "exit codes"]),
        (["cancel"], ["CSV", "JSON lines", "BITGET_SECRET_KEY", "exit codes", "--json"]),
        (["panic"], ["--yes", "BITGET_API_KEY", "exit codes", "--no-symbol-cancel"]),
        (["sim"], ["--port", "--api-key", "SIGTERM"]),
    ],
)
def test_help_of_each_command_exits_0_and_explains_it(
    command: list[str], words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for word in words:
        assert word in out


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--latency-ms", "30-2"],
        ["demo", "--faults", "1.5"],
        ["demo", "--orders", "-1"],
        ["cancel", "--file", "x.csv", "--deadline", "0"],
        ["cancel", "--file", "x.csv", "--mode", "fast"],
        ["cancel", "--file", "x.csv", "--base-url", "api.bitget.com"],
        ["sim", "--port", "70000"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "error" in capsys.readouterr().err


def test_sim_command_serves_until_sigint_and_prints_what_to_export(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bitget_cancel", "sim", "--orders", "80", "--symbols", "2",
         "--api-key", "k1", "--secret-key", "s1", "--passphrase", "p1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
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
