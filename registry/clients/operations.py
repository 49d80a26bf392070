"""Registering, rotating and revoking machine clients, and recognising one by the certificate
it presented (mutual TLS): the certificate's SHA-256 fingerprint against the registered,
unrevoked, unexpired certificates of a client of a responder organisation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from registry.core import audit, roles
from registry.core.db import Base
from registry.core.models import ClientCertificate, MachineClient, Organisation
from registry.core.timeutil import utcnow
from registry.core.vocabulary import OrganisationKind

#: how a client is named in the audit log: a system, never mistaken for a person's username
AUDIT_PREFIX = "systeem:"
#: the role column of the audit rows of a client's calls
AUDIT_ROLE = "client"
MAX_NAME = 50


class ClientError(Exception):
    """What the administrator asked cannot be done; the message says why (command line)."""


@dataclass(frozen=True)
class Certificate:
    """What is kept of a certificate: its fingerprint, subject and validity."""

    fingerprint: str
    subject: str
    not_before: datetime
    not_after: datetime


def fingerprint_of(der: bytes) -> str:
    """SHA-256 of the DER encoding, lower-case hex: what a certificate is matched on."""
    return hashlib.sha256(der).hexdigest()


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as people copy it (AB:CD:..., spaces, either case) in the stored form."""
    return "".join(character for character in text if character not in ": ").lower()


def read_certificate(pem: bytes) -> tuple[Certificate, bytes]:
    """The first certificate of a PEM text (the client's own; a chain may follow it), and its DER
    encoding. ClientError when there is none."""
    try:
        found = x509.load_pem_x509_certificates(pem)
    except ValueError:
        found = []
    if not found:
        raise ClientError("no PEM certificate found (-----BEGIN CERTIFICATE-----)")
    certificate = found[0]
    der = certificate.public_bytes(Encoding.DER)
    return (
        Certificate(
            fingerprint=certificate.fingerprint(hashes.SHA256()).hex(),
            subject=certificate.subject.rfc4514_string()[:300],
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        ),
        der,
    )


def der_of_pem(pem: bytes) -> bytes | None:
    """The DER encoding of the first certificate of a PEM text; None when it holds none."""
    try:
        return read_certificate(pem)[1]
    except ClientError:
        return None


# --- the administrator's commands ----------------------------------------------------------------


def _new_certificate(session: Session, pem: bytes, by: str) -> ClientCertificate:
    certificate, _der = read_certificate(pem)
    if certificate.not_after <= utcnow():
        raise ClientError(f"the certificate expired on {certificate.not_after:%Y-%m-%d %H:%M} UTC")
    taken = session.scalar(
        select(MachineClient.name)
        .join(ClientCertificate, ClientCertificate.client_id == MachineClient.id)
        .where(ClientCertificate.fingerprint == certificate.fingerprint)
    )
    if taken is not None:
        raise ClientError(f"this certificate is registered already, for {taken}")
    return ClientCertificate(
        fingerprint=certificate.fingerprint,
        subject=certificate.subject,
        not_before=certificate.not_before,
        not_after=certificate.not_after,
        added_by=by[:64],
    )


def add_client(session: Session, organisation_name: str, name: str, pem: bytes, by: str) -> MachineClient:
    """Register a system of a responder organisation with its first certificate (audited)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ClientError(f"--name: 1 to {MAX_NAME} characters")
    organisation = session.scalars(select(Organisation).where(Organisation.name == organisation_name)).first()
    if organisation is None:
        raise ClientError(f"no such organisation: {organisation_name}")
    if not roles.may_ask_signals(organisation.kind):
        kinds = ", ".join(sorted(roles.RESPONDER_ORGANISATION_KINDS))
        raise ClientError(
            f"only a responder organisation ({kinds}) may register a system; "
            f"{organisation_name} is {OrganisationKind.label_of(organisation.kind)} ({organisation.kind})"
        )
    if session.scalar(select(MachineClient.id).where(MachineClient.name == name)) is not None:
        raise ClientError(f"a system with this name exists already: {name}")
    certificate = _new_certificate(session, pem, by)
    client = MachineClient(
        name=name, organisation=organisation, created_by=by[:64], certificates=[certificate]
    )
    session.add(client)
    session.flush()
    _audit(session, "client_add", client, certificate)
    return client


def get_client(session: Session, name: str) -> MachineClient:
    client = session.scalars(select(MachineClient).where(MachineClient.name == name)).first()
    if client is None:
        raise ClientError(f"no such system: {name}")
    return client


def rotate(session: Session, name: str, pem: bytes, by: str) -> ClientCertificate:
    """Add a certificate to a client; the ones it has keep working until revoked or expired."""
    client = get_client(session, name)
    if client.revoked_at is not None:
        raise ClientError(f"{name} is revoked: register the system anew under another name")
    certificate = _new_certificate(session, pem, by)
    client.certificates.append(certificate)
    session.flush()
    _audit(session, "client_rotate", client, certificate)
    return certificate


def revoke(session: Session, name: str, fingerprint: str | None) -> list[ClientCertificate]:
    """Revoke one certificate of a client (by its fingerprint), or, without one, the client
    itself with every certificate: refused from the next request on. Returns what was revoked."""
    client = get_client(session, name)
    now = utcnow()
    if fingerprint is not None:
        wanted = normalise_fingerprint(fingerprint)
        chosen = [c for c in client.certificates if c.fingerprint == wanted]
        if not chosen:
            raise ClientError(f"{name} has no certificate with fingerprint {wanted}")
    else:
        chosen = list(client.certificates)
        if client.revoked_at is None:
            client.revoked_at = now
    revoked = [c for c in chosen if c.revoked_at is None]
    for certificate in revoked:
        certificate.revoked_at = now
    session.flush()
    audit.record(
        session,
        "client_revoke",
        "success",
        username="cli",
        object_type="client",
        object_id=client.id,
        detail={
            "client": client.name,
            "organisation": client.organisation.name,
            "whole_client": fingerprint is None,
            "fingerprints": [c.fingerprint for c in revoked],
        },
    )
    return revoked


def list_clients(session: Session) -> list[MachineClient]:
    """Every registered system with its certificates (audited: the list names organisations)."""
    clients = list(session.scalars(select(MachineClient).order_by(MachineClient.name)))
    audit.record(session, "client_list", "success", username="cli", detail={"shown": len(clients)})
    return clients


def _audit(session: Session, action: str, client: MachineClient, certificate: ClientCertificate) -> None:
    audit.record(
        session,
        action,
        "success",
        username="cli",
        object_type="client",
        object_id=client.id,
        detail={
            "client": client.name,
            "organisation": client.organisation.name,
            "fingerprint": certificate.fingerprint,
            "subject": certificate.subject,
            "not_after": certificate.not_after.isoformat(),
            "by": certificate.added_by,
        },
    )


# --- recognising a client by its certificate -----------------------------------------------------


@dataclass(frozen=True)
class ClientCaller:
    """The system that sent a request, as its certificate identified it: plain values."""

    client_id: int
    name: str
    fingerprint: str
    organisation_id: int
    organisation_name: str
    organisation_kind: str
    # the organisation's meldingnummer format (registry.core.rules.incident_ref_problem)
    incident_ref_pattern: str | None
    incident_ref_example: str | None

    @property
    def audit_name(self) -> str:
        return f"{AUDIT_PREFIX}{self.name}"


class ClientRefused(Exception):
    """The certificate names no client that may call now; `reason` is a code, `message` the
    integrator's explanation (Dutch, like every answer)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


_clients = Base.metadata.tables[MachineClient.__tablename__]
_certificates = Base.metadata.tables[ClientCertificate.__tablename__]
_organisations = Base.metadata.tables[Organisation.__tablename__]
# on every call of a client: one statement, built once
_BY_FINGERPRINT = (
    select(
        _clients.c.id,
        _clients.c.name,
        _clients.c.revoked_at.label("client_revoked_at"),
        _certificates.c.not_before,
        _certificates.c.not_after,
        _certificates.c.revoked_at,
        _organisations.c.id.label("organisation_id"),
        _organisations.c.name.label("organisation_name"),
        _organisations.c.kind,
        _organisations.c.incident_ref_pattern,
        _organisations.c.incident_ref_example,
    )
    .select_from(
        _certificates.join(_clients, _clients.c.id == _certificates.c.client_id).join(
            _organisations, _organisations.c.id == _clients.c.organisation_id
        )
    )
    .where(_certificates.c.fingerprint == bindparam("fingerprint"))
)


def authenticate(session: Session, der: bytes) -> ClientCaller:
    """The registered client behind a certificate (its DER encoding), or ClientRefused: unknown,
    revoked (the certificate or the whole client), not yet or no longer valid, or of an
    organisation that may no longer ask (its kind changed)."""
    fingerprint = fingerprint_of(der)
    row = session.connection().execute(_BY_FINGERPRINT, {"fingerprint": fingerprint}).first()
    if row is None:
        raise ClientRefused(
            "unknown_certificate",
            "Dit certificaat hoort bij geen geregistreerd systeem. Laat het registreren door de "
            "beheerder van Samen Op (samenop client add).",
        )
    if row.revoked_at is not None or row.client_revoked_at is not None:
        raise ClientRefused(
            "revoked", "Dit certificaat of systeem is ingetrokken. Vraag de beheerder van Samen Op."
        )
    now = utcnow()
    if not row.not_before <= now < row.not_after:
        raise ClientRefused(
            "expired",
            "Dit certificaat is verlopen of nog niet geldig. Laat een nieuw certificaat registreren "
            "(samenop client rotate).",
        )
    if not roles.may_ask_signals(row.kind):
        raise ClientRefused(
            "organisation_kind", "De organisatie van dit systeem is geen politie, CIT of Veilig Thuis."
        )
    return ClientCaller(
        client_id=row.id,
        name=row.name,
        fingerprint=fingerprint,
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        organisation_kind=row.kind,
        incident_ref_pattern=row.incident_ref_pattern,
        incident_ref_example=row.incident_ref_example,
    )
