"""The library's log on stderr: unambiguous times, and each distinct warning once.

A refusal that every request of a run draws (wrong credentials: one per request) would
otherwise fill the screen with one line per request; the first is shown, the repeats are
counted and said in one line at the end.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

LOG_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # not the locale's 12/07/26: which is the month?


def _key(record: logging.LogRecord) -> tuple[object, ...]:
    """What makes two warnings the same: the template and its words, not its counts."""
    args = record.args if isinstance(record.args, tuple) else ()
    words = tuple(arg for arg in args if not isinstance(arg, (int, float)))
    return (record.name, record.levelno, str(record.msg), words)


class DistinctWarnings(logging.Filter):
    """Lets the first of each distinct warning (or worse) through, counts the others."""

    def __init__(self) -> None:
        super().__init__()
        self.first: dict[tuple[object, ...], str] = {}  # key -> the message shown
        self.count: Counter[tuple[object, ...]] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = _key(record)
        self.count[key] += 1
        if key in self.first:
            return False
        self.first[key] = record.getMessage()
        return True

    def repeats(self) -> list[tuple[str, int]]:
        """The warnings shown once but seen more often, and how often; forgets them."""
        said = [(self.first[key], n) for key, n in self.count.items() if n > 1]
        for key in [key for key, n in self.count.items() if n > 1]:
            self.count[key] = 1
        return said


_active: list[DistinctWarnings] = []  # the filter of the running command, if any


def say_repeats(err: Console) -> None:
    """One line per warning that came more than once, with its count (before the verdict)."""
    for distinct in _active:
        for first, count in distinct.repeats():
            err.print(
                f"(the warning {first!r} came {count} times in all; shown once)",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )


@contextlib.contextmanager
def logging_to(err: Console, level: int) -> Iterator[None]:
    from rich.logging import RichHandler

    logger = logging.getLogger("bitget_cancel")
    handler = RichHandler(
        console=err, show_path=False, rich_tracebacks=False, log_time_format=LOG_TIME_FORMAT
    )
    distinct = DistinctWarnings()
    handler.addFilter(distinct)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    _active.append(distinct)
    try:
        yield
    finally:
        say_repeats(err)  # those that came after the verdict, if any
        _active.remove(distinct)
        logger.removeHandler(handler)
        logger.setLevel(previous)
