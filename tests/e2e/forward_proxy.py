"""A plain-HTTP forward proxy on 127.0.0.1 that records what passes through it.

It forwards absolute-form requests (``GET http://host:port/path HTTP/1.1``, what a client sends
to an HTTP proxy for an http:// URL) byte-for-byte as to path and query, refuses CONNECT (no
tunnels here) with 407, and, when given a user and password, answers 407 to a request without
the matching ``Proxy-Authorization``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from types import TracebackType

import aiohttp
from aiohttp import web
from yarl import URL

# Not forwarded: they describe the hop to the proxy, or aiohttp recomputes them.
_HOP_HEADERS = frozenset(
    {"proxy-authorization", "proxy-connection", "connection", "keep-alive", "host",
     "content-length", "transfer-encoding", "te", "upgrade"}
)  # fmt: skip


@dataclass(frozen=True)
class Passed:
    method: str
    url: str  # the absolute URL the client asked for
    headers: dict[str, str]


class ForwardProxy:
    def __init__(self, *, user: str | None = None, password: str | None = None) -> None:
        self.passed: list[Passed] = []
        self.refused = 0
        self._auth = None
        if user is not None:
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self._auth = f"Basic {token}"
        self._runner: web.ServerRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ForwardProxy:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        self._runner = web.ServerRunner(web.Server(self._handle), shutdown_timeout=0.25)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method == "CONNECT" or (
            self._auth is not None and request.headers.get("Proxy-Authorization") != self._auth
        ):
            self.refused += 1
            return web.Response(status=407, headers={"Proxy-Authenticate": 'Basic realm="t"'})
        if not request.raw_path.startswith("http://"):
            return web.Response(status=400, text="not a proxy request")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        self.passed.append(Passed(request.method, request.raw_path, dict(request.headers)))
        assert self._session is not None
        async with self._session.request(
            request.method,
            URL(request.raw_path, encoded=True),  # the query exactly as signed
            headers=headers,
            data=await request.read() or None,
            allow_redirects=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        ) as answer:
            body = await answer.read()
            kept = {k: v for k, v in answer.headers.items()
                    if k.lower() in ("content-type", "content-encoding")}  # fmt: skip
            return web.Response(status=answer.status, body=body, headers=kept)
