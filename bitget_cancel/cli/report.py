"""Reports as JSON: the payload, fast encoding (msgspec), and files written atomically.

A report file is either the old one or the whole new one, never half of each: it is written to a
temporary file beside it, flushed to disk, then moved over the name (os.replace).
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from bitget_cancel import CancelOutcome, CancelReport, CancelStatus, CancelTarget, InvalidArgument

from .bulk import collector_paused

NOT_SENT = "not_sent"  # status, in an interrupted report, of a target never sent
_UNRESOLVED = CancelStatus.UNRESOLVED.value
_encode = msgspec.json.Encoder().encode


class ReportPathError(InvalidArgument):
    """--report names a file that cannot be written; said before anything is sent."""


def check_report_path(path: Path) -> None:
    """Refuse a report path that could not be written, before any request goes out."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ReportPathError(f"--report {path}: is a directory")
    if not folder.is_dir():
        raise ReportPathError(f"--report {path}: no such directory {str(folder)!r}")
    if not os.access(folder, os.W_OK):
        raise ReportPathError(f"--report {path}: cannot write in {str(folder)!r}")


def never_sent(outcome: CancelOutcome) -> bool:
    """Unresolved, and no request ever named it (the run counts a request that carried an
    order as an attempt, a re-ask included): certainly still open if it was. The one rule of
    the report file and the screen."""
    return outcome.status is CancelStatus.UNRESOLVED and outcome.attempts == 0


def report_payload(report: CancelReport, *, interrupted: bool = False) -> dict[str, Any]:
    """``report.to_dict()``; after an interruption, the targets never sent are marked
    ``not_sent`` (no request named them: they are certainly still open if they were)."""
    with collector_paused():  # benchmarks/workloads/targets_file.py
        payload = report.to_dict()
    if not interrupted:
        return payload
    counts = dict(payload["counts"])
    counts[NOT_SENT] = 0
    for outcome in payload["outcomes"]:
        # never_sent(), on the dict: the same two fields
        if outcome["status"] == _UNRESOLVED and outcome["attempts"] == 0:
            outcome["status"] = NOT_SENT
            counts[_UNRESOLVED] -= 1
            counts[NOT_SENT] += 1
    payload["counts"] = counts
    payload["interrupted"] = True
    return payload


ABANDONED = "quit before its answer was known: it may or may not have been cancelled"
# A panic quit at once: its report holds what was known then.
QUIT_PANIC = "quit before the end: the outcomes known then; the others may still be open"


def abandoned_payload(
    targets: Sequence[CancelTarget],
    answered: int,
    message: str = "quit before the end: outcomes unknown, orders may still be open",
) -> dict[str, Any]:
    """What a report says when the command quits at once (second Ctrl-C, an error): which
    outcome each target had is unknown, so every distinct target is ``unresolved`` (none is
    claimed closed) and ``cancel --file`` on this report asks for each again."""
    with collector_paused():
        distinct = list(dict.fromkeys(targets))
        outcomes = [
            {**target.to_dict(), "status": _UNRESOLVED, "errorCode": None,
             "errorMsg": ABANDONED, "attempts": None}
            for target in distinct
        ]  # fmt: skip
    counts = {status.value: 0 for status in CancelStatus}
    counts[_UNRESOLVED] = len(outcomes)
    return {
        "allClosed": False,
        "interrupted": True,
        "complete": False,
        "message": message,
        "targets": len(targets),
        "answered": answered,
        "counts": counts,
        "outcomes": outcomes,
    }


def encode(payload: object) -> bytes:
    """Indented JSON, one trailing newline (msgspec: 200k outcomes in well under a second)."""
    return msgspec.json.format(_encode(payload), indent=2) + b"\n"


def emit(payload: object) -> None:
    """The payload on standard output."""
    data = encode(payload)
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        sys.stdout.flush()
        buffer.write(data)
        buffer.flush()
    else:  # a text-only stream (tests capture stdout this way)
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step; a reader never sees a partial file."""
    folder = path.parent if str(path.parent) else Path(".")
    temporary = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # os.open, not mkstemp: the file gets the usual permissions (0o666 less the umask).
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
