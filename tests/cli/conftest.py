"""Fixtures of the command-line tests: a live simulator and the environment pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .helpers import ENV_NAMES, PASSPHRASE, SECRET, BackgroundSim


@pytest.fixture
def bg_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[BackgroundSim]:
    """A running simulator, with the BITGET_* variables set to its URL and credentials."""
    sim = BackgroundSim(latency_ms=(1.0, 5.0), seed=3)
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BITGET_API_KEY", sim.sim.api_key)
    monkeypatch.setenv("BITGET_SECRET_KEY", SECRET)
    monkeypatch.setenv("BITGET_PASSPHRASE", PASSPHRASE)
    # Every command points at the simulator unless it says --base-url: never at a real host.
    monkeypatch.setenv("BITGET_BASE_URL", sim.url)
    try:
        yield sim
    finally:
        sim.close()
