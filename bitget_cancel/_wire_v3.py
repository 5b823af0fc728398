"""What goes on the wire for a unified trading account (UTA): the v3 endpoints, request bodies
and answers (msgspec).

From Bitget's ``api-doc/uta`` pages: Batch Cancel (``trade/Cancel-Batch``), Cancel All Orders
(``trade/Cancel-All-Order``), Get Open Orders (``trade/Get-Order-Pending``), Unfilled Strategy
Orders and Cancel Strategy Order (``strategy/...``), the UTA error-code table. Signing, headers
and the envelope are v2's (``_wire``). What the pages leave open is marked "Uncertain".

Endpoint names differ from v2's: each (account, endpoint name) has its own budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import msgspec

from ._wire import AnswerCodec, Decoded, Endpoint, OpenOrderRow, Scalar, encode_json

# The envelope's success code (as in _classify; the wire layer sits below it).
SUCCESS_CODE = "00000"

# Every request names the product line; this package cancels spot orders only.
CATEGORY = "SPOT"

# At most 20 orders of one category a request, partial success allowed (changelog, 2025-07-08).
V3_CANCEL_BATCH = Endpoint("v3-cancel-batch", "POST", "/api/v3/trade/cancel-batch", 5)
V3_MAX_BATCH = 20
# ``symbol`` optional: without it every open order of the category.
V3_SYMBOL_CANCEL = Endpoint(
    "v3-cancel-symbol-order", "POST", "/api/v3/trade/cancel-symbol-order", 5
)
V3_UNFILLED_ORDERS = Endpoint("v3-unfilled-orders", "GET", "/api/v3/trade/unfilled-orders", 20)
V3_PAGE_LIMIT = 100  # the page's maximum (and default)
V3_UNFILLED_STRATEGY = Endpoint(
    "v3-unfilled-strategy-orders", "GET", "/api/v3/trade/unfilled-strategy-orders", 20
)
# One strategy order a request, by orderId or clientOid, no category; no batch form exists.
V3_CANCEL_STRATEGY = Endpoint(
    "v3-cancel-strategy-order", "POST", "/api/v3/trade/cancel-strategy-order", 10
)


# -- cancel-batch ---------------------------------------------------------------------------


class V3CancelItem(msgspec.Struct, omit_defaults=True, rename="camel", kw_only=True):
    """One element of the cancel-batch array: one id only (with both, the page says the
    clientOid is ignored; sending one keeps the answer's item unambiguous)."""

    category: str
    symbol: str
    order_id: str | None = None
    client_oid: str | None = None


def encode_cancel_batch(by_order_id: bool, orders: Sequence[tuple[str, str]]) -> bytes:
    """The JSON array of cancel-batch for ``(symbol, id)`` pairs; signed and sent as is.

    No ``batchMode``: every item carries its symbol, so one request may span symbols.
    """
    if by_order_id:
        items = [V3CancelItem(category=CATEGORY, symbol=s, order_id=i) for s, i in orders]
    else:
        items = [V3CancelItem(category=CATEGORY, symbol=s, client_oid=i) for s, i in orders]
    return encode_json(items)


# A per-order result of cancel-batch (and of cancel-symbol-order's ``list``): ``orderId``,
# ``clientOid``, ``code``, ``msg``. The page's example success items carry only the ids; its
# field table adds ``code`` and ``msg`` "for this order". Uncertain: whether a success item
# ever carries "00000".
# Items stay objects as sent: ``_answers`` reads their fields and judges their shape.
V3_CANCEL_BATCH_CODEC: AnswerCodec[list[dict[str, Any]]] = AnswerCodec(list[dict[str, Any]])


# -- listings -------------------------------------------------------------------------------


class V3OrderPage(msgspec.Struct):
    """``data`` of unfilled-orders: ``{"list": [...], "cursor": "..."}``.

    Rows carry ``orderId``, ``clientOid``, ``symbol`` (and ``orderStatus``, not read).
    Uncertain: how the last page shows; the cursor is taken to be empty or absent there, and
    a page shorter than the limit is the last one as well.
    """

    rows: list[OpenOrderRow] | None = msgspec.field(default=None, name="list")
    cursor: Scalar = None


V3_UNFILLED_CODEC: AnswerCodec[V3OrderPage] = AnswerCodec(V3OrderPage)
# unfilled-strategy-orders: ``data`` is a plain array, no paging.
V3_STRATEGY_CODEC: AnswerCodec[list[OpenOrderRow]] = AnswerCodec(list[OpenOrderRow])


# -- answers whose documented success carries ``data: null`` ----------------------------------


class _NullData(msgspec.Struct):
    data: None = None  # msgspec accepts only null (or absence) here


_null_data_decoder = msgspec.json.Decoder(_NullData)


# The data of a success answered ``data: null`` (or without data): this one object, told
# apart by identity from an object the exchange sent (``{}``, ``{"orderId": null}``), which
# names no order. Never mutated.
NULL_SUCCESS: dict[str, Any] = {}


class NullDataCodec(AnswerCodec[dict[str, Any]]):
    """cancel-strategy-order answers ``{"code": "00000", "data": null}`` (its page's example);
    some clients see ``{orderId, clientOid}``. A success code with null data is readable here
    (as ``NULL_SUCCESS``): the request named one order and the exchange said success. Data of
    any other shape still is not."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(dict[str, Any])

    def decode(self, body: bytes) -> Decoded[dict[str, Any]]:
        decoded = super().decode(body)
        if decoded.data is None and decoded.code == SUCCESS_CODE:
            try:
                _null_data_decoder.decode(body)
            except (msgspec.DecodeError, msgspec.ValidationError):
                return decoded  # data present but not an object: not a shape we know
            return Decoded(decoded.code, decoded.msg, NULL_SUCCESS, True, decoded.request_time)
        return decoded


NULL_DATA_CODEC = NullDataCodec()


# -- countdown-cancel-all: the exchange's own dead man's switch --------------------------------

# The page (api-doc/uta/trade/CountDown-Cancel-All): ``{"countdown": "N"}`` with N in [5, 60]
# seconds, "0" disarms; 1/s per UID; UTA only; access granted by Bitget on request; it disarms
# itself once it has fired. Its success answer is ``"data": "success"``. Uncertain: the code of
# the refusal when the account was not granted access, and which orders it cancels ("all
# orders under the account": taken to include at least the spot normal orders, nothing more is
# relied on). These facts live here and in ``countdown_seconds`` only.
V3_COUNTDOWN = Endpoint("v3-countdown-cancel-all", "POST", "/api/v3/trade/countdown-cancel-all", 1)
COUNTDOWN_MIN, COUNTDOWN_MAX = 5, 60
COUNTDOWN_OFF = "0"


def countdown_seconds(timeout: float) -> int:
    """The countdown for a switch of ``timeout`` seconds: ceil, clamped to what it accepts."""
    return min(COUNTDOWN_MAX, max(COUNTDOWN_MIN, math.ceil(timeout)))


def encode_countdown(seconds: int | str) -> bytes:
    return encode_json({"countdown": str(seconds)})
