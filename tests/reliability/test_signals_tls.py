"""The signal through real mutual TLS: `samenop serve --certfile --keyfile --client-ca` (gunicorn
terminating TLS itself) on loopback, a CA and certificates made here with trustme. The handshake
verifies the client's certificate; the app recognises the registered system by the connection's
peer certificate, and refuses an unregistered one, none at all, and a header nobody vouches for."""

from __future__ import annotations

import http.client
import json
import os
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import trustme
from flask import Flask
from flask.testing import FlaskClient

from tests.registry.plan_data import address, plan_body
from tests.reliability.conftest import BOOT_SECONDS, HOST, _samenop, free_port

SYSTEM = "GMS Meldkamer TLS"
BODY = {"incident_ref": "P-2026-0777", "address": {"postcode": "9401 AB", "house_number": 14}}


def _context(ca: trustme.CA, client_cert: trustme.LeafCert | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    if client_cert is not None:
        client_cert.configure_cert(context)
    return context


def _post(
    port: int, context: ssl.SSLContext, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    conn = http.client.HTTPSConnection(HOST, port, context=context, timeout=10)
    try:
        conn.request(
            "POST",
            "/api/v1/signals",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.fixture
def tls_server(app: Flask, database_url: str, tmp_path: Path, ca: trustme.CA) -> Iterator[int]:
    """samenop serve over TLS, accepting client certificates of `ca`, on the test's database."""
    server_cert = ca.issue_cert(HOST, "localhost")
    cert_file, key_file, ca_file = tmp_path / "server.pem", tmp_path / "server.key", tmp_path / "ca.pem"
    server_cert.cert_chain_pems[0].write_to_path(str(cert_file))
    server_cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAMENOP_")}
    env.update(
        {
            "SAMENOP_DATABASE_URL": database_url,
            "SAMENOP_INDEX_DIR": str(tmp_path / "served-index"),
            "SAMENOP_INSTANCE_DIR": app.config["INSTANCE_DIR"],
            "SAMENOP_SECRET_KEY": app.config["SECRET_KEY"],
            "SAMENOP_TOTP_KEY": app.config["TOTP_KEY"],
        }
    )
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [_samenop(), "serve", "--host", HOST, "--port", str(port), "--workers", "1", "--threads", "2",
         "--certfile", str(cert_file), "--keyfile", str(key_file), "--client-ca", str(ca_file)],
        env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + BOOT_SECONDS
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the TLS server did not answer /health"
            conn = http.client.HTTPSConnection(HOST, port, context=_context(ca), timeout=2)
            try:
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
            finally:
                conn.close()
        yield port
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA(organization_name="Synthetische PKI (test)")


def test_a_registered_system_gets_its_signal_over_mutual_tls(
    app: Flask,
    client: FlaskClient,
    make_org: Any,
    make_user: Any,
    auth_headers: Any,
    ca: trustme.CA,
    tls_server: int,
    tmp_path: Path,
) -> None:
    # Given a plan at Kerkstraat 14 and a registered system of a control room
    owner = make_user(roles=("registrant",), org=make_org("Wijkteam Zuidoost", kind="social_team"))
    made = client.post(
        "/api/v1/plans",
        json=plan_body(addresses=[address(postcode="9401 AB", house_number=14)]),
        headers=auth_headers(owner),
    )
    assert made.status_code == 201
    make_org("Meldkamer Noord", kind="police")
    system = ca.issue_cert("gms.meldkamer-noord.test")
    system.cert_chain_pems[0].write_to_path(str(tmp_path / "system.pem"))
    added = app.test_cli_runner().invoke(
        args=[
            "client",
            "add",
            "--org",
            "Meldkamer Noord",
            "--name",
            SYSTEM,
            "--cert",
            str(tmp_path / "system.pem"),
        ]
    )
    assert added.exit_code == 0, added.output

    # When it asks over TLS with its certificate, Then it is told, without personal data
    status, body = _post(tls_server, _context(ca, system), BODY)
    assert status == 200, body
    assert body["signal"] is True
    assert body["owner_organisations"] == ["Wijkteam Zuidoost"]
    assert "Kerkstraat" not in json.dumps(body)

    # An unregistered certificate of the same CA passes the handshake and is refused by the app
    stranger = ca.issue_cert("onbekend.test")
    status, body = _post(tls_server, _context(ca, stranger), BODY)
    assert status == 401
    assert "geen geregistreerd systeem" in body["error"]["message"]

    # Without a certificate, a header with the registered one counts for nothing (no proxy vouches)
    header = {"X-Client-Cert": quote(system.cert_chain_pems[0].bytes().decode(), safe="")}
    status, body = _post(tls_server, _context(ca), BODY, header)
    assert status == 401

    # A certificate of another CA does not get through the handshake at all
    other = trustme.CA().issue_cert("elders.test")
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
        _post(tls_server, _context(ca, other), BODY)
