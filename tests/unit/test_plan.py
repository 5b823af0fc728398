"""Planning: targets -> the fewest valid requests."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitget_cancel import CancelTarget, InvalidMode, InvalidTarget
from bitget_cancel._plan import MAX_BATCH, Batch, plan_batches, wire_key


def t(symbol: str, order_id: str | None = None, client_oid: str | None = None) -> CancelTarget:
    return CancelTarget(symbol=symbol, order_id=order_id, client_oid=client_oid)


def check_batches(batches: list[Batch[CancelTarget]]) -> None:
    for batch in batches:
        assert 1 <= len(batch) <= MAX_BATCH
        assert all(x.by_order_id == batch.by_order_id for x in batch.targets), "mixed id kinds"
        ids = [wire_key(x)[2] for x in batch.targets]
        assert len(ids) == len(set(ids)), "an id twice in one request"
        if batch.batch_mode == "single":
            assert batch.symbol is not None
            assert {x.symbol for x in batch.targets} == {batch.symbol}
        else:
            assert batch.symbol is None


symbols = st.sampled_from(["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"])
ids = st.text(alphabet="0123456789abc", min_size=1, max_size=3)
targets = st.one_of(
    st.builds(lambda s, o: t(s, order_id=o), symbols, ids),
    st.builds(lambda s, c: t(s, client_oid=c), symbols, ids),
    st.builds(lambda s, o, c: t(s, order_id=o, client_oid=c), symbols, ids, ids),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(targets, max_size=400), st.sampled_from(["auto", "single", "multiple"]))
def test_every_distinct_order_lands_in_exactly_one_valid_batch(
    items: list[CancelTarget], mode: str
) -> None:
    batches = plan_batches(items, mode)  # type: ignore[arg-type]
    check_batches(batches)
    planned = Counter(wire_key(x) for b in batches for x in b.targets)
    assert set(planned) == {wire_key(x) for x in items}
    assert all(n == 1 for n in planned.values())


@settings(max_examples=100, deadline=None)
@given(st.lists(targets, max_size=400))
def test_auto_sends_the_fewest_requests_when_ids_do_not_repeat_across_symbols(
    items: list[CancelTarget],
) -> None:
    # Make every id unique to its symbol, the normal case on the exchange.
    items = [
        t(x.symbol, x.order_id and x.symbol + x.order_id, x.client_oid and x.symbol + x.client_oid)
        for x in items
    ]
    keys = {wire_key(x) for x in items}
    by_order_id = sum(1 for k in keys if k[0])
    by_client_oid = len(keys) - by_order_id
    expected = math.ceil(by_order_id / 50) + math.ceil(by_client_oid / 50)
    assert len(plan_batches(items, "auto")) == expected


def test_single_groups_by_symbol_with_the_top_level_symbol() -> None:
    items = [t("BTCUSDT", str(i)) for i in range(60)] + [t("ETHUSDT", "e1")]
    batches = plan_batches(items, "single")
    assert [(b.batch_mode, b.symbol, len(b)) for b in batches] == [
        ("single", "BTCUSDT", 50),
        ("single", "BTCUSDT", 10),
        ("single", "ETHUSDT", 1),
    ]


def test_multiple_packs_across_symbols() -> None:
    items = [t(f"S{i}USDT", str(i)) for i in range(70)]
    batches = plan_batches(items, "multiple")
    assert [(b.batch_mode, len(b)) for b in batches] == [("multiple", 50), ("multiple", 20)]


def test_auto_uses_single_for_one_symbol_chunks_and_multiple_for_mixed_ones() -> None:
    items = [t("BTCUSDT", f"b{i}") for i in range(55)] + [t("ETHUSDT", f"e{i}") for i in range(5)]
    batches = plan_batches(items, "auto")
    assert [(b.batch_mode, b.symbol, len(b)) for b in batches] == [
        ("single", "BTCUSDT", 50),
        ("multiple", None, 10),
    ]


def test_order_id_and_client_oid_only_targets_never_share_a_request() -> None:
    items = [t("BTCUSDT", order_id="1"), t("BTCUSDT", client_oid="c1")]
    batches = plan_batches(items, "auto")
    assert sorted(b.by_order_id for b in batches) == [False, True]


def test_a_target_with_both_ids_goes_by_order_id() -> None:
    (batch,) = plan_batches([t("BTCUSDT", order_id="1", client_oid="c1")])
    assert batch.by_order_id


def test_identical_targets_are_planned_once() -> None:
    items = [t("BTCUSDT", "1"), t("BTCUSDT", "1"), t("BTCUSDT", "1", "c")]
    (batch,) = plan_batches(items)
    assert len(batch) == 1


def test_one_id_under_two_symbols_goes_in_two_requests() -> None:
    batches = plan_batches([t("BTCUSDT", "1"), t("ETHUSDT", "1")], "multiple")
    assert [len(b) for b in batches] == [1, 1]


def test_nothing_to_plan_gives_no_request() -> None:
    assert plan_batches([]) == []


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(InvalidMode, match="mode"):
        plan_batches([t("BTCUSDT", "1")], "fastest")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"symbol": "", "order_id": "1"}, "symbol"),
        ({"symbol": "BTCUSDT"}, "order_id or a client_oid"),
        ({"symbol": "BTCUSDT", "order_id": "", "client_oid": ""}, "order_id or a client_oid"),
        ({"symbol": "BTCUSDT", "order_id": 123}, "order_id must be a str"),
        ({"symbol": "BTCUSDT", "order_id": "   "}, "blank"),
    ],
)
def test_bad_targets_are_refused_with_the_problem_named(
    kwargs: dict[str, object], problem: str
) -> None:
    with pytest.raises(InvalidTarget, match=problem):
        CancelTarget(**kwargs)  # type: ignore[arg-type]


def test_targets_are_hashable_and_an_empty_id_means_not_given() -> None:
    a = CancelTarget(symbol="BTCUSDT", order_id="1", client_oid="")
    b = CancelTarget(symbol="BTCUSDT", order_id="1")
    assert a == b
    assert hash(a) == hash(b)
    assert a.client_oid is None


def test_many_targets_over_many_symbols_fill_full_batches() -> None:
    items = [t(f"S{i % 300}USDT", str(i)) for i in range(20_000)]
    batches = plan_batches(items, "auto")
    assert sum(len(b) for b in batches) == 20_000
    assert len(batches) == 400
