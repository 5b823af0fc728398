"""A command's scope by bot: the targets and orders whose clientOid starts with a prefix, and
the words and JSON that name the scope."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from bitget_cancel import CancelTarget


def in_scope(
    targets: list[CancelTarget], prefixes: tuple[str, ...], err: Console
) -> list[CancelTarget]:
    """The targets whose clientOid starts with one of ``prefixes``; how many were left out is
    said (a target without a clientOid cannot be told to be the bot's: left out)."""
    kept = [t for t in targets if t.client_oid is not None and t.client_oid.startswith(prefixes)]
    if len(kept) < len(targets):
        err.print(
            f"--client-oid-prefix {' '.join(prefixes)}: {len(kept)} of {len(targets)} targets "
            f"kept, {len(targets) - len(kept)} left out",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    return kept


def scope_text(symbols: Sequence[str] | None, prefixes: Sequence[str] | None) -> str:
    """``"every open spot order"``, ``"... of BTCUSDT whose clientOid starts with bot-a-"``."""
    text = "every open spot order"
    if symbols is not None:
        text += " of " + ", ".join(symbols)
    if prefixes is not None:
        text += " whose clientOid starts with " + " or ".join(prefixes)
    return text


def scope_payload(
    symbols: Sequence[str] | None, prefixes: Sequence[str] | None
) -> dict[str, list[str] | None]:
    return {
        "symbols": None if symbols is None else list(symbols),
        "clientOidPrefixes": None if prefixes is None else list(prefixes),
    }
