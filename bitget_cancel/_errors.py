"""Exception tree and the exchange's error-code tables.

The tables are data, not logic, so a code that turns out to be misfiled is a one-line change.
"""

from __future__ import annotations

import enum
import re


class BitgetCancelError(Exception):
    """Root of every exception this package raises."""


class InvalidArgument(BitgetCancelError, ValueError):
    """An argument is wrong; raised before any request is sent."""


class InvalidTarget(InvalidArgument):
    """A cancel target is malformed (no symbol, no id, an id that is not a string...)."""


class InvalidCredentials(InvalidArgument):
    """Credentials are missing or empty. The message never contains a secret."""


class TransportError(BitgetCancelError):
    """The request did not produce an HTTP answer (connect, reset, timeout, oversized body)."""


class RequestTimeout(TransportError):
    """No complete answer within the request timeout; the exchange may have acted on it."""


class Verdict(enum.Enum):
    """What to do with an order (or a whole request) after an answer."""

    NOT_OPEN = "not_open"  # final: nothing left to cancel
    RETRY = "retry"  # transient: send again after a backoff
    RESYNC_CLOCK = "resync_clock"  # timestamp refused: read server time, re-sign, send again
    FAIL = "fail"  # final: the request is wrong or not allowed


SUCCESS_CODE = "00000"

NOT_OPEN_CODES = frozenset({"43001", "43004", "22001", "45057", "45031", "45055", "40109"})
TRANSIENT_CODES = frozenset(
    {"429", "40010", "40015", "40725", "40808", "45001", "40910", "43059", "40200"}
)
CLOCK_CODES = frozenset({"40008", "40004", "40005"})
# Listed for the reader: auth, permission and request errors are failed at once. Unknown codes
# get the same treatment, so this set documents rather than decides.
NEVER_RETRY_CODES = frozenset(
    {"40006", "40009", "40011", "40012", "40014", "40017", "40912", "40924", "40402"}
)
# The account itself is refused (key, signature, passphrase, permissions): every other request
# would hear the same, so a call stops sending at the first one.
CREDENTIAL_CODES = frozenset({"40006", "40009", "40011", "40012", "40014"})

# Without an errorCode the message is all there is; these phrasings mean "nothing to cancel".
_NOT_OPEN_MESSAGE = re.compile(
    r"does ?not ?exist|not ?found|cannot be found|no order to cancel|is finalized|"
    r"already (?:been )?(?:cancel|fill|clos)",
    re.IGNORECASE,
)


def classify_code(code: str | None, message: str | None) -> Verdict:
    """Classify an exchange error code (per order or per request)."""
    if code:
        if code in NOT_OPEN_CODES:
            return Verdict.NOT_OPEN
        if code in TRANSIENT_CODES:
            return Verdict.RETRY
        if code in CLOCK_CODES:
            return Verdict.RESYNC_CLOCK
        return Verdict.FAIL
    if message and _NOT_OPEN_MESSAGE.search(message):
        return Verdict.NOT_OPEN
    return Verdict.FAIL


def classify_http_status(status: int) -> Verdict:
    """Classify an HTTP status whose body told us nothing usable."""
    if status == 429 or status == 408 or status == 425 or status >= 500:
        return Verdict.RETRY
    if 200 <= status < 300:
        # A 2xx with a garbled body: the exchange may have acted; asking again is safe.
        return Verdict.RETRY
    return Verdict.FAIL
