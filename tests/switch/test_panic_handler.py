"""install_panic_handler, as the README prints it, in a real process with real signals: the
panic runs, its result is logged, then the signal has its usual outcome; a second signal ends
the process at once."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import pytest

from bitget_cancel import CancelEngine, Credentials, UnsupportedPlatform, install_panic_handler
from bitget_cancel.sim import SimExchange

from .helpers import PATIENCE, ROOT, SIM_ENV, clean_env

README = (ROOT / "README.md").read_text()
SNIPPET = next(
    block
    for block in re.findall(r"```python\n(.*?)```", README, re.S)
    if "install_panic_handler(engine" in block
)
# The README's snippet as printed; around it, what it leaves to the reader: a strategy (one
# that never looks at engine.panic_running) and where the exchange is (the simulator).
HARNESS = """\
import asyncio, functools, os, bitget_cancel

bitget_cancel.CancelEngine = functools.partial(
    bitget_cancel.CancelEngine, base_url=os.environ["SIM_URL"]
)


async def run_strategy(engine):
    print("running", flush=True)
    await asyncio.Event().wait()

{snippet}
asyncio.run(main())
"""


async def _start(sim: SimExchange) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HARNESS.format(snippet=SNIPPET),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=clean_env(SIM_URL=sim.base_url, **SIM_ENV), cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), PATIENCE) == b"running\n"
    return process


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_the_readme_snippet_panics_then_exits(signum: signal.Signals) -> None:
    async with SimExchange() as sim:
        sim.place_orders("BTCUSDT", 120)
        process = await _start(sim)
        process.send_signal(signum)
        _, err = await asyncio.wait_for(process.communicate(), PATIENCE)
        assert sim.count_open() == 0
    log = err.decode()
    assert f"panic cancel after {signum.name} finished: 120 cancelled" in log
    assert "account empty: yes" in log
    # The signal's usual outcome: death by that signal (an uncaught KeyboardInterrupt ends a
    # Python process by SIGINT too).
    assert process.returncode == -signum


async def test_a_second_signal_during_the_panic_ends_the_process_at_once() -> None:
    async with SimExchange(latency_ms=(5000, 5000)) as sim:  # a panic that takes 10 s or more
        sim.place_orders("BTCUSDT", 120)
        process = await _start(sim)
        assert process.stderr is not None
        process.send_signal(signal.SIGTERM)
        first = await asyncio.wait_for(process.stderr.readline(), PATIENCE)
        assert b"signal SIGTERM: panic cancel" in first
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), PATIENCE)
    assert process.returncode == -signal.SIGTERM
    assert "second signal (SIGTERM) during the panic cancel: exiting now" in rest.decode()
    assert "finished" not in rest.decode()


class _NoSignalsLoop(asyncio.SelectorEventLoop):
    """A loop like Windows' ProactorEventLoop: no add_signal_handler."""

    def add_signal_handler(self, sig: int, callback: object, *args: object) -> None:
        raise NotImplementedError


def test_a_loop_without_signal_handlers_is_refused_clearly() -> None:
    async def install() -> None:
        engine = CancelEngine(Credentials(api_key="k", secret_key="s", passphrase="p"))
        try:
            install_panic_handler(engine)
        finally:
            await engine.close()

    loop = _NoSignalsLoop()
    try:
        with pytest.raises(UnsupportedPlatform, match="Linux and macOS"):
            loop.run_until_complete(install())
    finally:
        loop.close()
