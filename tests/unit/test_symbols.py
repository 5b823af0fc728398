"""Symbols: one rule for targets, panic scopes and files. Only names that can exist are sent;
ccxt's BASE/QUOTE and lower case are converted to the exchange's spelling."""

from __future__ import annotations

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelTarget,
    Credentials,
    InvalidSymbol,
    InvalidTarget,
    OrderKind,
    normalize_symbol,
)
from bitget_cancel.cli.symbols import SymbolError, exchange_symbol


@pytest.mark.parametrize(
    ("given", "sent"),
    [("BTCUSDT", "BTCUSDT"), ("BTC/USDT", "BTCUSDT"), ("1INCH/USDC", "1INCHUSDC"),
     ("ETHBTC", "ETHBTC"), ("btcusdt", "BTCUSDT"), ("btc/usdt", "BTCUSDT")],
)  # fmt: skip
def test_exchange_names_pass_and_other_spellings_are_converted(given: str, sent: str) -> None:
    assert normalize_symbol(given) == sent
    assert exchange_symbol(given) == sent
    assert CancelTarget(symbol=given, order_id="1").symbol == sent


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("BTC/USDT:USDT", "derivatives"),
        ("BTC/", "not BASE/QUOTE"),
        ("/USDT", "not BASE/QUOTE"),
        ("A/B/C", "not BASE/QUOTE"),
        ("BTC-USDT", "not a spot symbol"),
        ("BTCUSDT_SPBL", "not a spot symbol"),
        (" BTCUSDT", "without whitespace"),
        ("", "non-empty"),
    ],
)
def test_names_that_cannot_exist_are_refused_before_any_request(given: str, says: str) -> None:
    with pytest.raises(InvalidSymbol, match=says):
        normalize_symbol(given)
    with pytest.raises(InvalidSymbol, match=says):
        CancelTarget(symbol=given, order_id="1")
    with pytest.raises(SymbolError, match=says):
        exchange_symbol(given)


async def test_a_panic_scope_follows_the_same_rule() -> None:
    engine = CancelEngine(Credentials(api_key="k", secret_key="s", passphrase="p"))
    with pytest.raises(InvalidSymbol, match="BTC-USDT"):
        await engine.panic_cancel(["BTC-USDT"])
    await engine.close()


def test_a_target_pickled_in_another_process_hashes_as_a_fresh_one() -> None:
    import pickle
    import subprocess
    import sys

    code = (
        "import pickle, sys; from bitget_cancel import CancelTarget;"
        "sys.stdout.buffer.write(pickle.dumps(CancelTarget(symbol='BTCUSDT', order_id='7',"
        " client_oid='c', kind='tpsl')))"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}
    blob = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, env=env)
    loaded = pickle.loads(blob.stdout)
    fresh = CancelTarget(symbol="BTCUSDT", order_id="7", client_oid="c", kind=OrderKind.TPSL)
    assert loaded == fresh
    assert hash(loaded) == hash(fresh)
    assert {fresh: 1}[loaded] == 1


def test_a_ccxt_order_becomes_a_target() -> None:
    order = {"symbol": "BTC/USDT", "id": "1234", "clientOrderId": "c-1", "info": {}}
    assert CancelTarget.from_ccxt(order) == CancelTarget(
        symbol="BTCUSDT", order_id="1234", client_oid="c-1"
    )
    stop = {"symbol": "ETH/USDT", "id": "9", "clientOrderId": None, "info": {"tpslType": "tpsl"}}
    assert CancelTarget.from_ccxt(stop).kind is OrderKind.TPSL  # the exchange's own field
    plan = {"symbol": "ETH/USDT", "id": "7", "clientOrderId": None}
    assert CancelTarget.from_ccxt(plan, kind="plan").kind is OrderKind.PLAN
    with pytest.raises(InvalidTarget, match="needs an order_id or a client_oid"):
        CancelTarget.from_ccxt({"symbol": "BTC/USDT", "id": None, "clientOrderId": None})
    with pytest.raises(InvalidSymbol):
        CancelTarget.from_ccxt({"symbol": "BTC/USDT:USDT", "id": "1"})  # a swap, not spot
    with pytest.raises(InvalidTarget, match="a ccxt order must be a dict"):
        CancelTarget.from_ccxt(["BTC/USDT", "1"])  # type: ignore[arg-type]
