"""A real redis-server on 127.0.0.1, in a temporary directory, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """``start()`` / ``stop()`` a redis-server; ``start()`` again reuses the same port."""

    def __init__(self, directory: Path | None = None, *, password: str | None = None) -> None:
        binary = shutil.which("redis-server") or REDIS_SERVER
        if not Path(binary).exists():
            raise RuntimeError(
                "redis-server is not installed: apt-get install -y redis-server (.ci/run does it)"
            )
        self.binary = binary
        self._own_dir = directory is None
        self.directory = Path(tempfile.mkdtemp(prefix="redis-")) if directory is None else directory
        self.password = password
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        if self.password is not None:
            args += ["--requirepass", self.password]
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self) -> None:
        auth = b"" if self.password is None else f"AUTH {self.password}\r\n".encode()
        for _ in range(500):  # at most ~5 s
            assert self._process is not None
            if self._process.poll() is not None:
                log = (self.directory / "redis.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server exited at start:\n{log}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock,
            ):
                sock.sendall(auth + b"PING\r\n")
                if b"PONG" in sock.recv(256):
                    return
            time.sleep(0.01)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open, nothing answers."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a paused server cannot handle SIGTERM
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)
