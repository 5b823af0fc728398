"""Wrong credentials: fail fast (no retries), every target FAILED with the exchange's code."""

from __future__ import annotations

import asyncio
import random

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from .exchange_book import envelope
from .scripted_exchange import AUTH, ScriptedExchange, Step

CREDS = Credentials(api_key="wrong-key", secret_key="wrong-secret", passphrase="wrong-pass")

REFUSALS = [
    ("40006", "Invalid ACCESS_KEY"),
    ("40009", "sign signature error"),
    ("40011", "Invalid ACCESS_PASSPHRASE"),
    ("40012", "apikey/password is incorrect"),
    ("40014", "Incorrect permissions"),
]


def book(exchange: ScriptedExchange, n: int) -> list[CancelTarget]:
    targets = []
    for i in range(n):
        symbol = f"S{i % 3}USDT"
        exchange.place(symbol, str(30_000 + i), f"c{i}" if i % 2 else None)
        if i % 4 == 1:
            targets.append(CancelTarget(symbol=symbol, client_oid=f"c{i}"))
        else:
            targets.append(CancelTarget(symbol=symbol, order_id=str(30_000 + i)))
    return targets


@pytest.mark.parametrize(("code", "msg"), REFUSALS)
@pytest.mark.parametrize("status", [400, 401, 403, 200])
async def test_refused_credentials_fail_every_target_at_once(
    code: str, msg: str, status: int
) -> None:
    """Bug found: after the exchange refused the credentials the engine kept sending every
    remaining batch (2000 orders: 40 requests over 4 s) to hear the same refusal 40 times."""
    exchange = ScriptedExchange()
    targets = book(exchange, 2000)  # 40+ requests

    async def refuse(request: HttpRequest) -> HttpResponse:
        if request.path.endswith("/batch-cancel-order"):
            exchange.bodies.append({})
            await asyncio.sleep(0.02)
            return HttpResponse(status, envelope(None, code, msg))
        return await exchange.handle(request)

    engine = CancelEngine(
        CREDS, transport=MockTransport(refuse), wall_clock=exchange.wall_clock, rng=random.Random()
    )
    async with engine:
        report = await engine.cancel(targets)
    assert len(exchange.bodies) <= 10  # the first burst, nothing after the refusal
    assert report.elapsed == pytest.approx(0.02)
    assert [o.target for o in report.outcomes] == targets
    assert {o.status for o in report.outcomes} == {CancelStatus.FAILED}
    assert {o.error_code for o in report.outcomes} == {code}
    assert all(msg in (o.error_msg or "") for o in report.outcomes)
    assert max(o.attempts for o in report.outcomes) == 1  # never retried
    assert len(exchange.open_orders) == 2000


async def test_a_refusal_mid_run_fails_only_what_is_left() -> None:
    exchange = ScriptedExchange(steps=[Step("ok")] * 10 + [Step(AUTH)] * 100)
    targets = book(exchange, 1200)  # 24+ requests: 10 answered, then the key is revoked
    engine = CancelEngine(CREDS, transport=exchange.transport(), wall_clock=exchange.wall_clock)
    async with engine:
        report = await engine.cancel(targets)
    assert len(report.cancelled) == 500
    assert {o.error_code for o in report.failed} == {"40006"}
    assert len(report.cancelled) + len(report.failed) == 1200
    assert len(exchange.bodies) <= 20


async def test_a_request_level_refusal_that_is_not_about_credentials_stays_local() -> None:
    # 40017 (parameter verification) is about that request, not the account: others go on,
    # and the refused request is split so that each half gets its own answer.
    exchange = ScriptedExchange(steps=[Step("fatal_code")])
    targets = book(exchange, 200)
    engine = CancelEngine(CREDS, transport=exchange.transport(), wall_clock=exchange.wall_clock)
    async with engine:
        report = await engine.cancel(targets)
    assert len(report.cancelled) == 200
    sizes = sorted(len(body["orderList"]) for body in exchange.bodies)
    assert sizes == [25, 25, 50, 50, 50, 50]
