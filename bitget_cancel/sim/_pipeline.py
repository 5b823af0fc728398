"""One request's way through the simulated exchange, in the exchange's order: uplink delay,
arrival in the rate window, signed headers, environment and account type, body, release
window or fault, the endpoint's rules, downlink delay."""

from __future__ import annotations

import asyncio
import random
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from aiohttp import web

from . import _hostile as hostile
from ._auth import KeyRing
from ._faults import (
    DROP_AFTER_CANCEL,
    HTML_5XX,
    HTML_CHALLENGE,
    LATE_ARRIVAL,
    SLOW_AFTER_CANCEL,
    SPURIOUS_429,
    TRUNCATED_JSON,
    Faults,
)
from ._limits import RateLimits
from ._release import RELEASE_WINDOW, ReleaseWindow
from ._routes import V2, V3, Route
from ._rules import Call
from ._stats import SimStats
from ._wire import SimError, envelope, error_body, html_error_page

JSON = "application/json"
REMAIN_HEADER = "x-mbx-used-remain-limit"
DEMO_HEADER = "paptrading"

UTA_ON_V2 = (
    "40085",
    "You are in Unified Account mode, and the Classic Account API is not supported at this time",
)
CLASSIC_ON_V3 = (
    "40084",
    "You are in Classic Account mode, and the Unified Account API is not supported at this time",
)

_decode = msgspec.json.decode
_AFTER_KINDS = frozenset({DROP_AFTER_CANCEL, SLOW_AFTER_CANCEL, TRUNCATED_JSON})
# The kinds carried out here rather than by the endpoint's rules.
_PIPELINE_KINDS = frozenset({HTML_5XX, HTML_CHALLENGE, SPURIOUS_429, *_AFTER_KINDS})


# The account types the simulator serves, spelt out for a type checker.
SimAccount = Literal["classic", "uta"]


@dataclass
class Settings:
    """What a running simulator may be told to change."""

    faults: Faults
    account: SimAccount
    demo_trading: bool | None
    limits_per: str
    latency_ms: tuple[float, float]
    handshake_s: float


def _parse_body(raw: bytes, array: bool) -> Any:
    try:
        body = _decode(raw)
    except msgspec.DecodeError:
        raise SimError(400, "40017", "Parameter verification failed", "body_json") from None
    if not isinstance(body, list if array else dict):
        raise SimError(400, "40017", "Parameter verification failed", "body_json")
    return body


class Pipeline:
    """Answers requests for one simulated exchange."""

    def __init__(
        self,
        settings: Settings,
        routes: dict[str, Route],
        limits: RateLimits,
        keys: KeyRing,
        release: ReleaseWindow,
        stats: SimStats,
        rng: random.Random,
        clock_ms: Callable[[], int],
    ) -> None:
        self.settings = settings
        self.routes = routes
        self.limits = limits
        self.keys = keys
        self.release = release
        self.stats = stats
        self.rng = rng
        self.clock_ms = clock_ms
        self._seen_transports: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()

    def _who(self, route: Route, request: web.BaseRequest) -> str:
        """Whose window an arrival counts in: the key's account (or the key), or, for public
        endpoints, the client address."""
        if not route.signed:
            return "ip:" + (request.remote or "")
        api_key = request.headers.get("ACCESS-KEY", "")
        if self.settings.limits_per == "account":
            uid = self.keys.uid_of(api_key)
            if uid is not None:
                return "uid:" + uid
        return "key:" + api_key  # an unknown key has a window of its own

    def _check_environment(self, request: web.BaseRequest, route: Route) -> None:
        demo = self.settings.demo_trading
        if demo is not None:
            says_demo = request.headers.get(DEMO_HEADER, "").strip() == "1"
            if says_demo != demo:
                raise SimError(400, "40099", "exchange environment is incorrect", "environment")
        account = self.settings.account
        mismatch = None
        if account == "uta" and route.family == V2:
            mismatch = UTA_ON_V2
        elif account == "classic" and route.family == V3:
            mismatch = CLASSIC_ON_V3
        if mismatch is not None:
            self.stats.account_mismatch += 1
            raise SimError(400, *mismatch)

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        stats = self.stats
        settings = self.settings
        rng = self.rng
        route = self.routes.get(path)
        if route is not None and route.method != request.method:
            route = None
        signed = route is not None and route.signed
        stats.count_request(path, request.headers.get("ACCESS-KEY", "") if signed else None)

        raw = b""
        if route is not None and route.method == "POST":
            # The body travels with the request: read it now, even if it arrives late.
            try:
                raw = await request.read()
            except ConnectionError:
                # The client went away mid-body: nobody to answer, nothing to log.
                return web.Response(status=400)

        up = down = 0.0
        low, high = settings.latency_ms
        if high > 0.0:
            # Half before arrival (uplink jitter), half after processing (downlink).
            up = down = rng.uniform(low, high) / 2000.0
        if settings.handshake_s:
            transport = request.transport
            if transport is not None and transport not in self._seen_transports:
                self._seen_transports.add(transport)
                up += settings.handshake_s
        faults = settings.faults
        fault: str | None = None
        if route is not None and route.family is not None and faults.rate:
            if rng.random() < faults.rate:
                fault = rng.choice(faults.kinds)
            if fault == LATE_ARRIVAL:
                # Sent in time, arrives after the client gave up waiting.
                stats.count_injected(path, LATE_ARRIVAL)
                up += faults.late_s
        if up:
            await asyncio.sleep(up)

        now_ms = self.clock_ms()
        status = 200
        content_type = JSON
        headers: dict[str, str] = {}
        applied: str | None = None  # the request-level fault carried out
        try:
            if route is None:
                raise SimError(404, "40404", "Request URL NOT FOUND")
            try:
                remain = self.limits.arrive(
                    self._who(route, request), path, route.limit, time.monotonic()
                )
            except SimError:
                headers[REMAIN_HEADER] = "0"
                raise
            if remain is not None:
                headers[REMAIN_HEADER] = str(remain)
            if route.signed:
                self.keys.check(request.headers, route.method, request.raw_path, raw, now_ms)
                self._check_environment(request, route)
            body: Any = {}
            if route.method == "POST":
                if request.content_type != JSON:
                    raise SimError(
                        400,
                        "40007",
                        "Invalid Content_Type, please use application/json format",
                        "content_type",
                    )
                body = _parse_body(raw, route.array_body)
            if fault is not None and fault in (
                HTML_5XX,
                HTML_CHALLENGE,
                SPURIOUS_429,
                *_AFTER_KINDS,
            ):
                applied = fault
                stats.count_injected(path, fault)
            if applied in (HTML_5XX, HTML_CHALLENGE):
                status = rng.choice((502, 503, 504)) if applied == HTML_5XX else 200
                payload = html_error_page(status)
                content_type = "text/html"
                headers.clear()  # the proxy's page, not the exchange's answer
            elif applied == SPURIOUS_429:
                raise SimError(429, "429", "Too Many Requests")
            else:
                if route.family is not None:
                    refusal = self.release.refusal(time.monotonic(), rng)
                    if refusal is not None:
                        stats.count_injected(path, RELEASE_WINDOW)
                        raise refusal
                call = Call(path, body, request.query, stats, fault)
                try:
                    data = hostile.instead(call)
                    if data is hostile.UNCHANGED:
                        hostile.trim(call)
                        data = hostile.after(call, route.handler(call))
                finally:
                    if call.fault_used and fault is not None:
                        stats.count_injected(path, fault)
                payload = envelope(data, now_ms)
        except SimError as exc:
            if exc.violation is not None:
                stats.count_violation(path, exc.violation)
            status = exc.status
            payload = error_body(exc.code, exc.msg, now_ms)

        if applied == SLOW_AFTER_CANCEL:
            down += faults.slow_s
        elif applied == TRUNCATED_JSON:
            payload = payload[: max(1, len(payload) // 2)]
        if down:
            await asyncio.sleep(down)
        if applied == DROP_AFTER_CANCEL and request.transport is not None:
            # The answer written below then fails quietly on the closed transport.
            request.transport.close()
        return web.Response(status=status, body=payload, content_type=content_type, headers=headers)
