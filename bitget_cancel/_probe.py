"""Telling the account type ahead of the first cancel: one cheap signed read of each API.

A unified trading account answers v3 reads and refuses v2 ones (40085); a classic account
answers v2 reads and refuses v3 ones (40084). A refusal names the account type; a read that
succeeds only says that API answered this key, so it decides only beside the other API's
refusal: if both answer (an exchange that lets a classic key read v3), the type stays unknown
and the first refusal of a real request tells instead, rather than a panic listing an API that
shows nothing of the account. No answer, a 5xx, refused credentials or an unknown code say
nothing about the account type.
"""

from __future__ import annotations

import asyncio

from ._classify import Verdict
from ._exceptions import CallStopped, TransportError
from ._log import log
from ._policy import CallScope, Deadline
from ._session import CallStats, ExchangeSession, Reply
from ._wire import UNFILLED_CODEC, UNFILLED_ORDERS, AnswerCodec, Endpoint
from ._wire_v3 import CATEGORY, V3_UNFILLED_CODEC, V3_UNFILLED_ORDERS

# One open order at most: the cheapest answers that prove the key may read each API.
PROBE_QUERY = f"category={CATEGORY}&limit=1"
V2_PROBE_QUERY = "limit=1"
# The codes by which each API refuses the other account type's key.
_REFUSED_BY = {"uta": frozenset({"40084", "25245"}), "classic": frozenset({"40085"})}


async def _read(
    session: ExchangeSession, endpoint: Endpoint, codec: AnswerCodec[object], query: str
) -> Reply[object] | None:
    scope = CallScope(Deadline(None, session.loop))
    try:
        return await session.call(endpoint, codec, scope, CallStats(), query=query)
    except (TransportError, CallStopped) as exc:
        log.debug("account probe of %s: no answer: %s", endpoint.name, exc)
        return None


def _says(reply: Reply[object] | None, api: str) -> str | None:
    """ "ok", "refused" (by a wrong-account code) or None (tells nothing)."""
    if reply is None:
        return None
    if reply.verdict is Verdict.OK:
        return "ok"
    if reply.verdict is Verdict.WRONG_ACCOUNT and reply.code in _REFUSED_BY[api]:
        return "refused"
    log.debug("account probe of %s: HTTP %d code=%s", api, reply.status, reply.code)
    return None


async def probe_account(session: ExchangeSession) -> str | None:
    """``"uta"`` or ``"classic"`` if one read of each API's ``unfilled-orders`` tells (and the
    session now uses that family), else None."""
    v3, v2 = await asyncio.gather(
        _read(session, V3_UNFILLED_ORDERS, V3_UNFILLED_CODEC, PROBE_QUERY),  # type: ignore[arg-type]
        _read(session, UNFILLED_ORDERS, UNFILLED_CODEC, V2_PROBE_QUERY),  # type: ignore[arg-type]
    )
    on_v3, on_v2 = _says(v3, "uta"), _says(v2, "classic")
    if on_v3 == "refused" and on_v2 != "refused":
        found = "classic"
    elif on_v2 == "refused" and on_v3 != "refused":
        found = "uta"
    else:
        if on_v3 == on_v2 == "ok":
            log.warning("account probe: both the v2 and the v3 API answered: type left unknown")
        return None
    if not session.adopt_account(found, "the warm-up probe"):
        return None
    log.debug("account probe: a %s account", "unified trading" if found == "uta" else found)
    return found
