"""What goes on the wire: request bodies out, answers in (msgspec, codecs built once).

Answers are decoded defensively: ids may be strings, numbers, null, "" or absent; lists may be
null; anything that does not fit the expected shape becomes ``None`` from ``decode_cancel``
instead of an exception, and the caller treats it as a garbled answer.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._plan import Batch

BATCH_CANCEL_PATH = "/api/v2/spot/trade/batch-cancel-order"
SYMBOL_CANCEL_PATH = "/api/v2/spot/trade/cancel-symbol-order"
UNFILLED_ORDERS_PATH = "/api/v2/spot/trade/unfilled-orders"
SERVER_TIME_PATH = "/api/v2/public/time"


class WireOrder(msgspec.Struct, omit_defaults=True, rename="camel", kw_only=True):
    order_id: str | None = None
    client_oid: str | None = None
    symbol: str | None = None


class WireBatch(msgspec.Struct, omit_defaults=True, rename="camel", kw_only=True):
    symbol: str | None = None
    batch_mode: str
    order_list: list[WireOrder]


_encoder = msgspec.json.Encoder()


def encode_batch(batch: Batch) -> bytes:
    """The request body; these exact bytes are signed and sent."""
    multiple = batch.batch_mode == "multiple"
    if batch.by_order_id:
        orders = [
            WireOrder(order_id=t.order_id, symbol=t.symbol if multiple else None)
            for t in batch.targets
        ]
    else:
        orders = [
            WireOrder(client_oid=t.client_oid, symbol=t.symbol if multiple else None)
            for t in batch.targets
        ]
    return _encoder.encode(
        WireBatch(
            symbol=None if multiple else batch.symbol,
            batch_mode=batch.batch_mode,
            order_list=orders,
        )
    )


def encode_json(value: Any) -> bytes:
    return _encoder.encode(value)


Scalar = str | int | float | bool | None


class OrderItem(msgspec.Struct, rename="camel"):
    order_id: Scalar = None
    client_oid: Scalar = None
    error_code: Scalar = None
    error_msg: Scalar = None


class CancelData(msgspec.Struct, rename="camel"):
    success_list: list[OrderItem] | None = None
    failure_list: list[OrderItem] | None = None


class CancelAnswer(msgspec.Struct):
    code: Scalar = None
    msg: Scalar = None
    data: CancelData | None = None


class Envelope(msgspec.Struct):
    """Only what every answer shares; ``data`` is left raw (JSON ``null`` when absent)."""

    code: Scalar = None
    msg: Scalar = None
    # Not ``Raw | None``: msgspec then accepts only ``null`` and refuses the whole envelope.
    data: msgspec.Raw = msgspec.Raw(b"null")


class ServerTime(msgspec.Struct, rename="camel"):
    server_time: str | int


class TimeAnswer(msgspec.Struct):
    code: Scalar = None
    msg: Scalar = None
    data: ServerTime | None = None


_cancel_decoder = msgspec.json.Decoder(CancelAnswer)
_envelope_decoder = msgspec.json.Decoder(Envelope)
_time_decoder = msgspec.json.Decoder(TimeAnswer)


def text(value: Scalar) -> str | None:
    """An id, code or message as text; None for null, "" or a bool (never a real id)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        # A float id has already lost precision beyond 2**53; keep it only if it is exact.
        if not value.is_integer():
            return str(value)
        value = int(value)
    out = str(value)
    return out or None


def decode_cancel(body: bytes) -> CancelAnswer | None:
    """The typed answer of batch-cancel-order, or None if the body is not that shape."""
    try:
        return _cancel_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def decode_envelope(body: bytes) -> Envelope | None:
    """code/msg of any JSON answer (e.g. an error whose data is not the success shape)."""
    try:
        return _envelope_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def decode_server_time_ms(body: bytes) -> int | None:
    try:
        answer = _time_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if answer.data is None:
        return None
    try:
        return int(answer.data.server_time)
    except ValueError:
        return None


class OpenOrderRow(msgspec.Struct, rename="camel"):
    symbol: Scalar = None
    order_id: Scalar = None
    client_oid: Scalar = None
    status: Scalar = None


class UnfilledAnswer(msgspec.Struct):
    code: Scalar = None
    msg: Scalar = None
    data: list[OpenOrderRow] | None = None


_unfilled_decoder = msgspec.json.Decoder(UnfilledAnswer)


def decode_unfilled(body: bytes) -> UnfilledAnswer | None:
    """The typed answer of unfilled-orders, or None if the body is not that shape."""
    try:
        return _unfilled_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
