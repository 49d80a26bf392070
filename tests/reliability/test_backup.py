"""Backup and restore: `samenop backup PATH` copies the live SQLite database (online backup API)
and checks the copy; `samenop restore PATH` puts a checked copy in place and rebuilds the search
index; a damaged or tampered backup is refused; on PostgreSQL both point to pg_dump."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from registry.app import create_app
from registry.auth import accounts
from registry.core import audit
from registry.core.db import db as database
from registry.core.models import AuditEntry, Plan, User
from registry.ops.cli import audit_verify, backup_command, restore_command
from tests.conftest import close_app
from tests.lookups import found_plan_ids
from tests.registry.plan_data import address, person, plan_body


@pytest.fixture
def sqlite_only(db_kind: str) -> None:
    if db_kind != "sqlite":
        pytest.skip("the SQLite backup; PostgreSQL is backed up with pg_dump (test below)")


@pytest.fixture
def family(app: Flask, client: Any, make_org: Any, make_user: Any, auth_headers: Any) -> dict[str, Any]:
    """A plan, a lookup that found it, and the audit rows they wrote."""
    registrant = make_user(roles=("registrant",), org=make_org("Wijkteam Reservekopie"))
    responder = make_user(roles=("responder",), org=make_org("Meldkamer Reservekopie", kind="police"))
    body = plan_body(
        title="Gezin Kopieerman",
        addresses=[address(postcode="9407 NP", house_number=12, street="Bewaarstraat")],
        persons=[person(first_name="Els", surname_prefix="", surname="Kopieerman", phone="06-29384756")],
    )
    response = client.post("/api/v1/plans", json=body, headers=auth_headers(registrant))
    assert response.status_code == 201, response.get_data(as_text=True)
    found = client.post(
        "/api/v1/lookups",
        json={"incident_ref": "P-KOPIE-1", "address": {"postcode": "9407NP", "house_number": 12}},
        headers=auth_headers(responder),
    )
    assert found.status_code == 200
    assert len(found.get_json()["matches"]) == 1
    return {"plan": response.get_json(), "registrant": registrant, "responder": responder}


def audit_rows(app: Flask) -> int:
    with app.app_context():
        return int(database.session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def invoke(app: Flask, command: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(command, list(args))


@pytest.fixture
def other_instance(app_config: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    """A second installation in a new instance directory, with no database yet."""
    instance = tmp_path / "elders"
    instance.mkdir()
    other = create_app(
        {
            **app_config,
            "INSTANCE_DIR": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'samenop.db'}",
            "INDEX_DIR": str(instance / "index"),
        }
    )
    yield other
    close_app(other)


def test_backup_restores_into_a_new_instance_that_serves_the_plan(
    app, sqlite_only, family, other_instance, tmp_path
):
    # Given a running installation with a plan, a lookup and their audit rows
    target = tmp_path / "backup.db"
    rows = audit_rows(app)
    # When it is backed up while the app is up
    made = invoke(app, backup_command, str(target))
    # Then the copy is there, readable by its owner only, and checked
    assert made.exit_code == 0, made.output
    assert f"audit chain intact: {rows} entries" in made.output
    assert "1 plans" in made.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # When another installation restores it
    restored = invoke(other_instance, restore_command, str(target))
    # Then it says what it restored, and its search index is built
    assert restored.exit_code == 0, restored.output
    assert f"audit chain intact: {rows} entries" in restored.output
    assert "indexed 1 active plan(s)" in restored.output
    # and it serves the plan to its registrant
    plan = family["plan"]
    with other_instance.app_context():
        user = database.session.scalars(
            select(User).where(User.username == family["registrant"].username)
        ).one()
        raw, _token = accounts.issue_api_token(database.session, user)
        responder = database.session.scalars(
            select(User).where(User.username == family["responder"].username)
        ).one()
        raw_responder, _token = accounts.issue_api_token(database.session, responder)
        database.commit()
    client = other_instance.test_client()
    shown = client.get(f"/api/v1/plans/{plan['id']}", headers={"Authorization": f"Bearer {raw}"})
    assert shown.status_code == 200, shown.get_data(as_text=True)
    assert shown.get_json()["title"] == "Gezin Kopieerman"
    # and its control room finds the family by name (through the rebuilt index)
    found = client.post(
        "/api/v1/lookups",
        json={"incident_ref": "P-KOPIE-2", "person": {"name": "Els Kopieerman"}},
        headers={"Authorization": f"Bearer {raw_responder}"},
    )
    assert found.status_code == 200, found.get_data(as_text=True)
    assert found_plan_ids(found.get_json()) == [plan["id"]]
    # and its audit chain, continued after the restore, verifies
    verified = invoke(other_instance, audit_verify)
    assert verified.exit_code == 0, verified.output
    assert f"audit chain intact: {audit_rows(other_instance)} entries" in verified.output


def test_backup_is_consistent_while_the_app_writes(app, sqlite_only, family, tmp_path):
    # Given requests that keep appending audit rows
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        with app.app_context():
            while not stop.is_set():
                audit.record(database.session, "demo_create", "success", username="test")
                database.commit()
                written.append(1)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 20:  # the writer is up to speed
            threading.Event().wait(0.01)
        # When backups are made meanwhile
        results = [invoke(app, backup_command, str(tmp_path / f"during-{n}.db")) for n in range(3)]
    finally:
        stop.set()
        writer.join(timeout=30)
    # Then each is one consistent snapshot: its audit chain verifies
    for result in results:
        assert result.exit_code == 0, result.output
        assert "audit chain intact" in result.output
    assert len(written) > 20


def test_backup_does_not_overwrite_a_file(app, sqlite_only, family, tmp_path):
    target = tmp_path / "bestaat.db"
    target.write_text("iets anders")
    result = invoke(app, backup_command, str(target))
    assert result.exit_code == 1
    assert "exists" in result.output
    assert target.read_text() == "iets anders"


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _overwritten(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page, len(data), page):  # every page but the first: its header
        data[start : start + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))


def _not_a_database(path: Path) -> None:
    path.write_bytes(b"Dit is geen database, maar een boodschappenlijstje.\n" * 100)


def _audit_tampered(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'"
        ).fetchall():
            connection.execute(f'DROP TRIGGER "{name}"')
        connection.execute("UPDATE audit_entries SET outcome = 'failed' WHERE id = 1")
        connection.commit()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_truncated, "integrity|not a readable|malformed"),
        (_overwritten, "integrity|not a readable|malformed"),
        (_not_a_database, "not a readable"),
        (_audit_tampered, "audit chain is broken"),
    ],
    ids=["truncated", "pages overwritten", "not a database", "audit row altered"],
)
def test_a_damaged_backup_is_refused_and_the_database_stays(
    app, sqlite_only, family, tmp_path, damage, message
):
    # Given a good backup that was then damaged
    target = tmp_path / "backup.db"
    assert invoke(app, backup_command, str(target)).exit_code == 0
    damage(target)
    rows = audit_rows(app)
    # When it is restored over the working database
    result = invoke(app, restore_command, str(target))
    # Then the restore is refused with the reason
    assert result.exit_code == 1, result.output
    assert any(part in result.output for part in message.split("|")), result.output
    # and the working database is as it was
    assert audit_rows(app) == rows
    assert invoke(app, audit_verify).exit_code == 0
    with app.app_context():
        assert database.session.get(Plan, uuid.UUID(family["plan"]["id"])) is not None
    assert not list(tmp_path.glob(".samenop.db.restoring*"))


def test_restore_refuses_while_the_database_is_in_use(app, sqlite_only, family, tmp_path, database_url):
    # Given a backup, and another process that has the database open and has written to it
    target = tmp_path / "backup.db"
    assert invoke(app, backup_command, str(target)).exit_code == 0
    live = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        live.execute("PRAGMA journal_mode=WAL")
        live.execute("INSERT INTO closed_days (day_on, reason) VALUES ('2030-01-02', 'test')")
        live.commit()
        # When the restore runs
        result = invoke(app, restore_command, str(target))
    finally:
        live.close()
    # Then it refuses: the app must be stopped first
    assert result.exit_code == 1, result.output
    assert "stop the app" in result.output


def test_postgresql_refuses_and_points_to_pg_dump(app, db_kind, tmp_path):
    if db_kind != "postgresql":
        pytest.skip("PostgreSQL only")
    made = invoke(app, backup_command, str(tmp_path / "backup.db"))
    assert made.exit_code == 1
    assert "pg_dump" in made.output
    assert "Retention and backup" in made.output
    assert not (tmp_path / "backup.db").exists()
    restored = invoke(app, restore_command, str(tmp_path / "backup.db"))
    assert restored.exit_code == 1
    assert "pg_restore" in restored.output


def test_postgresql_pg_dump_and_pg_restore_keep_a_verifiable_append_only_log(
    app, app_config, db_kind, pg_cluster, family, tmp_path
):
    # the procedure the README gives for PostgreSQL, as written there
    if db_kind != "postgresql":
        pytest.skip("PostgreSQL only")
    from tests.conftest import _pg_database

    rows = audit_rows(app)
    dump = tmp_path / "samenop.dump"
    with app.app_context():
        name = database.session.scalar(text("SELECT current_database()"))
    # Given a dump in pg_dump's custom format, made while the app is up
    pg_tool(pg_cluster, "pg_dump", "-Fc", "-f", str(dump), name)
    # When it is restored into an empty database
    with _pg_database(pg_cluster, f"restored_{uuid.uuid4().hex[:8]}") as url:
        target = make_url(url).database or ""
        pg_tool(pg_cluster, "pg_restore", "--no-owner", "--exit-on-error", "-d", target, str(dump))
        restored = create_app({**app_config, "DATABASE_URL": url})
        try:
            # Then `samenop audit verify` passes on it, over every row
            verified = invoke(restored, audit_verify)
            assert verified.exit_code == 0, verified.output
            assert f"audit chain intact: {rows} entries" in verified.output
            # and its audit log is append-only as before
            with restored.app_context(), pytest.raises(DBAPIError, match="append-only"):
                database.session.execute(text("DELETE FROM audit_entries"))
        finally:
            close_app(restored)


def pg_tool(cluster: Any, tool: str, *arguments: str) -> None:
    """pg_dump / pg_restore against the test cluster's unix socket (clients: any user may run them)."""
    from tests.pg import _bin

    args = [_bin(tool), "-h", str(cluster.dir), "-U", "postgres", *arguments]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
