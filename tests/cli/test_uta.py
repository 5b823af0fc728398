"""The commands on a unified trading account (the v3 API), learnt with ``--account auto`` (the
default) or told with ``--account uta`` / ``BITGET_ACCOUNT=uta``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bitget_cancel.cli import main

from .helpers import BackgroundSim, run_cli

V2 = "/api/v2/"


@pytest.fixture
def uta_sim(bg_sim: BackgroundSim) -> BackgroundSim:
    """The simulator as a unified account: 150 normal and 6 TP/SL orders on three symbols."""

    def place() -> None:
        bg_sim.sim.account = "uta"
        for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
            bg_sim.sim.place_orders(symbol, 50, f"u-{symbol}")
            bg_sim.sim.place_orders(symbol, 2, f"t-{symbol}", kind="tpsl")

    bg_sim.call(place)
    return bg_sim


def _v2_trade_requests(bg: BackgroundSim) -> int:
    return bg.call(lambda: sum(n for p, n in bg.sim.stats.requests.items()
                               if p.startswith(V2) and "/trade/" in p))  # fmt: skip


def test_orders_learns_the_account_and_its_csv_closes_every_order(
    uta_sim: BackgroundSim, tmp_path: Path
) -> None:
    env = uta_sim.env()

    listed = run_cli("orders", "--kinds", "normal,tpsl", "--csv", env=env)
    v2_while_listing = _v2_trade_requests(uta_sim)
    path = tmp_path / "open.csv"
    path.write_text(listed.stdout)
    cancelled = run_cli("cancel", "--file", str(path), "--json", env=env)

    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 1 + 156
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["counts"]["cancelled"] == 156
    assert uta_sim.open_orders() == 0
    # warm_up's probe told the type (its one v2 read answered 40085): the listing never
    # asked the classic API (the cancel learns it from the first 40085 answers and sends the
    # rest to v3).
    assert v2_while_listing == 1
    assert uta_sim.call(lambda: uta_sim.sim.stats.total_violations) == 0


@pytest.mark.parametrize("how", ["flag", "env"])
def test_panic_told_uta_closes_the_kinds_a_unified_account_lists(
    how: str,
    uta_sim: BackgroundSim,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flag = ["--account", "uta"] if how == "flag" else []
    if how == "env":
        monkeypatch.setenv("BITGET_ACCOUNT", "uta")

    code = main(["panic", "--yes", "--kinds", "normal,tpsl", *flag])

    out = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert "unified (v3 API)" in out
    assert uta_sim.open_orders() == 0
    assert _v2_trade_requests(uta_sim) == 0


def test_plan_orders_are_unconfirmed_on_a_unified_account_never_empty(
    uta_sim: BackgroundSim, capsys: pytest.CaptureFixture[str]
) -> None:
    # No UTA endpoint lists spot trigger orders: asked for every kind, the listing says so.
    code = main(["orders", "--json"])

    listing = json.loads(capsys.readouterr().out)
    assert code == 4
    assert listing["account"] == "uta"
    assert listing["byKind"] == {"normal": 150, "tpsl": 6, "plan": 0}
    assert listing["problems"] == ["plan orders: not listable on a uta account"]
