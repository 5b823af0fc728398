"""``POST /api/v3/trade/countdown-cancel-all``: the exchange's own dead man's switch, on a
unified trading account (the pipeline answers 40084 to a classic one).

From its page (api-doc/uta/trade/CountDown-Cancel-All): ``{"countdown": "N"}``, N a string of
seconds in [5, 60], "0" disarms; 1 request/s per UID; answer ``"data": "success"``; when it
runs out "all orders under the account" are cancelled and the switch closes itself (one-shot).

Assumptions, stricter than the page where it is vague:

- It cancels the account's **normal** spot orders only: the page does not say that TP/SL or
  trigger orders go too, so a client must not rely on it for them.
- A countdown given again replaces the running one (the page's heartbeat use).
- Access is granted by Bitget per account; ``refused = True`` answers as an account without
  it. The real code is not documented: 40014 "Incorrect permissions" stands in.
"""

from __future__ import annotations

from typing import Any

from ._book import NORMAL
from ._rules import Call, VenueState, bad_param
from ._wire import SimError

COUNTDOWN_PATH = "/api/v3/trade/countdown-cancel-all"
COUNTDOWN_MIN, COUNTDOWN_MAX = 5, 60
REFUSED_CODE = "40014"
REFUSED_MSG = "Incorrect permissions: countdown-cancel-all is not enabled for this account"


class SimCountdown:
    """The account's countdown. ``armed_for`` (seconds) while armed, ``fired`` counts the
    times it ran out, ``cancelled`` the orders it closed."""

    def __init__(self, state: VenueState) -> None:
        self._state = state
        self.refused = False
        self.armed_for: int | None = None
        self.fired = 0
        self.cancelled = 0
        self.requests = 0
        self._generation = 0  # a timer of an older countdown does nothing

    def handle(self, call: Call) -> Any:
        self.requests += 1
        body = call.body
        if not isinstance(body, dict):
            raise bad_param("body_json")
        value = body.get("countdown")
        if not isinstance(value, str) or not value.isdigit():
            raise bad_param("countdown")  # the page: a string
        seconds = int(value)
        if seconds != 0 and not COUNTDOWN_MIN <= seconds <= COUNTDOWN_MAX:
            raise bad_param("countdown_range")
        if self.refused:
            raise SimError(400, REFUSED_CODE, REFUSED_MSG)
        self._generation += 1
        if seconds == 0:
            self.armed_for = None
            return "success"
        self.armed_for = seconds
        generation = self._generation
        self._state.schedule(seconds, lambda: self._fire(generation))
        return "success"

    def _fire(self, generation: int) -> None:
        if generation != self._generation or self.armed_for is None:
            return
        self.armed_for = None  # one-shot: it closes itself
        self.fired += 1
        for order in self._state.book.open_orders(kind=NORMAL):
            self._state.cancel(order)
            self.cancelled += 1
