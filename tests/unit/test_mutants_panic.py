"""The panic, pinned where mutation testing showed nothing noticed a change (issue 13).

Each test names the mutants it kills (``mutmut`` names, or the curated ones of
``tests/mutation/run_mutations.py``) and the behaviour it protects.
"""

from __future__ import annotations

import asyncio

from bitget_cancel import CancelStatus, CancelTarget

from .fake_venue import (
    BATCH_CANCEL,
    BATCH_CANCEL_PLAN,
    CANCEL_ORDER,
    CANCEL_PLAN,
    PLAN,
    PLAN_LIST,
    SYMBOL_CANCEL,
    UNFILLED,
    After,
    Call,
    FakeVenue,
    Fault,
    Hang,
    IgnoreSymbol,
    ItemCode,
    Refuse,
    always,
    engine_for,
    seq,
)
from .test_panic_unit import assert_truthful

LISTINGS = (UNFILLED, PLAN_LIST)
CANCELS = (BATCH_CANCEL, CANCEL_ORDER, CANCEL_PLAN)
BULKS = (SYMBOL_CANCEL, BATCH_CANCEL_PLAN)


def target_of(order_symbol: str, order_id: str) -> CancelTarget:
    return CancelTarget(symbol=order_symbol, order_id=order_id)


# -- what "confirmed empty" needs --------------------------------------------------------------


async def test_an_order_refused_for_good_is_asked_once_and_keeps_its_kind_unconfirmed() -> None:
    """Kills ``panic.confirmed_ignores_open_rows``, ``listing.open_rows_not_counted``,
    ``panic.failed_asked_again``, ``panic.unconfirmed_kind_problem_dropped``,
    ``_panic.xǁPanicǁentry_for__mutmut_44`` and the by-kind counts of ``_report``
    (``failed=None``, ``not_open=None``...).

    One order's cancel is refused with a code that repeating cannot change. The listing still
    shows it: the kind is not confirmed empty (a complete listing with an open order in it),
    the report says so, and the order is not asked again every pass."""
    venue = FakeVenue()
    orders = venue.place_many("BTCUSDT", 3)
    stuck = orders[1]
    venue.script[BATCH_CANCEL] = always(
        ItemCode("41114", "The symbol is under maintenance", frozenset({stuck.order_id}))
    )
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(deadline=None)
    assert venue.open_orders() == [stuck]
    assert len(venue.sends_of(stuck.order_id, BATCH_CANCEL)) == 1
    assert not report.account_empty
    assert report.passes == 2
    normal = report.by_kind["normal"]
    assert not normal.confirmed_empty
    assert (normal.listed, normal.cancelled, normal.failed) == (3, 2, 1)
    assert (normal.not_open, normal.unresolved) == (0, 0)
    assert normal.problem == "not confirmed empty by a complete listing"
    assert report.problems == (
        "normal orders: not confirmed empty by a complete listing",
        "1 order failed (not cancelled; see their outcomes)",
    )
    assert report.by_kind["tpsl"].confirmed_empty
    assert report.by_kind["plan"].confirmed_empty
    (failed,) = report.failed
    assert (failed.target.order_id, failed.error_code) == (stuck.order_id, "41114")
    assert_truthful(report, venue)


async def test_a_listing_that_failed_for_now_is_listed_again_before_finishing() -> None:
    """Kills ``panic.stuck_listing_finishes``, ``_panic.xǁPanicǁ_finish_if_done__mutmut_56``
    (``stuck = None``) and ``_finish_if_done__mutmut_3`` (a kind's old problem kept after a
    later complete listing).

    The plan listing fails transiently until the engine gives up on it in the first pass
    (not final: it may work next time). Nothing else is open, but the panic lists again,
    finds the plan orders, cancels them and confirms every kind."""
    venue = FakeVenue()
    plan = venue.place_many("BTCUSDT", 2, PLAN)
    refused = Refuse(503, "40015", "System is abnormal")
    venue.script[PLAN_LIST] = seq(refused, refused)
    async with engine_for(venue, max_attempts=2) as engine:
        report = await engine.panic_cancel(deadline=None, use_symbol_cancel=False)
    assert venue.open_orders() == []
    assert {o.target.order_id for o in report.cancelled} == {o.order_id for o in plan}
    assert report.account_empty
    assert report.problems == ()
    assert venue.count(PLAN_LIST) >= 4  # two refused, then listed, then confirmed
    assert_truthful(report, venue)


async def test_a_panic_that_cannot_close_an_order_ends_after_max_passes_and_says_so() -> None:
    """Kills ``panic.max_passes_ignored``, ``_panic.xǁPanicǁrun__mutmut_18`` (one pass too
    many), ``panic.unresolved_not_open_while_listed`` and ``_panic.xǁPanicǁ_settle__mutmut_17``
    .. ``_21``, ``_32``, ``_33`` (an order still listed called not open).

    Every cancel of the order is refused transiently and one attempt is allowed: each pass
    ends with it unresolved and still listed. The panic stops after MAX_PASSES passes (long
    before its deadline), and the order is unresolved, never "not open"."""
    from bitget_cancel._panic import MAX_PASSES

    venue = FakeVenue()
    (order,) = venue.place_many("BTCUSDT", 1)
    venue.script[BATCH_CANCEL] = always(Refuse(503, "40015", "System is abnormal"))
    loop = asyncio.get_running_loop()
    async with engine_for(venue, max_attempts=1) as engine:
        start = loop.time()
        report = await engine.panic_cancel(deadline=120, kinds=["normal"])
        took = loop.time() - start
    assert report.passes == MAX_PASSES
    assert took < 60
    assert venue.count(BATCH_CANCEL) == MAX_PASSES
    (outcome,) = report.outcomes
    assert outcome.status is CancelStatus.UNRESOLVED, outcome
    assert outcome.target.order_id == order.order_id
    assert not report.account_empty
    assert report.problems == (
        "normal orders: not confirmed empty by a complete listing",
        "1 order unresolved (may still be open)",
    )
    assert_truthful(report, venue, kinds=["normal"])


async def test_an_order_whose_cancel_timed_out_and_is_no_longer_listed_is_not_open() -> None:
    """Kills ``_panic.xǁPanicǁ_settle__mutmut_34`` .. ``_46`` (an unresolved order that a
    complete listing no longer shows is left unresolved, or reported without its attempts).

    The batch cancel is performed but its answer is lost (timeout); with one attempt the order
    is unresolved after the pass. The next complete listing does not show it: not open."""
    venue = FakeVenue()
    orders = venue.place_many("BTCUSDT", 3)
    venue.script[BATCH_CANCEL] = seq(After(timeout=True))
    async with engine_for(venue, max_attempts=1) as engine:
        report = await engine.panic_cancel(deadline=None)
    assert venue.open_orders() == []
    assert report.account_empty
    assert len(report.not_open) == 3
    for outcome in report.not_open:
        assert outcome.error_msg == "not listed as open any more"
        assert outcome.attempts == 1
    assert {o.target.order_id for o in report.not_open} == {o.order_id for o in orders}
    assert report.by_kind["normal"].not_open == 3
    assert_truthful(report, venue)


# -- bulk cancels and the by-id fallback -------------------------------------------------------


async def test_a_symbol_cancel_that_does_nothing_goes_by_id_even_when_no_listing_works() -> None:
    """Kills ``panic.by_id_only_not_fed``, ``panic.no_by_id_when_listing_incomplete`` and
    ``_panic.xǁPanicǁ_settle__mutmut_5``, ``_6``, ``_10``, ``_13``, ``_14``, ``_15``.

    The symbol cancel is accepted and never acted on; after the first listing every listing
    fails. No listing can confirm or deny the bulk cancel, so once it had its settle time its
    orders are cancelled by id, pass after pass, without a listing to show them."""
    venue = FakeVenue(symbol_cancel_delay=None)
    orders = venue.place_many("BTCUSDT", 60)
    refused = Refuse(503, "40015", "System is abnormal")
    venue.script[UNFILLED] = lambda call: None if call.index < 2 else refused
    async with engine_for(venue, max_attempts=2) as engine:
        report = await engine.panic_cancel(deadline=15, kinds=["normal"])
    assert venue.count(SYMBOL_CANCEL) == 1
    assert venue.open_orders() == []
    assert {o.target.order_id for o in report.cancelled} == {o.order_id for o in orders}
    assert not report.account_empty
    assert not report.by_kind["normal"].confirmed_empty


async def test_explicit_targets_outside_the_scope_never_ride_a_symbol_cancel() -> None:
    """Kills ``panic.bulk_scope_check_dropped``.

    A BTC panic is given 55 ETH targets; the listing (ignoring its symbol parameter) shows all
    60 ETH orders. A symbol cancel on ETH would close the 5 that nobody named: the targets go
    by id."""
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 3)
    eth = venue.place_many("ETHUSDT", 60)
    named, others = eth[:55], eth[55:]
    venue.script[UNFILLED] = always(IgnoreSymbol())
    # The first cancels fail for now: the ETH orders are still open when the listing shows them.
    transient = ItemCode("40725", "service return an error")
    venue.script[BATCH_CANCEL] = seq(transient, transient)
    targets = [target_of(o.symbol, o.order_id) for o in named]
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(["BTCUSDT"], targets=targets, kinds=["normal"])
    assert all("ETHUSDT" not in str(c.body) for c in venue.calls_to(SYMBOL_CANCEL))
    assert venue.open_orders() == others
    assert {o.target.order_id for o in report.cancelled} >= {o.order_id for o in named}


# -- joining -----------------------------------------------------------------------------------


async def test_a_joined_panic_on_another_symbol_widens_to_it_and_no_further() -> None:
    """Kills ``panic.join_never_widens``, ``_panic.xǁPanicǁextend__mutmut_6``, ``_7``, ``_8``,
    ``_10``, ``_12`` (the scope not widened, widened to the whole account, or narrowed) and
    ``_23`` .. ``_27`` (the joined call's targets not taken as the caller's own).

    A BTC panic is joined by an ETH panic that also names two SOL orders: BTC and ETH are
    emptied, the two SOL orders cancelled, the other SOL orders and XRP untouched."""
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 10)
    venue.place_many("ETHUSDT", 10)
    sol = venue.place_many("SOLUSDT", 5)
    xrp = venue.place_many("XRPUSDT", 5)
    named = [target_of(o.symbol, o.order_id) for o in sol[:2]]
    async with engine_for(venue) as engine:
        first = asyncio.ensure_future(engine.panic_cancel(["BTCUSDT"], kinds=["normal"]))
        await asyncio.sleep(0.005)
        second = await engine.panic_cancel(["ETHUSDT"], targets=named, kinds=["normal"])
        assert await first is second
    assert venue.open_orders() == sol[2:] + xrp
    assert {o.target.symbol for o in second.outcomes} == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    assert second.account_empty
    listed = {c.query.get("symbol") for c in venue.calls_to(UNFILLED)}
    assert listed == {"BTCUSDT", "ETHUSDT"}


async def test_a_whole_account_panic_joined_by_a_one_symbol_panic_stays_whole() -> None:
    """Kills ``_panic.xǁPanicǁextend__mutmut_2`` (a whole-account scope "widened" by a symbol:
    ``None | {symbol}`` raises in the joining call)."""
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 10)
    venue.place_many("ETHUSDT", 10)
    async with engine_for(venue) as engine:
        first = asyncio.ensure_future(engine.panic_cancel(kinds=["normal"]))
        await asyncio.sleep(0.005)
        second = await engine.panic_cancel(["BTCUSDT"], kinds=["normal"])
        assert await first is second
    assert venue.open_orders() == []
    assert second.account_empty
    assert {c.query.get("symbol") for c in venue.calls_to(UNFILLED)} == {None}


# -- a listing per symbol ----------------------------------------------------------------------


async def test_one_symbols_refused_listing_keeps_the_kind_unconfirmed_and_ends_the_panic() -> None:
    """Kills ``_panic.xǁ_Passǁ_list_kind`` mutants merging per-symbol listings wrongly
    (``complete = part.complete``, ``complete |= ...``, ``final = part.final``,
    ``final &= ...``, ``problem = None``...).

    A BTC+ETH panic whose BTC listing of normal orders is refused (final): ETH is emptied, BTC
    is never confirmed, the report says the listing was refused, and the panic ends without
    waiting for its deadline."""
    venue = FakeVenue()
    btc = venue.place_many("BTCUSDT", 3)
    venue.place_many("ETHUSDT", 3)

    def script(call: Call) -> Fault | None:
        if call.query.get("symbol") == "BTCUSDT":
            return Refuse(400, "40017", "Parameter verification failed")
        return None

    venue.script[UNFILLED] = script
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(["BTCUSDT", "ETHUSDT"], kinds=["normal", "plan"])
    assert venue.open_orders() == btc
    assert report.passes == 2  # cancel ETH; see it gone (BTC cannot be listed: no use waiting)
    assert report.by_kind["plan"].confirmed_empty
    assert not report.account_empty
    normal = report.by_kind["normal"]
    assert not normal.confirmed_empty
    assert normal.problem is not None
    assert normal.problem.startswith("listing refused, code 40017")
    assert_truthful(report, venue, ["BTCUSDT", "ETHUSDT"], ["normal", "plan"])


# -- outcomes ----------------------------------------------------------------------------------


async def test_each_order_has_one_outcome_with_the_ids_the_exchange_lists() -> None:
    """Kills ``_panic.xǁPanicǁentry_for__mutmut_20``, ``_21``, ``_28``, ``_39`` (a listed
    order not matched to the caller's target for it: two outcomes for one order) and ``_7``,
    ``_11`` (a listed order's clientOid dropped from its outcome).

    The caller names two orders by orderId only; the listing shows every order with its
    clientOid."""
    venue = FakeVenue()
    orders = [venue.place("BTCUSDT", client_oid=f"strategy-{i}") for i in range(4)]
    named = [target_of(o.symbol, o.order_id) for o in orders[:2]]
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(targets=named, kinds=["normal"])
    assert venue.open_orders() == []
    assert len(report.outcomes) == 4
    assert [o.target for o in report.outcomes[:2]] == named
    listed = {o.target.order_id: o.target.client_oid for o in report.outcomes[2:]}
    assert listed == {o.order_id: o.client_oid for o in orders[2:]}
    assert {o.status for o in report.outcomes} == {CancelStatus.CANCELLED}
    assert {o.attempts for o in report.outcomes} == {1}


async def test_a_panic_cancelled_mid_pass_keeps_the_answers_it_already_had() -> None:
    """Kills ``panic.cancellation_not_harvested`` and ``_run.xǁCancelRunǁoutcome_of__mutmut_3``.

    The program shuts down while a pass runs (its task is cancelled): the panic goes on with a
    fresh pass. Orders cancelled before that are reported cancelled, not lost (and then
    reported unresolved although the account is confirmed empty)."""
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 5)
    venue.place_many("ETHUSDT", 5)

    def script(call: Call) -> Fault | None:
        hang = call.index == 0 and "ETHUSDT" in str(call.body)
        return Hang() if hang else None

    venue.script[BATCH_CANCEL] = script
    async with engine_for(venue, request_timeout=5.0) as engine:
        task = engine.start_panic(kinds=["normal"], use_symbol_cancel=False)
        await asyncio.sleep(1.0)  # BTC answered, ETH hanging
        task.cancel()
        report = await task
    assert venue.open_orders() == []
    assert report.account_empty
    assert len(report.cancelled) == 10, report.outcomes
    assert report.unresolved == []


async def test_the_panic_reports_its_requests_by_kind_of_endpoint() -> None:
    """Kills the request counts of ``Panic._report`` (``requests``, ``list_requests``,
    ``cancel_requests``, ``symbol_cancels``, ``throttled``, ``elapsed``, ``listed`` set to
    None or miscounted) and ``_panic.xǁPanicǁ_one_pass__mutmut_38`` .. ``_40``."""
    venue = FakeVenue(symbol_cancel_delay=0.1)
    venue.place_many("BTCUSDT", 60)
    venue.place_many("ETHUSDT", 10)
    venue.script[BATCH_CANCEL] = seq(Refuse(429, "429", "Too Many Requests"))
    loop = asyncio.get_running_loop()
    async with engine_for(venue) as engine:
        start = loop.time()
        report = await engine.panic_cancel(kinds=["normal"])
        took = loop.time() - start
    assert venue.open_orders() == []
    assert report.list_requests == venue.count(*LISTINGS)
    assert report.cancel_requests == venue.count(*CANCELS)
    assert report.symbol_cancels == venue.count(*BULKS) == 1
    assert report.requests == len(venue.calls)
    assert report.throttled == 1
    assert report.listed
    assert report.elapsed == took


async def test_refused_credentials_name_their_code_and_what_it_means() -> None:
    """Kills ``_panic.xǁPanicǁ_report`` mutants on the refusal (``refused_code=None``,
    ``refusal[1]``, ``hint = None``, ``hint and refusal[1]``)."""
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 3)
    venue.script[UNFILLED] = always(Refuse(400, "40018", "Invalid IP"))
    async with engine_for(venue) as engine:
        report = await engine.panic_cancel(kinds=["normal"])
    assert report.refused_code == "40018"
    assert report.problems[0] == (
        "credentials refused: code 40018, "
        "the request came from an IP address this API key does not allow"
    )


async def test_panic_progress_ends_with_every_order_closed() -> None:
    """Kills ``_panic.xǁPanicǁ_run_progress`` mutants and ``_panic.xǁPanicǁ__init____mutmut_3``
    (the caller's progress callback dropped or fed wrong counts)."""
    venue = FakeVenue()
    venue.place_many("BTCUSDT", 30)
    seen: list[tuple[int, int]] = []
    async with engine_for(venue) as engine:
        await engine.panic_cancel(
            kinds=["normal"], progress=lambda done, total: seen.append((done, total))
        )
    assert seen, "progress was never called"
    assert seen[-1] == (30, 30)
    assert all(0 <= done <= total <= 30 for done, total in seen)
