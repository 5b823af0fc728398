"""Checks of the signed headers, in the exchange's order: key, passphrase, timestamp, sign.

Written from the exchange's documentation, independently of the client's signing code, so a
shared misreading cannot make both sides agree on a wrong signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import unquote

from ._wire import SimError

TIMESTAMP_TOLERANCE_MS = 30_000


def _b(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class Authenticator:
    """Verifies ``ACCESS-*`` headers against one set of credentials."""

    __slots__ = ("_key", "_mac", "_passphrase")

    def __init__(self, api_key: str, secret_key: str, passphrase: str) -> None:
        self._key = _b(api_key)
        self._passphrase = _b(passphrase)
        # Keyed once; copying a keyed HMAC is cheaper than re-keying per request.
        self._mac = hmac.new(_b(secret_key), digestmod=hashlib.sha256)

    def sign(self, prehash: bytes) -> bytes:
        mac = self._mac.copy()
        mac.update(prehash)
        return base64.b64encode(mac.digest())

    def check(
        self,
        headers: Mapping[str, str],
        method: str,
        raw_path: str,
        body: bytes,
        server_ms: int,
    ) -> None:
        """Raise :class:`SimError` for the first header the exchange would refuse.

        ``raw_path`` is the path plus ``?query`` exactly as sent.
        """
        if not hmac.compare_digest(_b(headers.get("ACCESS-KEY", "")), self._key):
            raise SimError(400, "40006", "Invalid ACCESS_KEY", "api_key")
        if not hmac.compare_digest(_b(headers.get("ACCESS-PASSPHRASE", "")), self._passphrase):
            raise SimError(400, "40011", "Invalid ACCESS_PASSPHRASE", "passphrase")
        timestamp = headers.get("ACCESS-TIMESTAMP", "")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise SimError(400, "40005", "Invalid ACCESS_TIMESTAMP", "timestamp")
        if abs(int(timestamp) - server_ms) > TIMESTAMP_TOLERANCE_MS:
            raise SimError(400, "40008", "Request timestamp expired", "timestamp")
        given = _b(headers.get("ACCESS-SIGN", ""))
        head = _b(timestamp + method)
        if hmac.compare_digest(given, self.sign(head + _b(raw_path) + body)):
            return
        # The exchange also accepts the query signed before percent-encoding (ccxt signs it
        # that way); for plain ASCII symbols both forms are the same string.
        decoded = unquote(raw_path)
        if decoded != raw_path and hmac.compare_digest(given, self.sign(head + _b(decoded) + body)):
            return
        raise SimError(400, "40009", "sign signature error", "signature")
