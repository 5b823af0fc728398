"""The exchange's countdown-cancel-all through a switch, on virtual time against a fake that
answers like the simulator: armed on a UTA, refreshed within 1/s, "0" at a clean exit; a
refusal logged once and never fatal; nothing on a classic account."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time

import pytest

from bitget_cancel import CancelEngine, Credentials, HttpRequest, HttpResponse, MockTransport

KEYS = Credentials(api_key="k", secret_key="s", passphrase="p")
COUNTDOWN = "/api/v3/trade/countdown-cancel-all"


def _answer(data: object, code: str = "00000", msg: str = "success") -> HttpResponse:
    body = {"code": code, "msg": msg, "requestTime": int(time.time() * 1000), "data": data}
    return HttpResponse(200, json.dumps(body).encode())


class Exchange:
    def __init__(self, account: str, *, refuse: bool = False) -> None:
        self.account = account
        self.refuse = refuse
        self.countdowns: list[tuple[float, str]] = []

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        now = asyncio.get_running_loop().time()
        if request.path == "/api/v2/public/time":
            return _answer({"serverTime": str(int(time.time() * 1000))})
        if request.path.startswith("/api/v3/") and self.account == "classic":
            return _answer(None, "40084", "classic account")
        if request.path.startswith("/api/v2/spot/") and self.account == "uta":
            return _answer(None, "40085", "You are in Unified Account mode")
        if request.path == "/api/v2/spot/trade/unfilled-orders":
            return _answer([])
        if request.path == "/api/v3/trade/unfilled-orders":
            return _answer({"list": [], "cursor": ""})
        if request.path == COUNTDOWN:
            self.countdowns.append((now, json.loads(request.body)["countdown"]))
            if self.refuse:
                return _answer(None, "40014", "Incorrect permissions")
            return _answer("success")
        raise AssertionError(f"unexpected {request.path}")


async def test_a_uta_arms_refreshes_within_its_budget_and_disarms() -> None:
    exchange = Exchange("uta")
    async with CancelEngine(KEYS, transport=MockTransport(exchange)) as engine:
        switch = engine.dead_man_switch(1.5, watchdog=None)
        async with switch:
            assert switch.exchange_armed
            assert switch.status.exchange == "armed (5 s)"
            await asyncio.sleep(6)
        assert not switch.exchange_armed
    values = [value for _, value in exchange.countdowns]
    assert values[0] == "5"
    assert values[-1] == "0"
    assert set(values[:-1]) == {"5"}
    sent = [at for at, _ in exchange.countdowns]
    # Beats every 0.5 s, but never two countdowns within the endpoint's second.
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(sent))
    assert len(values) >= 4  # refreshed while the block ran


async def test_a_refusal_is_logged_once_and_never_fatal(caplog: pytest.LogCaptureFixture) -> None:
    exchange = Exchange("uta", refuse=True)
    caplog.set_level(logging.WARNING, logger="bitget_cancel")
    async with (
        CancelEngine(KEYS, transport=MockTransport(exchange)) as engine,
        engine.dead_man_switch(2, watchdog=None) as switch,
    ):
        await asyncio.sleep(5)
        assert switch.exchange_armed is False
        assert switch.status.exchange.startswith("refused: code 40014")
    assert len(exchange.countdowns) == 1  # asked once, never again, no "0" for nothing
    assert sum("refused its countdown" in r.getMessage() for r in caplog.records) == 1


async def test_a_classic_account_has_nothing_to_arm(caplog: pytest.LogCaptureFixture) -> None:
    exchange = Exchange("classic")
    caplog.set_level(logging.WARNING, logger="bitget_cancel")
    async with (
        CancelEngine(KEYS, transport=MockTransport(exchange)) as engine,
        engine.dead_man_switch(60, watchdog=None) as switch,
    ):
        assert switch.status.exchange.startswith("classic account")
        assert switch.exchange_armed is False
    assert exchange.countdowns == []
    assert any("nothing watches it" in record.getMessage() for record in caplog.records)


async def test_exchange_off_never_arms_it() -> None:
    exchange = Exchange("uta")
    async with CancelEngine(KEYS, transport=MockTransport(exchange), account="uta") as engine:
        with pytest.raises(Exception, match="nothing to watch"):
            engine.dead_man_switch(2, watchdog=None, exchange="off")
    assert exchange.countdowns == []


@pytest.mark.parametrize(("timeout", "seconds"), [(1, "5"), (10, "10"), (10.2, "11"), (600, "60")])
async def test_the_countdown_is_the_timeout_clamped(timeout: float, seconds: str) -> None:
    exchange = Exchange("uta")
    async with (
        CancelEngine(KEYS, transport=MockTransport(exchange), account="uta") as engine,
        engine.dead_man_switch(timeout, watchdog=None),
    ):
        pass
    assert [value for _, value in exchange.countdowns] == [seconds, "0"]
