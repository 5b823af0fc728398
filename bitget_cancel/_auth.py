"""Credentials and request signing: HMAC-SHA256, or SHA256withRSA for RSA keys (Bitget v2).

``cryptography`` is only needed for RSA keys (the ``[rsa]`` extra) and is imported on first use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._exceptions import InvalidCredentials

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

ENV_API_KEY = "BITGET_API_KEY"
ENV_SECRET_KEY = "BITGET_SECRET_KEY"
ENV_PASSPHRASE = "BITGET_PASSPHRASE"
ENV_RSA_PRIVATE_KEY = "BITGET_RSA_PRIVATE_KEY"
ENV_RSA_PRIVATE_KEY_FILE = "BITGET_RSA_PRIVATE_KEY_FILE"

_INSTALL_HINT = "RSA keys need the 'cryptography' package: pip install 'bitget-cancel[rsa]'"


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """API key, passphrase, and either a secret key (HMAC) or an RSA private key (PEM text).

    repr/str never show the secret key, the private key or the passphrase.
    """

    api_key: str
    secret_key: str | None = field(default=None, repr=False)
    passphrase: str = field(repr=False)
    rsa_private_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Values are never echoed: a secret may have been pasted in the wrong place.
        for name in ("api_key", "passphrase"):
            _require_text(name, getattr(self, name))
        if self.rsa_private_key is None:
            if self.secret_key is None:
                raise InvalidCredentials(
                    "secret_key must be a non-empty string (or pass rsa_private_key instead)"
                )
            _require_text("secret_key", self.secret_key)
            return
        if self.secret_key is not None:
            raise InvalidCredentials("pass secret_key or rsa_private_key, not both")
        _require_text("rsa_private_key", self.rsa_private_key)
        load_rsa_private_key(self.rsa_private_key)  # a bad key fails here, not at first request

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read BITGET_API_KEY, BITGET_PASSPHRASE and one of BITGET_SECRET_KEY,
        BITGET_RSA_PRIVATE_KEY (PEM text) or BITGET_RSA_PRIVATE_KEY_FILE (a path to a PEM file)."""
        env = os.environ if environ is None else environ
        key_vars = [n for n in (ENV_SECRET_KEY, ENV_RSA_PRIVATE_KEY, ENV_RSA_PRIVATE_KEY_FILE)
                    if env.get(n)]  # fmt: skip
        missing = [n for n in (ENV_API_KEY, ENV_PASSPHRASE) if not env.get(n)]
        if not key_vars:
            missing.append(
                f"{ENV_SECRET_KEY} (or {ENV_RSA_PRIVATE_KEY} / {ENV_RSA_PRIVATE_KEY_FILE})"
            )
        if missing:
            raise InvalidCredentials(f"missing environment variable(s): {', '.join(missing)}")
        if len(key_vars) > 1:
            raise InvalidCredentials(f"set only one of {', '.join(key_vars)}")
        api_key, passphrase = env[ENV_API_KEY], env[ENV_PASSPHRASE]
        if key_vars == [ENV_SECRET_KEY]:
            return cls(api_key=api_key, secret_key=env[ENV_SECRET_KEY], passphrase=passphrase)
        if key_vars == [ENV_RSA_PRIVATE_KEY]:
            pem = env[ENV_RSA_PRIVATE_KEY]
            if "\n" not in pem:
                pem = pem.replace("\\n", "\n")  # a PEM squeezed onto one line in a .env file
        else:
            pem = _read_pem_file(env[ENV_RSA_PRIVATE_KEY_FILE])
        return cls(api_key=api_key, passphrase=passphrase, rsa_private_key=pem)

    def __repr__(self) -> str:
        key = "rsa_private_key" if self.rsa_private_key is not None else "secret_key"
        return f"Credentials(api_key={_mask(self.api_key)!r}, {key}='***', passphrase='***')"

    __str__ = __repr__


def _require_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidCredentials(f"{name} must be a non-empty string")


def _read_pem_file(path: str) -> str:
    try:
        with open(path, encoding="ascii") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as exc:
        # The path is not a secret; the content is never shown.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not PEM text"
        raise InvalidCredentials(
            f"{ENV_RSA_PRIVATE_KEY_FILE}: cannot read {path!r}: {reason}"
        ) from None


def load_rsa_private_key(pem: str) -> RSAPrivateKey:
    """The RSA private key in ``pem`` (PKCS#8 or PKCS#1, unencrypted), or InvalidCredentials."""
    try:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:
        raise InvalidCredentials(_INSTALL_HINT) from None
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except TypeError:
        raise InvalidCredentials("rsa_private_key is encrypted; pass the unencrypted PEM") from None
    except (ValueError, UnsupportedAlgorithm):
        # cryptography's own message is not shown (nor chained): keep key material out of reach.
        raise InvalidCredentials(
            "rsa_private_key is not a PEM private key (expected '-----BEGIN PRIVATE KEY-----' "
            "or '-----BEGIN RSA PRIVATE KEY-----')"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise InvalidCredentials("rsa_private_key is a private key, but not an RSA one")
    return key


def _mask(api_key: str) -> str:
    return api_key[:4] + "…" if len(api_key) > 8 else "…"


class Signer:
    """Builds the signed headers of one request. Holds the keyed HMAC or the loaded RSA key,
    never the secret text."""

    __slots__ = ("_api_key", "_mac", "_passphrase", "_rsa")

    def __init__(self, credentials: Credentials) -> None:
        self._api_key = credentials.api_key
        self._passphrase = credentials.passphrase
        self._mac: hmac.HMAC | None = None
        self._rsa: RSAPrivateKey | None = None
        if credentials.rsa_private_key is not None:
            self._rsa = load_rsa_private_key(credentials.rsa_private_key)
        else:
            assert credentials.secret_key is not None  # Credentials guarantees exactly one
            # Keyed once; each signature copies it, which skips re-hashing the key.
            self._mac = hmac.new(credentials.secret_key.encode(), digestmod=hashlib.sha256)

    def __repr__(self) -> str:
        kind = "rsa" if self._rsa is not None else "hmac"
        return f"Signer(api_key={_mask(self._api_key)!r}, {kind})"

    def sign(self, timestamp_ms: str, method: str, path: str, query: str, body: bytes) -> str:
        """base64 of HMAC-SHA256(secret, ·) or of SHA256withRSA PKCS#1 v1.5 (private key, ·)
        over timestamp + METHOD + path + ["?" + query] + body."""
        prefix = (timestamp_ms + method.upper() + path + ("?" + query if query else "")).encode()
        if self._rsa is not None:
            from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
            from cryptography.hazmat.primitives.hashes import SHA256

            return base64.b64encode(self._rsa.sign(prefix + body, PKCS1v15(), SHA256())).decode()
        assert self._mac is not None
        mac = self._mac.copy()
        mac.update(prefix)
        mac.update(body)
        return base64.b64encode(mac.digest()).decode()

    def headers(
        self, timestamp_ms: str, method: str, path: str, query: str, body: bytes
    ) -> dict[str, str]:
        return {
            "ACCESS-KEY": self._api_key,
            "ACCESS-SIGN": self.sign(timestamp_ms, method, path, query, body),
            "ACCESS-TIMESTAMP": timestamp_ms,
            "ACCESS-PASSPHRASE": self._passphrase,
            "Content-Type": "application/json",
            "locale": "en-US",
        }
