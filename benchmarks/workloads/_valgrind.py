"""Instruction counts of one stretch of Python code, with valgrind's callgrind.

Seconds of CPU on a shared machine move with its other loads; instructions executed do not.
callgrind counts only while collection is on, and ``--toggle-collect=closure_fcn`` turns it
on for the time spent inside ctypes' callback trampoline (``closure_fcn`` in CPython's
``_ctypes``). So the process under valgrind runs the stretch to measure as a ctypes callback
(``inside_callback``): the count covers exactly that stretch, not the interpreter's start-up,
the imports or the set-up around it.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TOGGLE = "closure_fcn"
_COLLECTED = re.compile(r"==\d+== Collected : (\d+)")
_VALGRIND_LINE = re.compile(r"==\d+==")


def valgrind() -> str | None:
    """The valgrind executable, or None when it is not installed."""
    return shutil.which("valgrind")


def inside_callback(stretch: Callable[[], None]) -> None:
    """Run ``stretch`` as a ctypes callback: the only code callgrind counts (see above)."""
    errors: list[BaseException] = []

    def call() -> None:
        try:
            stretch()
        except BaseException as exc:  # ctypes would print and swallow it
            errors.append(exc)

    ctypes.CFUNCTYPE(None)(call)()
    if errors:
        raise errors[0]


@dataclass
class Counted:
    instructions: int  # executed inside the callback
    stdout: str  # what the program printed
    stderr: str  # what it printed to stderr (valgrind's own lines left out)


def count(
    argv: Sequence[str], env: dict[str, str] | None = None, cwd: str | None = None
) -> Counted:
    """Run ``argv`` under callgrind, collecting only inside ctypes callbacks."""
    executable = valgrind()
    if executable is None:
        raise RuntimeError("valgrind is not installed")
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            executable,
            "--tool=callgrind",
            "--collect-atstart=no",
            f"--toggle-collect={TOGGLE}",
            f"--callgrind-out-file={os.path.join(scratch, 'callgrind.out')}",
            *argv,
        ]
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} under valgrind exited {done.returncode}: {done.stderr}")
    found = _COLLECTED.findall(done.stderr)
    if not found or int(found[-1]) == 0:
        raise RuntimeError(
            f"callgrind counted nothing inside {TOGGLE}: is this Python's _ctypes stripped?"
        )
    own = [line for line in done.stderr.splitlines() if not _VALGRIND_LINE.match(line)]
    return Counted(int(found[-1]), done.stdout, "\n".join(own))
