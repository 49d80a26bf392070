"""`samenop webhook add|list|rotate-secret|disable`: an organisation's webhook endpoints
(audited). The secret is printed once, when it is made."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from registry.core import audit
from registry.core.db import db
from registry.core.models import WebhookEndpoint
from registry.core.vocabulary import WebhookEvent
from registry.webhooks import operations


def _fail(message: str) -> click.ClickException:
    db.rollback()
    return click.ClickException(message)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    try:
        return operations.get_endpoint(db.session, endpoint_id)
    except operations.NotFound:
        raise _fail(f"no such webhook: {endpoint_id}") from None


def _show_secret(secret: str) -> None:
    click.echo(f"secret: {secret}")
    click.echo(
        "the secret is shown only now: give it to the receiving system, which checks every signature with it"
    )


@click.group("webhook")
def webhook() -> None:
    """Webhooks: an organisation's system told of events by a signed POST."""


@webhook.command("add")
@click.option("--org", "org_name", required=True, help="the organisation whose events it receives")
@click.option("--url", required=True, help="where the events are posted (https://)")
@click.option("--events", required=True, help=f"comma-separated, of: {', '.join(WebhookEvent.codes())}")
@with_appcontext
def webhook_add(org_name: str, url: str, events: str) -> None:
    """Add an endpoint; prints its signing secret, once."""
    try:
        organisation = operations.find_organisation(db.session, org_name)
        endpoint, secret = operations.add_endpoint(
            db.session, organisation, url, events.split(","), audit.command_actor()
        )
    except operations.WebhookError as exc:
        raise _fail(f"--{exc.field}: {exc.message}") from None
    db.commit()
    click.echo(f"webhook {endpoint.id} of {org_name}: {endpoint.url} ({', '.join(endpoint.events)})")
    _show_secret(secret)


@webhook.command("list")
@click.option("--org", "org_name", default=None, help="only this organisation's endpoints")
@with_appcontext
def webhook_list(org_name: str | None) -> None:
    """Every endpoint (or one organisation's): its id, organisation, state, URL and events."""
    try:
        organisation_id = operations.find_organisation(db.session, org_name).id if org_name else None
    except operations.WebhookError as exc:
        raise _fail(exc.message) from None
    endpoints = operations.endpoints_of(db.session, organisation_id, audit.command_actor())
    db.commit()
    for endpoint in endpoints:
        state = "active" if endpoint.is_active else f"disabled {endpoint.disabled_at:%Y-%m-%d}"
        click.echo(
            f"{endpoint.id}\t{endpoint.organisation.name}\t{state}\t{endpoint.url}\t{','.join(endpoint.events)}"
        )
    if not endpoints:
        click.echo("no webhooks")


@webhook.command("rotate-secret")
@click.argument("endpoint_id", type=int)
@with_appcontext
def webhook_rotate(endpoint_id: int) -> None:
    """A new signing secret; the previous one signs beside it for 24 hours."""
    endpoint = _endpoint(endpoint_id)
    try:
        secret = operations.rotate_secret(db.session, endpoint, audit.command_actor())
    except operations.WebhookError as exc:
        raise _fail(exc.message) from None
    db.commit()
    until = f"{endpoint.previous_secret_until:%Y-%m-%d %H:%M} UTC"
    click.echo(f"webhook {endpoint.id}: new secret; the previous one signs beside it until {until}")
    _show_secret(secret)


@webhook.command("disable")
@click.argument("endpoint_id", type=int)
@with_appcontext
def webhook_disable(endpoint_id: int) -> None:
    """Stop posting to an endpoint; what still waits for it is given up."""
    endpoint = _endpoint(endpoint_id)
    operations.disable(db.session, endpoint, audit.command_actor())
    db.commit()
    click.echo(f"webhook {endpoint.id}: disabled")
