"""The aiohttp transport, one layer, with aioresponses (no sockets)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import inspect
import json
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from bitget_cancel._exceptions import InvalidArgument, RequestTimeout, TransportError
from bitget_cancel._transport import AiohttpTransport, HttpRequest, check_base_url, check_proxy

BASE = "https://api.example.test"
PATH = "/api/v2/spot/trade/batch-cancel-order"
CREDS = Credentials(api_key="http-key", secret_key="http-secret", passphrase="http-pass")


class _NoUpload:
    output_size = 0


_NEEDS_STREAM_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse).parameters


class MockedResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 omits the ``stream_writer`` aiohttp 3.14 requires
    (pnuckowski/aioresponses#289, fix pending in #288); supply a stand-in, only to the aiohttp
    releases whose ``ClientResponse`` takes one (the package supports older ones too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if _NEEDS_STREAM_WRITER:
            kwargs.setdefault("stream_writer", _NoUpload())
        super().__init__(*args, **kwargs)


def ok(success: list[dict[str, str]]) -> dict[str, object]:
    return {"code": "00000", "msg": "success", "requestTime": 1,
            "data": {"successList": success, "failureList": []}}  # fmt: skip


async def test_the_engine_posts_a_signed_body_exactly_as_signed() -> None:
    with aioresponses() as mock:
        mock.post(
            BASE + PATH,
            payload=ok([{"orderId": "42", "clientOid": "c"}]),
            response_class=MockedResponse,
        )
        async with CancelEngine(CREDS, base_url=BASE) as engine:
            report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id="42")])
        ((_, _url), calls) = next(iter(mock.requests.items()))
    assert report.outcomes[0].status is CancelStatus.CANCELLED
    (call,) = calls
    body: bytes = call.kwargs["data"]
    headers = call.kwargs["headers"]
    assert json.loads(body) == {
        "symbol": "BTCUSDT", "batchMode": "single", "orderList": [{"orderId": "42"}]
    }  # fmt: skip
    prehash = headers["ACCESS-TIMESTAMP"].encode() + b"POST" + PATH.encode() + body
    expected = base64.b64encode(hmac.new(b"http-secret", prehash, hashlib.sha256).digest())
    assert headers["ACCESS-SIGN"] == expected.decode()
    assert headers["ACCESS-KEY"] == "http-key"
    assert headers["ACCESS-PASSPHRASE"] == "http-pass"
    assert headers["Content-Type"] == "application/json"


async def test_a_timeout_becomes_request_timeout() -> None:
    transport = AiohttpTransport(BASE)
    with aioresponses() as mock:
        mock.post(BASE + PATH, exception=asyncio.TimeoutError())
        with pytest.raises(RequestTimeout):
            await transport.send(HttpRequest("POST", PATH, "", b"{}", {}, 1.0))
    await transport.close()


async def test_a_connection_error_becomes_transport_error() -> None:
    transport = AiohttpTransport(BASE)
    with aioresponses() as mock:
        mock.post(BASE + PATH, exception=aiohttp.ServerDisconnectedError())
        with pytest.raises(TransportError, match="ServerDisconnectedError"):
            await transport.send(HttpRequest("POST", PATH, "", b"{}", {}, 1.0))
    await transport.close()


async def test_the_query_string_goes_out_as_signed() -> None:
    transport = AiohttpTransport(BASE)
    query = "symbol=BTCUSDT&limit=100&idLessThan=123"
    with aioresponses() as mock:
        mock.get(
            BASE + "/api/v2/spot/trade/unfilled-orders?" + query,
            payload={"code": "00000"},
            response_class=MockedResponse,
        )
        response = await transport.send(
            HttpRequest("GET", "/api/v2/spot/trade/unfilled-orders", query, b"", {}, 1.0)
        )
    assert response.status == 200
    await transport.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.bitget.com", "https://api.bitget.com"),
        ("https://api.bitget.com/", "https://api.bitget.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("HTTPS://API.BITGET.COM", "HTTPS://API.BITGET.COM"),
        ("https://gateway.example.test/bitget/", "https://gateway.example.test/bitget"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_an_absolute_http_url_is_a_base_url(given: str, expected: str) -> None:
    assert check_base_url(given) == expected
    assert check_proxy(given) == given


@pytest.mark.parametrize(
    "given",
    [
        "api.bitget.com",  # issue 13: accepted, then every order ended unresolved
        "localhost:8080",
        "//api.bitget.com",
        "/api/v2",
        "",
        "https://",
        "http:///path",
        "ftp://api.bitget.com",
        "ws://api.bitget.com",
        "https://api.bitget.com?x=1",
        "https://api.bitget.com#top",
        "https://api.bitget.com:99999",
        " https://api.bitget.com",
        "https://api.bitget.com\n",
        "https://api bitget.com",
    ],
)
def test_anything_else_is_refused_naming_base_url(given: str) -> None:
    with pytest.raises(InvalidArgument, match="base_url must be an absolute http"):
        check_base_url(given)
    with pytest.raises(InvalidArgument, match="base_url"):
        AiohttpTransport(given)
    with pytest.raises(InvalidArgument, match="proxy must be an absolute http"):
        check_proxy(given)


@pytest.mark.parametrize("given", [None, b"https://api.bitget.com", 443])
def test_a_base_url_must_be_text(given: object) -> None:
    with pytest.raises(InvalidArgument, match="base_url must be a string"):
        check_base_url(given)


def test_a_base_url_never_carries_credentials() -> None:
    with pytest.raises(InvalidArgument, match="base_url must not carry a user") as info:
        check_base_url("https://me:hunter2@api.bitget.com")
    assert "hunter2" not in str(info.value)


async def test_the_engine_refuses_a_base_url_without_a_scheme_before_any_request() -> None:
    with pytest.raises(InvalidArgument, match="base_url"):
        CancelEngine(CREDS, base_url="api.bitget.com")


@pytest.mark.parametrize(
    "given", ["me:hunter2@proxy.local:3128", "socks5://me:hunter2@proxy.local:1080", "x@hunter2@"]
)
def test_a_refused_proxy_is_not_echoed_with_its_password(given: str) -> None:
    with pytest.raises(InvalidArgument, match="proxy must be") as info:
        AiohttpTransport(BASE, proxy=given)
    assert "hunter2" not in str(info.value)
    assert "***@" in str(info.value)


def test_the_transport_repr_hides_the_proxy_password() -> None:
    transport = AiohttpTransport(BASE, proxy="http://me:hunter2@proxy.local:3128")
    assert repr(transport) == (
        "AiohttpTransport('https://api.example.test', pool_size=32, "
        "proxy='http://***@proxy.local:3128', trust_env=False, demo_trading=False)"
    )
