"""Chaos end to end: the engine against the simulator over real HTTP, with 30% of requests
faulted (every fault kind) and 15% per-order transient failures. Every open order is closed,
the simulator counts zero rule violations, and the report tells the truth."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel.sim import ALL_FAULT_KINDS, ORDER_TRANSIENT, Faults, SimExchange

CREDS = Credentials(api_key="sim-key", secret_key="sim-secret", passphrase="sim-pass")
BATCH_PATH = "/api/v2/spot/trade/batch-cancel-order"
TIME_PATH = "/api/v2/public/time"


def targets_for(
    sim: SimExchange, rng: random.Random, symbols: int, tag: str
) -> tuple[list[CancelTarget], set[str]]:
    """Open orders named every way a caller might, duplicates and dead ids included."""
    targets: list[CancelTarget] = []
    open_ids: set[str] = set()
    for s in range(symbols):
        symbol = f"C{s}USDT"
        prefix = f"{tag}-{s}" if s % 2 else None
        for order in sim.place_orders(symbol, rng.randint(60, 160), client_oid_prefix=prefix):
            open_ids.add(order.order_id)
            how = rng.random()
            if order.client_oid is not None and how < 0.4:
                targets.append(CancelTarget(symbol=symbol, client_oid=order.client_oid))
            elif order.client_oid is not None and how < 0.6:
                targets.append(
                    CancelTarget(
                        symbol=symbol, order_id=order.order_id, client_oid=order.client_oid
                    )
                )
            else:
                targets.append(CancelTarget(symbol=symbol, order_id=order.order_id))
            if rng.random() < 0.05:
                targets.append(targets[-1])  # named twice
        for k in range(5):  # orders that are not open (never existed)
            targets.append(CancelTarget(symbol=symbol, order_id=str(9_000_000_000 + 10 * s + k)))
    rng.shuffle(targets)
    return targets, open_ids


def chaos(kinds: tuple[str, ...] = ALL_FAULT_KINDS) -> Faults:
    return Faults(rate=0.3, kinds=kinds, order_transient=0.15, slow_s=1.0)


async def every_kind_first(sim: SimExchange) -> None:
    """30% of requests faulted throughout; the faults take each kind in turn until it has
    happened once, then any kind at random."""
    for kind in ALL_FAULT_KINDS:
        sim.faults = chaos((kind,))
        while not sim.stats.injected[kind]:  # noqa: ASYNC110 (the sim has no event to await)
            await asyncio.sleep(0.002)
    sim.faults = chaos()


async def chaos_round(sim: SimExchange, engine: CancelEngine, rng: random.Random, tag: str) -> int:
    sim.reset_stats()
    targets, open_ids = targets_for(sim, rng, symbols=6, tag=tag)
    report = await engine.cancel(targets)
    stats = sim.stats
    print(f"chaos round {tag}: {report!r}; injected {dict(stats.injected)}")
    # all open orders closed, zero rule violations, no 429 of the engine's own making
    assert sim.open_orders() == []
    assert stats.total_violations == 0, stats.violations
    assert stats.pacing_429 == 0
    # one outcome per distinct target, and it tells the truth
    assert [o.target for o in report.outcomes] == list(dict.fromkeys(targets))
    assert report.all_closed, [o for o in report.outcomes if not o.closed][:3]
    for outcome in report.outcomes:
        if outcome.status is CancelStatus.CANCELLED and outcome.target.order_id is not None:
            assert outcome.target.order_id in open_ids
    dead = [o for o in report.outcomes if (o.target.order_id or "").startswith("9000000")]
    assert len(dead) == 30
    assert {o.status for o in dead} == {CancelStatus.NOT_OPEN}
    assert report.throttled == stats.injected["spurious_429"]
    return report.requests


async def test_chaos_closes_every_open_order_without_a_rule_violation() -> None:
    rng = random.Random(1)
    seen: Counter[str] = Counter()
    requests = 0
    async with SimExchange(latency_ms=(2, 30), faults=chaos(), seed=1) as sim:
        rotation = asyncio.create_task(every_kind_first(sim))
        async with CancelEngine(
            CREDS,
            base_url=sim.base_url,
            request_timeout=0.5,  # a slow_after_cancel answer (1 s) times out
            max_attempts=30,
            rng=random.Random(1),
        ) as engine:
            # Rounds until every fault kind has happened (nearly always one round).
            for round_ in range(6):
                requests += await chaos_round(sim, engine, rng, tag=f"r{round_}")
                seen += sim.stats.injected
                if set(seen) >= {*ALL_FAULT_KINDS, ORDER_TRANSIENT}:
                    break
        rotation.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await rotation
    assert set(seen) >= {*ALL_FAULT_KINDS, ORDER_TRANSIENT}, seen
    faulted = sum(n for kind, n in seen.items() if kind != ORDER_TRANSIENT)
    assert faulted >= 0.15 * requests, (faulted, requests)


def place(sim: SimExchange, symbols: int, per_symbol: int) -> list[CancelTarget]:
    return [
        CancelTarget(symbol=f"W{s}USDT", order_id=order.order_id)
        for s in range(symbols)
        for order in sim.place_orders(f"W{s}USDT", per_symbol)
    ]


@pytest.mark.parametrize(
    ("wrong", "code"),
    [
        ({"api_key": "not-the-key"}, "40006"),
        ({"secret_key": "not-the-secret"}, "40009"),
        ({"passphrase": "not-the-passphrase"}, "40011"),
    ],
)
async def test_wrong_credentials_fail_fast_with_the_exchanges_code(
    wrong: dict[str, str], code: str
) -> None:
    async with SimExchange(latency_ms=(2, 30), seed=4) as sim:
        targets = place(sim, symbols=6, per_symbol=250)  # 30 requests if they were all sent
        fields = {"api_key": "sim-key", "secret_key": "sim-secret", "passphrase": "sim-pass"}
        creds = Credentials(**{**fields, **wrong})
        async with CancelEngine(creds, base_url=sim.base_url) as engine:
            report = await engine.cancel(targets)
        assert sim.stats.requests[BATCH_PATH] <= 10  # the first burst, no retries, no more
        assert len(sim.open_orders()) == len(targets)
    assert report.refused_code == code
    assert {o.status for o in report.outcomes} == {CancelStatus.FAILED}
    assert {o.error_code for o in report.outcomes} == {code}
    assert max(o.attempts for o in report.outcomes) == 1


async def test_a_clock_45s_off_is_corrected_without_the_caller_noticing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bitget_cancel")
    async with SimExchange(latency_ms=(2, 30), seed=6, time_offset_s=-45.0) as sim:
        targets = place(sim, symbols=4, per_symbol=120)
        async with CancelEngine(CREDS, base_url=sim.base_url) as engine:
            report = await engine.cancel(targets)
            assert engine.clock_offset == pytest.approx(-45.0, abs=0.5)
        assert sim.open_orders() == []
        assert sim.stats.requests[TIME_PATH] <= 3
        assert sim.stats.pacing_429 == 0
    assert {o.status for o in report.outcomes} == {CancelStatus.CANCELLED}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []
    assert any("clock offset" in r.getMessage() for r in caplog.records)


async def test_a_panic_under_the_harsh_settings_never_claims_an_all_clear_falsely() -> None:
    """The chaos suite against the harsh settings (issue 15): requests that reach the exchange
    after the client's timeout, symbol cancels that do nothing or take longer than the engine's
    settle time, duplicate listing rows, stuck cursors, and a release window of 45001 & kin.
    Whatever the panic ends with, it never says "empty" while the simulator holds an order in
    scope, never trips the rate limit, and breaks no rule."""
    from bitget_cancel.sim import HARSH_FAULT_KINDS

    harsh = Faults(rate=0.2, kinds=HARSH_FAULT_KINDS + ALL_FAULT_KINDS, late_s=2.0, slow_s=1.0)
    async with SimExchange(
        latency_ms=(2, 20), seed=31, penalty_s=300, symbol_cancel_delay_ms=(2500.0, 4000.0)
    ) as sim:
        for s in range(6):
            sim.place_orders(f"H{s}USDT", 60 + 20 * s, client_oid_prefix=f"h{s}")
        sim.place_orders("H0USDT", 12, kind="tpsl")
        sim.place_orders("H1USDT", 8, kind="plan")
        sim.faults = harsh
        sim.open_release_window(0.8, start_in_s=0.2)
        async with CancelEngine(CREDS, base_url=sim.base_url, request_timeout=1.0) as engine:
            report = await engine.panic_cancel(deadline=40)
        left = sim.count_open()
        assert sim.stats.pacing_429 == 0
        assert sim.stats.total_violations == 0
        assert sum(sim.stats.injected.values()) > 0
    if report.account_empty or report.all_closed:
        assert left == 0, (report.problems, left)
    if left:
        assert not report.all_closed
        assert report.problems or report.unresolved or report.failed
    ids = [(o.target.kind, o.target.symbol, o.target.order_id) for o in report.outcomes]
    assert len(ids) == len(set(ids))  # each order reported once
