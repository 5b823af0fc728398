"""Reading answers: one rule for every endpoint, v2 and v3, batch and single, every kind.

``_classify`` says what a code means; this module says which order an answer speaks of:

- a success confirms an order only when it names that order's orderId or clientOid (a
  one-order answer whose documented shape names no id speaks of the one order it was asked);
- an item naming none of the request's orders is ignored (and logged);
- an item of a shape not recognised (not an object, or carrying an outcome-like field the
  endpoint does not document, such as v2's ``errorCode`` on v3) is never a success: its order
  stays unresolved and is asked again;
- an order no item speaks of is asked again.

The API families supply field names (``ItemFields``), never their own matching.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar

from ._classify import SUCCESS_CODE, Verdict, classify_item
from ._log import log
from ._wire import Scalar, text

# A field whose name says it carries an outcome: when an endpoint does not document it, the
# item's shape is not one we know (a field named like this may say "failed").
_OUTCOME_FIELD = re.compile(r"code|msg|message|err|fail|status|result|success|state", re.I)


class OrderIds(Protocol):
    """The ids an answer item names, raw as decoded (str, number, null...)."""

    @property
    def order_id(self) -> Scalar: ...

    @property
    def client_oid(self) -> Scalar: ...


class Named(NamedTuple):
    """The ids one answer item names (a tuple: one is made per order, benchmark 4)."""

    order_id: Scalar
    client_oid: Scalar


# Kept under its old name: the ids of the one order a single-order request named.
SentIds = Named


@dataclass(frozen=True, slots=True)
class Refusal:
    """One order refused inside a successful answer."""

    order_id: Scalar
    client_oid: Scalar
    code: str | None
    msg: str | None


class Results(NamedTuple):
    """The per-order results of a successful cancel answer."""

    succeeded: Sequence[OrderIds]
    refused: Sequence[Refusal]
    unrecognised: Sequence[OrderIds] = ()  # items that are no verdict: asked again


@dataclass(frozen=True, slots=True)
class ItemFields:
    """The field names of one endpoint's per-order items (supplied by its API family).

    ``code``/``msg``: where an item carries its own outcome (None: it carries none).
    ``extra``: other outcome-like fields the endpoint documents (e.g. ``result``).
    """

    code: str | None = None
    msg: str | None = None
    order_id: str = "orderId"
    client_oid: str = "clientOid"
    extra: frozenset[str] = frozenset()
    known: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = {self.order_id, self.client_oid, *self.extra}
        names.update(n for n in (self.code, self.msg) if n is not None)
        object.__setattr__(self, "known", frozenset(names))

    def foreign(self, item: Mapping[str, Any]) -> str | None:
        """The first outcome-like field the endpoint does not document, if any."""
        known = self.known
        if item.keys() <= known:
            return None  # the usual item, checked as one set operation (benchmark 4)
        for name in item:
            if name not in known and _OUTCOME_FIELD.search(name):
                return name
        return None


def _scalar(value: Any) -> Scalar:
    if type(value) is str or value is None:
        return value  # what the exchange sends nearly always
    return value if isinstance(value, int | float | bool) else None


def _garbled(*values: Any) -> bool:
    """A code or message that is neither absent, null, text nor a number (an object, a list,
    a bool): an outcome we cannot read, so never a success."""
    return any(
        v is not None and (type(v) is bool or not isinstance(v, str | int | float)) for v in values
    )


def read_items(items: Sequence[Any], fields: ItemFields, *, success: bool | None) -> Results:
    """Per-order results of a list of items.

    ``success``: True for a list the endpoint documents as successes (v2 ``successList``),
    False for failures (``failureList``), None when each item says (v3 ``code``/``msg``:
    success is code "00000", or no code and no message or the message "success").
    """
    succeeded: list[Named] = []
    refused: list[Refusal] = []
    unrecognised: list[Named] = []
    code_field, msg_field = fields.code, fields.msg
    id_field, client_oid_field, known = fields.order_id, fields.client_oid, fields.known
    odd: list[str] = []  # what was wrong with each item of no known shape: logged once
    for item in items:
        if type(item) is not dict:
            odd.append(f"not an object: {item!r:.80}")
            continue
        order_id, client_oid = item.get(id_field), item.get(client_oid_field)
        if type(order_id) is not str:  # a string (nearly always): as it is (benchmark 4)
            order_id = _scalar(order_id)
        if client_oid is not None and type(client_oid) is not str:
            client_oid = _scalar(client_oid)
        ids = Named(order_id, client_oid)
        if not item.keys() <= known:
            stranger = fields.foreign(item)
            if stranger is not None:
                odd.append(f"an undocumented field {stranger!r}")
                unrecognised.append(ids)
                continue
        raw_code = item.get(code_field) if code_field else None
        raw_msg = item.get(msg_field) if msg_field else None
        if (raw_code is not None or raw_msg is not None) and _garbled(raw_code, raw_msg):
            odd.append("a code or message that is neither text nor a number")
            unrecognised.append(ids)
            continue
        code = None if raw_code is None else text(raw_code)
        if success is True and code is None:
            succeeded.append(ids)  # the usual successList item (benchmark 4)
            continue
        msg = None if raw_msg is None else text(raw_msg)
        if success is None:
            quiet = code is None and (msg is None or msg.lower() == "success")
            ok = code == SUCCESS_CODE or quiet
        elif success:
            ok = code == SUCCESS_CODE  # another code on a success: a contradiction
            if not ok:
                unrecognised.append(ids)
                continue
        else:
            ok = False
        if ok:
            succeeded.append(ids)
        else:
            refused.append(Refusal(ids.order_id, ids.client_oid, code, msg))
    if odd:
        # One line per answer, however many items it has.
        log.warning("%d answer items of no known shape, not a verdict (%s)", len(odd), odd[0])
    return Results(succeeded, refused, unrecognised)


def read_single(
    data: Any,
    sent: Named,
    fields: ItemFields,
    *,
    result_field: str | None = None,
    nameless: bool = False,
) -> Results | None:
    """The result of a one-order cancel's successful answer (``data`` as decoded: a dict, or
    ``{}`` for a documented null). None if it is not a shape the endpoint documents.

    An answer that names an id speaks of the order it names (matched like any item). One that
    names none speaks of the one order asked only where the endpoint documents such a success:
    ``result_field`` saying ``"success"`` (v2 cancel-plan-order's ``{"result": "success"}``),
    or ``nameless`` (v3 cancel-strategy-order's ``data: null``).
    """
    if not isinstance(data, dict):
        return None
    confirmed = nameless
    if result_field is not None and result_field in data:
        if data[result_field] != "success":
            return None  # an answer we do not understand is not a cancel
        confirmed = True
        data = {k: v for k, v in data.items() if k != result_field}
    if fields.foreign(data) is not None:
        return None
    raw_code = data.get(fields.code) if fields.code else None
    raw_msg = data.get(fields.msg) if fields.msg else None
    if _garbled(raw_code, raw_msg):
        return None
    named = Named(_scalar(data.get(fields.order_id)), _scalar(data.get(fields.client_oid)))
    if text(named.order_id) is None and text(named.client_oid) is None:
        if not confirmed:
            return None  # a success that names no order, where the endpoint names it
        named = sent
    code = text(raw_code)
    if code is not None and code != SUCCESS_CODE:
        msg = text(raw_msg)
        return Results([], [Refusal(named.order_id, named.client_oid, code, msg)])
    return Results([named], ())


# -- matching items to the request's orders ------------------------------------------------


class Asked(Protocol):
    @property
    def order_id(self) -> str | None: ...

    @property
    def client_oid(self) -> str | None: ...


A = TypeVar("A", bound=Asked)


class Matched(NamedTuple):
    """What an answer said of each order of its request."""

    succeeded: list[Any]
    refused: list[tuple[Any, Refusal]]
    again: list[Any]  # no verdict (silent, unrecognised or contradicted): ask again
    # Asked by clientOid, cancelled as another orderId than the target gave: the clientOid's
    # order is closed, the one the target's orderId names is not known to be.
    elsewhere: list[Any]


# What ``match`` records of an order cancelled as another orderId than its target gave.
_ELSEWHERE = object()


def _names_another_order(order: Asked, item: OrderIds) -> bool:
    """Does ``item`` name an orderId, and not the one ``order`` gave?"""
    given, named = order.order_id, text(item.order_id)
    return given is not None and named is not None and named != given


def match(orders: Sequence[A], by_order_id: bool, results: Results) -> Matched:
    """Each order of a request with what the answer's items said of it.

    An item is matched by the orderId the request sent (when it sent orderIds and the item
    names one: an orderId not sent names some other order, whatever its clientOid), else by
    clientOid (never one shared by two orders of the request).
    """
    by_id: dict[str, A] = {}
    by_client_oid: dict[str, A | None] = {}  # None: ambiguous, never matched by it
    for member in orders:
        key = member.order_id if by_order_id else member.client_oid
        if key is not None:
            by_id[key] = member
        oid = member.client_oid
        if oid is not None:
            by_client_oid[oid] = None if oid in by_client_oid else member

    strays: list[tuple[str | None, str | None]] = []  # items naming no order: logged once

    def find(item: OrderIds) -> A | None:
        raw = item.order_id
        if by_order_id and type(raw) is str:
            found = by_id.get(raw)
            if found is not None:
                return found  # the usual item: an orderId we sent (benchmark 4)
        order_id, client_oid = text(raw), text(item.client_oid)
        if order_id is not None and by_order_id:
            found = by_id.get(order_id)
        else:
            found = None if client_oid is None else by_client_oid.get(client_oid)
        if found is None:
            strays.append((order_id, client_oid))
        return found

    # The first verdict on an order stands, but an answer that says both "cancelled" and
    # something else of one order (successList and failureList naming it) is no verdict: it
    # is asked again, never taken as a cancel while it may be open. A success and a "does not
    # exist" agree that it is gone: the success stands.
    said: dict[A, object] = {}  # order -> True (success), a Refusal, or None (no verdict)
    doubted = False  # a success item that is no verdict
    for item in results.succeeded:
        raw = item.order_id
        # find(item), for the usual item: an orderId we sent (benchmark 4)
        order = by_id.get(raw) if by_order_id and type(raw) is str else None
        if order is None:
            order = find(item)
        if order is None:
            continue
        if not by_order_id and _names_another_order(order, item):
            # Asked by its clientOid, the success names another orderId than the target gave:
            # it cancelled that clientOid's order, not the one the target's orderId names.
            said.setdefault(order, _ELSEWHERE)
            doubted = True
        else:
            said.setdefault(order, True)
    for refusal in results.refused:
        order = find(refusal)
        if order is not None:
            _say(said, order, refusal)
    for item in results.unrecognised:
        order = find(item)
        if order is not None:
            _say(said, order, None)
    if strays:
        # One line per answer: an answer of 100,000 foreign items is not 100,000 log lines.
        log.warning(
            "answer item matches no order of this request (orderId=%r clientOid=%r); ignored"
            " (%d such items in this answer)",
            *strays[0],
            len(strays),
        )
    if len(said) == len(orders) and not (results.refused or results.unrecognised or doubted):
        # Every order of the request named by a success (the usual answer): all succeeded,
        # in the request's order (benchmark 4).
        return Matched(list(orders), [], [], [])
    matched = Matched([], [], [], [])
    for order in orders:
        verdict = said.get(order)
        if verdict is True:
            matched.succeeded.append(order)
        elif isinstance(verdict, Refusal):
            matched.refused.append((order, verdict))
        elif verdict is _ELSEWHERE:
            matched.elsewhere.append(order)
        else:
            matched.again.append(order)
    return matched


def _say(said: dict[A, object], order: A, verdict: Refusal | None) -> None:
    """A refusal or no verdict on ``order``: it stands unless one came first; over a success,
    anything but "does not exist" contradicts it (no verdict)."""
    first = said.setdefault(order, verdict)
    if (first is True or first is _ELSEWHERE) and (
        verdict is None or classify_item(verdict.code, verdict.msg) is not Verdict.NOT_OPEN
    ):
        said[order] = None
