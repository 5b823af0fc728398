"""--client-oid-prefix: one bot's orders listed and cancelled, the others never touched.

The real command against the simulator; a scoped panic must never use a bulk cancel, which
would close the other bots' orders (and those placed by hand) too.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bitget_cancel import CancelEngine, Credentials, InvalidArgument

from .helpers import PASSPHRASE, SECRET, BackgroundSim, run_cli

BULK = ("/api/v2/spot/trade/cancel-symbol-order", "/api/v2/spot/trade/batch-cancel-plan-order")


def _place(bg: BackgroundSim) -> None:
    """Bot A: 120 normal orders on BTCUSDT (a symbol cancel would pay off), 30 on ETHUSDT, 4
    plan orders. Bot B: 60 normal on BTCUSDT, 3 plan. By hand (no clientOid): 7 on BTCUSDT."""

    def place() -> None:
        sim = bg.sim
        sim.place_orders("BTCUSDT", 120, "bot-a")
        sim.place_orders("ETHUSDT", 30, "bot-a")
        sim.place_orders("BTCUSDT", 4, "bot-a", kind="plan")
        sim.place_orders("BTCUSDT", 60, "bot-b")
        sim.place_orders("BTCUSDT", 3, "bot-b", kind="plan")
        sim.place_orders("BTCUSDT", 7)

    bg.call(place)


def _open_of(bg: BackgroundSim) -> dict[str, int]:
    counts: dict[str, int] = {}
    for order in bg.call(bg.sim.open_orders):
        owner = (order.client_oid or "by-hand").split("-")[0:2]
        key = "-".join(owner) if order.client_oid else "by-hand"
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_a_scoped_panic_closes_only_its_bot_and_never_bulk_cancels(
    bg_sim: BackgroundSim, tmp_path: Path
) -> None:
    _place(bg_sim)
    report = tmp_path / "panic.json"

    result = run_cli(
        "panic", "--yes", "--client-oid-prefix", "bot-a", "--report", str(report), "--json",
        env=bg_sim.env(),
    )  # fmt: skip

    # The 7 orders placed by hand have no clientOid: they may be bot A's, so the scope is not
    # called flat (exit 1, the verdict says why), and they are not cancelled either.
    assert result.returncode == 1, result.stderr
    assert "7 listed orders have no clientOid" in result.stderr.splitlines()[-1]
    assert _open_of(bg_sim) == {"bot-b": 63, "by-hand": 7}
    assert sum(bg_sim.requests_sent(path) for path in BULK) == 0
    written = json.loads(report.read_text())
    assert written["scope"] == {"symbols": None, "clientOidPrefixes": ["bot-a"]}
    assert written["accountEmpty"] is False
    assert written["byKind"]["normal"]["confirmedEmpty"] is False
    assert written["byKind"]["plan"]["confirmedEmpty"] is True  # every plan order attributed
    assert written["counts"]["cancelled"] == 154
    assert {o["clientOid"][:5] for o in written["outcomes"]} == {"bot-a"}
    assert written["symbolCancels"] == 0


def test_orders_shows_only_the_scope_and_cancel_keeps_only_its_targets(
    bg_sim: BackgroundSim, tmp_path: Path
) -> None:
    _place(bg_sim)
    everything = run_cli("orders", "--csv", env=bg_sim.env())
    listed = run_cli(
        "orders", "--json", "--client-oid-prefix", "bot-b", "--client-oid-prefix", "bot-a-1",
        env=bg_sim.env(),
    )  # fmt: skip

    assert listed.returncode == 0, listed.stderr
    payload = json.loads(listed.stdout)
    oids = sorted(o["clientOid"] for o in payload["orders"])
    scoped = ("bot-b", "bot-a-1")
    on_sim = [o.client_oid or "" for o in bg_sim.call(bg_sim.sim.open_orders)]
    assert oids == sorted(oid for oid in on_sim if oid.startswith(scoped))
    assert 63 < len(oids) < len(on_sim)
    assert payload["scope"]["clientOidPrefixes"] == ["bot-b", "bot-a-1"]
    # The 7 placed by hand have no clientOid: counted and said, as the panic does.
    assert payload["unattributed"] == 7
    said = " ".join(listed.stderr.split())
    assert "7 listed orders in scope have no clientOid and could not be attributed" in said
    assert "(bot-b, bot-a-1)" in said
    text = run_cli("orders", "--client-oid-prefix", "bot-b", env=bg_sim.env())
    assert text.returncode == 0, text.stderr
    assert ", 7 without clientOid (" in " ".join(text.stdout.split())

    # cancel --file of the whole listing, scoped: bot B's targets only.
    (tmp_path / "all.csv").write_text(everything.stdout)
    cancel = run_cli(
        "cancel", "-f", str(tmp_path / "all.csv"), "--client-oid-prefix", "bot-b", "--json",
        env=bg_sim.env(),
    )  # fmt: skip
    assert cancel.returncode == 0, cancel.stderr
    assert "63 of 224 targets kept, 161 left out" in " ".join(cancel.stderr.split())
    assert len(json.loads(cancel.stdout)["outcomes"]) == 63
    assert json.loads(cancel.stdout)["scope"] == {"symbols": None, "clientOidPrefixes": ["bot-b"]}
    assert _open_of(bg_sim) == {"bot-a": 154, "by-hand": 7}


@pytest.mark.parametrize("prefix", ["", " bot", [], ["ok", ""], 42])
def test_a_scope_that_is_no_scope_is_refused_before_any_request(
    bg_sim: BackgroundSim, prefix: object
) -> None:
    async def main() -> None:
        keys = Credentials(api_key=bg_sim.sim.api_key, secret_key=SECRET, passphrase=PASSPHRASE)
        async with CancelEngine(keys, base_url=bg_sim.url) as engine:
            with pytest.raises(InvalidArgument, match="client_oid_prefix"):
                await engine.open_orders(client_oid_prefix=prefix)  # type: ignore[arg-type]
            with pytest.raises(InvalidArgument, match="client_oid_prefix"):
                await engine.panic_cancel(client_oid_prefix=prefix)  # type: ignore[arg-type]

    asyncio.run(main())
    assert bg_sim.requests_sent() == 0
