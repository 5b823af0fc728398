"""``bitget-cancel demo``: the simulator in-process, orders placed, all cancelled, measured."""

from __future__ import annotations

import random
from dataclasses import dataclass

from rich.console import Console

from ._auth import Credentials
from ._display import (
    DemoFacts,
    demo_table,
    fewest_requests,
    outcomes_table,
    problems_table,
    progress_bar,
)
from ._engine import CancelEngine
from ._models import CancelReport, CancelTarget
from ._plan import wire_key
from .sim import SPURIOUS_429, Faults, SimExchange

_COINS = ("BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOGE", "TRX", "LINK", "AVAX", "DOT", "TON",
          "SHIB", "LTC", "BCH", "UNI", "NEAR", "APT", "ATOM", "ARB", "OP", "FIL", "ICP", "ETC",
          "XLM", "HBAR", "INJ", "SUI", "SEI", "TIA")  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoSettings:
    orders: int = 1000
    symbols: int = 20
    latency_ms: tuple[float, float] = (2.0, 30.0)
    faults: float = 0.0
    seed: int = 1


def symbol_names(count: int) -> list[str]:
    """``count`` symbol names: real-looking ones first, then ``C31USDT``, ``C32USDT``..."""
    names = [f"{coin}USDT" for coin in _COINS[:count]]
    names.extend(f"C{i}USDT" for i in range(len(names) + 1, count + 1))
    return names


def place_and_pick(
    sim: SimExchange, settings: DemoSettings, rng: random.Random
) -> list[CancelTarget]:
    """Place the orders and build targets that show every outcome kind: by orderId, by
    clientOid only, unknown ids (not_open) and duplicates (one outcome each)."""
    symbols = symbol_names(settings.symbols)
    targets: list[CancelTarget] = []
    for index in range(settings.orders):
        symbol = symbols[index % len(symbols)]
        order = sim.place_order(symbol, f"demo-{index}")
        if index % 7 == 3:
            targets.append(CancelTarget(symbol=symbol, client_oid=order.client_oid))
        elif index % 2:
            targets.append(CancelTarget(symbol=symbol, order_id=order.order_id))
        else:
            targets.append(
                CancelTarget(symbol=symbol, order_id=order.order_id, client_oid=order.client_oid)
            )
    # Ids the exchange never saw: answered "does not exist", so not_open.
    targets.append(CancelTarget(symbol=symbols[0], order_id="1000000000000000001"))
    targets.append(CancelTarget(symbol=symbols[-1], order_id="1000000000000000002"))
    targets.append(CancelTarget(symbol=symbols[0], client_oid="demo-never-placed"))
    duplicates = rng.sample(targets, min(5, len(targets)))
    targets.extend(duplicates)
    rng.shuffle(targets)
    return targets


async def run_demo(settings: DemoSettings, console: Console, err: Console) -> int:
    rng = random.Random(settings.seed)
    faults = Faults.parse(settings.faults) if settings.faults else Faults()
    sim = SimExchange(latency_ms=settings.latency_ms, faults=faults, seed=settings.seed)
    async with sim:
        targets = place_and_pick(sim, settings, rng)
        credentials = Credentials(
            api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase
        )
        console.print(
            f"Simulated exchange at {sim.base_url} with {settings.orders} open orders on "
            f"{settings.symbols} symbols, latency {settings.latency_ms[0]:g}-"
            f"{settings.latency_ms[1]:g} ms, faults {settings.faults:g}, seed {settings.seed}."
        )
        console.print(
            f"Cancelling {len(targets)} targets (clientOid-only ones, unknown ids and "
            "duplicates included)..."
        )
        async with CancelEngine(credentials, base_url=sim.base_url) as engine:
            await engine.warm_up()
            sim.reset_stats()  # count the cancel only, not the warm-up
            with progress_bar(err, "cancelling") as progress:
                report = await engine.cancel(targets, progress=progress)
        left_open = len(sim.open_orders())
        stats = sim.stats
        facts = DemoFacts(
            given=len(targets),
            fewest=_fewest(report),
            round_trip=sum(settings.latency_ms) / 2000,
            pacing_429=stats.pacing_429,
            injected_429=stats.injected[SPURIOUS_429],
            violations=stats.total_violations,
            faults_injected=sum(stats.injected.values()),
            left_open=left_open,
        )
    console.print(outcomes_table(report))
    problems = problems_table(report)
    if problems is not None:
        console.print(problems)
    console.print(demo_table(report, facts))
    return 0 if report.all_closed and not left_open else 1


def _fewest(report: CancelReport) -> int:
    keys = {wire_key(outcome.target) for outcome in report.outcomes}
    by_order_id = sum(1 for key in keys if key[0])
    return fewest_requests(by_order_id, len(keys) - by_order_id)
