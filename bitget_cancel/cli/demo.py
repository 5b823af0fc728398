"""``bitget-cancel demo``: the simulator in-process, orders placed, all cancelled, measured.

The only module of the command line, with ``commands.run_sim``, that imports the simulator;
the commands import it when ``demo`` runs, so the others never load aiohttp.web.
"""

from __future__ import annotations

import random

from rich.console import Console

from bitget_cancel import CancelEngine, CancelReport, CancelTarget, Credentials
from bitget_cancel.sim import SPURIOUS_429, Faults, SimExchange

from .display import (
    DemoFacts,
    demo_table,
    expected_total,
    fewest_requests,
    print_report,
    progress_bar,
)
from .exits import EXIT_NOT_CLOSED, EXIT_OK
from .names import symbol_names
from .options import DemoSettings


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
            with progress_bar(err, "cancelling", expected_total(targets)) as progress:
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
    print_report(console, report)
    console.print(demo_table(report, facts))
    return EXIT_OK if report.all_closed and not left_open else EXIT_NOT_CLOSED


def _fewest(report: CancelReport) -> int:
    # One entry per order a request can name: by orderId if it has one, else by clientOid.
    by_order_id = {(o.target.symbol, o.target.order_id) for o in report.outcomes
                   if o.target.order_id is not None}  # fmt: skip
    by_client_oid = {(o.target.symbol, o.target.client_oid) for o in report.outcomes
                     if o.target.order_id is None}  # fmt: skip
    return fewest_requests(len(by_order_id), len(by_client_oid))
