"""HTTP: the only module that imports aiohttp.

A transport turns (method, path, query, body, headers) into (status, body bytes) or raises a
TransportError. The engine is tested against ``MockTransport`` without sockets; the real one keeps
one aiohttp session with a pool of kept-alive connections.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from yarl import URL

from ._exceptions import InvalidArgument, RequestTimeout, TransportError

# What is left of the endpoint's budget this second, as the exchange counts it.
REMAINING_HEADER = "x-mbx-used-remain-limit"

# A batch-cancel answer for 50 orders is ~10 KB; anything near this is not the exchange talking.
MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request as the engine signed it: ``query`` and ``body`` go out byte for byte, and
    ``timeout`` (seconds) bounds the whole exchange."""

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

# Bitget's demo trading: a demo API key plus this header on every request.
DEMO_TRADING_HEADERS: Mapping[str, str] = {"paptrading": "1"}


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An answer: status, the whole body, and the headers the engine reads."""

    status: int
    body: bytes
    # Only the headers the engine reads (x-mbx-used-remain-limit); None when there are none.
    headers: Mapping[str, str] | None = None
    # When (loop time) the request left on its connection, and whether that connection was
    # opened for it; None / False when the transport does not say. The early reuse of slots
    # (``_arrival``) learns the up-leg from them: a handshake, or a wait for a pooled
    # connection, is not part of the up-leg a request on a warm connection will have.
    sent: float | None = None
    fresh: bool = False


class Transport(Protocol):
    """What the engine sends requests through (``CancelEngine(transport=...)``).

    The built-in one is ``AiohttpTransport``; wrap it to add your own behaviour. A transport
    must never re-send a request on its own (the rate budget counts every request that can
    reach the exchange), must honour ``request.timeout``, and raises ``TransportError`` (or
    ``RequestTimeout``) when no answer came. Its answers should say when each request left and
    whether it opened a connection (``HttpResponse.sent`` / ``fresh``): without them, the early
    reuse of slots learns the way up from when the engine handed the request over, and a
    first burst on new connections (their handshakes) can make it reuse slots too early.
    """

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` once; its answer, or ``TransportError`` / ``RequestTimeout``."""

    async def warm_up(self, path: str, connections: int, timeout: float) -> None:
        """Open ``connections`` kept-alive connections (GETs of ``path``); may do nothing."""

    async def close(self) -> None:
        """Close what the transport opened (not what the caller handed in)."""


def check_base_url(url: object) -> str:
    """``url`` without its trailing "/" if it is an absolute http(s) URL with a host, else
    InvalidArgument naming base_url (a bare host would otherwise fail every request)."""
    checked = _check_url("base_url", url)
    if "@" in URL(checked).raw_authority:
        raise InvalidArgument("base_url must not carry a user or password")
    return checked.rstrip("/")


def check_proxy(url: object) -> str | None:
    """``url`` if it is an absolute http(s) proxy URL (user:password allowed), or None."""
    return None if url is None else _check_url("proxy", url)


def _check_url(name: str, url: object) -> str:
    if not isinstance(url, str):
        raise InvalidArgument(f"{name} must be a string such as 'https://api.bitget.com'")
    try:
        parsed: URL | None = URL(url)
    except ValueError:
        parsed = None
    if (
        parsed is None
        or parsed.scheme not in ("http", "https")
        or not parsed.host
        or parsed.query_string
        or parsed.fragment
        or any(c.isspace() for c in url)
    ):
        raise InvalidArgument(
            f"{name} must be an absolute http:// or https:// URL with a host and no query, "
            f"such as 'https://api.bitget.com'; got {_without_userinfo(url)!r}"
        )
    return url


def _without_userinfo(url: str) -> str:
    # Whatever precedes the last "@" may be user:password, however malformed the rest is.
    if "@" not in url:
        return url
    scheme, sep, _ = url.partition("://")
    head = scheme + sep if sep and "@" not in scheme else ""
    return head + "***@" + url.rpartition("@")[2]


def check_connector_options(options: object) -> dict[str, Any]:
    """Keyword arguments for ``aiohttp.TCPConnector``, checked by name now, not at the first
    request."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidArgument("connector_options must be None or a mapping of TCPConnector options")
    known = set(inspect.signature(aiohttp.TCPConnector).parameters) - {"loop"}
    unknown = sorted(str(name) for name in options if name not in known)
    if unknown:
        raise InvalidArgument(
            f"connector_options: not an aiohttp.TCPConnector option: {', '.join(unknown)}"
        )
    return dict(options)


class AiohttpTransport:
    """The built-in transport: one aiohttp ClientSession, a pool sized for the burst,
    connections kept alive between batches.

    ``proxy`` goes with every request; ``trust_env`` lets aiohttp read HTTP(S)_PROXY, NO_PROXY
    and ~/.netrc; ``demo_trading`` adds ``paptrading: 1`` to every request this transport sends
    (signed or not: the server-time read and the warm-up GETs included).
    ``connector_options`` are ``aiohttp.TCPConnector`` keywords (``limit``,
    ``keepalive_timeout``, ``ttl_dns_cache``, ``local_addr``, ``ssl``...) over the defaults.
    ``session``: your own ``aiohttp.ClientSession`` instead of one of ours; it stays yours
    (``close()`` leaves it open), but aiohttp's silent re-send of a GET on a dropped connection
    is turned off on it, since the rate budget must see every request.
    """

    __slots__ = (
        "_base_url",
        "_connector_options",
        "_demo_trading",
        "_given_session",
        "_pool_size",
        "_proxy",
        "_proxy_secret",
        "_session",
        "_trust_env",
    )

    def __init__(
        self,
        base_url: str,
        *,
        pool_size: int = 32,
        proxy: str | None = None,
        trust_env: bool = False,
        demo_trading: bool = False,
        connector_options: Mapping[str, Any] | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._base_url = check_base_url(base_url)
        self._pool_size = pool_size
        self._connector_options = check_connector_options(connector_options)
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise InvalidArgument("session must be None or an aiohttp.ClientSession")
        if session is not None and (trust_env or self._connector_options):
            raise InvalidArgument(
                "trust_env and connector_options configure our own session; "
                "set them on the session you pass instead"
            )
        self._given_session = session
        checked_proxy = check_proxy(proxy)
        # aiohttp takes user:password from the proxy URL (its BasicAuth is deprecated); every
        # text this class makes masks them.
        self._proxy = None if checked_proxy is None else URL(checked_proxy)
        self._proxy_secret = None if self._proxy is None else self._proxy.raw_password
        self._trust_env = bool(trust_env)
        self._demo_trading = bool(demo_trading)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        proxy = None if self._proxy is None else _without_userinfo(str(self._proxy))
        return (
            f"AiohttpTransport({self._base_url!r}, pool_size={self._pool_size}, proxy={proxy!r}, "
            f"trust_env={self._trust_env}, demo_trading={self._demo_trading})"
        )

    def _client(self) -> aiohttp.ClientSession:
        given = self._given_session
        if given is not None:
            # (aiohttp says these with a RuntimeError deep inside: not the engine's fault)
            if given.closed:
                raise TransportError("the aiohttp session given as session= is closed")
            if getattr(given, "_loop", None) not in (None, asyncio.get_running_loop()):
                raise TransportError(
                    "the aiohttp session given as session= belongs to another event loop "
                    "(make it in the loop that runs the engine)"
                )
            if hasattr(given, "_retry_connection"):
                given._retry_connection = False  # see below
            traces = getattr(given, "_trace_configs", None)
            if isinstance(traces, list) and _DEPARTURES not in traces:
                traces.append(_DEPARTURES)  # when each request left (``HttpResponse.sent``)
            return given
        if self._session is None or self._session.closed:
            options: dict[str, Any] = {
                "limit": self._pool_size,
                "limit_per_host": self._pool_size,
                "keepalive_timeout": 60.0,
                "ttl_dns_cache": 300,
                "enable_cleanup_closed": True,
            }
            options.update(self._connector_options)
            connector = aiohttp.TCPConnector(**options)
            session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
                raise_for_status=False,
                # Session headers are merged into every request: one place for the demo flag.
                headers=DEMO_TRADING_HEADERS if self._demo_trading else None,
                trust_env=self._trust_env,
                trace_configs=[_DEPARTURES],
            )
            # aiohttp silently re-sends a GET once when the server drops the connection. The
            # rate budget must see every request that can reach the exchange, so all retries
            # are the engine's. No public switch exists (aiohttp 3.14); a test pins this.
            if hasattr(session, "_retry_connection"):
                session._retry_connection = False
            self._session = session
        return self._session

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` once; its answer, or ``TransportError`` / ``RequestTimeout``."""
        try:
            return await self._exchange(request)
        except asyncio.TimeoutError as exc:
            raise RequestTimeout(f"no complete answer within {request.timeout:g}s") from exc
        except aiohttp.ClientHttpProxyError as exc:
            # Its text quotes the proxy URL with any user:password, its repr the
            # Proxy-Authorization header: only status and reason are passed on.
            message = f"ClientHttpProxyError: the proxy answered {exc.status} {exc.message}"
        except (aiohttp.ClientError, OSError) as exc:
            message = f"{type(exc).__name__}: {exc}"
            if self._proxy_secret is None and not self._trust_env:
                raise TransportError(message) from exc
            if self._proxy_secret:
                message = message.replace(self._proxy_secret, "***")
        # Raised outside the handler, so that not even __context__ holds aiohttp's exception
        # (its repr can show the proxy credentials).
        raise TransportError(message)

    async def _exchange(self, request: HttpRequest) -> HttpResponse:
        url = self._base_url + request.path
        if request.query:
            url += "?" + request.query
        sent_headers = request.headers
        if self._demo_trading and self._given_session is not None:
            sent_headers = {**DEMO_TRADING_HEADERS, **sent_headers}  # (ours carries it)
        departure = _Departure()
        async with self._client().request(
            request.method,
            # encoded=True: the query goes out byte-for-byte as it was signed.
            URL(url, encoded=True),
            data=request.body or None,
            headers=sent_headers,
            timeout=aiohttp.ClientTimeout(total=request.timeout),
            allow_redirects=False,
            proxy=self._proxy,
            trace_request_ctx=departure,
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
            remaining = response.headers.get(REMAINING_HEADER)
            headers = None if remaining is None else {REMAINING_HEADER: remaining}
            return HttpResponse(
                response.status, b"".join(chunks), headers, departure.sent, departure.fresh
            )

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
        """Close our own aiohttp session (a session handed in stays open)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


class _Departure:
    """What aiohttp's trace of one request saw: when its headers left, on a new connection?"""

    __slots__ = ("fresh", "sent")

    def __init__(self) -> None:
        self.sent: float | None = None
        self.fresh = False


async def _on_connection_created(_: object, context: Any, __: object) -> None:
    departure = getattr(context, "trace_request_ctx", None)
    if isinstance(departure, _Departure):
        departure.fresh = True


async def _on_headers_sent(_: object, context: Any, __: object) -> None:
    departure = getattr(context, "trace_request_ctx", None)
    if isinstance(departure, _Departure):
        departure.sent = asyncio.get_running_loop().time()


def _departures() -> aiohttp.TraceConfig:
    config = aiohttp.TraceConfig()
    config.on_connection_create_end.append(_on_connection_created)
    config.on_request_headers_sent.append(_on_headers_sent)
    config.freeze()
    return config


# One for every session of ours (and added to a session handed in): it only fills the
# ``_Departure`` its request carries.
_DEPARTURES = _departures()


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


class MockTransport:
    """A transport that hands every request to ``handler`` (for tests of the layers above)."""

    __slots__ = ("closed", "handler", "sent")

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sent: list[HttpRequest] = []
        self.closed = False

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Record ``request`` in ``sent`` and answer with ``handler(request)``."""
        self.sent.append(request)
        return await self.handler(request)

    async def warm_up(self, path: str, connections: int, timeout: float) -> None:
        """Nothing to open."""
        return None

    async def close(self) -> None:
        """Mark the transport ``closed``."""
        self.closed = True
