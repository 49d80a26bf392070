"""The `samenop` command line (also reachable as `flask --app wsgi ...`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from registry.auth import accounts, passwords, two_factor
from registry.core import audit, signals
from registry.core.db import db
from registry.core.models import Organisation
from registry.core.vocabulary import OrganisationKind, Role
from registry.ops import schema


def register_commands(app: Flask) -> None:
    from registry.clients.cli import client
    from registry.feedback.cli import closed_days, feedback
    from registry.ops.migrate_cli import db_group
    from registry.ops.worker_cli import outbox_group, worker_group
    from registry.plans.cli import plans
    from registry.privacy.cli import privacy
    from registry.regions.cli import region
    from registry.webhooks.cli import webhook

    for command in (init, demo, serve, org, region, user, audit_group, plans, feedback, closed_days, privacy):
        app.cli.add_command(command)
    for command in (purge, backup_command, restore_command, client, webhook):
        app.cli.add_command(command)
    app.cli.add_command(db_group)
    app.cli.add_command(worker_group)
    app.cli.add_command(outbox_group)


def _check_totp_key() -> None:
    """Refuse to go on with a TOTP key that does not open the stored secrets: nobody could
    log in, and it must not look like everyone typing wrong codes."""
    try:
        with db.reading() as session:
            two_factor.check_key(session)
    except two_factor.TotpKeyError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@with_appcontext
def init() -> None:
    """Create or upgrade the database through the migrations, and refresh planner statistics."""
    schema.upgrade(current_app.config["DATABASE_URL"])
    schema.analyze(current_app.config["DATABASE_URL"])
    _check_totp_key()
    signals.database_ready.send(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo("database is up to date")


@click.command()
@with_appcontext
def demo() -> None:
    """init + synthetic demo organisations, users and plans; prints the logins."""
    from registry.ops import demo as demo_data

    schema.upgrade(current_app.config["DATABASE_URL"])
    click.echo(demo_data.load_or_create())


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@click.option(
    "--certfile",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="TLS: the server's certificate (PEM)",
)
@click.option(
    "--keyfile", default=None, type=click.Path(exists=True, dir_okay=False), help="TLS: its private key (PEM)"
)
@click.option(
    "--client-ca",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="TLS: the CA(s) of the machine clients' certificates; a client may then show one (mutual TLS)",
)
@with_appcontext
def serve(
    host: str,
    port: int,
    workers: int,
    threads: int,
    certfile: str | None,
    keyfile: str | None,
    client_ca: str | None,
) -> None:
    """Serve with gunicorn (plain HTTP behind a TLS proxy, or TLS itself with --certfile)."""
    from registry.ops.server import Tls, run

    if (certfile is None) != (keyfile is None) or (client_ca is not None and certfile is None):
        raise click.UsageError("TLS takes --certfile and --keyfile (and optionally --client-ca)")
    tls = Tls(certfile, keyfile, client_ca) if certfile and keyfile else None
    _check_totp_key()
    run(current_app._get_current_object(), host, port, workers, threads, tls)  # type: ignore[attr-defined]


@click.group()
def org() -> None:
    """Organisations."""


@org.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(OrganisationKind.codes()), required=True)
@click.option("--region", default=None, help="the region's name (added when there is none yet)")
@with_appcontext
def org_add(name: str, kind: str, region: str | None) -> None:
    """Add an organisation, in a region."""
    if db.session.scalars(select(Organisation).where(Organisation.name == name)).first():
        raise click.ClickException(f"organisation already exists: {name}")
    organisation = accounts.create_organisation(db.session, name, kind, region)
    audit.record(
        db.session,
        "organisation_create",
        "success",
        username="cli",
        object_type="organisation",
        object_id=organisation.id,
    )
    db.commit()
    where = f" in region {region}" if region else ""
    click.echo(f"organisation {organisation.id}: {name} ({kind}){where}")


@org.command("meldingnummer")
@click.argument("name")
@click.option("--pattern", default=None, help="a regular expression the whole meldingnummer matches")
@click.option(
    "--example", default=None, help="a meldingnummer of this format, shown to whoever types another"
)
@click.option("--clear", is_flag=True, help="no format of its own: any number with a digit in it")
@with_appcontext
def org_meldingnummer(name: str, pattern: str | None, example: str | None, clear: bool) -> None:
    """Set the format of an organisation's meldingnummers: its responders' lookups must give one."""
    organisation = db.session.scalars(select(Organisation).where(Organisation.name == name)).first()
    if organisation is None:
        raise click.ClickException(f"no such organisation: {name}")
    if clear == (pattern is not None):
        raise click.ClickException("give --pattern (with --example) or --clear")
    if pattern is not None:
        try:
            accounts.set_incident_ref_format(organisation, pattern, example)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    else:
        accounts.set_incident_ref_format(organisation, None, None)
    audit.record(
        db.session,
        "organisation_incident_ref_format",
        "success",
        username="cli",
        object_type="organisation",
        object_id=organisation.id,
        detail={"pattern": pattern or "", "example": example or ""},
    )
    db.commit()
    shown = f"{pattern} (e.g. {example})" if pattern else "any number with a digit in it"
    click.echo(f"meldingnummers of {name}: {shown}")


# one address, as SMTP takes it: something@domain.tld, no spaces, no list, no display name
_SPOED_EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]+")


@org.command("spoed")
@click.argument("name")
@click.option("--email", default=None, help="the on-call address that hears of a spoedmelding at once")
@click.option("--clear", is_flag=True, help="no spoed address: spoedmeldingen show in Terugkoppeling only")
@with_appcontext
def org_spoed(name: str, email: str | None, clear: bool) -> None:
    """Set the address an organisation's spoedmeldingen are announced to at once, at any hour."""
    organisation = db.session.scalars(select(Organisation).where(Organisation.name == name)).first()
    if organisation is None:
        raise click.ClickException(f"no such organisation: {name}")
    if clear == (email is not None):
        raise click.ClickException("give --email or --clear")
    if email is not None:
        email = email.strip()
        if len(email) > 254 or _SPOED_EMAIL.fullmatch(email) is None:
            raise click.ClickException(f"--email: not one e-mail address: {email!r}")
    organisation.spoed_email = email
    audit.record(
        db.session,
        "organisation_spoed_email",
        "success",
        username="cli",
        object_type="organisation",
        object_id=organisation.id,
        detail={"email": email or ""},
    )
    db.commit()
    click.echo(f"spoed address of {name}: {email or 'none'}")


@click.group()
def user() -> None:
    """Accounts."""


@user.command("add")
@click.argument("username")
@click.option("--org", "org_name", required=True, help="the organisation's name")
@click.option("--role", "roles", type=click.Choice(Role.codes()), multiple=True, required=True)
@click.option("--name", "display_name", default=None)
@click.option("--email", default=None)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--print-totp-secret", is_flag=True, help="print 'totp_secret: <base32>'")
@with_appcontext
def user_add(
    username: str,
    org_name: str,
    roles: tuple[str, ...],
    display_name: str | None,
    email: str | None,
    password_stdin: bool,
    print_totp_secret: bool,
) -> None:
    """Add an account: scripted (--password-stdin) or through an enrolment link."""
    organisation = db.session.scalars(select(Organisation).where(Organisation.name == org_name)).first()
    if organisation is None:
        raise click.ClickException(f"no such organisation: {org_name}")
    if db.session.scalars(
        select(accounts.User).where(accounts.User.username == accounts.normalise_username(username))
    ).first():
        raise click.ClickException(f"user already exists: {username}")
    try:
        account = accounts.create_user(db.session, username, organisation, list(roles), display_name, email)
    except accounts.RoleNotAllowed as exc:
        db.rollback()
        _record_refused_role(
            "user_create", accounts.normalise_username(username), {"roles": sorted(roles), "reason": str(exc)}
        )
        raise click.ClickException(str(exc)) from None
    secret = raw = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        try:
            accounts.set_password(db.session, account, password)
        except passwords.PasswordPolicyError as exc:
            raise click.ClickException(str(exc)) from None
        secret = accounts.provision_totp(account)
        account.enrolled_at = account.password_changed_at
    else:
        raw = accounts.issue_enrolment(account, current_app.config["ENROLMENT_VALID_HOURS"])
    audit.record(
        db.session,
        "user_create",
        "success",
        username="cli",
        object_type="user",
        object_id=account.id,
        detail={"roles": sorted(set(roles))},
    )
    db.commit()
    if raw is None:
        click.echo(f"user {account.username} ({', '.join(sorted(roles))}) at {organisation.name}")
        if print_totp_secret:
            click.echo(f"totp_secret: {secret}")
        return
    from flask import url_for

    with current_app.test_request_context():
        link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.enrol", token=raw)
    hours = current_app.config["ENROLMENT_VALID_HOURS"]
    click.echo(f"user {account.username} created; enrolment link (valid {hours} h):")
    click.echo(link)


def _record_refused_role(action: str, username: str, detail: dict[str, Any]) -> None:
    """A role the administrator asked for and the rules refused: kept in the audit log."""
    audit.record(
        db.session,
        action,
        "refused",
        username="cli",
        object_type="username",
        object_id=username,
        detail=detail,
    )
    db.commit()


@user.command("role")
@click.argument("username")
@click.option("--add", "added", type=click.Choice(Role.codes()), multiple=True, help="grant this role")
@click.option(
    "--remove", "removed", type=click.Choice(Role.codes()), multiple=True, help="take this role away"
)
@with_appcontext
def user_role(username: str, added: tuple[str, ...], removed: tuple[str, ...]) -> None:
    """Grant or take away roles of an existing account (the lookup role only this way)."""
    if not added and not removed:
        raise click.UsageError("say what to change: --add ROLE and/or --remove ROLE")
    if set(added) & set(removed):
        raise click.UsageError("a role cannot be added and removed at once")
    name = accounts.normalise_username(username)
    account = db.session.scalars(select(accounts.User).where(accounts.User.username == name)).first()
    if account is None:
        raise click.ClickException(f"no such user: {username}")
    try:
        granted = [role for role in sorted(set(added)) if accounts.grant_role(db.session, account, role)]
    except accounts.RoleNotAllowed as exc:
        db.rollback()
        _record_refused_role("user_role_grant", name, {"roles": sorted(set(added)), "reason": str(exc)})
        raise click.ClickException(str(exc)) from None
    revoked = [role for role in sorted(set(removed)) if accounts.revoke_role(db.session, account, role)]
    for action, roles in (("user_role_grant", granted), ("user_role_revoke", revoked)):
        for role in roles:
            audit.record(
                db.session,
                action,
                "success",
                username="cli",
                object_type="user",
                object_id=account.id,
                detail={"role": role},
            )
    db.commit()
    held = ", ".join(sorted(account.roles)) or "none"
    click.echo(f"user {account.username} at {account.organisation.name}: roles {held}")


@user.command("unlock")
@click.argument("username")
@with_appcontext
def user_unlock(username: str) -> None:
    """Lift a login lock (after too many failed attempts)."""
    found = accounts.unlock(db.session, username)
    audit.record(
        db.session,
        "user_unlock",
        "success" if found else "not_locked",
        username="cli",
        object_type="username",
        object_id=accounts.normalise_username(username),
    )
    db.commit()
    click.echo(f"{username}: unlocked" if found else f"{username}: was not locked")


@click.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check the hash chain of the audit log; exit 1 when it is broken."""
    result = audit.verify(db.session)
    if result.ok:
        since = (
            f" (from row {result.first_entry_id}; older rows removed after their retention)"
            if result.first_entry_id != 1
            else ""
        )
        click.echo(f"audit chain intact: {result.checked} entries{since}")
        return
    for problem in result.problems:
        click.echo(f"BROKEN: {problem}", err=True)
    sys.exit(1)


@click.command()
@click.option("--dry-run", is_flag=True, help="count what would go, change nothing")
@with_appcontext
def purge(dry_run: bool) -> None:
    """Remove personal data past its retention period, and audit rows past theirs."""
    from registry.core.timeutil import utcnow
    from registry.ops import retention

    result = retention.purge(
        db.session,
        utcnow(),
        current_app.config["RETENTION_MONTHS"],
        current_app.config["AUDIT_RETENTION_MONTHS"],
    )
    lines = result.lines()
    if dry_run:
        db.rollback()
        click.echo("dry run, nothing changed; a purge now would remove:")
    else:
        db.commit()
    for line in lines:
        click.echo(line)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Copy the SQLite database to PATH while the app runs, and check the copy."""
    from registry.ops import backup

    try:
        summary = backup.backup(current_app.config["DATABASE_URL"], path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {path.resolve()}")
    for line in summary.lines():
        click.echo(line)


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(path: Path) -> None:
    """Replace the SQLite database with the backup at PATH (stop the app first)."""
    from registry.ops import backup

    # this process's own connections must not outlive the file they point to
    db.engine.dispose()
    try:
        summary = backup.restore(current_app.config["DATABASE_URL"], path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    db.engine.dispose()
    click.echo(f"restored from {path.resolve()}")
    for line in summary.lines():
        click.echo(line)
    # the search index describes the database that was replaced: build it anew (lookup's
    # command, reached through the CLI so that registry does not import lookup)
    index = current_app.cli.commands.get("index")
    rebuild = index.commands.get("rebuild") if isinstance(index, click.Group) else None
    if rebuild is None:
        click.echo("now run `samenop index rebuild`")
        return
    click.get_current_context().invoke(rebuild)
