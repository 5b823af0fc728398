"""API keys and the checks of the signed headers, in the exchange's order: key, passphrase,
timestamp, sign.

Written from the exchange's documentation, independently of the client's signing code, so a
shared misreading cannot make both sides agree on a wrong signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote

from ._wire import USER_ID, SimError

TIMESTAMP_TOLERANCE_MS = 30_000


def _b(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class SimKey:
    """An API key the simulator accepts: HMAC (``secret_key``) or RSA (``rsa_public_key``,
    PEM; needs the ``[rsa]`` extra). Keys with the same ``uid`` belong to one account and share
    its per-UID rate limits."""

    api_key: str
    passphrase: str
    secret_key: str | None = field(default=None, repr=False)
    rsa_public_key: str | bytes | None = field(default=None, repr=False)
    uid: str = USER_ID

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("SimKey.api_key must not be empty")
        if (self.secret_key is None) == (self.rsa_public_key is None):
            raise ValueError(
                f"SimKey {self.api_key!r}: give exactly one of secret_key, rsa_public_key"
            )


class _Verifier(Protocol):
    def verify(self, given: bytes, prehash: bytes) -> bool: ...


class _Hmac:
    __slots__ = ("_mac",)

    def __init__(self, secret_key: str) -> None:
        # Keyed once; copying a keyed HMAC is cheaper than re-keying per request.
        self._mac = hmac.new(_b(secret_key), digestmod=hashlib.sha256)

    def verify(self, given: bytes, prehash: bytes) -> bool:
        mac = self._mac.copy()
        mac.update(prehash)
        return hmac.compare_digest(given, base64.b64encode(mac.digest()))


class _Entry:
    __slots__ = ("key", "passphrase", "verifier")

    def __init__(self, key: SimKey) -> None:
        self.key = key
        self.passphrase = _b(key.passphrase)
        self.verifier: _Verifier
        if key.secret_key is not None:
            self.verifier = _Hmac(key.secret_key)
        else:
            from ._rsa import RsaVerifier  # imports cryptography: only for RSA keys

            assert key.rsa_public_key is not None
            self.verifier = RsaVerifier(key.rsa_public_key)


class KeyRing:
    """The accepted keys, looked up by the ``ACCESS-KEY`` header."""

    def __init__(self, keys: Iterable[SimKey]) -> None:
        self._entries: dict[str, _Entry] = {}
        for key in keys:
            if key.api_key in self._entries:
                raise ValueError(f"api key {key.api_key!r} given twice")
            self._entries[key.api_key] = _Entry(key)

    def uid_of(self, api_key: str) -> str | None:
        """The account a key belongs to, None for an unknown key."""
        entry = self._entries.get(api_key)
        return entry.key.uid if entry is not None else None

    def check(
        self,
        headers: Mapping[str, str],
        method: str,
        raw_path: str,
        body: bytes,
        server_ms: int,
    ) -> SimKey:
        """The key that signed the request, or :class:`SimError` for the first header the
        exchange would refuse. ``raw_path`` is the path plus ``?query`` exactly as sent."""
        entry = self._entries.get(headers.get("ACCESS-KEY", ""))
        if entry is None:
            raise SimError(400, "40006", "Invalid ACCESS_KEY", "api_key")
        if not hmac.compare_digest(_b(headers.get("ACCESS-PASSPHRASE", "")), entry.passphrase):
            raise SimError(400, "40011", "Invalid ACCESS_PASSPHRASE", "passphrase")
        timestamp = headers.get("ACCESS-TIMESTAMP", "")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise SimError(400, "40005", "Invalid ACCESS_TIMESTAMP", "timestamp")
        if abs(int(timestamp) - server_ms) > TIMESTAMP_TOLERANCE_MS:
            raise SimError(400, "40008", "Request timestamp expired", "timestamp")
        given = _b(headers.get("ACCESS-SIGN", ""))
        head = _b(timestamp + method)
        verifier = entry.verifier
        if verifier.verify(given, head + _b(raw_path) + body):
            return entry.key
        # The exchange also accepts the query signed before percent-encoding (ccxt signs it
        # that way); for plain ASCII symbols both forms are the same string.
        decoded = unquote(raw_path)
        if decoded != raw_path and verifier.verify(given, head + _b(decoded) + body):
            return entry.key
        raise SimError(400, "40009", "sign signature error", "signature")
