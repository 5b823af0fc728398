"""``panic`` on an account with nothing open: a complete, empty listing is an all-clear, exit 0,
never "could not list" (issue 19, item 9)."""

from __future__ import annotations

import json

import pytest

from .helpers import BackgroundSim, run_cli


@pytest.mark.parametrize("account", ["classic", "uta"])
def test_panic_on_a_flat_account_exits_0_and_says_it_listed(account: str) -> None:
    sim = BackgroundSim(latency_ms=(1.0, 3.0), seed=5, account=account)
    try:
        kinds = "normal,tpsl,plan" if account == "classic" else "normal,tpsl"
        done = run_cli("panic", "--yes", "--json", "--kinds", kinds, env=sim.env())
        report = json.loads(done.stdout)
        assert done.returncode == 0, done.stderr
        assert report["listed"] is True
        assert report["accountEmpty"] is True
        assert report["allClosed"] is True
        assert report["problems"] == []
        assert sim.cancel_requests() == 0
    finally:
        sim.close()
