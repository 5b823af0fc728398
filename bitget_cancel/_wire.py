"""What goes on the wire for the v2 API: endpoints, request bodies, answers (msgspec).

Answers are decoded defensively: ids may be strings, numbers, null, "" or absent; lists may be
null. A body that does not fit the endpoint's documented shape is *unreadable*: its code and
message are still taken from the envelope, but its data is never read as "nothing there".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import msgspec

T = TypeVar("T")
Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One REST endpoint and its per-account budget (requests per second)."""

    name: str
    method: str
    path: str
    rate: float
    signed: bool = True


BATCH_CANCEL = Endpoint("batch-cancel-order", "POST", "/api/v2/spot/trade/batch-cancel-order", 10)
SYMBOL_CANCEL = Endpoint("cancel-symbol-order", "POST", "/api/v2/spot/trade/cancel-symbol-order", 5)
UNFILLED_ORDERS = Endpoint("unfilled-orders", "GET", "/api/v2/spot/trade/unfilled-orders", 20)
CANCEL_ORDER = Endpoint("cancel-order", "POST", "/api/v2/spot/trade/cancel-order", 10)
CANCEL_PLAN_ORDER = Endpoint(
    "cancel-plan-order", "POST", "/api/v2/spot/trade/cancel-plan-order", 20
)
# 10/s on one copy of the docs, 5/s on newer ones: the stricter.
BATCH_CANCEL_PLAN = Endpoint(
    "batch-cancel-plan-order", "POST", "/api/v2/spot/trade/batch-cancel-plan-order", 5
)
CURRENT_PLAN_ORDERS = Endpoint(
    "current-plan-order", "GET", "/api/v2/spot/trade/current-plan-order", 20
)
SERVER_TIME = Endpoint("public-time", "GET", "/api/v2/public/time", 20, signed=False)

# Kept for readers of older code and tests.
BATCH_CANCEL_PATH = BATCH_CANCEL.path
SYMBOL_CANCEL_PATH = SYMBOL_CANCEL.path
UNFILLED_ORDERS_PATH = UNFILLED_ORDERS.path
SERVER_TIME_PATH = SERVER_TIME.path

_encoder = msgspec.json.Encoder()
# Every integer up to this is a float exactly; beyond it floats skip integers.
_FLOAT_EXACT = 2**53


def encode_json(value: Any) -> bytes:
    return _encoder.encode(value)


def text(value: Scalar) -> str | None:
    """An id, code or message as text; None for null, "" or a bool (never a real id)."""
    if type(value) is str:
        return value or None  # what the exchange sends nearly always
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        # A float id has already lost precision beyond 2**53: there it names many integers
        # (1.2e18 is also 1200000000000000001), so it may not confirm any one order.
        if not value.is_integer():
            return str(value)
        if abs(value) > _FLOAT_EXACT:
            return None
        value = int(value)
    out = str(value)
    return out or None


# -- the envelope --------------------------------------------------------------------------


class Answer(msgspec.Struct, Generic[T]):
    """``{"code", "msg", "data"}``, with ``data`` typed per endpoint."""

    code: Scalar = None
    msg: Scalar = None
    data: T | None = None
    requestTime: Any = None  # any type: an odd one never makes the answer unreadable


class _Envelope(msgspec.Struct):
    code: Scalar = None
    msg: Scalar = None
    requestTime: Any = None  # any type: an odd one never makes the answer unreadable


_envelope_decoder = msgspec.json.Decoder(_Envelope)


@dataclass(frozen=True, slots=True)
class Decoded(Generic[T]):
    """An answer as far as it could be read: ``readable`` only if ``data`` has the documented
    shape and is present."""

    code: str | None
    msg: str | None
    data: T | None
    readable: bool
    # The exchange's clock (ms) when it took the request, as sent (the budget's early reuse).
    request_time: Any = None


class AnswerCodec(Generic[T]):
    """Decodes one endpoint's answers; built once per endpoint, reused.

    ``usual_type``: the usual answer's data in a stricter shape, tried first (decoded and
    checked in C); an answer it does not fit is decoded as ``data_type``.
    """

    __slots__ = ("_decoder", "_usual")

    def __init__(self, data_type: Any, usual_type: Any = None) -> None:
        self._decoder: msgspec.json.Decoder[Answer[Any]] = msgspec.json.Decoder(Answer[data_type])
        self._usual: msgspec.json.Decoder[Answer[Any]] | None = (
            None if usual_type is None else msgspec.json.Decoder(Answer[usual_type])
        )

    def decode(self, body: bytes) -> Decoded[T]:
        try:
            answer = self._usual_or_full(body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            try:
                envelope = _envelope_decoder.decode(body)
            except (msgspec.DecodeError, msgspec.ValidationError):
                return Decoded(None, None, None, False)
            return Decoded(
                text(envelope.code), text(envelope.msg), None, False, envelope.requestTime
            )
        data: T | None = answer.data
        return Decoded(
            text(answer.code), text(answer.msg), data, data is not None, answer.requestTime
        )

    def _usual_or_full(self, body: bytes) -> Answer[Any]:
        if self._usual is not None:
            try:
                return self._usual.decode(body)
            except (msgspec.DecodeError, msgspec.ValidationError):
                pass  # not the usual shape: decoded as data_type
        return self._decoder.decode(body)


# -- batch-cancel-order and the other cancels -----------------------------------------------


class WireOrder(msgspec.Struct, omit_defaults=True, rename="camel", kw_only=True):
    order_id: str | None = None
    client_oid: str | None = None
    symbol: str | None = None


class WireBatch(msgspec.Struct, omit_defaults=True, rename="camel", kw_only=True):
    symbol: str | None = None
    batch_mode: str
    order_list: list[WireOrder]


class NamedOrder(Protocol):
    @property
    def symbol(self) -> str: ...

    @property
    def order_id(self) -> str | None: ...

    @property
    def client_oid(self) -> str | None: ...


def encode_batch_v2(
    batch_mode: str, symbol: str | None, by_order_id: bool, orders: Sequence[NamedOrder]
) -> bytes:
    """The body of batch-cancel-order; these exact bytes are signed and sent."""
    multiple = batch_mode == "multiple"
    if by_order_id:
        wire = [
            WireOrder(order_id=o.order_id, symbol=o.symbol if multiple else None) for o in orders
        ]
    else:
        wire = [
            WireOrder(client_oid=o.client_oid, symbol=o.symbol if multiple else None)
            for o in orders
        ]
    return _encoder.encode(
        WireBatch(symbol=None if multiple else symbol, batch_mode=batch_mode, order_list=wire)
    )


class CancelData(msgspec.Struct, rename="camel"):
    """Items stay objects as sent: ``_answers`` reads their fields and judges their shape."""

    success_list: list[dict[str, Any]] | None = None
    failure_list: list[dict[str, Any]] | None = None


class SuccessItem(msgspec.Struct, rename="camel", forbid_unknown_fields=True, gc=False):
    """A successList item of exactly the documented shape: its ids (scalars), nothing else.
    An item with any other field, or not an object, does not decode: the answer is then read
    as ``CancelData``, item by item (``_answers.read_items``)."""

    order_id: Scalar = None
    client_oid: Scalar = None


class UsualCancelData(msgspec.Struct, rename="camel"):
    """batch-cancel-order's data when every success item has the documented shape (nearly
    always): the successes decoded in C, one object per order, not tracked by the collector."""

    success_list: list[SuccessItem] | None = None
    failure_list: list[dict[str, Any]] | None = None


BATCH_CANCEL_CODEC: AnswerCodec[CancelData | UsualCancelData] = AnswerCodec(
    CancelData, UsualCancelData
)
# cancel-order: data {orderId, clientOid}; cancel-plan-order: data {"result": "success"}.
ONE_ORDER_CODEC: AnswerCodec[dict[str, Any]] = AnswerCodec(dict[str, Any])
# cancel-symbol-order: data {"symbol": ...}; read only for its code.
ANY_CODEC: AnswerCodec[Any] = AnswerCodec(Any)


# -- listings -------------------------------------------------------------------------------


class OpenOrderRow(msgspec.Struct, rename="camel"):
    symbol: Scalar = None
    order_id: Scalar = None
    client_oid: Scalar = None
    status: Scalar = None
    category: Scalar = None  # v3 rows: the product line (SPOT, MARGIN, USDT-FUTURES...)
    # What ``orders`` shows beside the ids, each where a listing gives it: v2 unfilled-orders
    # (priceAvg is its limit price, baseVolume the filled size, cTime), v2 current-plan-order
    # (executePrice), v3 unfilled-orders (price, qty, cumExecQty, createdTime).
    side: Scalar = None
    order_type: Scalar = None
    price: Scalar = None
    price_avg: Scalar = None
    execute_price: Scalar = None
    size: Scalar = None
    qty: Scalar = None
    base_volume: Scalar = None
    cum_exec_qty: Scalar = None
    c_time: Scalar = None
    created_time: Scalar = None


UNFILLED_CODEC: AnswerCodec[list[OpenOrderRow]] = AnswerCodec(list[OpenOrderRow])


class PlanPage(msgspec.Struct, rename="camel"):
    order_list: list[OpenOrderRow] | None = None
    next_flag: bool | None = None
    id_less_than: Scalar = None


PLAN_LIST_CODEC: AnswerCodec[PlanPage] = AnswerCodec(PlanPage)


# -- server time ----------------------------------------------------------------------------


class ServerTime(msgspec.Struct, rename="camel"):
    server_time: str | int


SERVER_TIME_CODEC: AnswerCodec[ServerTime] = AnswerCodec(ServerTime)


def server_time_ms(data: ServerTime) -> int | None:
    try:
        return int(data.server_time)
    except ValueError:
        return None
