"""Found by trying to break the engine as a hostile exchange would: a small lying Bitget on
127.0.0.1 (``lying_exchange.Liar``), real sockets, and the exchange's own book as the truth."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials
from tests.e2e.lying_exchange import BATCH, UNFILLED, Liar, envelope

CREDS = Credentials(api_key="k", secret_key="s", passphrase="p")

# 1.2e18 is a float exactly (a multiple of 2**19); the order after it is not: as a JSON number
# both read back as 1.2e18.
EXACT = 1_200_000_000_000_000_000
NEXT = EXACT + 1


async def test_break_a_float_order_id_never_confirms_a_neighbour() -> None:
    """Bug found: an answer that writes an id as a JSON float (1.200000000000000001e18 has no
    exact float; it reads back as 1.2e18) was matched to the *other* order of the batch whose
    id is that rounded value: that order was reported cancelled while still open, the one
    really cancelled came back not_open, and the report said all_closed. ``text()`` keeps an
    integral float above 2**53, where a float no longer names one integer.

    Should: an id that cannot be exact (a float beyond 2**53) confirms nothing; the orders it
    could mean are asked again and end with their own answers, and the exchange's book agrees
    with the report."""
    book = {str(EXACT): ("BTCUSDT", None), str(NEXT): ("BTCUSDT", None)}
    async with Liar(book) as liar:

        async def next_as_float(request: web.Request, body: dict[str, Any], lr: Liar) -> Any:
            sent = [o["orderId"] for o in body["orderList"]]
            if str(NEXT) in sent and str(NEXT) in lr.open:
                del lr.open[str(NEXT)]  # cancels NEXT only, and writes its id as a float
                answer = (
                    '{"code":"00000","msg":"success","requestTime":1,"data":'
                    f'{{"successList":[{{"orderId":{NEXT}.0}}],"failureList":[]}}}}'
                )
                return web.Response(body=answer.encode(), content_type="application/json")
            return envelope(lr.cancel_batch(body))

        liar.hooks[BATCH] = next_as_float
        targets = [CancelTarget(symbol="BTCUSDT", order_id=str(i)) for i in (EXACT, NEXT)]
        async with CancelEngine(CREDS, base_url=liar.base_url, account="classic") as engine:
            report = await engine.cancel(targets)
        status = {o.target.order_id: o.status for o in report.outcomes}
        still_open = set(liar.open)
        assert not {i for i, s in status.items() if s is CancelStatus.CANCELLED} & still_open
        assert not (report.all_closed and still_open)


async def test_break_a_listed_order_without_an_order_id_is_not_an_empty_account() -> None:
    """Bug found: a listing row of an open order whose ``orderId`` is null (or otherwise not a
    usable id) was dropped without a word: the panic reported ``account_empty=True`` with no
    problem, and ``open_orders()`` said ``complete=True`` with no orders, while the exchange
    still held the order.

    Should: an open row the engine cannot act on is evidence that something is open: the
    listing is not complete (a problem says a listed order could not be read), the panic is not
    account_empty and ``open_orders().complete`` is false."""
    async with Liar({"77": ("BTCUSDT", "c77")}) as liar:

        async def rows_without_ids(request: web.Request, body: dict[str, Any], lr: Liar) -> Any:
            if request.query.get("tpslType"):
                return envelope([])
            rows = [
                {"symbol": s, "orderId": None, "clientOid": c, "status": "live"}
                for s, c in lr.open.values()
            ]
            return envelope(rows)

        liar.hooks[UNFILLED] = rows_without_ids
        async with CancelEngine(CREDS, base_url=liar.base_url, account="classic") as engine:
            panic = await engine.panic_cancel(deadline=5, kinds=["normal"])
            listed = await engine.open_orders(kinds=["normal"])
        assert "77" in liar.open
        assert not panic.account_empty
        assert panic.problems
        assert not listed.complete
        assert listed.problems


async def test_break_a_listing_that_fails_after_its_first_page_does_not_end_the_panic() -> None:
    """Bug found: the first listing page (100 of 150 open orders) arrived and its orders were
    cancelled; the second page then met five HTTP 500s in about a second. The panic took that
    for "could not list open orders at all" and ended after one pass, 50 orders open with most
    of its deadline left (the CLI: exit 4, "the open orders could not be listed at all
    (nothing was touched)", after cancelling 100).

    Should: a listing that delivered pages has listed something: a transient failure after
    them is one incomplete pass, and the panic lists again (here the rest fit on one page)
    until the account is confirmed empty, within its deadline."""
    book = {str(1_000_000 + i): ("BTCUSDT", None) for i in range(150)}
    async with Liar(book) as liar:
        second_page_failures = 0

        async def page_two_fails(request: web.Request, body: dict[str, Any], lr: Liar) -> Any:
            nonlocal second_page_failures
            if request.query.get("tpslType"):
                return envelope([])
            if "idLessThan" in request.query and second_page_failures < 5:
                second_page_failures += 1
                return web.Response(status=500, text="busy")
            below = request.query.get("idLessThan")
            rows = [r for r in lr.rows() if below is None or int(r["orderId"]) < int(below)]
            return envelope(rows[:100])

        liar.hooks[UNFILLED] = page_two_fails
        async with CancelEngine(CREDS, base_url=liar.base_url, account="classic") as engine:
            report = await engine.panic_cancel(
                deadline=30, kinds=["normal"], use_symbol_cancel=False
            )
        assert second_page_failures == 5
        assert not liar.open
        assert report.account_empty
        assert report.all_closed
