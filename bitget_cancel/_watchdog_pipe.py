"""The process watchdog: ``python -m bitget_cancel watchdog --pipe``, a child of the strategy
in its own session, reading beats from a pipe.

The protocol, one line each way at a time:

- parent -> child, first line: the orders (JSON): credentials, the engine's settings, the
  panic's scope, the timeout, the report's path. Secrets travel here only: never in argv or
  the environment, which ``ps`` shows.
- child -> parent: ``ready`` once it watches (the parent's ``async with`` waits for it).
- parent -> child: ``beat`` every timeout / 3; ``disarm`` at a clean exit.

The pipe closing without ``disarm`` (the parent died, however) or ``timeout`` without a line
(the parent hangs) is the child's signal to run the panic.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from ._auth import Credentials
from ._exceptions import InvalidArgument, WatchdogFailed
from ._log import log

READY, BEAT, DISARM = b"ready", b"beat", b"disarm"
START_TIMEOUT = 30.0  # the child imports, reads the orders, warms a connection up
EXIT_TIMEOUT = 10.0  # after "disarm" it only closes its connections
WATCHDOG_COMMAND = (sys.executable, "-m", "bitget_cancel", "watchdog", "--pipe")
Ending = Literal["disarmed", "closed", "silent"]
_CREDENTIAL_FIELDS = ("api_key", "secret_key", "passphrase", "rsa_private_key")


@dataclass(frozen=True, slots=True)
class WatchdogOrders:
    """What the watchdog child needs to run the panic the parent would have run."""

    credentials: Credentials = field(repr=False)
    engine: dict[str, Any]  # CancelEngine keyword arguments
    scope: dict[str, Any]  # panic_cancel keyword arguments
    timeout: float
    name: str = "default"
    report_path: str | None = None

    def encode(self) -> bytes:
        """The orders as the pipe's first line (JSON); ``InvalidArgument`` when the scope
        cannot travel as JSON."""
        payload = {
            "credentials": {f: getattr(self.credentials, f) for f in _CREDENTIAL_FIELDS},
            "engine": self.engine,
            "scope": self.scope,
            "timeout": self.timeout,
            "name": self.name,
            "reportPath": self.report_path,
        }
        try:
            return json.dumps(payload).encode() + b"\n"
        except (TypeError, ValueError):
            raise InvalidArgument(
                "the watchdog process gets the switch's scope as JSON: strings, numbers, "
                "lists, booleans or None only"
            ) from None

    @classmethod
    def decode(cls, line: bytes) -> WatchdogOrders:
        """The orders from the pipe's first line; ``InvalidArgument`` (naming no secret) when
        it is unreadable."""
        try:
            payload = json.loads(line)
            keys = payload["credentials"]
            return cls(
                credentials=Credentials(**{f: keys.get(f) for f in _CREDENTIAL_FIELDS}),
                engine=dict(payload["engine"]),
                scope=dict(payload["scope"]),
                timeout=float(payload["timeout"]),
                name=str(payload["name"]),
                report_path=payload.get("reportPath"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # No part of the line in the message: it holds secrets.
            raise InvalidArgument(
                f"the watchdog's orders on its pipe are unreadable ({type(exc).__name__})"
            ) from None


class PipeWatchdog:
    """The parent's end: starts the child and writes its beats."""

    kind = "process"

    def __init__(self, orders: WatchdogOrders, command: Sequence[str] = WATCHDOG_COMMAND) -> None:
        self._orders = orders
        self._command = tuple(command)
        self._process: asyncio.subprocess.Process | None = None
        self._problem: str | None = "not started"

    @property
    def problem(self) -> str | None:
        process = self._process
        if process is not None and process.returncode is not None and self._problem is None:
            self._problem = f"the watchdog process has exited (code {process.returncode})"
        return self._problem

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def start(self) -> None:
        # Its own session: a signal to our process group (Ctrl-C, a supervisor's SIGTERM)
        # does not kill the watchdog before it could act.
        try:
            process = await asyncio.create_subprocess_exec(
                *self._command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise WatchdogFailed(f"the watchdog process could not be started: {exc}") from None
        self._process = process
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            process.stdin.write(self._orders.encode())
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            line = b""
        except BaseException:
            await self._end(process)
            raise
        if line.strip() != READY:
            await self._end(process)
            raise WatchdogFailed(
                f"the watchdog process did not start (exit code {process.returncode}; "
                "its stderr says why)"
            )
        self._problem = None
        log.info("watchdog process %d watching (timeout %g s)", process.pid, self._orders.timeout)

    async def beat(self) -> bool:
        return await self._say(BEAT)

    async def disarm(self) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            await self._say(DISARM)
            assert process.stdin is not None
            process.stdin.close()
        await self._end(process)
        self._problem = "disarmed"

    async def let_go(self) -> None:
        process = self._process
        if process is None or process.returncode is not None or process.stdin is None:
            return
        process.stdin.close()  # closed without a disarm: the child runs the panic
        self._problem = "let go: it runs the panic"
        await process.wait()  # its panic is bounded by its deadline; then it exits

    async def _say(self, word: bytes) -> bool:
        process = self._process
        if process is None or process.stdin is None or self.problem is not None:
            return False
        try:
            process.stdin.write(word + b"\n")
            await process.stdin.drain()
        except (OSError, RuntimeError):  # BrokenPipe, ConnectionReset, a closed transport
            self._problem = "the watchdog process is gone (its pipe is closed)"
            return False
        return True

    async def _end(self, process: asyncio.subprocess.Process) -> None:
        """The child exits on its own after ``disarm`` or a closed pipe; one that does not
        within EXIT_TIMEOUT is killed: nothing is left behind."""
        try:
            await asyncio.wait_for(process.wait(), EXIT_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("watchdog process %d did not exit: killed", process.pid)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise


class WatchdogPipe:
    """The child's end (``bitget-cancel watchdog --pipe``): the orders, then the beats."""

    def __init__(self, orders: WatchdogOrders, reader: asyncio.StreamReader, out: IO[bytes]):
        self.orders = orders
        self._reader = reader
        self._out = out

    @classmethod
    async def open(
        cls, stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None
    ) -> WatchdogPipe:
        """Read the orders from ``stdin`` (default: this process's)."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)
        source = stdin if stdin is not None else sys.stdin.buffer
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), source)
        line = await reader.readline()
        if not line.strip():
            raise InvalidArgument("no orders on the watchdog's pipe (it is started by a switch)")
        return cls(WatchdogOrders.decode(line), reader, stdout or sys.stdout.buffer)

    def ready(self) -> None:
        """Tell the parent the watch has begun."""
        os.write(self._out.fileno(), READY + b"\n")

    async def watch(self) -> Ending:
        """Until "disarm" ("disarmed"), the pipe closed without it ("closed"), or ``timeout``
        without a line ("silent")."""
        while True:
            try:
                line = await asyncio.wait_for(self._reader.readline(), self.orders.timeout)
            except asyncio.TimeoutError:
                return "silent"
            except (OSError, ValueError):  # a broken pipe, an oversized line
                return "closed"
            if not line:
                return "closed"
            word = line.strip()
            if word == DISARM:
                return "disarmed"
            if word != BEAT:
                log.warning("watchdog: unexpected line on the pipe ignored (%d bytes)", len(line))
