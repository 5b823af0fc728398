"""Signing and credentials."""

from __future__ import annotations

import dataclasses

import pytest

from bitget_cancel import CancelTarget, Credentials, InvalidCredentials
from bitget_cancel._auth import Signer
from bitget_cancel._family import V2BatchCancel
from bitget_cancel._plan import Batch

SECRET = "my-secret-key"
PASSPHRASE = "my-passphrase-xyz"
CREDS = Credentials(api_key="bg_0123456789abcdef", secret_key=SECRET, passphrase=PASSPHRASE)

# Computed outside this code base:
#   printf '%s' "$prehash" | openssl dgst -sha256 -hmac my-secret-key -binary | base64
POST_BODY = b'{"symbol":"BTCUSDT","batchMode":"single","orderList":[{"orderId":"121211212122"}]}'
POST_SIGNATURE = "7gKbIhveHi5BllQ39ytDHDiGPlnWfxGYJ5b43GbUGxg="
GET_SIGNATURE = "Ifz5Rsy76h5HLZwh+hxNRSSgwW4Hpe6DFfx5g8n9hDU="


def test_post_signature_matches_an_independent_hmac() -> None:
    signer = Signer(CREDS)
    path = "/api/v2/spot/trade/batch-cancel-order"
    assert signer.sign("1700000000123", "POST", path, "", POST_BODY) == POST_SIGNATURE


def test_get_signature_covers_the_query_string() -> None:
    signer = Signer(CREDS)
    query = "symbol=BTCUSDT&limit=100"
    path = "/api/v2/spot/trade/unfilled-orders"
    assert signer.sign("1700000000123", "get", path, query, b"") == GET_SIGNATURE


def test_the_signed_body_is_the_encoded_batch_byte_for_byte() -> None:
    batch = Batch(
        "single", "BTCUSDT", True, (CancelTarget(symbol="BTCUSDT", order_id="121211212122"),)
    )
    assert V2BatchCancel().encode(batch) == POST_BODY


def test_headers_carry_key_timestamp_passphrase_and_signature() -> None:
    headers = Signer(CREDS).headers(
        "1700000000123", "POST", "/api/v2/spot/trade/batch-cancel-order", "", POST_BODY
    )
    assert headers == {
        "ACCESS-KEY": "bg_0123456789abcdef",
        "ACCESS-SIGN": POST_SIGNATURE,
        "ACCESS-TIMESTAMP": "1700000000123",
        "ACCESS-PASSPHRASE": PASSPHRASE,
        "Content-Type": "application/json",
        "locale": "en-US",
    }


def test_repr_and_str_never_show_secret_or_passphrase() -> None:
    for text in (repr(CREDS), str(CREDS), repr(Signer(CREDS)), f"{CREDS}", str([CREDS])):
        assert SECRET not in text
        assert PASSPHRASE not in text


def test_from_env_reads_the_three_variables() -> None:
    env = {"BITGET_API_KEY": "k", "BITGET_SECRET_KEY": "s", "BITGET_PASSPHRASE": "p"}
    creds = Credentials.from_env(env)
    assert (creds.api_key, creds.secret_key, creds.passphrase) == ("k", "s", "p")


def test_from_env_names_what_is_missing_without_values() -> None:
    with pytest.raises(InvalidCredentials, match="BITGET_PASSPHRASE") as info:
        Credentials.from_env({"BITGET_API_KEY": "k", "BITGET_SECRET_KEY": "hunter2"})
    assert "hunter2" not in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("field", ["api_key", "secret_key", "passphrase"])
def test_empty_credential_is_refused_without_echoing_values(field: str) -> None:
    values = {"api_key": "key", "secret_key": "s3cr3t-value", "passphrase": "pa55-value"}
    values[field] = ""
    with pytest.raises(InvalidCredentials, match=field) as info:
        Credentials(**values)
    assert "s3cr3t-value" not in str(info.value)
    assert "pa55-value" not in str(info.value)


def test_credentials_stay_a_frozen_keyword_dataclass_in_the_same_field_order() -> None:
    names = [f.name for f in dataclasses.fields(Credentials)]
    assert names == ["api_key", "secret_key", "passphrase", "rsa_private_key"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        CREDS.secret_key = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Credentials("k", "s", "p")  # type: ignore[call-arg]
    assert Credentials(api_key=CREDS.api_key, secret_key=SECRET, passphrase=PASSPHRASE) == CREDS
    assert CREDS.rsa_private_key is None
