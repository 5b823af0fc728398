"""``bitget-cancel guard [options] EXCHANGE -- CMD ARGS...``: a dead man's switch for a bot
that does not use this library (freqtrade, hummingbot, a script).

CMD runs as a child. When it exits non-zero or is killed by a signal (or at any exit with
``--on-exit always``) the panic runs over the scope and its summary is printed; the guard then
exits with the child's status (128 + N for signal N). Ctrl-C and SIGTERM go to the child
first: the guard only waits for it. A clean exit 0 cancels nothing by default.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass, field
from typing import Literal

from rich.console import Console

from bitget_cancel import Credentials

from .commands import run_panic
from .connect import engine_for
from .options import PanicOptions
from .verdict import say

OnExit = Literal["failure", "always"]
EXIT_NOT_FOUND = 127  # as a shell says when the command cannot be run
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True, slots=True)
class GuardOptions:
    command: tuple[str, ...]
    panic: PanicOptions = field(default_factory=PanicOptions)
    on_exit: OnExit = "failure"


def exit_status(returncode: int) -> int:
    """The child's status as a shell reports it: its code, or 128 + N when signal N ended it."""
    return returncode if returncode >= 0 else 128 - returncode


def _describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited {returncode}"


def _terminal_sent_it() -> bool:
    """A Ctrl-C typed at the terminal reaches the whole foreground process group, the child
    included: forwarding it would make two."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False


async def _run_child(command: tuple[str, ...], err: Console) -> int | None:
    try:
        process = await asyncio.create_subprocess_exec(*command)
    except OSError as exc:
        err.print(f"guard: cannot run {command[0]!r}: {exc.strerror or exc}", markup=False)
        return None
    loop = asyncio.get_running_loop()

    def forward(signum: signal.Signals) -> None:
        if signum == signal.SIGINT and _terminal_sent_it():
            return
        if process.returncode is None:
            process.send_signal(signum)

    installed = []
    for signum in _FORWARDED:
        try:
            loop.add_signal_handler(signum, forward, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        return await process.wait()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def run_guard(
    credentials: Credentials, options: GuardOptions, out: Console, err: Console
) -> int:
    engine_for(credentials, options.panic.exchange)  # bad settings: exit 2 before CMD runs
    returncode = await _run_child(options.command, err)
    if returncode is None:
        return EXIT_NOT_FOUND
    failed = returncode != 0
    ended = f"{os.path.basename(options.command[0])} {_describe(returncode)}"
    status = exit_status(returncode)
    if not failed and options.on_exit == "failure":
        err.print(f"guard: {ended}: nothing cancelled", markup=False, soft_wrap=True)
        say(err, f"verdict: {ended}, nothing cancelled (exit {status})")
        return status
    err.print(f"guard: {ended}: panic cancel", markup=False, soft_wrap=True)
    panic = await run_panic(credentials, options.panic, out, err, confirm=False)
    closed = "nothing left open in scope" if panic == 0 else "orders may still be open"
    say(err, f"verdict: {ended}; the panic: {closed}; the bot's status (exit {status})")
    return status
