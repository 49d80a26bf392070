"""Mail leaves over a protected connection (registry/ops/mail.py), against a real SMTP server on
loopback (aiosmtpd) with real certificates made here: a CA, and a server certificate for
127.0.0.1 and localhost that it signed. A certificate the client does not trust, or a server
that does not offer STARTTLS, gets neither the mail nor the password."""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from sqlalchemy import select

from registry.app import create_app
from registry.core.config import ConfigError
from registry.core.db import db as database
from registry.core.models import OutboxMessage
from registry.ops import mail, outbox
from tests.conftest import close_app
from tests.smtp import Mailbox, free_port

USER, SECRET = "samenop-mailer", "wachtwoord-van-de-mailserver"


@dataclass
class Pki:
    ca_file: Path  # the CA's certificate: what SAMENOP_SMTP_CA_FILE points at
    server: ssl.SSLContext  # the mail server's side: its certificate and key


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _alternative(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def make_pki(directory: Path, label: str, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> Pki:
    """A CA and a server certificate for `names` (host names or IP addresses) that the CA signed."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"Samen Op test CA {label}"))
        .issuer_name(_name(f"Samen Op test CA {label}"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([_alternative(name) for name in names]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / f"{label}-ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    chain = directory / f"{label}-server.pem"
    chain.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key = directory / f"{label}-server.key"
    key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(chain, key)
    return Pki(ca_file=ca_file, server=server)


@dataclass
class Logins:
    """Every AUTH the server received, and whether the connection was encrypted at the time."""

    seen: list[tuple[str, str, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        with self.lock:
            self.seen.append((login, password, server.transport.get_extra_info("ssl_object") is not None))
        return AuthResult(success=(login, password) == (USER, SECRET))

    def passwords(self) -> list[str]:
        return [password for _login, password, _tls in self.seen]


@dataclass
class Server:
    box: Mailbox
    logins: Logins
    port: int


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki", "mail")


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start real SMTP servers on loopback: serve(ssl_context=... | tls_context=..., ...).
    aiosmtpd offers AUTH only after its own STARTTLS: a server that is TLS from the first byte
    (ssl_context) needs auth_require_tls=False to offer it at all."""
    running: list[Controller] = []

    def start(**parameters: Any) -> Server:
        box, logins, port = Mailbox(), Logins(), free_port()
        controller = Controller(
            box, hostname="127.0.0.1", port=port, server_hostname="localhost", authenticator=logins,
            **parameters,
        )  # fmt: skip
        controller.start()
        running.append(controller)
        return Server(box, logins, port)

    yield start
    for controller in running:
        controller.stop()


@pytest.fixture
def mail_app(app_config: dict[str, Any]) -> Iterator[Any]:
    """An app with the given mail settings; closed after the test."""
    made: list[Flask] = []

    def make(url: str, ca_file: Path | None = None) -> Flask:
        application = create_app(
            app_config | {"SMTP_URL": url, "SMTP_CA_FILE": str(ca_file) if ca_file else None}
        )
        made.append(application)
        return application

    yield make
    for application in made:
        close_app(application)


def send(application: Flask) -> None:
    with application.app_context():
        mail.send("coordinator@example.org", "Samen Op: test", "3 terugkoppelingen")


# --- smtps:// -----------------------------------------------------------------------------------


def test_smtps_to_an_untrusted_certificate_is_refused(serve, pki, mail_app):
    # Given a mail server speaking TLS from the first byte, with a certificate from a CA the
    # client has not been told to trust
    server = serve(ssl_context=pki.server, auth_require_tls=False)
    application = mail_app(f"smtps://{USER}:{SECRET}@127.0.0.1:{server.port}")
    # When the app sends mail there
    # Then the certificate does not verify: nothing is delivered, no password was sent
    with pytest.raises(ssl.SSLCertVerificationError):
        send(application)
    assert server.box.messages == []
    assert server.logins.seen == []


def test_smtps_with_the_private_ca_is_delivered(serve, pki, mail_app):
    # Given the same server, and SAMENOP_SMTP_CA_FILE naming the CA that signed its certificate
    server = serve(ssl_context=pki.server, auth_require_tls=False)
    application = mail_app(f"smtps://{USER}:{SECRET}@127.0.0.1:{server.port}", pki.ca_file)
    # When the app sends mail there
    send(application)
    # Then it logged in over TLS and the mail arrived
    assert server.logins.seen == [(USER, SECRET, True)]
    assert len(server.box.to("coordinator@example.org")) == 1


def test_smtps_to_a_certificate_for_another_host_is_refused(serve, mail_app, tmp_path):
    # Given a server whose certificate, from a trusted CA, names another host only
    other = make_pki(tmp_path / "other", "other", names=("mail.example.org",))
    server = serve(ssl_context=other.server, auth_require_tls=False)
    application = mail_app(f"smtps://{USER}:{SECRET}@127.0.0.1:{server.port}", other.ca_file)
    # When the app sends mail to 127.0.0.1, Then the name does not match and nothing is sent
    with pytest.raises(ssl.SSLCertVerificationError, match="(?i)mismatch"):
        send(application)
    assert server.box.messages == []
    assert server.logins.seen == []


# --- smtp:// with STARTTLS ---------------------------------------------------------------------


def test_smtp_with_credentials_upgrades_before_login(serve, pki, mail_app):
    # Given a server that offers STARTTLS, and AUTH only after it (aiosmtpd's default)
    server = serve(tls_context=pki.server, require_starttls=True)
    application = mail_app(f"smtp://{USER}:{SECRET}@127.0.0.1:{server.port}", pki.ca_file)
    # When the app sends mail there with credentials
    send(application)
    # Then it upgraded to TLS, then logged in, then delivered
    assert server.logins.seen == [(USER, SECRET, True)]
    assert len(server.box.to("coordinator@example.org")) == 1


def test_smtp_starttls_to_an_untrusted_certificate_is_refused(serve, pki, mail_app):
    # Given a server that offers STARTTLS with a certificate the client does not trust
    server = serve(tls_context=pki.server, require_starttls=True)
    application = mail_app(f"smtp://{USER}:{SECRET}@127.0.0.1:{server.port}")
    # When the app sends mail there, Then the upgrade fails and neither mail nor password went
    with pytest.raises(ssl.SSLCertVerificationError):
        send(application)
    assert server.box.messages == []
    assert server.logins.seen == []


def test_smtp_with_credentials_to_a_server_without_starttls_is_refused(serve, pki, mail_app):
    # Given a server that does not offer STARTTLS but would take a password in the clear
    server = serve(auth_require_tls=False)
    application = mail_app(f"smtp://{USER}:{SECRET}@127.0.0.1:{server.port}", pki.ca_file)
    # When the app sends mail there with credentials
    # Then it refuses: the password is never sent, and no mail is delivered
    with pytest.raises(mail.InsecureMailServer, match="STARTTLS"):
        send(application)
    assert server.logins.seen == []
    assert server.box.messages == []


def test_submission_port_without_credentials_still_requires_starttls():
    # Given smtp:// on port 587 (submission: Microsoft 365) and no credentials
    url = urlparse("smtp://smtp.office365.com:587")
    # Then STARTTLS is required all the same, while a local relay on 25 without credentials is not
    assert mail.requires_starttls(url)
    assert not mail.requires_starttls(urlparse("smtp://127.0.0.1:25"))
    assert mail.requires_starttls(urlparse("smtp://user:pw@127.0.0.1:25"))


def test_plain_relay_without_credentials_still_delivers(mailbox, mail_app):
    # Given a local relay without TLS and without credentials (smtp://host:port)
    box, url = mailbox
    application = mail_app(url)
    # When the app sends mail there, Then it is delivered as before
    send(application)
    assert len(box.to("coordinator@example.org")) == 1


# --- SAMENOP_SMTP_CA_FILE ------------------------------------------------------------------------


def test_ca_file_that_is_missing_or_not_a_certificate_refuses_to_start(app_config, tmp_path, monkeypatch):
    not_pem = tmp_path / "not-a-ca.pem"
    not_pem.write_text("geen certificaat\n")
    for path in (tmp_path / "missing.pem", not_pem):
        monkeypatch.setenv("SAMENOP_SMTP_CA_FILE", str(path))
        with pytest.raises(ConfigError, match="SAMENOP_SMTP_CA_FILE"):
            create_app({key: value for key, value in app_config.items()})


# --- the outbox over STARTTLS on 587's terms ---------------------------------------------------


def test_the_outbox_delivers_over_starttls_one_message_per_recipient(serve, pki, mail_app):
    # Given a server that offers STARTTLS and AUTH only after it, as Microsoft 365 on 587 does
    server = serve(tls_context=pki.server, require_starttls=True)
    application = mail_app(f"smtp://{USER}:{SECRET}@127.0.0.1:{server.port}", pki.ca_file)
    recipients = ["piket@wijkteam-oost.example", "piket@jeugdbescherming.example"]
    # When two messages about one fact wait in the outbox and are delivered
    with application.app_context():
        for recipient in recipients:
            outbox.add_email(database.session, "spoed:test", recipient, "Samen Op: test", "1 spoedmelding")
        database.commit()
        delivery = outbox.deliver(database.session)
        stored = {row.target: row.message_id for row in database.session.scalars(select(OutboxMessage))}
        database.commit()
    # Then each went over TLS after a login, to its recipient alone, with the row's Message-ID
    assert delivery.delivered == 2
    assert server.logins.seen == [(USER, SECRET, True), (USER, SECRET, True)]
    for recipient in recipients:
        [message] = server.box.to(recipient)
        assert message["To"] == recipient
        assert message["Message-ID"] == stored[recipient]
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Date"]
    assert sorted(addresses for addresses, _message in server.box.messages) == [
        [r] for r in sorted(recipients)
    ]


def test_the_outbox_keeps_a_message_the_untrusted_server_did_not_get(serve, pki, mail_app):
    # Given a STARTTLS server whose certificate the app does not trust
    server = serve(tls_context=pki.server, require_starttls=True)
    application = mail_app(f"smtp://{USER}:{SECRET}@127.0.0.1:{server.port}")
    with application.app_context():
        outbox.add_email(database.session, "spoed:test", "piket@wijkteam-oost.example", "Samen Op", "1")
        database.commit()
        # When the outbox delivers, Then nothing and no password went, and the row waits with why
        assert outbox.deliver(database.session).retrying == 1
        [row] = database.session.scalars(select(OutboxMessage)).all()
        assert row.status == "pending"
        assert "SSLCertVerificationError" in (row.last_error or "")
        database.commit()
    assert server.box.messages == []
    assert server.logins.seen == []
