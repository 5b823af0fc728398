"""Real Redis deployments on 127.0.0.1 for tests and benchmarks: a Cluster, a Sentinel pair,
a TLS server. Each lives in a temporary directory and on free ports, and ``close()`` ends every
process it started."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .server import RedisServer, free_port

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


def _ask(port: int, command: str) -> str:
    """One inline command to a local Redis (or Sentinel), its raw answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=2.0) as sock:
        sock.sendall(command.encode() + b"\r\n")
        return sock.recv(65536).decode(errors="replace")


def _until(probe: object, what: str, attempts: int = 300) -> None:
    for _ in range(attempts):  # at most ~15 s
        with contextlib.suppress(OSError):
            if probe():  # type: ignore[operator]
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} never happened")


def _cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free too."""
    for _ in range(1000):
        port = free_port()
        if port > 55535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


class LocalCluster:
    """Three ``redis-server --cluster-enabled yes`` masters joined by ``redis-cli --cluster
    create``."""

    def __init__(self, nodes: int = 3) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="redis-cluster-"))
        self.nodes: list[RedisServer] = []
        for number in range(nodes):
            home = self.directory / f"node{number}"
            home.mkdir()
            extra = ["--cluster-enabled", "yes", "--cluster-config-file", str(home / "nodes.conf"),
                     "--cluster-node-timeout", "2000"]  # fmt: skip
            node = RedisServer(home, extra=extra)
            node.port = _cluster_port()
            self.nodes.append(node)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        return f"redis+cluster://{hosts}"

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        for node in self.nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [REDIS_CLI, "--cluster", "create", *addresses, "--cluster-replicas", "0",
             "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
        )  # fmt: skip
        for node in self.nodes:
            _until(lambda n=node: "cluster_state:ok" in _ask(n.port, "CLUSTER INFO"), "cluster ok")

    def close(self) -> None:
        for node in self.nodes:
            node.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class LocalSentinel:
    """One master, one replica, one Sentinel (quorum 1) watching them as ``mymaster``."""

    name = "mymaster"

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="redis-sentinel-"))
        (self.directory / "master").mkdir()
        (self.directory / "replica").mkdir()
        self.master = RedisServer(self.directory / "master")
        self.replica = RedisServer(
            self.directory / "replica", extra=["--replicaof", "127.0.0.1", str(self.master.port)]
        )
        self.sentinel = RedisServer(self.directory)
        self.port = self.sentinel.port

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.port}/{self.name}/0"

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        self.master.start()
        self.replica.start()
        _until(
            lambda: "master_link_status:up" in _ask(self.replica.port, "INFO replication"),
            "replication",
        )
        config = self.directory / "sentinel.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.directory}\n"
            f"logfile {self.directory / 'redis.log'}\n"
            f"sentinel monitor {self.name} 127.0.0.1 {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {self.name} 1000\n"
            f"sentinel failover-timeout {self.name} 5000\n"
        )
        self.sentinel.launch([self.sentinel.binary, str(config), "--sentinel"])
        _until(lambda: "slaves=1" in _ask(self.port, "INFO sentinel"), "sentinel sees the replica")

    def master_port(self) -> int:
        answer = _ask(self.port, f"SENTINEL get-master-addr-by-name {self.name}")
        return int(answer.split()[-1])

    def failover(self) -> None:
        """A real failover (``SENTINEL FAILOVER``): the replica becomes the master."""
        before = self.master_port()
        assert "+OK" in _ask(self.port, f"SENTINEL FAILOVER {self.name}")
        _until(lambda: self.master_port() != before, "the failover")

    def close(self) -> None:
        for server in (self.sentinel, self.replica, self.master):
            server.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "redis.crt", directory / "redis.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def tls_server(directory: Path) -> tuple[RedisServer, Path]:
    """A redis-server speaking TLS only, with a self-signed certificate; and that certificate
    (the CA a client must trust)."""
    cert_file, key_file = self_signed(directory)
    extra = ["--tls-cert-file", str(cert_file), "--tls-key-file", str(key_file),
             "--tls-ca-cert-file", str(cert_file), "--tls-auth-clients", "no"]  # fmt: skip
    return RedisServer(directory, extra=extra, tls=True), cert_file


__all__ = ["LocalCluster", "LocalSentinel", "free_port", "tls_server"]
