"""What ``bitget-cancel sim`` says of its clients: with -v a line a second of what arrived, and
at the stop, refused credentials told apart from broken rules."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from bitget_cancel.sim import SimExchange


# Rules whose breach is the client's credentials (or its clock), not its pacing or its ids.
_CREDENTIAL_RULES = {"api_key": "key", "passphrase": "passphrase", "signature": "signature",
                     "timestamp": "timestamp", "environment": "demo/live"}  # fmt: skip


def refusal_breakdown(violations: Mapping[str, int]) -> str:
    """``"12 refused for credentials (passphrase 12), 0 rule violations"``: a wrong key is
    not a client breaking the exchange's rules, so the two are told apart, each by rule."""
    credentials = {_CREDENTIAL_RULES[r]: n for r, n in violations.items() if r in _CREDENTIAL_RULES}
    rules = {r: n for r, n in violations.items() if r not in _CREDENTIAL_RULES and n}

    def detail(counts: Mapping[str, int]) -> str:
        return f" ({', '.join(f'{name} {n}' for name, n in sorted(counts.items()))})"

    said = f"{sum(rules.values())} rule violations" + (detail(rules) if rules else "")
    if credentials:
        said = f"{sum(credentials.values())} refused for credentials{detail(credentials)}, {said}"
    return said


async def log_arrivals(sim: SimExchange, err: Console) -> None:
    """sim -v: once a second something arrived, one line saying what (per endpoint)."""
    before: dict[str, int] = {}
    while True:
        await asyncio.sleep(1.0)
        now = dict(sim.stats.requests)
        new = {path: n - before.get(path, 0) for path, n in now.items() if n > before.get(path, 0)}
        before = now
        if new:
            what = ", ".join(f"{path.rpartition('/')[2]} {n}" for path, n in sorted(new.items()))
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            err.print(f"{stamp} arrived: {what}; {len(sim.open_orders())} open",
                      markup=False, highlight=False, soft_wrap=True)  # fmt: skip
