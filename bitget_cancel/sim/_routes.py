"""Every path the simulator answers, with its method, rate limit and API family."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ._countdown import COUNTDOWN_PATH, SimCountdown
from ._kinds_v2 import KindsV2
from ._rules import Call
from ._venue import Venue
from ._venue_v3 import VenueV3

# v2 (classic account) trade endpoints
BATCH_CANCEL_PATH = "/api/v2/spot/trade/batch-cancel-order"
CANCEL_SYMBOL_PATH = "/api/v2/spot/trade/cancel-symbol-order"
UNFILLED_PATH = "/api/v2/spot/trade/unfilled-orders"
CANCEL_ORDER_PATH = "/api/v2/spot/trade/cancel-order"
CURRENT_PLAN_PATH = "/api/v2/spot/trade/current-plan-order"
CANCEL_PLAN_PATH = "/api/v2/spot/trade/cancel-plan-order"
BATCH_CANCEL_PLAN_PATH = "/api/v2/spot/trade/batch-cancel-plan-order"
# v3 (unified trading account) trade endpoints
V3_CANCEL_BATCH_PATH = "/api/v3/trade/cancel-batch"
V3_CANCEL_SYMBOL_PATH = "/api/v3/trade/cancel-symbol-order"
V3_UNFILLED_PATH = "/api/v3/trade/unfilled-orders"
V3_STRATEGY_PATH = "/api/v3/trade/unfilled-strategy-orders"
V3_CANCEL_STRATEGY_PATH = "/api/v3/trade/cancel-strategy-order"
# public
TIME_PATH = "/api/v2/public/time"
V3_TIME_PATH = "/api/v3/public/time"
SYMBOLS_PATH = "/api/v2/spot/public/symbols"
COINS_PATH = "/api/v2/spot/public/coins"
MARGIN_CURRENCIES_PATH = "/api/v2/margin/currencies"

V2 = "v2"
V3 = "v3"


class Route(NamedTuple):
    method: str
    limit: int  # requests per sliding second, per account (public: per client address)
    family: str | None  # "v2" or "v3" trade endpoint (signed, faults apply); None: public
    handler: Callable[[Call], Any]
    array_body: bool = False  # the JSON body is an array, not an object

    @property
    def signed(self) -> bool:
        return self.family is not None


def build_routes(
    venue: Venue, kinds: KindsV2, v3: VenueV3, countdown: SimCountdown | None = None
) -> dict[str, Route]:
    """The route table. Limits are the documented per-UID ones; where two copies of the docs
    disagree (batch-cancel-plan-order: 10/s and 5/s) the lower one."""
    routes = {
        BATCH_CANCEL_PATH: Route("POST", 10, V2, venue.batch_cancel),
        CANCEL_SYMBOL_PATH: Route("POST", 5, V2, venue.cancel_symbol),
        UNFILLED_PATH: Route("GET", 20, V2, venue.unfilled_orders),
        CANCEL_ORDER_PATH: Route("POST", 10, V2, kinds.cancel_order),
        CURRENT_PLAN_PATH: Route("GET", 20, V2, kinds.current_plan_orders),
        CANCEL_PLAN_PATH: Route("POST", 20, V2, kinds.cancel_plan_order),
        BATCH_CANCEL_PLAN_PATH: Route("POST", 5, V2, kinds.batch_cancel_plan_orders),
        V3_CANCEL_BATCH_PATH: Route("POST", 5, V3, v3.cancel_batch, array_body=True),
        V3_CANCEL_SYMBOL_PATH: Route("POST", 5, V3, v3.cancel_symbol),
        V3_UNFILLED_PATH: Route("GET", 20, V3, v3.unfilled_orders),
        # Uncertain: the strategy listing's limit is not on its page; public clients use 20/s.
        V3_STRATEGY_PATH: Route("GET", 20, V3, v3.unfilled_strategy_orders),
        V3_CANCEL_STRATEGY_PATH: Route("POST", 10, V3, v3.cancel_strategy_order),
        TIME_PATH: Route("GET", 20, None, venue.server_time),
        V3_TIME_PATH: Route("GET", 20, None, venue.server_time),
        SYMBOLS_PATH: Route("GET", 20, None, venue.symbols),
        COINS_PATH: Route("GET", 3, None, venue.coins),
        MARGIN_CURRENCIES_PATH: Route("GET", 10, None, venue.margin_currencies),
    }
    if countdown is not None:
        routes[COUNTDOWN_PATH] = Route("POST", 1, V3, countdown.handle)
    return routes
