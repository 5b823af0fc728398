"""Symbols as the exchange spells them, from what a user or ccxt writes.

Bitget answers an order on an unknown symbol "does not exist", which reads as "not open": a
misspelt symbol would pass for an all-clear. So the command line sends only names that can
exist (upper-case letters and digits), converts ccxt's ``BASE/QUOTE`` and refuses the rest,
lower case included (it says what to write instead rather than guess).
"""

from __future__ import annotations

import re

_EXCHANGE_NAME = re.compile(r"[A-Z0-9]+")


class SymbolError(ValueError):
    """Not a spot symbol name; the message says what to write instead, when it can tell."""


def exchange_symbol(text: str) -> str:
    """``"BTC/USDT"`` -> ``"BTCUSDT"``; ``"BTCUSDT"`` as it is; anything else: SymbolError."""
    if _EXCHANGE_NAME.fullmatch(text):
        return text
    name = text
    if "/" in text:
        base, _, quote = text.partition("/")
        if ":" in quote:
            raise SymbolError(
                f"{text!r} is a ccxt derivatives symbol; only spot symbols can be cancelled here"
            )
        if "/" in quote or not base or not quote:
            raise SymbolError(f"{text!r} is not BASE/QUOTE")
        name = base + quote
        if _EXCHANGE_NAME.fullmatch(name):
            return name
    if _EXCHANGE_NAME.fullmatch(name.upper()):
        raise SymbolError(f"symbols are upper case on Bitget: {text!r} should be {name.upper()!r}")
    raise SymbolError(f"{text!r} is not a spot symbol (letters and digits, e.g. BTCUSDT)")
