"""``bitget-cancel orders``: what is open, every kind, as a table, JSON or CSV; the CSV goes
back into ``cancel --file`` unchanged; an incomplete listing is loud and exits 4."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bitget_cancel.cli import main
from bitget_cancel.sim import SimKind

from .helpers import BackgroundSim, run_cli

V2 = "/api/v2/spot/trade/"


def _place_every_kind(bg: BackgroundSim) -> dict[str, list[tuple[str, str, str | None]]]:
    """Normal, TP/SL and plan orders on three symbols: kind -> [(symbol, orderId, clientOid)]."""

    def place() -> dict[str, list[tuple[str, str, str | None]]]:
        placed: dict[str, list[tuple[str, str, str | None]]] = {}
        layout: tuple[tuple[SimKind, int], ...] = (("normal", 12), ("tpsl", 3), ("plan", 4))
        for kind, per_symbol in layout:
            for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
                orders = bg.sim.place_orders(symbol, per_symbol, f"{kind}-{symbol}", kind=kind)
                placed.setdefault(kind, []).extend(
                    (o.symbol, o.order_id, o.client_oid) for o in orders
                )
        return placed

    return bg.call(place)


def test_the_table_shows_every_order_of_every_kind_with_ids_whole_and_totals(
    bg_sim: BackgroundSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    placed = _place_every_kind(bg_sim)
    monkeypatch.setenv("COLUMNS", "200")

    code = main(["orders"])

    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    for kind, orders in placed.items():
        for symbol, order_id, client_oid in orders:
            # One line carries the whole row: nothing wrapped onto the next line, nothing cut.
            row = [line for line in lines if order_id in line]
            assert len(row) == 1, order_id
            assert symbol in row[0]
            assert kind in row[0]
            assert client_oid is not None
            assert client_oid in row[0]
            assert " limit " in row[0]  # the details: type, side, price, size, age
            assert " buy " in row[0] or " sell " in row[0]
    header = next(line for line in lines if "orderId" in line)
    assert header.split("┃")[1:-1] == [
        f" {name} " for name in ("symbol", "kind", "side", "type", "price", "size", "filled",
                                 "age", "orderId", "clientOid")
    ] or [cell.strip() for cell in header.split("┃")[1:-1]] == [
        "symbol", "kind", "side", "type", "price", "size", "filled", "age", "orderId", "clientOid"
    ]  # fmt: skip
    totals = {line.split()[1]: line.split()[2:] for line in lines
              if line.startswith("│ ") and line.split()[1] in ("BTCUSDT", "total")
              and len(line.split()) == 11}  # fmt: skip
    assert totals["BTCUSDT"] == ["│", "12", "│", "3", "│", "4", "│", "19", "│"]
    assert totals["total"] == ["│", "36", "│", "9", "│", "12", "│", "57", "│"]
    assert "57 orders on 3 symbols: 36 normal, 9 tpsl, 12 plan" in " ".join(out.split())
    assert bg_sim.cancel_requests() == 0


@pytest.mark.parametrize("columns", [100, 80])
def test_on_a_narrow_terminal_other_columns_give_way_and_ids_stay_whole_on_one_line(
    bg_sim: BackgroundSim,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    columns: int,
) -> None:
    # clientOids of 43 characters: at 80 columns every row used to wrap.
    orders = bg_sim.call(
        lambda: bg_sim.sim.place_orders("BTCUSDT", 5, "my-strategy-client-order-id-000000042")
    )
    monkeypatch.setenv("COLUMNS", str(columns))

    assert main(["orders"]) == 0

    lines = capsys.readouterr().out.splitlines()
    for order in orders:
        (row,) = [line for line in lines if order.order_id in line]
        assert order.client_oid is not None
        assert order.client_oid in row
        assert len(row) <= columns  # fits: something else gave way


def test_too_narrow_for_the_ids_each_order_is_a_block_of_whole_lines(
    bg_sim: BackgroundSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = bg_sim.call(lambda: bg_sim.sim.place_orders("BTCUSDT", 3, "a-rather-long-client-id"))
    monkeypatch.setenv("COLUMNS", "40")

    assert main(["orders"]) == 0

    lines = capsys.readouterr().out.splitlines()
    for order in orders:
        assert f"orderId   {order.order_id}" in lines
        assert f"clientOid {order.client_oid}" in lines


def test_json_filters_by_symbol_and_kind_and_counts_them(
    bg_sim: BackgroundSim, capsys: pytest.CaptureFixture[str]
) -> None:
    placed = _place_every_kind(bg_sim)

    code = main(["orders", "--symbol", "ETH/USDT", "--symbol", "SOLUSDT",
                 "--kinds", "plan, normal", "--json"])  # fmt: skip

    listing = json.loads(capsys.readouterr().out)
    assert code == 0
    assert listing["complete"] is True
    assert listing["problems"] == []
    assert listing["kinds"] == ["normal", "plan"]
    assert listing["symbols"] == ["ETHUSDT", "SOLUSDT"]
    assert listing["count"] == 32
    assert listing["byKind"] == {"normal": 24, "plan": 8}
    assert listing["bySymbol"] == {"ETHUSDT": {"normal": 12, "plan": 4},
                                   "SOLUSDT": {"normal": 12, "plan": 4}}  # fmt: skip
    expected = {(s, i, c, kind) for kind in ("normal", "plan") for s, i, c in placed[kind]
                if s != "BTCUSDT"}  # fmt: skip
    got = {(o["symbol"], o["orderId"], o["clientOid"], o["kind"]) for o in listing["orders"]}
    assert got == expected
    stats = bg_sim.call(lambda: dict(bg_sim.sim.stats.requests))
    # One page per symbol of normal orders; TP/SL orders (listed on the same endpoint) were
    # not asked for. (And one read by the warm-up's account probe.)
    assert stats[V2 + "unfilled-orders"] == 2 + 1
    assert stats[V2 + "current-plan-order"] >= 2
    listed = stats[V2 + "unfilled-orders"] - 1 + stats[V2 + "current-plan-order"]
    assert listing["requests"] == listed


def test_the_csv_goes_back_into_cancel_file_and_closes_every_kind(
    bg_sim: BackgroundSim, tmp_path: Path
) -> None:
    placed = _place_every_kind(bg_sim)
    env = bg_sim.env()

    listed = run_cli("orders", "--csv", env=env)
    assert listed.returncode == 0, listed.stderr
    path = tmp_path / "open.csv"
    path.write_text(listed.stdout)
    cancelled = run_cli("cancel", "--file", str(path), "--json", env=env)

    assert cancelled.returncode == 0, cancelled.stderr
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    # The columns cancel --file reads first, then what the listing says of each order.
    assert list(rows[0]) == ["symbol", "orderId", "clientOid", "kind", "side", "orderType",
                             "price", "size", "filledSize", "created"]  # fmt: skip
    assert {r["side"] for r in rows} <= {"buy", "sell"}
    assert all(r["price"] and r["size"] and r["created"].endswith("Z") for r in rows)
    report = json.loads(cancelled.stdout)
    assert report["allClosed"] is True
    assert report["counts"]["cancelled"] == 57
    # The file was read back unchanged: one outcome per row, same ids, same kinds.
    assert [(o["symbol"], o["orderId"], o["clientOid"], o["kind"]) for o in report["outcomes"]] == [
        (r["symbol"], r["orderId"], r["clientOid"], r["kind"]) for r in rows
    ]
    assert {r["kind"] for r in rows} == {"normal", "tpsl", "plan"}
    assert bg_sim.open_orders() == 0
    stats = bg_sim.call(lambda: dict(bg_sim.sim.stats.requests))
    assert stats[V2 + "cancel-order"] == len(placed["tpsl"])  # TP/SL: one a request
    assert stats[V2 + "cancel-plan-order"] == len(placed["plan"])
    assert bg_sim.call(lambda: bg_sim.sim.stats.total_violations) == 0


def test_an_incomplete_listing_is_loud_and_exits_4(
    bg_sim: BackgroundSim, capsys: pytest.CaptureFixture[str]
) -> None:
    _place_every_kind(bg_sim)
    # One copy of the docs says current-plan-order needs a symbol: the whole-account listing of
    # plan orders is refused.
    bg_sim.call(setattr, bg_sim.sim, "plan_list_requires_symbol", True)

    table = main(["orders"])
    table_out = capsys.readouterr()
    as_json = main(["orders", "--json"])
    listing = json.loads(capsys.readouterr().out)
    per_symbol = main(["orders", "--symbol", "BTCUSDT", "--json"])
    complete = json.loads(capsys.readouterr().out)

    assert (table, as_json, per_symbol) == (4, 4, 0)
    err = " ".join(table_out.err.split())
    assert "INCOMPLETE LISTING: more orders may be open than shown" in err
    assert "plan orders" in err
    assert "45 orders on 3 symbols: 36 normal, 9 tpsl, 0 plan" in " ".join(table_out.out.split())
    assert listing["complete"] is False
    assert any(p.startswith("plan orders") for p in listing["problems"])
    assert listing["byKind"] == {"normal": 36, "tpsl": 9, "plan": 0}
    assert complete["complete"] is True
    assert complete["byKind"] == {"normal": 12, "tpsl": 3, "plan": 4}


def test_refused_credentials_exit_3_without_printing_them(
    bg_sim: BackgroundSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _place_every_kind(bg_sim)
    monkeypatch.setenv("BITGET_SECRET_KEY", "not-the-secret-do-not-print")

    code = main(["orders", "--csv"])

    captured = capsys.readouterr()
    assert code == 3
    assert "credentials refused" in captured.err
    assert captured.out == ""  # not even a header: an incomplete listing prints nothing
    assert "not-the-secret-do-not-print" not in captured.out + captured.err


@pytest.mark.parametrize(
    "argv", [["--kinds", "normal,stop"], ["--kinds", ","], ["--json", "--csv"]]
)
def test_bad_orders_arguments_exit_2_before_any_request(
    argv: list[str], bg_sim: BackgroundSim, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["orders", *argv]) == 2
    assert "error" in capsys.readouterr().err
    assert bg_sim.requests_sent() == 0


@pytest.mark.parametrize("account", ["classic", "uta"])
def test_json_carries_side_type_price_size_filled_and_time_from_either_api(
    account: str,
) -> None:
    bg = BackgroundSim(latency_ms=(1.0, 5.0), seed=3, account=account)
    try:
        placed = bg.call(lambda: bg.sim.place_orders("BTCUSDT", 4, "d"))
        result = run_cli("orders", "--kinds", "normal", "--json", env=bg.env())
    finally:
        bg.close()

    assert result.returncode == 0, result.stderr
    listed = {o["orderId"]: o for o in json.loads(result.stdout)["orders"]}
    for order in placed:
        row = listed[order.order_id]
        assert (row["side"], row["orderType"]) == (order.side, "limit")
        assert (row["price"], row["size"], row["filledSize"]) == (order.price, order.size, "0")
        assert row["createdTime"] == str(order.c_time)
