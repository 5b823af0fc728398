"""Hostile answers over real HTTP, from a tiny aiohttp server on 127.0.0.1: a proxy's HTML page,
a 10 MB body, a gzip bomb, a body that never ends, a reset connection, a server that stops
answering. Each is classified and logged, never a crash; a deadline holds in real time; and at
DEBUG logging neither the secret key nor the passphrase shows anywhere."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from bitget_cancel import CancelEngine, CancelReport, CancelStatus, CancelTarget, Credentials

SECRET = "S3CRET-over-http-2b9f1c"
PASSPHRASE = "PaSS-over-http-77aa"
CREDS = Credentials(api_key="http-key", secret_key=SECRET, passphrase=PASSPHRASE)
BATCH_PATH = "/api/v2/spot/trade/batch-cancel-order"

Behaviour = Callable[[web.Request, dict[str, Any], "HostileServer"], Awaitable[web.StreamResponse]]


def envelope(data: Any, code: str = "00000", msg: str = "success") -> bytes:
    return json.dumps({"code": code, "msg": msg, "requestTime": 1, "data": data}).encode()


LISTING_PATHS = ("/api/v2/spot/trade/unfilled-orders", "/api/v2/spot/trade/current-plan-order")


class HostileServer:
    """Answers the n-th batch-cancel request with ``behaviours[n]``, then like the exchange."""

    def __init__(self, behaviours: list[Behaviour], open_ids: set[str]) -> None:
        self.behaviours = behaviours
        self.open_ids = open_ids
        self.requests = 0
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    def cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        success, failure = [], []
        for order in body["orderList"]:
            order_id = order.get("orderId")
            if order_id in self.open_ids:
                self.open_ids.discard(order_id)
                success.append({"orderId": order_id, "clientOid": None})
            else:
                failure.append(
                    {"orderId": order_id, "errorCode": "43001", "errorMsg": "does not exist"}
                )
        return {"successList": success, "failureList": failure}

    def listing(self, request: web.Request) -> Any:
        """The open orders, as the listings a cancel's confirmation reads show them (this
        server holds normal orders on BTCUSDT only)."""
        if request.path.endswith("/current-plan-order"):
            return {"nextFlag": False, "idLessThan": "", "orderList": []}
        if request.query.get("tpslType") == "tpsl":
            return []
        rows = sorted(self.open_ids, key=int, reverse=True)
        below = request.query.get("idLessThan")
        rows = [i for i in rows if below is None or int(i) < int(below)]
        return [{"symbol": "BTCUSDT", "orderId": i, "clientOid": None} for i in rows[:100]]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path in LISTING_PATHS:
            return web.Response(
                body=envelope(self.listing(request)), content_type="application/json"
            )
        if request.path != BATCH_PATH:
            return web.Response(status=404)
        body = json.loads(await request.read())
        index = self.requests
        self.requests += 1
        if index < len(self.behaviours):
            return await self.behaviours[index](request, body, self)
        return web.Response(body=envelope(self.cancel(body)), content_type="application/json")

    async def __aenter__(self) -> HostileServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


# -- behaviours -----------------------------------------------------------------------------------


async def html_502(request: web.Request, body: dict[str, Any], srv: HostileServer) -> Any:
    page = "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"
    return web.Response(status=502, text=page, content_type="text/html")


async def html_200(request: web.Request, body: dict[str, Any], srv: HostileServer) -> Any:
    page = "<html><body>Please enable cookies. Checking your browser...</body></html>"
    return web.Response(status=200, text=page, content_type="text/html")


async def ten_mb(request: web.Request, body: dict[str, Any], srv: HostileServer) -> Any:
    srv.cancel(body)  # performed, then the answer is absurd
    junk = b'{"code":"00000","msg":"' + b"x" * (10 * 1024 * 1024) + b'"}'
    return web.Response(status=200, body=junk, content_type="application/json")


@functools.cache
def _bomb() -> bytes:
    return gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=6)  # ~64 KB on the wire


async def gzip_bomb(request: web.Request, body: dict[str, Any], srv: HostileServer) -> Any:
    bomb = _bomb()
    return web.Response(
        status=200,
        body=bomb,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )


async def endless(request: web.Request, body: dict[str, Any], srv: HostileServer) -> Any:
    srv.cancel(body)
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    await response.prepare(request)
    await response.write(b'{"code":"00000","msg":"success","data":{"successList":[')
    while True:  # a body that never ends
        await response.write(b'{"orderId":"1"},')
        await asyncio.sleep(0.01)


async def silent(request: web.Request, body: dict[str, Any], srv: HostileServer) -> Any:
    await asyncio.sleep(3600)  # accepted, read, never answered
    raise AssertionError("unreachable")


async def reset(request: web.Request, body: dict[str, Any], srv: HostileServer) -> Any:
    assert request.transport is not None
    request.transport.abort()
    return web.Response()


async def data_null(request: web.Request, body: dict[str, Any], srv: HostileServer) -> Any:
    srv.cancel(body)
    return web.Response(body=envelope(None), content_type="application/json")


async def not_json_400(request: web.Request, body: dict[str, Any], srv: HostileServer) -> Any:
    return web.Response(status=400, text="Bad Request", content_type="text/plain")


async def trickle(request: web.Request, body: dict[str, Any], srv: HostileServer) -> Any:
    """A good answer that arrives in many small pieces, as over a slow or lossy network."""
    payload = envelope(srv.cancel(body))
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.content_length = len(payload)
    await response.prepare(request)
    for i in range(0, len(payload), 100):
        await response.write(payload[i : i + 100])
        await asyncio.sleep(0.001)
    await response.write_eof()
    return response


# -- helpers --------------------------------------------------------------------------------------


def book(n: int = 120) -> tuple[list[CancelTarget], set[str]]:
    ids = [str(40_000 + i) for i in range(n)]
    return [CancelTarget(symbol="BTCUSDT", order_id=i) for i in ids], set(ids)


@contextlib.asynccontextmanager
async def engine_against(
    behaviours: list[Behaviour], n: int = 120, **kwargs: Any
) -> AsyncIterator[tuple[CancelEngine, HostileServer, list[CancelTarget]]]:
    targets, open_ids = book(n)
    async with HostileServer(behaviours, open_ids) as server:
        kwargs.setdefault("request_timeout", 0.5)
        kwargs.setdefault("rng", random.Random(3))
        async with CancelEngine(CREDS, base_url=server.base_url, **kwargs) as engine:
            yield engine, server, targets


CASES: list[tuple[Behaviour, bool, str]] = [
    # behaviour, performed before the bad answer, what the outcome says when attempts run out
    (html_502, False, "HTTP 502 with an unusable HTML/garbled body"),
    (html_200, False, "HTTP 200 with an unusable HTML/garbled body"),
    (ten_mb, True, "answer larger than"),
    (gzip_bomb, False, "answer larger than"),
    (endless, True, "timeout"),
    (silent, False, "timeout"),
    (reset, False, "network"),
    (data_null, True, "no usable data"),
]


@pytest.mark.parametrize(
    ("behaviour", "performed", "says"), CASES, ids=[c[0].__name__ for c in CASES]
)
async def test_a_hostile_answer_is_classified_and_survived(
    behaviour: Behaviour, performed: bool, says: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bitget_cancel")
    # A timeout case needs a short timeout; the others a long one, so that a sane answer slowed
    # by a loaded machine (or by the client inflating a bomb) is not read as lost.
    timeout = 1.0 if says == "timeout" else 10.0
    # Every one of the first burst's three requests gets the hostile answer, then sanity.
    async with engine_against([behaviour] * 3, request_timeout=timeout) as (
        engine,
        server,
        targets,
    ):
        report = await engine.cancel(targets)
    assert [o.target for o in report.outcomes] == targets
    assert report.all_closed, report.outcomes[:2]
    assert not server.open_ids
    expected = CancelStatus.NOT_OPEN if performed else CancelStatus.CANCELLED
    assert {o.status for o in report.outcomes} == {expected}
    assert {o.attempts for o in report.outcomes} == {2}
    assert "batch-cancel" in caplog.text  # logged

    async with engine_against([behaviour] * 3, max_attempts=1, request_timeout=timeout) as (
        engine,
        server,
        targets,
    ):
        report = await engine.cancel(targets)
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    assert all(says in (o.error_msg or "") for o in report.outcomes), report.outcomes[0]


async def test_an_answer_arriving_in_pieces_is_read_whole() -> None:
    """Bug found: the transport read the body with one ``content.read(n)``, which returns what
    has arrived so far, not the whole body: an answer split over several TCP segments came back
    cut, was taken for garbage and its orders were asked again (and reported not_open)."""
    async with engine_against([trickle] * 3) as (engine, server, targets):
        report = await engine.cancel(targets)
    assert {o.status for o in report.outcomes} == {CancelStatus.CANCELLED}
    assert {o.attempts for o in report.outcomes} == {1}
    assert server.requests == 3


async def test_a_plain_text_400_fails_with_what_it_said() -> None:
    async with engine_against([not_json_400] * 3) as (engine, server, targets):
        report = await engine.cancel(targets)
    assert {o.status for o in report.outcomes} == {CancelStatus.FAILED}
    assert server.requests == 3  # no retries of a client error
    assert all("HTTP 400" in (o.error_msg or "") for o in report.outcomes)


async def test_a_server_that_stops_answering_cannot_hold_the_call_past_its_deadline() -> None:
    async with engine_against([silent] * 1000, n=1500, request_timeout=5.0) as (eng, _, targets):
        report = await eng.cancel(targets, deadline=2)
        await eng.close()  # straight after: nothing left dangling
    # (How long it took is measured on the virtual clock, exactly: tests/unit/test_deadline.py.)
    assert [o.target for o in report.outcomes] == targets
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    sent = [o for o in report.outcomes if o.attempts]
    assert len(sent) == 500  # the first burst; the rest never went out
    for outcome in report.outcomes:
        msg = outcome.error_msg or ""
        assert msg.startswith("deadline of 2s passed"), msg
        if outcome.attempts:  # unresolved ones that were sent say the cancel may have happened
            assert "may have" in msg, msg
        else:
            assert msg == "deadline of 2s passed before it could be sent"


def _leaks(text: str) -> list[str]:
    return [s for s in (SECRET, PASSPHRASE) if s in text]


async def test_no_secret_shows_at_debug_level_over_real_http(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: this package, aiohttp, asyncio
    texts: list[str] = []
    behaviours: list[Behaviour] = [html_502, reset, ten_mb, endless, data_null, not_json_400]
    async with engine_against(behaviours * 2, max_attempts=4) as (engine, _, targets):
        texts.append(repr(engine))
        report = await engine.cancel(targets, deadline=5)
        texts += [repr(report), json.dumps(report.to_dict())]
    texts += [caplog.text, *capsys.readouterr()]
    assert "batch-cancel" in caplog.text
    assert _leaks("\n".join(texts)) == []


async def test_every_hostile_report_is_valid_json(caplog: pytest.LogCaptureFixture) -> None:
    async with engine_against([ten_mb, gzip_bomb, html_502], max_attempts=1) as (eng, _, targets):
        report: CancelReport = await eng.cancel(targets)
    decoded = json.loads(json.dumps(report.to_dict()))
    assert decoded["counts"]["unresolved"] == len(targets)
