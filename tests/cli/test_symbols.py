"""Symbols: only names that can exist are sent; ccxt's BASE/QUOTE is converted."""

from __future__ import annotations

import pytest

from bitget_cancel.cli.symbols import SymbolError, exchange_symbol


@pytest.mark.parametrize(
    ("given", "sent"),
    [("BTCUSDT", "BTCUSDT"), ("BTC/USDT", "BTCUSDT"), ("1INCH/USDC", "1INCHUSDC"),
     ("ETHBTC", "ETHBTC")],
)  # fmt: skip
def test_exchange_names_pass_and_ccxt_names_are_converted(given: str, sent: str) -> None:
    assert exchange_symbol(given) == sent


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("btcusdt", "should be 'BTCUSDT'"),
        ("btc/usdt", "should be 'BTCUSDT'"),
        ("BTC/USDT:USDT", "derivatives"),
        ("BTC/", "not BASE/QUOTE"),
        ("/USDT", "not BASE/QUOTE"),
        ("A/B/C", "not BASE/QUOTE"),
        ("BTC-USDT", "not a spot symbol"),
        ("BTCUSDT_SPBL", "not a spot symbol"),
        (" BTCUSDT", "not a spot symbol"),
        ("", "not a spot symbol"),
    ],
)
def test_names_that_cannot_exist_are_refused_saying_what_to_write(given: str, says: str) -> None:
    with pytest.raises(SymbolError, match=says):
        exchange_symbol(given)
