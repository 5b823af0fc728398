"""What goes on the wire: envelopes, error answers, proxy pages and row shapes.

Shapes follow Bitget's v2 answers as documented and as ccxt parses them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._book import SimOrder

SUCCESS = "00000"

_encode = msgspec.json.encode

# Coins the symbol parser recognises as quote currencies, longest first.
_QUOTES = ("USDT", "USDC", "BTC", "ETH", "EUR", "BRL")

USER_ID = "7264631750"


class SimError(Exception):
    """A whole request refused with an exchange error code.

    ``violation`` names the rule the client broke (counted in ``stats.violations``), or is
    None when the refusal is not the client's fault.
    """

    def __init__(self, status: int, code: str, msg: str, violation: str | None = None) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.violation = violation


def envelope(data: Any, request_time: int) -> bytes:
    # requestTime is a string in the answers ccxt recorded from the live exchange.
    return _encode(
        {"code": SUCCESS, "msg": "success", "requestTime": str(request_time), "data": data}
    )


def error_body(code: str, msg: str, request_time: int) -> bytes:
    return _encode({"code": code, "msg": msg, "requestTime": str(request_time), "data": None})


_REASONS = {
    200: "Please wait while we check your browser",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def html_error_page(status: int) -> bytes:
    """The page an nginx in front of the exchange answers when the upstream fails (or, with
    200, a CDN's browser check answered in the exchange's stead)."""
    title = f"{status} {_REASONS[status]}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


def split_symbol(symbol: str) -> tuple[str, str]:
    for quote in _QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return symbol[:-4] or symbol, symbol[-4:]


def unfilled_row(order: SimOrder) -> dict[str, Any]:
    """A row of ``GET /api/v2/spot/trade/unfilled-orders``."""
    return {
        "userId": USER_ID,
        "symbol": order.symbol,
        "orderId": order.order_id,
        "clientOid": order.client_oid,
        # In unfilled-orders the exchange puts the limit price in priceAvg.
        "priceAvg": order.price,
        "size": order.size,
        "orderType": "limit",
        "side": order.side,
        "status": "live",
        "basePrice": "0",
        "baseVolume": "0",
        "quoteVolume": "0",
        "enterPointSource": "API",
        "orderSource": "normal",
        "presetTakeProfitPrice": "",
        "executeTakeProfitPrice": "",
        "presetStopLossPrice": "",
        "executeStopLossPrice": "",
        "cTime": str(order.c_time),
        "uTime": str(order.u_time),
        "tpslType": order.kind,  # "normal" or "tpsl": the listing asked for one of them
        "triggerPrice": order.trigger_price,
    }


def plan_row(order: SimOrder) -> dict[str, Any]:
    """A row of ``GET /api/v2/spot/trade/current-plan-order``'s ``orderList``."""
    return {
        "orderId": order.order_id,
        "clientOid": order.client_oid,
        "symbol": order.symbol,
        "size": order.size,
        "executePrice": order.price,
        "triggerPrice": order.trigger_price,
        "status": "live",
        "orderType": "limit",
        "side": order.side,
        "planType": "amount",
        "triggerType": "fill_price",
        "enterPointSource": "API",
        "uTime": str(order.u_time),
        "cTime": str(order.c_time),
    }


def v3_order_row(order: SimOrder) -> dict[str, Any]:
    """A row of ``GET /api/v3/trade/unfilled-orders``'s ``list``, as recorded from the live
    exchange (ccxt's test data, "uta spot fetchOpenOrders"): ``""`` where nothing is known,
    ``reduceOnly: "NO"``, ``orderStatus`` ``"live"`` or ``"new"``, and the tp/sl fields null."""
    return {
        "orderId": order.order_id,
        "clientOid": order.client_oid,
        "category": "SPOT",
        "symbol": order.symbol,
        "orderType": "limit",
        "side": order.side,
        "price": order.price,
        "qty": order.size,
        "amount": _quote_amount(order),
        "cumExecQty": "0",
        "cumExecValue": "0",
        "avgPrice": "0",
        "timeInForce": "gtc",
        # Both are seen on open orders (a spot and a margin order of the recording).
        "orderStatus": "new" if int(order.order_id) % 2 else "live",
        "posSide": "",
        "holdMode": "",
        "reduceOnly": "NO",
        "feeDetail": [{"feeCoin": "", "fee": ""}],
        "createdTime": str(order.c_time),
        "updatedTime": str(order.u_time),
        "stpMode": "none",
        **dict.fromkeys(_TPSL_FIELDS),
    }


_TPSL_FIELDS = (
    "tpTriggerBy",
    "slTriggerBy",
    "takeProfit",
    "stopLoss",
    "tpOrderType",
    "slOrderType",
    "tpLimitPrice",
    "slLimitPrice",
)


def _quote_amount(order: SimOrder) -> str:
    return f"{float(order.price) * float(order.size):.8f}".rstrip("0").rstrip(".")


def v3_strategy_row(order: SimOrder, category: str = "SPOT") -> dict[str, Any]:
    """A row of ``GET /api/v3/trade/unfilled-strategy-orders``, as recorded from the live
    exchange (ccxt's test data, "uta trigger stopLossPrice fetchOpenOrders"): ``posSide`` and
    the tp/sl trigger fields; no ``side``, ``status`` or ``type``. The recording is of a
    futures order; a spot row is taken to look the same with an empty ``posSide``."""
    return {
        "orderId": order.order_id,
        "clientOid": order.client_oid,
        "symbol": order.symbol,
        "category": category,
        "qty": order.size,
        "posSide": "" if category == "SPOT" else "long",
        "tpTriggerBy": "market",
        "slTriggerBy": "market",
        "takeProfit": "",
        "stopLoss": order.trigger_price,
        "tpOrderType": "market",
        "slOrderType": "limit",
        "tpLimitPrice": "",
        "slLimitPrice": order.price,
        "createdTime": str(order.c_time),
        "updatedTime": str(order.u_time),
    }


def symbol_row(symbol: str) -> dict[str, Any]:
    """A row of ``GET /api/v2/spot/public/symbols``."""
    base, quote = split_symbol(symbol)
    return {
        "symbol": symbol,
        "baseCoin": base,
        "quoteCoin": quote,
        "minTradeAmount": "0",
        "maxTradeAmount": "900000000000000000000",
        "takerFeeRate": "0.001",
        "makerFeeRate": "0.001",
        "pricePrecision": "2",
        "quantityPrecision": "4",
        "quotePrecision": "6",
        "status": "online",
        "minTradeUSDT": "1",
        "buyLimitPriceRatio": "0.05",
        "sellLimitPriceRatio": "0.05",
        "areaSymbol": "no",
        "orderQuantity": "200",
        "openTime": "1532454360000",
        "offTime": "",
    }


def coin_row(coin: str, coin_id: int) -> dict[str, Any]:
    """A row of ``GET /api/v2/spot/public/coins``."""
    return {
        "coinId": str(coin_id),
        "coin": coin,
        "transfer": "true",
        "chains": [
            {
                "chain": coin,
                "needTag": "false",
                "withdrawable": "true",
                "rechargeable": "true",
                "withdrawFee": "0.0001",
                "extraWithdrawFee": "0",
                "depositConfirm": "1",
                "withdrawConfirm": "1",
                "minDepositAmount": "0.0001",
                "minWithdrawAmount": "0.001",
                "browserUrl": "https://example.invalid/tx/",
                "contractAddress": None,
                "withdrawStep": "0",
                "withdrawMinScale": "8",
                "congestion": "normal",
            }
        ],
        "areaCoin": "no",
    }
