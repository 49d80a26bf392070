"""Migrations: `upgrade head` equals the models, every revision goes down and up on an empty
database, and each revision that moves data does so with rows in the tables."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Connection, CursorResult, Date, DateTime, Uuid, bindparam, inspect, text
from sqlalchemy.exc import DBAPIError

from registry.app import create_app
from registry.core.config import PROJECT_ROOT
from registry.core.db import Base, engine_for
from registry.ops import schema
from registry.ops.migrate_cli import db_group
from tests.conftest import close_app

GENESIS_HASH = "0" * 64


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


# --- `samenop db`: writing a revision, applying it ---------------------------------------------

DATED_NAME = re.compile(r"^\d{8}_[0-9a-f]{12}_[a-z0-9_]+\.py$")  # 20261122_23f28ed23653_slug.py


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    """A copy of migrations/ to write revisions into: the repository's stays as it is."""
    copy = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture
def cli_app(app_config: dict[str, Any], empty_database_url: str, migrations_copy: Path) -> Iterator[Flask]:
    application = create_app(
        {**app_config, "DATABASE_URL": empty_database_url, "MIGRATIONS_DIR": str(migrations_copy)}
    )
    yield application
    close_app(application)


def samenop_db(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(db_group, list(args))


def revision_files(migrations: Path) -> set[str]:
    return {path.name for path in (migrations / "versions").glob("*.py")}


def function_body(source: str, name: str) -> str:
    """The statements of a function in a revision file, without Alembic's comment lines."""
    body = source.split(f"def {name}() -> None:", 1)[1].split("\ndef ", 1)[0]
    return "\n".join(line.strip() for line in body.splitlines() if line.strip() and "# ###" not in line)


def test_revision_when_models_equal_head_is_empty_and_the_next_upgrade_applies_it(
    cli_app, migrations_copy, empty_database_url
):
    # Given a database at head
    assert samenop_db(cli_app, "upgrade").exit_code == 0
    before = revision_files(migrations_copy)
    head = ScriptDirectory.from_config(
        schema.alembic_config(empty_database_url, migrations_copy)
    ).get_current_head()
    # When a revision is autogenerated while the models and the migrations agree
    result = samenop_db(cli_app, "revision", "-m", "Nothing changed yet")
    # Then one date-prefixed file follows the old head, and does nothing either way
    assert result.exit_code == 0, result.output
    assert "revision is empty" in result.output
    (name,) = revision_files(migrations_copy) - before
    assert DATED_NAME.match(name), name
    assert name.endswith("_nothing_changed_yet.py")
    source = (migrations_copy / "versions" / name).read_text()
    assert f"down_revision: str | None = {head!r}" in source
    assert function_body(source, "upgrade") == "pass"
    assert function_body(source, "downgrade") == "pass"
    new = name.split("_")[1]
    # and the next upgrade applies it
    result = samenop_db(cli_app, "upgrade")
    assert result.exit_code == 0, result.output
    assert current_revision(empty_database_url) == new
    assert f"database at {new} (head): Nothing changed yet" in samenop_db(cli_app, "current").output
    assert differences(empty_database_url) == []


def test_revision_writes_what_the_database_lacks_with_conventional_names(
    cli_app, migrations_copy, empty_database_url
):
    # Given a database at head that lacks an index the models have
    assert samenop_db(cli_app, "upgrade").exit_code == 0
    with transaction(empty_database_url) as connection:
        connection.execute(text("DROP INDEX ix_plans_status"))
    before = revision_files(migrations_copy)
    # When a revision is autogenerated
    result = samenop_db(cli_app, "revision", "-m", "plans: index the status")
    # Then it creates the index, named by the naming convention, in batch mode
    assert result.exit_code == 0, result.output
    assert "revision is empty" not in result.output
    (name,) = revision_files(migrations_copy) - before
    source = (migrations_copy / "versions" / name).read_text()
    assert "with op.batch_alter_table('plans', schema=None) as batch_op:" in function_body(source, "upgrade")
    assert "batch_op.create_index(batch_op.f('ix_plans_status'), ['status']" in source
    assert "batch_op.drop_index(batch_op.f('ix_plans_status'))" in function_body(source, "downgrade")
    # and upgrading with it makes the database equal the models again
    assert samenop_db(cli_app, "upgrade").exit_code == 0
    assert differences(empty_database_url) == []


def test_revision_refuses_a_database_behind_head(cli_app, migrations_copy, empty_database_url):
    # Given a database one revision behind head
    script = ScriptDirectory.from_config(schema.alembic_config(empty_database_url, migrations_copy))
    head = script.get_revision(script.get_current_head())
    assert samenop_db(cli_app, "upgrade", str(head.down_revision)).exit_code == 0
    before = revision_files(migrations_copy)
    # When a revision is autogenerated against it
    result = samenop_db(cli_app, "revision", "-m", "too early")
    # Then the command refuses, says what to do, and writes nothing
    assert result.exit_code == 1
    assert f"not at head {head.revision}" in result.output
    assert "samenop db upgrade" in result.output
    assert revision_files(migrations_copy) == before


def test_revision_empty_is_blank_for_a_data_move(cli_app, migrations_copy, empty_database_url):
    # Given the migrations (the database plays no part in an --empty revision)
    head = ScriptDirectory.from_config(
        schema.alembic_config(empty_database_url, migrations_copy)
    ).get_current_head()
    before = revision_files(migrations_copy)
    # When a blank revision is asked for
    result = samenop_db(cli_app, "revision", "-m", "Backfill plans.region", "--empty")
    # Then it follows head and is there to be filled in
    assert result.exit_code == 0, result.output
    (name,) = revision_files(migrations_copy) - before
    assert DATED_NAME.match(name), name
    source = (migrations_copy / "versions" / name).read_text()
    assert source.startswith('"""Backfill plans.region')
    assert f"down_revision: str | None = {head!r}" in source
    assert function_body(source, "upgrade") == "pass"


def test_upgrade_downgrade_current_history(cli_app, migrations_copy, empty_database_url):
    script = ScriptDirectory.from_config(schema.alembic_config(empty_database_url, migrations_copy))
    revisions = list(script.walk_revisions())  # newest first
    # Given an empty database
    assert "no revision" in samenop_db(cli_app, "current").output
    # When it is upgraded, then one step down, then down to an unknown revision
    upgraded = samenop_db(cli_app, "upgrade")
    one_down = samenop_db(cli_app, "downgrade", "-1")
    unknown = samenop_db(cli_app, "downgrade", "f00dfeedbeef")
    # Then each says where the database is
    assert upgraded.exit_code == 0, upgraded.output
    assert f"database at {revisions[0].revision} (head)" in upgraded.output
    assert one_down.exit_code == 0, one_down.output
    assert f"database at {revisions[1].revision} (behind head)" in one_down.output
    assert current_revision(empty_database_url) == revisions[1].revision
    # and an unknown revision is one line, not a traceback
    assert unknown.exit_code == 1
    assert "f00dfeedbeef" in unknown.output
    assert "Traceback" not in unknown.output
    # and history lists every revision, newest first
    listed = samenop_db(cli_app, "history").output
    positions = [listed.index(f"-> {revision.revision}") for revision in revisions]
    assert positions == sorted(positions)


# --- alembic.ini: plain `alembic` works the same ------------------------------------------------


def test_alembic_ini_says_what_registry_schema_says():
    ini = Config(str(PROJECT_ROOT / "alembic.ini"))
    code = schema.alembic_config("sqlite://")
    assert Path(str(ini.get_main_option("script_location"))) == Path(
        str(code.get_main_option("script_location"))
    )
    assert ini.get_main_option("file_template") == code.get_main_option("file_template")
    # the database comes from SAMENOP_DATABASE_URL, never from a file in the repository
    assert ini.get_main_option("sqlalchemy.url") is None


def test_plain_alembic_autogenerates_against_samenop_database_url(
    tmp_path, migrations_copy, empty_database_url
):
    # Given alembic.ini next to a copy of migrations/, and a database at head known only to
    # the environment, as in a shell with SAMENOP_DATABASE_URL exported
    shutil.copy(PROJECT_ROOT / "alembic.ini", tmp_path / "alembic.ini")
    schema.upgrade(empty_database_url)
    head = current_revision(empty_database_url)
    before = revision_files(migrations_copy)
    environment = {
        **os.environ,
        "SAMENOP_DATABASE_URL": empty_database_url,
        "SAMENOP_INSTANCE_DIR": str(tmp_path / "instance"),
        "SAMENOP_SECRET_KEY": "plain-alembic-" + "x" * 32,
        "PYTHONPATH": str(PROJECT_ROOT),  # the copy's alembic.ini puts the copy on the path
    }
    # When `alembic revision --autogenerate` runs there
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "revision", "--autogenerate", "-m", "Nothing new"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it wrote one date-prefixed, empty revision after head into the copy, without a warning
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    (name,) = revision_files(migrations_copy) - before
    assert DATED_NAME.match(name), name
    source = (migrations_copy / "versions" / name).read_text()
    assert f"down_revision: str | None = {head!r}" in source
    assert function_body(source, "upgrade") == "pass"


# --- revisions that move data: up and down with rows -------------------------------------------
#
# One class per revision that changes rows (or changes tables that hold them), in the manner of
# SecureDrop's tests/migrations: bring an empty database to the revision before it, insert rows
# with plain SQL as that older schema has them, upgrade one step and check the data, downgrade
# one step and check it again. The SQL is the older schema's, not the models': the models
# describe head, which may differ from any older revision.

# plain SQL has no column types: these Python values need SQLAlchemy's help to be stored the
# way each database stores them (a UUID as 32 hex digits on SQLite, an aware moment in UTC)
_BIND_TYPES: dict[type, Any] = {uuid.UUID: Uuid(), datetime: DateTime(timezone=True), date: Date()}


@contextmanager
def transaction(url: str) -> Iterator[Connection]:
    engine = engine_for(url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def sql(
    connection: Connection, statement: str, params: dict[str, Any] | list[dict[str, Any]] | None = None
) -> CursorResult[Any]:
    rows = params if isinstance(params, list) else [params or {}]
    types = {
        name: _BIND_TYPES[type(value)]
        for row in rows
        for name, value in row.items()
        if type(value) in _BIND_TYPES
    }
    typed = [bindparam(name, type_=type_) for name, type_ in types.items()]
    return connection.execute(text(statement).bindparams(*typed), params or {})


def query(url: str, statement: str) -> list[tuple[Any, ...]]:
    with transaction(url) as connection:
        return [tuple(row) for row in sql(connection, statement)]


def count(url: str, table: str, where: str = "") -> int:
    return int(query(url, f"SELECT COUNT(*) FROM {table} {where}")[0][0])  # noqa: S608 (the tests' own names)


def columns(url: str, table: str) -> set[str]:
    engine = engine_for(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def triggers(url: str) -> set[str]:
    if url.startswith("sqlite"):
        return {name for (name,) in query(url, "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return {name for (name,) in query(url, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}


def revision_before(url: str, revision: str) -> str:
    script = ScriptDirectory.from_config(schema.alembic_config(url))
    down = script.get_revision(revision).down_revision
    assert isinstance(down, str), f"{revision} follows {down!r}, not one revision"
    return down


AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
OLD = datetime(2024, 3, 2, 9, 30, tzinfo=UTC)  # older than any retention's 12-month floor


def insert_plans(connection: Connection, plans: list[dict[str, Any]]) -> None:
    """An organisation and its plans, each with its version rows, as the initial schema has them."""
    sql(
        connection,
        "INSERT INTO organisations (id, name, kind, created_at) "
        "VALUES (1, 'Wijkteam Centrum', 'social_team', :at)",
        {"at": AT},
    )
    sql(
        connection,
        "INSERT INTO plans (id, owner_organisation_id, status, current_version, valid_until,"
        " created_at, updated_at, withdrawn_at, withdrawn_reason) "
        "VALUES (:id, 1, :status, :versions, '2027-03-01', :created_at, :updated_at,"
        " :withdrawn_at, :withdrawn_reason)",
        [
            {
                "id": plan["id"],
                "status": plan["status"],
                "versions": plan["versions"],
                "created_at": AT,
                "updated_at": plan["updated_at"],
                "withdrawn_at": plan["updated_at"] if plan["status"] == "withdrawn" else None,
                "withdrawn_reason": "gezin verhuisd" if plan["status"] == "withdrawn" else None,
            }
            for plan in plans
        ],
    )
    sql(
        connection,
        "INSERT INTO plan_versions (plan_id, version, title, summary, valid_from, valid_until,"
        " risk_signals, owner_name, owner_phone, created_at) "
        "VALUES (:plan_id, :version, 'Handelingskader', '', '2026-03-01', '2027-03-01',"
        " '[]', 'Fatima de Vries', '0201234567', :at)",
        [
            {"plan_id": plan["id"], "version": version, "at": AT}
            for plan in plans
            for version in range(1, plan["versions"] + 1)
        ],
    )


PLANS = [
    {"id": uuid.UUID(int=1), "status": "active", "versions": 1, "updated_at": AT},
    {
        "id": uuid.UUID(int=2),
        "status": "active",
        "versions": 3,
        "updated_at": datetime(2026, 4, 1, tzinfo=UTC),
    },
    {
        "id": uuid.UUID(int=3),
        "status": "withdrawn",
        "versions": 2,
        "updated_at": datetime(2026, 5, 1, tzinfo=UTC),
    },
]


class TestPlanChangeFeed:
    """d1e89ab7b53c creates plan_changes and gives every plan that existed one change."""

    revision = "d1e89ab7b53c"

    def test_up_and_down_with_rows(self, empty_database_url):
        url = empty_database_url
        # Given a database one revision before the feed, with plans and their versions
        schema.upgrade(url, revision_before(url, self.revision))
        with transaction(url) as connection:
            insert_plans(connection, PLANS)

        # When the revision runs
        schema.upgrade(url, self.revision)
        # Then every plan has exactly one change, stamped with the plan's last update
        assert count(url, "plan_changes") == len(PLANS)
        assert count(
            url, "plans p JOIN plan_changes c ON c.plan_id = p.id AND c.changed_at = p.updated_at"
        ) == len(PLANS)
        # and the plans are all still there
        assert count(url, "plans") == len(PLANS)
        assert count(url, "plan_versions") == sum(plan["versions"] for plan in PLANS)

        # When it is undone
        schema.downgrade(url, "-1")
        # Then the feed is gone and the plans are not
        assert "plan_changes" not in tables(url)
        assert count(url, "plans") == len(PLANS)
        assert count(url, "plan_versions") == sum(plan["versions"] for plan in PLANS)


def chain(length: int) -> list[dict[str, Any]]:
    """Audit rows in a chain: each one's prev_hash is its predecessor's hash (the digests stand
    in for registry.core.audit's; no trigger or migration recomputes them)."""
    rows, previous = [], GENESIS_HASH
    for number in range(1, length + 1):
        digest = hashlib.sha256(f"{previous}|{number}".encode()).hexdigest()
        rows.append({"id": number, "at": OLD if number == 1 else AT, "prev_hash": previous, "hash": digest})
        previous = digest
    return rows


class TestAuditAppendOnlyAndRetention:
    """23f28ed23653 adds the retention checkpoint to audit_head (server defaults), plans.purged_at,
    and the triggers that keep audit_entries append-only. On SQLite, batch mode copies audit_head
    on the way up and plans on the way down: tables that hold rows, and plans has referrers."""

    revision = "23f28ed23653"

    def test_up_and_down_with_rows(self, empty_database_url, db_kind):
        url = empty_database_url
        entries = chain(3)
        # Given a database one revision before, with plans (one shared), an audit chain and its head
        schema.upgrade(url, revision_before(url, self.revision))
        with transaction(url) as connection:
            insert_plans(connection, PLANS)
            sql(
                connection,
                "INSERT INTO plan_shares (plan_id, organisation_id) VALUES (:id, 1)",
                {"id": PLANS[1]["id"]},
            )
            sql(
                connection,
                "INSERT INTO audit_entries (id, at, username, organisation, role, action, object_type,"
                " object_id, outcome, remote_addr, detail, prev_hash, hash) "
                "VALUES (:id, :at, 'cli', '', '', 'organisation_create', 'organisation', '1', 'success',"
                " '', '{}', :prev_hash, :hash)",
                entries,
            )
            sql(
                connection,
                "UPDATE audit_head SET last_entry_id = :id, last_hash = :hash, count = :count WHERE id = 1",
                {"id": entries[-1]["id"], "hash": entries[-1]["hash"], "count": len(entries)},
            )
        last = (entries[-1]["id"], entries[-1]["hash"], len(entries))

        # When the revision runs
        schema.upgrade(url, self.revision)
        # Then audit_head keeps its chain and its checkpoint is the chain's start: row 1, genesis
        assert query(
            url, "SELECT first_entry_id, first_prev_hash, last_entry_id, last_hash, count FROM audit_head"
        ) == [(1, GENESIS_HASH, *last)]
        assert count(url, "audit_entries") == len(entries)
        # and every plan is still there, none of them purged, with its versions and shares
        assert count(url, "plans") == len(PLANS)
        assert count(url, "plans", "WHERE purged_at IS NULL") == len(PLANS)
        assert count(url, "plan_versions") == sum(plan["versions"] for plan in PLANS)
        assert count(url, "plan_shares") == 1
        # and audit_entries refuses an UPDATE, and a DELETE outside a purge, even of an old row
        assert triggers(url) == (
            {"audit_entries_append_only"}
            if db_kind == "postgresql"
            else {"audit_entries_no_update", "audit_entries_no_delete"}
        )
        with pytest.raises(DBAPIError, match="append-only"), transaction(url) as connection:
            sql(connection, "UPDATE audit_entries SET outcome = 'failure' WHERE id = 2")
        with pytest.raises(DBAPIError, match="append-only"), transaction(url) as connection:
            sql(connection, "DELETE FROM audit_entries WHERE id = 1")
        assert query(url, "SELECT outcome FROM audit_entries ORDER BY id") == [("success",)] * len(entries)

        # When it is undone
        schema.downgrade(url, "-1")
        # Then the rows are all still there
        assert query(url, "SELECT last_entry_id, last_hash, count FROM audit_head") == [last]
        assert count(url, "audit_entries") == len(entries)
        assert count(url, "plans") == len(PLANS)
        assert count(url, "plan_versions") == sum(plan["versions"] for plan in PLANS)
        assert count(url, "plan_shares") == 1
        # and the checkpoint, purged_at and the triggers are gone (an UPDATE goes through again)
        assert columns(url, "audit_head") == {"id", "last_entry_id", "last_hash", "count"}
        assert "purged_at" not in columns(url, "plans")
        assert triggers(url) == set()
        with transaction(url) as connection:
            assert sql(connection, "UPDATE audit_entries SET outcome = 'failure' WHERE id = 2").rowcount == 1
        if db_kind == "postgresql":
            assert query(url, "SELECT proname FROM pg_proc WHERE proname = 'audit_entries_append_only'") == []


ORPHANING_REVISION = '''"""Orphan the plans."""
from alembic import op

revision = "0123456789ab"
down_revision = HEAD
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM organisations")


def downgrade() -> None:
    pass
'''


def test_a_revision_that_leaves_rows_pointing_nowhere_is_rolled_back(empty_database_url, migrations_copy):
    url = empty_database_url
    # Given a database at head with a plan, and a revision that deletes the plan's organisation
    schema.upgrade(url)
    with transaction(url) as connection:
        insert_plans(connection, PLANS[:1])
    head = current_revision(url)
    orphan = ORPHANING_REVISION.replace("HEAD", repr(head))
    (migrations_copy / "versions" / "20990101_0123456789ab_orphan_the_plans.py").write_text(orphan)
    # When it runs: PostgreSQL enforces the foreign key, SQLite (enforcement off while batch
    # mode copies tables) has it checked before the revision commits
    with pytest.raises(DBAPIError if url.startswith("postgresql") else RuntimeError, match="(?i)foreign key"):
        command.upgrade(schema.alembic_config(url, migrations_copy), "head")
    # Then nothing of it remains: the database is at the old head, the organisation is there
    assert current_revision(url) == head
    assert count(url, "organisations") == 1


class TestTotpSecretsEncrypted:
    """32c42c5a98d1 encrypts users.totp_secret (base32, in plain text) into
    users.totp_secret_encrypted with Fernet under the key the app uses: SAMENOP_TOTP_KEY, or
    instance/totp_key generated once (here: no variable, an instance directory of the test's)."""

    revision = "32c42c5a98d1"
    SECRETS = {1: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 2: "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU", 3: None}

    def test_up_and_down_with_rows(self, empty_database_url, tmp_path, monkeypatch):
        from cryptography.fernet import Fernet

        url = empty_database_url
        monkeypatch.delenv("SAMENOP_TOTP_KEY", raising=False)
        monkeypatch.setenv("SAMENOP_INSTANCE_DIR", str(tmp_path / "instance"))
        # Given a database one revision before, with two enrolled users and one without a secret
        schema.upgrade(url, revision_before(url, self.revision))
        with transaction(url) as connection:
            sql(
                connection,
                "INSERT INTO organisations (id, name, kind, region, created_at) "
                "VALUES (1, 'Meldkamer Noord', 'police', 'Noord', :at)",
                {"at": AT},
            )
            sql(
                connection,
                "INSERT INTO users (id, username, display_name, organisation_id, totp_secret,"
                " totp_last_step, is_active, created_at) "
                "VALUES (:id, :username, 'Gebruiker', 1, :secret, 123, true, :at)",
                [
                    {"id": number, "username": f"gebruiker{number}", "secret": secret, "at": AT}
                    for number, secret in self.SECRETS.items()
                ],
            )

        # When the revision runs
        schema.upgrade(url, self.revision)
        # Then the key was generated into the instance directory, for its owner only
        key_file = tmp_path / "instance" / "totp_key"
        assert oct(key_file.stat().st_mode & 0o777) == oct(0o600)
        fernet = Fernet(key_file.read_text().strip().encode())
        # and no plain secret is left: each row holds its secret encrypted under that key
        assert "totp_secret" not in columns(url, "users")
        stored = dict(query(url, "SELECT id, totp_secret_encrypted FROM users ORDER BY id"))
        assert stored[3] is None
        for number in (1, 2):
            assert self.SECRETS[number] not in stored[number]
            assert fernet.decrypt(stored[number].encode()).decode() == self.SECRETS[number]
        assert query(url, "SELECT totp_last_step FROM users WHERE id = 1") == [(123,)]

        # When it is undone with another key, Then it refuses and changes nothing
        monkeypatch.setenv("SAMENOP_TOTP_KEY", Fernet.generate_key().decode())
        with pytest.raises(RuntimeError, match="SAMENOP_TOTP_KEY"):
            schema.downgrade(url, "-1")
        assert current_revision(url) == self.revision
        assert dict(query(url, "SELECT id, totp_secret_encrypted FROM users ORDER BY id")) == stored

        # When it is undone with the right key
        monkeypatch.delenv("SAMENOP_TOTP_KEY")
        schema.downgrade(url, "-1")
        # Then the secrets are back as they were, in the old column
        assert "totp_secret_encrypted" not in columns(url, "users")
        assert dict(query(url, "SELECT id, totp_secret FROM users ORDER BY id")) == self.SECRETS
        schema.upgrade(url)
        assert differences(url) == []


class TestRegionsFromFreeText:
    """458d925e757a turns organisations.region (free text) into regions rows that organisations
    point at; going back, each organisation's text is its region's name again."""

    revision = "458d925e757a"
    ORGANISATIONS = [
        (1, "Meldkamer Oost", "police", "Oost-Gelderland"),
        (2, "Veilig Thuis Oost", "veilig_thuis", " Oost-Gelderland "),
        (3, "Wijkteam Zutphen", "social_team", "IJsselland"),
        (4, "Wijkteam Nergens", "social_team", None),
        (5, "Wijkteam Leeg", "social_team", "  "),
    ]

    def test_up_and_down_with_rows(self, empty_database_url):
        url = empty_database_url
        # Given organisations with a free-text region: two spell one region with spaces around
        # it, one has another region, two have none
        schema.upgrade(url, revision_before(url, self.revision))
        with transaction(url) as connection:
            sql(
                connection,
                "INSERT INTO organisations (id, name, kind, region, created_at) "
                "VALUES (:id, :name, :kind, :region, :at)",
                [
                    {"id": id_, "name": name, "kind": kind, "region": region, "at": AT}
                    for id_, name, kind, region in self.ORGANISATIONS
                ],
            )

        # When the revision runs
        schema.upgrade(url, self.revision)
        # Then there is one region per distinct text, none naming a Veilig Thuis yet
        assert sorted(query(url, "SELECT name, veilig_thuis_organisation_id FROM regions")) == [
            ("IJsselland", None),
            ("Oost-Gelderland", None),
        ]
        # and each organisation points at its own
        linked = query(
            url,
            "SELECT o.id, r.name FROM organisations o "
            "LEFT JOIN regions r ON r.id = o.region_id ORDER BY o.id",
        )
        assert linked == [
            (1, "Oost-Gelderland"),
            (2, "Oost-Gelderland"),
            (3, "IJsselland"),
            (4, None),
            (5, None),
        ]
        assert "region" not in columns(url, "organisations")

        # When it is undone (a gemeente added meanwhile goes with the regions)
        with transaction(url) as connection:
            sql(
                connection,
                "INSERT INTO gemeenten (name, population, region_id) "
                "SELECT 'Zutphen', 48746, id FROM regions WHERE name = 'IJsselland'",
            )
        schema.downgrade(url, "-1")
        # Then the text is back, trimmed, and the organisations are all there
        assert query(url, "SELECT id, region FROM organisations ORDER BY id") == [
            (1, "Oost-Gelderland"),
            (2, "Oost-Gelderland"),
            (3, "IJsselland"),
            (4, None),
            (5, None),
        ]
        assert {"regions", "gemeenten"}.isdisjoint(tables(url))
        schema.upgrade(url)
        assert differences(url) == []


class TestMeldingen:
    """f63f01428cac gives every report a melding: reports with the same meldingnummer (case and
    spaces ignored) within 7 days, of any organisation, share one; reports may then be without
    a plan, and going back is refused while one is."""

    revision = "f63f01428cac"
    PLAN_1, PLAN_2 = PLANS[0]["id"], PLANS[1]["id"]
    # (report, organisation, meldingnummer, plan, version, when the call came in)
    REPORTS = [
        (uuid.UUID(int=11), 2, "P-2026-0001", PLAN_1, 1, AT),
        (uuid.UUID(int=12), 3, " p-2026- 0001", PLAN_1, 1, AT + timedelta(days=2)),  # the same call
        (uuid.UUID(int=13), 2, "P-2026-0001", PLAN_1, 1, AT + timedelta(days=9)),  # a later call
        (uuid.UUID(int=14), 3, "P-2026-0002", PLAN_2, 2, AT),
    ]

    def insert_reports(self, url: str) -> None:
        with transaction(url) as connection:
            insert_plans(connection, PLANS[:2])
            sql(
                connection,
                "INSERT INTO organisations (id, name, kind, created_at) VALUES (:id, :name, 'police', :at)",
                [
                    {"id": 2, "name": "Meldkamer Oost", "at": AT},
                    {"id": 3, "name": "Meldkamer West", "at": AT},
                ],
            )
            sql(
                connection,
                "INSERT INTO users (id, username, display_name, organisation_id, is_active, created_at) "
                "VALUES (:id, :username, 'Centralist', :id, true, :at)",
                [{"id": 2, "username": "oost", "at": AT}, {"id": 3, "username": "west", "at": AT}],
            )
            sql(
                connection,
                "INSERT INTO reports (id, plan_id, plan_version_id, incident_ref, occurred_at, mode,"
                " responders, actions, narrative, feedback_due, created_by_id, organisation_id, created_at) "
                "VALUES (:id, :plan_id, :version, :ref, :occurred_at, 'phone_advice', '[\"police\"]', '[]',"
                " 'Verhaal', '2026-03-03', :org, :org, :occurred_at)",
                [
                    {
                        "id": id_,
                        "org": org,
                        "ref": ref,
                        "plan_id": plan,
                        "version": version,
                        "occurred_at": at,
                    }
                    for id_, org, ref, plan, version, at in self.REPORTS
                ],
            )

    def test_up_and_down_with_rows(self, empty_database_url):
        url = empty_database_url
        # Given reports of two control rooms: one call reported by both (its number typed
        # otherwise, two days later), the same number nine days later, and another call
        schema.upgrade(url, revision_before(url, self.revision))
        self.insert_reports(url)

        # When the revision runs
        schema.upgrade(url, self.revision)
        # Then every report is in a melding, the call reported twice in one
        grouped: dict[Any, list[uuid.UUID]] = {}
        for report_id, melding_id in query(url, "SELECT id, melding_id FROM reports ORDER BY id"):
            grouped.setdefault(melding_id, []).append(uuid.UUID(str(report_id)))
        assert sorted(grouped.values()) == [
            [uuid.UUID(int=11), uuid.UUID(int=12)], [uuid.UUID(int=13)], [uuid.UUID(int=14)]
        ]  # fmt: skip
        # and each melding has its first report's number, time and plan
        stored = query(
            url,
            "SELECT m.incident_ref, m.incident_key, m.plan_id, m.gemeente_id, COUNT(r.id) FROM meldingen m "
            "JOIN reports r ON r.melding_id = m.id "
            "GROUP BY m.id, m.incident_ref, m.incident_key, m.plan_id, m.gemeente_id ORDER BY 1, 5 DESC",
        )
        assert [(ref, key, uuid.UUID(str(plan)), gemeente, n) for ref, key, plan, gemeente, n in stored] == [
            ("P-2026-0001", "p-2026-0001", self.PLAN_1, None, 2),
            ("P-2026-0001", "p-2026-0001", self.PLAN_1, None, 1),
            ("P-2026-0002", "p-2026-0002", self.PLAN_2, None, 1),
        ]
        assert (
            count(
                url,
                "meldingen m JOIN reports r ON r.melding_id = m.id",
                "WHERE m.occurred_at = r.occurred_at",
            )
            == 3
        )

        # When it is undone
        schema.downgrade(url, "-1")
        # Then the reports are as they were, and the meldingen gone
        assert "meldingen" not in tables(url)
        assert "melding_id" not in columns(url, "reports")
        assert count(url, "reports") == len(self.REPORTS)
        schema.upgrade(url)
        assert differences(url) == []

    def test_going_back_is_refused_while_a_report_has_no_plan(self, empty_database_url):
        url = empty_database_url
        # Given a report without a plan, at head
        schema.upgrade(url, revision_before(url, self.revision))
        self.insert_reports(url)
        schema.upgrade(url, self.revision)
        with transaction(url) as connection:
            sql(
                connection,
                "INSERT INTO reports (id, melding_id, incident_ref, occurred_at, mode, responders, actions,"
                " narrative, feedback_due, created_by_id, organisation_id, created_at) "
                "SELECT :id, melding_id, 'P-9', occurred_at, 'phone_advice', '[]', '[]', '', feedback_due,"
                " created_by_id, organisation_id, created_at FROM reports WHERE id = :from_report",
                {"id": uuid.UUID(int=99), "from_report": uuid.UUID(int=14)},
            )
        # When the revision is undone, Then it refuses and changes nothing: it is still applied
        with pytest.raises(RuntimeError, match="without a handelingskader"):
            schema.downgrade(url, revision_before(url, self.revision))
        assert current_revision(url) == self.revision
        assert "melding_id" in columns(url, "reports")
        assert count(url, "reports") == len(self.REPORTS) + 1


class TestSezIsOneResponderCode:
    """b5d3e8a1c7f2: a report's `youth_protection` responder ("Jeugdbescherming (SEZ)") was SEZ
    and becomes `cit`, once, the list sorted; other reports stay as they are; going back keeps
    the responders (cit is valid before too)."""

    revision = "b5d3e8a1c7f2"
    # report -> (responders before, responders after)
    RESPONDERS = {
        uuid.UUID(int=11): (["police", "youth_protection"], ["cit", "police"]),
        uuid.UUID(int=12): (["cit", "youth_protection"], ["cit"]),
        uuid.UUID(int=13): (["youth_protection"], ["cit"]),
        uuid.UUID(int=14): (["police", "veilig_thuis"], ["police", "veilig_thuis"]),
    }

    def responders(self, url: str) -> dict[uuid.UUID, list[str]]:
        return {
            uuid.UUID(str(report_id)): json.loads(value) if isinstance(value, str) else value
            for report_id, value in query(url, "SELECT id, responders FROM reports")
        }

    def test_up_and_down_with_rows(self, empty_database_url):
        url = empty_database_url
        # Given reports that named SEZ as youth_protection, alone, beside the police, beside cit,
        # and one without it
        before = revision_before(url, self.revision)
        schema.upgrade(url, revision_before(url, before))
        TestMeldingen().insert_reports(url)
        schema.upgrade(url, before)
        with transaction(url) as connection:
            sql(
                connection,
                "UPDATE reports SET responders = :responders WHERE id = :id",
                [
                    {"id": report_id, "responders": json.dumps(old)}
                    for report_id, (old, _new) in self.RESPONDERS.items()
                ],
            )

        # When the revision runs
        schema.upgrade(url, self.revision)
        # Then SEZ is cit, once, and the list sorted; the other report is as it was
        assert self.responders(url) == {report_id: new for report_id, (_old, new) in self.RESPONDERS.items()}

        # When it is undone, Then the responders stay (cit is a code before it too)
        schema.downgrade(url, "-1")
        assert self.responders(url) == {report_id: new for report_id, (_old, new) in self.RESPONDERS.items()}
        schema.upgrade(url)
        assert differences(url) == []


class TestPlanAsThePracticeWritesIt:
    """5a12da653e3b: the one family profile becomes a list of one; a contact whose text said it
    is always reachable gets the 24/7 window, every text stays as the note; persons that must not
    be informed keep an empty reason (the owner is asked). Going back: the first profile again."""

    revision = "5a12da653e3b"
    ALWAYS = [{"days": [1, 2, 3, 4, 5, 6, 7], "from": "00:00", "to": "24:00"}]
    # contact text -> the windows it becomes
    CONTACTS = {"Dag en nacht ": ALWAYS, "24/7": ALWAYS, "na 17.00 uur": [], "": []}

    def test_up_and_down_with_rows(self, empty_database_url):
        url = empty_database_url
        # Given plans with versions, one with a profile, persons and contacts as they were
        schema.upgrade(url, revision_before(url, self.revision))
        with transaction(url) as connection:
            insert_plans(connection, PLANS[:2])
            sql(connection, "UPDATE plan_versions SET family_profile = 'complex_divorce' WHERE version = 1")
            version = sql(connection, "SELECT MIN(id) FROM plan_versions").scalar()
            sql(
                connection,
                "INSERT INTO persons (plan_version_id, first_name, surname_prefix, surname, role,"
                " do_not_inform) VALUES (:version, 'Sam', '', 'Testman', 'perpetrator', :dni)",
                [{"version": version, "dni": True}, {"version": version, "dni": False}],
            )
            sql(
                connection,
                "INSERT INTO contacts (plan_version_id, name, relation, phone, available)"
                " VALUES (:version, :name, '', '+31612345678', :available)",
                [
                    {"version": version, "name": f"C{n}", "available": text}
                    for n, text in enumerate(self.CONTACTS)
                ],
            )

        # When the revision runs
        schema.upgrade(url, self.revision)
        # Then each version has its profile as a list (or none), and the texts became windows
        profiles = {
            number: json.loads(value) if isinstance(value, str) else value
            for number, value in query(url, "SELECT version, family_profiles FROM plan_versions")
        }
        assert profiles == {1: ["complex_divorce"], 2: [], 3: []}
        contacts = query(
            url, "SELECT available, availability, knows_plan, tested_on FROM contacts ORDER BY id"
        )
        assert [
            (text, json.loads(windows) if isinstance(windows, str) else windows, bool(knows), tested)
            for text, windows, knows, tested in contacts
        ] == [(text, windows, False, None) for text, windows in self.CONTACTS.items()]
        persons = query(
            url,
            "SELECT do_not_inform, do_not_inform_reason, perpetrator_may_know, language, interpreter_needed"
            " FROM persons ORDER BY id",
        )
        assert [(bool(a), b, bool(c), d, bool(e)) for a, b, c, d, e in persons] == [
            (True, "", False, "", False),
            (False, "", False, "", False),
        ]
        assert count(url, "measures") == 0

        # When it is undone
        schema.downgrade(url, "-1")
        # Then the first profile is the profile again, and the contacts' texts are all there
        assert dict(query(url, "SELECT version, family_profile FROM plan_versions")) == {
            1: "complex_divorce",
            2: None,
            3: None,
        }
        assert [text for (text,) in query(url, "SELECT available FROM contacts ORDER BY id")] == list(
            self.CONTACTS
        )
        assert "measures" not in tables(url)
        schema.upgrade(url)
        assert differences(url) == []
