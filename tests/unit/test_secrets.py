"""The secret key, the RSA private key and the passphrase never appear in logs, reprs,
exception texts or the JSON report, through every failure path, at DEBUG logging (virtual
time)."""

from __future__ import annotations

import json
import logging
import random
import traceback
from pathlib import Path

import pytest

from bitget_cancel import CancelEngine, CancelTarget, Credentials, InvalidCredentials
from bitget_cancel._auth import Signer
from bitget_cancel._exceptions import TransportError
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from .rsa_keys import OpensslKey, generate
from .scripted_exchange import ALL_STEPS, ScriptedExchange, Step

SECRET = "S3CRET-k3y-0f-th3-acc0unt-xyz"
PASSPHRASE = "PaSS-phr4se-qwerty"
CREDS = Credentials(api_key="visible-api-key", secret_key=SECRET, passphrase=PASSPHRASE)


@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory: pytest.TempPathFactory) -> OpensslKey:
    return generate(tmp_path_factory.mktemp("rsa"))


@pytest.fixture(params=["hmac", "rsa"])
def creds(request: pytest.FixtureRequest, rsa_key: OpensslKey) -> Credentials:
    if request.param == "hmac":
        return CREDS
    return Credentials(
        api_key="visible-api-key", passphrase=PASSPHRASE, rsa_private_key=rsa_key.pem
    )


def leaks(text: str, rsa_key: OpensslKey | None = None) -> list[str]:
    fragments = rsa_key.fragments() if rsa_key is not None else []
    return [s for s in (SECRET, PASSPHRASE, *fragments) if s in text]


def book(exchange: ScriptedExchange, n: int) -> list[CancelTarget]:
    targets = []
    for i in range(n):
        exchange.place("BTCUSDT", str(100 + i), f"c{i}")
        if i % 2:
            targets.append(CancelTarget(symbol="BTCUSDT", client_oid=f"c{i}"))
        else:
            targets.append(CancelTarget(symbol="BTCUSDT", order_id=str(100 + i)))
    return targets


class Weird(Exception):
    pass


@pytest.mark.parametrize("path", [*ALL_STEPS, "skew", "no_clock", "internal", "deadline"])
async def test_no_failure_path_shows_the_secrets(
    path: str,
    creds: Credentials,
    rsa_key: OpensslKey,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, this package's and aiohttp's
    exchange = ScriptedExchange(
        steps=[Step(path, seed=3)] * 3 if path in ALL_STEPS else [],
        server_time_offset=-45.0 if path in ("skew", "no_clock") else 0.0,
    )
    targets = book(exchange, 120)

    async def handle(request: HttpRequest) -> HttpResponse:
        if path == "no_clock" and request.path.endswith("/public/time"):
            raise TransportError("ServerDisconnectedError")
        if path == "internal" and len(exchange.bodies) == 1:
            exchange.bodies.append({})
            # A transport (or a bug) that puts the request into an exception's text.
            raise Weird(f"unexpected failure while sending {request!r}")
        return await exchange.handle(request)

    transport = MockTransport(handle)
    engine = CancelEngine(
        creds,
        transport=transport,
        wall_clock=exchange.wall_clock,
        max_attempts=4,
        request_timeout=1.0,
        rng=random.Random(0),
    )
    texts = [repr(engine), str(engine), repr(creds), str(creds), repr(Signer(creds))]
    async with engine:
        report = await engine.cancel(targets, deadline=0.5 if path == "deadline" else None)
    texts += [repr(report), json.dumps(report.to_dict())]
    texts += [repr(o) for o in report.outcomes]
    texts += [repr(r) for r in transport.sent]  # what a debugging user would print
    texts += [caplog.text, *capsys.readouterr()]
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    assert report.outcomes
    assert leaks("\n".join(texts), rsa_key) == []


def test_credential_errors_never_echo_a_value() -> None:
    texts = []
    for fields in (
        {"api_key": SECRET, "secret_key": "", "passphrase": PASSPHRASE},
        {"api_key": "", "secret_key": SECRET, "passphrase": PASSPHRASE},
        {"api_key": "k", "secret_key": SECRET, "passphrase": b"PaSS-phr4se-qwerty"},
        {"api_key": "k", "secret_key": 12345, "passphrase": PASSPHRASE},
    ):
        with pytest.raises(InvalidCredentials) as info:
            Credentials(**fields)
        texts += [str(info.value), repr(info.value)]
    with pytest.raises(InvalidCredentials) as info:
        Credentials.from_env({"BITGET_API_KEY": "k", "BITGET_SECRET_KEY": SECRET})
    texts += [str(info.value)]
    assert leaks("\n".join(texts)) == []


def test_reprs_of_everything_holding_a_secret_mask_it() -> None:
    signer = Signer(CREDS)
    headers = signer.headers("1", "POST", "/p", "", b"{}")
    request = HttpRequest("POST", "/p", "", b"{}", headers, 5.0)
    texts = [repr(CREDS), str(CREDS), repr(signer), repr(request), str(request)]
    assert leaks("\n".join(texts)) == []
    assert "visi" in repr(CREDS)  # the api key's start helps tell accounts apart


def test_rsa_key_errors_never_echo_the_key(rsa_key: OpensslKey, tmp_path: Path) -> None:
    texts = []
    pem = rsa_key.pem
    lines = pem.splitlines(keepends=True)
    a_line_lost = "".join(lines[:5] + lines[6:])
    for broken in (pem[:-40], pem.replace("A", "*"), pem[40:], a_line_lost, pem.encode()):
        with pytest.raises(InvalidCredentials) as info:
            Credentials(api_key="k", passphrase=PASSPHRASE, rsa_private_key=broken)  # type: ignore[arg-type]
        texts += [str(info.value), repr(info.value)]
        texts.append("".join(traceback.format_exception(info.value)))
    with pytest.raises(InvalidCredentials) as info:
        Credentials(api_key="k", secret_key=SECRET, passphrase=PASSPHRASE, rsa_private_key=pem)
    texts += [str(info.value)]
    file = tmp_path / "key.pem"
    file.write_text(pem[:-40])
    env = {"BITGET_API_KEY": "k", "BITGET_PASSPHRASE": PASSPHRASE}
    for extra in ({"BITGET_RSA_PRIVATE_KEY_FILE": str(file)},
                  {"BITGET_RSA_PRIVATE_KEY": pem[:-40]},
                  {"BITGET_RSA_PRIVATE_KEY": pem, "BITGET_SECRET_KEY": SECRET}):  # fmt: skip
        with pytest.raises(InvalidCredentials) as info:
            Credentials.from_env({**env, **extra})
        texts += [str(info.value), "".join(traceback.format_exception(info.value))]
    assert leaks("\n".join(texts), rsa_key) == []
