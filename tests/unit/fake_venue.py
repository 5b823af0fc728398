"""An in-process Bitget v2 spot exchange behind ``MockTransport``, for unit tests on virtual time.

It answers every v2 endpoint the engine uses, by the rules of ``/work/shared/bitget/*.md`` and
never more leniently than the simulator (``bitget_cancel.sim``):

- three kinds of order (normal, TP/SL, plan), each listed and cancelled only by its own
  endpoints: ``batch-cancel-order`` and ``cancel-symbol-order`` never touch TP/SL or plan
  orders; ``cancel-order`` names a TP/SL order only with ``tpslType=tpsl`` (else 43001);
  ``cancel-plan-order`` answers 43025 for anything but an open plan order;
- a request is validated whole before any order is touched: one malformed orderId refuses the
  whole batch with 40402, an item without ids with 40924, more than 50 with 40912;
- listings page newest first with ``idLessThan`` (``unfilled-orders``: at most 100 a page, the
  client computes the cursor; ``current-plan-order``: 20 by default, ``nextFlag`` and
  ``idLessThan`` in the answer);
- ``cancel-symbol-order`` answers at once and cancels the symbol's normal orders (those open
  when it arrived) ``symbol_cancel_delay`` seconds later, or never (``None``);
- signed requests are checked (key 40006, passphrase 40011, timestamp 40005/40008, signature
  40009) and every endpoint's per-second limit is enforced with HTTP 429;
- scriptable faults per endpoint and per request (``script``): refusals with any code and
  status, raw bodies, dropped connections, hangs, answers lost after the work was done,
  per-order codes, stuck or cycling cursors, duplicate rows.

Every request is recorded (``calls``) with its arrival time and answer, so a test asserts what
was sent and when.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from bitget_cancel import (
    CancelEngine,
    Credentials,
    HttpRequest,
    HttpResponse,
    MockTransport,
    RequestTimeout,
    TransportError,
)

NORMAL: Final = "normal"
TPSL: Final = "tpsl"
PLAN: Final = "plan"
KINDS = (NORMAL, TPSL, PLAN)

# Endpoint names (the last part of the path; the server time as the engine names it).
BATCH_CANCEL = "batch-cancel-order"
CANCEL_ORDER = "cancel-order"
CANCEL_PLAN = "cancel-plan-order"
SYMBOL_CANCEL = "cancel-symbol-order"
BATCH_CANCEL_PLAN = "batch-cancel-plan-order"
UNFILLED = "unfilled-orders"
PLAN_LIST = "current-plan-order"
TIME = "public-time"

CANCELS = (BATCH_CANCEL, CANCEL_ORDER, CANCEL_PLAN)
BULK_CANCELS = (SYMBOL_CANCEL, BATCH_CANCEL_PLAN)
LISTINGS = (UNFILLED, PLAN_LIST)
SIGNED = (*CANCELS, *BULK_CANCELS, *LISTINGS)


@dataclass(frozen=True)
class _Route:
    name: str
    method: str
    limit: int  # requests per sliding second (per key; the public time per address)
    signed: bool


_TRADE = "/api/v2/spot/trade/"
ROUTES = {
    _TRADE + BATCH_CANCEL: _Route(BATCH_CANCEL, "POST", 10, True),
    _TRADE + CANCEL_ORDER: _Route(CANCEL_ORDER, "POST", 10, True),
    _TRADE + CANCEL_PLAN: _Route(CANCEL_PLAN, "POST", 20, True),
    _TRADE + SYMBOL_CANCEL: _Route(SYMBOL_CANCEL, "POST", 5, True),
    _TRADE + BATCH_CANCEL_PLAN: _Route(BATCH_CANCEL_PLAN, "POST", 5, True),
    _TRADE + UNFILLED: _Route(UNFILLED, "GET", 20, True),
    _TRADE + PLAN_LIST: _Route(PLAN_LIST, "GET", 20, True),
    "/api/v2/public/time": _Route(TIME, "GET", 20, False),
}

FIRST_ORDER_ID = 1_200_000_000_000_000_000
UNFILLED_PAGE_MAX = 100
PLAN_PAGE_DEFAULT, PLAN_PAGE_MAX = 20, 100
MAX_BATCH = 50
TIMESTAMP_TOLERANCE_MS = 30_000
WALL_CLOCK_BASE = 1_700_000_000.0


def envelope(data: Any, code: str = "00000", msg: str = "success") -> bytes:
    return json.dumps({"code": code, "msg": msg, "requestTime": 1, "data": data}).encode()


# -- faults: what a script may make one request do -------------------------------------------


@dataclass(frozen=True)
class Refuse:
    """Answer ``status`` with ``code`` instead of doing anything."""

    status: int
    code: str
    msg: str = "refused"


@dataclass(frozen=True)
class Raw:
    """Answer ``status`` with this body instead of doing anything (HTML pages, null data...)."""

    status: int
    body: bytes


@dataclass(frozen=True)
class Drop:
    """The connection fails before the exchange sees the request."""


@dataclass(frozen=True)
class Hang:
    """The request arrives and is never answered."""


@dataclass(frozen=True)
class After:
    """Do the work, then answer ``status`` with ``code`` (or ``body``), or time out."""

    status: int = 200
    code: str | None = None
    msg: str = "error"
    body: bytes | None = None
    timeout: bool = False


@dataclass(frozen=True)
class ItemCode:
    """Orders named by this request fail with ``code`` and stay open: a ``failureList`` item
    in a batch answer, the whole answer (HTTP 400) for a one-order cancel. ``ids``: only
    these orderIds (None: every order)."""

    code: str | None
    msg: str = "error"
    ids: frozenset[str] | None = None
    close: bool = False  # the order is closed first (a "does not exist" that is true)


@dataclass(frozen=True)
class StuckCursor:
    """A listing that ignores ``idLessThan``: the first page again (the plan listing hands the
    same cursor back)."""


@dataclass(frozen=True)
class Cursor:
    """A plan listing page that says ``nextFlag: true`` and hands back this cursor."""

    value: str


@dataclass(frozen=True)
class DuplicateRows:
    """Every row of the listing page twice."""


@dataclass(frozen=True)
class IgnoreSymbol:
    """A listing that ignores its ``symbol`` parameter: every symbol's orders."""


Fault = (
    Refuse
    | Raw
    | Drop
    | Hang
    | After
    | ItemCode
    | StuckCursor
    | Cursor
    | DuplicateRows
    | IgnoreSymbol
)


@dataclass(eq=False)
class Call:
    """One request as the venue saw it."""

    index: int  # the n-th request to this endpoint, 0-based
    endpoint: str
    method: str
    query: dict[str, str]
    body: Any
    sent_at: float  # loop time the client sent it
    at: float | None = None  # loop time it arrived (None: dropped before arrival)
    status: int | None = None  # HTTP status answered (None: no answer)
    code: str | None = None
    answered_at: float | None = None  # loop time the answer left (None: no answer)
    fault: Fault | None = None

    @property
    def kind(self) -> str:
        """The order kind a listing or ``cancel-order`` asks about."""
        if self.endpoint in (PLAN_LIST, CANCEL_PLAN, BATCH_CANCEL_PLAN):
            return PLAN
        if self.endpoint in (UNFILLED, CANCEL_ORDER):
            raw = (
                self.query.get("tpslType") if self.method == "GET" else _get(self.body, "tpslType")
            )
            return TPSL if raw == TPSL else NORMAL
        return NORMAL

    def ids(self) -> list[str]:
        """The orderIds (else clientOids) this request names, in order."""
        items = _get(self.body, "orderList")
        entries = items if isinstance(items, list) else [self.body]
        out = []
        for entry in entries:
            wire = _get(entry, "orderId") or _get(entry, "clientOid")
            if isinstance(wire, str):
                out.append(wire)
        return out


def _get(body: Any, name: str) -> Any:
    return body.get(name) if isinstance(body, dict) else None


Script = Callable[[Call], "Fault | None"]


def seq(*faults: Fault | None, then: Fault | None = None) -> Script:
    """The n-th request gets ``faults[n]``, later ones ``then`` (None: answered normally)."""

    def script(call: Call) -> Fault | None:
        return faults[call.index] if call.index < len(faults) else then

    return script


def always(fault: Fault | None) -> Script:
    return lambda call: fault


@dataclass(eq=False)
class Order:
    symbol: str
    order_id: str
    client_oid: str | None
    kind: str
    open: bool = True


class VenueError(Exception):
    def __init__(self, status: int, code: str, msg: str) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status, self.code, self.msg = status, code, msg


def _bad_param() -> VenueError:
    return VenueError(400, "40017", "Parameter verification failed")


def _opt_str(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise VenueError(400, "40402", "orderId or clientOId format error")
    return value


def _order_ids(entry: Any) -> tuple[str | None, str | None]:
    if not isinstance(entry, dict):
        raise _bad_param()
    order_id = _opt_str(entry.get("orderId"))
    client_oid = _opt_str(entry.get("clientOid"))
    if order_id is None and client_oid is None:
        raise VenueError(400, "40924", "orderId and clientOid must have one")
    if order_id is not None and not (order_id.isascii() and order_id.isdigit()):
        raise VenueError(400, "40402", "orderId or clientOId format error")
    return order_id, client_oid


def _opt_int(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise _bad_param()
    return int(raw)


def _tpsl_type(value: object) -> str:
    if value is None or value == "" or value == NORMAL:
        return NORMAL
    if value == TPSL:
        return TPSL
    raise _bad_param()


class FakeVenue:
    """A Bitget v2 spot account and the endpoints the engine uses; see the module docstring."""

    def __init__(
        self,
        *,
        api_key: str = "venue-key",
        secret_key: str = "venue-secret",
        passphrase: str = "venue-pass",
        latency: float = 0.010,
        symbol_cancel_delay: float | None = 0.2,
        plan_list_requires_symbol: bool = False,
        server_time_offset: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.api_key, self.secret_key, self.passphrase = api_key, secret_key, passphrase
        self.latency = latency
        self.symbol_cancel_delay = symbol_cancel_delay
        self.plan_list_requires_symbol = plan_list_requires_symbol
        self.server_time_offset = server_time_offset  # the exchange's clock minus ours, seconds
        self.rng = random.Random(seed)
        self.orders: list[Order] = []  # every order ever placed, in id order
        self._by_id: dict[str, Order] = {}
        self._by_client_oid: dict[str, Order] = {}
        self._next_id = FIRST_ORDER_ID
        self.calls: list[Call] = []
        self.script: dict[str, Script] = {}  # endpoint name -> faults per request
        self.on_arrival: Callable[[Call], None] | None = None
        self.over_limit = 0  # requests refused with 429 for the endpoint's limit
        self.pending_symbol_cancels = 0
        self._windows: dict[str, deque[float]] = {}
        self._counts: dict[str, int] = {}

    # -- the account ---------------------------------------------------------------------------

    def place(
        self,
        symbol: str,
        kind: str = NORMAL,
        client_oid: str | None = None,
        *,
        order_id: str | None = None,
    ) -> Order:
        assert kind in KINDS, kind
        if order_id is None:
            self._next_id += self.rng.randint(1, 4096)  # ids grow with gaps, like the real ones
            order_id = str(self._next_id)
        assert not self.orders or int(order_id) > int(self.orders[-1].order_id), "ids grow"
        self._next_id = max(self._next_id, int(order_id))
        order = Order(symbol, order_id, client_oid, kind)
        self.orders.append(order)
        self._by_id[order_id] = order
        if client_oid is not None:
            assert client_oid not in self._by_client_oid, "duplicate clientOid"
            self._by_client_oid[client_oid] = order
        return order

    def place_many(
        self, symbol: str, n: int, kind: str = NORMAL, client_prefix: str | None = None
    ) -> list[Order]:
        return [
            self.place(symbol, kind, None if client_prefix is None else f"{client_prefix}-{i}")
            for i in range(n)
        ]

    def open_orders(self, kind: str | None = None, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self.orders
            if o.open and kind in (None, o.kind) and symbol in (None, o.symbol)
        ]

    def order(self, order_id: str) -> Order:
        return self._by_id[order_id]

    # -- what was sent -------------------------------------------------------------------------

    def calls_to(self, *endpoints: str) -> list[Call]:
        return [c for c in self.calls if c.endpoint in endpoints]

    def count(self, *endpoints: str) -> int:
        return len(self.calls_to(*endpoints))

    def counts(self) -> dict[tuple[str, str], int]:
        """Requests per (endpoint, kind of order asked about)."""
        out: dict[tuple[str, str], int] = {}
        for call in self.calls:
            key = (call.endpoint, call.kind)
            out[key] = out.get(key, 0) + 1
        return out

    def sends_of(self, order_id: str, *endpoints: str) -> list[Call]:
        """Requests (that arrived) naming this orderId."""
        return [
            c
            for c in self.calls
            if c.at is not None and c.endpoint in endpoints and order_id in c.ids()
        ]

    # -- the clocks ----------------------------------------------------------------------------

    def wall_clock(self) -> float:
        """The client's wall clock, on the loop's (virtual) time."""
        return WALL_CLOCK_BASE + asyncio.get_running_loop().time()

    def server_ms(self) -> int:
        return int((self.wall_clock() + self.server_time_offset) * 1000)

    def signed(self, method: str, endpoint: str, query: str = "", body: Any = None) -> HttpRequest:
        """A request signed with the account's own credentials (for tests of the venue)."""
        path = next(p for p, route in ROUTES.items() if route.name == endpoint)
        raw = b"" if body is None else json.dumps(body).encode()
        timestamp = str(self.server_ms())
        prehash = (timestamp + method + path + ("?" + query if query else "")).encode() + raw
        sign = base64.b64encode(
            hmac.new(self.secret_key.encode(), prehash, hashlib.sha256).digest()
        ).decode()
        headers = {
            "ACCESS-KEY": self.api_key,
            "ACCESS-SIGN": sign,
            "ACCESS-TIMESTAMP": timestamp,
            "ACCESS-PASSPHRASE": self.passphrase,
        }
        return HttpRequest(method, path, query, raw, headers, 5.0)

    # -- the transport -------------------------------------------------------------------------

    def transport(self) -> MockTransport:
        return MockTransport(self.handle)

    async def handle(self, request: HttpRequest) -> HttpResponse:
        loop = asyncio.get_running_loop()
        route = ROUTES.get(request.path)
        if route is None or route.method != request.method:
            await asyncio.sleep(self.latency)
            return HttpResponse(404, envelope(None, "40404", "Request URL NOT FOUND"))
        index = self._counts.get(route.name, 0)
        self._counts[route.name] = index + 1
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            body = request.body
        query = dict(parse_qsl(request.query, keep_blank_values=True))
        call = Call(index, route.name, request.method, query, body, loop.time())
        self.calls.append(call)
        script = self.script.get(route.name)
        fault = call.fault = script(call) if script is not None else None
        if isinstance(fault, Drop):
            raise TransportError("ClientConnectorError: connection refused (scripted)")
        await asyncio.sleep(self.latency / 2)
        call.at = loop.time()
        if self.on_arrival is not None:
            self.on_arrival(call)
        try:
            data = self._serve(route, request, call, fault)
        except VenueError as exc:
            return await self._answer(call, exc.status, envelope(None, exc.code, exc.msg), exc.code)
        if isinstance(fault, Hang):
            await asyncio.sleep(24 * 3600)
        if isinstance(fault, Refuse):
            answer = envelope(None, fault.code, fault.msg)
            return await self._answer(call, fault.status, answer, fault.code)
        if isinstance(fault, Raw):
            return await self._answer(call, fault.status, fault.body, None)
        if isinstance(fault, After):
            if fault.timeout:
                await asyncio.sleep(self.latency / 2)
                raise RequestTimeout("no complete answer (scripted)")
            if fault.body is not None:
                return await self._answer(call, fault.status, fault.body, None)
            answer = envelope(None, fault.code, fault.msg) if fault.code else envelope(data)
            return await self._answer(call, fault.status, answer, fault.code)
        return await self._answer(call, 200, envelope(data), "00000")

    async def _answer(self, call: Call, status: int, body: bytes, code: str | None) -> HttpResponse:
        call.status, call.code = status, code
        call.answered_at = asyncio.get_running_loop().time()
        await asyncio.sleep(self.latency / 2)
        return HttpResponse(status, body)

    def _serve(self, route: _Route, request: HttpRequest, call: Call, fault: Fault | None) -> Any:
        """Limit, signature, then the endpoint's rules; the ``data`` of a success answer, or
        VenueError. Faults that answer instead of the exchange leave the book alone."""
        self._arrive(route, call)
        if route.signed:
            self._check_signature(request)
        if isinstance(fault, (Hang, Refuse, Raw)):
            return None
        handler: Callable[[Call, Fault | None], Any] = getattr(
            self, "_" + route.name.replace("-", "_")
        )
        return handler(call, fault)

    def _arrive(self, route: _Route, call: Call) -> None:
        assert call.at is not None
        window = self._windows.setdefault(route.name, deque())
        while window and window[0] <= call.at - 1.0:
            window.popleft()
        window.append(call.at)
        if len(window) > route.limit:
            self.over_limit += 1
            raise VenueError(429, "429", "Too Many Requests")

    def _check_signature(self, request: HttpRequest) -> None:
        headers = request.headers
        if not hmac.compare_digest(headers.get("ACCESS-KEY", ""), self.api_key):
            raise VenueError(400, "40006", "Invalid ACCESS_KEY")
        if not hmac.compare_digest(headers.get("ACCESS-PASSPHRASE", ""), self.passphrase):
            raise VenueError(400, "40011", "Invalid ACCESS_PASSPHRASE")
        timestamp = headers.get("ACCESS-TIMESTAMP", "")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise VenueError(400, "40005", "Invalid ACCESS_TIMESTAMP")
        if abs(int(timestamp) - self.server_ms()) > TIMESTAMP_TOLERANCE_MS:
            raise VenueError(400, "40008", "Request timestamp expired")
        path = request.path + ("?" + request.query if request.query else "")
        prehash = (timestamp + request.method + path).encode() + request.body
        mac = hmac.new(self.secret_key.encode(), prehash, hashlib.sha256)
        if not hmac.compare_digest(
            headers.get("ACCESS-SIGN", ""), base64.b64encode(mac.digest()).decode()
        ):
            raise VenueError(400, "40009", "sign signature error")

    # -- finding and closing orders -------------------------------------------------------------

    def _find(self, order_id: str | None, client_oid: str | None) -> Order | None:
        """The order the ids name (orderId wins); None when the two disagree."""
        if order_id is not None:
            order = self._by_id.get(order_id)
            if order is not None and client_oid is not None and order.client_oid != client_oid:
                return None
            return order
        assert client_oid is not None
        return self._by_client_oid.get(client_oid)

    @staticmethod
    def _of_kind(order: Order | None, kind: str) -> Order | None:
        return order if order is not None and order.open and order.kind == kind else None

    @staticmethod
    def _item_code(fault: Fault | None, order_id: str | None) -> ItemCode | None:
        if isinstance(fault, ItemCode) and (fault.ids is None or order_id in fault.ids):
            return fault
        return None

    def _absent(self, item: dict[str, Any], name: str, value: str | None) -> None:
        """Ids echoed as sent; one not sent comes back null, "" or not at all."""
        if value is not None:
            item[name] = value
            return
        choice = self.rng.randrange(3)
        if choice < 2:
            item[name] = (None, "")[choice]

    # -- the endpoints -------------------------------------------------------------------------

    def _batch_cancel_order(self, call: Call, fault: Fault | None) -> Any:
        body = call.body
        if not isinstance(body, dict):
            raise _bad_param()
        order_list = body.get("orderList")
        if not isinstance(order_list, list) or not order_list:
            raise _bad_param()
        if len(order_list) > MAX_BATCH:
            raise VenueError(400, "40912", "single cancel cannot exceed 50")
        mode = body.get("batchMode") or "single"
        if mode not in ("single", "multiple"):
            raise _bad_param()
        top = body.get("symbol") if isinstance(body.get("symbol"), str) else ""
        if mode == "single" and not top:
            raise _bad_param()
        # The whole list is checked before any order is touched.
        targets = []
        for entry in order_list:
            order_id, client_oid = _order_ids(entry)
            symbol = top
            if mode == "multiple":
                symbol = entry.get("symbol")
                if not (isinstance(symbol, str) and symbol):
                    raise _bad_param()
            targets.append((symbol, order_id, client_oid))
        any_order_id = any(order_id is not None for _, order_id, _ in targets)
        success: list[dict[str, Any]] = []
        failure: list[dict[str, Any]] = []
        for symbol, order_id, client_oid in targets:
            item: dict[str, Any] = {}
            self._absent(item, "orderId", order_id)
            self._absent(item, "clientOid", client_oid)
            if any_order_id and order_id is None:
                # Documented: clientOid-only orders fail when mixed with orderIds.
                failure.append(
                    {**item, "errorCode": "40017", "errorMsg": "Parameter verification failed"}
                )
                continue
            order = self._of_kind(self._find(order_id, client_oid), NORMAL)
            if order is None or order.symbol != symbol:
                item["errorMsg"] = "The order does not exist"
                if self.rng.random() < 0.7:  # the documented example has no errorCode
                    item["errorCode"] = "43001"
                failure.append(item)
                continue
            scripted = self._item_code(fault, order.order_id)
            if scripted is not None:
                order.open = order.open and not scripted.close
                if scripted.code is not None:
                    item["errorCode"] = scripted.code
                failure.append({**item, "errorMsg": scripted.msg})
                continue
            order.open = False
            success.append({"orderId": order.order_id, "clientOid": order.client_oid})
        self.rng.shuffle(success)
        self.rng.shuffle(failure)
        return {"successList": success, "failureList": failure}

    def _cancel_order(self, call: Call, fault: Fault | None) -> Any:
        body = call.body
        if not isinstance(body, dict):
            raise _bad_param()
        kind = _tpsl_type(body.get("tpslType"))
        symbol = body.get("symbol")
        if symbol is not None and not isinstance(symbol, str):
            raise _bad_param()
        if kind == NORMAL and not symbol:
            raise _bad_param()
        order_id, client_oid = _order_ids(body)
        if kind == TPSL and order_id is None:
            raise _bad_param()  # for TP/SL the page makes orderId required
        order = self._of_kind(self._find(order_id, client_oid), kind)
        if order is None or (symbol and order.symbol != symbol):
            raise VenueError(400, "43001", "The order does not exist")
        scripted = self._item_code(fault, order.order_id)
        if scripted is not None:
            order.open = order.open and not scripted.close
            raise VenueError(400, scripted.code or "", scripted.msg)
        order.open = False
        return {"orderId": order.order_id, "clientOid": order.client_oid}

    def _cancel_plan_order(self, call: Call, fault: Fault | None) -> Any:
        order_id, client_oid = _order_ids(call.body)
        order = self._of_kind(self._find(order_id, client_oid), PLAN)
        if order is None:
            raise VenueError(400, "43025", "Plan order does not exist")
        scripted = self._item_code(fault, order.order_id)
        if scripted is not None:
            order.open = order.open and not scripted.close
            raise VenueError(400, scripted.code or "", scripted.msg)
        order.open = False
        return {"result": "success"}

    def _cancel_symbol_order(self, call: Call, fault: Fault | None) -> Any:
        symbol = _get(call.body, "symbol")
        if not (isinstance(symbol, str) and symbol):
            raise _bad_param()
        # Only the normal orders open now; later ones are not part of it. Asynchronous.
        doomed = self.open_orders(NORMAL, symbol)
        delay = self.symbol_cancel_delay
        if delay is not None:
            self.pending_symbol_cancels += 1

            def finish() -> None:
                self.pending_symbol_cancels -= 1
                for order in doomed:
                    order.open = False

            asyncio.get_running_loop().call_later(delay, finish)
        return {"symbol": symbol}

    def _batch_cancel_plan_order(self, call: Call, fault: Fault | None) -> Any:
        raw = _get(call.body, "symbolList")
        symbols: list[str] | None = None
        if raw is not None:
            if not isinstance(raw, list) or not all(isinstance(s, str) and s for s in raw):
                raise _bad_param()
            symbols = list(raw) or None  # absent or empty: every trigger order of the account
        doomed = [o for o in self.open_orders(PLAN) if symbols is None or o.symbol in symbols]
        success, failure = [], []
        for order in doomed:
            scripted = self._item_code(fault, order.order_id)
            if scripted is not None:
                failure.append(
                    {
                        "orderId": order.order_id,
                        "clientOid": order.client_oid,
                        "errorMsg": scripted.msg,
                    }
                )
                continue
            order.open = False
            success.append({"orderId": order.order_id, "clientOid": order.client_oid})
        return {"successList": success, "failureList": failure}

    def _page(
        self, kind: str, symbol: str | None, limit: int, below: int | None
    ) -> tuple[list[Order], bool]:
        """Open orders of ``kind`` newest first below ``below``; whether more are left."""
        rows = []
        for order in reversed(self.orders):
            if not order.open or order.kind != kind or symbol not in (None, order.symbol):
                continue
            if below is not None and int(order.order_id) >= below:
                continue
            rows.append(order)
            if len(rows) > limit:
                return rows[:limit], True
        return rows, False

    def _unfilled_orders(self, call: Call, fault: Fault | None) -> Any:
        query = call.query
        kind = _tpsl_type(query.get("tpslType"))
        symbol = None if isinstance(fault, IgnoreSymbol) else query.get("symbol") or None
        limit = _opt_int(query, "limit")
        if limit is None:
            limit = UNFILLED_PAGE_MAX
        elif not 1 <= limit <= UNFILLED_PAGE_MAX:
            raise _bad_param()
        below = _opt_int(query, "idLessThan")
        if isinstance(fault, StuckCursor):
            below = None
        rows, _ = self._page(kind, symbol, limit, below)
        out = [_unfilled_row(o) for o in rows]
        if isinstance(fault, DuplicateRows):
            out = [row for row in out for _ in range(2)]
        return out

    def _current_plan_order(self, call: Call, fault: Fault | None) -> Any:
        query = call.query
        symbol = query.get("symbol") or None
        if symbol is None and self.plan_list_requires_symbol:
            raise _bad_param()
        limit = _opt_int(query, "limit")
        if limit is None:
            limit = PLAN_PAGE_DEFAULT
        elif not 1 <= limit <= PLAN_PAGE_MAX:
            raise _bad_param()
        given = _opt_int(query, "idLessThan")
        below = None if isinstance(fault, StuckCursor) else given
        if isinstance(fault, IgnoreSymbol):
            symbol = None
        rows, more = self._page(PLAN, symbol, limit, below)
        cursor = rows[-1].order_id if rows else ""
        if isinstance(fault, StuckCursor) and given is not None:
            cursor, more = str(given), True
        if isinstance(fault, Cursor):
            cursor, more = fault.value, True
        out = [_plan_row(o) for o in rows]
        if isinstance(fault, DuplicateRows):
            out = [row for row in out for _ in range(2)]
        return {"nextFlag": more, "idLessThan": cursor, "orderList": out}

    def _public_time(self, call: Call, fault: Fault | None) -> Any:
        return {"serverTime": str(self.server_ms())}


def _unfilled_row(order: Order) -> dict[str, Any]:
    return {
        "userId": "7264631750",
        "symbol": order.symbol,
        "orderId": order.order_id,
        "clientOid": order.client_oid,
        "priceAvg": "1500.00",
        "size": "0.1000",
        "orderType": "limit",
        "side": "buy",
        "status": "live",
        "basePrice": "0",
        "baseVolume": "0",
        "quoteVolume": "0",
        "enterPointSource": "API",
        "orderSource": "normal",
        "cTime": "1700000000000",
        "uTime": "1700000000000",
        "tpslType": order.kind,
        "triggerPrice": None,
    }


def _plan_row(order: Order) -> dict[str, Any]:
    return {
        "orderId": order.order_id,
        "clientOid": order.client_oid,
        "symbol": order.symbol,
        "size": "0.1000",
        "executePrice": "1500.00",
        "triggerPrice": "1400.00",
        "status": "live",
        "orderType": "limit",
        "side": "buy",
        "planType": "amount",
        "triggerType": "fill_price",
        "enterPointSource": "API",
        "uTime": "1700000000000",
        "cTime": "1700000000000",
    }


def script_signed(venue: FakeVenue, script: Script, endpoints: Iterable[str] = SIGNED) -> None:
    """The same script on every signed endpoint (credentials refused everywhere...)."""
    for name in endpoints:
        venue.script[name] = script


def arrivals(calls: Sequence[Call]) -> list[float]:
    return [c.at for c in calls if c.at is not None]


__all__ = [
    "After",
    "Call",
    "Cursor",
    "Drop",
    "DuplicateRows",
    "FakeVenue",
    "Hang",
    "IgnoreSymbol",
    "ItemCode",
    "Order",
    "Raw",
    "Refuse",
    "StuckCursor",
    "always",
    "arrivals",
    "credentials",
    "engine_for",
    "envelope",
    "script_signed",
    "seq",
]


def credentials(venue: FakeVenue) -> Credentials:
    return Credentials(
        api_key=venue.api_key, secret_key=venue.secret_key, passphrase=venue.passphrase
    )


def engine_for(venue: FakeVenue, **kwargs: Any) -> CancelEngine:
    """An engine on this venue: its transport, its wall clock, a seeded random source, and a
    classic account (so that 40084/40085 are answers, not a switch to an API the venue lacks)."""
    kwargs.setdefault("rng", random.Random(3))
    kwargs.setdefault("account", "classic")
    return CancelEngine(
        credentials(venue), transport=venue.transport(), wall_clock=venue.wall_clock, **kwargs
    )
