"""`samenop plans expire`: expire plans past valid_until and remind owners before expiry."""

from __future__ import annotations

from collections import defaultdict

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from registry.core.db import db
from registry.core.models import User, UserRole
from registry.core.timeutil import local_today
from registry.core.vocabulary import Role
from registry.ops import mail
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
    db.commit()
    click.echo(f"{len(expired)} plan(s) expired, {len(reminders)} reminder(s) due")
    if reminders and mail.configured():
        sent = _mail_reminders(reminders)
        click.echo(f"{sent} reminder e-mail(s) sent")


def _mail_reminders(reminders: list[operations.Reminder]) -> int:
    """One e-mail per organisation with counts and a link: no titles or names by e-mail."""
    by_org: dict[int, list[operations.Reminder]] = defaultdict(list)
    for reminder in reminders:
        by_org[reminder.plan.owner_organisation_id].append(reminder)
    sent = 0
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
            )
            if user.email
        ]
        if not recipients:
            continue
        soon = sum(1 for r in items if r.days == 3)
        body = (
            f"Er {'is' if len(items) == 1 else 'zijn'} {len(items)} handelingskader(s) van uw organisatie "
            f"die binnenkort verlopen ({soon} binnen 3 dagen).\n\n"
            "Verlengt u ze niet, dan vindt de meldkamer ze na de einddatum niet meer.\n"
            f"Bekijk ze in Samen Op: {current_app.config['BASE_URL'].rstrip('/')}/plans?status=active\n"
        )
        mail.send(recipients, "Samen Op: handelingskaders verlopen binnenkort", body)
        sent += 1
    return sent
