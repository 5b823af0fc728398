"""HTTP: the only module that imports aiohttp.

A transport turns (method, path, query, body, headers) into (status, body bytes) or raises a
TransportError. The engine is tested against ``MockTransport`` without sockets; the real one keeps
one aiohttp session with a pool of kept-alive connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from yarl import URL

from ._exceptions import InvalidArgument, RequestTimeout, TransportError


def check_base_url(url: object) -> str:
    """An absolute http(s) URL with a host, without a trailing slash."""
    if not isinstance(url, str):
        raise InvalidArgument(f"base_url must be a str; got {type(url).__name__}")
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidArgument(
            f"base_url must be an absolute http(s) URL such as https://api.bitget.com; got {url!r}"
        )
    return url.rstrip("/")


# A batch-cancel answer for 50 orders is ~10 KB; anything near this is not the exchange talking.
MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    query: str  # already encoded, exactly as signed; "" for none
    body: bytes
    headers: Mapping[str, str]
    timeout: float

    def __repr__(self) -> str:
        # The headers carry the passphrase: a request printed while debugging must not show it.
        headers = {k: "***" if k.upper() in _MASKED_HEADERS else v for k, v in self.headers.items()}
        return (
            f"HttpRequest({self.method} {self.path}{'?' if self.query else ''}{self.query}, "
            f"body={self.body[:200]!r}{'...' if len(self.body) > 200 else ''}, "
            f"headers={headers!r}, timeout={self.timeout:g})"
        )


_MASKED_HEADERS = frozenset({"ACCESS-PASSPHRASE", "ACCESS-SIGN"})


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes
    # Only the headers the engine reads (x-mbx-used-remain-limit); None when there are none.
    headers: Mapping[str, str] | None = None


class Transport(Protocol):
    async def send(self, request: HttpRequest) -> HttpResponse: ...

    async def warm_up(self, path: str, connections: int, timeout: float) -> None: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """One ClientSession, a pool sized for the burst, connections kept alive between batches."""

    __slots__ = ("_base_url", "_pool_size", "_session")

    def __init__(self, base_url: str, *, pool_size: int = 32) -> None:
        self._base_url = base_url.rstrip("/")
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size,
                limit_per_host=self._pool_size,
                keepalive_timeout=60.0,
                ttl_dns_cache=300,
                enable_cleanup_closed=True,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
                raise_for_status=False,
            )
            # aiohttp silently re-sends a GET once when the server drops the connection. The
            # rate budget must see every request that can reach the exchange, so all retries
            # are the engine's. No public switch exists (aiohttp 3.14); a test pins this.
            if hasattr(session, "_retry_connection"):
                session._retry_connection = False
            self._session = session
        return self._session

    async def send(self, request: HttpRequest) -> HttpResponse:
        url = self._base_url + request.path
        if request.query:
            url += "?" + request.query
        try:
            async with self._client().request(
                request.method,
                # encoded=True: the query goes out byte-for-byte as it was signed.
                URL(url, encoded=True),
                data=request.body or None,
                headers=request.headers,
                timeout=aiohttp.ClientTimeout(total=request.timeout),
                allow_redirects=False,
            ) as response:
                # read(n) returns what has arrived so far, not n bytes: read on until the end,
                # or until the cap says this is not the exchange talking.
                chunks: list[bytes] = []
                size = 0
                while chunk := await response.content.read(MAX_BODY_BYTES + 1 - size):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        response.close()  # do not drain a runaway body over a pooled connection
                        raise TransportError(f"answer larger than {MAX_BODY_BYTES} bytes")
                remaining = response.headers.get("x-mbx-used-remain-limit")
                headers = None if remaining is None else {"x-mbx-used-remain-limit": remaining}
                return HttpResponse(response.status, b"".join(chunks), headers)
        except asyncio.TimeoutError as exc:
            raise RequestTimeout(f"no complete answer within {request.timeout:g}s") from exc
        except aiohttp.ClientError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        except OSError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc

    async def warm_up(self, path: str, connections: int, timeout: float) -> None:
        """Open ``connections`` pooled connections by sending that many GETs at once."""
        request = HttpRequest("GET", path, "", b"", {}, timeout)
        results = await asyncio.gather(
            *(self.send(request) for _ in range(connections)), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


class MockTransport:
    """A transport that hands every request to ``handler`` (for tests of the layers above)."""

    __slots__ = ("closed", "handler", "sent")

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sent: list[HttpRequest] = []
        self.closed = False

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request)
        return await self.handler(request)

    async def warm_up(self, path: str, connections: int, timeout: float) -> None:
        return None

    async def close(self) -> None:
        self.closed = True
