"""``bitget-cancel demo``: the simulator in-process, orders placed, all cancelled, measured.

The only module of the command line, with ``commands.run_sim``, that imports the simulator;
the commands import it when ``demo`` runs, so the others never load aiohttp.web.
"""

from __future__ import annotations

import math
import random

from rich.console import Console

from bitget_cancel import CancelEngine, CancelReport, CancelTarget, Credentials, OrderKind
from bitget_cancel.sim import SPURIOUS_429, Faults, SimExchange, SimOrder

from .display import DemoFacts, Lane, demo_table, expected_total, print_report, progress_bar
from .endpoints import endpoints_of
from .exits import EXIT_NOT_CLOSED, EXIT_OK
from .names import symbol_names
from .options import DemoSettings
from .sim_orders import order_cap, place


def _target(order: SimOrder, index: int) -> CancelTarget:
    """Targets that show every way of naming an order: by clientOid only (one in seven; not
    TP/SL orders, which the exchange cancels by orderId only), by orderId only, or both."""
    kind = OrderKind(order.kind)
    if index % 7 == 3 and order.client_oid is not None and kind is not OrderKind.TPSL:
        return CancelTarget(symbol=order.symbol, client_oid=order.client_oid, kind=kind)
    if index % 2:
        return CancelTarget(symbol=order.symbol, order_id=order.order_id, kind=kind)
    return CancelTarget(
        symbol=order.symbol, order_id=order.order_id, client_oid=order.client_oid, kind=kind
    )


def place_and_pick(
    sim: SimExchange, settings: DemoSettings, rng: random.Random
) -> list[CancelTarget]:
    """Place the orders and build targets that show every outcome kind: by orderId, by
    clientOid only, unknown ids (not_open) and duplicates (one outcome each)."""
    placed = place(sim, "demo", settings.orders, settings.tpsl, settings.plan, settings.symbols)
    targets = [_target(order, index) for index, order in enumerate(placed)]
    symbols = symbol_names(settings.symbols)
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
    sim = SimExchange(
        latency_ms=settings.latency_ms,
        faults=faults,
        seed=settings.seed,
        account=settings.account,
        uta_order_cap=order_cap(settings.order_cap),
    )
    targets = place_and_pick(sim, settings, rng)  # before serving: a bad count serves nothing
    async with sim:
        credentials = Credentials(
            api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase
        )
        kinds = f"{settings.orders} open orders"
        if settings.tpsl or settings.plan:
            kinds += f" (and {settings.tpsl} TP/SL, {settings.plan} plan orders)"
        console.print(
            f"Simulated {settings.account} account at {sim.base_url} with {kinds} on "
            f"{settings.symbols} symbols, latency {settings.latency_ms[0]:g}-"
            f"{settings.latency_ms[1]:g} ms, faults {settings.faults:g}, seed {settings.seed}."
        )
        console.print(
            f"Cancelling {len(targets)} targets (clientOid-only ones, unknown ids and "
            "duplicates included)..."
        )
        async with CancelEngine(
            credentials, base_url=sim.base_url, account=settings.account
        ) as engine:
            await engine.warm_up()
            sim.reset_stats()  # count the cancel only, not the warm-up
            with progress_bar(err, "cancelling", expected_total(targets)) as progress:
                report = await engine.cancel(targets, progress=progress)
        left_open = len(sim.open_orders())
        stats = sim.stats
        facts = DemoFacts(
            given=len(targets),
            lanes=_lanes(report, settings.account, stats.requests),
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


def _lanes(report: CancelReport, account: str, requests: dict[str, int]) -> tuple[Lane, ...]:
    """Each cancel endpoint with orders to cancel: the requests it got (the simulator's count)
    and the fewest that could have done (one entry per order a request can name: by orderId
    if it has one, else by clientOid)."""
    by_kind: dict[str, set[tuple[str, bool, str]]] = {}
    for outcome in report.outcomes:
        target = outcome.target
        by_kind.setdefault(target.kind.value, set()).add(
            (target.symbol, target.by_order_id, target.wire_id)
        )
    lanes: dict[str, Lane] = {}
    for kind, endpoint in endpoints_of(account).items():
        orders = by_kind.get(kind, set())
        if not orders:
            continue
        size = endpoint.per_request
        by_id = sum(1 for _, by_order_id, _ in orders if by_order_id)
        fewest = math.ceil(by_id / size) + math.ceil((len(orders) - by_id) / size)
        before = lanes.get(endpoint.name)  # a unified account's TP/SL and plan share one
        lanes[endpoint.name] = Lane(
            endpoint.name,
            endpoint.rate,
            requests.get(endpoint.path, 0),
            fewest + (before.fewest if before else 0),
        )
    return tuple(lanes.values())
