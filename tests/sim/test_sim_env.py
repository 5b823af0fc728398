"""Environment and plumbing: demo-trading header, RSA keys, dropped connections, busy ports."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bitget_cancel.sim import SimBindError, SimExchange, SimKey

from .conftest import BATCH, TIME, UNFILLED, Api

pytest_plugins = ["bitget_cancel.sim.pytest_plugin"]

ApiFor = Callable[[SimExchange], Api]
PAPER = {"paptrading": "1"}


async def test_demo_trading_requires_the_header_and_live_refuses_it(
    sim_factory: Any, api_for: ApiFor
) -> None:
    demo = api_for(await sim_factory(demo_trading=True))
    live = api_for(await sim_factory(demo_trading=False))
    either = api_for(await sim_factory())
    for api, headers, code in (
        (demo, PAPER, "00000"),
        (demo, {}, "40099"),
        (demo, {"paptrading": "0"}, "40099"),
        (live, {}, "00000"),
        (live, PAPER, "40099"),
        (either, PAPER, "00000"),
        (either, {}, "00000"),
    ):
        status, answer = await api.get(UNFILLED, headers=headers)
        assert answer["code"] == code, (api.sim.demo_trading, headers)
        if code == "40099":
            assert (status, answer["msg"]) == (400, "exchange environment is incorrect")
    assert demo.sim.stats.violations == {"environment": 2}
    assert live.sim.stats.violations == {"environment": 1}
    async with demo.session.get(demo.sim.base_url + TIME) as resp:
        assert resp.status == 200  # public endpoints need no header


@pytest.fixture(scope="module")
def rsa_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A private key file (made by openssl) and its public key in PEM."""
    path = tmp_path_factory.mktemp("rsa") / "key.pem"
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    public = subprocess.run(
        ["openssl", "pkey", "-in", str(path), "-pubout"], check=True, capture_output=True
    ).stdout
    return path, public


def openssl_signer(key_path: Path) -> Callable[[str], str]:
    """SHA256withRSA by the openssl command: independent of the simulator's code."""

    def sign(prehash: str) -> str:
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(key_path)],
            input=prehash.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return base64.b64encode(signature).decode()

    return sign


async def test_an_rsa_key_is_verified_against_its_public_key(
    sim_factory: Any, api_for: ApiFor, rsa_pair: tuple[Path, bytes]
) -> None:
    key_path, public_pem = rsa_pair
    sim = await sim_factory(api_key="rsa-key", rsa_public_key=public_pem)
    api = api_for(sim)
    api.sign_with = openssl_signer(key_path)
    order = sim.place_order("BTCUSDT")
    status, answer = await api.batch("BTCUSDT", [{"orderId": order.order_id}])
    assert (status, len(answer["data"]["successList"])) == (200, 1)
    status, answer = await api.get(UNFILLED, {"symbol": "BTCUSDT"})  # the query is signed too
    assert (status, answer["data"]) == (200, [])
    # Another key's signature, a tampered one, or an HMAC one: refused.
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    api.sign_with = lambda text: base64.b64encode(
        stranger.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    assert (await api.get(UNFILLED))[1]["code"] == "40009"
    api.sign_with = lambda text: "not base64!"
    assert (await api.get(UNFILLED))[1]["code"] == "40009"
    api.sign_with = None  # HMAC with the default secret
    assert (await api.get(UNFILLED))[1]["code"] == "40009"
    assert sim.stats.violations == {"signature": 3}


async def test_rsa_and_hmac_keys_side_by_side(
    sim_factory: Any, api_for: ApiFor, rsa_pair: tuple[Path, bytes]
) -> None:
    key_path, public_pem = rsa_pair
    sim = await sim_factory(keys=[SimKey("rsa-key", "rsa-pass", rsa_public_key=public_pem)])
    hmac_api, rsa_api = api_for(sim), api_for(sim)
    rsa_api.api_key, rsa_api.passphrase = "rsa-key", "rsa-pass"
    rsa_api.sign_with = openssl_signer(key_path)
    assert (await hmac_api.get(UNFILLED))[0] == 200
    assert (await rsa_api.get(UNFILLED))[0] == 200
    assert "hidden-secret" not in repr(SimKey("k", "p", secret_key="hidden-secret"))
    assert "PUBLIC KEY" not in repr(SimKey("k", "p", rsa_public_key=public_pem))


def test_bad_keys_are_refused_when_configured(rsa_pair: tuple[Path, bytes]) -> None:
    _, public_pem = rsa_pair
    with pytest.raises(ValueError, match="exactly one"):
        SimKey("k", "p")
    with pytest.raises(ValueError, match="exactly one"):
        SimKey("k", "p", secret_key="s", rsa_public_key=public_pem)
    with pytest.raises(ValueError, match="PEM"):
        SimExchange(rsa_public_key="-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----")
    ec_key = serialization.load_pem_private_key(
        subprocess.run(
            ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            check=True,
            capture_output=True,
        ).stdout,
        password=None,
    )
    ec_public = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="not an RSA key"):
        SimExchange(rsa_public_key=ec_public)
    with pytest.raises(ValueError, match="twice"):
        SimExchange(keys=[SimKey("sim-key", "p", secret_key="s")])


async def test_a_client_dropping_the_connection_logs_no_traceback(
    sim: SimExchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    head = (
        f"POST {BATCH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 400\r\nACCESS-KEY: sim-key\r\n\r\n"
    )
    _, writer = await asyncio.open_connection(sim.host, sim.port)
    writer.write(head.encode() + b'{"symbol": "BTC')  # then gone, mid-body
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.transport.abort()
    await asyncio.sleep(0.1)
    assert [r for r in caplog.records if r.exc_info] == []
    assert sim.stats.requests == {BATCH: 1}


async def test_a_busy_port_is_one_clear_error(sim: SimExchange) -> None:
    second = SimExchange(port=sim.port)
    with pytest.raises(SimBindError) as caught:
        await second.start()
    message = str(caught.value)
    assert isinstance(caught.value, OSError)
    assert f"cannot serve on 127.0.0.1:{sim.port}" in message
    assert "in use" in message
    assert "\n" not in message


def test_cryptography_is_imported_only_for_rsa_keys() -> None:
    code = (
        "import sys\n"
        "from bitget_cancel.sim import SimExchange\n"
        "SimExchange()\n"
        "print('cryptography' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
    )
    assert out.stdout.strip() == "False"
