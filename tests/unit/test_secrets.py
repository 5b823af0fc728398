"""The secret key and the passphrase never appear in logs, reprs, exception texts or the JSON
report, through every failure path, at DEBUG logging (virtual time)."""

from __future__ import annotations

import json
import logging
import random
import traceback

import pytest

from bitget_cancel import CancelEngine, CancelTarget, Credentials, InvalidCredentials
from bitget_cancel._auth import Signer
from bitget_cancel._exceptions import TransportError
from bitget_cancel._transport import HttpRequest, HttpResponse, MockTransport

from .scripted_exchange import ALL_STEPS, ScriptedExchange, Step

SECRET = "S3CRET-k3y-0f-th3-acc0unt-xyz"
PASSPHRASE = "PaSS-phr4se-qwerty"
CREDS = Credentials(api_key="visible-api-key", secret_key=SECRET, passphrase=PASSPHRASE)


def leaks(text: str) -> list[str]:
    return [s for s in (SECRET, PASSPHRASE) if s in text]


def book(exchange: ScriptedExchange, n: int) -> list[CancelTarget]:
    targets = []
    for i in range(n):
        exchange.place("BTCUSDT", str(100 + i), f"c{i}")
        kw = {"client_oid": f"c{i}"} if i % 2 else {"order_id": str(100 + i)}
        targets.append(CancelTarget(symbol="BTCUSDT", **kw))
    return targets


class Weird(Exception):
    pass


@pytest.mark.parametrize("path", [*ALL_STEPS, "skew", "no_clock", "internal", "deadline"])
async def test_no_failure_path_shows_the_secrets(
    path: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
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
        CREDS,
        transport=transport,
        wall_clock=exchange.wall_clock,
        max_attempts=4,
        request_timeout=1.0,
        rng=random.Random(0),
    )
    texts = [repr(engine), str(engine), repr(CREDS), str(CREDS), repr(Signer(CREDS))]
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
    assert leaks("\n".join(texts)) == []


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
