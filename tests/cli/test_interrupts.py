"""Ctrl-C: at the panic prompt, during a cancel, during a panic, and twice.

Real processes against the simulator; the ones that look at the terminal run on a
pseudo-terminal, so the progress bar is live and hides the cursor as it does for a user.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from .helpers import BackgroundSim, command
from .terminal import Terminal

HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"


def _wait_for_requests(bg: BackgroundSim, count: int, timeout: float = 30.0) -> None:
    give_up = time.monotonic() + timeout
    while bg.requests_sent() < count:
        assert time.monotonic() < give_up, f"the simulator saw {bg.requests_sent()} requests"
        time.sleep(0.02)


def _interrupted_panic(
    bg: BackgroundSim, report: Path, *waits: Callable[[], None]
) -> tuple[int, str]:
    """``panic -y`` by id only, writing ``report``, with a SIGINT after each of ``waits``: its
    exit code and stderr."""
    proc = subprocess.Popen(
        command("panic", "-y", "--no-symbol-cancel", "--report", str(report)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=bg.env(),
    )  # fmt: skip
    try:
        for wait in waits:
            wait()
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def _targets_file(bg: BackgroundSim, path: Path, orders: int) -> list[str]:
    placed = bg.call(lambda: bg.sim.place_orders("BTCUSDT", orders, "ctrl-c"))
    path.write_text("".join(
        json.dumps({"symbol": "BTCUSDT", "orderId": o.order_id}) + "\n" for o in placed
    ))  # fmt: skip
    return [o.order_id for o in placed]


def test_ctrl_c_at_the_panic_prompt_says_no_cancel_was_sent(bg_sim: BackgroundSim) -> None:
    bg_sim.call(bg_sim.sim.place_orders, "BTCUSDT", 5)
    bg_sim.call(lambda: bg_sim.sim.place_orders("ETHUSDT", 2, kind="plan"))
    with Terminal("panic", env=bg_sim.env()) as terminal:
        terminal.expect("to go on: ")

        terminal.interrupt()

        assert terminal.wait() == 130
    text = " ".join(terminal.text.split())
    # The prompt said what the listing found, per kind.
    assert "This cancels 7 orders on 2 symbols: 5 normal, 0 tpsl, 2 plan" in text
    assert "interrupted at the prompt: no cancel was sent" in text
    assert "Traceback" not in text
    assert bg_sim.cancel_requests() == 0
    assert bg_sim.requests_sent() > 0  # the listing
    assert bg_sim.open_orders() == 7


def test_ctrl_c_while_the_panic_lists_before_asking_sends_no_cancel() -> None:
    # Answers take a second: the Ctrl-C comes while the listing waits for its answers.
    bg = BackgroundSim(latency_ms=(1000.0, 1000.0), seed=1)
    try:
        bg.call(bg.sim.place_orders, "BTCUSDT", 5)
        with Terminal("panic", env=bg.env()) as terminal:
            terminal.expect("listing open orders")

            terminal.interrupt()

            assert terminal.wait() == 130
        text = " ".join(terminal.text.split())
        assert "interrupted before the panic began: no cancel was sent" in text
        assert "Type 'yes'" not in text
        assert "Traceback" not in text
        assert terminal.text.rpartition(HIDE_CURSOR)[2].count(SHOW_CURSOR) >= 1
        assert bg.cancel_requests() == 0
        assert bg.open_orders() == 5
    finally:
        bg.close()


def test_yes_at_the_panic_prompt_goes_on(bg_sim: BackgroundSim) -> None:
    bg_sim.call(bg_sim.sim.place_orders, "BTCUSDT", 5)
    with Terminal("panic", env=bg_sim.env()) as terminal:
        terminal.expect("to go on: ")

        terminal.send_keys("yes\n")

        assert terminal.wait() == 0
    assert bg_sim.open_orders() == 0


def test_a_second_ctrl_c_quits_at_once_and_gives_the_cursor_back(
    tmp_path: Path,
) -> None:
    # Answers take a second: the second Ctrl-C comes while requests are in flight.
    bg = BackgroundSim(latency_ms=(1000.0, 1000.0), seed=1)
    try:
        targets = tmp_path / "orders.jsonl"
        _targets_file(bg, targets, 500)
        report = tmp_path / "report.json"
        with Terminal("cancel", "-f", str(targets), "--report", str(report),
                      env=bg.env()) as terminal:  # fmt: skip
            terminal.expect(HIDE_CURSOR)  # the live bar is up
            terminal.expect("0/500")  # and knows its total before the first answer
            _wait_for_requests(bg, 1)

            terminal.interrupt()
            terminal.expect("Ctrl-C again to quit now")
            terminal.interrupt()

            assert terminal.wait() == 130
        after_hiding = terminal.text.rpartition(HIDE_CURSOR)[2]
        assert SHOW_CURSOR in after_hiding
        assert "quitting now" in after_hiding
        written = json.loads(report.read_text())
        assert (written["complete"], written["allClosed"]) == (False, False)
        assert {o["status"] for o in written["outcomes"]} == {"unresolved"}  # none claimed
        assert written["targets"] == 500
    finally:
        bg.close()


def test_a_first_ctrl_c_during_a_cancel_still_writes_a_truthful_report(
    bg_sim: BackgroundSim, tmp_path: Path
) -> None:
    # 1,000 orders: 20 requests, two seconds at 10 a second; Ctrl-C after the third.
    order_ids = _targets_file(bg_sim, tmp_path / "orders.jsonl", 1000)
    report = tmp_path / "report.json"
    proc = subprocess.Popen(
        command("cancel", "-f", str(tmp_path / "orders.jsonl"), "--report", str(report),
                "--json"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=bg_sim.env(),
    )  # fmt: skip
    try:
        _wait_for_requests(bg_sim, 3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    written = json.loads(report.read_text())
    assert json.loads(out) == written  # --json prints the same report
    assert "Ctrl-C again to quit now" in err
    outcomes = written["outcomes"]
    assert [o["orderId"] for o in outcomes] == order_ids  # every target, in order
    still_open = {o.order_id for o in bg_sim.call(bg_sim.sim.open_orders)}
    for outcome in outcomes:
        if outcome["status"] == "cancelled":
            assert outcome["orderId"] not in still_open
        if outcome["status"] == "not_sent":
            assert outcome["orderId"] in still_open
    cancelled = written["counts"]["cancelled"]
    assert cancelled == 1000 - len(still_open)
    # Nothing more was sent after the Ctrl-C: what was never sent is marked so.
    assert proc.returncode == 130
    assert written["interrupted"] is True
    assert written["counts"]["not_sent"] == len(still_open) > 0


def test_a_first_ctrl_c_during_a_panic_lets_it_finish_and_write_its_report(
    bg_sim: BackgroundSim, tmp_path: Path
) -> None:
    bg_sim.call(lambda: [bg_sim.sim.place_orders(f"C{i}USDT", 40) for i in range(30)])
    report = tmp_path / "panic.json"
    returncode, err = _interrupted_panic(bg_sim, report, lambda: _wait_for_requests(bg_sim, 3))

    assert returncode == 0, err
    assert "keeps going" in err
    written = json.loads(report.read_text())
    assert written["counts"]["cancelled"] == 1200
    assert written["accountEmpty"] is True
    assert bg_sim.open_orders() == 0


def test_a_second_ctrl_c_during_a_panic_writes_every_outcome_known_then(tmp_path: Path) -> None:
    """It wrote a report of 0 outcomes, though answered cancels had closed orders: a caller
    reading it would ask for them again, or think nothing was done."""
    bg = BackgroundSim(latency_ms=(300.0, 300.0), seed=2)
    try:
        bg.call(lambda: [bg.sim.place_orders(f"C{i}USDT", 100) for i in range(30)])
        report = tmp_path / "panic.json"

        def answered() -> None:
            # 200 orders closed on the simulator, and 10 requests more (a second at 10 a
            # second) for the answers of those cancels to come back.
            give_up = time.monotonic() + 60
            while bg.open_orders() > 3000 - 200:
                assert time.monotonic() < give_up, "the panic cancelled nothing"
                time.sleep(0.02)
            _wait_for_requests(bg, bg.requests_sent() + 10)

        returncode, err = _interrupted_panic(
            bg, report, lambda: _wait_for_requests(bg, 3), answered
        )
        assert returncode == 130, err
        assert "quitting now" in err
        written = json.loads(report.read_text())
        assert (written["interrupted"], written["allClosed"], written["accountEmpty"]) == (
            True, False, False,
        )  # fmt: skip
        outcomes = written["outcomes"]
        ids = [o["orderId"] for o in outcomes]
        assert len(ids) == len(set(ids))
        still_open = {o.order_id for o in bg.call(bg.sim.open_orders)}
        cancelled = [o["orderId"] for o in outcomes if o["status"] == "cancelled"]
        assert cancelled, "no answered cancel in the report"
        assert not still_open & set(cancelled)  # every "cancelled" is closed
        assert len(cancelled) <= 3000 - len(still_open)
        assert {o["status"] for o in outcomes} <= {"cancelled", "unresolved"}
        assert written["counts"]["cancelled"] == len(cancelled)
    finally:
        bg.close()
