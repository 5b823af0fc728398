"""A scripted exchange for the reliability tests: a book of orders, one behaviour per request.

Unlike ``fake_exchange`` it checks every request against the exchange's rules as it arrives
(at most 50 orders, one id kind, no id twice, symbols where the batch mode needs them) and
records each violation instead of raising, so a property test can assert there were none. It
also records, per order, whether the exchange really cancelled it, so a report can be checked
against the truth: CANCELLED must mean "the exchange cancelled it", NOT_OPEN "it is not open".

Behaviours (``Step``) are consumed one per batch-cancel request, then ``OK`` forever.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bitget_cancel._exceptions import RequestTimeout, TransportError
from bitget_cancel._transport import HttpRequest, HttpResponse
from bitget_cancel._wire import BATCH_CANCEL_PATH, SERVER_TIME_PATH

from .exchange_book import ExchangeBook, envelope
from .virtual_time import VirtualClockLoop

T = TypeVar("T")

# -- behaviours of one request -------------------------------------------------------------
OK = "ok"
PARTIAL = "partial"  # some orders fail with a transient per-order code and stay open
HTML_5XX = "html_5xx"  # a proxy's HTML error page; nothing done
JSON_5XX = "json_5xx"  # a 500 with the exchange's envelope; nothing done
THROTTLE = "429"  # nothing done
TRANSIENT_CODE = "transient_code"  # whole request refused with a transient code; nothing done
CLOCK = "clock"  # 40008 timestamp expired; nothing done
DROP_BEFORE = "drop_before"  # connection error before the exchange saw it
TIMEOUT_AFTER = "timeout_after"  # performed, then the client times out at once
HANG_AFTER = "hang_after"  # performed, then never answers (the client's timer must fire)
GARBAGE_AFTER = "garbage_after"  # performed, then a cut JSON body
GARBAGE_BEFORE = "garbage_before"  # HTTP 200 with a garbled body; nothing done
NULL_DATA = "null_data"  # performed, then {"code": "00000", "data": null}
NULL_LISTS = "null_lists"  # performed, then successList/failureList null
HOSTILE_OK = "hostile_ok"  # performed; ids as numbers, extra fields, duplicates, foreign items
# never retried:
FATAL_CODE = "fatal_code"  # 40017 parameter verification failed; nothing done
AUTH = "auth"  # 40006 invalid key; nothing done
ORDER_FATAL = "order_fatal"  # some orders fail with an unknown per-order code

TRANSIENT_STEPS: tuple[str, ...] = (
    OK,
    PARTIAL,
    HTML_5XX,
    JSON_5XX,
    THROTTLE,
    TRANSIENT_CODE,
    CLOCK,
    DROP_BEFORE,
    TIMEOUT_AFTER,
    HANG_AFTER,
    GARBAGE_AFTER,
    GARBAGE_BEFORE,
    NULL_DATA,
    NULL_LISTS,
    HOSTILE_OK,
)
ALL_STEPS: tuple[str, ...] = (*TRANSIENT_STEPS, FATAL_CODE, AUTH, ORDER_FATAL)


@dataclass(frozen=True)
class Step:
    kind: str
    seed: int = 0  # drives the random choices of PARTIAL / HOSTILE_OK / ORDER_FATAL


def run_virtual(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a fresh virtual-clock loop (for sync tests such as hypothesis')."""
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(factory())
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


@dataclass
class ScriptedExchange(ExchangeBook):
    steps: Sequence[Step] = ()
    capacity: int = 10  # arrivals per second the exchange tolerates (counted, not enforced)
    cancelled: set[tuple[str, str]] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)

    def rate_violations(self) -> int:
        """Arrivals beyond ``capacity`` in any one-second window."""
        over = 0
        arrivals = sorted(self.arrivals)
        start = 0
        for end, at in enumerate(arrivals):
            while arrivals[start] <= at - 1.0:
                start += 1
            if end - start + 1 > self.capacity:
                over += 1
        return over

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        loop = asyncio.get_running_loop()
        if request.path == SERVER_TIME_PATH:
            self.time_requests += 1
            await asyncio.sleep(self.latency)
            now_ms = int((self.wall_clock() + self.server_time_offset) * 1000)
            return HttpResponse(200, envelope({"serverTime": str(now_ms)}))
        assert request.path == BATCH_CANCEL_PATH, request.path
        body: dict[str, Any] = json.loads(request.body)
        index = len(self.bodies)
        self.bodies.append(body)
        self._check(index, body)
        step = self.steps[index] if index < len(self.steps) else Step(OK)
        kind = step.kind
        if kind == DROP_BEFORE:
            raise TransportError("ClientConnectorError: connection refused")
        await asyncio.sleep(self.latency / 2)
        self.arrivals.append(loop.time())
        timestamp = int(request.headers["ACCESS-TIMESTAMP"]) / 1000
        skew = timestamp - (self.wall_clock() + self.server_time_offset)
        if abs(skew) > 30 or kind == CLOCK:
            return await self._answer(400, envelope(None, "40008", "Request timestamp expired"))
        if kind == HTML_5XX:
            page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
            return await self._answer(502, page)
        if kind == JSON_5XX:
            return await self._answer(500, envelope(None, "40015", "System is abnormal"))
        if kind == THROTTLE:
            return await self._answer(429, envelope(None, "429", "Too Many Requests"))
        if kind == TRANSIENT_CODE:
            return await self._answer(400, envelope(None, "45001", "Unknown error"))
        if kind == GARBAGE_BEFORE:
            return await self._answer(200, b'{"code":"00000","msg":"success","data":{"succ')
        if kind == FATAL_CODE:
            return await self._answer(400, envelope(None, "40017", "Parameter verification"))
        if kind == AUTH:
            return await self._answer(400, envelope(None, "40006", "Invalid ACCESS_KEY"))
        rng = random.Random(step.seed)
        data = self._cancel(body, kind, rng)
        if kind == TIMEOUT_AFTER:
            raise RequestTimeout("no complete answer within 5s")
        if kind == HANG_AFTER:
            await asyncio.sleep(3600)
        if kind == NULL_DATA:
            return await self._answer(200, envelope(None))
        if kind == NULL_LISTS:
            return await self._answer(200, envelope({"successList": None, "failureList": None}))
        if kind == HOSTILE_OK:
            data = self._hostile(data, rng)
            if "orderId" in body["orderList"][0]:
                # An item for an order never sent that carries the clientOid of one that was
                # sent, left open and not mentioned: it must not pass for that one's success.
                data["successList"] += [
                    {"orderId": "999999999999", "clientOid": oid} for oid in data.pop("skipped")
                ]
            data.pop("skipped", None)
        answer = envelope(data)
        if kind == GARBAGE_AFTER:
            return await self._answer(200, answer[: len(answer) // 2])
        return await self._answer(200, answer)

    async def _answer(self, status: int, body: bytes) -> HttpResponse:
        await asyncio.sleep(self.latency / 2)
        return HttpResponse(status, body)

    def _check(self, index: int, body: dict[str, Any]) -> None:
        orders = body.get("orderList")
        if not isinstance(orders, list) or not orders:
            self.violations.append(f"#{index}: no orderList")
            return
        if len(orders) > 50:
            self.violations.append(f"#{index}: {len(orders)} orders")
        kinds = {("orderId" in o, "clientOid" in o) for o in orders}
        if len(kinds) != 1 or kinds.pop() not in {(True, False), (False, True)}:
            self.violations.append(f"#{index}: mixed or ambiguous id kinds")
        mode = body.get("batchMode")
        if mode == "single":
            if not body.get("symbol"):
                self.violations.append(f"#{index}: single without symbol")
        elif mode == "multiple":
            if any(not o.get("symbol") for o in orders):
                self.violations.append(f"#{index}: multiple with an order without symbol")
        else:
            self.violations.append(f"#{index}: batchMode {mode!r}")
        ids = [o.get("orderId") or o.get("clientOid") for o in orders]
        if len(set(ids)) != len(ids):
            self.violations.append(f"#{index}: an id twice in one request")

    def _cancel(self, body: dict[str, Any], kind: str, rng: random.Random) -> dict[str, Any]:
        single = body.get("batchMode", "single") == "single"
        success: list[dict[str, Any]] = []
        failure: list[dict[str, Any]] = []
        skipped: list[str] = []
        for order in body["orderList"]:
            symbol = body["symbol"] if single else order["symbol"]
            order_id = order.get("orderId")
            client_oid = order.get("clientOid")
            if order_id is None:
                order_id = self.client_oids.get((symbol, client_oid))
            key = (symbol, order_id or "")
            if key in self.open_orders and kind == PARTIAL and rng.random() < 0.5:
                code, msg = rng.choice(
                    [("40725", "service return an error"), ("43059", "Request failed"),
                     ("45001", "Unknown error"), ("429", "Too many requests")]
                )  # fmt: skip
                failure.append(
                    {"orderId": order_id, "clientOid": client_oid, "errorCode": code,
                     "errorMsg": msg}
                )  # fmt: skip
            elif key in self.open_orders and kind == HOSTILE_OK and rng.random() < 0.3:
                client = self.open_orders[key]
                if client is not None:
                    skipped.append(client)  # left open, and the answer does not mention it
            elif key in self.open_orders and kind == ORDER_FATAL and rng.random() < 0.5:
                failure.append(
                    {"orderId": order_id, "clientOid": client_oid, "errorCode": "49999",
                     "errorMsg": "something new"}
                )  # fmt: skip
            elif key in self.open_orders:
                oid = self.close(key)
                self.cancelled.add(key)
                success.append({"orderId": order_id, "clientOid": oid})
            else:
                failure.append(
                    {"orderId": order.get("orderId"), "clientOid": client_oid,
                     "errorCode": "43001", "errorMsg": "The order does not exist"}
                )  # fmt: skip
        if kind == HOSTILE_OK:
            return {"successList": success[::-1], "failureList": failure, "skipped": skipped}
        return {"successList": success[::-1], "failureList": failure}

    @staticmethod
    def _hostile(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """The same verdicts, dressed as badly as the exchange might."""
        success = list(data["successList"])
        failure = list(data["failureList"])
        for items in (success, failure):
            for i, item in enumerate(items):
                item = {**item, "extra": {"nested": [1, 2]}, "cTime": "1"}
                oid = item.get("orderId")
                if isinstance(oid, str) and oid.isdigit() and rng.random() < 0.5:
                    item["orderId"] = int(oid)  # ids as numbers
                if item.get("clientOid") is None and rng.random() < 0.5:
                    del item["clientOid"]
                items[i] = item
            if items and rng.random() < 0.5:
                items.append(dict(rng.choice(items)))  # a duplicate
            rng.shuffle(items)
        # items for orders never sent
        success.append({"orderId": "999999999999", "clientOid": "never-sent"})
        failure.append({"orderId": None, "clientOid": None, "errorMsg": "?"})
        return {**data, "successList": success, "failureList": failure, "extra": True}
