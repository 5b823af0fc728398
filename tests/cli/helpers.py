"""What the command-line tests share: a simulator on a background thread, and the command run
as a user runs it (a real process, ``python -m bitget_cancel``)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from bitget_cancel.sim import SimExchange

T = TypeVar("T")
SECRET = "cli-test-secret-value"
PASSPHRASE = "cli-test-passphrase"
ENV_NAMES = ("BITGET_API_KEY", "BITGET_SECRET_KEY", "BITGET_PASSPHRASE", "BITGET_BASE_URL")
ROOT = Path(__file__).resolve().parents[2]


class BackgroundSim:
    """A SimExchange serving from its own event loop in a daemon thread.

    ``main()`` runs its own ``asyncio.run``, so the simulator cannot share its loop.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        kwargs.setdefault("secret_key", SECRET)
        kwargs.setdefault("passphrase", PASSPHRASE)
        self.sim = SimExchange(**kwargs)
        self._wait(asyncio.run_coroutine_threadsafe(self.sim.start(), self.loop))

    @staticmethod
    def _wait(future: Future[T]) -> T:
        return future.result(timeout=10)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Await ``coroutine`` on the simulator's loop (e.g. a proxy beside it)."""
        return self._wait(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the simulator's own loop: its state belongs to that thread."""

        async def run() -> T:
            return fn(*args)

        return self._wait(asyncio.run_coroutine_threadsafe(run(), self.loop))

    @property
    def url(self) -> str:
        return self.sim.base_url

    def requests_sent(self, path: str | None = None) -> int:
        if path is not None:
            return self.call(lambda: self.sim.stats.requests.get(path, 0))
        return self.call(lambda: sum(self.sim.stats.requests.values()))

    def open_orders(self) -> int:
        return len(self.call(self.sim.open_orders))

    def cancel_requests(self) -> int:
        """Requests to any cancel endpoint (of any kind of order, either API)."""
        return self.call(
            lambda: sum(n for path, n in self.sim.stats.requests.items() if "cancel" in path)
        )

    def env(self) -> dict[str, str]:
        """The environment of a command pointed at this simulator."""
        return {
            **clean_env(),
            "BITGET_API_KEY": self.sim.api_key,
            "BITGET_SECRET_KEY": SECRET,
            "BITGET_PASSPHRASE": PASSPHRASE,
            "BITGET_BASE_URL": self.url,
        }

    def close(self) -> None:
        self._wait(asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


def with_command_on_path(env: dict[str, str], directory: Path) -> dict[str, str]:
    """``env`` with a ``bitget-cancel`` of this checkout first on PATH (in ``directory``/bin),
    as a README's shell example expects the installed command."""
    shim = directory / "bin" / "bitget-cancel"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m bitget_cancel "$@"\n')
    shim.chmod(0o755)
    return {**env, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}


def clean_env() -> dict[str, str]:
    """This process's environment without credentials, importing this checkout's package."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bitget_cancel", *args]


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``bitget-cancel ARGS`` in a real process; its exit code and output."""
    return subprocess.run(
        command(*args),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(env) if env is not None else clean_env(),
        cwd=ROOT,
        check=False,
    )
