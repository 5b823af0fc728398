"""Each hostile answer shape of the simulator's Faults (issue 19) through the engine, over real
sockets: whatever the exchange answers, no target ends ``cancelled`` or ``not_open`` while it
is open, no listing says ``complete`` with an order hidden, and no panic says the account is
empty while an order in scope is open. The simulator's book is the truth."""

from __future__ import annotations

import pytest

from bitget_cancel import (
    CancelEngine,
    CancelReport,
    CancelStatus,
    CancelTarget,
    Credentials,
    OpenOrders,
    OrderKind,
    OrderKindName,
    PanicReport,
)
from bitget_cancel.sim import (
    DUPLICATE_ITEMS,
    FUTURES_TPSL,
    HTML_CHALLENGE,
    MISSING_ITEMS,
    NULL_DATA,
    ORDER_KINDS,
    OTHER_ID_SUCCESS,
    SHORT_PAGE_CURSOR,
    STRATEGY_IGNORES_CATEGORY,
    TRUNCATED_JSON,
    UNKNOWN_ITEM_FIELDS,
    Faults,
    SimAccount,
    SimExchange,
)

CREDS = Credentials(api_key="sim-key", secret_key="sim-secret", passphrase="sim-pass")
CLOSED = (CancelStatus.CANCELLED, CancelStatus.NOT_OPEN)


def hostile(kind: str, account: SimAccount = "classic", rate: float = 1.0) -> SimExchange:
    return SimExchange(account=account, seed=9, faults=Faults(rate=rate, kinds=(kind,)))


def engine_for(sim: SimExchange, account: SimAccount = "classic") -> CancelEngine:
    assert account in ("classic", "uta")
    return CancelEngine(
        CREDS,
        base_url=sim.base_url,
        account="uta" if account == "uta" else "classic",
        max_attempts=3,
        request_timeout=2.0,
    )


def open_spot(sim: SimExchange) -> list[str]:
    return [o.order_id for o in sim.open_orders() if o.kind in ORDER_KINDS]


def targets_of(sim: SimExchange, kind: OrderKindName = "normal", n: int = 6) -> list[CancelTarget]:
    placed = sim.place_orders("BTCUSDT", n, f"h-{kind}", kind=kind)
    return [
        CancelTarget(symbol=o.symbol, order_id=o.order_id, kind=OrderKind(kind)) for o in placed
    ]


async def cancel_all(sim: SimExchange, fault: str, account: SimAccount = "classic") -> CancelReport:
    """Place a few normal orders and cancel them through the engine; the fault was drawn."""
    targets = targets_of(sim)
    async with engine_for(sim, account=account) as engine:
        report = await engine.cancel(targets)
    assert sim.stats.injected[fault] > 0
    return report


def assert_truthful(report: CancelReport, sim: SimExchange) -> None:
    """No closed outcome for an order the exchange still holds open; every target once."""
    assert len({o.target for o in report.outcomes}) == len(report.outcomes)
    still_open = set(open_spot(sim))
    for outcome in report.outcomes:
        if outcome.status in CLOSED:
            assert outcome.target.order_id not in still_open, outcome
    if report.all_closed:
        assert not still_open & {o.target.order_id for o in report.outcomes}
    if isinstance(report, PanicReport) and report.account_empty:
        assert still_open == set(), still_open


def assert_listing_truthful(listing: OpenOrders, sim: SimExchange) -> None:
    if listing.complete:
        assert {o.order_id for o in listing.orders} == set(open_spot(sim))


@pytest.mark.parametrize("kind", [OTHER_ID_SUCCESS, UNKNOWN_ITEM_FIELDS, NULL_DATA, HTML_CHALLENGE])
async def test_a_lying_batch_cancel_answer_closes_nothing_it_did_not_close(kind: str) -> None:
    async with hostile(kind) as sim:
        report = await cancel_all(sim, kind)
        assert_truthful(report, sim)
        assert not report.all_closed
        assert report.unresolved  # never called cancelled or not open without an answer


@pytest.mark.parametrize("kind", [OTHER_ID_SUCCESS, NULL_DATA])
async def test_a_lying_v3_batch_cancel_answer_closes_nothing_it_did_not_close(kind: str) -> None:
    async with hostile(kind, account="uta") as sim:
        report = await cancel_all(sim, kind, "uta")
        assert_truthful(report, sim)
        assert not report.all_closed


@pytest.mark.parametrize("kind", [DUPLICATE_ITEMS, TRUNCATED_JSON])
@pytest.mark.parametrize("account", ["classic", "uta"])
async def test_answers_repeated_or_cut_after_acting_end_each_order_once(
    kind: str, account: SimAccount
) -> None:
    async with hostile(kind, account=account) as sim:
        report = await cancel_all(sim, kind, account)
        assert open_spot(sim) == []  # these faults act; only the answer is mangled
        assert_truthful(report, sim)
        assert {o.status for o in report.outcomes} <= set(CLOSED) | {CancelStatus.UNRESOLVED}


@pytest.mark.parametrize("account", ["classic", "uta"])
async def test_orders_missing_from_an_answer_are_asked_again_until_it_names_them(
    account: SimAccount,
) -> None:
    async with hostile(MISSING_ITEMS, account=account) as sim:
        report = await cancel_all(sim, MISSING_ITEMS, account)
        assert report.requests > 1
        assert_truthful(report, sim)
        assert report.all_closed
        assert open_spot(sim) == []


@pytest.mark.parametrize("kind", [UNKNOWN_ITEM_FIELDS, NULL_DATA, HTML_CHALLENGE])
async def test_a_garbled_listing_is_never_an_empty_account(kind: str) -> None:
    async with hostile(kind) as sim:
        targets_of(sim)
        async with engine_for(sim) as engine:
            listing = await engine.open_orders(kinds=["normal"])
            assert_listing_truthful(listing, sim)
            report = await engine.panic_cancel(deadline=5, kinds=["normal"])
        assert sim.stats.injected[kind] > 0
        assert not listing.complete
        assert not report.account_empty
        assert_truthful(report, sim)


async def test_a_short_plan_page_with_more_to_come_is_followed() -> None:
    async with hostile(SHORT_PAGE_CURSOR, rate=0.5) as sim:
        sim.place_orders("BTCUSDT", 30, "p", kind="plan")
        async with engine_for(sim) as engine:
            listing = await engine.open_orders(kinds=["plan"])
            assert_listing_truthful(listing, sim)
            report = await engine.panic_cancel(deadline=10, kinds=["plan"], use_symbol_cancel=False)
        assert sim.stats.injected[SHORT_PAGE_CURSOR] > 0
        assert_truthful(report, sim)


async def test_a_spot_panic_leaves_futures_stops_a_careless_listing_shows() -> None:
    async with hostile(STRATEGY_IGNORES_CATEGORY, account="uta") as sim:
        spot = sim.place_orders("BTCUSDT", 3, "spot", kind="tpsl")
        futures = sim.place_orders("BTCUSDT", 2, "fut", kind=FUTURES_TPSL)
        async with engine_for(sim, account="uta") as engine:
            listing = await engine.open_orders(kinds=["tpsl"])
            report = await engine.panic_cancel(deadline=10, kinds=["normal", "tpsl"])
        assert sim.stats.injected[STRATEGY_IGNORES_CATEGORY] > 0
        assert {o.order_id for o in listing.orders} == {o.order_id for o in spot}
        assert listing.complete
        assert all(sim.is_open(o.order_id) for o in futures)  # never asked to touch them
        assert not any(sim.is_open(o.order_id) for o in spot)
        assert report.all_closed, report.problems
        touched = {o.target.order_id for o in report.outcomes}
        assert touched == {o.order_id for o in spot}
        assert_truthful(report, sim)
