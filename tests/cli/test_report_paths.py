"""--report on every path: one Ctrl-C, two, SIGTERM, SIGHUP, the deadline, an error.

Real processes against the simulator, interrupted with real signals. What is asserted is what
the report says against what the simulator holds, never how long anything took.
"""

from __future__ import annotations

import json
import platform
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import BackgroundSim, command


@pytest.fixture
def slow_sim() -> Iterator[BackgroundSim]:
    """Answers take 200-400 ms: a signal lands while requests are in flight or queued."""
    bg = BackgroundSim(latency_ms=(200.0, 400.0), seed=5)
    try:
        yield bg
    finally:
        bg.close()


def _wait_for_requests(bg: BackgroundSim, count: int, timeout: float = 60.0) -> None:
    give_up = time.monotonic() + timeout
    while bg.requests_sent() < count:
        assert time.monotonic() < give_up, f"the simulator saw {bg.requests_sent()} requests"
        time.sleep(0.02)


def _targets(bg: BackgroundSim, path: Path, orders: int, *, stale_ids: bool = False) -> None:
    """A JSON-lines file of ``orders`` open orders; with ``stale_ids`` each names an orderId
    the exchange does not know beside its real clientOid (asked by clientOid once refused)."""
    placed = bg.call(lambda: bg.sim.place_orders("BTCUSDT", orders, "rp"))
    lines = []
    for order in placed:
        order_id = "9" + order.order_id if stale_ids else order.order_id
        row = {"symbol": "BTCUSDT", "orderId": order_id, "clientOid": order.client_oid}
        lines.append(json.dumps(row) + "\n")
    path.write_text("".join(lines))


def _cancel(bg: BackgroundSim, targets: Path, report: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command("cancel", "-f", str(targets), "--report", str(report), *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=bg.env(),
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _still_open(bg: BackgroundSim) -> set[str]:
    return {o.client_oid or "" for o in bg.call(bg.sim.open_orders)}


def _check_truthful(written: dict[str, Any], bg: BackgroundSim, orders: int) -> None:
    """Every target once; cancelled ones are closed; never-sent ones are open and carry no
    answer; an answered one is never not_sent."""
    outcomes = written["outcomes"]
    assert len(outcomes) == orders
    assert sum(written["counts"].values()) == orders
    still_open = _still_open(bg)
    for outcome in outcomes:
        if outcome["status"] == "cancelled":
            assert outcome["clientOid"] not in still_open
        if outcome["status"] == "not_sent":
            assert outcome["clientOid"] in still_open
            assert (outcome["errorCode"], outcome["attempts"]) == (None, 0), outcome
        if outcome["errorCode"] is not None:  # the exchange answered for it
            assert outcome["status"] != "not_sent"
            assert outcome["attempts"] >= 1
            assert "before it could be sent" not in (outcome["errorMsg"] or "")


def test_a_ctrl_c_keeps_the_answer_of_an_order_asked_again_by_its_client_oid(
    slow_sim: BackgroundSim, tmp_path: Path
) -> None:
    # The first ten requests (500 orders) come back "no such orderId" (43001): each order is
    # asked again by its clientOid, which the budget lets go only a second later. The Ctrl-C
    # comes in between: those orders were sent and answered, never "not_sent".
    _targets(slow_sim, tmp_path / "t.jsonl", 1000, stale_ids=True)
    report = tmp_path / "r.json"
    proc = _cancel(slow_sim, tmp_path / "t.jsonl", report)
    _wait_for_requests(slow_sim, 10)
    time.sleep(0.6)  # the answers are back, the re-asks wait for the window
    proc.send_signal(signal.SIGINT)
    out, err = _finish(proc)

    assert proc.returncode == 130, err
    written = json.loads(report.read_text())
    _check_truthful(written, slow_sim, 1000)
    answered = [o for o in written["outcomes"] if o["errorCode"] == "43001"]
    assert answered, "no order was asked again by its clientOid: the test did not test"
    # The screen says what the file says.
    counts = written["counts"]
    for status in ("cancelled", "unresolved", "not_sent"):
        assert any(
            line.split()[:3] == ["│", status, "│"] and line.split()[3] == str(counts[status])
            for line in out.splitlines()
        ), (status, counts[status], out[:3000])
    assert f"{counts['not_sent']} orders were never sent" in " ".join(err.split())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_the_cancel_and_write_a_truthful_report(
    slow_sim: BackgroundSim, tmp_path: Path, signum: signal.Signals
) -> None:
    _targets(slow_sim, tmp_path / "t.jsonl", 1000)
    report = tmp_path / "r.json"
    proc = _cancel(slow_sim, tmp_path / "t.jsonl", report, "--json")
    _wait_for_requests(slow_sim, 3)
    proc.send_signal(signum)
    out, err = _finish(proc)

    assert proc.returncode == 130, err
    written = json.loads(report.read_text())
    assert json.loads(out) == written
    assert written["interrupted"] is True
    _check_truthful(written, slow_sim, 1000)
    assert written["counts"]["not_sent"] == len(_still_open(slow_sim)) > 0


def test_two_ctrl_c_write_a_report_that_claims_nothing_closed(
    slow_sim: BackgroundSim, tmp_path: Path
) -> None:
    _targets(slow_sim, tmp_path / "t.jsonl", 2000)
    report = tmp_path / "r.json"
    proc = _cancel(slow_sim, tmp_path / "t.jsonl", report)
    _wait_for_requests(slow_sim, 3)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)  # two presses, not one signal the kernel merges
    proc.send_signal(signal.SIGINT)
    _, err = _finish(proc)

    assert proc.returncode == 130, err
    assert "quitting now" in err
    written = json.loads(report.read_text())
    assert (written["allClosed"], written["interrupted"], written["complete"]) == (
        False, True, False
    )  # fmt: skip
    # Every target once, none claimed closed: cancel --file on this report asks for each.
    assert len(written["outcomes"]) == 2000
    assert {o["status"] for o in written["outcomes"]} == {"unresolved"}


def test_the_deadline_writes_the_report_with_what_it_left_unresolved(
    slow_sim: BackgroundSim, tmp_path: Path
) -> None:
    _targets(slow_sim, tmp_path / "t.jsonl", 2000)  # 40 requests: four seconds at 10 a second
    report = tmp_path / "r.json"
    proc = _cancel(slow_sim, tmp_path / "t.jsonl", report, "--deadline", "1")
    _, err = _finish(proc)

    assert proc.returncode == 1, err
    written = json.loads(report.read_text())
    assert "interrupted" not in written
    assert len(written["outcomes"]) == 2000
    still_open = _still_open(slow_sim)
    assert written["counts"]["unresolved"] >= len(still_open) > 0
    for outcome in written["outcomes"]:
        if outcome["clientOid"] in still_open:
            assert outcome["status"] == "unresolved"
            assert "deadline of 1s passed" in outcome["errorMsg"]


def test_an_internal_error_still_writes_a_report_that_claims_nothing_closed(
    bg_sim: BackgroundSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In process: a bug is made to happen where no real exchange could provoke one.
    from bitget_cancel import CancelEngine
    from bitget_cancel.cli import main

    _targets(bg_sim, tmp_path / "t.jsonl", 120)

    async def broken(self: CancelEngine, *args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(CancelEngine, "cancel", broken)
    report = tmp_path / "r.json"
    with pytest.raises(RuntimeError, match="a bug"):
        main(["cancel", "-f", str(tmp_path / "t.jsonl"), "--report", str(report), "--json"])

    written = json.loads(report.read_text())
    assert written["allClosed"] is False
    assert "RuntimeError" in written["message"]
    assert len(written["outcomes"]) == 120
    assert {o["status"] for o in written["outcomes"]} == {"unresolved"}


def test_ctrl_c_while_the_file_loads_writes_a_report_that_nothing_was_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In process: the Ctrl-C is made to land inside the load (a real one rarely would).
    from bitget_cancel.cli import commands, main

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "load_targets", interrupted)
    (tmp_path / "t.csv").write_text("symbol,orderId\nBTCUSDT,1\n")
    report = tmp_path / "r.json"

    assert main(["cancel", "-f", str(tmp_path / "t.csv"), "--report", str(report)]) == 130

    written = json.loads(report.read_text())
    assert written["message"] == "interrupted while reading the file: nothing was sent"
    assert (written["allClosed"], written["outcomes"]) == (False, [])


def test_two_ctrl_c_during_a_confirmed_panic_report_what_the_prompt_listed(
    slow_sim: BackgroundSim, tmp_path: Path
) -> None:
    from .terminal import Terminal

    slow_sim.call(lambda: [slow_sim.sim.place_orders(f"P{i}USDT", 40, f"p{i}") for i in range(5)])
    report = tmp_path / "panic.json"
    with Terminal("panic", "--no-symbol-cancel", "--report", str(report),
                  env=slow_sim.env()) as terminal:  # fmt: skip
        terminal.expect("to go on: ")
        terminal.send_keys("yes\n")
        terminal.expect("closing")
        terminal.interrupt()
        terminal.expect("Ctrl-C again to quit now")
        terminal.interrupt()
        assert terminal.wait() == 130

    written = json.loads(report.read_text())
    assert written["allClosed"] is False
    assert len(written["outcomes"]) == 200  # every order the prompt listed, once
    assert {o["status"] for o in written["outcomes"]} == {"unresolved"}


STALE = '{"allClosed": true, "accountEmpty": true, "outcomes": []}\n'  # an earlier run's report


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_at_the_panic_prompt_sends_nothing_and_rewrites_the_report(
    bg_sim: BackgroundSim, tmp_path: Path, signum: signal.Signals
) -> None:
    from .terminal import Terminal

    bg_sim.call(bg_sim.sim.place_orders, "BTCUSDT", 5)
    report = tmp_path / "panic.json"
    report.write_text(STALE)
    with Terminal("panic", "--report", str(report), env=bg_sim.env()) as terminal:
        terminal.expect("to go on: ")

        terminal.proc.send_signal(signum)

        assert terminal.wait() == 130
    text = " ".join(terminal.text.split())
    assert "no cancel was sent" in text
    assert "verdict:" in text
    assert bg_sim.cancel_requests() == 0
    written = json.loads(report.read_text())  # not the earlier run's all-clear
    assert (written["allClosed"], written["interrupted"]) == (False, True)
    assert len(written["outcomes"]) == 5  # what the prompt listed, none claimed closed
    assert {o["status"] for o in written["outcomes"]} == {"unresolved"}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_the_panic_lists_before_asking_rewrites_the_report(
    tmp_path: Path, signum: signal.Signals
) -> None:
    from .terminal import Terminal

    bg = BackgroundSim(latency_ms=(1000.0, 1000.0), seed=1)  # the signal lands mid-listing
    try:
        bg.call(bg.sim.place_orders, "BTCUSDT", 5)
        report = tmp_path / "panic.json"
        report.write_text(STALE)
        with Terminal("panic", "--report", str(report), env=bg.env()) as terminal:
            terminal.expect("listing open orders")

            terminal.proc.send_signal(signum)

            assert terminal.wait() == 130
        text = " ".join(terminal.text.split())
        assert "interrupted before the panic began: no cancel was sent" in text
        assert "Traceback" not in text
        assert bg.cancel_requests() == 0
        written = json.loads(report.read_text())
        assert (written["allClosed"], written["interrupted"]) == (False, True)
        assert written["outcomes"] == []  # nothing listed yet: nothing claimed either way
    finally:
        bg.close()


def _wait_until_blocked_reading_stdin(pid: int, timeout: float = 60.0) -> None:
    """Until the process waits in read(0, ...) (Linux: /proc/PID/syscall), so a signal lands
    while it reads its targets, not while Python starts up."""
    syscall = Path(f"/proc/{pid}/syscall")
    read = {"x86_64": "0", "aarch64": "63"}[platform.machine()]  # the number of read(2)
    give_up = time.monotonic() + timeout
    while syscall.read_text().split()[:2] != [read, "0x0"]:  # read(0, ...)
        assert time.monotonic() < give_up, syscall.read_text()
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_cancel_waits_for_its_targets_rewrites_the_report(
    bg_sim: BackgroundSim, tmp_path: Path, signum: signal.Signals
) -> None:
    # `orders --csv | cancel --file -`: the cancel reads while the listing upstream still runs.
    report = tmp_path / "r.json"
    report.write_text(STALE)
    proc = subprocess.Popen(
        command("cancel", "-f", "-", "--report", str(report)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=bg_sim.env(),
    )
    assert proc.stdin is not None
    proc.stdin.write("symbol,orderId\nBTCUSDT,1\n")  # the first lines; the rest never comes
    proc.stdin.flush()
    _wait_until_blocked_reading_stdin(proc.pid)

    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == 130, err
    assert "interrupted while reading the file: nothing was sent" in err
    assert bg_sim.requests_sent() == 0
    written = json.loads(report.read_text())
    assert (written["allClosed"], written["outcomes"]) == (False, [])


@pytest.mark.parametrize("refused", [False, True])
def test_a_panic_that_never_began_rewrites_the_report(
    bg_sim: BackgroundSim, tmp_path: Path, refused: bool
) -> None:
    from .terminal import Terminal

    bg_sim.call(bg_sim.sim.place_orders, "BTCUSDT", 5)
    report = tmp_path / "panic.json"
    report.write_text(STALE)
    env = {**bg_sim.env(), **({"BITGET_PASSPHRASE": "wrong"} if refused else {})}
    with Terminal("panic", "--report", str(report), env=env) as terminal:
        if not refused:
            terminal.expect("to go on: ")
            terminal.send_keys("no\n")

        assert terminal.wait() == (3 if refused else 2)
    assert "no cancel was sent" in " ".join(terminal.text.split())
    assert bg_sim.cancel_requests() == 0
    written = json.loads(report.read_text())  # not the earlier run's all-clear
    assert written["allClosed"] is False
    assert {o["status"] for o in written["outcomes"]} <= {"unresolved"}
    assert len(written["outcomes"]) == (0 if refused else 5)


def test_a_panic_whose_terminal_closes_finishes_and_writes_its_report(
    slow_sim: BackgroundSim, tmp_path: Path
) -> None:
    from .terminal import Terminal

    slow_sim.call(lambda: [slow_sim.sim.place_orders(f"P{i}USDT", 60, f"p{i}") for i in range(5)])
    report = tmp_path / "panic.json"
    report.write_text(STALE)
    with Terminal("panic", "--yes", "--no-symbol-cancel", "--report", str(report),
                  env=slow_sim.env()) as terminal:  # fmt: skip
        terminal.expect("closing")

        terminal.hang_up()  # the first SIGHUP: the panic goes on, with nowhere to print

        code = terminal.wait(120)
    written = json.loads(report.read_text())  # not the earlier run's
    assert "outcomes" in written, written
    assert slow_sim.open_orders() == 0  # the panic went on to the end
    assert (code, written["allClosed"], written["accountEmpty"]) == (0, True, True)
    assert len(written["outcomes"]) == written["counts"]["cancelled"]


def test_a_cancel_whose_terminal_closes_stops_and_writes_a_truthful_report(
    slow_sim: BackgroundSim, tmp_path: Path
) -> None:
    from .terminal import Terminal

    targets, report = tmp_path / "t.jsonl", tmp_path / "r.json"
    _targets(slow_sim, targets, 300)
    report.write_text(STALE)
    with Terminal("cancel", "-f", str(targets), "--report", str(report),
                  env=slow_sim.env()) as terminal:  # fmt: skip
        terminal.expect("/300")
        _wait_for_requests(slow_sim, 1)

        terminal.hang_up()

        assert terminal.wait(120) == 130
    written = json.loads(report.read_text())
    assert written["interrupted"] is True
    _check_truthful(written, slow_sim, 300)
