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

    def __init__(
        self,
        directory: Path | None = None,
        *,
        password: str | None = None,
        extra: list[str] | None = None,
        tls: bool = False,
    ) -> None:
        binary = shutil.which("redis-server") or REDIS_SERVER
        if not Path(binary).exists():
            raise RuntimeError(
                "redis-server is not installed: apt-get install -y redis-server (.ci/run does it)"
            )
        self.binary = binary
        self._own_dir = directory is None
        self.directory = Path(tempfile.mkdtemp(prefix="redis-")) if directory is None else directory
        self.password = password
        self.extra = list(extra or [])
        self.port = free_port()
        self.tls = tls  # the port then speaks TLS only (with the certificates in ``extra``)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        ports = (
            ["--port", "0", "--tls-port", str(self.port)]
            if self.tls
            else ["--port", str(self.port)]
        )
        args = [
            self.binary,
            *ports,
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        if self.password is not None:
            args += ["--requirepass", self.password]
        self.launch(args + self.extra)

    def launch(self, args: list[str]) -> None:
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        if not self.tls:
            self._wait_ready()
        else:
            self._wait_listening()

    def _exited(self) -> None:
        assert self._process is not None
        if self._process.poll() is not None:
            log_file = self.directory / "redis.log"
            log = log_file.read_text(errors="replace") if log_file.exists() else ""
            raise RuntimeError(f"redis-server exited at start:\n{log}")

    def _wait_ready(self) -> None:
        auth = b"" if self.password is None else f"AUTH {self.password}\r\n".encode()
        for _ in range(500):  # at most ~5 s
            self._exited()
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock,
            ):
                sock.sendall(auth + b"PING\r\n")
                if b"PONG" in sock.recv(256):
                    return
            time.sleep(0.01)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def _wait_listening(self) -> None:
        for _ in range(500):  # at most ~5 s
            self._exited()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.01)
        raise RuntimeError(f"redis-server did not listen on port {self.port}")

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
