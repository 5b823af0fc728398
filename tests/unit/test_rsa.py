"""RSA keys: SHA256withRSA (PKCS#1 v1.5) over the same string as HMAC, checked against the
openssl command; the key validated when the credentials are made, and never shown."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bitget_cancel import CancelEngine, CancelStatus, CancelTarget, Credentials, InvalidCredentials
from bitget_cancel._auth import Signer
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from .rsa_keys import OpensslKey, generate, openssl

BATCH_PATH = "/api/v2/spot/trade/batch-cancel-order"
BODY = b'{"symbol":"BTCUSDT","batchMode":"single","orderList":[{"orderId":"121211212122"}]}'


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> OpensslKey:
    return generate(tmp_path_factory.mktemp("rsa"))


def rsa_credentials(pem: str) -> Credentials:
    return Credentials(api_key="bg_rsa_api_key", passphrase="rsa-pass", rsa_private_key=pem)


def test_post_signature_is_the_one_openssl_makes(key: OpensslKey) -> None:
    signer = Signer(rsa_credentials(key.pem))
    prehash = b"1700000000123POST" + BATCH_PATH.encode() + BODY
    assert signer.sign("1700000000123", "POST", BATCH_PATH, "", BODY) == key.sign(prehash)


def test_get_signature_covers_the_query_string(key: OpensslKey) -> None:
    signer = Signer(rsa_credentials(key.pem))
    path, query = "/api/v2/spot/trade/unfilled-orders", "symbol=BTCUSDT&limit=100"
    expected = key.sign(b"1700000000123GET" + path.encode() + b"?" + query.encode())
    assert signer.sign("1700000000123", "get", path, query, b"") == expected


def test_a_pkcs1_pem_signs_like_its_pkcs8_twin(key: OpensslKey) -> None:
    prehash = b"1700000000999POST" + BATCH_PATH.encode() + b"{}"
    signature = Signer(rsa_credentials(key.traditional_pem)).sign(
        "1700000000999", "POST", BATCH_PATH, "", b"{}"
    )
    assert signature == key.sign(prehash)


def test_headers_are_the_hmac_ones_with_an_rsa_signature(key: OpensslKey) -> None:
    headers = Signer(rsa_credentials(key.pem)).headers(
        "1700000000123", "POST", BATCH_PATH, "", BODY
    )
    assert headers.keys() == {"ACCESS-KEY", "ACCESS-SIGN", "ACCESS-TIMESTAMP",
                              "ACCESS-PASSPHRASE", "Content-Type", "locale"}  # fmt: skip
    assert headers["ACCESS-KEY"] == "bg_rsa_api_key"
    assert headers["ACCESS-PASSPHRASE"] == "rsa-pass"
    assert key.verifies(b"1700000000123POST" + BATCH_PATH.encode() + BODY, headers["ACCESS-SIGN"])
    assert not key.verifies(b"1700000000124POST" + BATCH_PATH.encode() + BODY,
                            headers["ACCESS-SIGN"])  # fmt: skip


async def test_the_engine_signs_its_requests_with_the_rsa_key(key: OpensslKey) -> None:
    async def answer(request: HttpRequest) -> HttpResponse:
        items = [{"orderId": o["orderId"]} for o in json.loads(request.body)["orderList"]]
        body = {"code": "00000", "msg": "success", "requestTime": 1,
                "data": {"successList": items, "failureList": []}}  # fmt: skip
        return HttpResponse(200, json.dumps(body).encode())

    transport = MockTransport(answer)
    async with CancelEngine(rsa_credentials(key.pem), transport=transport) as engine:
        report = await engine.cancel([CancelTarget(symbol="BTCUSDT", order_id="42")])
    assert [o.status for o in report.outcomes] == [CancelStatus.CANCELLED]
    (sent,) = transport.sent
    prehash = sent.headers["ACCESS-TIMESTAMP"].encode() + b"POST" + sent.path.encode() + sent.body
    assert key.verifies(prehash, sent.headers["ACCESS-SIGN"])


def test_exactly_one_of_secret_key_and_rsa_private_key(key: OpensslKey) -> None:
    with pytest.raises(InvalidCredentials, match="not both"):
        Credentials(api_key="k", secret_key="s", passphrase="p", rsa_private_key=key.pem)
    with pytest.raises(InvalidCredentials, match=r"secret_key.*rsa_private_key"):
        Credentials(api_key="k", passphrase="p")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda k: k.pem[: len(k.pem) // 2], "not a PEM private key"),
        (lambda k: k.pem.replace("PRIVATE KEY", "PUBLIC KEY"), "not a PEM private key"),
        (lambda k: k.pem[28:], "not a PEM private key"),  # the BEGIN line cut off
        (lambda k: "".join(k.pem.splitlines()[1:-1]), "not a PEM private key"),  # bare base64
        (lambda k: k.pem.encode(), "rsa_private_key must be a non-empty string"),
        (lambda k: "", "rsa_private_key must be a non-empty string"),
    ],
)
def test_a_bad_key_is_refused_at_construction_without_echoing_it(
    key: OpensslKey, make: Callable[[OpensslKey], Any], message: str
) -> None:
    with pytest.raises(InvalidCredentials, match=message) as info:
        Credentials(api_key="k", passphrase="p", rsa_private_key=make(key))
    shown = f"{info.value}\n{info.value!r}\n{info.value.__cause__!r}\n{info.value.__context__!r}"
    # cryptography's exception is not chained (nor shown in a traceback).
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    assert [f for f in key.fragments() if f in shown] == []


def test_an_encrypted_key_or_a_non_rsa_key_is_refused(tmp_path: Path) -> None:
    encrypted = tmp_path / "encrypted.pem"
    openssl("genrsa", "-aes256", "-passout", "pass:pw", "-out", str(encrypted), "2048")
    with pytest.raises(InvalidCredentials, match="encrypted"):
        Credentials(api_key="k", passphrase="p", rsa_private_key=encrypted.read_text())
    ec = tmp_path / "ec.pem"
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(ec))
    with pytest.raises(InvalidCredentials, match="not an RSA"):
        Credentials(api_key="k", passphrase="p", rsa_private_key=ec.read_text())


def test_from_env_reads_the_pem_text(key: OpensslKey) -> None:
    env = {"BITGET_API_KEY": "k", "BITGET_PASSPHRASE": "p", "BITGET_RSA_PRIVATE_KEY": key.pem}
    creds = Credentials.from_env(env)
    assert (creds.api_key, creds.passphrase, creds.secret_key) == ("k", "p", None)
    assert creds.rsa_private_key == key.pem


def test_from_env_reads_a_pem_squeezed_onto_one_line(key: OpensslKey) -> None:
    one_line = key.pem.strip().replace("\n", "\\n")
    env = {"BITGET_API_KEY": "k", "BITGET_PASSPHRASE": "p", "BITGET_RSA_PRIVATE_KEY": one_line}
    signer = Signer(Credentials.from_env(env))
    assert signer.sign("1", "GET", "/p", "", b"") == key.sign(b"1GET/p")


def test_from_env_reads_the_pem_file(key: OpensslKey) -> None:
    env = {"BITGET_API_KEY": "k", "BITGET_PASSPHRASE": "p",
           "BITGET_RSA_PRIVATE_KEY_FILE": str(key.path)}  # fmt: skip
    assert Credentials.from_env(env).rsa_private_key == key.pem


def test_from_env_names_a_key_file_it_cannot_read(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    env = {"BITGET_API_KEY": "k", "BITGET_PASSPHRASE": "p",
           "BITGET_RSA_PRIVATE_KEY_FILE": str(missing)}  # fmt: skip
    with pytest.raises(InvalidCredentials, match=r"BITGET_RSA_PRIVATE_KEY_FILE.*nowhere\.pem"):
        Credentials.from_env(env)


def test_from_env_refuses_two_keys(key: OpensslKey) -> None:
    env = {"BITGET_API_KEY": "k", "BITGET_PASSPHRASE": "p", "BITGET_SECRET_KEY": "hunter2",
           "BITGET_RSA_PRIVATE_KEY_FILE": str(key.path)}  # fmt: skip
    with pytest.raises(InvalidCredentials, match="only one of") as info:
        Credentials.from_env(env)
    assert "hunter2" not in str(info.value)


def test_from_env_without_any_key_names_every_way_to_give_one() -> None:
    with pytest.raises(InvalidCredentials) as info:
        Credentials.from_env({"BITGET_API_KEY": "k", "BITGET_PASSPHRASE": "p"})
    for name in ("BITGET_SECRET_KEY", "BITGET_RSA_PRIVATE_KEY", "BITGET_RSA_PRIVATE_KEY_FILE"):
        assert name in str(info.value)


def test_repr_says_rsa_and_hides_the_key(key: OpensslKey) -> None:
    creds = rsa_credentials(key.pem)
    texts = [repr(creds), str(creds), f"{creds}", str([creds]), repr(Signer(creds))]
    assert repr(creds) == "Credentials(api_key='bg_r…', rsa_private_key='***', passphrase='***')"
    assert [f for f in key.fragments() if f in "\n".join(texts)] == []
    assert "rsa-pass" not in "\n".join(texts)


_WITHOUT_CRYPTOGRAPHY = """
import sys

class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "cryptography":
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, Absent())
from bitget_cancel import Credentials, InvalidCredentials
from bitget_cancel._auth import Signer

hmac_credentials = Credentials(api_key="k", secret_key="s", passphrase="p")
print(Signer(hmac_credentials).sign("1", "GET", "/p", "", b""))
try:
    Credentials(api_key="k", passphrase="p", rsa_private_key=sys.stdin.read())
except InvalidCredentials as exc:
    print(f"refused: {exc}")
print(sorted(m for m in sys.modules if m.startswith("cryptography")))
"""


def test_without_cryptography_hmac_works_and_rsa_says_what_to_install(key: OpensslKey) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_CRYPTOGRAPHY],
        input=key.pem, capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    hmac_line, refused, modules = done.stdout.splitlines()
    expected = base64.b64encode(hmac.new(b"s", b"1GET/p", hashlib.sha256).digest()).decode()
    assert hmac_line == expected
    assert refused == (
        "refused: RSA keys need the 'cryptography' package: pip install 'bitget-cancel[rsa]'"
    )
    assert modules == "[]"
    assert [f for f in key.fragments() if f in done.stdout + done.stderr] == []
