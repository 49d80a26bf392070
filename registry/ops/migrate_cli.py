"""`samenop db`: write, apply and inspect the schema's migrations (docs/migrations.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations.ops import MigrationScript
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from flask import current_app
from flask.cli import with_appcontext

from registry.core.db import engine_for
from registry.ops import schema


def _config() -> Config:
    # MIGRATIONS_DIR: another copy of migrations/, for the tests; unset everywhere else
    return schema.alembic_config(current_app.config["DATABASE_URL"], current_app.config.get("MIGRATIONS_DIR"))


def _database_revisions() -> tuple[str, ...]:
    engine = engine_for(current_app.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()


@contextmanager
def _alembic_errors() -> Iterator[None]:
    """Alembic's own refusals (an unknown revision, two heads) as one line, not a traceback."""
    try:
        yield
    except (CommandError, RevisionError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group("db")
def db_group() -> None:
    """The schema's migrations: write, apply, inspect (docs/migrations.md)."""


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="what it changes, e.g. 'plans: add region'")
@click.option("--empty", is_flag=True, help="a blank revision, for a data move written by hand")
@with_appcontext
def revision(message: str, empty: bool) -> None:
    """Write a revision: what the models have that the database (at head) lacks."""
    config = _config()
    changes: list[bool] = []

    def note_changes(_context: Any, _revision: Any, directives: list[MigrationScript]) -> None:
        changes.extend(not ops.is_empty() for script in directives for ops in script.upgrade_ops_list)

    with _alembic_errors():
        heads = ScriptDirectory.from_config(config).get_heads()
        if len(heads) > 1:
            raise click.ClickException(
                f"the migrations have {len(heads)} heads ({', '.join(heads)}); there must be one: "
                "point the newer revision's down_revision at the other (docs/migrations.md)"
            )
        if not empty:
            _refuse_unless_at_head(heads)
        script = command.revision(
            config,
            message=message,
            autogenerate=not empty,
            process_revision_directives=None if empty else note_changes,
        )
    if not empty and not any(changes):
        click.echo(
            "the models and the database agree: the revision is empty; fill it in (a data move) or delete it"
        )
    if script is not None and not isinstance(script, list):
        click.echo(f"review {script.path} before you commit it (docs/migrations.md)")


def _refuse_unless_at_head(heads: list[str]) -> None:
    """Autogenerate compares the models with the database as the migrations left it: a database
    behind head would put revisions that exist already into the new one."""
    at = _database_revisions()
    if sorted(at) != sorted(heads):
        where = ", ".join(at) if at else "no revision (no schema yet)"
        raise click.ClickException(
            f"the database is at {where}, not at head {', '.join(heads)}: run `samenop db upgrade` "
            "first (or `samenop db revision --empty` for a revision written by hand)"
        )


# '-1' is a relative revision, not an option
RELATIVE = {"ignore_unknown_options": True}


@db_group.command("upgrade", context_settings=RELATIVE)
@click.argument("target", default="head")
@with_appcontext
def upgrade(target: str) -> None:
    """Apply the migrations up to TARGET (default: head; '+1' is one step)."""
    with _alembic_errors():
        command.upgrade(_config(), target)
    _echo_current()


@db_group.command("downgrade", context_settings=RELATIVE)
@click.argument("target")
@with_appcontext
def downgrade(target: str) -> None:
    """Undo the migrations after TARGET (a revision; '-1' is one step, 'base' all of them)."""
    with _alembic_errors():
        command.downgrade(_config(), target)
    _echo_current()


@db_group.command("current")
@with_appcontext
def current() -> None:
    """The revision the database is at."""
    _echo_current()


def _echo_current() -> None:
    script = ScriptDirectory.from_config(_config())
    at = _database_revisions()
    if not at:
        click.echo("database at no revision (no schema yet)")
    heads = set(script.get_heads())
    for revision_id in at:
        try:
            found = script.get_revision(revision_id)
        except RevisionError:
            found = None
        if found is None:
            click.echo(f"database at {revision_id}: not among these migrations (written by newer code?)")
            continue
        where = "head" if revision_id in heads else "behind head"
        click.echo(f"database at {revision_id} ({where}): {found.doc}")


@db_group.command("history")
@with_appcontext
def history() -> None:
    """Every revision, newest first."""
    with _alembic_errors():
        command.history(_config())
