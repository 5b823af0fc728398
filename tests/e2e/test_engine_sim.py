"""CancelEngine against the simulator over real HTTP on 127.0.0.1, in real time."""

from __future__ import annotations

import asyncio
import math
import random
from typing import TYPE_CHECKING

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel.sim import Faults, SimExchange

if TYPE_CHECKING:
    from bitget_cancel.sim.pytest_plugin import SimFactory

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

BATCH_PATH = "/api/v2/spot/trade/batch-cancel-order"
TIME_PATH = "/api/v2/public/time"
SYMBOLS = [f"C{i}USDT" for i in range(24)]
UNKNOWN = [
    CancelTarget(symbol="C0USDT", order_id="1000000000000000001"),
    CancelTarget(symbol="C5USDT", order_id="1000000000000000002"),
    CancelTarget(symbol="C7USDT", client_oid="never-placed-1"),
    CancelTarget(symbol="C9USDT", client_oid="never-placed-2"),
]


def creds(sim: SimExchange) -> Credentials:
    return Credentials(api_key=sim.api_key, secret_key=sim.secret_key, passphrase=sim.passphrase)


def place_targets(
    sim: SimExchange, per_symbol: int, rng: random.Random, symbols: list[str] = SYMBOLS
) -> list[CancelTarget]:
    """Open orders on each symbol; a third targeted by clientOid only, some by both ids."""
    targets = []
    for symbol in symbols:
        for index, order in enumerate(sim.place_orders(symbol, per_symbol, symbol.lower())):
            if index % 3 == 0:
                targets.append(CancelTarget(symbol=symbol, client_oid=order.client_oid))
            elif index % 3 == 1:
                targets.append(CancelTarget(symbol=symbol, order_id=order.order_id))
            else:
                targets.append(CancelTarget(symbol=symbol, order_id=order.order_id,
                                            client_oid=order.client_oid))  # fmt: skip
    rng.shuffle(targets)
    return targets


def with_noise(targets: list[CancelTarget], rng: random.Random) -> list[CancelTarget]:
    """The targets plus unknown ids and duplicates, shuffled."""
    noisy = targets + UNKNOWN + rng.sample(targets, 25) + UNKNOWN[:2]
    rng.shuffle(noisy)
    return noisy


def distinct(targets: list[CancelTarget]) -> list[CancelTarget]:
    return list(dict.fromkeys(targets))


async def test_many_symbols_both_id_kinds_duplicates_and_unknown_ids(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(latency_ms=(2.0, 30.0), seed=11)
    rng = random.Random(11)
    real = place_targets(sim, 20, rng)  # 480 orders on 24 symbols
    given = with_noise(real, rng)
    seen: list[tuple[int, int]] = []

    async with CancelEngine(creds(sim), base_url=sim.base_url) as engine:
        report = await engine.cancel(given, progress=lambda d, t: seen.append((d, t)))

    assert [o.target for o in report.outcomes] == distinct(given)  # each exactly once, in order
    status = {o.target: o.status for o in report.outcomes}
    assert all(status[t] is CancelStatus.CANCELLED for t in real)
    assert all(status[t] is CancelStatus.NOT_OPEN for t in UNKNOWN)
    assert report.all_closed
    assert sim.open_orders() == []
    assert sim.stats.cancelled == len(real)
    by_order_id = sum(1 for t in distinct(given) if t.order_id is not None)
    fewest = math.ceil(by_order_id / 50) + math.ceil((len(distinct(given)) - by_order_id) / 50)
    # and the confirmation of the unknown ones' "does not exist": one listing of each kind
    assert report.requests == fewest + 3
    assert sim.stats.total_violations == 0
    assert sim.stats.pacing_429 == 0
    assert report.throttled == 0
    assert seen[-1] == (len(real) + len(UNKNOWN), len(real) + len(UNKNOWN))


async def test_with_faults_every_target_ends_once_and_every_order_closes(
    sim_factory: SimFactory,
) -> None:
    faults = Faults(rate=0.3, order_transient=0.15)
    sim = await sim_factory(latency_ms=(2.0, 30.0), seed=5, faults=faults)
    rng = random.Random(5)
    real = place_targets(sim, 15, rng)  # 360 orders on 24 symbols
    given = with_noise(real, rng)

    # A slow answer (held 6 s) times out after 1 s and is asked again; enough attempts that
    # a 30% fault rate cannot exhaust them.
    engine = CancelEngine(creds(sim), base_url=sim.base_url, request_timeout=1.0,
                          max_attempts=12)  # fmt: skip
    async with engine:
        report = await engine.cancel(given)

    assert [o.target for o in report.outcomes] == distinct(given)
    assert report.all_closed, [o for o in report.outcomes if not o.closed][:5]
    status = {o.target: o.status for o in report.outcomes}
    assert all(status[t] is CancelStatus.NOT_OPEN for t in UNKNOWN)
    assert sim.open_orders() == []
    assert sum(sim.stats.injected.values()) > 0
    assert sim.stats.total_violations == 0
    assert sim.stats.pacing_429 == 0  # the injected 429s are in stats.injected, not here
    assert sim.stats.max_in_window[BATCH_PATH] <= 10


@pytest.mark.parametrize("mode", ["single", "multiple"])
async def test_each_batch_mode_is_accepted_by_the_exchange(
    mode: str, sim_factory: SimFactory
) -> None:
    sim = await sim_factory(latency_ms=(1.0, 10.0), seed=2)
    rng = random.Random(2)
    real = place_targets(sim, 12, rng, SYMBOLS[:6])  # 72 orders on 6 symbols
    given = with_noise(real, rng)

    async with CancelEngine(creds(sim), base_url=sim.base_url) as engine:
        report = await engine.cancel(given, mode=mode)  # type: ignore[arg-type]

    assert report.all_closed
    assert len(report.cancelled) == len(real)
    assert sim.open_orders() == []
    assert sim.stats.total_violations == 0
    assert sim.stats.pacing_429 == 0
    # the unknown targets' "does not exist" confirmed: one listing of each kind
    confirming = 3
    if mode == "single":  # one symbol per request: one per symbol and id kind
        sent = 2 * 6 + len({t.symbol for t in UNKNOWN} - set(SYMBOLS[:6]))
        assert report.requests == sent + confirming
    else:
        assert report.requests == 2 + confirming


async def test_warm_up_measures_a_skewed_clock_so_no_request_is_refused_for_it(
    sim_factory: SimFactory,
) -> None:
    # 45 s ahead: beyond the exchange's 30 s tolerance, so an unmeasured clock gets 40008.
    sim = await sim_factory(latency_ms=(1.0, 5.0), seed=4, time_offset_s=45.0)
    real = place_targets(sim, 5, random.Random(4))

    async with CancelEngine(creds(sim), base_url=sim.base_url) as engine:
        await engine.warm_up()
        assert sim.stats.requests[TIME_PATH] == engine.burst
        assert engine.clock_offset == pytest.approx(45.0, abs=1.0)
        report = await engine.cancel(real)

    assert report.all_closed
    assert len(report.cancelled) == len(real)
    assert sim.stats.total_violations == 0  # no timestamp refusal at all
    assert sim.open_orders() == []


async def test_without_warm_up_a_skewed_clock_is_corrected_on_the_first_refusal(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(latency_ms=(1.0, 5.0), seed=6, time_offset_s=-45.0)
    real = place_targets(sim, 5, random.Random(6))

    async with CancelEngine(creds(sim), base_url=sim.base_url) as engine:
        report = await engine.cancel(real)

    assert report.all_closed
    assert len(report.cancelled) == len(real)
    assert sim.open_orders() == []
    assert set(sim.stats.violations) == {"timestamp"}


async def test_two_engines_with_one_key_share_the_window(sim_factory: SimFactory) -> None:
    sim = await sim_factory(latency_ms=(2.0, 30.0), seed=8)
    rng = random.Random(8)
    first = [CancelTarget(symbol=o.symbol, order_id=o.order_id)
             for s in SYMBOLS[:12] for o in sim.place_orders(s, 40)]  # fmt: skip
    second = [CancelTarget(symbol=o.symbol, order_id=o.order_id)
              for s in SYMBOLS[12:] for o in sim.place_orders(s, 40)]  # fmt: skip
    rng.shuffle(first)
    rng.shuffle(second)

    async with (
        CancelEngine(creds(sim), base_url=sim.base_url) as one,
        CancelEngine(creds(sim), base_url=sim.base_url) as two,
    ):
        reports = await asyncio.gather(one.cancel(first), two.cancel(second))

    assert all(r.all_closed and len(r.cancelled) == 480 for r in reports)
    assert sum(r.requests for r in reports) == 20  # > 10: the window had to be shared
    assert sim.stats.max_in_window[BATCH_PATH] <= 10
    assert sim.stats.pacing_429 == 0
    assert sim.open_orders() == []
