"""The classifier's verdicts, table-driven: every code of ``shared/bitget/*.md``, as a whole
answer (every kind of HTTP status, requests for no order, one order, many) and as one item."""

from __future__ import annotations

import pytest

from bitget_cancel import _classify
from bitget_cancel._classify import Verdict, classify_answer, classify_code, classify_item

V = Verdict

# Every code the exchange facts name (exchange-facts.md, order-kinds.md, uta-v3.md), by what
# it means. A code added to a table of the classifier must be added here (checked below).
NOT_OPEN = [
    ("43001", "The order does not exist"),
    ("43004", "There is no order to cancel"),
    ("22001", "No order to cancel"),
    ("45057", "The order does not exist!"),
    ("45031", "The order is finalized"),
    ("45055", "The current order status cannot be cancelled"),
    ("40109", "order cannot be found"),
    ("40768", "order does not exist"),
    ("43025", "Plan order does not exist"),
    ("25204", "Order does not exist"),
    ("24056", "notExisted"),
    ("25597", "The strategy order does not exist"),
]
THROTTLED = [
    ("429", "Too Many Requests"),
    ("1001", "request too frequent"),
    ("25004", "Request too frequent"),
]
TRANSIENT = [
    ("40010", "Request timed out"),
    ("40015", "System is abnormal, please try again later"),
    ("40725", "service return an error"),
    ("40808", "Parameter verification exception"),
    ("45001", "Unknown error"),
    ("40910", "Operation timed out"),
    ("43059", "Request failed, please try again"),
    ("40200", "Server upgrade, please try again later"),
    ("25000", "System busy"),
    ("25001", "System error"),
    ("25003", "Request timed out"),
    ("25113", "Please try again later"),
]
CLOCK = [
    ("40008", "Request timestamp expired"),
    ("40004", "Request timestamp is empty"),
    ("40005", "Invalid ACCESS_TIMESTAMP"),
]
CREDENTIALS = [
    ("40006", "Invalid ACCESS_KEY"),
    ("40009", "sign signature error"),
    ("40011", "Invalid ACCESS_PASSPHRASE"),
    ("40012", "apikey/password is incorrect"),
    ("40014", "Incorrect permissions"),
    ("40018", "Invalid IP"),
    ("40037", "Apikey does not exist"),
    ("40099", "The exchange environment is incorrect"),
]
CONTENT = [
    ("40017", "Parameter verification failed"),
    ("40912", "single cancel cannot exceed 50"),
    ("40924", "orderId and clientOid must have one"),
    ("40402", "orderId or clientOId format error"),
]
WRONG_ACCOUNT = [
    ("40084", "You are in Classic Account mode"),
    ("40085", "You are in Unified Account mode"),
    ("25245", "The account is not the unified account mode"),
]
# Named by the docs without a rule: anything unknown fails, reported with its code.
UNKNOWN = [("41114", "The symbol is under maintenance"), ("49999", "something new")]

GROUPS: dict[str, list[tuple[str, str]]] = {
    "not_open": NOT_OPEN,
    "throttled": THROTTLED,
    "transient": TRANSIENT,
    "clock": CLOCK,
    "credentials": CREDENTIALS,
    "content": CONTENT,
    "wrong_account": WRONG_ACCOUNT,
    "unknown": UNKNOWN,
}
ALL = [(group, code, msg) for group, codes in GROUPS.items() for code, msg in codes]

# The verdict of each group: as an item; as a whole answer (HTTP 400 or 200) for a request
# about no order (a listing, a bulk cancel), one order, several orders.
EXPECTED: dict[str, tuple[Verdict, Verdict, Verdict, Verdict]] = {
    #                 item         orders=0      orders=1        orders=50
    "not_open": (V.NOT_OPEN, V.FAIL, V.NOT_OPEN, V.RETRY),
    "throttled": (V.THROTTLED, V.THROTTLED, V.THROTTLED, V.THROTTLED),
    "transient": (V.RETRY, V.RETRY, V.RETRY, V.RETRY),
    "clock": (V.RESYNC_CLOCK, V.RESYNC_CLOCK, V.RESYNC_CLOCK, V.RESYNC_CLOCK),
    "credentials": (V.CREDENTIALS, V.CREDENTIALS, V.CREDENTIALS, V.CREDENTIALS),
    "content": (V.FAIL, V.FAIL, V.FAIL, V.SPLIT),
    "wrong_account": (V.FAIL, V.WRONG_ACCOUNT, V.WRONG_ACCOUNT, V.WRONG_ACCOUNT),
    "unknown": (V.FAIL, V.FAIL, V.FAIL, V.FAIL),
}
# What still stops or redirects a call when the status says "server trouble": the account's
# refusal and the clock are the exchange talking, whatever the status; everything else is
# asked again.
STOPS_WHATEVER_THE_STATUS = {"credentials", "wrong_account"}
SERVER_TROUBLE = [500, 502, 503, 504, 408, 425]


COLUMN = {0: 1, 1: 2, 50: 3}  # orders named by the request -> column of EXPECTED


@pytest.mark.parametrize(("group", "code", "msg"), ALL, ids=[f"{g}-{c}" for g, c, _ in ALL])
def test_an_item_with_the_code(group: str, code: str, msg: str) -> None:
    assert classify_item(code, msg) is EXPECTED[group][0]
    # The message does not matter once there is a code.
    assert classify_item(code, "anything at all") is EXPECTED[group][0]
    assert classify_item(code, None) is EXPECTED[group][0]


@pytest.mark.parametrize("status", [400, 200, 401, 403, 404])
@pytest.mark.parametrize(("group", "code", "msg"), ALL, ids=[f"{g}-{c}" for g, c, _ in ALL])
def test_a_whole_answer_with_the_code(group: str, code: str, msg: str, status: int) -> None:
    _, listing, one, many = EXPECTED[group]
    for orders, expected in ((0, listing), (1, one), (50, many), (2, many)):
        for readable in (False, True):
            got = classify_answer(status, code, msg, readable=readable, orders=orders)
            assert got is expected, (status, code, orders, readable, got)


@pytest.mark.parametrize("status", SERVER_TROUBLE)
@pytest.mark.parametrize(("group", "code", "msg"), ALL, ids=[f"{g}-{c}" for g, c, _ in ALL])
def test_server_trouble_is_asked_again_whatever_the_code(
    group: str, code: str, msg: str, status: int
) -> None:
    for orders in (0, 1, 50):
        got = classify_answer(status, code, msg, readable=False, orders=orders)
        if group in STOPS_WHATEVER_THE_STATUS:
            assert got is EXPECTED[group][COLUMN[orders]], (status, code, got)
        elif group == "throttled":
            assert got is V.THROTTLED
        elif group == "clock":
            assert got is V.RESYNC_CLOCK
        else:
            assert got is V.RETRY, (status, code, orders, got)


@pytest.mark.parametrize("status", SERVER_TROUBLE)
@pytest.mark.parametrize("code", [None, "00000"])
def test_server_trouble_without_a_refusal_is_asked_again(status: int, code: str | None) -> None:
    for orders in (0, 1, 50):
        for readable in (False, True):
            got = classify_answer(status, code, "Bad Gateway", readable=readable, orders=orders)
            assert got is V.RETRY


@pytest.mark.parametrize(("group", "code", "msg"), [*ALL, ("none", None, None)])
def test_http_429_is_throttled_whatever_the_code(group: str, code: str | None, msg: str) -> None:
    for orders in (0, 1, 50):
        assert classify_answer(429, code, msg, readable=False, orders=orders) is V.THROTTLED


@pytest.mark.parametrize("status", [200, 201, 204])
def test_success_is_ok_only_with_usable_data(status: int) -> None:
    for orders in (0, 1, 50):
        ok = classify_answer(status, "00000", "success", readable=True, orders=orders)
        assert ok is V.OK
        # A success code with null, absent or misshapen data is asked again, never read.
        unusable = classify_answer(status, "00000", "success", readable=False, orders=orders)
        assert unusable is V.RETRY
        assert classify_answer(status, None, None, readable=False, orders=orders) is V.RETRY


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_success_code_with_an_error_status_is_not_a_success(status: int) -> None:
    for orders in (0, 1, 50):
        got = classify_answer(status, "00000", "success", readable=True, orders=orders)
        assert got is V.RETRY


NOT_OPEN_MESSAGES = [
    "The order does not exist",
    "order does not exist",
    "Order not found",
    "order cannot be found",
    "There is no order to cancel",
    "The order is finalized",
    "notExisted",
    "the order has already been cancelled",
    "Order already filled",
]
OTHER_MESSAGES = ["Insufficient permissions", "duplicate clientOrderId", "error", "", None]


@pytest.mark.parametrize("msg", NOT_OPEN_MESSAGES)
def test_without_a_code_a_not_open_message_means_not_open(msg: str) -> None:
    assert classify_item(None, msg) is V.NOT_OPEN
    assert classify_item("", msg) is V.NOT_OPEN
    # A whole answer for one order that says so, without a code: that order's answer.
    assert classify_answer(400, None, msg, readable=False, orders=1) is V.NOT_OPEN
    # About several orders, or none, it is a refusal we do not understand.
    assert classify_answer(400, None, msg, readable=False, orders=50) is V.FAIL
    assert classify_answer(400, None, msg, readable=False, orders=0) is V.FAIL


@pytest.mark.parametrize("msg", OTHER_MESSAGES)
def test_without_a_code_any_other_message_fails(msg: str | None) -> None:
    assert classify_item(None, msg) is V.FAIL
    for orders in (0, 1, 50):
        assert classify_answer(400, None, msg, readable=False, orders=orders) is V.FAIL


@pytest.mark.parametrize("orders", [1, 50])
def test_a_cut_json_refusal_about_orders_is_asked_again_never_failed(orders: int) -> None:
    """A 4xx whose JSON body was cut off says nothing about the orders (found with the one-
    order cancels, which answer every failure with HTTP 400): asked again, bounded."""
    assert classify_answer(400, None, None, readable=False, orders=orders, garbled=True) is V.RETRY
    assert classify_answer(400, None, None, readable=False, orders=0, garbled=True) is V.FAIL


@pytest.mark.parametrize("msg", NOT_OPEN_MESSAGES)
def test_an_unknown_code_is_never_read_as_not_open_from_its_message(msg: str) -> None:
    assert classify_item("49999", msg) is V.FAIL
    assert classify_answer(400, "49999", msg, readable=False, orders=1) is V.FAIL


def test_every_code_in_the_classifier_tables_has_a_row_here() -> None:
    tables = {
        "not_open": _classify.NOT_OPEN_CODES,
        "throttled": _classify.THROTTLE_CODES,
        "transient": _classify.TRANSIENT_CODES,
        "clock": _classify.CLOCK_CODES,
        "credentials": _classify.CREDENTIAL_CODES,
        "content": _classify.CONTENT_CODES,
        "wrong_account": _classify.WRONG_ACCOUNT_CODES,
    }
    for group, table in tables.items():
        assert set(table) == {code for code, _ in GROUPS[group]}, group


def test_classify_code_agrees_with_the_groups() -> None:
    plain = {
        "not_open": V.NOT_OPEN,
        "throttled": V.THROTTLED,
        "transient": V.RETRY,
        "clock": V.RESYNC_CLOCK,
        "credentials": V.CREDENTIALS,
        "content": V.SPLIT,
        "wrong_account": V.WRONG_ACCOUNT,
        "unknown": V.FAIL,
    }
    for group, code, msg in ALL:
        assert classify_code(code, msg) is plain[group], code
    assert classify_code("00000", "success") is V.OK
