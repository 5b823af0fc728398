"""RSA keys made, and signatures computed, by the openssl command: independent of the code
under test (which signs with the ``cryptography`` package)."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path


def openssl(*args: str, data: bytes = b"") -> bytes:
    done = subprocess.run(["openssl", *args], input=data, capture_output=True, check=True)
    return done.stdout


@dataclass(frozen=True)
class OpensslKey:
    directory: Path
    path: Path  # PKCS#8: "-----BEGIN PRIVATE KEY-----", what `openssl genrsa` writes today
    pem: str
    traditional_pem: str  # PKCS#1: "-----BEGIN RSA PRIVATE KEY-----", the same key
    public_path: Path

    def sign(self, message: bytes) -> str:
        """`openssl dgst -sha256 -sign key.pem | base64`: SHA256withRSA, PKCS#1 v1.5."""
        signature = openssl("dgst", "-sha256", "-sign", str(self.path), data=message)
        return base64.b64encode(signature).decode()

    def verifies(self, message: bytes, signature_b64: str) -> bool:
        """`openssl dgst -sha256 -verify pub.pem -signature sig` on ``message``."""
        signature = self.directory / "signature.bin"
        signature.write_bytes(base64.b64decode(signature_b64))
        done = subprocess.run(
            ["openssl", "dgst", "-sha256", "-verify", str(self.public_path),
             "-signature", str(signature)],
            input=message, capture_output=True, check=False,
        )  # fmt: skip
        return done.returncode == 0 and b"Verified OK" in done.stdout

    def fragments(self) -> list[str]:
        """16-character pieces of both PEM bodies: any echo of 32 characters of the key
        contains one of them."""
        pieces = []
        for pem in (self.pem, self.traditional_pem):
            body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
            pieces += [body[i : i + 16] for i in range(0, len(body) - 15, 16)]
        return pieces


def generate(directory: Path, bits: int = 2048) -> OpensslKey:
    path = directory / "key.pem"
    openssl("genrsa", "-out", str(path), str(bits))
    traditional = openssl("rsa", "-in", str(path), "-traditional").decode()
    public_path = directory / "public.pem"
    openssl("rsa", "-in", str(path), "-pubout", "-out", str(public_path))
    pem = path.read_text()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert traditional.startswith("-----BEGIN RSA PRIVATE KEY-----")
    return OpensslKey(directory, path, pem, traditional, public_path)
