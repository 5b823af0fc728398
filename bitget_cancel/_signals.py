"""What a signal handled by ``install_panic_handler`` does once its panic has run: the result
said (logged; on stderr too when the program configured no logging), then the signal's usual
outcome. Kept apart from the engine: process-level behaviour, not the engine's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable

from ._log import log
from ._models import PanicReport


def after_panic(
    task: asyncio.Task[PanicReport], signum: signal.Signals, remove: Callable[[], None]
) -> None:
    if task.cancelled():
        tell(logging.ERROR, "panic cancel after %s: cancelled", signum.name)
    elif task.exception() is not None:
        tell(logging.ERROR, "panic cancel after %s failed: %r", signum.name, task.exception())
    else:
        report = task.result()
        tell(
            logging.WARNING,
            "panic cancel after %s finished: %d cancelled, %d not open, %d failed, "
            "%d unresolved; account empty: %s%s",
            signum.name,
            len(report.cancelled),
            len(report.not_open),
            len(report.failed),
            len(report.unresolved),
            "yes" if report.account_empty else "NOT CONFIRMED",
            "".join(f"; {problem}" for problem in report.problems),
        )
    end_by_signal(signum, remove, at_once=False)


def tell(level: int, message: str, *args: object) -> None:
    """What a signal did, logged; also on stderr when the program configured no logging: the
    process is about to end and this is its last word on its orders."""
    log.log(level, message, *args)
    logger: logging.Logger | None = log
    while logger is not None:
        if any(not isinstance(handler, logging.NullHandler) for handler in logger.handlers):
            return
        logger = logger.parent if logger.propagate else None
    with contextlib.suppress(Exception):
        print(f"bitget_cancel: {message % args}", file=sys.stderr, flush=True)


def end_by_signal(signum: signal.Signals, remove: Callable[[], None], *, at_once: bool) -> None:
    """The signal's usual outcome, now that the panic had its turn: SIGINT raises
    KeyboardInterrupt (``asyncio.run`` unwinds), any other signal (or a second one) ends the
    process by that signal."""
    remove()
    for handler in [*logging.getLogger().handlers, *log.handlers]:
        with contextlib.suppress(Exception):
            handler.flush()
    if signum == signal.SIGINT and not at_once:
        raise KeyboardInterrupt
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)
