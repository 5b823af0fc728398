"""Budget URLs in every spelling: the password is read right and never shown, in exceptions,
reprs, logs or the CLI's stderr; a malformed URL names the part at fault."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from bitget_cancel import InvalidBudgetStore
from bitget_cancel._redis_budget import RedisBudgets
from bitget_cancel._redis_url import parse_budget_url

from .helpers import providers
from .server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
# Each holds a character that ends a URL part when unencoded: / # ? @ : (and a %).
SECRETS = ["pa/ss:w0rd", "pa#ss", "pa?ss=1", "p@ss@x", "pa:ss", "s3cret", "p%2Fx%zz"]


def spellings(
    secret: str, host: str = "127.0.0.1:6379", user: str = "alice"
) -> list[tuple[str, str | None]]:
    """(url, username) pairs that all carry ``secret`` as the password."""
    encoded = urllib.parse.quote(secret, safe="")
    found = [
        (f"redis://:{encoded}@{host}/0", None),
        (f"redis://{encoded}@{host}/0", None),
        (f"redis://{user}:{encoded}@{host}/0", user),
    ]
    if "%" not in secret:  # unencoded: a literal % would read as an escape
        found += [
            (f"redis://:{secret}@{host}/0", None),
            (f"redis://{user}:{secret}@{host}/0", user),
        ]
        if ":" not in secret:  # without the colon, a colon in it would start the password
            found.append((f"redis://{secret}@{host}/0", None))
    return found


@pytest.mark.parametrize(
    ("url", "user", "secret"),
    [(url, user, secret) for secret in SECRETS for url, user in spellings(secret)],
)
def test_every_spelling_reads_the_password_and_never_shows_it(
    url: str, user: str | None, secret: str
) -> None:
    address = parse_budget_url(url)
    assert address.password == secret
    assert address.username == user
    assert address.hosts == (("127.0.0.1", 6379),)
    assert address.db == 0
    provider = RedisBudgets(url)
    for text in (repr(address), address.shown, repr(provider)):
        assert secret not in text
        assert urllib.parse.quote(secret, safe="") not in text
        assert "***@127.0.0.1:6379" in text


@pytest.mark.parametrize(
    ("url", "part"),
    [
        ("127.0.0.1:6379", "no scheme"),
        ("http://:hunter2@127.0.0.1:6379/0", "unknown scheme 'http'"),
        ("redis://:hunter2", "no name for the host"),
        ("redis://:hunter2@127.0.0.1:port/0", "port of the host"),
        ("redis://:hunter2@127.0.0.1:99999/0", "port of the host"),
        ("redis://:hunter2@/0", "no host"),
        ("redis://:hunter2@bad_host!/0", "the host is not"),
        ("redis://:hunter2@127.0.0.1:6379/db", "database must be a number"),
        ("redis://:hunter2@127.0.0.1:6379/0/1", "database number alone"),
        ("redis://:hunter2@h1:1,h2:2/0", "several hosts"),
        ("redis://:hunter2@127.0.0.1:6379/0#hunter2", "'#' after the host"),
        ("redis://:hunter2@127.0.0.1:6379/0?password=hunter2", "unknown option 'password'"),
        ("redis://:hunter2@127.0.0.1:6379/0?ssl_ca_certs=/ca.pem", "needs TLS"),
        ("rediss://:hunter2@127.0.0.1/0?ssl_cert_reqs=hunter2", "ssl_cert_reqs must be"),
        ("redis+cluster://:hunter2@h1:7000,h2:7001/1", "database 0 only"),
        ("redis+sentinel://:hunter2@h1:26379", "master's name"),
        ("redis+sentinel://:hunter2@h1:26379/bad$name/0", "master's name"),
    ],
)
def test_a_malformed_url_names_the_part_at_fault_without_the_secret(url: str, part: str) -> None:
    with pytest.raises(InvalidBudgetStore) as info:
        RedisBudgets(url)
    assert part in str(info.value)
    assert "hunter2" not in str(info.value)


def test_the_deployment_forms() -> None:
    cluster = parse_budget_url("rediss+cluster://:pw@10.0.0.1:7000,10.0.0.2,[::1]:7002")
    assert (cluster.kind, cluster.tls) == ("cluster", True)
    assert cluster.hosts == (("10.0.0.1", 7000), ("10.0.0.2", 6379), ("::1", 7002))
    sentinel = parse_budget_url("redis+sentinel://s1:26379,s2/mymaster/3")
    assert (sentinel.kind, sentinel.master, sentinel.db) == ("sentinel", "mymaster", 3)
    assert sentinel.hosts == (("s1", 26379), ("s2", 26379))
    assert sentinel.shown == "redis+sentinel://s1:26379,s2:26379/mymaster/3"
    tls = parse_budget_url("rediss://h/0?ssl_ca_certs=/etc/ca.pem&ssl_cert_reqs=required")
    assert tls.tls_options == (("ssl_ca_certs", "/etc/ca.pem"), ("ssl_cert_reqs", "required"))


@pytest.fixture
def guarded(tmp_path: Path) -> RedisServer:
    return RedisServer(tmp_path, password="p@ss/w#rd?:x")


async def test_a_password_full_of_separators_works_in_every_spelling(
    guarded: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bitget_cancel")
    secret = "p@ss/w#rd?:x"
    guarded.start()
    try:
        # requirepass sets the password of the user "default"
        for url, _ in spellings(secret, f"127.0.0.1:{guarded.port}", "default"):
            async with providers(url, 1, known_accounts=("acct",)) as (provider,):
                slot = await provider.budget("acct", "ep", 5).acquire()
                assert slot is not None
                assert slot.shared, url  # Redis took the password
                slot.give_back()
        wrong = f"redis://:{secret[:-1]}@127.0.0.1:{guarded.port}/0"
        async with providers(wrong, 1) as (provider,):
            slot = await provider.budget("acct", "ep", 5).acquire()
            assert slot is not None
            assert not slot.shared
            assert provider.degraded
    finally:
        guarded.close()
    assert "not answering" in caplog.text
    assert secret[:4] not in caplog.text
    assert "p%40ss" not in caplog.text


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BITGET_", "REDIS_"))}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), base.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "bitget_cancel", *args],
        capture_output=True, text=True, timeout=120, env={**base, **env}, cwd=ROOT, check=False,
    )  # fmt: skip


def test_the_command_line_never_prints_the_password(tmp_path: Path) -> None:
    targets = tmp_path / "orders.jsonl"
    targets.write_text(json.dumps({"symbol": "BTCUSDT", "orderId": "1"}) + "\n")
    env = {"BITGET_API_KEY": "k", "BITGET_SECRET_KEY": "s", "BITGET_PASSPHRASE": "p"}
    nowhere = f"http://127.0.0.1:{free_port()}"
    cancel = ["cancel", "--file", str(targets), "--base-url", nowhere, "--deadline", "1"]
    secret = "hunter2/#?@:x"
    for url, part in [
        (f"redis://:{secret}@127.0.0.1:port/0", "port of the host"),  # through the flag
        (f"redis:/:{secret}@127.0.0.1", "no scheme"),
    ]:
        done = run_cli(*cancel, "--budget-url", url, env=env)
        assert done.returncode == 2, done.stderr
        assert part in done.stderr
        assert "hunter2" not in done.stderr + done.stdout
    # Well formed, through the environment, nobody answering: the fallback is reported.
    unreachable = f"redis://{urllib.parse.quote(secret, safe='')}@127.0.0.1:{free_port()}/0"
    done = run_cli(*cancel, env={**env, "BITGET_BUDGET_URL": unreachable})
    assert "not answering" in done.stderr
    assert "***@127.0.0.1" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
