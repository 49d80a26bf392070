"""`samenop plans expire`: expire plans past valid_until and remind owners before expiry."""

from __future__ import annotations

import hashlib
from collections import defaultdict

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from registry.core import dutch
from registry.core.db import db
from registry.core.models import User, UserRole
from registry.core.timeutil import local_today
from registry.core.vocabulary import Role
from registry.ops import mail, outbox
from registry.plans import operations


@click.group("plans")
def plans() -> None:
    """Handelingskaders."""


@plans.command("expire")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="as if today were this date",
)
@with_appcontext
def expire(on: object) -> None:
    """Expire plans past valid_until; remind owners 14 and 3 days before expiry."""
    today = on.date() if on is not None else local_today(current_app.config["TIMEZONE"])  # type: ignore[attr-defined]
    expired = operations.expire_plans(db.session, today)
    reminders = operations.due_reminders(db.session, today)
    ids = _queue_reminders(reminders) if reminders and mail.configured() else []
    # the reminders marked as sent and their e-mails in the outbox commit together: a mail server
    # that is down delays the e-mail, it never loses it, and a rerun finds nothing due
    db.commit()
    click.echo(f"{len(expired)} plan(s) expired, {len(reminders)} reminder(s) due")
    if ids:
        click.echo(f"{len(ids)} reminder e-mail(s) queued")
        click.echo(outbox.deliver(db.session, ids).line())


def _queue_reminders(reminders: list[operations.Reminder]) -> list[int]:
    """One e-mail per organisation and registrant with counts and a link (no titles or names by
    e-mail), into the outbox. -> the rows added."""
    by_org: dict[int, list[operations.Reminder]] = defaultdict(list)
    for reminder in reminders:
        by_org[reminder.plan.owner_organisation_id].append(reminder)
    ids = []
    for organisation_id, items in by_org.items():
        recipients = [
            user.email
            for user in db.session.scalars(
                select(User)
                .join(UserRole)
                .where(
                    User.organisation_id == organisation_id,
                    UserRole.role == Role.REGISTRANT,
                    User.is_active,
                )
                .order_by(User.username)
            )
            if user.email
        ]
        soon = sum(1 for r in items if r.days == 3)
        plans = dutch.count(
            len(items),
            "handelingskader van uw organisatie verloopt binnenkort",
            "handelingskaders van uw organisatie verlopen binnenkort",
        )
        body = (
            f"{plans} ({soon} binnen 3 dagen).\n\n"
            "Verlengt u ze niet, dan vindt de meldkamer ze na de einddatum niet meer.\n"
            f"Bekijk ze in Samen Op: {current_app.config['BASE_URL'].rstrip('/')}/plans?status=active\n"
        )
        # what the message reports: these plans at these marks (each is reminded once per mark)
        marks = ",".join(sorted(f"{r.plan.id}/{r.days}" for r in items))
        what = f"expiry-reminder:{organisation_id}:{hashlib.sha256(marks.encode()).hexdigest()[:32]}"
        for recipient in recipients:
            row_id = outbox.add_email(
                db.session, what, recipient, "Samen Op: handelingskaders verlopen binnenkort", body
            )
            if row_id is not None:
                ids.append(row_id)
    return ids
