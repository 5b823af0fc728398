"""CancelTarget and CancelOutcome have hand-written ``__init__``s (client CPU per order, issue
23): each takes every init field of the dataclass, with its default, and sets it."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from bitget_cancel import CancelOutcome, CancelStatus, CancelTarget, OrderKind


@pytest.mark.parametrize("cls", [CancelTarget, CancelOutcome])
def test_the_init_takes_every_field_with_its_default(cls: type) -> None:
    fields = [f for f in dataclasses.fields(cls) if f.init]
    params = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in params] == [f.name for f in fields]
    assert [p.default for p in params] == [
        inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default for f in fields
    ]


def test_every_field_is_set_and_replace_still_works() -> None:
    target = CancelTarget(symbol="BTC/USDT", order_id="1", client_oid="c", kind="tpsl")
    assert (target.symbol, target.order_id, target.client_oid, target.kind) == (
        "BTCUSDT", "1", "c", OrderKind.TPSL,
    )  # fmt: skip
    assert target == CancelTarget(symbol="BTCUSDT", order_id="1", client_oid="c", kind="tpsl")
    assert hash(target) == hash(dataclasses.replace(target))
    found = CancelTarget(symbol="ETHUSDT", order_id="2")
    outcome = CancelOutcome(target, CancelStatus.CANCELLED, "c", "m", 2, found)
    got = [getattr(outcome, f.name) for f in dataclasses.fields(outcome)]
    assert got == [target, CancelStatus.CANCELLED, "c", "m", 2, found]
    assert dataclasses.replace(outcome, attempts=3).attempts == 3
