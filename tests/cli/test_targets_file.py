"""Targets files: every format and spelling read the same; every mistake named where it is."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from rich.console import Console

from bitget_cancel import CancelTarget, OrderKind
from bitget_cancel.cli import commands, targets_file
from bitget_cancel.cli.targets_file import (
    TargetFileError,
    load_targets,
    parse_targets,
    sniff,
)

EXPECTED = [
    CancelTarget(symbol="BTCUSDT", order_id="1200000000000000001"),
    CancelTarget(symbol="ETHUSDT", client_oid="my-7"),
    CancelTarget(symbol="SOLUSDT", order_id="1200000000000000003", client_oid="my-8"),
]
ROWS = [
    {"symbol": "BTCUSDT", "orderId": "1200000000000000001", "clientOid": ""},
    {"symbol": "ETHUSDT", "orderId": "", "clientOid": "my-7"},
    {"symbol": "SOLUSDT", "orderId": "1200000000000000003", "clientOid": "my-8"},
]
CSV = "symbol,orderId,clientOid\n" + "".join(
    f"{r['symbol']},{r['orderId']},{r['clientOid']}\n" for r in ROWS
)


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("csv", CSV),
        ("csv", "\ufeff" + CSV.replace("\n", "\r\n")),  # a BOM and CRLF, as spreadsheets write
        ("json", json.dumps(ROWS, indent=2)),
        ("json", json.dumps([{k: v or None for k, v in r.items()} for r in ROWS])),
        ("jsonl", "".join(json.dumps(r) + "\n" for r in ROWS)),
        ("jsonl", "\n" + "\n\n".join(json.dumps(r) for r in ROWS)),  # blank lines, no final \n
    ],
)
def test_each_format_reads_the_same_targets(fmt: targets_file.Format, text: str) -> None:
    assert parse_targets(text, fmt) == EXPECTED


@pytest.mark.parametrize(
    "keys",
    [
        ("symbol", "orderId", "clientOid"),
        ("Symbol", "order_id", "client_oid"),
        ("SYMBOL", "ORDER-ID", "clientOId"),  # Bitget's own spelling
        ("symbol", "id", "clientOrderId"),  # ccxt's
    ],
)
def test_keys_are_matched_without_regard_to_case_underscores_or_dashes(
    keys: tuple[str, str, str],
) -> None:
    symbol, order_id, client_oid = keys
    rows = [{symbol: r["symbol"], order_id: r["orderId"], client_oid: r["clientOid"]}
            for r in ROWS]  # fmt: skip
    header = ",".join(keys) + "\n"
    body = "".join(f"{r['symbol']},{r['orderId']},{r['clientOid']}\n" for r in ROWS)

    assert parse_targets(json.dumps(rows), "json") == EXPECTED
    assert parse_targets(header + body, "csv") == EXPECTED


def test_ccxt_symbols_become_exchange_symbols_and_other_keys_are_ignored() -> None:
    ccxt_orders = [
        {"id": "11", "clientOrderId": None, "symbol": "BTC/USDT", "price": 2.5, "amount": 1,
         "info": {"symbol": "BTCUSDT"}, "status": "open"},
        {"id": None, "clientOrderId": "c-2", "symbol": "1INCH/USDC", "side": "buy"},
    ]  # fmt: skip
    assert parse_targets(json.dumps(ccxt_orders), "json") == [
        CancelTarget(symbol="BTCUSDT", order_id="11"),
        CancelTarget(symbol="1INCHUSDC", client_oid="c-2"),
    ]


@pytest.mark.parametrize(
    ("fmt", "text", "where", "what"),
    [
        ("csv", "symbol,orderId\nBTCUSDT,1\nBTCUSDT,\n", ":3:", "needs an order_id".replace(
            "order_id", "orderId")),
        ("csv", "sym,id\nBTCUSDT,1\n", ":1:", "must name a symbol column"),
        ("csv", "symbol,orderId,id\nBTCUSDT,1,1\n", ":1:", "two columns name orderId"),
        ("csv", "symbol,orderId\nBTCUSDT,1,2\n", ":2:", "3 fields but the header names 2"),
        ("csv", 'symbol,orderId\nBTCUSDT,"1\n', ":2:", "not valid CSV"),
        ("csv", "symbol,orderId\nBTC-USDT,1\n", ":2:", "not a spot symbol"),
        ("csv", "symbol,orderId\nBTC/USDT:USDT,1\n", ":2:", "derivatives"),
        ("csv", "symbol,orderId\n,1\n", ":2:", "symbol is missing"),
        ("csv", "symbol,orderId\nBTCUSDT, 1 \nBTC USDT,2\n", ":3:", "not a spot symbol"),
        ("json", '[\n {"symbol": "BTCUSDT", "orderId": "1"},\n {"symbol": }\n]', ":3:",
         "not valid JSON: Expecting value (column 13)"),
        ("json", '[{"symbol": "BTCUSDT", "orderId": "1"},', ":1:", "not valid JSON"),
        ("json", '[{"symbol": "BTCUSDT", "orderId": "1"}] []', ":1:", "not valid JSON"),
        ("json", '{"symbol": "BTCUSDT"}', ":1:", "expected a JSON array"),
        ("json", '[\n{"symbol": "A1", "orderId": "1"},\n\n  7]', ":4:",
         "item 1: expected an object"),
        ("json", '[{"symbol": "A1", "orderId": "1"},\n {"symbol": "A1",\n "orderId": 12}]', ":2:",
         "item 1: orderId must be a string, got number 12 (quote ids"),
        ("json", '[{"symbol": "A1", "orderId": "1", "id": "1"}]', ":1:",
         "item 0: orderId given twice"),
        ("json", '[{"symbol": "A1", "orderId": "1"}, {"symbol": "A1", "orderId": " 2"}]', ":1:",
         "item 1: orderId must not be blank or padded"),
        ("jsonl", '{"symbol": "BTCUSDT", "orderId": "1"}\n\n{"symbol": "BTCUSDT"\n', ":3:",
         "not valid JSON"),
        ("jsonl", '{"symbol": "BTCUSDT", "orderId": "1"}\n["BTCUSDT", "2"]\n', ":2:",
         "expected an object"),
        ("jsonl", '{"symbol": "BTCUSDT", "orderId": "1"}\n{"symbol": "X", "orderId": true}\n',
         ":2:", "orderId must be a string, got bool True"),
    ],
)  # fmt: skip
def test_a_bad_entry_is_named_by_line_and_the_whole_file_is_refused(
    fmt: targets_file.Format, text: str, where: str, what: str
) -> None:
    with pytest.raises(TargetFileError) as caught:
        parse_targets(text, fmt, "orders")
    message = str(caught.value)
    assert message.startswith(f"orders{where} ")
    assert what in message


def test_a_file_that_is_not_utf8_is_named_by_line() -> None:
    data = b"symbol,orderId\nBTCUSDT,1\nBTCUSDT,\xff\n"
    for fmt in ("csv", "jsonl"):
        raw = data if fmt == "csv" else b'{"symbol": "A1", "orderId": "1"}\n{"symbol": "\xff"}\n'
        with pytest.raises(TargetFileError, match=r"^orders:\d: not UTF-8") as caught:
            parse_targets(raw, fmt, "orders")
        assert caught.value.line == (3 if fmt == "csv" else 2)


def test_a_kind_column_names_the_kind_of_each_order() -> None:
    text = "symbol,orderId,kind\nBTCUSDT,1,\nBTCUSDT,2,tpsl\nBTCUSDT,3,plan\n"
    kinds = [t.kind for t in parse_targets(text, "csv")]
    assert kinds == [OrderKind.NORMAL, OrderKind.TPSL, OrderKind.PLAN]  # empty: a normal order
    with pytest.raises(TargetFileError, match=r"orders:3: kind must be one of normal, tpsl, plan"):
        parse_targets("symbol,orderId,kind\nBTCUSDT,1,\nBTCUSDT,2,trigger\n", "csv", "orders")


def test_empty_files_hold_no_targets() -> None:
    for fmt in ("csv", "json", "jsonl"):
        assert parse_targets("", fmt) == []
        assert parse_targets(" \n", fmt) == []
    assert parse_targets("[]", "json") == []
    assert parse_targets("symbol,orderId\n", "csv") == []


@pytest.mark.parametrize(
    ("text", "fmt"),
    [("[{}]", "json"), ('\ufeff \n[{"a": 1}]', "json"), ('{"a": 1}\n', "jsonl"),
     ("symbol,orderId\n", "csv"), ("", "csv")],
)  # fmt: skip
def test_the_format_is_sniffed_from_the_first_character(text: str, fmt: str) -> None:
    assert sniff(text.encode()) == fmt


def test_load_reads_by_extension_then_by_content_and_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.ndjson").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    (tmp_path / "a.txt").write_text(json.dumps(ROWS))
    assert load_targets(str(tmp_path / "a.ndjson")) == EXPECTED
    assert load_targets(str(tmp_path / "a.txt")) == EXPECTED
    monkeypatch.setattr(sys, "stdin", io.StringIO(CSV))
    assert load_targets("-") == EXPECTED
    with pytest.raises(TargetFileError, match=r"nope\.csv: cannot read: No such file"):
        load_targets(str(tmp_path / "nope.csv"))


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_progress_knows_its_total_from_the_first_call_and_ends_at_it(
    fmt: targets_file.Format, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(targets_file, "PROGRESS_EVERY", 10)
    rows = [{"symbol": "BTCUSDT", "orderId": str(i + 1)} for i in range(95)]
    text = {
        "csv": "symbol,orderId\n" + "".join(f"{r['symbol']},{r['orderId']}\n" for r in rows),
        "json": json.dumps(rows),
        "jsonl": "".join(json.dumps(r) + "\n" for r in rows),
    }[fmt]
    calls: list[tuple[int, int]] = []

    targets = parse_targets(text, fmt, progress=lambda done, total: calls.append((done, total)))

    assert len(targets) == 95
    assert calls[0][0] == 0
    assert calls[0][1] >= 95  # the total (or a bound on it) before the first row
    assert calls[-1] == (95, 95)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(calls) >= 10


def test_a_big_file_shows_a_loading_bar_that_ends_at_its_row_count(tmp_path: Path) -> None:
    rows = [{"symbol": "BTCUSDT", "orderId": str(10**18 + i)} for i in range(30_000)]
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert path.stat().st_size > commands.LOADING_BAR_BYTES
    screen = io.StringIO()
    err = Console(file=screen, force_terminal=True, width=100, color_system=None)

    targets = commands.load_targets(str(path), None, err, show=True)

    assert len(targets) == 30_000
    shown = screen.getvalue()
    assert "loading big.jsonl" in shown
    assert "30000/30000" in shown
    assert "/?" not in shown  # the total is known whenever a count is shown


def test_a_small_file_or_json_output_shows_no_loading_bar(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    path.write_text(CSV)
    screen = io.StringIO()
    err = Console(file=screen, force_terminal=True, width=100)

    assert commands.load_targets(str(path), None, err, show=True) == EXPECTED
    assert screen.getvalue() == ""


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        (
            "csv",
            "symbol,orderId,tpslType,triggerPrice,planType\n"
            "BTCUSDT,1,normal,,\nBTCUSDT,2,tpsl,1900,\nBTCUSDT,3,,2000,amount\nBTCUSDT,4,,,\n",
        ),
        (
            "json",
            json.dumps(
                [  # ccxt orders, as exported
                    {"symbol": "BTC/USDT", "id": "1", "triggerPrice": None, "info": {}},
                    {"symbol": "BTC/USDT", "id": "2", "info": {"tpslType": "tpsl"}},
                    {"symbol": "BTC/USDT", "id": "3", "triggerPrice": 2000.0, "info": {}},
                    {"symbol": "BTC/USDT", "id": "4", "stopPrice": 0},
                ]
            ),
        ),
    ],
)
def test_without_a_kind_a_row_says_its_kind_by_the_rule_of_from_ccxt(fmt: str, text: str) -> None:
    """Issue 19, repro 1: a file of TP/SL and plan orders without a kind column (or a ccxt
    export carrying ``info.tpslType``/``triggerPrice``) was read as normal orders: every cancel
    answered "does not exist" and the command exited 0 with all of them still armed."""
    targets = parse_targets(text, fmt)  # type: ignore[arg-type]
    assert [t.kind for t in targets] == [OrderKind.NORMAL, OrderKind.TPSL, OrderKind.PLAN,
                                         OrderKind.NORMAL]  # fmt: skip
    with_kind = parse_targets("symbol,orderId,kind,triggerPrice\nBTCUSDT,1,normal,5\n", "csv")
    assert with_kind[0].kind is OrderKind.NORMAL  # a kind column wins
