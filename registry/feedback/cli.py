"""`samenop feedback digest` (the worker, 07.00 on weekdays), `samenop feedback escalate` (the
worker, every 5 minutes) and `samenop closed-days` (extra non-working days)."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from registry.core import audit
from registry.core.db import db
from registry.core.models import ClosedDay
from registry.core.timeutil import local_today
from registry.feedback import digest, spoed
from registry.ops import mail, outbox

_DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group("feedback")
def feedback() -> None:
    """Feedback to the plans' owners."""


@feedback.command("digest")
@click.option("--date", "on", type=_DATE, default=None, help="the day to report on (default: today)")
@with_appcontext
def digest_command(on: datetime | None) -> None:
    """E-mail each organisation the number of feedback items due that day (no names)."""
    day = on.date() if on else local_today(current_app.config["TIMEZONE"])
    if not mail.configured():
        raise click.ClickException("SAMENOP_SMTP_URL is not set: no e-mail can be sent")
    queued = digest.queue(db.session, day)
    for item in queued:
        click.echo(
            f"{item.organisation}: {item.due} due, {item.overdue} late -> {len(item.outbox_ids)} recipient(s)"
        )
    audit.record(
        db.session,
        "feedback_digest",
        "success",
        username="cli",
        detail={"date": day.isoformat(), "organisations": len(queued)},
    )
    db.commit()  # the day's digests and their messages together: a second run adds none
    delivery = outbox.deliver(db.session, [i for item in queued for i in item.outbox_ids])
    click.echo(delivery.line())
    click.echo(f"{len(queued)} digest(s) sent for {day.isoformat()}")


@feedback.command("escalate")
@with_appcontext
def escalate_command() -> None:
    """E-mail the coordinators of each organisation about spoedmeldingen past their deadline
    that it did not acknowledge: once per melding, at any hour (the worker: every 5 minutes)."""
    if not mail.configured():
        raise click.ClickException("SAMENOP_SMTP_URL is not set: no e-mail can be sent")
    sent = spoed.escalate(db.session, db.commit)
    for item in sent:
        count = len(item.messages)
        click.echo(f"{item.organisation}: spoedmelding {item.report_id} -> {count} coordinator(s)")
    if sent:
        click.echo(outbox.deliver(db.session, [i for item in sent for i in item.outbox_ids]).line())
    click.echo(f"{len(sent)} escalation(s) sent")


@click.group("closed-days")
def closed_days() -> None:
    """Extra days without feedback duty (on top of weekends and public holidays)."""


@closed_days.command("add")
@click.argument("day", type=_DATE)
@click.option("--reason", default="")
@with_appcontext
def closed_add(day: datetime, reason: str) -> None:
    if db.session.get(ClosedDay, day.date()) is None:
        db.session.add(ClosedDay(day_on=day.date(), reason=reason))
        audit.record(
            db.session, "closed_day_add", "success", username="cli", object_id=day.date().isoformat()
        )
        db.commit()
    click.echo(f"closed: {day.date().isoformat()} {reason}".rstrip())


@closed_days.command("remove")
@click.argument("day", type=_DATE)
@with_appcontext
def closed_remove(day: datetime) -> None:
    row = db.session.get(ClosedDay, day.date())
    if row is None:
        raise click.ClickException(f"not a closed day: {day.date().isoformat()}")
    db.session.delete(row)
    audit.record(db.session, "closed_day_remove", "success", username="cli", object_id=day.date().isoformat())
    db.commit()
    click.echo(f"open again: {day.date().isoformat()}")


@closed_days.command("list")
@with_appcontext
def closed_list() -> None:
    # today in the configured zone, not the server's (UTC): the day a closed day is about
    today = local_today(current_app.config["TIMEZONE"])
    for row in db.session.scalars(
        select(ClosedDay).where(ClosedDay.day_on >= today).order_by(ClosedDay.day_on)
    ):
        click.echo(f"{row.day_on.isoformat()} {row.reason}".rstrip())
