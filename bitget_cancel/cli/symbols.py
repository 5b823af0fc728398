"""Symbols as the exchange spells them, from what a user or ccxt writes.

The rule is the library's (``normalize_symbol``), so that a target file, ``--symbol`` and a
``CancelTarget`` in code read a symbol the same way: ``BTC/USDT`` and ``btcusdt`` become
``BTCUSDT``; anything that cannot be a spot symbol is refused before any request (the exchange
would answer "does not exist", which reads as "not open").
"""

from __future__ import annotations

from bitget_cancel import InvalidSymbol, normalize_symbol


class SymbolError(ValueError):
    """Not a spot symbol name; the message says what a symbol looks like."""


def exchange_symbol(text: str) -> str:
    """``"BTC/USDT"`` -> ``"BTCUSDT"``; ``"BTCUSDT"`` as it is; anything else: SymbolError."""
    try:
        return normalize_symbol(text)
    except InvalidSymbol as exc:
        raise SymbolError(str(exc)) from None
