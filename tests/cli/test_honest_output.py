"""What every command says on stderr: each distinct warning once (with a count), advice when
the exchange refuses the credentials, and a one-line verdict at the very end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .helpers import BackgroundSim, run_cli

ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} WARNING", re.MULTILINE)


def _file(bg: BackgroundSim, path: Path, orders: int) -> Path:
    placed = bg.call(lambda: bg.sim.place_orders("BTCUSDT", orders, "h"))
    path.write_text("symbol,orderId\n" + "".join(f"BTCUSDT,{o.order_id}\n" for o in placed))
    return path


def _last_line(stderr: str) -> str:
    return stderr.rstrip("\n").rpartition("\n")[2]


def test_refused_credentials_on_cancel_warn_once_each_and_say_what_to_check(
    bg_sim: BackgroundSim, tmp_path: Path
) -> None:
    targets = _file(bg_sim, tmp_path / "t.csv", 600)  # 12 requests' worth
    env = {**bg_sim.env(), "BITGET_PASSPHRASE": "wrong", "COLUMNS": "250"}

    result = run_cli("cancel", "-f", str(targets), "--json", env=env)

    assert result.returncode == 3
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    shown = [line.partition("WARNING")[2].strip() for line in warnings]
    assert len(shown) == len(set(shown)) >= 1  # each distinct warning once
    requests = bg_sim.requests_sent()
    assert requests > 1
    assert f"came {requests} times in all; shown once" in result.stderr
    assert "check the API key, secret and passphrase" in result.stderr
    assert ISO_TIME.search(result.stderr), result.stderr  # 2026-12-07, not 12/07/26
    assert _last_line(result.stderr) == (
        "verdict: the exchange refused the credentials: 600 targets not closed (exit 3)"
    )


def test_refused_credentials_on_panic_say_what_to_check(bg_sim: BackgroundSim) -> None:
    bg_sim.call(bg_sim.sim.place_orders, "BTCUSDT", 5)
    env = {**bg_sim.env(), "BITGET_PASSPHRASE": "wrong"}

    result = run_cli("panic", "--yes", env=env)

    assert result.returncode == 3
    assert "check the API key, secret and passphrase" in " ".join(result.stderr.split())
    assert _last_line(result.stderr).startswith("verdict: the exchange refused the credentials")


@pytest.mark.parametrize(
    ("args", "verdict"),
    [
        (("orders",), "verdict: complete listing: 60 open (exit 0)"),
        (("panic", "--yes"), "verdict: nothing left open in scope (exit 0)"),
        (("cancel", "-f", "FILE"), "verdict: all 60 targets closed (exit 0)"),
        (("cancel", "-f", "FILE", "--dry-run"), "verdict: dry run, nothing sent: 2 requests"),
    ],
)
def test_every_command_ends_with_a_one_line_verdict(
    bg_sim: BackgroundSim, tmp_path: Path, args: tuple[str, ...], verdict: str
) -> None:
    targets = _file(bg_sim, tmp_path / "t.csv", 60)
    argv = [str(targets) if arg == "FILE" else arg for arg in args]

    result = run_cli(*argv, env=bg_sim.env())

    assert result.returncode == 0, result.stderr
    assert _last_line(result.stderr).startswith(verdict)


def test_the_dry_run_counts_a_request_packed_across_symbols_once(tmp_path: Path) -> None:
    rows = "".join(f"{symbol},{i}\n" for i, symbol in enumerate(["BTCUSDT", "ETHUSDT"] * 3))
    (tmp_path / "t.csv").write_text("symbol,orderId\n" + rows)

    result = run_cli("cancel", "-f", str(tmp_path / "t.csv"), "--dry-run", "--json")
    table = run_cli("cancel", "-f", str(tmp_path / "t.csv"), "--dry-run")

    plan = json.loads(result.stdout)
    assert plan["requests"] == 1
    assert plan["packedRequests"] == 1
    assert [(s["requests"], s["inPackedRequests"]) for s in plan["symbols"]] == [(0, 1), (0, 1)]
    assert plan["requests"] == plan["packedRequests"] + sum(s["requests"] for s in plan["symbols"])
    assert "packed, several symbols │ │ 1" in " ".join(table.stdout.split())
    assert _last_line(table.stderr).startswith("verdict: dry run, nothing sent: 1 request would")


def test_the_listing_says_how_many_it_has_so_far() -> None:
    from .terminal import Terminal

    bg = BackgroundSim(latency_ms=(150.0, 250.0), seed=3)
    try:
        bg.call(bg.sim.place_orders, "BTCUSDT", 450)
        with Terminal("orders", "--kinds", "normal", env=bg.env()) as terminal:
            assert terminal.wait() == 0
    finally:
        bg.close()
    assert "listing open orders: 100 so far" in terminal.text
    assert "450 orders on 1 symbol" in " ".join(terminal.text.split())


def test_bad_input_and_an_unconfirmed_panic_end_with_a_verdict_too(bg_sim: BackgroundSim) -> None:
    empty = run_cli("cancel", "--file", "-", stdin="", env=bg_sim.env())
    unconfirmed = run_cli("panic", env=bg_sim.env(), stdin="")  # stdin is not a terminal

    assert (empty.returncode, unconfirmed.returncode) == (2, 2)
    for result in (empty, unconfirmed):
        assert _last_line(result.stderr) == "verdict: bad input: nothing was sent (exit 2)"
    assert bg_sim.requests_sent() == 0
