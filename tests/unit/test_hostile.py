"""Hostile answers: each is classified, logged, and never crashes the engine (virtual time)."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest

from bitget_cancel import CancelEngine, CancelReport, CancelStatus, CancelTarget, Credentials
from bitget_cancel._exceptions import RequestTimeout
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport
from bitget_cancel._wire import ANY_CODEC

from .exchange_book import envelope
from .scripted_exchange import ScriptedExchange

CREDS = Credentials(api_key="hostile-key", secret_key="hostile-secret", passphrase="hostile-pass")
BTC = "BTCUSDT"

# An answer: given the request body and the exchange (to perform the cancels or not), a response.
Answer = Callable[[dict[str, Any], ScriptedExchange], Awaitable[HttpResponse]]


def performed(make: Callable[[dict[str, Any]], bytes], status: int = 200) -> Answer:
    """The exchange cancels what it can, then answers ``make(data)``."""

    async def answer(body: dict[str, Any], exchange: ScriptedExchange) -> HttpResponse:
        data = exchange._cancel(body, "ok", random.Random(0))
        return HttpResponse(status, make(data))

    return answer


def not_performed(payload: bytes, status: int = 200) -> Answer:
    async def answer(body: dict[str, Any], exchange: ScriptedExchange) -> HttpResponse:
        return HttpResponse(status, payload)

    return answer


async def run(
    answers: list[Answer],
    targets: list[CancelTarget],
    absent: Sequence[CancelTarget] = (),
    confirm: bool = True,
    **engine_kwargs: Any,
) -> tuple[CancelReport, ScriptedExchange]:
    """Answer the first requests with ``answers``, the rest like the exchange would. Every
    target is an open order, but ``absent`` ones (sent after the others)."""
    exchange = ScriptedExchange()
    for t in targets:
        exchange.place(t.symbol, t.order_id or f"x-{t.client_oid}", t.client_oid)

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path.endswith("/batch-cancel-order") and len(exchange.bodies) < len(answers):
            body = json.loads(request.body)
            exchange.bodies.append(body)
            return await answers[len(exchange.bodies) - 1](body, exchange)
        return await exchange.handle(request)

    engine_kwargs.setdefault("rng", random.Random(1))
    engine_kwargs.setdefault("wall_clock", exchange.wall_clock)
    engine = CancelEngine(CREDS, transport=MockTransport(handle), **engine_kwargs)
    async with engine:
        report = await engine.cancel([*targets, *absent], confirm=confirm)
    assert [o.target for o in report.outcomes] == list(dict.fromkeys([*targets, *absent]))
    return report, exchange


def orders(n: int, symbol: str = BTC) -> list[CancelTarget]:
    return [CancelTarget(symbol=symbol, order_id=str(7_000_000 + i)) for i in range(n)]


HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>"
)


# -- whole-request garbage: retried, and the reason is kept ------------------------------------


@pytest.mark.parametrize(
    ("name", "answer", "expect_in_msg"),
    [
        ("html 502 from a proxy", not_performed(HTML_PAGE, 502), "HTTP 502"),
        ("html 503 from a proxy", not_performed(HTML_PAGE, 503), "HTTP 503"),
        ("html page with HTTP 200", not_performed(HTML_PAGE, 200), "HTML/garbled"),
        ("data null", not_performed(envelope(None)), "no usable data"),
        ("data a list", not_performed(envelope([])), "no usable data"),
        ("body json null", not_performed(b"null"), "unusable"),
        ("body a json list", not_performed(b"[1, 2]"), "unusable"),
        ("body empty", not_performed(b""), "unusable"),
        ("body not utf-8", not_performed(b"\xff\xfe{\x00"), "unusable"),
        ("cut json after cancelling", performed(lambda d: envelope(d)[:40]), "unusable"),
        ("items not objects", not_performed(envelope({"successList": ["1"]})), "no usable"),
        ("10 MB of garbage", not_performed(b"x" * 10_000_000), "10000000 bytes"),
        ("10 MB json", not_performed(b'{"a":"' + b"x" * 10_000_000 + b'"}'), "unusable"),
        ("json 500 transient code", not_performed(envelope(None, "40015", "abnormal"), 500), ""),
        ("http 200 transient code", not_performed(envelope(None, "45001", "Unknown")), ""),
        ("http 200 429 code", not_performed(envelope(None, "429", "Too many")), ""),
        ("http 200 request not-open code", not_performed(envelope(None, "43001", "gone")), ""),
    ],
)
async def test_garbage_is_retried_and_the_orders_still_close(
    name: str, answer: Answer, expect_in_msg: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bitget_cancel")
    targets = orders(3)
    report, exchange = await run([answer], targets)
    assert report.all_closed, report.outcomes
    assert not exchange.open_orders
    assert {o.attempts for o in report.outcomes} == {2}
    # classified and logged: the log says why it was asked again
    assert any("retry" in r.getMessage() for r in caplog.records), name
    # ...and when attempts run out, the outcome keeps the reason
    report, _ = await run([answer], orders(2), max_attempts=1)
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    assert all(expect_in_msg in (o.error_msg or "") for o in report.outcomes), report.outcomes


async def test_a_body_that_never_ends_times_out_and_is_retried() -> None:
    async def hang(body: dict[str, Any], exchange: ScriptedExchange) -> HttpResponse:
        exchange._cancel(body, "ok", random.Random(0))
        raise RequestTimeout("no complete answer within 5s")

    report, _ = await run([hang], orders(3))
    assert {o.status for o in report.outcomes} == {CancelStatus.NOT_OPEN}  # gone by the retry
    report, _ = await run([hang], orders(3), max_attempts=1)
    assert {o.status for o in report.outcomes} == {CancelStatus.UNRESOLVED}
    assert all("timeout" in (o.error_msg or "") for o in report.outcomes)


# -- HTTP 200 with a non-"00000" code ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "msg"),
    [("40006", "Invalid ACCESS_KEY"), ("49999", "new")],
)
async def test_http_200_with_a_refusal_code_fails_at_once(code: str, msg: str) -> None:
    """Bug found: a 2xx status used to turn any refusal into a retry (5 of them, then
    'unresolved'), as if the body had been garbled."""
    report, exchange = await run([not_performed(envelope(None, code, msg))] * 5, orders(3))
    assert len(exchange.bodies) == 1
    assert {o.status for o in report.outcomes} == {CancelStatus.FAILED}
    assert {(o.error_code, o.error_msg) for o in report.outcomes} == {(code, msg)}


@pytest.mark.parametrize("code", ["40017", "40402", "40924", "40912"])
async def test_a_refused_request_content_is_split_until_each_order_is_alone(code: str) -> None:
    """Bug found: one malformed order failed its neighbours with the whole request. Now a
    refusal of the content is halved until the refused orders are alone, each with the code."""
    answers = [not_performed(envelope(None, code, "refused"))] * 5
    report, exchange = await run(answers, orders(3))
    assert sorted(len(b["orderList"]) for b in exchange.bodies) == [1, 1, 1, 2, 3]
    assert {o.status for o in report.outcomes} == {CancelStatus.FAILED}
    assert {o.error_code for o in report.outcomes} == {code}


# -- odd but valid answers: matched exactly -------------------------------------------------------


def _numbers(data: dict[str, Any]) -> bytes:
    for item in data["successList"] + data["failureList"]:
        item["orderId"] = int(item["orderId"])
        item["extraField"] = {"deep": [1, {"x": None}]}
    data["somethingNew"] = "ignored"
    return json.dumps({"code": "00000", "msg": "success", "data": data, "more": 1}).encode()


async def test_ids_as_numbers_and_extra_fields_are_matched() -> None:
    targets = orders(4)
    report, _ = await run([performed(_numbers)], targets, [CancelTarget(symbol=BTC, order_id="5")])
    assert [o.status for o in report.outcomes] == [CancelStatus.CANCELLED] * 4 + [
        CancelStatus.NOT_OPEN
    ]
    assert {o.attempts for o in report.outcomes} == {1}


def _duplicated(data: dict[str, Any]) -> bytes:
    success = data["successList"]
    # every success twice, and the first order also in the failure list with a transient code
    first = success[0]
    failure = [*data["failureList"], {**first, "errorCode": "40725", "errorMsg": "retry me"}]
    return envelope({"successList": success + success, "failureList": failure + failure})


async def test_duplicated_items_count_once() -> None:
    """Every item twice: each order counts once. The order also in the failure list (40725)
    is contradicted (success and "retry me"): asked again, its "does not exist" confirmed."""
    targets = orders(3)
    report, exchange = await run([performed(_duplicated)], targets)
    statuses = [o.status for o in report.outcomes]
    assert statuses == [CancelStatus.CANCELLED] * 2 + [CancelStatus.NOT_OPEN]
    assert [o["orderId"] for o in exchange.bodies[1]["orderList"]] == [targets[2].order_id]
    assert len(exchange.bodies) == 2
    assert not exchange.open_orders


async def test_success_list_null_asks_again_for_what_it_did_not_say() -> None:
    def null_success(data: dict[str, Any]) -> bytes:
        return envelope({"successList": None, "failureList": data["failureList"]})

    targets = orders(2)
    report, exchange = await run(
        [performed(null_success)], targets, [CancelTarget(symbol=BTC, order_id="404")]
    )
    # the 404 one was answered (not open); the cancelled ones are asked again: now not open
    assert [o.status for o in report.outcomes] == [CancelStatus.NOT_OPEN] * 3
    assert [o.attempts for o in report.outcomes] == [2, 2, 1]
    assert len(exchange.bodies[1]["orderList"]) == 2


async def test_error_code_absent_or_a_number_is_classified() -> None:
    async def odd_failures(body: dict[str, Any], exchange: ScriptedExchange) -> HttpResponse:
        a, b, c = (o["orderId"] for o in body["orderList"])
        failure = [
            {"orderId": a, "errorMsg": "The order does not exist"},  # no code: by message
            {"orderId": int(b), "errorCode": 43001, "errorMsg": None},  # code as a number
            {"orderId": c, "errorCode": "", "errorMsg": "Insufficient permissions"},
        ]
        return HttpResponse(200, envelope({"successList": [], "failureList": failure}))

    report, exchange = await run([odd_failures], orders(3), confirm=False)
    assert [o.status for o in report.outcomes] == [
        CancelStatus.NOT_OPEN,
        CancelStatus.NOT_OPEN,
        CancelStatus.FAILED,
    ]
    assert report.outcomes[1].error_code == "43001"
    assert exchange.list_requests == 0
    # Confirmed, the lie is caught: both "does not exist" orders are listed open, and are
    # cancelled by the same route asked again (one listing; a second one checks nothing new).
    report, exchange = await run([odd_failures], orders(3))
    assert [o.status for o in report.outcomes] == [
        CancelStatus.CANCELLED,
        CancelStatus.CANCELLED,
        CancelStatus.FAILED,
    ]
    assert [o.found_as for o in report.outcomes] == [None] * 3
    assert exchange.list_requests == 3  # normal, TP/SL and plan orders, one page each


async def test_items_with_null_or_empty_ids_are_ignored_and_the_orders_asked_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def anonymous(body: dict[str, Any], exchange: ScriptedExchange) -> HttpResponse:
        exchange._cancel(body, "ok", random.Random(0))
        items = [{"orderId": None, "clientOid": ""}, {"orderId": ""}, {}]
        return HttpResponse(200, envelope({"successList": items, "failureList": items}))

    report, _ = await run([anonymous], orders(2))
    assert [o.status for o in report.outcomes] == [CancelStatus.NOT_OPEN] * 2
    assert "matches no order" in caplog.text


# -- items for orders never sent ------------------------------------------------------------------


async def test_items_for_orders_never_sent_are_ignored(caplog: pytest.LogCaptureFixture) -> None:
    async def foreign(body: dict[str, Any], exchange: ScriptedExchange) -> HttpResponse:
        items = [{"orderId": "123456789", "clientOid": "not-mine"}, {"orderId": 42}]
        return HttpResponse(200, envelope({"successList": items, "failureList": []}))

    report, _ = await run([foreign], orders(2))
    assert [o.status for o in report.outcomes] == [CancelStatus.CANCELLED] * 2
    assert [o.attempts for o in report.outcomes] == [2, 2]
    assert "matches no order of this request" in caplog.text


async def test_a_foreign_order_id_never_claims_one_of_ours_through_its_client_oid() -> None:
    """Bug found: an item naming an orderId that was not sent was matched by its clientOid, so
    the answer for some other order marked ours CANCELLED while it was still open."""
    target = CancelTarget(symbol=BTC, order_id="1001", client_oid="mine")

    async def foreign(body: dict[str, Any], exchange: ScriptedExchange) -> HttpResponse:
        item = {"orderId": "999", "clientOid": "mine"}  # not the order we sent
        return HttpResponse(200, envelope({"successList": [item], "failureList": []}))

    report, exchange = await run([foreign], [target])
    assert report.outcomes[0].status is CancelStatus.CANCELLED
    assert report.outcomes[0].attempts == 2  # confirmed by the exchange on the second request
    assert ("BTCUSDT", "1001") in exchange.cancelled


async def test_an_answer_for_a_client_oid_batch_is_matched_by_client_oid_only() -> None:
    targets = [CancelTarget(symbol=BTC, client_oid=f"c{i}") for i in range(3)]

    async def answer(body: dict[str, Any], exchange: ScriptedExchange) -> HttpResponse:
        data = exchange._cancel(body, "ok", random.Random(0))
        for item in data["successList"]:
            item["orderId"] = int(str(item["orderId"]).removeprefix("x-c") or 0) + 5  # noise
        return HttpResponse(200, envelope(data))

    report, _ = await run([answer], targets)
    assert [o.status for o in report.outcomes] == [CancelStatus.CANCELLED] * 3


@pytest.mark.parametrize("data", [[], "", {"symbol": "BTCUSDT"}, 0, None])
async def test_a_refusal_keeps_its_code_whatever_its_data(data: object) -> None:
    """Bug found: the envelope decoder only accepted ``data: null``; any other data (a list, a
    string, an object) lost the code and the message, so a refusal became an anonymous
    failure (and a cancel-symbol-order success answer an unusable one)."""
    body = json.dumps({"code": "40006", "msg": "Invalid ACCESS_KEY", "data": data}).encode()
    decoded = ANY_CODEC.decode(body)
    assert (decoded.code, decoded.msg) == ("40006", "Invalid ACCESS_KEY")
    report, exchange = await run([not_performed(body, 400)], orders(2))
    assert len(exchange.bodies) == 1
    assert {(o.status, o.error_code) for o in report.outcomes} == {(CancelStatus.FAILED, "40006")}
