"""The signal in the benchmark: a control room's system, registered through the CLI with a
certificate made here, asks POST /api/v1/signals on the sampled households' addresses and phone
numbers. The certificate reaches the app as nginx hands it over (X-Client-Cert, URL-encoded PEM,
from 127.0.0.1, which server_env lists in SAMENOP_CLIENT_CERT_PROXIES): the TLS handshake itself
is nginx's work and not measured.

    python -m bench.lookup --only signal           # 100 000 persons, closed loop and paced
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bench.load import Request, Workload
from bench.queries import Query
from bench.server import _cli, samenop

SIGNALS = "/api/v1/signals"
SYSTEM = "Benchmark meldkamersysteem"
_serial = itertools.count(1)


def certificate_pem(name: str) -> bytes:
    """A self-signed client certificate (synthetic): what the app keeps is its fingerprint."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.PEM)


def register(env: dict[str, str], organisation: str, work: Path, stamp: str) -> str:
    """`samenop client add` for a new system of `organisation`; returns its X-Client-Cert header."""
    pem = certificate_pem(f"bench-{stamp}.meldkamer.test")
    path = work / f"signal-client-{stamp}.pem"
    path.write_bytes(pem)
    _cli(
        env,
        [
            samenop(),
            "client",
            "add",
            "--org",
            organisation,
            "--name",
            f"{SYSTEM} {stamp}",
            "--cert",
            str(path),
        ],
    )
    return quote(pem.decode(), safe="")


class Signals(Workload):
    """Signals on exact addresses and phone numbers of the sampled households: each must say true."""

    def __init__(self, header: str, queries: list[Query]) -> None:
        self.header = header
        self.queries = queries

    def next_request(self, client: int, rng: random.Random) -> Request:
        query = self.queries[rng.randrange(len(self.queries))]
        body = {"incident_ref": f"BENCH-S{next(_serial):07d}", **query.payload}
        return Request(
            "POST",
            SIGNALS,
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "X-Client-Cert": self.header},
            query.text,
            query,
        )

    def verdict(self, request: Request, status: int, digest: Any) -> str:
        if status != 200:
            return "error"
        try:
            answer = json.loads(digest)
        except ValueError:
            return "error"
        return "ok" if answer.get("signal") is True else "miss"
