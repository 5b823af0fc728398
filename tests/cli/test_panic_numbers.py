"""The panic's figures agree with its prompt: orders a bulk cancel closed before any of the
panic's listings showed them are counted, and the bar's total is the prompt's."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .helpers import BackgroundSim
from .terminal import Terminal

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def test_the_summary_counts_what_bulk_cancels_closed_unseen_and_agrees_with_the_prompt(
    tmp_path: Path,
) -> None:
    # Listing pages come one at a time, slowly: cancel-symbol-order closes the rest of a
    # symbol before the panic's listing reaches it.
    bg = BackgroundSim(latency_ms=(100.0, 200.0), seed=7)
    try:
        bg.call(lambda: [bg.sim.place_orders(f"C{i}USDT", 400, f"c{i}") for i in range(3)])
        bg.call(lambda: bg.sim.place_orders("BTCUSDT", 30, "p", kind="plan"))
        report = tmp_path / "panic.json"
        with Terminal("panic", "--report", str(report), env=bg.env()) as terminal:
            terminal.expect("to go on: ", timeout=90)
            terminal.send_keys("yes\n")
            assert terminal.wait(timeout=90) == 0
        text = " ".join(ANSI.sub("", terminal.text).split())
        assert "This cancels 1,230 orders on 4 symbols: 1,200 normal, 0 tpsl, 30 plan" in text
        assert bg.open_orders() == 0
        assert bg.requests_sent("/api/v2/spot/trade/cancel-symbol-order") >= 1
        written = json.loads(report.read_text())
        assert written["counts"]["cancelled"] == len(written["outcomes"]) == 1230
        assert written["byKind"]["normal"]["cancelled"] == 1200
        assert written["byKind"]["plan"]["cancelled"] == 30
        assert "│ cancelled │ 1230 │" in text.replace("  ", " ")
        assert "1230/1230 100%" in text.rpartition("closing")[2]
    finally:
        bg.close()


def test_an_empty_panic_shows_no_zero_of_zero(bg_sim: BackgroundSim) -> None:
    with Terminal("panic", "--yes", env=bg_sim.env()) as terminal:
        code = terminal.wait()
    text = ANSI.sub("", terminal.text)
    assert code == 0, text
    assert "0/0" not in text
    assert "0%" not in text
