"""RSA signature checks (SHA256withRSA, PKCS#1 v1.5), for keys registered with a public key.

``cryptography`` is an optional extra (``bitget-cancel[rsa]``): it is imported only when a
simulator is given an RSA key.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any


class RsaVerifier:
    """Checks base64 signatures against one RSA public key (PEM)."""

    __slots__ = ("_invalid", "_key", "_padding", "_sha256")

    def __init__(self, public_key_pem: str | bytes) -> None:
        try:
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding, rsa
        except ImportError:
            raise ImportError(
                "RSA keys need the 'cryptography' package: pip install 'bitget-cancel[rsa]'"
            ) from None
        pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError:
            raise ValueError("rsa_public_key is not a PEM public key") from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("rsa_public_key is not an RSA key")
        self._key: Any = key
        self._padding: Any = padding.PKCS1v15()
        self._sha256: Any = hashes.SHA256()
        self._invalid: type[Exception] = InvalidSignature

    def verify(self, given: bytes, prehash: bytes) -> bool:
        """True if ``given`` (base64) is this key's signature of ``prehash``."""
        try:
            signature = base64.b64decode(given, validate=True)
        except (binascii.Error, ValueError):
            return False
        try:
            self._key.verify(signature, prehash, self._padding, self._sha256)
        except self._invalid:
            return False
        return True
