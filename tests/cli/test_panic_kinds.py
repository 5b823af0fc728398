"""``panic`` over the kinds of order: ``--kinds``, a row per kind in the summary, ``byKind`` in
the JSON, and a prompt that says what a listing found (and whether it is complete)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from bitget_cancel.cli import main

from .helpers import BackgroundSim
from .terminal import Terminal

V2 = "/api/v2/spot/trade/"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _place(bg: BackgroundSim) -> None:
    def place() -> None:
        for symbol in ("BTCUSDT", "ETHUSDT"):
            bg.sim.place_orders(symbol, 60, f"n-{symbol}")
            bg.sim.place_orders(symbol, 4, f"t-{symbol}", kind="tpsl")
            bg.sim.place_orders(symbol, 6, f"p-{symbol}", kind="plan")

    bg.call(place)


def test_panic_kinds_closes_the_kinds_asked_and_leaves_the_others(
    bg_sim: BackgroundSim, capsys: pytest.CaptureFixture[str]
) -> None:
    _place(bg_sim)

    code = main(["panic", "--yes", "--json", "--kinds", "plan,normal"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["allClosed"] is True
    assert set(report["byKind"]) == {"normal", "plan"}
    assert report["byKind"]["normal"]["listed"] == 120
    assert report["byKind"]["plan"]["cancelled"] == 12
    assert all(kind["confirmedEmpty"] for kind in report["byKind"].values())
    left = bg_sim.call(bg_sim.sim.open_orders)
    assert len(left) == 8
    assert {o.kind for o in left} == {"tpsl"}
    assert bg_sim.call(lambda: bg_sim.sim.stats.requests.get(V2 + "cancel-order", 0)) == 0


def test_panic_summary_shows_a_row_per_kind(
    bg_sim: BackgroundSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _place(bg_sim)
    monkeypatch.setenv("COLUMNS", "160")

    code = main(["panic", "--yes"])

    out = capsys.readouterr().out
    assert code == 0
    assert "Per kind" in out
    rows = {line.split()[1]: line.split()[2:] for line in out.splitlines()
            if line.startswith("│ ") and line.split()[1] in ("normal", "tpsl", "plan")}  # fmt: skip
    cells = {kind: [c for c in row if c != "│"] for kind, row in rows.items()}
    # listed, cancelled, not_open, failed, unresolved, confirmed empty
    assert cells["tpsl"][:6] == ["8", "8", "0", "0", "0", "yes"]
    assert cells["plan"][:6] == ["12", "12", "0", "0", "0", "yes"]
    assert cells["normal"][0] == "120"
    assert cells["normal"][5] == "yes"
    assert bg_sim.open_orders() == 0


def test_the_prompt_says_when_the_listing_is_incomplete(
    bg_sim: BackgroundSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _place(bg_sim)
    bg_sim.call(setattr, bg_sim.sim, "plan_list_requires_symbol", True)
    monkeypatch.setattr(sys, "stdin", FakeTerminal("no\n"))

    code = main(["panic"])

    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "This cancels at least 128 orders on 2 symbols: 120 normal, 8 tpsl, 0 plan" in err
    assert "INCOMPLETE LISTING" in err
    assert "plan orders" in err
    assert err.index("INCOMPLETE LISTING") < err.index("This cancels") < err.index("Type 'yes'")
    assert "no cancel was sent" in err
    assert bg_sim.cancel_requests() == 0
    assert bg_sim.open_orders() == 140


def test_the_prompt_of_a_panic_on_some_symbols_counts_only_those(
    bg_sim: BackgroundSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _place(bg_sim)
    monkeypatch.setattr(sys, "stdin", FakeTerminal("yes\n"))

    code = main(["panic", "--symbol", "ETHUSDT", "--kinds", "tpsl,plan"])

    err = " ".join(capsys.readouterr().err.split())
    assert code == 0
    assert "This cancels 10 orders on 1 symbol: 4 tpsl, 6 plan" in err
    assert "only ETHUSDT" in err
    left = bg_sim.call(bg_sim.sim.open_orders)
    assert len(left) == 130
    assert not [o for o in left if o.symbol == "ETHUSDT" and o.kind != "normal"]


def test_refused_credentials_at_the_listing_exit_3_without_asking(
    bg_sim: BackgroundSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _place(bg_sim)
    monkeypatch.setenv("BITGET_PASSPHRASE", "wrong-passphrase")
    monkeypatch.setattr(sys, "stdin", FakeTerminal("yes\n"))

    code = main(["panic"])

    err = " ".join(capsys.readouterr().err.split())
    assert code == 3
    assert "refused the credentials" in err
    assert "Type 'yes'" not in err
    assert "wrong-passphrase" not in err
    assert bg_sim.cancel_requests() == 0


def test_a_dry_run_plans_each_kind_on_its_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{"symbol": "BTCUSDT", "orderId": str(10**18 + i)} for i in range(60)]
    rows += [{"symbol": "BTCUSDT", "orderId": str(2 * 10**18 + i), "kind": "tpsl"}
             for i in range(3)]  # fmt: skip
    rows += [{"symbol": "ETHUSDT", "clientOid": f"p-{i}", "kind": "plan"} for i in range(25)]
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows + rows[-2:]))

    as_json = main(["cancel", "-f", str(path), "--dry-run", "--json"])
    plan = json.loads(capsys.readouterr().out)
    human = main(["cancel", "-f", str(path), "--dry-run"])
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())

    assert (as_json, human) == (0, 0)
    assert (plan["targets"], plan["orders"], plan["requests"]) == (90, 88, 2 + 3 + 25)
    assert plan["byKind"] == {
        "normal": {"orders": 60, "requests": 2, "endpoint": "batch-cancel-order",
                   "ratePerSecond": 10},
        "tpsl": {"orders": 3, "requests": 3, "endpoint": "cancel-order", "ratePerSecond": 10},
        "plan": {"orders": 25, "requests": 25, "endpoint": "cancel-plan-order",
                 "ratePerSecond": 20},
    }  # fmt: skip
    assert {s["symbol"]: (s["orders"], s["requests"]) for s in plan["symbols"]} == {
        "BTCUSDT": (63, 5), "ETHUSDT": (25, 25)
    }  # fmt: skip
    assert "requests 30 in all" in out
    assert "normal orders 60 (60 by orderId, 0 by clientOid): 2 requests" in out
    assert "tpsl orders 3: 3 requests, one each, cancel-order" in out
    assert "plan orders 25: 25 requests, one each, cancel-plan-order" in out
    # The slowest endpoint: 25 plan cancels at 20 a second.
    assert "least time 1 s plus the round trips" in out


def test_the_panic_bar_ends_on_what_the_report_counts_closed(bg_sim: BackgroundSim) -> None:
    # 120 orders on one symbol: closed by cancel-symbol-order, which the run's progress does
    # not count; the bar still ends on every order closed.
    bg_sim.call(lambda: (bg_sim.sim.place_orders("BTCUSDT", 120),
                         bg_sim.sim.place_orders("ETHUSDT", 5, kind="plan")))  # fmt: skip
    with Terminal("panic", "--yes", env=bg_sim.env()) as terminal:
        assert terminal.wait() == 0
    assert bg_sim.call(lambda: bg_sim.sim.stats.requests.get(V2 + "cancel-symbol-order", 0)) >= 1
    # --yes: no listing ahead, so the total is not known while it runs: a counter, never a
    # percentage; its last word is every order closed.
    bar = terminal.text.rpartition("closing")[2]
    assert "125 closed of 125 seen so far" in bar
    assert "%" not in terminal.text
