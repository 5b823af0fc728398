"""Credentials and request signing (HMAC-SHA256, as Bitget's v2 API asks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ._exceptions import InvalidCredentials

ENV_API_KEY = "BITGET_API_KEY"
ENV_SECRET_KEY = "BITGET_SECRET_KEY"
ENV_PASSPHRASE = "BITGET_PASSPHRASE"


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """API key, secret key and passphrase. repr/str never show the secret or the passphrase."""

    api_key: str
    secret_key: str = field(repr=False)
    passphrase: str = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("api_key", "secret_key", "passphrase"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                # The value itself is never echoed: it may be a secret pasted in the wrong place.
                raise InvalidCredentials(f"{name} must be a non-empty string")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read BITGET_API_KEY, BITGET_SECRET_KEY and BITGET_PASSPHRASE."""
        env = os.environ if environ is None else environ
        missing = [n for n in (ENV_API_KEY, ENV_SECRET_KEY, ENV_PASSPHRASE) if not env.get(n)]
        if missing:
            raise InvalidCredentials(f"missing environment variable(s): {', '.join(missing)}")
        return cls(
            api_key=env[ENV_API_KEY], secret_key=env[ENV_SECRET_KEY], passphrase=env[ENV_PASSPHRASE]
        )

    def __repr__(self) -> str:
        return f"Credentials(api_key={_mask(self.api_key)!r}, secret_key='***', passphrase='***')"

    __str__ = __repr__


def _mask(api_key: str) -> str:
    return api_key[:4] + "…" if len(api_key) > 8 else "…"


class Signer:
    """Builds the signed headers of one request. Holds the keyed HMAC, not the secret text."""

    __slots__ = ("_api_key", "_mac", "_passphrase")

    def __init__(self, credentials: Credentials) -> None:
        self._api_key = credentials.api_key
        self._passphrase = credentials.passphrase
        # Keyed once; each signature copies it, which skips re-hashing the key.
        self._mac = hmac.new(credentials.secret_key.encode(), digestmod=hashlib.sha256)

    def __repr__(self) -> str:
        return f"Signer(api_key={_mask(self._api_key)!r})"

    def sign(self, timestamp_ms: str, method: str, path: str, query: str, body: bytes) -> str:
        """base64(HMAC-SHA256(secret, timestamp + METHOD + path + ["?" + query] + body))."""
        mac = self._mac.copy()
        prefix = timestamp_ms + method.upper() + path + ("?" + query if query else "")
        mac.update(prefix.encode())
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
