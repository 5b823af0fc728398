"""The one-line verdict every command ends with, on stderr: what the exit code means here.

A command that knows more says it (``say``); otherwise ``main`` says what the code means.
"""

from __future__ import annotations

from rich.console import Console

from .exits import (
    EXIT_BAD_INPUT,
    EXIT_COULD_NOT_LIST,
    EXIT_CREDENTIALS_REFUSED,
    EXIT_INTERRUPTED,
    EXIT_NOT_CLOSED,
    EXIT_OK,
)
from .logs import say_repeats

_MEANING = {
    EXIT_OK: "done",
    EXIT_NOT_CLOSED: "not all closed",
    EXIT_BAD_INPUT: "bad input: nothing was sent",
    EXIT_CREDENTIALS_REFUSED: "the exchange refused the credentials",
    EXIT_COULD_NOT_LIST: "the open orders could not be listed to their end",
    EXIT_INTERRUPTED: "interrupted",
}
_said: list[str] = []  # the verdicts said during this run of main()


def say(err: Console, line: str) -> None:
    """The verdict, one plain line on stderr (never markup, never wrapped), after the count of
    each warning that repeated."""
    say_repeats(err)
    err.print(line, markup=False, highlight=False, soft_wrap=True)
    _said.append(line)


def begin_verdicts() -> None:
    _said.clear()


def say_default(err: Console, code: int) -> None:
    """What ``code`` means, unless the command said its own verdict."""
    if not _said:
        say(err, f"verdict: {_MEANING.get(code, 'exit')} (exit {code})")
