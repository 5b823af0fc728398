"""``cancel`` confirms every "does not exist" (issue 19): a file that names the wrong kind or
the wrong symbol never ends in an all-clear with the orders still armed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bitget_cancel.cli import main

from .helpers import BackgroundSim


def _stops(bg: BackgroundSim) -> list[tuple[str, str]]:
    def place() -> list[tuple[str, str]]:
        placed = []
        for symbol in ("BTCUSDT", "ETHUSDT"):
            for kind in ("tpsl", "plan"):
                placed += [
                    (o.symbol, o.order_id) for o in bg.sim.place_orders(symbol, 4, kind=kind)
                ]
        return placed

    return bg.call(place)


def test_a_file_without_kinds_cancels_tpsl_and_plan_orders_where_they_are(
    bg_sim: BackgroundSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Repro 1: ``orders --kinds tpsl,plan --csv | cut -d, -f1-3 > stops.csv`` then
    ``cancel --file stops.csv`` exited 0 ("every target is closed") with all 16 still armed."""
    placed = _stops(bg_sim)
    assert main(["orders", "--kinds", "tpsl,plan", "--csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    stops = tmp_path / "stops.csv"
    stops.write_text("\n".join(",".join(row.split(",")[:3]) for row in rows) + "\n")
    assert stops.read_text().splitlines()[0] == "symbol,orderId,clientOid"

    code = main(["cancel", "--file", str(stops), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["counts"]["cancelled"] == len(placed) == 16
    assert bg_sim.open_orders() == 0
    kinds = {(o["orderId"], o["foundAs"]["kind"]) for o in report["outcomes"]}
    assert {k for _, k in kinds} == {"tpsl", "plan"}
    assert all("named the wrong kind" in o["errorMsg"] for o in report["outcomes"])


def test_an_order_id_under_another_symbol_is_cancelled_on_its_own(
    bg_sim: BackgroundSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Repro 2: ``BTCUSDT,<an ETHUSDT orderId>`` was not_open, all_closed, exit 0, the order
    open. Confirmed, it is cancelled on ETHUSDT; unconfirmed (--no-confirm), it stays open and
    the report says not_open, as the README says that option means."""
    eth = bg_sim.call(lambda: [o.order_id for o in bg_sim.sim.place_orders("ETHUSDT", 2)])
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(f"symbol,orderId\nBTCUSDT,{eth[0]}\n")

    assert main(["cancel", "--file", str(wrong), "--json", "--no-confirm"]) == 0
    unconfirmed = json.loads(capsys.readouterr().out)
    assert unconfirmed["counts"]["not_open"] == 1
    assert bg_sim.call(lambda: bg_sim.sim.is_open(eth[0]))

    code = main(["cancel", "--file", str(wrong), "--json"])

    report = json.loads(capsys.readouterr().out)
    (outcome,) = report["outcomes"]
    assert code == 0
    assert outcome["status"] == "cancelled"
    assert outcome["foundAs"] == {"symbol": "ETHUSDT", "orderId": eth[0], "clientOid": None,
                                  "kind": "normal"}  # fmt: skip
    assert "named the wrong symbol" in outcome["errorMsg"]
    assert not bg_sim.call(lambda: bg_sim.sim.is_open(eth[0]))
    assert bg_sim.call(lambda: bg_sim.sim.is_open(eth[1]))  # nothing else touched
