"""Verdicts: what an answer of the exchange means, for a whole request and for one order.

Pure functions over (HTTP status, code, message). Every endpoint, v2 or v3, cancel or listing,
goes through these two functions, so each rule is stated once:

- HTTP 5xx, 408, 425 and 429 are the server's trouble, retried whatever code they carry
  (429 and code 1001 also pause the budget: ``THROTTLED``).
- Refused credentials (bad key, signature, passphrase, IP, permissions) stop the whole call,
  whatever the HTTP status: every other request would hear the same.
- Clock codes: read the exchange's clock, re-sign, send again.
- A request-level "does not exist" on a request for several orders says nothing about each of
  them: they are asked again. On a request for one order it is that order's answer.
- A refusal of the request's *content* (a malformed id, parameter verification) on a request for
  several orders is split until the offending order is alone (``SPLIT``).
- Anything unknown fails: it is reported with its code, never read as "not open".

The tables are data, so a misfiled code is a one-line change.
"""

from __future__ import annotations

import enum
import re

SUCCESS_CODE = "00000"


class Verdict(enum.Enum):
    """What to do with an order (or a whole request) after an answer."""

    OK = "ok"  # the request succeeded; look at its data
    NOT_OPEN = "not_open"  # final: nothing left to cancel
    RETRY = "retry"  # transient: send again after a backoff
    THROTTLED = "throttled"  # rate limited: the budget pauses, then send again
    RESYNC_CLOCK = "resync_clock"  # timestamp refused: read server time, re-sign, send again
    SPLIT = "split"  # the content of a multi-order request was refused: split it
    WRONG_ACCOUNT = "wrong_account"  # the key belongs to the other API family (v2 / v3)
    CREDENTIALS = "credentials"  # final for the whole call: the account refuses this key
    FAIL = "fail"  # final: the request is wrong or not allowed


# Not open any more (filled, cancelled, expired, unknown): nothing to cancel.
NOT_OPEN_CODES = frozenset(
    {
        "43001",  # The order does not exist
        "43004",  # There is no order to cancel
        "22001",  # No order to cancel
        "45057",  # The order does not exist!
        "45031",  # The order is finalized
        "45055",  # The current order status cannot be cancelled
        "40109",  # order cannot be found
        "40768",  # order does not exist
        "43025",  # plan order does not exist
        "25204",  # v3: Order does not exist
        "24056",  # v3: notExisted
        "25597",  # v3: strategy order does not exist
    }
)
# Rate limited: 429 as a code (as seen in the wild) and 1001 "request too frequent".
THROTTLE_CODES = frozenset({"429", "1001", "25004"})
# Transient, including the weekly release window's 45001, 40725, 40808 and 40015.
TRANSIENT_CODES = frozenset(
    {"40010", "40015", "40725", "40808", "45001", "40910", "43059", "40200"}
    # v3 (UTA error table): system busy / error, request timed out, try again later
    | {"25000", "25001", "25003", "25113"}
)
CLOCK_CODES = frozenset({"40008", "40004", "40005"})
# The account refuses this key: key, signature, passphrase, permissions, IP, unknown key, and the
# demo-trading environment mixed up (40099).
CREDENTIAL_CODES = frozenset(
    {"40006", "40009", "40011", "40012", "40014", "40018", "40037", "40099"}
)
# The request's content is refused: split a multi-order request to isolate the bad order.
CONTENT_CODES = frozenset({"40402", "40017", "40924", "40912"})
# 40084: a classic key on v3; 40085: a unified-account key on v2.
# 25245 (v3: "The account is not the unified account mode") is read as 40084.
WRONG_ACCOUNT_CODES = frozenset({"40084", "40085", "25245"})

# What each stopping code means to the user, for reports and the command line.
CODE_HINTS = {
    "40099": "the exchange environment is incorrect: a demo-trading key needs demo_trading=True "
    "(--demo-trading), a live key needs it off",
    "40018": "the request came from an IP address this API key does not allow",
    "40037": "this API key does not exist",
    "40085": "this API key belongs to a unified trading account, which answers only the v3 API: "
    'use account="uta" or account="auto" (--account uta|auto)',
    "40084": "this API key belongs to a classic account, which answers only the v2 API: "
    'use account="classic" or account="auto" (--account classic|auto)',
}

# Without a code the message is all there is; these phrasings mean "nothing to cancel".
_NOT_OPEN_MESSAGE = re.compile(
    r"does ?not ?exist|not ?existed|not ?found|cannot be found|no order to cancel|is finalized|"
    r"already (?:been )?(?:cancel|fill|clos)",
    re.IGNORECASE,
)


def classify_code(code: str | None, message: str | None) -> Verdict:
    """The verdict of a code (and, without one, of a message), wherever it appears."""
    if code:
        if code == SUCCESS_CODE:
            return Verdict.OK
        if code in NOT_OPEN_CODES:
            return Verdict.NOT_OPEN
        if code in THROTTLE_CODES:
            return Verdict.THROTTLED
        if code in TRANSIENT_CODES:
            return Verdict.RETRY
        if code in CLOCK_CODES:
            return Verdict.RESYNC_CLOCK
        if code in CREDENTIAL_CODES:
            return Verdict.CREDENTIALS
        if code in CONTENT_CODES:
            return Verdict.SPLIT
        if code in WRONG_ACCOUNT_CODES:
            return Verdict.WRONG_ACCOUNT
        return Verdict.FAIL
    if message and _NOT_OPEN_MESSAGE.search(message):
        return Verdict.NOT_OPEN
    return Verdict.FAIL


def classify_answer(
    status: int,
    code: str | None,
    message: str | None,
    *,
    readable: bool,
    orders: int,
    garbled: bool = False,
) -> Verdict:
    """The verdict of a whole answer.

    ``readable``: the body decoded to the endpoint's documented shape (a success code with
    unusable data is not readable). ``orders``: how many orders the request named (0 for
    listings and other requests about no order in particular). ``garbled``: the body began
    as JSON but could not be read at all (cut off).
    """
    if status == 429:
        return Verdict.THROTTLED
    verdict = classify_code(code, message) if code else None
    if verdict is Verdict.CREDENTIALS or verdict is Verdict.WRONG_ACCOUNT:
        return verdict  # whatever the HTTP status: every other request would hear the same
    if verdict is Verdict.THROTTLED or verdict is Verdict.RESYNC_CLOCK:
        return verdict
    if status >= 500 or status == 408 or status == 425:
        return Verdict.RETRY  # the server's trouble, whatever code it carries
    if verdict is None:
        if 200 <= status < 300:
            # No code: an empty or garbled body. The exchange may have acted; asking again is
            # safe, and a listing read again is never read as empty.
            return Verdict.OK if readable else Verdict.RETRY
        if message and orders == 1 and _NOT_OPEN_MESSAGE.search(message):
            return Verdict.NOT_OPEN
        if garbled and orders:
            # The exchange's JSON, cut off: what it said about these orders is unknown (one-
            # order cancels answer every failure with a 4xx, "does not exist" and transient
            # errors alike). Asking again is safe and bounded; it ends unresolved, never
            # failed, if it stays unreadable. (A proxy's plain-text page is a refusal.)
            return Verdict.RETRY
        return Verdict.FAIL
    if verdict is Verdict.OK:
        return Verdict.OK if readable and 200 <= status < 300 else Verdict.RETRY
    if verdict is Verdict.NOT_OPEN:
        # One order: that order's answer. Several: ambiguous, ask each again. None (a
        # listing): a "does not exist" about no order is a refusal we do not understand.
        return Verdict.NOT_OPEN if orders == 1 else Verdict.RETRY if orders else Verdict.FAIL
    if verdict is Verdict.SPLIT and orders <= 1:
        return Verdict.FAIL
    return verdict


def classify_item(code: str | None, message: str | None) -> Verdict:
    """The verdict for one order inside a successful answer (a failureList entry, a v3 item)."""
    verdict = classify_code(code, message)
    if verdict is Verdict.SPLIT or verdict is Verdict.WRONG_ACCOUNT:
        return Verdict.FAIL  # already about this order alone
    return verdict
