"""The exchange options of ``orders``, ``cancel`` and ``panic`` and their environment variables:
demo trading (40099 is refused credentials, exit 3), the account type, a proxy (explicit or from
HTTP_PROXY), and a rate budget shared through a real Redis."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bitget_cancel._redis_budget import account_key
from bitget_cancel.cli import main
from tests.e2e.forward_proxy import ForwardProxy
from tests.redis.server import RedisServer, free_port

from .helpers import BackgroundSim, run_cli

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                   "all_proxy", "NO_PROXY", "no_proxy")  # fmt: skip


def _targets_file(bg: BackgroundSim, path: Path, n: int = 30) -> None:
    orders = bg.call(lambda: bg.sim.place_orders("BTCUSDT", n, "opt"))
    path.write_text("".join(
        json.dumps({"symbol": o.symbol, "orderId": o.order_id}) + "\n" for o in orders
    ))  # fmt: skip


# -- demo trading ------------------------------------------------------------------------------


@pytest.fixture
def demo_sim(bg_sim: BackgroundSim) -> BackgroundSim:
    """The simulator as Bitget's demo-trading environment: the paptrading header or 40099."""
    bg_sim.call(setattr, bg_sim.sim, "demo_trading", True)
    return bg_sim


def test_a_demo_key_without_demo_trading_is_refused_credentials_with_what_to_change(
    demo_sim: BackgroundSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orders.jsonl"
    _targets_file(demo_sim, path)

    cancel = main(["cancel", "--file", str(path)])
    cancel_out = " ".join(capsys.readouterr().out.split())
    panic = main(["panic", "--yes", "--json"])
    panic_report = json.loads(capsys.readouterr().out)
    orders = main(["orders"])
    orders_err = " ".join(capsys.readouterr().err.split())

    assert (cancel, panic, orders) == (3, 3, 3)
    assert "40099" in cancel_out
    assert "--demo-trading" in cancel_out  # the engine's message says what to change
    assert panic_report["refusedCode"] == "40099"
    assert any("--demo-trading" in p for p in panic_report["problems"])
    assert "40099" in orders_err
    assert "a demo-trading key needs --demo-trading (BITGET_DEMO_TRADING=1)" in orders_err
    assert demo_sim.open_orders() == 30


@pytest.mark.parametrize("how", ["flag", "env"])
def test_demo_trading_from_the_flag_or_the_environment_closes_them(
    how: str,
    demo_sim: BackgroundSim,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "orders.jsonl"
    _targets_file(demo_sim, path)
    flag = ["--demo-trading"] if how == "flag" else []
    if how == "env":
        monkeypatch.setenv("BITGET_DEMO_TRADING", "1")

    listed = main(["orders", "--json", *flag])
    count = json.loads(capsys.readouterr().out)["count"]
    cancelled = main(["cancel", "--file", str(path), *flag])

    assert (listed, count, cancelled) == (0, 30, 0)
    assert demo_sim.open_orders() == 0
    assert demo_sim.call(lambda: demo_sim.sim.stats.total_violations) == 0


def test_no_demo_trading_on_the_command_line_wins_over_the_environment(
    demo_sim: BackgroundSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    demo_sim.call(setattr, demo_sim.sim, "demo_trading", False)  # a live environment now
    demo_sim.call(demo_sim.sim.place_orders, "BTCUSDT", 4)
    monkeypatch.setenv("BITGET_DEMO_TRADING", "1")

    with_env = main(["orders", "--json"])
    capsys.readouterr()
    overridden = main(["orders", "--json", "--no-demo-trading"])

    assert (with_env, overridden) == (3, 0)
    assert json.loads(capsys.readouterr().out)["count"] == 4


@pytest.mark.parametrize(
    ("name", "value"), [("BITGET_DEMO_TRADING", "maybe"), ("BITGET_ACCOUNT", "unified")]
)
def test_an_environment_variable_it_cannot_mean_is_bad_input_before_any_request(
    name: str,
    value: str,
    bg_sim: BackgroundSim,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(name, value)

    codes = [main(["orders"]), main(["panic", "--yes"])]

    assert codes == [2, 2]
    assert f"{name}={value!r}" in capsys.readouterr().err
    assert bg_sim.requests_sent() == 0


# -- account -----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["flag", "env"])
def test_the_account_type_reaches_the_engine(
    how: str,
    bg_sim: BackgroundSim,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A unified account answers the classic (v2) API with 40085: told "classic", the engine
    # asks v2 only, and the listing is refused.
    bg_sim.call(setattr, bg_sim.sim, "account", "uta")
    bg_sim.call(bg_sim.sim.place_orders, "BTCUSDT", 3)
    flag = ["--account", "classic"] if how == "flag" else []
    if how == "env":
        monkeypatch.setenv("BITGET_ACCOUNT", "classic")

    code = main(["orders", "--json", *flag])

    listing = json.loads(capsys.readouterr().out)
    assert code == 4
    assert listing["complete"] is False
    assert all("40085" in problem for problem in listing["problems"])
    assert len(listing["problems"]) == 3  # one per kind
    v3 = bg_sim.call(lambda: [p for p in bg_sim.sim.stats.requests if p.startswith("/api/v3/")])
    assert v3 == []


# -- proxies -----------------------------------------------------------------------------------


@pytest.fixture
def proxy(bg_sim: BackgroundSim, monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    """A forward proxy on 127.0.0.1 beside the simulator; no proxy variable in the environment."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    forward = ForwardProxy()
    bg_sim.run(forward.__aenter__())
    try:
        yield forward
    finally:
        bg_sim.run(forward.__aexit__(None, None, None))


def test_proxy_carries_every_request(
    bg_sim: BackgroundSim, proxy: ForwardProxy, tmp_path: Path
) -> None:
    path = tmp_path / "orders.jsonl"
    _targets_file(bg_sim, path, 120)

    listed = main(["orders", "--proxy", proxy.url])
    cancelled = main(["cancel", "--file", str(path), "--proxy", proxy.url])

    assert (listed, cancelled) == (0, 0)
    assert bg_sim.open_orders() == 0
    assert len(proxy.passed) == bg_sim.requests_sent() >= 5  # clock, 3 listings, 3 batches
    assert {p.url.partition("/api/")[0] for p in proxy.passed} == {bg_sim.url}


def test_trust_env_takes_the_proxy_from_http_proxy_and_only_then(
    bg_sim: BackgroundSim, proxy: ForwardProxy
) -> None:
    bg_sim.call(bg_sim.sim.place_orders, "BTCUSDT", 5)
    env = {**bg_sim.env(), "HTTP_PROXY": proxy.url}

    ignored = run_cli("orders", "--json", env=env)
    direct = bg_sim.requests_sent()
    trusted = run_cli("orders", "--json", "--trust-env", env=env)

    assert (ignored.returncode, trusted.returncode) == (0, 0), trusted.stderr
    assert json.loads(trusted.stdout)["count"] == json.loads(ignored.stdout)["count"] == 5
    assert direct > 0
    assert len(proxy.passed) == bg_sim.requests_sent() - direct > 0


def test_a_proxy_url_it_cannot_use_is_bad_input_without_its_password(
    bg_sim: BackgroundSim, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["orders", "--proxy", "socks5://user:hunter2-do-not-print@127.0.0.1:1080"])

    err = capsys.readouterr().err
    assert code == 2
    assert "proxy" in err
    assert "hunter2-do-not-print" not in err
    assert bg_sim.requests_sent() == 0


# -- a budget shared through Redis -------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.directory.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_budget_url_shares_the_budget_through_redis(
    how: str,
    bg_sim: BackgroundSim,
    redis_server: RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "orders.jsonl"
    _targets_file(bg_sim, path, 200)
    flag = ["--budget-url", redis_server.url] if how == "flag" else []
    if how == "env":
        monkeypatch.setenv("BITGET_BUDGET_URL", redis_server.url)

    code = main(["cancel", "--file", str(path), "--json", *flag])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["budgetFallbacks"] == 0
    assert report["counts"]["cancelled"] == 200
    client = redis.Redis(host="127.0.0.1", port=redis_server.port)
    try:
        keys = client.keys("*")
    finally:
        client.close()
    assert keys  # the slots were taken in Redis
    assert not any(b"opt" in key or bg_sim.sim.api_key.encode() in key for key in keys)


def test_an_unreachable_budget_store_never_blocks_the_cancel_and_is_reported(
    bg_sim: BackgroundSim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orders.jsonl"
    _targets_file(bg_sim, path, 60)
    nowhere = f"redis://127.0.0.1:{free_port()}/0"

    code = main(["cancel", "--file", str(path), "--budget-url", nowhere])

    out = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert "shared budget unreachable" in out
    assert bg_sim.open_orders() == 0
    assert bg_sim.call(lambda: bg_sim.sim.stats.pacing_429) == 0


@pytest.mark.parametrize("how", ["flag", "env"])
def test_account_id_names_the_budget_in_redis_never_the_key(
    how: str,
    bg_sim: BackgroundSim,
    redis_server: RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two API keys of one account share one budget when named by --account-id (or
    BITGET_ACCOUNT_ID): the budget in Redis is keyed on a hash of that name."""
    path = tmp_path / "orders.jsonl"
    _targets_file(bg_sim, path, 60)
    flag = ["--account-id", "acct-7"] if how == "flag" else []
    if how == "env":
        monkeypatch.setenv("BITGET_ACCOUNT_ID", "acct-7")

    code = main(["cancel", "--file", str(path), "--json", "--budget-url", redis_server.url, *flag])

    assert code == 0
    assert json.loads(capsys.readouterr().out)["counts"]["cancelled"] == 60
    client = redis.Redis(host="127.0.0.1", port=redis_server.port)
    try:
        keys = [k.decode() if isinstance(k, bytes) else k for k in client.keys("*")]
    finally:
        client.close()
    # The engine hashes the account id (never keeps it), and the store hashes that again.
    hashed = hashlib.sha256(b"acct-7").hexdigest()[:16]
    assert any(account_key(hashed) in key for key in keys), keys
    assert not any("acct-7" in key for key in keys)
