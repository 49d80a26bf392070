"""Migrations on an empty database: `upgrade head` equals the models, every revision goes down and up."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from registry.core.db import Base, engine_for
from registry.ops import schema


def differences(url: str) -> list[Any]:
    """What `alembic check` would report: the models against the migrated database."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "target_metadata": Base.metadata},
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = engine_for(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_on_empty_database_equals_the_models(empty_database_url):
    # Given a database without a single table
    assert tables(empty_database_url) == set()
    # When every migration runs
    schema.upgrade(empty_database_url)
    # Then the schema is exactly what the models describe
    assert differences(empty_database_url) == []
    assert tables(empty_database_url) == set(Base.metadata.tables) | {"alembic_version"}


def test_every_revision_goes_down_and_up(empty_database_url):
    url = empty_database_url
    script = ScriptDirectory.from_config(schema.alembic_config(url))
    # one line of history: two heads would mean two migrations written in parallel, unmerged
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())  # newest first
    schema.upgrade(url)
    # Down one step at a time, to an empty database
    for revision in revisions:
        assert current_revision(url) == revision.revision
        schema.downgrade(url, "-1")
    assert current_revision(url) is None
    assert tables(url) <= {"alembic_version"}
    # Up one step at a time, back at head
    for revision in reversed(revisions):
        schema.upgrade(url, "+1")
        assert current_revision(url) == revision.revision
    assert current_revision(url) == script.get_current_head()
    assert differences(url) == []
    # the audit chain's genesis row is back, so the first append after the cycle works
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            head = connection.execute(text("SELECT last_entry_id, count FROM audit_head")).one()
    finally:
        engine.dispose()
    assert tuple(head) == (0, 0)


def test_login_throttles_per_source_up_and_down_with_rows(empty_database_url):
    """Given failed-login rows of the old per-username throttle: a count, a 15-minute lock and
    a lock only a coordinator lifts
    When the migration to per-source throttling runs, and back
    Then only the coordinator's lock survives (its count, which mixed wrong passwords from
    everywhere, starts again at 0); going back, the per-source waits go and the lock stays."""
    url = empty_database_url
    schema.upgrade(url, "23f28ed23653")
    engine = engine_for(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO login_throttles "
                    "(username, consecutive_failures, last_failure_at, locked_until, hard_locked) VALUES "
                    "('counting', 3, :at, NULL, false), "
                    "('soft', 10, :at, :until, false), "
                    "('hard', 30, :at, NULL, true)"
                ),
                {"at": "2026-12-01 10:00:00+00:00", "until": "2026-12-01 10:15:00+00:00"},
            )
        # When
        schema.upgrade(url, "366b05e3eeb6")
        with engine.begin() as connection:
            rows = connection.execute(
                text("SELECT username, code_failures, hard_locked FROM login_throttles")
            ).all()
            assert [(name, failures, bool(hard)) for name, failures, hard in rows] == [("hard", 0, True)]
            assert "locked_until" not in {
                c["name"] for c in inspect(connection).get_columns("login_throttles")
            }
            connection.execute(
                text(
                    "INSERT INTO login_source_throttles "
                    "(username, source, consecutive_failures, last_failure_at, blocked_until) "
                    "VALUES ('hard', '192.0.2.1', 7, :at, :at)"
                ),
                {"at": "2026-12-01 10:00:00+00:00"},
            )
            connection.execute(text("UPDATE login_throttles SET code_failures = 12"))
        # And back
        schema.downgrade(url, "23f28ed23653")
        with engine.begin() as connection:
            rows = connection.execute(
                text("SELECT username, consecutive_failures, locked_until, hard_locked FROM login_throttles")
            ).all()
            assert [(name, failures, until, bool(hard)) for name, failures, until, hard in rows] == [
                ("hard", 12, None, True)
            ]
            assert "login_source_throttles" not in inspect(connection).get_table_names()
    finally:
        engine.dispose()
    schema.upgrade(url)
    assert differences(url) == []
