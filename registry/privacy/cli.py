"""`samenop privacy scan`: flag unusual lookups for the privacy officer (cron, every hour)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from registry.core.db import db
from registry.core.timeutil import utcnow
from registry.privacy import flags


@click.group()
def privacy() -> None:
    """The privacy officer's flags."""


@privacy.command("scan")
@click.option(
    "--days", default=2, show_default=True, type=click.IntRange(1, 60), help="today and the days before"
)
@with_appcontext
def scan(days: int) -> None:
    """Flag unusual lookups (many in an hour, on a name alone, without a report, off-hours)."""
    config = current_app.config
    added = flags.scan(db.session, utcnow(), config["TIMEZONE"], flags.Thresholds.of(config), days)
    db.commit()
    click.echo(f"{added} new flag(s)")
