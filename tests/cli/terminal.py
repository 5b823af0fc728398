"""The command in a real process on a pseudo-terminal, as a user at a keyboard runs it."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Mapping
from types import TracebackType

from .helpers import ROOT, command


class Terminal:
    """``bitget-cancel ARGS`` with a pseudo-terminal as its stdin, stdout and stderr."""

    def __init__(self, *args: str, env: Mapping[str, str], columns: int = 120) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        self._master = master
        self.output = b""
        self.proc = subprocess.Popen(
            command(*args),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color", "COLUMNS": str(columns)},
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)

    def _read(self, timeout: float) -> bool:
        """Whatever the process wrote within ``timeout``; False once it closed the terminal."""
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: every writer is gone
            return False
        self.output += chunk
        return bool(chunk)

    def expect(self, text: str, timeout: float = 30.0) -> None:
        """Read until ``text`` has been written (or fail after ``timeout``)."""
        wanted = text.encode()
        give_up = time.monotonic() + timeout
        while wanted not in self.output:
            if time.monotonic() > give_up or not self._read(0.1):
                raise AssertionError(f"{text!r} never came; got {self.output[-2000:]!r}")

    def send_keys(self, keys: str) -> None:
        os.write(self._master, keys.encode())

    def interrupt(self) -> None:
        """Ctrl-C, as the terminal sends it: SIGINT to the process."""
        self.proc.send_signal(signal.SIGINT)

    def hang_up(self) -> None:
        """The terminal window closes (tmux kill-window, a dropped ssh): the pseudo-terminal
        goes away, so writing to it fails, and the process gets SIGHUP."""
        os.close(self._master)
        self._master = -1
        self.proc.send_signal(signal.SIGHUP)

    def wait(self, timeout: float = 60.0) -> int:
        """Read everything until the process exits; its exit code."""
        if self._master < 0:  # hung up: nothing to read
            return self.proc.wait(timeout=timeout)
        give_up = time.monotonic() + timeout
        while self._read(0.1) and time.monotonic() < give_up:
            if self.proc.poll() is not None and not select.select([self._master], [], [], 0)[0]:
                break
        return self.proc.wait(timeout=max(0.1, give_up - time.monotonic()))

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")

    def __enter__(self) -> Terminal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._master >= 0:
            os.close(self._master)
