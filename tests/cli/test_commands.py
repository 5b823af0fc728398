"""The ``bitget-cancel`` commands against the simulator over real sockets.

``main()`` runs its own ``asyncio.run``, so these tests are synchronous: the simulator serves
from a background thread with its own loop, and the command runs in-process through the entry
point, or as ``python -m bitget_cancel`` in a real process, as a user would.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from bitget_cancel.cli import main

from .helpers import PASSPHRASE, SECRET, BackgroundSim


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


def test_cancel_exits_3_when_the_exchange_refuses_the_credentials_and_never_prints_them(
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
    assert code == 3
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
         ' "orderId": 1200000000000000001}]', ":2:", "item 1: orderId must be a string"),
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
    err = " ".join(captured.err.split())
    assert code == expected
    assert "This cancels 5 orders on 1 symbol: 5 normal, 0 tpsl, 0 plan" in err
    assert "Type 'yes'" in err
    if expected == 0:
        assert json.loads(captured.out)["counts"]["cancelled"] == 5
    else:
        assert captured.out == ""
        assert "no cancel was sent" in err
        assert bg_sim.cancel_requests() == 0  # the listing only read
        assert bg_sim.open_orders() == 5


def test_demo_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--orders", "150", "--symbols", "6", "--latency-ms", "1-5", "--seed", "2"])

    out = capsys.readouterr().out
    assert code == 0
    for word in ("cancelled", "not_open", "rate-limit bound", "rule violations", "duplicates"):
        assert word in out


# -- --report, --json, --dry-run ---------------------------------------------------------------


def test_cancel_writes_the_report_file_and_prints_the_same_json(
    bg_sim: BackgroundSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, unknown = _place(bg_sim)
    path = tmp_path / "orders.csv"
    _write(path, "csv", rows + unknown)
    report_path = tmp_path / "out" / "report.json"
    report_path.parent.mkdir()
    report_path.write_text("an older report")

    code = main(["cancel", "-f", str(path), "--json", "--report", str(report_path),
                 "--base-url", bg_sim.url])  # fmt: skip

    printed = json.loads(capsys.readouterr().out)
    written = json.loads(report_path.read_text())
    assert code == 0
    assert written == printed
    assert written["counts"] == {"cancelled": 90, "not_open": 2, "failed": 0, "unresolved": 0}
    assert [o["orderId"] for o in written["outcomes"][:3]] == [r.get("orderId") for r in rows[:3]]
    assert sorted(p.name for p in report_path.parent.iterdir()) == ["report.json"]  # no temp
    assert bg_sim.open_orders() == 0


def test_panic_writes_the_report_file_beside_the_tables(
    bg_sim: BackgroundSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bg_sim.call(
        lambda: (bg_sim.sim.place_orders("BTCUSDT", 12), bg_sim.sim.place_orders("ETHUSDT", 3))
    )
    # A path longer than the terminal is wide is still printed on one line (it was cut).
    folder = tmp_path / ("a-folder-with-a-long-name-" * 4)
    folder.mkdir()
    report_path = folder / "panic.json"

    code = main(["panic", "-y", "--report", str(report_path), "--base-url", bg_sim.url])

    captured = capsys.readouterr()
    written = json.loads(report_path.read_text())
    assert code == 0
    assert written["counts"]["cancelled"] == 15
    assert written["accountEmpty"] is True
    assert "passes" in captured.out  # the human summary still prints
    assert f"report written to {report_path}" in captured.err.splitlines()
    assert bg_sim.open_orders() == 0


def test_a_report_path_that_cannot_be_written_is_bad_input_before_anything_is_sent(
    bg_sim: BackgroundSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, _ = _place(bg_sim)
    path = tmp_path / "orders.csv"
    _write(path, "csv", rows)
    missing = tmp_path / "no-such-folder" / "report.json"

    cancel = main(["cancel", "-f", str(path), "--report", str(missing), "--base-url", bg_sim.url])
    panic = main(["panic", "-y", "--report", str(missing), "--base-url", bg_sim.url])
    folder = main(["cancel", "-f", str(path), "--report", str(tmp_path), "--base-url", bg_sim.url])

    err = capsys.readouterr().err
    assert (cancel, panic, folder) == (2, 2, 2)
    assert "no-such-folder" in err
    assert "is a directory" in err
    assert bg_sim.requests_sent() == 0
    assert bg_sim.open_orders() == 90


def test_dry_run_shows_the_plan_sends_nothing_and_needs_no_credentials(
    bg_sim: BackgroundSim,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 150 by orderId (120 on BTCUSDT, 30 on ETHUSDT): 3 requests, the last carrying both
    # symbols; 20 by clientOid on SOLUSDT: 1 request; and 10 duplicates.
    rows = [{"symbol": "BTCUSDT", "orderId": str(10**18 + i)} for i in range(120)]
    rows += [{"symbol": "ETH/USDT", "orderId": str(2 * 10**18 + i)} for i in range(30)]
    rows += [{"symbol": "SOLUSDT", "clientOid": f"c-{i}"} for i in range(20)]
    path = tmp_path / "orders.jsonl"
    _write(path, "jsonl", rows + rows[:10])
    for name in ("BITGET_API_KEY", "BITGET_SECRET_KEY", "BITGET_PASSPHRASE"):
        monkeypatch.delenv(name)

    as_json = main(["cancel", "-f", str(path), "--dry-run", "--json", "--base-url", bg_sim.url])
    plan = json.loads(capsys.readouterr().out)
    human = main(["cancel", "-f", str(path), "--dry-run", "--mode", "multiple"])
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())

    assert (as_json, human) == (0, 0)
    assert (plan["targets"], plan["orders"], plan["requests"]) == (180, 170, 4)
    # The request packed across BTCUSDT and ETHUSDT is counted once, under neither symbol.
    assert {s["symbol"]: (s["orders"], s["requests"], s["inPackedRequests"])
            for s in plan["symbols"]} == {
        "BTCUSDT": (120, 2, 1), "ETHUSDT": (30, 0, 1), "SOLUSDT": (20, 1, 0)
    }  # fmt: skip
    assert plan["packedRequests"] == 1
    assert sorted(b["orders"] for b in plan["batches"]) == [20, 50, 50, 50]
    assert [b["byOrderId"] for b in plan["batches"]].count(False) == 1
    assert "nothing was sent" in out
    assert "180 (10 duplicates)" in out
    assert "mode multiple" in out
    assert bg_sim.requests_sent() == 0


def test_targets_written_the_ccxt_way_are_cancelled_on_the_exchange_symbol(
    bg_sim: BackgroundSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = bg_sim.call(lambda: bg_sim.sim.place_orders("BTCUSDT", 8, "ccxt"))
    # As ccxt's fetch_open_orders returns them: unified symbol, id, clientOrderId, and more.
    ccxt_orders = [
        {
            "id": o.order_id,
            "clientOrderId": o.client_oid,
            "symbol": "BTC/USDT",
            "price": 1.5,
            "info": {"orderId": o.order_id},
        }
        for o in orders[:4]
    ] + [{"id": None, "clientOrderId": o.client_oid, "symbol": "BTC/USDT"} for o in orders[4:]]
    path = tmp_path / "ccxt.json"
    path.write_text(json.dumps(ccxt_orders))

    code = main(["cancel", "-f", str(path), "--json", "--base-url", bg_sim.url])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["counts"]["cancelled"] == 8
    assert {o["symbol"] for o in report["outcomes"]} == {"BTCUSDT"}
    assert bg_sim.open_orders() == 0


def test_panic_takes_a_ccxt_symbol_and_refuses_one_that_cannot_exist(
    bg_sim: BackgroundSim, capsys: pytest.CaptureFixture[str]
) -> None:
    bg_sim.call(
        lambda: (bg_sim.sim.place_orders("BTCUSDT", 5), bg_sim.sim.place_orders("ETHUSDT", 4))
    )

    impossible = main(["panic", "-y", "--symbol", "BTC-USDT", "--base-url", bg_sim.url])
    assert "'BTC-USDT' is not a spot symbol name" in capsys.readouterr().err
    assert bg_sim.requests_sent() == 0
    ccxt = main(["panic", "-y", "--symbol", "btc/usdt", "--base-url", bg_sim.url])

    assert (impossible, ccxt) == (2, 0)
    left = bg_sim.call(bg_sim.sim.open_orders)
    assert {o.symbol for o in left} == {"ETHUSDT"}
    assert len(left) == 4


@pytest.mark.parametrize(
    ("level", "shown", "hidden"),
    [
        ("debug", ["batch-cancel-order n="], []),
        ("error", [], ["batch-cancel-order n=", "batch-cancel-order refused"]),
        ("warning", ["batch-cancel-order refused"], ["batch-cancel-order n="]),
    ],
)
def test_log_level_sets_what_is_logged_on_stderr(
    level: str,
    shown: list[str],
    hidden: list[str],
    bg_sim: BackgroundSim,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows, _ = _place(bg_sim)
    path = tmp_path / "orders.csv"
    _write(path, "csv", rows[:5])
    monkeypatch.setenv("BITGET_SECRET_KEY", "wrong")  # refused: a warning is logged

    # -vv would say debug: --log-level wins.
    main(["-vv", "cancel", "-f", str(path), "--base-url", bg_sim.url, "--log-level", level])

    err = " ".join(capsys.readouterr().err.split())
    for text in shown:
        assert text in err
    for text in hidden:
        assert text not in err
