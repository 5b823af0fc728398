"""Who a log record is about: every record of the package's logger carries ``account``,
``engine`` and ``endpoint`` attributes (as ``extra`` would set them), so that the lines of two
engines in one program can be told apart (``%(engine)s`` in a format string).

The engine sets the context for each of its calls (the tasks a call starts inherit it), the
session for each request; a filter on the logger copies it onto every record.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

from ._log import log

# (account, engine) of the call running in this context; the endpoint of its request.
_CALL: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "bitget_cancel_call", default=None
)
_ENDPOINT: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "bitget_cancel_endpoint", default=None
)


@contextlib.contextmanager
def call_context(account: str, engine: str) -> Iterator[None]:
    """Records logged in this block (and by the tasks it starts) name this account and engine."""
    token = _CALL.set((account, engine))
    try:
        yield
    finally:
        _CALL.reset(token)


@contextlib.contextmanager
def endpoint_context(endpoint: str) -> Iterator[None]:
    token = _ENDPOINT.set(endpoint)
    try:
        yield
    finally:
        _ENDPOINT.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        call = _CALL.get()
        for name, value in (
            ("account", None if call is None else call[0]),
            ("engine", None if call is None else call[1]),
            ("endpoint", _ENDPOINT.get()),
        ):
            if not hasattr(record, name):  # what a caller passed in ``extra`` wins
                setattr(record, name, value)
        return True


if not any(isinstance(f, _ContextFilter) for f in log.filters):
    log.addFilter(_ContextFilter())
