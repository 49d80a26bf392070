"""`samenop client add|rotate|revoke|list`: the systems of responder organisations that ask for
signals, by their client certificates (audited)."""

from __future__ import annotations

from typing import BinaryIO

import click
from flask.cli import with_appcontext

from registry.clients import operations
from registry.core import audit
from registry.core.db import db
from registry.core.timeutil import utcnow


def _fail(exc: operations.ClientError) -> click.ClickException:
    db.rollback()
    return click.ClickException(str(exc))


@click.group("client")
def client() -> None:
    """Systems of the control room (machine clients): mutual TLS, signals only."""


@client.command("add")
@click.option(
    "--org", "org_name", required=True, help="the responder organisation (police, cit, veilig_thuis)"
)
@click.option(
    "--name", required=True, help=f"the system's name, unique, at most {operations.MAX_NAME} characters"
)
@click.option(
    "--cert", "cert", type=click.File("rb"), required=True, help="its client certificate, PEM (- : stdin)"
)
@with_appcontext
def client_add(org_name: str, name: str, cert: BinaryIO) -> None:
    """Register a system with its client certificate."""
    try:
        added = operations.add_client(db.session, org_name, name, cert.read(), audit.command_actor())
    except operations.ClientError as exc:
        raise _fail(exc) from None
    db.commit()
    certificate = added.certificates[0]
    click.echo(f"client {added.name} ({org_name}): certificate {certificate.fingerprint}")
    click.echo(f"valid until {certificate.not_after:%Y-%m-%d %H:%M} UTC")


@client.command("rotate")
@click.argument("name")
@click.option(
    "--cert", "cert", type=click.File("rb"), required=True, help="the new certificate, PEM (- : stdin)"
)
@with_appcontext
def client_rotate(name: str, cert: BinaryIO) -> None:
    """Add a new certificate; the old one keeps working until you revoke it."""
    try:
        added = operations.rotate(db.session, name, cert.read(), audit.command_actor())
    except operations.ClientError as exc:
        raise _fail(exc) from None
    db.commit()
    click.echo(f"client {name}: certificate {added.fingerprint} added")
    click.echo(
        f"revoke the old one when the system uses the new: samenop client revoke {name!r} --fingerprint ..."
    )


@client.command("revoke")
@click.argument("name")
@click.option("--fingerprint", default=None, help="revoke only this certificate (SHA-256, hex)")
@with_appcontext
def client_revoke(name: str, fingerprint: str | None) -> None:
    """Revoke one certificate, or (without --fingerprint) the system itself."""
    try:
        revoked = operations.revoke(db.session, name, fingerprint)
    except operations.ClientError as exc:
        raise _fail(exc) from None
    db.commit()
    what = "certificate" if fingerprint else "client and every certificate"
    click.echo(f"client {name}: {what} revoked ({len(revoked)} certificate(s) newly revoked)")


@client.command("list")
@with_appcontext
def client_list() -> None:
    """Every registered system, its organisation and certificates."""
    clients = operations.list_clients(db.session)
    db.commit()
    now = utcnow()
    for registered in clients:
        state = "revoked" if registered.revoked_at else "active"
        click.echo(f"{registered.name}\t{registered.organisation.name}\t{state}\tby {registered.created_by}")
        for certificate in registered.certificates:
            if certificate.revoked_at is not None or registered.revoked_at is not None:
                status = "revoked"
            elif certificate.not_after <= now:
                status = "expired"
            elif certificate.not_before > now:
                status = "not yet valid"
            else:
                status = "valid"
            click.echo(
                f"  {certificate.fingerprint}\t{status}\t"
                f"{certificate.not_before:%Y-%m-%d}..{certificate.not_after:%Y-%m-%d}\t{certificate.subject}"
            )
    if not clients:
        click.echo("no clients registered")
