"""A panic over every kind of open order (normal, plan, TP/SL) against the bound of its slowest
lane, beside a raw-aiohttp reference client emptying an identical account in the same run.

Run alone: ``python -m benchmarks.workloads.kinds_panic [--quick]``.

Each kind has its own endpoints and windows, so the panic runs three lanes at once: normal
orders by cancel-symbol-order (5/s) or batch-cancel-order (10/s), plan orders by
batch-cancel-plan-order (5/s, one request for the whole account), TP/SL orders one by one by
cancel-order (10/s). The account is empty when the slowest lane is: here the TP/SL lane.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from functools import partial

from bitget_cancel import CancelEngine, OrderKindName
from bitget_cancel.sim import SimExchange

from ._common import (
    Check,
    Runs,
    Section,
    credentials,
    fresh_api_key,
    rate_bound,
    run_standalone,
    secs,
    symbol_names,
)
from ._reference import UNFILLED_PATH, Pacer, RawClient, Reference, reference_for
from .empty_account import SYMBOL_DELAY_MS, batch_bound, symbol_bound

LATENCY_MS = (2.0, 30.0)
L = sum(LATENCY_MS) / 2 / 1000  # mean latency, seconds
D = sum(SYMBOL_DELAY_MS) / 2 / 1000  # mean delay of a symbol cancel taking effect
PAGE = 100  # rows per unfilled-orders (TP/SL) and current-plan-order page
TPSL_CAP, PLAN_BATCH_CAP, PLAN_LIST_CAP = 10, 5, 20  # arrivals per sliding second
# Bitget's FAQ: a tripped limit "takes 5 minutes to recover". Set explicitly: one 429 of a
# client's own making would stall its lane for minutes, so "0 × 429" is a requirement.
PENALTY_S = 300.0

CANCEL_ORDER_PATH = "/api/v2/spot/trade/cancel-order"
CURRENT_PLAN_PATH = "/api/v2/spot/trade/current-plan-order"
BATCH_CANCEL_PLAN_PATH = "/api/v2/spot/trade/batch-cancel-plan-order"
BATCH_CANCEL_PATH = "/api/v2/spot/trade/batch-cancel-order"
CANCEL_SYMBOL_PATH = "/api/v2/spot/trade/cancel-symbol-order"
KINDS: tuple[OrderKindName, ...] = ("normal", "plan", "tpsl")


@dataclass(frozen=True)
class Mix:
    """How many open orders of each kind, spread round-robin over ``symbols``."""

    normal: int
    plan: int
    tpsl: int
    symbols: int

    def of(self, kind: str) -> int:
        count: int = getattr(self, kind)
        return count

    @property
    def total(self) -> int:
        return self.normal + self.plan + self.tpsl

    def describe(self) -> str:
        return (
            f"{self.normal:,} normal + {self.plan:,} plan + {self.tpsl:,} TP/SL orders over "
            f"{self.symbols} symbols"
        )


FULL = Mix(normal=10_000, plan=1_000, tpsl=200, symbols=20)
# Smaller, with the same slowest lane (TP/SL: 30 orders, 2 s of its window).
QUICK = Mix(normal=2_000, plan=200, tpsl=30, symbols=10)


def tpsl_bound(orders: int) -> float:
    """cancel-order, one TP/SL order a request, 10/s: the first cancel needs the first TP/SL
    page (L); cancel k no earlier than L + ⌊k/10⌋ s, the last answered one latency later; then
    the confirming page (L)."""
    if orders == 0:
        return L
    return L + rate_bound(orders, 0.0, TPSL_CAP) + L + L


def plan_bound(orders: int) -> float:
    """One batch-cancel-plan-order for the whole account needs no listing first (L), then the
    confirming page (L)."""
    return L + L if orders else L


def normal_bound(orders: int, symbols: int) -> float:
    """The faster of the normal lane's two routes (``empty_account``'s bounds)."""
    if orders == 0:
        return L
    return min(symbol_bound(symbols), batch_bound(orders))


def lane_bounds(mix: Mix) -> dict[str, float]:
    return {
        "normal": normal_bound(mix.normal, mix.symbols),
        "plan": plan_bound(mix.plan),
        "tpsl": tpsl_bound(mix.tpsl),
    }


def bound(mix: Mix) -> tuple[str, float]:
    """The slowest lane and its bound: no client empties the account sooner."""
    lanes = lane_bounds(mix)
    slowest = max(lanes, key=lambda kind: lanes[kind])
    return slowest, lanes[slowest]


def place(sim: SimExchange, mix: Mix) -> None:
    """Each kind placed round-robin over the symbols, as strategies trading at once would."""
    names = symbol_names(mix.symbols)
    for kind in KINDS:
        for n in range(mix.of(kind)):
            sim.place_order(names[n % mix.symbols], kind=kind)


def _sim(seed: int, mix: Mix) -> SimExchange:
    sim = SimExchange(latency_ms=LATENCY_MS, seed=seed, api_key=fresh_api_key(),
                      symbol_cancel_delay_ms=SYMBOL_DELAY_MS, penalty_s=PENALTY_S)  # fmt: skip
    place(sim, mix)
    return sim


@dataclass
class KindsTrial:
    elapsed: float
    requests: dict[str, int]  # by path, as the simulator counted them
    throttled: int
    left_open: dict[str, int]  # by kind
    account_empty: bool
    confirmed: dict[str, bool]  # by kind: the client's own word that the kind is empty

    @property
    def left(self) -> int:
        return sum(self.left_open.values())


def _measured(
    sim: SimExchange,
    elapsed: float,
    account_empty: bool | None = None,
    confirmed: dict[str, bool] | None = None,
) -> KindsTrial:
    """What the simulator saw (requests, every 429 it answered, orders left); the client's own
    word on emptiness, or (the reference, which says nothing) what the simulator holds."""
    left: dict[str, int] = {kind: sim.count_open(kind) for kind in KINDS}
    if confirmed is None:
        confirmed = {kind: left[kind] == 0 for kind in KINDS}
    if account_empty is None:
        account_empty = all(confirmed.values())
    return KindsTrial(elapsed, dict(sim.stats.requests), sim.stats.throttled, left,
                      account_empty, confirmed)  # fmt: skip


async def trial(mix: Mix, seed: int) -> KindsTrial:
    """The engine: ``await engine.panic_cancel()`` (every kind, the whole account)."""
    async with _sim(seed, mix) as sim:
        async with CancelEngine(credentials(sim), base_url=sim.base_url) as engine:
            started = time.perf_counter()
            report = await engine.panic_cancel()
            elapsed = time.perf_counter() - started
        confirmed = {kind.value: s.confirmed_empty for kind, s in report.by_kind.items()}
        return _measured(sim, elapsed, report.account_empty, confirmed)


class KindsReference:
    """The reference client's three lanes, each paced perfectly, all at once."""

    def __init__(self, reference: Reference, floor: float) -> None:
        self.ref = reference
        self.client: RawClient = reference.client
        self.tpsl = Pacer(TPSL_CAP, 1.0, floor)
        self.plan_batch = Pacer(PLAN_BATCH_CAP, 1.0, floor)
        self.plan_list = Pacer(PLAN_LIST_CAP, 1.0, floor)

    async def tpsl_page(self, below: str | None) -> list[str] | None:
        query = f"tpslType=tpsl&limit={PAGE}" + (f"&idLessThan={below}" if below else "")
        data = await self.client.request("GET", UNFILLED_PATH, query)
        return None if data is None else [row["orderId"] for row in data]

    async def cancel_tpsl(self, order_id: str) -> bool:
        body = {"orderId": order_id, "tpslType": "tpsl"}
        return await self.client.request("POST", CANCEL_ORDER_PATH, body=body) is not None

    async def empty_tpsl(self) -> None:
        """List page by page (the listing window is the normal lane's too), cancelling each
        order as soon as it is listed; list again until a listing finds none."""
        while True:
            sends: list[asyncio.Task[bool]] = []
            listed, below = 0, None
            while True:
                page = await self.ref.listing.send(partial(self.tpsl_page, below))
                if page is None:
                    continue
                listed += len(page)
                for order_id in page:
                    cancel = self.tpsl.send(partial(self.cancel_tpsl, order_id))
                    sends.append(asyncio.create_task(cancel))
                if len(page) < PAGE:
                    break
                below = page[-1]
            await asyncio.gather(*sends)
            if listed == 0:
                return

    async def plan_open(self) -> int | None:
        """How many plan orders are open (every page); None if a page was refused."""
        count, below = 0, None
        while True:
            query = f"limit={PAGE}" + (f"&idLessThan={below}" if below else "")
            request = partial(self.client.request, "GET", CURRENT_PLAN_PATH, query)
            data = await self.plan_list.send(request)
            if data is None:
                return None
            count += len(data["orderList"])
            if not data["nextFlag"] or not data["orderList"]:
                return count
            below = data["idLessThan"]

    async def empty_plan(self) -> None:
        """Cancel every plan order of the account in one request; list to confirm."""
        while True:
            cancel = partial(self.client.request, "POST", BATCH_CANCEL_PLAN_PATH, body={})
            await self.plan_batch.send(cancel)
            if await self.plan_open() == 0:
                return

    async def empty(self) -> None:
        await asyncio.gather(self.ref.empty_by_symbols(), self.empty_tpsl(), self.empty_plan())


async def reference_trial(mix: Mix, seed: int) -> KindsTrial:
    """The reference client emptying an identical account, all three lanes at once."""
    async with _sim(seed, mix) as sim, reference_for(sim, LATENCY_MS) as ref:
        client = KindsReference(ref, LATENCY_MS[0] / 1000)
        started = time.perf_counter()
        await client.empty()
        elapsed = time.perf_counter() - started
        return _measured(sim, elapsed)


HEADERS = [
    "client",
    "until every kind is empty",
    "bound (slowest lane)",
    "÷ bound",
    "engine ÷ reference",
    "429s",
    "left open",
    "every kind empty",
]
LANE_PATHS = {
    "normal": (CANCEL_SYMBOL_PATH, BATCH_CANCEL_PATH),
    "plan": (BATCH_CANCEL_PLAN_PATH, "/api/v2/spot/trade/cancel-plan-order"),
    "tpsl": (CANCEL_ORDER_PATH,),
}
LANE_ROUTES = {
    "normal": "cancel-symbol-order (5/s) or batch-cancel-order (10/s, 50 a request)",
    "plan": "batch-cancel-plan-order (5/s, the whole account) or cancel-plan-order (20/s)",
    "tpsl": "cancel-order with `tpslType=tpsl` (10/s, one a request)",
}
LANE_NAMES = {"normal": "normal", "plan": "plan (trigger)", "tpsl": "TP/SL"}


def cancel_requests(trial: KindsTrial, kind: str) -> str:
    """The lane's cancel requests by endpoint, e.g. ``20 + 0``."""
    return " + ".join(str(trial.requests.get(path, 0)) for path in LANE_PATHS[kind])


def lane_rows(mix: Mix, ours: KindsTrial, ref: KindsTrial) -> list[str]:
    """The per-lane table (a note under the main one): what each lane sent and left."""
    lanes = lane_bounds(mix)
    rows = [
        "| kind | orders | cancelled by | lane bound | engine: cancel requests | reference | "
        "left open (engine / ref) | engine: confirmed empty |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        rows.append(
            f"| {LANE_NAMES[kind]} | {mix.of(kind):,} | {LANE_ROUTES[kind]} | "
            f"{secs(lanes[kind])} | {cancel_requests(ours, kind)} | {cancel_requests(ref, kind)} | "
            f"{ours.left_open[kind]} / {ref.left_open[kind]} | "
            f"{'yes' if ours.confirmed.get(kind) else '**no**'} |"
        )
    lists = (UNFILLED_PATH, CURRENT_PLAN_PATH)
    rows.append("")
    rows.append(
        "Listing requests (unfilled-orders, normal and TP/SL / current-plan-order): engine "
        + " / ".join(str(ours.requests.get(p, 0)) for p in lists)
        + ", reference "
        + " / ".join(str(ref.requests.get(p, 0)) for p in lists)
        + ". Request counts are of the last run."
    )
    return rows


async def run(quick: bool) -> Section:
    mix = QUICK if quick else FULL
    repeats = 1 if quick else 2
    ours: list[KindsTrial] = []
    ref: list[KindsTrial] = []
    for seed in range(repeats):  # alternating, so both sides share the machine's moods
        ours.append(await trial(mix, seed))
        ref.append(await reference_trial(mix, seed))
    return section(mix, ours, ref)


def section(mix: Mix, ours: list[KindsTrial], ref: list[KindsTrial]) -> Section:
    """The Section of measured trials (pure: the smoke test builds one from made-up trials)."""
    slowest, limit = bound(mix)
    lanes = lane_bounds(mix)
    engine_s = Runs.of(t.elapsed for t in ours)
    ref_s = Runs.of(t.elapsed for t in ref)
    vs_bound, vs_ref = engine_s.median / limit, engine_s.median / ref_s.median
    rows = []
    for client, trials, runs in (("engine", ours, engine_s), ("reference", ref, ref_s)):
        rows.append(
            [
                client,
                runs.show(secs),
                secs(limit),
                f"**{runs.median / limit:.3f}**",
                f"**{vs_ref:.3f}**" if client == "engine" else "",
                str(sum(t.throttled for t in trials)),
                str(sum(t.left for t in trials)),
                "yes" if all(t.account_empty for t in trials) else "**no**",
            ]
        )
    throttled = sum(t.throttled for t in ours)
    left = sum(t.left for t in ours)
    empty = all(t.account_empty for t in ours)
    ref_clean = all(t.throttled == 0 and t.left == 0 for t in ref)
    intro = f"""
{mix.describe()} (each kind placed round-robin); the engine runs `await
engine.panic_cancel()` (every kind, `use_symbol_cancel=True`, the whole account) from a fresh
engine until a listing of every kind shows it empty. The reference client (raw aiohttp,
`kinds_panic.KindsReference`) empties an identical account with its three lanes at once:
normal orders by cancel-symbol-order from the first page (as in the panic workload), every
plan order by one batch-cancel-plan-order without `symbolList`, TP/SL orders one by one as
their pages arrive, each lane then listing until empty. Engine and reference alternate, a
fresh simulator each; median (range) of {len(ours)} run(s).

**Simulator settings the bounds assume**: latency {LATENCY_MS[0]:g}–{LATENCY_MS[1]:g} ms
(mean L = {L * 1000:g} ms); limits per account, sliding one-second windows (listing 20/s,
cancel-symbol-order 5/s, batch-cancel-order 10/s, cancel-order 10/s,
batch-cancel-plan-order 5/s, current-plan-order 20/s); a symbol cancel taking effect
{SYMBOL_DELAY_MS[0]:g}–{SYMBOL_DELAY_MS[1]:g} ms after it arrives (mean d = {D * 1000:g} ms);
`penalty_s={PENALTY_S:g}`: a tripped limit stays refused for 5 minutes, as on Bitget.

**Bound of each lane** (request k of a lane no earlier than ⌊k/cap⌋ s after its first; the
lanes have their own windows, so they run side by side and the account is empty when the
slowest is):
- TP/SL, T orders: the first page (L), T cancels at 10/s, the last answered one latency after
  it is sent, a confirming page: `L + ⌊(T − 1)/10⌋ s + 2L` = {secs(lanes["tpsl"])} for T =
  {mix.tpsl:,}. No other route closes a TP/SL order, so no client does better.
- normal: the faster of the panic workload's two bounds, cancel-symbol-order `L + ⌊(S −
  1)/5⌋ s + d + L` and batch-cancel only: {secs(lanes["normal"])}.
- plan: one batch-cancel-plan-order for the whole account, then a confirming page: 2L =
  {secs(lanes["plan"])}.

**Bound** = the slowest lane's ({LANE_NAMES[slowest]}): **{secs(limit)}**. Target (issue 10):
every kind confirmed empty, 0 × 429, 0 left open; the ratios are reported.
"""
    return Section(
        "Panic over every kind of order",
        intro,
        HEADERS,
        rows,
        [
            Check(
                f"panic over every kind: {mix.describe()}",
                f"{secs(engine_s.median)} = {vs_bound:.3f} × bound, {vs_ref:.3f} × reference, "
                f"{throttled} × 429, {left} left open",
                "every kind confirmed empty, 0 × 429, 0 left open (ratios reported)",
                empty and throttled == 0 and left == 0 and ref_clean,
            )
        ],
        lane_rows(mix, ours[-1], ref[-1]),
        [
            f"**Panic over every kind:** {mix.describe()} are all closed, every kind confirmed "
            f"empty, in {secs(engine_s.median)}: {vs_bound:.3f} × the bound of the slowest "
            f"lane ({LANE_NAMES[slowest]}, {secs(limit)}), {vs_ref:.3f} × a raw-aiohttp "
            "reference client running the same three lanes, 0 × 429."
        ],
    )


if __name__ == "__main__":
    run_standalone(run)
