"""Property tests over the whole engine against a scripted exchange (virtual time).

Any targets, any sequence of per-request behaviours:
- every distinct target has exactly one outcome, in first-seen order;
- no request breaks the exchange's rules (<= 50 orders, one id kind, no id twice, symbols);
- the report never lies: CANCELLED means the exchange cancelled that order, NOT_OPEN means the
  order is not open;
- when every fault is transient and attempts suffice, every order ends cancelled or not_open
  and nothing targeted is left open.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitget_cancel import CancelEngine, CancelReport, CancelStatus, CancelTarget, Credentials

from .scripted_exchange import ALL_STEPS, TRANSIENT_STEPS, ScriptedExchange, Step, run_virtual

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT")
CREDS = Credentials(api_key="prop-key", secret_key="prop-secret", passphrase="prop-pass")


@dataclass(frozen=True)
class Universe:
    """Orders that exist on the exchange (open or not) and the targets a caller names."""

    orders: tuple[tuple[str, str, str | None, bool], ...]  # symbol, orderId, clientOid, open
    targets: tuple[CancelTarget, ...]


def _order(i: int) -> tuple[str, str, str | None]:
    # clientOids repeat across symbols (unique per symbol), orderIds are global.
    symbol = SYMBOLS[i % len(SYMBOLS)]
    client_oid = f"c{i // len(SYMBOLS)}" if i % 3 else None
    return symbol, str(1_000_000_000_000 + i), client_oid


def _target(i: int, kind: int, wrong_symbol: bool) -> CancelTarget:
    symbol, order_id, client_oid = _order(i)
    if wrong_symbol:  # names an order under another symbol: the exchange does not know it
        symbol = SYMBOLS[(SYMBOLS.index(symbol) + 1) % len(SYMBOLS)]
    if client_oid is None or kind == 0:
        return CancelTarget(symbol=symbol, order_id=order_id)
    if kind == 1:
        return CancelTarget(symbol=symbol, client_oid=client_oid)
    return CancelTarget(symbol=symbol, order_id=order_id, client_oid=client_oid)


def _universe(n_orders: int, picks: list[tuple[int, int, bool]], open_mask: int) -> Universe:
    orders = tuple((*_order(i), bool(open_mask >> (i % 60) & 1)) for i in range(n_orders))
    targets = tuple(_target(i % n_orders, kind, wrong) for i, kind, wrong in picks)
    return Universe(orders, targets)


small_universes = st.integers(1, 40).flatmap(
    lambda n: st.builds(
        _universe,
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 2), st.booleans()), max_size=80),
        st.integers(0, 2**60 - 1),
    )
)


@st.composite
def big_universes(draw: st.DrawFn) -> Universe:
    """Hundreds to thousands of targets, with duplicates, from a seed (cheap to generate)."""
    n_orders = draw(st.integers(50, 2500))
    n_targets = draw(st.integers(n_orders // 2, n_orders + 500))
    rng = random.Random(draw(st.integers(0, 2**32)))
    picks = [
        (rng.randrange(n_orders), rng.randrange(3), rng.random() < 0.05) for _ in range(n_targets)
    ]
    return _universe(n_orders, picks, rng.getrandbits(60))


universes = st.one_of(small_universes, big_universes())


def steps_of(kinds: tuple[str, ...], max_size: int) -> st.SearchStrategy[list[Step]]:
    return st.lists(
        st.builds(Step, st.sampled_from(kinds), st.integers(0, 2**16)), max_size=max_size
    )


def run_engine(
    universe: Universe,
    steps: list[Step],
    mode: str,
    max_attempts: int,
    deadline: float | None = None,
) -> tuple[CancelReport, ScriptedExchange]:
    exchange = ScriptedExchange(steps=steps)
    for symbol, order_id, client_oid, is_open in universe.orders:
        if is_open:
            exchange.place(symbol, order_id, client_oid)

    async def main() -> CancelReport:
        engine = CancelEngine(
            CREDS,
            transport=exchange.transport(),
            max_attempts=max_attempts,
            request_timeout=5.0,
            wall_clock=exchange.wall_clock,
            rng=random.Random(0),
        )
        async with engine:
            return await engine.cancel(universe.targets, mode=mode, deadline=deadline)  # type: ignore[arg-type]

    return run_virtual(main), exchange


def check_report_is_sound(
    universe: Universe, report: CancelReport, exchange: ScriptedExchange
) -> None:
    distinct = list(dict.fromkeys(universe.targets))
    assert [o.target for o in report.outcomes] == distinct
    assert exchange.violations == []
    assert exchange.rate_violations() == 0
    assert report.requests == len(exchange.bodies) + exchange.list_requests
    resolve: dict[tuple[str, str | None], str] = {
        (s, c): o for s, o, c, _ in universe.orders if c is not None
    }
    for outcome in report.outcomes:
        t = outcome.target
        order_id = t.order_id if t.order_id is not None else resolve.get((t.symbol, t.client_oid))
        key = (t.symbol, order_id or "")
        if outcome.attempts == 0:  # never sent: the deadline came first or the key was refused
            assert outcome.status in (CancelStatus.UNRESOLVED, CancelStatus.FAILED), outcome
            assert "sent" in (outcome.error_msg or ""), outcome
        if outcome.status is CancelStatus.CANCELLED and outcome.found_as is not None:
            # Named under the wrong symbol: its orderId (global) was found open elsewhere.
            found = outcome.found_as
            assert found.order_id == order_id, outcome
            assert (found.symbol, found.order_id) in exchange.cancelled, outcome
        elif outcome.status is CancelStatus.CANCELLED:
            # A target with both ids whose orderId the exchange does not know is asked by its
            # clientOid too: the order that names is then the one cancelled.
            by_client_oid = (t.symbol, resolve.get((t.symbol, t.client_oid)) or "")
            assert key in exchange.cancelled or by_client_oid in exchange.cancelled, outcome
        elif outcome.status is CancelStatus.NOT_OPEN:
            assert key not in exchange.open_orders, outcome
            # Confirmed: an orderId (global) is open on no symbol at all.
            assert all(o != order_id for _, o in exchange.open_orders), outcome
        else:
            assert outcome.error_msg, outcome  # unresolved and failed ones say why


common = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


@common
@given(universes, steps_of(ALL_STEPS, 30), st.sampled_from(["auto", "single", "multiple"]))
def test_any_faults_give_one_truthful_outcome_per_target(
    universe: Universe, steps: list[Step], mode: str
) -> None:
    report, exchange = run_engine(universe, steps, mode, max_attempts=3)
    check_report_is_sound(universe, report, exchange)


@common
@given(universes, steps_of(TRANSIENT_STEPS, 12), st.sampled_from(["auto", "single", "multiple"]))
def test_transient_faults_with_enough_attempts_close_every_order(
    universe: Universe, steps: list[Step], mode: str
) -> None:
    # Each order rides in at most one request per scripted step, so len(steps) + 1 attempts
    # always reach a clean answer.
    report, exchange = run_engine(universe, steps, mode, max_attempts=len(steps) + 1)
    check_report_is_sound(universe, report, exchange)
    # A clientOid named under a symbol where the listing shows it not, but open on another, is
    # never confirmed "not open" (clientOids may be the account's, like orderIds): unresolved.
    on_other_symbols = {(c, s) for s, _, c, _ in universe.orders if c is not None}
    # Targets naming one orderId with different clientOids: which order they mean is unknown,
    # so an order one of those clientOids names stays unresolved, never "not open".
    client_oids_of: dict[str, set[str | None]] = {}
    for outcome in report.outcomes:
        if outcome.target.order_id is not None:
            client_oids_of.setdefault(outcome.target.order_id, set()).add(outcome.target.client_oid)
    left = [
        o
        for o in report.outcomes
        if not o.closed
        and not (
            o.status is CancelStatus.UNRESOLVED
            and o.target.order_id is None
            and "is open on" in (o.error_msg or "")
            and any(c == o.target.client_oid and s != o.target.symbol for c, s in on_other_symbols)
        )
        and not (
            o.status is CancelStatus.UNRESOLVED
            and "disagree on its clientOid" in (o.error_msg or "")
            and len(client_oids_of.get(o.target.order_id or "", ())) >= 2
        )
    ]
    assert not left, left[:5]
    resolve: dict[tuple[str, str | None], str] = {
        (s, c): o for s, o, c, _ in universe.orders if c is not None
    }
    targeted = {
        (t.symbol, t.order_id or resolve.get((t.symbol, t.client_oid), ""))
        for t in universe.targets
    }
    assert not targeted & exchange.open_orders.keys()


@common
@given(
    universes,
    steps_of(ALL_STEPS, 30),
    st.floats(0.005, 8.0, allow_nan=False, allow_infinity=False),
)
def test_a_deadline_always_holds_and_every_target_is_still_reported(
    universe: Universe, steps: list[Step], deadline: float
) -> None:
    report, exchange = run_engine(universe, steps, "auto", max_attempts=50, deadline=deadline)
    assert report.elapsed <= deadline + 1e-9
    check_report_is_sound(universe, report, exchange)
