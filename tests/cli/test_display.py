"""What the tables show: ids whole on one line, whatever the terminal's width."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from bitget_cancel import CancelOutcome, CancelReport, CancelStatus, CancelTarget
from bitget_cancel.cli.display import expected_total, print_report

ORDER_ID = "1234567890123456789"
CLIENT_OID = "my-strategy-client-order-id-000042"


def _render(width: int) -> str:
    target = CancelTarget(symbol="BTCUSDT", order_id=ORDER_ID, client_oid=CLIENT_OID)
    message = "the exchange said something long about this order that takes many words " * 2
    report = CancelReport([CancelOutcome(target, CancelStatus.FAILED, "43025", message, 3)])
    buffer = io.StringIO()
    print_report(Console(file=buffer, width=width, color_system=None), report)
    return buffer.getvalue()


@pytest.mark.parametrize("width", [200, 100, 80, 60, 30])
def test_order_ids_never_wrap_in_the_problems_table(width: int) -> None:
    output = _render(width)
    assert ORDER_ID in output
    assert CLIENT_OID in output
    assert "43025" in output
    assert "the exchange" in output  # the message is shown, folded


def test_the_message_is_what_gives_way_on_a_narrower_terminal() -> None:
    wide, narrow = _render(250).splitlines(), _render(130).splitlines()
    assert len(narrow) > len(wide)
    assert max(map(len, narrow)) <= 130  # it fits, by folding the message


def test_the_expected_total_counts_each_order_once() -> None:
    targets = [
        CancelTarget(symbol="BTCUSDT", order_id="1"),
        CancelTarget(symbol="BTCUSDT", order_id="1", client_oid="c"),  # the same order
        CancelTarget(symbol="ETHUSDT", order_id="1"),  # another symbol: another order
        CancelTarget(symbol="BTCUSDT", client_oid="c"),  # by clientOid: its own entry
        CancelTarget(symbol="BTCUSDT", client_oid="c"),
    ]
    assert expected_total(targets) == 3
