"""--deadline holds for every listing, counted from the command's start (the warm-up included),
and a failed listing never looks like a clean one on stdout.

A simulator whose answers take longer than the deadline, and a host that accepts connections
but never answers. What is asserted is what was sent and what was said, never how long it took.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import pytest

from .helpers import BackgroundSim, clean_env, command, run_cli
from .terminal import Terminal

LISTINGS = (
    "/api/v2/spot/trade/unfilled-orders",
    "/api/v2/spot/trade/current-plan-order",
    "/api/v3/trade/unfilled-orders",
    "/api/v3/trade/unfilled-strategy-orders",
)


@pytest.fixture
def late_sim() -> Iterator[BackgroundSim]:
    """Every answer takes 3 s: the warm-up alone outlasts a deadline of 1 s."""
    bg = BackgroundSim(latency_ms=(3000.0, 3000.0), seed=2)
    bg.call(bg.sim.place_orders, "BTCUSDT", 5)
    try:
        yield bg
    finally:
        bg.close()


@pytest.fixture
def silent_host() -> Iterator[str]:
    """A base URL whose host accepts connections (the kernel's backlog) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def _env(base_url: str) -> dict[str, str]:
    return {
        **clean_env(),
        "BITGET_API_KEY": "k",
        "BITGET_SECRET_KEY": "s",
        "BITGET_PASSPHRASE": "p",
        "BITGET_BASE_URL": base_url,
    }


def _listing_requests(bg: BackgroundSim) -> int:
    return sum(bg.requests_sent(path) for path in LISTINGS)


def test_orders_counts_the_warm_up_against_its_deadline(late_sim: BackgroundSim) -> None:
    # The warm-up's answer would come after the deadline: nothing is listed after it.
    result = run_cli("orders", "--deadline", "1", env=late_sim.env())

    assert result.returncode == 4, result.stderr
    assert _listing_requests(late_sim) == 0
    assert "did not answer within the deadline of 1s" in " ".join(result.stderr.split())
    assert "INCOMPLETE" in result.stdout
    assert not result.stdout.startswith("Open")


@pytest.mark.parametrize("account", ["auto", "classic"])
def test_orders_against_a_host_that_never_answers_says_so_and_prints_no_clean_result(
    silent_host: str, account: str
) -> None:
    table = run_cli("orders", "--deadline", "1", "--account", account, env=_env(silent_host))
    csv = run_cli("orders", "--deadline", "1", "--csv", env=_env(silent_host))

    assert (table.returncode, csv.returncode) == (4, 4)
    said = " ".join(table.stderr.split())
    assert f"the exchange at {silent_host} did not answer within the deadline of 1s" in said
    assert "INCOMPLETE LISTING" in said
    assert "warm-up: no answer" not in said  # cut by the deadline, not waited for
    assert "Open:" not in table.stdout
    assert csv.stdout == ""  # not even a header that cancel --file could take as "nothing"


def test_a_failed_csv_listing_piped_into_cancel_is_bad_input_there(silent_host: str) -> None:
    env = _env(silent_host)
    lister = subprocess.Popen(
        command("orders", "--deadline", "1", "--csv"), stdout=subprocess.PIPE, env=env
    )
    assert lister.stdout is not None
    canceller = subprocess.run(
        command("cancel", "--file", "-"),
        stdin=lister.stdout,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    lister.stdout.close()

    assert lister.wait(timeout=120) == 4
    assert canceller.returncode == 2
    assert "no targets in standard input" in canceller.stderr


def test_the_panic_prompt_listing_holds_the_deadline_and_says_nothing_is_known(
    late_sim: BackgroundSim,
) -> None:
    with Terminal("panic", "--deadline", "1", env=late_sim.env()) as terminal:
        terminal.expect("to go on: ")
        terminal.send_keys("no\n")
        assert terminal.wait() == 2
    text = " ".join(terminal.text.split())
    assert _listing_requests(late_sim) == 0
    assert late_sim.cancel_requests() == 0
    assert "did not answer within the deadline of 1s" in text
    assert "Nothing is open" not in text
    assert "What is open is not known" in text
    assert text.index("INCOMPLETE LISTING") < text.index("to go on:")


def test_a_panic_against_a_host_that_never_answers_says_the_exchange_did_not_answer(
    silent_host: str,
) -> None:
    result = run_cli("panic", "--yes", "--deadline", "1", "--json", env=_env(silent_host))

    assert result.returncode == 4
    assert "the exchange did not answer any listing" in result.stdout


@pytest.mark.parametrize("content", ["", "symbol,orderId,clientOid,kind\n"])
def test_cancel_with_no_targets_is_bad_input(content: str) -> None:
    result = run_cli("cancel", "--file", "-", stdin=content)

    assert result.returncode == 2
    assert "no targets in standard input" in result.stderr
