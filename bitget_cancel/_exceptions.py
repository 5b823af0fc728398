"""Every exception the package raises, in one place.

::

    BitgetCancelError
    ├── InvalidArgument (also a ValueError): raised before any request is sent
    │   ├── InvalidTarget            a malformed CancelTarget or targets argument
    │   │   └── InvalidSymbol        not an exchange symbol name (e.g. "BTC-USDT", "btc usdt")
    │   ├── InvalidCredentials       missing, empty or unreadable credentials (never echoed)
    │   ├── InvalidMode              mode is not "auto", "single" or "multiple"
    │   ├── InvalidRate              a rate limit that is not positive and finite
    │   ├── InvalidDeadline          a deadline that is not None nor seconds > 0
    │   └── InvalidBudgetStore       a budget_url (Redis) or its settings are wrong
    ├── EngineClosed (also a RuntimeError): the engine was closed; make a new one
    ├── NoEventLoop (also a RuntimeError): called outside a running event loop
    ├── WatchdogFailed               a dead man's switch could not start its watchdog
    ├── UnsupportedPlatform          no signal handlers on this event loop (Windows)
    ├── TransportError               no HTTP answer (connect, reset, oversized body)
    │   └── RequestTimeout           no complete answer in time; the exchange may have acted
    └── CallStopped                  internal: a call sends nothing more (never escapes)

Network, server and exchange errors never reach the caller of ``cancel()`` or
``panic_cancel()``: they become outcomes in the report. ``TransportError`` is what a
``Transport`` raises, for whoever writes or tests one.
"""

from __future__ import annotations


class BitgetCancelError(Exception):
    """Root of every exception this package raises."""


class InvalidArgument(BitgetCancelError, ValueError):
    """An argument is wrong; raised before any request is sent."""


class InvalidTarget(InvalidArgument):
    """A cancel target is malformed (no symbol, no id, an id that is not a string...)."""


class InvalidSymbol(InvalidTarget):
    """A symbol that cannot be an exchange symbol name."""


class InvalidCredentials(InvalidArgument):
    """Credentials are missing or empty. The message never contains a secret."""


class InvalidMode(InvalidArgument):
    """``mode`` is not one of "auto", "single", "multiple"."""


class InvalidRate(InvalidArgument):
    """A rate limit that is not a positive finite number."""


class InvalidDeadline(InvalidArgument):
    """``deadline`` is not None nor a positive finite number of seconds."""


class InvalidBudgetStore(InvalidArgument):
    """The budget store's URL or one of its settings is wrong; the message never shows a
    password."""


class EngineClosed(BitgetCancelError, RuntimeError):
    """The engine was closed; make a new one. (Not a ValueError: nothing is wrong with the
    arguments, and an ``except ValueError`` around a bot's parsing must not swallow it.)"""


class NoEventLoop(BitgetCancelError, RuntimeError):
    """Something that needs the running event loop was called outside one."""


class WatchdogFailed(BitgetCancelError, RuntimeError):
    """A dead man's switch could not start its watchdog (the process did not come up, the
    store did not take the first beat): nothing is armed, the block does not run."""


class UnsupportedPlatform(BitgetCancelError, NotImplementedError):
    """The event loop cannot install signal handlers (Windows' loops have none); signal
    handling is supported on Linux and macOS (Unix event loops)."""


class TransportError(BitgetCancelError):
    """The request did not produce an HTTP answer (connect, reset, timeout, oversized body)."""


class RequestTimeout(TransportError):
    """No complete answer within the request timeout; the exchange may have acted on it."""


class CallStopped(BitgetCancelError):
    """Internal: the session will send nothing more for this call (deadline, refused
    credentials, closed engine). Caught by the run and the panic; never reaches the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
