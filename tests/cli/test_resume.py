"""cancel --file REPORT.json: resume from a report this tool wrote, taking again exactly the
targets it did not close."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from .helpers import BackgroundSim, command, run_cli


def _targets(bg: BackgroundSim, path: Path, orders: int) -> None:
    placed = bg.call(lambda: bg.sim.place_orders("BTCUSDT", orders, "rs"))
    path.write_text("symbol,orderId,clientOid\n" + "".join(
        f"BTCUSDT,{o.order_id},{o.client_oid}\n" for o in placed
    ))  # fmt: skip


def test_an_interrupted_cancel_resumes_with_exactly_what_it_left(tmp_path: Path) -> None:
    # No 5-minute lockout: the resumed process may meet the interrupted one's last requests in
    # the same one-second window (two processes, no shared budget) and draw a 429.
    bg = BackgroundSim(latency_ms=(200.0, 400.0), seed=4, penalty_s=0)
    try:
        _targets(bg, tmp_path / "t.csv", 1500)
        first = tmp_path / "first.json"
        proc = subprocess.Popen(
            command("cancel", "-f", str(tmp_path / "t.csv"), "--report", str(first)),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=bg.env(),
        )  # fmt: skip
        while bg.requests_sent() < 3:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=90)
        assert proc.returncode == 130
        written = json.loads(first.read_text())
        left = {
            o["clientOid"]
            for o in written["outcomes"]
            if o["status"] not in ("cancelled", "not_open")
        }
        assert left, "the interruption left nothing: the test did not test"

        second = tmp_path / "second.json"
        result = run_cli("cancel", "-f", str(first), "--report", str(second), env=bg.env())

        assert result.returncode == 0, result.stderr
        said = " ".join(result.stderr.split())
        assert f"{len(left)} of 1500 targets taken again" in said
        resumed = json.loads(second.read_text())
        assert {o["clientOid"] for o in resumed["outcomes"]} == left
        assert resumed["counts"]["cancelled"] == len(left)
        assert bg.open_orders() == 0
    finally:
        bg.close()


def test_failed_for_refused_credentials_is_taken_again_once_the_key_is_right(
    bg_sim: BackgroundSim, tmp_path: Path
) -> None:
    _targets(bg_sim, tmp_path / "t.csv", 120)
    first = tmp_path / "first.json"
    wrong = {**bg_sim.env(), "BITGET_PASSPHRASE": "not-the-passphrase"}
    refused = run_cli("cancel", "-f", str(tmp_path / "t.csv"), "--report", str(first), env=wrong)
    assert refused.returncode == 3
    assert json.loads(first.read_text())["counts"]["failed"] == 120

    result = run_cli("cancel", "-f", str(first), "--json", env=bg_sim.env())

    assert result.returncode == 0, result.stderr
    assert "120 of 120 targets taken again (120 failed)" in " ".join(result.stderr.split())
    assert json.loads(result.stdout)["counts"]["cancelled"] == 120
    assert bg_sim.open_orders() == 0


def test_only_what_is_not_closed_and_can_change_is_taken(tmp_path: Path) -> None:
    def outcome(i: int, status: str, code: str | None = None, msg: str | None = None) -> dict:  # type: ignore[type-arg]
        return {"symbol": "BTCUSDT", "orderId": str(1000 + i), "clientOid": None,
                "kind": "normal", "status": status, "errorCode": code, "errorMsg": msg,
                "attempts": 1}  # fmt: skip

    report = {
        "allClosed": False,
        "outcomes": [
            outcome(0, "cancelled"),
            outcome(1, "not_open", "43001"),
            outcome(2, "failed", "40034", "Parameter error"),  # the same answer again
            outcome(3, "failed", "40099", "demo trading key"),  # fixed by --demo-trading
            outcome(4, "failed", None, "invalid key (not sent: credentials refused)"),
            outcome(5, "unresolved"),
            outcome(6, "not_sent"),
        ],
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))

    result = run_cli("cancel", "-f", str(path), "--dry-run", "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["orders"] == 4
    said = " ".join(result.stderr.split())
    assert "4 of 7 targets taken again (2 failed, 1 not_sent, 1 unresolved)" in said
    assert "left as they were: 1 cancelled, 1 failed, 1 not_open" in said


def test_a_report_that_closed_everything_resumes_nothing(
    bg_sim: BackgroundSim, tmp_path: Path
) -> None:
    _targets(bg_sim, tmp_path / "t.csv", 60)
    done = tmp_path / "done.json"
    env = bg_sim.env()
    assert (
        run_cli("cancel", "-f", str(tmp_path / "t.csv"), "--report", str(done), env=env).returncode
        == 0
    )
    before = bg_sim.requests_sent()

    result = run_cli("cancel", "-f", str(done), env=env)

    assert result.returncode == 0
    assert "nothing to resume" in result.stderr
    assert bg_sim.requests_sent() == before
