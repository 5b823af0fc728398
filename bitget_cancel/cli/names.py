"""Made-up symbol names for the simulator's orders (``demo`` and ``sim``)."""

from __future__ import annotations

_COINS = ("BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOGE", "TRX", "LINK", "AVAX", "DOT", "TON",
          "SHIB", "LTC", "BCH", "UNI", "NEAR", "APT", "ATOM", "ARB", "OP", "FIL", "ICP", "ETC",
          "XLM", "HBAR", "INJ", "SUI", "SEI", "TIA")  # fmt: skip


def symbol_names(count: int) -> list[str]:
    """``count`` symbol names: real-looking ones first, then ``C31USDT``, ``C32USDT``..."""
    names = [f"{coin}USDT" for coin in _COINS[:count]]
    names.extend(f"C{i}USDT" for i in range(len(names) + 1, count + 1))
    return names
