"""Telling the account type ahead of the first cancel: one cheap signed v3 read.

A unified trading account answers v3 reads; a classic account answers them 40084. Anything
else (no answer, a 5xx, refused credentials, an unknown code) says nothing about the account
type: it stays unknown, and the first 40084/40085 of a real request will tell instead.
"""

from __future__ import annotations

from ._classify import Verdict
from ._exceptions import CallStopped, TransportError
from ._log import log
from ._policy import CallScope, Deadline
from ._session import CallStats, ExchangeSession
from ._wire_v3 import CATEGORY, V3_UNFILLED_CODEC, V3_UNFILLED_ORDERS

# One open order at most: the cheapest answer that proves the key may read v3.
PROBE_QUERY = f"category={CATEGORY}&limit=1"


async def probe_account(session: ExchangeSession) -> str | None:
    """``"uta"`` or ``"classic"`` if one read of v3 ``unfilled-orders`` tells (and the session
    now uses that family), else None."""
    scope = CallScope(Deadline(None, session.loop))
    try:
        reply = await session.call(
            V3_UNFILLED_ORDERS, V3_UNFILLED_CODEC, scope, CallStats(), query=PROBE_QUERY
        )
    except (TransportError, CallStopped) as exc:
        log.debug("account probe: no answer: %s", exc)
        return None
    if reply.verdict is Verdict.OK:
        found = "uta"
    elif reply.verdict is Verdict.WRONG_ACCOUNT and reply.code == "40084":
        found = "classic"
    else:
        log.debug("account probe: HTTP %d code=%s: account type unknown", reply.status, reply.code)
        return None
    if not session.adopt_account(found, "the warm-up probe"):
        return None
    log.info("account probe: a %s account", "unified trading" if found == "uta" else found)
    return found
