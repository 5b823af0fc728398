"""Connection warm-up as a user calls it: ``warm_up()``'s own cost, the first burst after it,
and the same once the server has closed the idle connections."""

from __future__ import annotations

from bitget_cancel._session import KEEP_WARM

from ._common import Check, Runs, Section, ms
from ._idle_proxy import IdleClosingProxy
from .burst import LATENCY, PAUSE, TARGETS, BurstTrial, burst_sim, burst_trial

# TCP + TLS 1.2 to the exchange: about three round trips before the first byte of a request.
HANDSHAKE = 3 * LATENCY


async def _through_proxy(
    seed: int, *, warm: bool, idle: float, idle_timeout: float, keep_warm: float | None
) -> BurstTrial:
    async with (
        burst_sim(seed, LATENCY, HANDSHAKE) as sim,
        IdleClosingProxy(sim.port, idle_timeout) as proxy,
    ):
        return await burst_trial(
            seed, warm=warm, idle=idle, base_url=proxy.base_url, sim=sim, keep_warm=keep_warm
        )


async def run(quick: bool) -> Section:
    repeats = 3 if quick else 11
    # The server's idle timeout, scaled down from real ones (tens of seconds) to keep the run
    # short; what matters is only that the pause before the burst outlasts it.
    idle_timeout = 0.3 if quick else 1.0
    long_idle = 1.5 * idle_timeout
    # Ten minutes after warm_up() with a server that closes connections idle for 60 s, both
    # scaled by 1/30 (1/40 quick); re-warmed every 20 s (KEEP_WARM, the default), scaled alike.
    # Not further: a re-warm is 10 reads of the server time, whose budget is 20 a second.
    long_idle_timeout = 1.5 if quick else 2.0
    scale = long_idle_timeout / 60.0
    ten_minutes, keep_warm = 600.0 * scale, KEEP_WARM * scale
    long_repeats = 1 if quick else 3
    default = KEEP_WARM  # never fires within the shorter pauses
    cases: list[tuple[str, bool, bool, float, float | None]] = [
        ("cold: no `warm_up()`", False, False, PAUSE, default),
        (f"`warm_up()`, {PAUSE * 1000:g} ms pause", True, False, PAUSE, default),
        ("relay, cold", False, True, PAUSE, default),
        (f"relay, `warm_up()`, {PAUSE * 1000:g} ms pause", True, True, PAUSE, default),
        (
            f"relay, `warm_up()`, {long_idle:g} s idle (server closed them)",
            True, True, long_idle, default,
        ),
        (
            f"relay, `warm_up(keep_warm=None)`, {ten_minutes:g} s idle (10 min scaled)",
            True, True, ten_minutes, None,
        ),
        (
            f"relay, `warm_up(keep_warm={keep_warm:.3g})`, {ten_minutes:g} s idle "
            "(10 min scaled, re-warmed every 20 s scaled)",
            True, True, ten_minutes, keep_warm,
        ),
    ]  # fmt: skip
    results: list[tuple[Runs, Runs | None]] = []
    closed = True
    for _, warm, relay, idle, every in cases:
        trials = [
            await _through_proxy(
                seed,
                warm=warm,
                idle=idle,
                idle_timeout=long_idle_timeout if idle == ten_minutes else idle_timeout,
                keep_warm=every,
            )
            if relay
            else await burst_trial(seed, warm=warm, handshake=HANDSHAKE, idle=idle)
            for seed in range(long_repeats if idle == ten_minutes else repeats)
        ]
        closed = closed and all(t.all_closed for t in trials)
        burst = Runs.of(t.elapsed for t in trials)
        results.append((burst, Runs.of(t.warm_up for t in trials) if warm else None))
    rows = []
    for (label, *_), (burst, warm_up) in zip(cases, results, strict=True):
        total = ms(burst.median + warm_up.median) if warm_up else "—"
        rows.append(
            [
                label,
                burst.show(ms),
                f"{burst.median / LATENCY:.2f}",
                warm_up.show(ms) if warm_up else "—",
                total,
            ]
        )
    cold, warmed = results[0][0].median, results[1][0].median
    warm_cost = results[1][1].median if results[1][1] else 0.0
    after_idle = results[4][0].median
    relay_cold = results[2][0].median
    not_kept, kept = results[5][0].median, results[6][0].median
    relay_warm = results[3][0].median
    intro = f"""
The burst of the panic-burst workload ({TARGETS} targets, 10 requests, latency
{LATENCY * 1000:g} ms) from a fresh engine, with the simulator charging a handshake of
{HANDSHAKE * 1000:g} ms (about TCP + TLS 1.2, three round trips) on the first request of every
new connection (`SimExchange(handshake_ms={HANDSHAKE * 1000:g})`). As a user calls it: `await
engine.warm_up()` (timed: 10 parallel reads of the exchange clock, which open and keep 10
connections), a pause, then the burst; the last column adds the two. Real servers close idle
connections: the simulator does not expose its server's keep-alive timeout yet, so the "relay"
rows put `benchmarks/workloads/_idle_proxy.py` in front of it, a TCP relay that closes a
connection idle for {idle_timeout:g} s (scaled down from real servers' tens of seconds).
The last two rows are a long-lived engine: the burst comes 10 minutes after `warm_up()` and
the server closes connections idle for 60 s, both scaled by {scale:.3g} ({ten_minutes:g} s and
{long_idle_timeout:g} s); `warm_up(keep_warm=...)` re-warms its connections every 20 s (the
default, scaled alike: {keep_warm:.3g} s), `keep_warm=None` warms once. Median (range) of
{repeats} runs each ({long_repeats} for the 10-minute rows), each from a fresh simulator and
engine.
"""
    check = Check(
        "warm-up",
        f"first burst {ms(cold)} cold, {ms(warmed)} after `warm_up()` (itself {ms(warm_cost)}); "
        f"{ms(after_idle)} once the server closed the idle connections",
        "warm-up removes the handshake from the first burst",
        warmed + HANDSHAKE / 2 < cold and closed,
    )
    kept_check = Check(
        "warm-up kept for a long-lived engine",
        f"first burst 10 min (scaled) after `warm_up()`: {ms(kept)} re-warmed, "
        f"{ms(not_kept)} not ({ms(relay_warm)} right after `warm_up()`)",
        "re-warming keeps the handshake out of a burst long after `warm_up()`",
        kept + HANDSHAKE / 2 < not_kept and closed,
    )
    return Section(
        "Connection warm-up",
        intro,
        [
            "first burst",
            "time to all outcomes",
            "in latencies",
            "`warm_up()` itself",
            "`warm_up()` + burst",
        ],
        rows,
        [check, kept_check],
        [
            f"Once the server has closed them, the warmed connections are gone: the burst pays "
            f"the handshake again ({ms(after_idle)} against {ms(relay_cold)} cold through the "
            "same relay). Once only, `warm_up()` helps only a panic that follows it within the "
            f"server's idle timeout; re-warmed (`keep_warm`, by default every 20 s), the first "
            f"burst 10 minutes later takes {ms(kept)} against {ms(not_kept)}."
        ],
        [
            f"**Warm-up:** `warm_up()` ({ms(warm_cost)}, paid ahead) takes a "
            f"{HANDSHAKE * 1000:g} ms connection handshake out of the first burst ({ms(cold)} → "
            f"{ms(warmed)}); re-warmed every 20 s (`keep_warm`, the default), a burst 10 minutes "
            f"later still takes {ms(kept)} where a single warm-up, its connections closed by the "
            f"server, gives {ms(not_kept)} (scaled run)."
        ],
    )
