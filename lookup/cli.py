"""`samenop index rebuild`: the search index anew from the database, with a progress bar;
`samenop index compact`: merge the segments that writes leave (cron, every few minutes)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from lookup.search import document_count, index_for
from registry.core.db import db


@click.group("index")
def index() -> None:
    """The search index."""


@index.command("rebuild")
@with_appcontext
def rebuild() -> None:
    """Rebuild the search index from the database."""
    with click.progressbar(length=document_count(db.session), label="indexing active plans") as bar:
        count = index_for(current_app.config["INDEX_DIR"]).rebuild(db.session, bar.update)
    click.echo(f"indexed {count} active plan(s)")


@index.command("compact")
@with_appcontext
def compact() -> None:
    """Merge the index's small segments (a write merges only a few documents itself)."""
    before, after = index_for(current_app.config["INDEX_DIR"]).compact()
    click.echo(f"segments: {before} -> {after}")
