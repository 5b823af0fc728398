"""exchange="auto" against the simulator's unified account: Bitget's countdown-cancel-all fires
when the beats stop, "0" leaves nothing armed, a refusal is shown and never fatal."""

from __future__ import annotations

from bitget_cancel.sim import SimExchange

from .helpers import Strategy, eventually


async def test_the_countdown_fires_when_the_beats_stop() -> None:
    async with SimExchange(account="uta") as sim:
        sim.place_orders("BTCUSDT", 100)
        sim.place_orders("ETHUSDT", 100)
        strategy = await Strategy.start(
            sim.base_url, "--timeout", "1", "--watchdog", "none", "--exchange", "auto"
        )
        armed = strategy.armed["armed"]
        assert armed["exchange_armed"] is True
        assert armed["exchange"] == "armed (5 s)"  # clamp(ceil(1), 5, 60)
        strategy.process.kill()  # no watchdog: only the exchange can act now
        assert await eventually(lambda: sim.countdown.fired == 1)
        await strategy.finish()
        assert sim.count_open() == 0
        assert sim.countdown.cancelled == 200
        assert sim.stats.total_violations == 0  # within 1/s, well-formed


async def _leaving_cleanly(sim: SimExchange) -> Strategy:
    """A strategy with only the exchange's countdown that leaves its switch after 2 s."""
    return await Strategy.start(
        sim.base_url, "--timeout", "1", "--watchdog", "none", "--exchange", "auto",
        "--mode", "clean", "--hold", "2",
    )  # fmt: skip


async def test_a_clean_exit_disarms_the_countdown() -> None:
    async with SimExchange(account="uta") as sim:
        sim.place_orders("BTCUSDT", 50)
        strategy = await _leaving_cleanly(sim)
        code, done, _ = await strategy.finish()
        assert code == 0
        assert done is not None
        assert done["exchange_armed"] is False
        assert sim.countdown.armed_for is None
        assert sim.countdown.fired == 0
        assert sim.countdown.requests >= 3  # armed, refreshed, disarmed
        assert sim.count_open() == 50
        assert sim.stats.pacing_429 == 0


async def test_a_refused_countdown_is_shown_and_the_watchdog_goes_on() -> None:
    async with SimExchange(account="uta") as sim:
        sim.countdown.refused = True
        sim.place_orders("BTCUSDT", 50)
        strategy = await Strategy.start(sim.base_url, "--timeout", "1", "--exchange", "auto")
        armed = strategy.armed["armed"]
        assert armed["exchange_armed"] is False
        assert armed["exchange"].startswith("refused: code 40014")
        strategy.process.kill()
        assert await eventually(lambda: sim.count_open() == 0)  # the process watchdog acted
        await strategy.finish()
        assert sim.countdown.requests == 1


async def test_a_classic_account_says_there_is_nothing_to_arm() -> None:
    async with SimExchange() as sim:
        strategy = await Strategy.start(
            sim.base_url, "--timeout", "2", "--exchange", "auto", "--mode", "clean"
        )
        assert strategy.armed["armed"]["exchange"].startswith("classic account")
        code, _, _ = await strategy.finish()
        assert code == 0
        assert sim.countdown.requests == 0


async def test_a_refusal_after_arming_does_not_hide_the_countdown_still_running() -> None:
    # The exchange took the countdown, then refuses its refreshes (and so its "0"): what it
    # armed still runs out and cancels every order. The switch must not say it is unarmed.
    async with SimExchange(account="uta") as sim:
        sim.place_orders("BTCUSDT", 50)
        strategy = await _leaving_cleanly(sim)
        assert strategy.armed["armed"]["exchange_armed"] is True
        sim.countdown.refused = True
        code, done, _ = await strategy.finish()
        assert code == 0
        assert done is not None
        assert sim.countdown.armed_for is not None  # the exchange still counts down
        assert done["exchange_armed"] is True
        assert done["exchange"].startswith("refused: code 40014")
