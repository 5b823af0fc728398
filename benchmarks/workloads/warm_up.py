"""6. Connection warm-up: the first burst with and without ``warm_up()``."""

from __future__ import annotations

from ._common import Check, Section, median, ms
from .burst import LATENCY, TARGETS, burst_trial

# TCP + TLS 1.2 to the exchange: about three round trips before the first byte of a request.
HANDSHAKE = 3 * LATENCY


async def run(quick: bool) -> Section:
    repeats = 3 if quick else 11
    cold = [await burst_trial(seed, warm=False, handshake=HANDSHAKE) for seed in range(repeats)]
    warm = [await burst_trial(seed, warm=True, handshake=HANDSHAKE) for seed in range(repeats)]
    cold_s = median([t.elapsed for t in cold])
    warm_s = median([t.elapsed for t in warm])
    warm_up_s = median([t.warm_up for t in warm])
    closed = all(t.all_closed for t in cold + warm)
    rows = [
        ["cold: no `warm_up()`", ms(cold_s), f"{cold_s / LATENCY:.2f}", "—"],
        ["after `warm_up()`", ms(warm_s), f"{warm_s / LATENCY:.2f}", ms(warm_up_s)],
        ["saved by warming up", f"**{ms(cold_s - warm_s)}**", "", ""],
    ]
    intro = f"""
The burst of workload 2 ({TARGETS} targets, 10 requests, latency {LATENCY * 1000:g} ms) from a
fresh engine, with the simulator charging a handshake of {HANDSHAKE * 1000:g} ms (about TCP +
TLS 1.2, three round trips) on the first request of every new connection
(`SimExchange(handshake_ms={HANDSHAKE * 1000:g})`). "After `warm_up()`": `await
engine.warm_up()` (10 parallel reads of the exchange clock, which open and keep 10
connections), 50 ms pause, then the burst. Medians of {repeats} runs each.
"""
    check = Check(
        "6. warm-up",
        f"first burst {ms(cold_s)} cold, {ms(warm_s)} warm",
        "warm-up removes the handshake from the first burst",
        warm_s + HANDSHAKE / 2 < cold_s and closed,
    )
    return Section(
        6,
        "Connection warm-up",
        intro,
        ["first burst", "time to all outcomes (median)", "in latencies", "warm_up() itself"],
        rows,
        [check],
    )
